// SPDX-License-Identifier: Apache-2.0
// RegistryHandler: wires the Api onto an httplib::Server (routes, error paths, logger).
#include "ocireg/http/handler.h"

#include <httplib.h>

#include <exception>

#include "http/api.h"
#include "http/current_connection.h"
#include "http/docs.h"
#include "http/exchange.h"
#include "http/request_head.h"
#include "http/response.h"

namespace ocireg {
namespace {

using httplib::Request;
using httplib::Response;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr const char* kApiVersionHeader = "Docker-Distribution-API-Version";
constexpr const char* kApiVersion = "registry/2.0";

// Every path goes to one handler per method, and the Api parses it (ParseRoute). A catch-all
// also keeps httplib from buffering the body of an unknown path into req.body: it does that for
// any body request that no content-reader route matches. The pre-routing handler has capped the
// path length before this regex runs (libstdc++ regex recursion is per character).
constexpr const char* kEverything = ".*";

std::string ExceptionText(const std::exception_ptr& ep) {
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown exception";
}

// Makes `res` the last response of its connection. httplib has set Connection: close or
// Keep-Alive by now, and its set_header adds a value rather than replacing one. The logger then
// ends the connection (it sees Connection: close).
void CloseAfterResponse(Response& res) {
  if (internal::HasToken(res.get_header_value("Connection"), "close")) return;
  res.headers.erase("Keep-Alive");
  res.headers.erase("Connection");
  res.set_header("Connection", "close");
}

}  // namespace

struct RegistryHandler::Impl {
  Impl(Store& store, const Config& config, ServerHooks hooks)
      : api(store, config, std::move(hooks)),
        docs(config.docs),
        metrics_enabled(config.metrics.enabled) {}
  internal::Api api;
  DocsConfig docs;
  bool metrics_enabled;
};

RegistryHandler::RegistryHandler(Store& store, const Config& config, ServerHooks hooks)
    : impl_(std::make_unique<Impl>(store, config, std::move(hooks))) {}

RegistryHandler::~RegistryHandler() = default;

void RegistryHandler::SetOutOfRotation(bool out) { impl_->api.out_of_rotation = out; }
void RegistryHandler::SetDraining(bool draining) { impl_->api.draining = draining; }
void RegistryHandler::AbortTransfers() { impl_->api.aborting = true; }
int RegistryHandler::in_flight() const { return impl_->api.in_flight.load(); }
void RegistryHandler::RecordGarbageCollection(const GcReport* report) {
  impl_->api.metrics.RecordGarbageCollection(report);
}
void RegistryHandler::SetAccess(std::shared_ptr<Authenticator> authenticator,
                                AuthorizeFn authorize) {
  impl_->api.SetAccess(std::move(authenticator), std::move(authorize));
}

void RegistryHandler::Install(httplib::Server& server) {
  internal::Api& api = impl_->api;
  server.set_default_headers({{kApiVersionHeader, kApiVersion}});

  server.set_pre_routing_handler([&api](const Request& req, Response& res) {
    internal::NoteRequestStart();
    ++api.in_flight;
    Status reject;
    int http_status = 0;
    if (req.path.size() > internal::kMaxPathLength) {
      reject = NameInvalid("request path too long");
      http_status = 414;
    } else if (api.draining.load()) {
      reject = Unavailable("server shutting down");
    }
    if (reject.ok()) return HandlerResponse::Unhandled;
    internal::WriteError(res, reject, http_status);
    // The body (if any) stays unread: the connection must not carry another request.
    res.set_header("Connection", "close");
    return HandlerResponse::Handled;
  });

  // Runs as each response's head is written, also for requests that began before the drain.
  server.set_post_routing_handler([&api](const Request&, Response& res) {
    if (api.out_of_rotation.load()) CloseAfterResponse(res);
  });

  internal::InstallDocs(server, impl_->docs);  // before the catch-all: routes match in order
  internal::InstallMonitoringRoutes(server, api, impl_->metrics_enabled);
  server.Get(kEverything, [&api](const Request& req, Response& res) {
    internal::Exchange ex(req, res, nullptr);
    api.Handle(ex);
  });
  httplib::Server::HandlerWithContentReader with_body =
      [&api](const Request& req, Response& res, const httplib::ContentReader& reader) {
        internal::Exchange ex(req, res, &reader);
        api.Handle(ex);
      };
  server.Post(kEverything, with_body);
  server.Put(kEverything, with_body);
  server.Patch(kEverything, with_body);
  server.Delete(kEverything, with_body);

  // Answers httplib produces itself (bad request line, URI too long, malformed Range, unknown
  // method) get the OCI body too. Ours already have one and pass unchanged.
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req,
                                                                   Response& res) {
    if (!res.body.empty() || res.content_provider_) return HandlerResponse::Unhandled;
    // httplib applies the request's Range to an error body it handles; there is none for us.
    const_cast<Request&>(req).ranges.clear();
    const int http_status = res.status;
    internal::WriteError(res, Status(internal::CodeForHttpStatus(http_status), ""), http_status);
    return HandlerResponse::Handled;
  }));

  // Without this httplib 0.11 answers 500 with the exception's text in an EXCEPTION_WHAT header.
  server.set_exception_handler(
      [&api](const Request& req, Response& res, const std::exception_ptr& ep) {
        api.Log(LogLevel::kError, req.method + " " + req.path + ": " + ExceptionText(ep));
        res = Response();
        res.version = "HTTP/1.1";
        res.set_header(kApiVersionHeader, kApiVersion);
        internal::WriteError(res, Internal("internal server error"));
        // The handler may have stopped halfway through the body.
        res.set_header("Connection", "close");
      });

  // Checks that need no body run before the client sends it (curl waits for 100 Continue).
  server.set_expect_100_continue_handler(
      [&api](const Request& req, Response& res) { return api.ExpectContinue(req, res); });

  server.set_logger([&api](const Request& req, const Response& res) {
    // httplib 0.11 keeps the connection open after a response that says Connection: close
    // unless the request said so; the connection loop ends it when told here.
    if (internal::HasToken(res.get_header_value("Connection"), "close")) {
      if (auto* connection = internal::CurrentConnection()) connection->EndAfterResponse();
    }
    auto duration = internal::TakeRequestDuration();
    // Requests httplib answered before routing were never counted in flight.
    if (duration) --api.in_flight;
    internal::RequestSample sample;
    sample.method = internal::ParseMethod(req.method);
    // Paths over the cap were refused unparsed; parsing them here would cost what the cap saves.
    sample.route = req.path.size() > internal::kMaxPathLength ? internal::MetricsRoute::kOther
                                                              : internal::MetricsRouteOf(req.path);
    sample.status = res.status;
    sample.duration = duration.value_or(std::chrono::microseconds(0));
    sample.bytes_in = internal::TakeRequestBodyBytes();
    if (req.method != "HEAD") {
      sample.bytes_out = res.body.empty() ? res.content_length_ : res.body.size();
    }
    api.metrics.RecordRequest(sample);
    std::string user = internal::TakeRequestUser();
    if (!api.hooks().access_log) return;
    AccessLogEntry entry;
    entry.time = std::chrono::system_clock::now();
    entry.remote_addr = api.ClientAddress(req);
    entry.remote_port = req.remote_port;
    entry.user = std::move(user);
    entry.method = req.method;
    entry.path = req.path;
    entry.status = res.status;
    if (req.method != "HEAD")
      entry.bytes = res.body.empty() ? res.content_length_ : res.body.size();
    entry.duration = duration.value_or(std::chrono::microseconds(0));
    entry.node = api.node_name();
    api.hooks().access_log(entry);
  });
}

}  // namespace ocireg
