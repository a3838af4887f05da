// SPDX-License-Identifier: Apache-2.0
// HaproxyBalancer: a private HAProxy (Debian's haproxy) for one test, balancing HTTP requests on
// 127.0.0.1 over backends on 127.0.0.1, as the load balancer in front of several ocireg-serve
// replicas.
//
//   ocireg::testing::HaproxyBalancer balancer({replica_a_port, replica_b_port});
//   REQUIRE(balancer.WaitUntilUp(2, std::chrono::seconds(10)));
//   httplib::Client client("127.0.0.1", balancer.port());   // or "http://" + balancer.url()
//   balancer.ServerStates();   // {"UP", "DOWN"}: server i is backend_ports[i]
//
// The configuration (haproxy.cfg in its temporary directory; nothing from /etc/haproxy):
//   - one frontend on a free 127.0.0.1 port, HTTP mode, keep-alive on both sides;
//   - backend servers r0, r1, ... (the ports in the order given), round robin per request;
//   - a health check GET /readyz every 300 ms: two failed checks (anything but 200, or no answer
//     within 300 ms) take a server out, one good check puts it back. A server that goes down is
//     out within about a second, and requests are no longer sent to it;
//   - a request whose connection to a server fails is retried up to 3 times, the last time on
//     another server (option redispatch); one that reached a server is never retried;
//   - timeouts: connect 2 s, client and server inactivity 120 s; request bodies of any size are
//     streamed through, not buffered;
//   - an admin socket (AdminCommand(), ServerStates()) and a log of every request and health
//     change in haproxy.log (log()).
//
// HAProxy runs as a child process in the foreground (haproxy -db) ended by its PID: the
// destructor sends SIGTERM (which stops it at once, cutting open connections), waits up to 10 s,
// then SIGKILL, and reaps it. Should the test process die first, the kernel kills it; it also
// dies with the thread that constructed it (see SpawnProcess). The constructor throws
// std::runtime_error, with HAProxy's log, when it does not come up within 10 s.
//
// Thread-safe: every member function may run on any thread.
#pragma once

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loopback.h"
#include "process.h"
#include "temp_dir.h"

namespace ocireg::testing {

class HaproxyBalancer {
 public:
  static constexpr const char* kBackendName = "replicas";

  // Starts HAProxy in front of servers on 127.0.0.1 at `backend_ports`, and returns once it
  // accepts connections (the servers' health is not waited for: see WaitUntilUp()).
  explicit HaproxyBalancer(std::vector<uint16_t> backend_ports)
      : backend_ports_(std::move(backend_ports)) {
    if (backend_ports_.empty()) throw std::runtime_error("HaproxyBalancer: no backend ports");
    // A long temporary directory does not fit a socket address (108 bytes): then the socket is
    // in the abstract namespace of Linux, under a name unique to this object.
    const std::string socket_file = (dir_.path() / "admin.sock").string();
    if (socket_file.size() < sizeof(sockaddr_un::sun_path)) {
      admin_socket_ = socket_file;
    } else {
      abstract_socket_ = true;
      admin_socket_ =
          "ocireg-test-haproxy-" + dir_.path().filename().string() + "-" + std::to_string(getpid());
    }
    // A port picked free may be taken again before haproxy binds it: then try another.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = FreeLoopbackPort();
      if (TryStart()) return;
    }
    throw std::runtime_error("haproxy did not start: " + log());
  }

  ~HaproxyBalancer() {
    if (pid_ > 0) EndChild(pid_);
  }
  HaproxyBalancer(const HaproxyBalancer&) = delete;
  HaproxyBalancer& operator=(const HaproxyBalancer&) = delete;

  // The frontend's port on 127.0.0.1, and "127.0.0.1:PORT".
  uint16_t port() const { return port_; }
  std::string url() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::vector<uint16_t>& backend_ports() const { return backend_ports_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // The configuration file, for `haproxy -c -f` and failure messages.
  std::filesystem::path config_file() const { return dir_.path() / "haproxy.cfg"; }
  // What HAProxy wrote: warnings, health changes, one line per request.
  std::string log() const { return ReadTextFile(dir_.path() / "haproxy.log"); }

  // Sends one command to the admin socket (e.g. "show stat", "disable server replicas/r1",
  // "enable server replicas/r1") and returns HAProxy's answer. Throws std::runtime_error when
  // the socket cannot be reached or the answer does not end within 5 s.
  std::string AdminCommand(const std::string& command) const {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // An abstract name starts with a NUL byte; HAProxy's (abns@) fill the whole address, padded
    // with NUL bytes.
    const size_t offset = abstract_socket_ ? 1 : 0;
    admin_socket_.copy(address.sun_path + offset, sizeof(address.sun_path) - offset - 1);
    const socklen_t length = static_cast<socklen_t>(
        abstract_socket_ ? sizeof(address)
                         : offsetof(sockaddr_un, sun_path) + admin_socket_.size() + 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      close(fd);
      throw std::runtime_error("cannot connect to the haproxy admin socket");
    }
    // Without "prompt", HAProxy answers one command and closes the connection.
    const std::string request = command + "\n";
    std::string answer;
    bool complete = false;
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (true) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd waiting{fd, POLLIN, 0};
        if (poll(&waiting, 1, static_cast<int>(left.count())) != 1) break;
        char buffer[8192];
        const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
        if (got < 0) break;
        if (got == 0) {
          complete = true;
          break;
        }
        answer.append(buffer, static_cast<size_t>(got));
      }
    }
    close(fd);
    if (!complete)
      throw std::runtime_error("no complete answer to \"" + command + "\" from haproxy");
    return answer;
  }

  // The health status of each server, in the order of the constructor's ports: "UP", "DOWN",
  // a transition such as "UP 1/2" (one failed check) or "DOWN 1/1", "MAINT" (disabled on the
  // admin socket), "" if absent. From the CSV of `show stat`.
  std::vector<std::string> ServerStates() const {
    std::vector<std::string> states(backend_ports_.size());
    std::istringstream lines(AdminCommand("show stat"));
    size_t status_column = 0;
    for (std::string line; std::getline(lines, line);) {
      // Fields are split at every comma: those up to "status" (names, counters) never hold one.
      std::vector<std::string> fields;
      std::istringstream cells(line);
      for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
      if (line.rfind("# ", 0) == 0) {  // the header: "# pxname,svname,...,status,..."
        for (size_t i = 0; i < fields.size(); ++i) {
          if (fields[i] == "status") status_column = i;
        }
        continue;
      }
      if (status_column == 0 || fields.size() <= status_column || fields[0] != kBackendName) {
        continue;
      }
      for (size_t i = 0; i < states.size(); ++i) {
        if (fields[1] == ServerName(i)) states[i] = fields[status_column];
      }
    }
    if (status_column == 0) throw std::runtime_error("haproxy's show stat has no status column");
    return states;
  }

  // Waits until at least `n` servers are "UP"; false when they are not within `timeout`. Throws
  // as AdminCommand() does when HAProxy does not answer.
  bool WaitUntilUp(size_t n, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      size_t up = 0;
      for (const std::string& state : ServerStates()) up += state == "UP" ? 1 : 0;
      if (up >= n) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // The name of server `i` in the configuration and on the admin socket: "r0", "r1", ...
  static std::string ServerName(size_t i) { return "r" + std::to_string(i); }

 private:
  std::string Config() const {
    std::string text = R"(global
  stats socket @SOCKET@ level admin
  # A port another process holds is an error, not one shared with it (SO_REUSEPORT).
  noreuseport
  log stderr format raw local0 info

defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  retries 3
  option redispatch

frontend cluster
  bind 127.0.0.1:@PORT@
  default_backend @BACKEND@

backend @BACKEND@
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
)";
    Replace(text, "@SOCKET@", (abstract_socket_ ? "abns@" : "") + admin_socket_);
    Replace(text, "@PORT@", std::to_string(port_));
    Replace(text, "@BACKEND@", kBackendName);
    for (size_t i = 0; i < backend_ports_.size(); ++i) {
      text += "  server " + ServerName(i) + " 127.0.0.1:" + std::to_string(backend_ports_[i]) +
              " check inter 300ms fall 2 rise 1\n";
    }
    return text;
  }

  static void Replace(std::string& text, const std::string& name, const std::string& value) {
    for (size_t at = text.find(name); at != std::string::npos;
         at = text.find(name, at + value.size())) {
      text.replace(at, name.size(), value);
    }
  }

  // Starts haproxy on port_ and waits until its admin socket answers; false (and nothing left
  // running) when it exits (the port is taken) or does not answer within 10 s.
  bool TryStart() {
    WriteTextFile(config_file(), Config());
    pid_ =
        SpawnProcess({"haproxy", "-db", "-f", config_file().string()}, dir_.path() / "haproxy.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (WaitForChild(pid_, std::chrono::milliseconds(0))) {  // it gave up (port taken?)
        pid_ = -1;
        return false;
      }
      if (Serving()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EndChild(pid_);
    pid_ = -1;
    return false;
  }

  // Whether the admin socket answers: HAProxy has then bound its frontend too (without
  // SO_REUSEPORT, see the configuration, so a port another process holds makes it exit instead).
  bool Serving() const {
    try {
      AdminCommand("show info");
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }

  TempDir dir_;
  std::vector<uint16_t> backend_ports_;
  std::string admin_socket_;  // a file, or a name in the abstract namespace
  bool abstract_socket_ = false;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ocireg::testing
