// SPDX-License-Identifier: Apache-2.0
// RegistryServer: the composition root of ocireg-serve: store, HTTP API, listener, maintenance.
//
//   auto server = ocireg::RegistryServer::Create(config, hooks);
//   if (!server.ok()) { Report(server.status()); return 1; }
//   std::thread stopper([&] { WaitForSignal(); (*server)->Stop(); });
//   Status s = (*server)->Run();   // blocks until Stop()
//
// Create opens the store of config.storage (OpenStoreFromConfig), builds the HTTP server with the
// thread pool, keep-alive limits and timeouts of config.limits and binds config.listen (port 0
// picks an ephemeral port; port() tells which). Run serves until Stop. Stop is graceful. First the
// server drains: GET /readyz answers 503 "draining" and every response closes its connection, while
// the listener still accepts and requests are served as usual, for config.limits.drain_delay (0:
// not at all), so that a load balancer checking /readyz takes this replica out of rotation before
// anybody is refused. Then the listening socket closes, new requests on open connections get 503
// with Connection: close, and requests in flight get config.limits.shutdown_timeout to finish;
// upload sessions stay in the store and can be resumed after a restart. Garbage collection runs
// every config.storage.gc_interval on a background thread while the server runs.
//
// The access log and /metrics (ocireg_node_info) name this replica: NodeName(config.cluster),
// resolved once by Create.
//
// Thread-safety: Run from one thread; Stop, Reload, ReloadAccess, ReloadTls, running_config, port
// and is_running from any thread.
//
// NewAuthenticator, also here, builds the login methods a Config enables: the server's wiring
// uses it, and so does anything that wants the same logins (ocireg-serve --check-config).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ocireg/auth/authenticator.h"
#include "ocireg/config.h"
#include "ocireg/export.h"
#include "ocireg/http/handler.h"
#include "ocireg/status.h"

namespace ocireg {

// What RegistryServer::Reload did with a re-read configuration.
struct ReloadResult {
  // The sections that differ from the configuration in effect and need a restart
  // (RestartOnlyChanges); they are not applied.
  std::vector<std::string> restart_only;
  // True when the certificate and key were swapped in; false for a plain-HTTP server, when the
  // new configuration turns TLS on or off, or on an error (`tls` says which).
  bool tls_reloaded = false;
  Status tls;
  // Ok when the logins and access rules were swapped in; else why the old ones stay.
  Status access;
};

class OCIREG_EXPORT RegistryServer {
 public:
  // Errors: those of OpenStoreFromConfig (kInternal: an unusable storage root), kUnavailable
  // when config.listen cannot be bound (address in use, unknown address), kInvalidArgument for
  // limits that cannot work (no worker threads, zero keep-alive requests) and for [[mirror]]
  // entries (configuration only so far: the server does not fetch from upstreams).
  static Result<std::unique_ptr<RegistryServer>> Create(const Config& config,
                                                        ServerHooks hooks = {});

  RegistryServer() = default;
  virtual ~RegistryServer() = default;
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // Serves until Stop(); call once. Ok after a Stop(); kUnavailable when the listener failed.
  virtual Status Run() = 0;
  // Graceful stop (see above). Returns once Run has stopped serving, or when requests still run
  // past the deadline and have been cut off. Safe before Run (Run then returns at once, with no
  // drain delay), from any thread, and more than once: a call made while another waits out the
  // drain delay ends that delay (a second SIGTERM), and both go on with the rest of the stop.
  virtual void Stop() = 0;
  // The bound port (the ephemeral one when config.listen.port was 0).
  virtual uint16_t port() const = 0;
  // True while Run accepts connections.
  virtual bool is_running() const = 0;
  // Rebuilds the login methods (NewAuthenticator: re-reads the htpasswd file, takes the new LDAP
  // settings) and the access rules (AccessPolicy::FromConfig) from `config` and swaps them in
  // without dropping connections (RegistryHandler::SetAccess); they replace any authenticator or
  // authorize hook given to Create. Client-certificate logins follow the TLS settings the server
  // was created with. Everything else in `config` (listen, storage, tls, limits, features, log,
  // auth.realm, the login throttle and auth.trusted_proxies) is ignored: it needs a restart,
  // except the certificate and key, which ReloadTls takes. On an error (the htpasswd file or LDAP
  // settings are invalid) nothing changes. Thread-safe.
  virtual Status ReloadAccess(const Config& config) = 0;
  // Re-reads config.tls.certificate (with its chain) and config.tls.private_key, which may name
  // other files than before, and presents them from the next handshake on; connections already
  // open keep theirs. The rest of config.tls (client_ca, client_auth, client_identity) needs a
  // restart and is ignored. Errors, after which the server keeps presenting the certificate it
  // had: kInvalidArgument naming the key and the file (unreadable, not PEM, a key that does not
  // match the certificate, refused by OpenSSL), or when `config` turns TLS on or off, which needs
  // a restart. Ok and nothing done for a plain-HTTP server given a config without TLS.
  // Thread-safe.
  virtual Status ReloadTls(const Config& config) = 0;
  // What SIGHUP does: applies what a running server can take from `next`, the certificate and
  // key (ReloadTls, when the server runs TLS and `next` keeps it on) and the logins and access
  // rules (ReloadAccess), each on its own, so that a broken htpasswd file does not hold back a
  // certificate rotation; reports the restart-only sections `next` changes, compared with
  // running_config(). Thread-safe; concurrent calls are serialized.
  virtual ReloadResult Reload(const Config& next) = 0;
  // The configuration in effect: the one given to Create with what Reload, ReloadAccess and
  // ReloadTls applied since.
  virtual Config running_config() const = 0;
};

// Checks what starting a server on `config` would read besides the file itself: the login
// methods can be built (the htpasswd file loads, the LDAP settings are valid) and, for storage
// driver "s3", the bucket is reachable and writable with the keys (CheckS3Bucket). Errors: those
// of NewAuthenticator, and CheckS3Bucket's prefixed with "storage.s3: "; kInvalidArgument for
// [[mirror]] entries, which are configuration only so far (RegistryServer::Create refuses them
// too). What ocireg-serve --check-config runs.
OCIREG_EXPORT Status CheckConfig(const Config& config);

// This replica's name in logs and metrics: cluster.node_name, or when that is empty the host name
// (gethostname), or "ocireg" when there is none.
OCIREG_EXPORT std::string NodeName(const ClusterConfig& cluster);

// The methods `config` enables, chained in the documented order: client certificate (when
// tls.client_ca is set), htpasswd (auth.htpasswd.file), LDAP (auth.ldap.url). Null when none is
// enabled. Errors: those of loading the htpasswd file and of the LDAP settings. The file is read
// now, once: a changed file needs a new authenticator (RegistryServer::ReloadAccess builds one).
// The result is thread-safe.
OCIREG_EXPORT Result<std::shared_ptr<Authenticator>> NewAuthenticator(const Config& config);

}  // namespace ocireg
