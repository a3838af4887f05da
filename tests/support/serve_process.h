// SPDX-License-Identifier: Apache-2.0
// ServeProcess: the real ocireg-serve (the OCIREG_SERVE macro names it), started with a
// configuration in a directory of the test's and ended by its PID when the object goes, for what
// only whole processes show: what a process maps, how it starts or refuses to, several servers on
// one storage.
//
//   ServeProcess serve(dir.path(), "[listen]\nport = 0\n");
//   const uint16_t port = serve.WaitForPort();   // 0: it exited or never listened
//   const uint16_t port = ListeningPort(serve);   // fails the test case instead
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "catch.h"
#include "process.h"

#ifndef OCIREG_SERVE
#error "OCIREG_SERVE must name the ocireg-serve executable"
#endif

namespace ocireg::testing {

class ServeProcess {
 public:
  // Writes `config` to dir/NAME.toml and starts ocireg-serve on it, its output in dir/NAME.log.
  ServeProcess(const std::filesystem::path& dir, const std::string& config,
               const std::string& name = "ocireg")
      : log_(dir / (name + ".log")) {
    const std::filesystem::path file = dir / (name + ".toml");
    WriteTextFile(file, config);
    pid_ = SpawnProcess({OCIREG_SERVE, file.string()}, log_);
  }
  ~ServeProcess() { Stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // The port of its "listening on 127.0.0.1:PORT" line; 0 when it exits or does not listen
  // within 30 s.
  uint16_t WaitForPort() {
    constexpr std::string_view kListening = "listening on 127.0.0.1:";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      if (size_t at = text.find(kListening); at != std::string::npos) {
        return static_cast<uint16_t>(std::atoi(text.c_str() + at + kListening.size()));
      }
      if (std::optional<int> status = WaitForChild(pid_, std::chrono::milliseconds(50))) {
        pid_ = -1;  // exited and reaped: nothing left to end
        exit_status_ = status;
        return 0;
      }
    }
    return 0;
  }

  // The exit code once it has exited on its own within `limit`; nullopt while it runs (or when
  // a signal ended it).
  std::optional<int> WaitForExit(std::chrono::milliseconds limit) {
    if (pid_ > 0) {
      if (std::optional<int> status = WaitForChild(pid_, limit)) {
        pid_ = -1;
        exit_status_ = status;
      }
    }
    if (!exit_status_ || !WIFEXITED(*exit_status_)) return std::nullopt;
    return WEXITSTATUS(*exit_status_);
  }

  // Ends it by its PID (SIGTERM, then SIGKILL), if it still runs.
  void Stop() {
    if (pid_ > 0) EndChild(pid_);
    pid_ = -1;
  }

  // The file mappings of the running process, one per line as /proc/PID/maps lists them.
  std::string Maps() const { return ReadTextFile("/proc/" + std::to_string(pid_) + "/maps"); }
  std::string log() const { return ReadTextFile(log_); }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// The port `serve` listens on; fails the test case, with the server's log, when it never does.
inline uint16_t ListeningPort(ServeProcess& serve) {
  const uint16_t port = serve.WaitForPort();
  INFO(serve.log());
  REQUIRE(port != 0);
  return port;
}

}  // namespace ocireg::testing
