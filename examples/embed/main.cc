// SPDX-License-Identifier: Apache-2.0
// embedded-registry: a program that serves the OCI registry API from its own cpp-httplib server,
// next to routes of its own, with its own logins (API tokens) and access rules.
//
//   embedded-registry STORAGE_DIR PORT TOKENS_FILE
//
// PORT 0 picks a free port; the port is printed on stdout once the server accepts connections.
// TOKENS_FILE has one line per token: the SHA-256 of the token in hex (what `sha256sum` prints),
// the user it logs in, then the user's groups, separated by blanks; '#' starts a comment line.
// Clients log in with Basic user "token" and the token as password:
//
//   skopeo copy --dest-creds token:SECRET oci:./image:v1 docker://127.0.0.1:PORT/demo/app:v1
//
// SIGTERM or SIGINT stops it. ocireg-serve (RegistryServer in ocireg/server.h) does all of this
// from a configuration file, plus TLS, a graceful drain and periodic garbage collection; embedding
// the handler is for programs that own their HTTP server.
#include <httplib.h>
#include <ocireg/auth/authenticator.h>
#include <ocireg/auth/policy.h>
#include <ocireg/http/handler.h>
#include <ocireg/ocireg.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

namespace {

// Logs in API tokens. Only digests of the tokens are kept, so the file and the process's memory
// do not reveal them. Immutable after Load, hence safe to call from the server's workers at once.
class TokenAuthenticator final : public ocireg::Authenticator {
 public:
  // Reads TOKENS_FILE (format above). kInvalidArgument names the line that is wrong.
  static ocireg::Result<std::shared_ptr<TokenAuthenticator>> Load(const std::string& path) {
    std::ifstream file(path);
    if (!file) return ocireg::Status(ocireg::ErrorCode::kInvalidArgument, "cannot read " + path);
    auto tokens = std::make_shared<TokenAuthenticator>();
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
      std::istringstream fields(line);
      std::string hex;
      ocireg::Identity identity;
      if (!(fields >> hex) || hex[0] == '#') continue;
      if (hex.size() != 64 || !(fields >> identity.user)) {
        return ocireg::Status(
            ocireg::ErrorCode::kInvalidArgument,
            path + ":" + std::to_string(number) + ": expected HEX USER [GROUP...]");
      }
      for (std::string group; fields >> group;) identity.groups.push_back(group);
      tokens->identities_[hex] = std::move(identity);
    }
    return tokens;
  }

  // No Basic header, or another user than "token": nothing for this method, so the caller is
  // anonymous (or, in a chain, the next method decides). An unknown token is a failed login.
  ocireg::Result<std::optional<ocireg::Identity>> Authenticate(
      const ocireg::Credentials& credentials) override {
    auto basic = ocireg::ParseBasicAuthorization(credentials.authorization);
    if (!basic || basic->user != "token") return std::optional<ocireg::Identity>();
    const std::string hex =
        ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha256, basic->password).hex();
    auto found = identities_.find(hex);
    if (found == identities_.end()) {
      return ocireg::Status(ocireg::ErrorCode::kUnauthorized, "unknown token");
    }
    return std::optional<ocireg::Identity>(found->second);
  }

 private:
  std::map<std::string, ocireg::Identity> identities_;  // by the hex SHA-256 of the token
};

// Members of "admins" may do everything; members of "dev" push to demo/...; everybody logged in
// pulls everything; anonymous callers nothing. `password_login` = true: an anonymous GET /v2/ is
// answered 401, which is what makes clients send their credentials. A plain lambda with the
// AuthorizeFn signature works as well.
ocireg::AuthorizeFn MakeAccessRules() {
  using ocireg::Action;
  ocireg::AccessConfig access;
  access.admin_groups = {"admins"};
  access.authenticated = {
      {.repositories = {"**"}, .users = {}, .groups = {}, .actions = {Action::kRead}}};
  access.policy = {{.repositories = {"demo/**"},
                    .users = {},
                    .groups = {"dev"},
                    .actions = {Action::kRead, Action::kCreate, Action::kUpdate}}};
  return ocireg::AccessPolicy(std::move(access), /*password_login=*/true).AsAuthorizeFn();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "embedded-registry: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fputs("usage: embedded-registry STORAGE_DIR PORT TOKENS_FILE\n", stderr);
    return 2;
  }
  int port = 0;
  auto [end, error] = std::from_chars(argv[2], argv[2] + std::strlen(argv[2]), port);
  if (error != std::errc() || *end != '\0' || port < 0 || port > 65535) {
    return Fail(std::string("not a port: ") + argv[2]);
  }
  // Blocked before any thread starts, so every thread inherits the mask and only sigwait below
  // sees the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto driver = ocireg::NewFsDriver(argv[1]);
  if (!driver.ok()) return Fail(driver.status().ToString());
  auto store = ocireg::OpenStore(std::move(*driver));
  if (!store.ok()) return Fail(store.status().ToString());
  auto tokens = TokenAuthenticator::Load(argv[3]);
  if (!tokens.ok()) return Fail(tokens.status().ToString());

  ocireg::Config config;  // the handler uses its features, limits and auth (realm, throttling)
  config.auth.realm = "embedded-registry";
  ocireg::ServerHooks hooks;
  hooks.authenticator = *tokens;
  hooks.authorize = MakeAccessRules();
  hooks.access_log = [](const ocireg::AccessLogEntry& entry) {
    std::fprintf(stderr, "%s\n",
                 ocireg::FormatAccessLogLine(entry, ocireg::LogFormat::kText).c_str());
  };
  // Declared after the store and before the server: destroyed after the server, before the store.
  ocireg::RegistryHandler registry(**store, config, std::move(hooks));

  httplib::Server server;
  // One worker per open connection; clients push a few layers at once.
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };

  // Our own routes come first: httplib tries routes in registration order, and Install adds a
  // catch-all route per method (the registry parses paths itself), so a route registered after
  // Install is never reached (the registry answers it 404 NAME_UNKNOWN). Install also sets the
  // server's one pre-routing, error, exception and Expect: 100-continue handler and its logger,
  // which then serve our routes too: they appear in the access log (user "-": the registry
  // authenticates only its own routes), and a 4xx/5xx of ours without a body gets an OCI error
  // body. Setting any of those after Install would replace the registry's.
  server.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello from the embedding program\n", "text/plain");
  });
  server.Get("/status", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"in_flight\":" + std::to_string(registry.in_flight()) + "}\n",
                    "application/json");
  });
  registry.Install(server);

  if (port == 0) {
    port = server.bind_to_any_port("127.0.0.1");
  } else if (!server.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port < 0) return Fail(std::string("cannot listen on 127.0.0.1:") + argv[2]);
  std::atomic<bool> listen_returned = false;
  std::thread listener([&] {
    server.listen_after_bind();
    listen_returned = true;
  });
  // stop() does nothing until the accept loop runs (httplib 0.11 has no wait_until_ready).
  while (!server.is_running() && !listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (listen_returned) {
    listener.join();
    return Fail("the server stopped before it accepted a connection");
  }
  std::printf("%d\n", port);
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server.stop();  // closes the listener; the connections finish their current request
  listener.join();
  return 0;
}
