// SPDX-License-Identifier: Apache-2.0
// Child processes of tests (servers and commands), started and ended by their PID, and small
// file helpers.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ocireg::testing {

// The file `program` names: itself when it holds a '/', else the first executable in PATH.
inline std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = getenv("PATH");
  std::istringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string directory; std::getline(directories, directory, ':');) {
    const std::string candidate = (directory.empty() ? "." : directory) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("cannot find " + program + " in PATH");
}

// Runs `argv` (argv[0] looked up in PATH) with stdin from /dev/null and stdout and stderr
// appended to `log`; no other descriptor of the test is inherited (a registry's listening socket
// must not stay open in slapd). The child is killed when the thread that started it ends, so a
// crashed test leaves no server behind. Returns the child's PID.
inline pid_t SpawnProcess(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  // Everything the child needs is prepared here: after fork it may only make system calls.
  const std::string program = FindProgram(argv[0]);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent is gone already
    const int input = open("/dev/null", O_RDONLY);
    const int output = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (input < 0 || output < 0 || dup2(input, 0) < 0 || dup2(output, 1) < 0 ||
        dup2(output, 2) < 0) {
      _exit(127);
    }
    if (close_range(3, ~0U, 0) != 0) {
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    }
    execve(program.c_str(), args.data(), environ);
    _exit(127);
  }
  return pid;
}

// Waits up to `limit` for the child `pid` to end and reaps it. Its wait status, or nullopt when
// it is still running.
inline std::optional<int> WaitForChild(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return status;  // not our child (any more)
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Ends the child `pid`: SIGTERM, up to 10 s to exit, then SIGKILL; always reaps it.
inline void EndChild(pid_t pid) {
  kill(pid, SIGTERM);
  if (WaitForChild(pid, std::chrono::seconds(10))) return;
  kill(pid, SIGKILL);
  WaitForChild(pid, std::chrono::seconds(60));
}

inline std::string ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteTextFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

// Runs a command to its end (at most 60 s); throws with its output unless it exits with 0.
inline void RunCommand(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  const pid_t pid = SpawnProcess(argv, log);
  std::optional<int> status = WaitForChild(pid, std::chrono::seconds(60));
  if (!status) {
    EndChild(pid);
    throw std::runtime_error(argv[0] + " did not finish: " + ReadTextFile(log));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    throw std::runtime_error(argv[0] + " failed: " + ReadTextFile(log));
  }
}

// Runs `argv` to its end (at most 60 s), output to `log`; its exit code, or -1 when it did not
// exit normally in time.
inline int RunStatus(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  const pid_t pid = SpawnProcess(argv, log);
  std::optional<int> status = WaitForChild(pid, std::chrono::seconds(60));
  if (!status) {
    EndChild(pid);
    return -1;
  }
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

}  // namespace ocireg::testing
