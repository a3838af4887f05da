// SPDX-License-Identifier: Apache-2.0
// RegistryHandler: the OCI distribution HTTP API, installed as routes on an httplib::Server.
//
// The handler translates requests into Store calls and Store results into responses; it owns no
// socket and no thread. The caller owns the httplib::Server (and sizes its thread pool, timeouts
// and keep-alive limits), calls Install() once before listening, and keeps the handler and the
// store alive for as long as the server may call them. RegistryServer (server.h) does all that.
//
//   ocireg::RegistryHandler handler(*store, config);
//   httplib::Server server;
//   handler.Install(server);
//   server.listen("127.0.0.1", 5000);
//
// Bodies are streamed: uploads go into the Store's session as they arrive, blobs are served from
// their reader; neither is ever held whole in memory. Every 4xx and 5xx answer carries the spec's
// JSON error body.
//
// Thread-safety: Install() once, from one thread. Afterwards the handler is called concurrently by
// the server's workers; SetOutOfRotation, SetDraining, AbortTransfers, SetAccess and in_flight may
// be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ocireg/auth/access.h"
#include "ocireg/auth/authenticator.h"
#include "ocireg/config.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ocireg {

class Store;
struct GcReport;

// One answered request, for the access log.
struct AccessLogEntry {
  std::chrono::system_clock::time_point time;  // when the response was written
  std::string remote_addr;  // the client: behind a trusted proxy, from X-Forwarded-For
  int remote_port = 0;
  std::string user = "-";  // "-" for anonymous callers
  std::string method;
  std::string path;  // without the query
  int status = 0;
  uint64_t bytes = 0;  // response body bytes (0 for HEAD)
  std::chrono::microseconds duration{0};
  // The replica that answered: the handler's config.cluster.node_name ("" when it has none).
  std::string node;
};

// One access-log line without the newline. kText:
//   2024-05-01T12:00:00.123Z 127.0.0.1 - "GET /v2/" 200 0 0.412ms node=replica-7
// kJson (one object a line):
//   {"time":"2024-05-01T12:00:00.123Z","remote_addr":"127.0.0.1","user":"-","method":"GET",
//    "path":"/v2/","status":200,"bytes":0,"duration_ms":0.412,"node":"replica-7"}
// An entry without a node has neither node= nor "node".
OCIREG_EXPORT std::string FormatAccessLogLine(const AccessLogEntry& entry, LogFormat format);

// One diagnostic line without the newline, stamped with `time`, from the replica `node` ("": left
// out). kText:
//   2024-05-01T12:00:00.123Z warn node=replica-7 garbage collection failed: ...
// kJson: {"time":"2024-05-01T12:00:00.123Z","level":"warn","node":"replica-7","message":"..."}
OCIREG_EXPORT std::string FormatLogLine(std::chrono::system_clock::time_point time, LogLevel level,
                                        std::string_view message, LogFormat format,
                                        std::string_view node = {});

// Where the HTTP layer reports and whom it asks. Every member may be empty. All are called from
// the server's worker threads, concurrently.
struct ServerHooks {
  // Who is calling: asked once per request. Null: every caller is anonymous.
  std::shared_ptr<Authenticator> authenticator;
  // What a caller may do. Empty: AllowAll(). Every 401 carries the challenge
  // WWW-Authenticate: Basic realm="<config.auth.realm>"; after repeated failed logins attempts
  // are refused with 429 and Retry-After as config.auth says.
  AuthorizeFn authorize;
  // One call per answered request.
  std::function<void(const AccessLogEntry&)> access_log;
  // Diagnostics: internal errors, caught exceptions, garbage collection, shutdown.
  std::function<void(LogLevel level, std::string_view message)> log;
};

class OCIREG_EXPORT RegistryHandler {
 public:
  // Borrows `store`, which must outlive the handler. Copies what it needs of `config` (features and
  // limits). config.cluster.node_name is used as it is, in access-log entries and in /metrics
  // (ocireg_node_info); RegistryServer passes the name NodeName resolves.
  RegistryHandler(Store& store, const Config& config, ServerHooks hooks = {});
  ~RegistryHandler();
  RegistryHandler(const RegistryHandler&) = delete;
  RegistryHandler& operator=(const RegistryHandler&) = delete;

  // Installs on `server` the API's routes; the pre-routing, post-routing, error, exception and
  // Expect: 100-continue handlers; the logger (which feeds hooks.access_log); and the default
  // header Docker-Distribution-API-Version; GET /healthz and /readyz, and GET /metrics unless
  // config.metrics.enabled is false. Call once, before the server listens.
  //
  // The API claims every path for every method (httplib matches routes in registration order,
  // and ours end in a catch-all), so an embedding program registers its own routes BEFORE
  // Install. The server-wide handlers above are replaced by Install, and replace ours if set
  // after it; they also apply to the program's own routes.
  void Install(httplib::Server& server);

  // Out of rotation (the drain delay before a graceful shutdown) GET /readyz answers 503
  // "draining" and every response carries Connection: close and ends its connection, while
  // requests are still served as usual: a load balancer stops sending clients and its pooled
  // connections end, and no client is refused.
  void SetOutOfRotation(bool out);
  // While draining (a graceful shutdown) new requests are answered 503 UNAVAILABLE with
  // Connection: close; requests in progress continue.
  void SetDraining(bool draining);
  // After the shutdown deadline: request and response bodies in progress are abandoned at their
  // next chunk.
  void AbortTransfers();
  // Requests routed and not yet fully answered.
  int in_flight() const;
  // Feeds one garbage collection of the store into the metrics (GET /metrics): its report, or
  // null when it failed. Thread-safe.
  void RecordGarbageCollection(const GcReport* report);
  // Replaces hooks.authenticator and hooks.authorize (null and empty as in ServerHooks) while
  // the server runs, without touching connections: requests identified from now on use the new
  // authenticator, and each authorization check uses the rules in force when it runs. Requests
  // in progress keep the objects they hold alive. The realm, the login throttle and the trusted
  // proxies stay as configured at construction. Thread-safe; may be called any number of times.
  void SetAccess(std::shared_ptr<Authenticator> authenticator, AuthorizeFn authorize);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocireg
