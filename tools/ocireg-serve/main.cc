// SPDX-License-Identifier: Apache-2.0
// ocireg-serve: runs the registry on a TOML configuration until SIGTERM or SIGINT, reloads its
// logins, access rules and TLS certificate on SIGHUP, and runs garbage collection or a scrub on
// request.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "maintenance.h"
#include "ocireg/config.h"
#include "ocireg/server.h"

namespace {

constexpr const char* kUsage =
    "usage: ocireg-serve [CONFIG.toml]\n"
    "       ocireg-serve --check-config CONFIG.toml\n"
    "       ocireg-serve gc CONFIG.toml\n"
    "       ocireg-serve scrub CONFIG.toml\n"
    "       ocireg-serve --help | --version\n"
    "\n"
    "Serves the OCI distribution API. Without CONFIG.toml the built-in defaults apply:\n"
    "127.0.0.1:5000, storage in ./ocireg-data. SIGTERM or SIGINT stop it gracefully. SIGHUP\n"
    "re-reads CONFIG.toml, the htpasswd file and the TLS certificate and key, and applies the\n"
    "new logins, access rules and certificate without dropping connections; listen, storage,\n"
    "limits, features, log, docs, metrics, the realm, turning TLS on or off and the tls.client_*\n"
    "settings need a restart. A broken file on SIGHUP keeps the old state and logs the error.\n"
    "With limits.drain_delay set, SIGTERM or SIGINT first make /readyz answer 503 for that long\n"
    "while requests are still served (for load balancers); a second signal ends the delay.\n"
    "\n"
    "--check-config reads CONFIG.toml and the htpasswd file and checks the LDAP settings;\n"
    "with storage.driver = \"s3\" it also writes, reads and removes a small object in the\n"
    "bucket.\n"
    "gc runs one garbage collection of the storage and prints what it removed. It may run\n"
    "while a server uses the same storage: unreferenced blobs younger than\n"
    "storage.gc_grace_period are kept, so a push in progress is safe as long as it finishes\n"
    "within the grace period; keep the server's grace period in the CONFIG given to gc.\n"
    "scrub re-hashes every blob, checks every manifest's references and lists each problem on\n"
    "a line of its own. On a terminal both show a progress line on stderr.\n"
    "Exit status of gc and scrub: 0 clean, 1 problems found or the store failed, 2 usage or\n"
    "configuration error.\n";

std::mutex output_mutex;

void Print(std::FILE* stream, const std::string& line) {
  std::lock_guard lock(output_mutex);
  std::fprintf(stream, "%s\n", line.c_str());
  std::fflush(stream);
}

// Access-log lines name the replica through their entries; diagnostic lines through `node`.
ocireg::ServerHooks MakeHooks(const ocireg::Config& config, const std::string& node) {
  ocireg::ServerHooks hooks;
  const ocireg::LogFormat format = config.log.format;
  if (config.log.access_log) {
    hooks.access_log = [format](const ocireg::AccessLogEntry& entry) {
      Print(stdout, ocireg::FormatAccessLogLine(entry, format));
    };
  }
  const ocireg::LogLevel threshold = config.log.level;
  hooks.log = [format, threshold, node](ocireg::LogLevel level, std::string_view message) {
    if (level < threshold) return;
    Print(stderr,
          ocireg::FormatLogLine(std::chrono::system_clock::now(), level, message, format, node));
  };
  return hooks;
}

// SIGHUP: re-reads the configuration file and has the server apply what it can (see
// RegistryServer::Reload); reports what it applied and what needs a restart.
void Reload(const std::string& path, ocireg::RegistryServer& server,
            const ocireg::ServerHooks& hooks) {
  if (path.empty()) {
    hooks.log(ocireg::LogLevel::kWarn,
              "received SIGHUP, but the server runs on the built-in defaults: nothing to reload");
    return;
  }
  auto next = ocireg::LoadConfig(path);
  if (!next.ok()) {
    hooks.log(ocireg::LogLevel::kError,
              "reload failed, keeping the current configuration: " + next.status().message());
    return;
  }
  const ocireg::ReloadResult result = server.Reload(*next);
  for (const std::string& section : result.restart_only) {
    hooks.log(ocireg::LogLevel::kWarn,
              "reload: " + section + " settings changed; they take effect after a restart");
  }
  if (!result.tls.ok()) {
    hooks.log(
        ocireg::LogLevel::kError,
        "TLS reload failed, keeping the current certificate and key: " + result.tls.message());
  } else if (result.tls_reloaded) {
    hooks.log(ocireg::LogLevel::kInfo, "reloaded the TLS certificate " + next->tls.certificate +
                                           " and key " + next->tls.private_key + " from " + path);
  }
  if (!result.access.ok()) {
    hooks.log(
        ocireg::LogLevel::kError,
        "reload failed, keeping the current logins and access rules: " + result.access.message());
    return;
  }
  hooks.log(ocireg::LogLevel::kInfo, "reloaded logins and access rules from " + path + ": " +
                                         ocireg::DescribeConfig(server.running_config()));
}

// Waits for signals (blocked in every thread, so only sigwait sees them): SIGHUP reloads,
// SIGTERM or SIGINT stop the server, SIGUSR1 (sent once Run has returned) ends the wait. The
// first stop runs on a thread of its own, so that a second SIGTERM or SIGINT is seen during the
// drain delay: it ends the delay.
void HandleSignals(const sigset_t& signals, ocireg::RegistryServer& server,
                   const ocireg::ServerHooks& hooks, const std::string& path) {
  std::thread stopper;
  while (true) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGUSR1) break;
    if (signal_number == SIGHUP) {
      Reload(path, server, hooks);
      continue;
    }
    const bool again = stopper.joinable();
    hooks.log(ocireg::LogLevel::kInfo,
              std::string("received ") + strsignal(signal_number) +
                  (again ? " again: ending any drain delay" : ", stopping"));
    if (again) {
      server.Stop();
    } else {
      stopper = std::thread([&server] { server.Stop(); });
    }
  }
  if (stopper.joinable()) stopper.join();
}

int Serve(const ocireg::Config& config, const std::string& path) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: they inherit it

  ocireg::ServerHooks hooks = MakeHooks(config, ocireg::NodeName(config.cluster));
  auto server = ocireg::RegistryServer::Create(config, hooks);
  if (!server.ok()) {
    Print(stderr, "ocireg-serve: " + server.status().message());
    return 1;
  }
  hooks.log(ocireg::LogLevel::kInfo, "listening on " + config.listen.address + ":" +
                                         std::to_string((*server)->port()) + ", storage in " +
                                         ocireg::DescribeStorage(config.storage));
  hooks.log(ocireg::LogLevel::kInfo, "configuration: " + ocireg::DescribeConfig(config));
  std::thread handler([&] { HandleSignals(signals, **server, hooks, path); });
  ocireg::Status status = (*server)->Run();
  pthread_kill(handler.native_handle(), SIGUSR1);
  handler.join();
  if (!status.ok()) {
    Print(stderr, "ocireg-serve: " + status.message());
    return 1;
  }
  hooks.log(ocireg::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (first == "--help" || first == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (first == "--version") {
    std::printf("ocireg-serve %s\n", OCIREG_VERSION);
    return 0;
  }
  if (first == "--check-config") {
    if (argc != 3) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    auto config = ocireg::LoadConfig(argv[2]);
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().message().c_str());
      return 1;
    }
    const ocireg::Status checked = ocireg::CheckConfig(*config);
    if (!checked.ok()) {
      std::fprintf(stderr, "%s\n", checked.message().c_str());
      return 1;
    }
    std::printf("%s: ok\n", argv[2]);
    return 0;
  }
  if (first == "gc" || first == "scrub") {
    if (argc != 3) {
      std::fputs(kUsage, stderr);
      return ocireg_serve::kExitUsage;
    }
    auto config = ocireg::LoadConfig(argv[2]);
    if (!config.ok()) {
      std::fprintf(stderr, "ocireg-serve: %s\n", config.status().message().c_str());
      return ocireg_serve::kExitUsage;
    }
    return first == "gc" ? ocireg_serve::RunGarbageCollection(*config)
                         : ocireg_serve::RunScrub(*config);
  }
  if (argc > 2 || (!first.empty() && first[0] == '-')) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto config = first.empty() ? ocireg::ParseConfig(ocireg::DefaultConfigText(), "<default>")
                              : ocireg::LoadConfig(first);
  if (!config.ok()) {
    std::fprintf(stderr, "ocireg-serve: %s\n", config.status().message().c_str());
    return 1;
  }
  return Serve(*config, first);
}
