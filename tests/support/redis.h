// SPDX-License-Identifier: Apache-2.0
// RedisServer: a private Redis (Debian's redis-server) for one test, on 127.0.0.1, for tests of
// what the cluster coordination does while its Redis restarts, goes away or hangs.
//
//   ocireg::testing::RedisServer redis;             // or RedisServer redis("secret") for AUTH
//   config.cluster.redis_url = redis.url();         // "redis://127.0.0.1:PORT/0"
//   config.cluster.redis_password = redis.password();
//   REQUIRE(redis.Command({"GET", "key"}) == "value");  // what redis-cli prints, for assertions
//   redis.Restart();                  // SIGTERM, then the same port and data again
//   redis.Stop(); ...; redis.Start(); // connections refused in between
//   redis.Pause(); ...; redis.Resume();  // connections accepted but nothing answered in between
//
// The server runs in a temporary directory of its own (its data, and its output in redis.log)
// with every setting on its command line, none from /etc/redis: no RDB snapshots, and an
// append-only file written and fsynced before each write is acknowledged, so whatever Redis
// acknowledged is still there after Restart() or Stop() and Start(). A system Redis on the usual
// port is neither used nor disturbed.
//
// It is a child process (foreground, --daemonize no) ended by its PID: Stop() and the destructor
// send SIGTERM (after SIGCONT when paused), wait up to 10 s and then SIGKILL, and reap it. Should
// the test process die first, the kernel kills it; it also dies with the thread that started it
// (see SpawnProcess), so construct, Start() and Restart() it on a thread that outlives its use.
// The constructor, Start() and Restart() throw std::runtime_error, with the server's log, when
// it does not come up within 10 s.
//
// Not thread-safe, except Command(), Answers() and the accessors, which may run on any thread
// while no other member function runs.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "loopback.h"
#include "process.h"
#include "temp_dir.h"

namespace ocireg::testing {

class RedisServer {
 public:
  // Starts a server on a free port; with a non-empty `password`, clients must AUTH with it.
  explicit RedisServer(std::string password = "") : password_(std::move(password)) {
    // A port picked free may be taken again before redis-server binds it: then try another.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = FreeLoopbackPort();
      if (TryStart()) return;
    }
    throw std::runtime_error("redis-server did not start: " + log());
  }

  ~RedisServer() { Stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // "redis://127.0.0.1:PORT/0"; the password, if any, is not in it (see password()).
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  uint16_t port() const { return port_; }
  const std::string& password() const { return password_; }
  bool running() const { return pid_ > 0; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // What the server wrote, for failure messages.
  std::string log() const { return ReadTextFile(dir_.path() / "redis.log"); }

  // Ends the server (its port then refuses connections); the data stays in its directory.
  // Idempotent.
  void Stop() {
    if (pid_ <= 0) return;
    if (paused_) kill(pid_, SIGCONT);  // a stopped process would not act on SIGTERM
    EndChild(pid_);
    pid_ = -1;
    paused_ = false;
  }

  // Starts the server again on the same port with the same data; returns once it answers. Does
  // nothing when it runs. Throws when it does not come up (e.g. another process took the port).
  void Start() {
    if (pid_ > 0) return;
    if (!TryStart()) {
      throw std::runtime_error("redis-server did not start again on port " + std::to_string(port_) +
                               ": " + log());
    }
  }

  // Stop() and Start(): a clean shutdown (the append-only file is fsynced), then the same data.
  void Restart() {
    Stop();
    Start();
  }

  // Stops the running server with SIGSTOP: connections are still accepted by the kernel but
  // nothing answers, as with a Redis too slow for any timeout. Returns once it is stopped.
  void Pause() {
    if (pid_ <= 0) throw std::runtime_error("Pause: redis-server is not running");
    if (paused_) return;
    kill(pid_, SIGSTOP);
    paused_ = true;
    // The signal takes effect asynchronously: wait until the process is in state T (stopped).
    const std::filesystem::path stat = "/proc/" + std::to_string(pid_) + "/stat";
    for (int i = 0; i < 500; ++i) {
      const std::string text = ReadTextFile(stat);
      const size_t name_end = text.rfind(')');  // the state follows "(comm) "
      if (name_end != std::string::npos && name_end + 2 < text.size() &&
          text[name_end + 2] == 'T') {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    throw std::runtime_error("redis-server did not stop on SIGSTOP");
  }

  // Lets a paused server go on (SIGCONT).
  void Resume() {
    if (pid_ <= 0 || !paused_) return;
    kill(pid_, SIGCONT);
    paused_ = false;
  }

  // Whether the server answers PING (after AUTH when it has a password) within `timeout`.
  // False while it is stopped, paused or still loading its data.
  bool Answers(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) const {
    std::string request;
    if (!password_.empty()) request = Resp({"AUTH", password_});
    request += Resp({"PING"});
    const std::string answer = ExchangeWithLoopback(port_, request, "+PONG\r\n", timeout);
    return answer == (password_.empty() ? "+PONG\r\n" : "+OK\r\n+PONG\r\n");
  }

  // Runs `redis-cli -h 127.0.0.1 -p PORT [-a PASSWORD] ARGS...` and returns what it printed,
  // without the last newline. Its output is not a terminal, so it prints plain values: "OK",
  // "PONG", a string as is, "" for nil, an integer as digits, one line per element of an array,
  // and an error reply as its text ("ERR ...", "WRONGTYPE ..."). Throws std::runtime_error when
  // redis-cli fails (the server is stopped: connection refused) or has not finished after 10 s
  // (the server is paused; it is then killed).
  std::string Command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_)};
    if (!password_.empty()) {
      argv.insert(argv.end(), {"-a", password_, "--no-auth-warning"});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    // One output file per call, so that calls on several threads do not mix their output.
    const std::filesystem::path output =
        dir_.path() / ("redis-cli-" + std::to_string(++commands_) + ".out");
    const pid_t pid = SpawnProcess(argv, output);
    const std::optional<int> status = WaitForChild(pid, std::chrono::seconds(10));
    if (!status) EndChild(pid);
    std::string text = ReadTextFile(output);
    std::error_code ignored;
    std::filesystem::remove(output, ignored);
    if (!status) throw std::runtime_error("redis-cli did not finish within 10 s");
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      throw std::runtime_error("redis-cli failed: " + text);
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  // Removes every key of every database.
  void FlushAll() const {
    const std::string answer = Command({"FLUSHALL"});
    if (answer != "OK") throw std::runtime_error("FLUSHALL answered: " + answer);
  }

 private:
  // `args` as a RESP array of bulk strings, the form of a command on the wire.
  static std::string Resp(const std::vector<std::string>& args) {
    std::string text = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& arg : args) {
      text += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    }
    return text;
  }

  // Starts redis-server on port_ and waits until it answers; false (and nothing left running)
  // when it exits (the port is taken) or does not answer within 10 s.
  bool TryStart() {
    std::vector<std::string> argv = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_.path().string(),
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     "always",
                                     "--daemonize",
                                     "no",
                                     "--protected-mode",
                                     "no"};
    if (!password_.empty()) argv.insert(argv.end(), {"--requirepass", password_});
    pid_ = SpawnProcess(argv, dir_.path() / "redis.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (WaitForChild(pid_, std::chrono::milliseconds(0))) {  // it gave up (port taken?)
        pid_ = -1;
        return false;
      }
      if (Answers(std::chrono::milliseconds(200))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Stop();
    return false;
  }

  TempDir dir_;
  std::string password_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
  mutable std::atomic<unsigned> commands_{0};
};

}  // namespace ocireg::testing
