// SPDX-License-Identifier: Apache-2.0
// ocireg-serve: runs the registry on a TOML configuration until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "ocireg/config.h"
#include "ocireg/server.h"

namespace {

constexpr const char* kUsage =
    "usage: ocireg-serve [CONFIG.toml]\n"
    "       ocireg-serve --check-config CONFIG.toml\n"
    "       ocireg-serve --help | --version\n"
    "\n"
    "Serves the OCI distribution API. Without CONFIG.toml the built-in defaults apply:\n"
    "127.0.0.1:5000, storage in ./ocireg-data. SIGTERM or SIGINT stop it gracefully.\n";

std::mutex output_mutex;

void Print(std::FILE* stream, const std::string& line) {
  std::lock_guard lock(output_mutex);
  std::fprintf(stream, "%s\n", line.c_str());
  std::fflush(stream);
}

ocireg::ServerHooks MakeHooks(const ocireg::Config& config) {
  ocireg::ServerHooks hooks;
  const ocireg::LogFormat format = config.log.format;
  if (config.log.access_log) {
    hooks.access_log = [format](const ocireg::AccessLogEntry& entry) {
      Print(stdout, ocireg::FormatAccessLogLine(entry, format));
    };
  }
  const ocireg::LogLevel threshold = config.log.level;
  hooks.log = [format, threshold](ocireg::LogLevel level, std::string_view message) {
    if (level < threshold) return;
    Print(stderr, ocireg::FormatLogLine(std::chrono::system_clock::now(), level, message, format));
  };
  return hooks;
}

// Waits for SIGTERM or SIGINT (blocked in every thread, so only sigwait sees them) and stops
// the server; SIGUSR1 only ends the wait, when the server stopped by itself.
void StopOnSignal(const sigset_t& signals, ocireg::RegistryServer& server,
                  const ocireg::ServerHooks& hooks) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (signal_number == SIGUSR1) return;
  hooks.log(ocireg::LogLevel::kInfo,
            std::string("received ") + strsignal(signal_number) + ", stopping");
  server.Stop();
}

int Serve(const ocireg::Config& config) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: they inherit it

  ocireg::ServerHooks hooks = MakeHooks(config);
  auto server = ocireg::RegistryServer::Create(config, hooks);
  if (!server.ok()) {
    Print(stderr, "ocireg-serve: " + server.status().message());
    return 1;
  }
  hooks.log(ocireg::LogLevel::kInfo, "listening on " + config.listen.address + ":" +
                                         std::to_string((*server)->port()) + ", storage in " +
                                         config.storage.root);
  std::thread stopper([&] { StopOnSignal(signals, **server, hooks); });
  ocireg::Status status = (*server)->Run();
  pthread_kill(stopper.native_handle(), SIGUSR1);
  stopper.join();
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
    std::printf("%s: ok\n", argv[2]);
    return 0;
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
  return Serve(*config);
}
