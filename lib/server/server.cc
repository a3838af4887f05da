// SPDX-License-Identifier: Apache-2.0
// RegistryServer: builds store, handler and httplib server from a Config; runs, drains, stops.
#include "ocireg/server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>

#include "ocireg/auth/authenticator.h"
#include "ocireg/auth/policy.h"
#include "ocireg/config_store.h"
#include "ocireg/http/handler.h"
#include "ocireg/storage/store.h"
#include "server/connection_dispatcher.h"
#include "server/tls_context.h"

namespace ocireg {
namespace {

using std::chrono::steady_clock;

// The two steps of a graceful stop that httplib 0.11 does in one: its stop() also makes every
// response body in progress end early (its providers see "shutting down").
class Drainable {
 public:
  virtual ~Drainable() = default;
  // Makes accept() fail so the accept loop ends (httplib then closes the socket itself); open
  // connections keep being served.
  virtual void CloseListener() = 0;
  // httplib 0.11 listens with a backlog of 5 (compiled into the library): a burst of clients
  // would see dropped SYNs and a one-second retransmit. listen() again only changes the backlog.
  virtual void RaiseBacklog() = 0;
  // Closes a socket that was bound but never served (Stop before Run, or no Run at all).
  virtual void CloseUnservedSocket() = 0;
  // Ends keep-alive loops after their current request and response bodies at their next chunk.
  // Only after the accept loop has ended (it closes the socket only while this is still valid).
  virtual void CutConnections() = 0;
  // How each connection is served (limits and timeouts); before the server runs.
  virtual void SetConnectionSettings(const internal::ConnectionSettings& settings) = 0;
  // The task queue for httplib's accept loop (httplib owns and deletes it).
  virtual httplib::TaskQueue* NewDispatcher(size_t threads, size_t max_open,
                                            std::function<void()> on_shutdown) = 0;
};

// httplib::Server or httplib::SSLServer, drainable.
template <typename Base>
class DrainableServer final : public Base, public Drainable {
 public:
  using Base::Base;
  void CloseListener() override {
    auto sock = this->svr_sock_.load();
    if (sock != INVALID_SOCKET) ::shutdown(sock, SHUT_RDWR);
  }
  void RaiseBacklog() override {
    auto sock = this->svr_sock_.load();
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
  void CloseUnservedSocket() override {
    auto sock = this->svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) ::close(sock);
  }
  void CutConnections() override { this->svr_sock_ = INVALID_SOCKET; }
  void SetConnectionSettings(const internal::ConnectionSettings& settings) override {
    settings_ = settings;
  }
  httplib::TaskQueue* NewDispatcher(size_t threads, size_t max_open,
                                    std::function<void()> on_shutdown) override {
    SSL_CTX* tls = nullptr;
    if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) tls = this->ssl_context();
    auto process = [this](httplib::Stream& strm, bool close, bool& closed) {
      SSL* ssl = static_cast<internal::ConnectionStream&>(strm).ssl();
      if (ssl == nullptr) return this->process_request(strm, close, closed, nullptr);
      // Client certificates are read from req.ssl, as with httplib's own TLS loop.
      return this->process_request(strm, close, closed,
                                   [ssl](httplib::Request& req) { req.ssl = ssl; });
    };
    dispatcher_ = new internal::ConnectionDispatcher(
        settings_, threads, max_open, tls, std::move(process),
        [this] { return this->svr_sock_ == INVALID_SOCKET; }, std::move(on_shutdown));
    return dispatcher_;
  }

 private:
  // Replaces httplib's keep-alive loop (and, for TLS, its handshake) with ours: see
  // server/connection_dispatcher.h. httplib still parses, routes and answers each request.
  // httplib calls this through the dispatcher's enqueue, on the accepting thread.
  bool process_and_close_socket(socket_t sock) override {
    dispatcher_->Accept(sock);
    return true;
  }

  internal::ConnectionDispatcher* dispatcher_ = nullptr;  // owned by httplib's accept loop
  internal::ConnectionSettings settings_;
};

// What the handler is given: `config` with the node name resolved, so that the access log and
// /metrics name this replica even when the configuration leaves it to the host name.
Config HandlerConfig(const Config& config, const std::string& node_name) {
  Config named = config;
  named.cluster.node_name = node_name;
  return named;
}

internal::ConnectionSettings ConnectionSettingsFrom(const LimitsConfig& limits) {
  internal::ConnectionSettings settings;
  settings.header_timeout = limits.header_timeout;
  settings.keep_alive_timeout = limits.keep_alive_timeout;
  settings.keep_alive_max_requests = limits.keep_alive_max_requests;
  settings.timeouts.read = limits.read_timeout;
  settings.timeouts.write = limits.write_timeout;
  return settings;
}

// A plain HTTP server when `certificate` is null, or a TLS one configured from `tls` that presents
// `certificate` (which must outlive it).
Result<std::unique_ptr<httplib::Server>> NewHttpServer(const TlsConfig& tls,
                                                       internal::ServerCertificate* certificate) {
  if (certificate == nullptr) {
    return std::unique_ptr<httplib::Server>(std::make_unique<DrainableServer<httplib::Server>>());
  }
  Status problem;
  auto server = std::make_unique<DrainableServer<httplib::SSLServer>>([&](SSL_CTX& context) {
    problem = internal::ConfigureTls(context, tls, *certificate);
    return problem.ok();
  });
  if (!problem.ok()) return problem;
  if (!server->is_valid()) return Internal("cannot create a TLS context");
  return std::unique_ptr<httplib::Server>(std::move(server));
}

class ServerImpl final : public RegistryServer {
 public:
  ServerImpl(const Config& config, ServerHooks hooks, std::unique_ptr<Store> store,
             std::unique_ptr<internal::ServerCertificate> certificate,
             std::unique_ptr<httplib::Server> http)
      : config_(config),
        running_(config),
        log_(hooks.log),
        store_(std::move(store)),
        handler_(std::make_unique<RegistryHandler>(
            *store_, HandlerConfig(config, NodeName(config.cluster)), std::move(hooks))),
        certificate_(std::move(certificate)),
        http_(std::move(http)),
        drainable_(dynamic_cast<Drainable&>(*http_)) {}

  ~ServerImpl() override {
    Stop();
    if (gc_thread_.joinable()) gc_thread_.join();
    if (!run_called_) drainable_.CloseUnservedSocket();
  }

  Status Bind();

  Status Run() override;
  void Stop() override;
  uint16_t port() const override { return port_; }
  Status ReloadAccess(const Config& config) override;
  Status ReloadTls(const Config& config) override;
  ReloadResult Reload(const Config& next) override;
  Config running_config() const override {
    std::lock_guard lock(reload_mutex_);
    return running_;
  }
  bool is_running() const override {
    std::lock_guard lock(mutex_);
    return http_->is_running() && !stop_requested_ && !accept_loop_done_;
  }

 private:
  void Log(LogLevel level, const std::string& message) const {
    if (log_) log_(level, message);
  }
  void CollectGarbagePeriodically();
  // The first step of Stop, under `lock` (mutex_): takes the server out of rotation and, while it
  // runs, keeps serving for limits.drain_delay. A later call ends that wait.
  void DrainLocked(std::unique_lock<std::mutex>& lock);
  // ReloadAccess and ReloadTls under reload_mutex_: each records what it applied in running_.
  Status ReloadAccessLocked(const Config& config);
  Status ReloadTlsLocked(const Config& config);

  const Config config_;
  mutable std::mutex reload_mutex_;  // serializes the reloads; guards running_
  Config running_;                   // config_ with what the reloads applied
  std::function<void(LogLevel, std::string_view)> log_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RegistryHandler> handler_;
  // Null for plain HTTP. The TLS context's certificate callback points at it: it must outlive
  // http_, so it comes first.
  std::unique_ptr<internal::ServerCertificate> certificate_;
  std::unique_ptr<httplib::Server> http_;
  Drainable& drainable_;
  uint16_t port_ = 0;
  std::thread gc_thread_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // any of the flags below
  bool run_called_ = false;
  bool drain_started_ = false;
  bool drain_ended_ = false;  // a second Stop cut the drain delay short
  bool stop_requested_ = false;
  bool accept_loop_done_ = false;
  bool finished_ = false;
};

Status ServerImpl::Bind() {
  const LimitsConfig& limits = config_.limits;
  const size_t threads = limits.max_connections;
  // One worker serves one connection for its whole keep-alive life, so the pool is sized for the
  // connections we mean to hold open at once.
  const size_t max_open = limits.max_open_connections;
  http_->new_task_queue = [this, threads, max_open] {
    // httplib shuts its task queue down right after leaving the accept loop: that is the signal.
    return drainable_.NewDispatcher(threads, max_open, [this] {
      std::lock_guard lock(mutex_);
      accept_loop_done_ = true;
      changed_.notify_all();
    });
  };
  http_->set_keep_alive_max_count(limits.keep_alive_max_requests);
  http_->set_keep_alive_timeout(static_cast<time_t>(limits.keep_alive_timeout.count()));
  http_->set_read_timeout(static_cast<time_t>(limits.read_timeout.count()), 0);
  http_->set_write_timeout(static_cast<time_t>(limits.write_timeout.count()), 0);
  http_->set_tcp_nodelay(true);
  drainable_.SetConnectionSettings(ConnectionSettingsFrom(limits));
  // Body routes stream through a ContentReader with their own caps, and no route takes a body
  // into memory (bodies on GET/HEAD and unrouted methods are refused with the head). httplib's
  // cap applies to every Content-Length body, so it can be no lower than the largest allowed.
  if (limits.max_blob_bytes > 0) {
    http_->set_payload_max_length(
        static_cast<size_t>(std::max(limits.max_blob_bytes, limits.max_manifest_bytes)));
  }
  // httplib's default sets SO_REUSEPORT: a second server on the same port would then start
  // without error and share the traffic. SO_REUSEADDR alone still allows a quick restart.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  handler_->Install(*http_);

  const std::string& address = config_.listen.address;
  errno = 0;
  int port = config_.listen.port;
  bool bound = false;
  if (port == 0) {
    port = http_->bind_to_any_port(address);
    bound = port > 0;
  } else {
    bound = http_->bind_to_port(address, port);
  }
  if (!bound) {
    const int error = errno;
    return Unavailable("cannot listen on " + address + ":" + std::to_string(config_.listen.port) +
                       ": " + (error != 0 ? std::strerror(error) : "address not usable"));
  }
  port_ = static_cast<uint16_t>(port);
  drainable_.RaiseBacklog();
  return Status::Ok();
}

Status ServerImpl::Run() {
  {
    std::lock_guard lock(mutex_);
    if (run_called_) return InvalidArgument("Run called twice");
    run_called_ = true;
    if (stop_requested_) {
      drainable_.CloseUnservedSocket();
      finished_ = true;
      changed_.notify_all();
      return Status::Ok();
    }
    if (config_.storage.gc_interval.count() > 0) {
      gc_thread_ = std::thread([this] { CollectGarbagePeriodically(); });
    }
  }
  const bool listened = http_->listen_after_bind();
  bool stopped = false;
  {
    std::lock_guard lock(mutex_);
    // The listener may have failed without a Stop: wake the collector all the same.
    stopped = stop_requested_;
    stop_requested_ = true;
    finished_ = true;
    changed_.notify_all();
  }
  if (gc_thread_.joinable()) gc_thread_.join();
  if (!listened && !stopped) return Unavailable("the listening socket failed");
  return Status::Ok();
}

void ServerImpl::DrainLocked(std::unique_lock<std::mutex>& lock) {
  if (drain_started_) {
    drain_ended_ = true;
    changed_.notify_all();
    return;
  }
  drain_started_ = true;
  handler_->SetOutOfRotation(true);
  const std::chrono::seconds delay = config_.limits.drain_delay;
  // Nobody can be in rotation before Run serves, nor after it ended.
  if (delay.count() == 0 || !run_called_ || finished_ || stop_requested_) return;
  Log(LogLevel::kInfo, "draining for " + std::to_string(delay.count()) + "s: /readyz answers 503");
  changed_.wait_for(lock, delay, [this] { return drain_ended_ || finished_; });
}

void ServerImpl::Stop() {
  std::unique_lock lock(mutex_);
  DrainLocked(lock);
  if (!stop_requested_) {
    stop_requested_ = true;
    handler_->SetDraining(true);
    drainable_.CloseListener();
    if (run_called_ && !finished_) {
      Log(LogLevel::kInfo, "listener closed: requests in flight get " +
                               std::to_string(config_.limits.shutdown_timeout.count()) +
                               "s to finish");
    }
    changed_.notify_all();
  }
  if (!run_called_ || finished_) return;
  changed_.wait(lock, [this] { return accept_loop_done_ || finished_; });
  // Requests in flight get the deadline to finish; in_flight changes on worker threads, so poll.
  const auto deadline = steady_clock::now() + config_.limits.shutdown_timeout;
  while (!finished_ && handler_->in_flight() > 0 && steady_clock::now() < deadline) {
    changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
  if (!finished_ && handler_->in_flight() > 0) {
    Log(LogLevel::kWarn, std::to_string(handler_->in_flight()) +
                             " requests still running at the shutdown deadline; cutting them off");
    handler_->AbortTransfers();
  }
  // Keep-alive connections end after their current request. An idle one still holds its worker
  // until its keep-alive timeout (httplib waits for it), which bounds the rest of the wait.
  drainable_.CutConnections();
  changed_.wait(lock, [this] { return finished_; });
}

Status ServerImpl::ReloadAccess(const Config& config) {
  std::lock_guard lock(reload_mutex_);
  return ReloadAccessLocked(config);
}

Status ServerImpl::ReloadTls(const Config& config) {
  std::lock_guard lock(reload_mutex_);
  return ReloadTlsLocked(config);
}

Status ServerImpl::ReloadAccessLocked(const Config& config) {
  Config effective = config;
  effective.tls = config_.tls;  // certificate logins must match the TLS context in use
  auto authenticator = NewAuthenticator(effective);
  if (!authenticator.ok()) return authenticator.status();
  handler_->SetAccess(std::move(*authenticator),
                      AccessPolicy::FromConfig(effective).AsAuthorizeFn());
  running_.auth.htpasswd = config.auth.htpasswd;
  running_.auth.ldap = config.auth.ldap;
  running_.access = config.access;
  return Status::Ok();
}

Status ServerImpl::ReloadTlsLocked(const Config& config) {
  const bool wants_tls = !config.tls.certificate.empty();
  if (certificate_ == nullptr && !wants_tls) return Status::Ok();
  if (certificate_ == nullptr || !wants_tls) {
    return InvalidArgument(std::string("tls.certificate: turning TLS ") +
                           (wants_tls ? "on" : "off") + " needs a restart");
  }
  OCIREG_RETURN_IF_ERROR(certificate_->Load(config.tls));
  running_.tls.certificate = config.tls.certificate;
  running_.tls.private_key = config.tls.private_key;
  return Status::Ok();
}

ReloadResult ServerImpl::Reload(const Config& next) {
  std::lock_guard lock(reload_mutex_);
  ReloadResult result;
  result.restart_only = RestartOnlyChanges(running_, next);
  // Turning TLS on or off is among the restart-only changes; the certificate is swapped only
  // when both sides run TLS.
  if (certificate_ != nullptr && !next.tls.certificate.empty()) {
    result.tls = ReloadTlsLocked(next);
    result.tls_reloaded = result.tls.ok();
  }
  result.access = ReloadAccessLocked(next);
  return result;
}

void ServerImpl::CollectGarbagePeriodically() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (changed_.wait_for(lock, config_.storage.gc_interval, [this] { return stop_requested_; })) {
      return;
    }
    lock.unlock();
    auto report = store_->maintenance().CollectGarbage();
    if (IsAlreadyExists(report.status())) {
      // Another replica is collecting for the whole cluster: nothing failed here.
      Log(LogLevel::kInfo, report.status().message());
      lock.lock();
      continue;
    }
    handler_->RecordGarbageCollection(report.ok() ? &*report : nullptr);
    if (report.ok()) {
      Log(LogLevel::kInfo, "garbage collection: " + std::to_string(report->repositories_scanned) +
                               " repositories scanned, " + std::to_string(report->blobs_removed) +
                               " blob links and " + std::to_string(report->uploads_removed) +
                               " stale uploads removed, " +
                               std::to_string(report->bytes_reclaimed) + " bytes reclaimed");
      // Skipped entries (unreadable directories or manifests), a bounded number per run.
      constexpr size_t kMaxLogged = 20;
      for (size_t i = 0; i < report->problems.size() && i < kMaxLogged; ++i) {
        Log(LogLevel::kWarn, "garbage collection skipped: " + report->problems[i]);
      }
      if (report->problems.size() > kMaxLogged) {
        Log(LogLevel::kWarn, "garbage collection skipped " +
                                 std::to_string(report->problems.size() - kMaxLogged) +
                                 " more entries");
      }
    } else {
      Log(LogLevel::kError, "garbage collection failed: " + report.status().ToString());
    }
    lock.lock();
  }
}

// A replica starts without Redis all the same: it serves reads from the bucket, and its writes
// answer 503 until Redis answers (docs/cluster.md). The operator learns it here, once.
// [[mirror]] entries are read and checked, but this server does not fetch from upstreams yet:
// starting with them would serve empty mirrors as if they worked, so the server refuses them.
Status CheckNoMirrors(const Config& config) {
  if (config.mirrors.empty()) return Status::Ok();
  return InvalidArgument("mirror[1] (" + config.mirrors.front().name +
                         "): this server does not fetch from upstream registries yet; remove "
                         "the [[mirror]] entries to start it");
}

void WarnIfRedisUnreachable(const Config& config, const ServerHooks& hooks) {
  if (config.cluster.redis_url.empty() || !hooks.log) return;
  const Status redis = CheckRedisReachable(RedisOptionsFromConfig(config));
  if (redis.ok()) return;
  hooks.log(LogLevel::kWarn, "cluster.redis_url: " + redis.message() +
                                 ": serving reads; writes answer 503 until Redis answers");
}

}  // namespace

Result<std::unique_ptr<RegistryServer>> RegistryServer::Create(const Config& config,
                                                               ServerHooks hooks) {
  if (config.limits.max_connections == 0) {
    return InvalidArgument("limits.max_connections must be at least 1");
  }
  if (config.limits.max_open_connections == 0) {
    return InvalidArgument("limits.max_open_connections must be at least 1");
  }
  if (config.limits.keep_alive_max_requests == 0) {
    return InvalidArgument("limits.keep_alive_max_requests must be at least 1");
  }
  OCIREG_RETURN_IF_ERROR(CheckNoMirrors(config));
  StoreOptions store_options = StoreOptionsFromConfig(config);
  if (hooks.log) {
    store_options.warn = [log = hooks.log](std::string_view message) {
      log(LogLevel::kWarn, message);
    };
  }
  auto store = OpenStoreFromConfig(config, std::move(store_options));
  if (!store.ok()) return store.status();
  WarnIfRedisUnreachable(config, hooks);
  auto certificate =
      config.tls.certificate.empty() ? nullptr : std::make_unique<internal::ServerCertificate>();
  auto http = NewHttpServer(config.tls, certificate.get());
  if (!http.ok()) return http.status();
  if (!hooks.authenticator) {
    auto authenticator = NewAuthenticator(config);
    if (!authenticator.ok()) return authenticator.status();
    hooks.authenticator = std::move(*authenticator);
  }
  if (!hooks.authorize) hooks.authorize = AccessPolicy::FromConfig(config).AsAuthorizeFn();
  auto server = std::make_unique<ServerImpl>(config, std::move(hooks), std::move(*store),
                                             std::move(certificate), std::move(*http));
  OCIREG_RETURN_IF_ERROR(server->Bind());
  return std::unique_ptr<RegistryServer>(std::move(server));
}

std::string NodeName(const ClusterConfig& cluster) {
  if (!cluster.node_name.empty()) return cluster.node_name;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "ocireg";
  return name;
}

Status CheckConfig(const Config& config) {
  OCIREG_RETURN_IF_ERROR(CheckNoMirrors(config));
  // The login methods read their own files (htpasswd) and settings (LDAP).
  auto authenticator = NewAuthenticator(config);
  if (!authenticator.ok()) return authenticator.status();
  return CheckStorageFromConfig(config);
}

}  // namespace ocireg
