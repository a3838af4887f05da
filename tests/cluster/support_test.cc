// SPDX-License-Identifier: Apache-2.0
// The cluster tests' own helpers do what the cluster tests rely on: a private Redis that keeps
// acknowledged data across a restart and can be stopped and paused, and an HAProxy that spreads
// requests over its backends and stops sending them to one whose /readyz fails.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.h"
#include "haproxy.h"
#include "process.h"
#include "redis.h"
#include "server_thread.h"
#include "temp_dir.h"

namespace ocireg::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("RedisServer answers, keeps acknowledged data across a restart, stops and starts",
          "[redis]") {
  RedisServer redis;
  REQUIRE(redis.url() == "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");
  REQUIRE(redis.Command({"PING"}) == "PONG");
  REQUIRE(redis.Answers());

  REQUIRE(redis.Command({"SET", "cluster:key", "value"}) == "OK");
  REQUIRE(redis.Command({"RPUSH", "cluster:list", "a", "b"}) == "2");
  REQUIRE(redis.Command({"LRANGE", "cluster:list", "0", "-1"}) == "a\nb");
  REQUIRE(redis.Command({"GET", "cluster:missing"}).empty());

  const uint16_t port = redis.port();
  redis.Restart();
  REQUIRE(redis.port() == port);
  REQUIRE(redis.Command({"GET", "cluster:key"}) == "value");
  REQUIRE(redis.Command({"LRANGE", "cluster:list", "0", "-1"}) == "a\nb");

  redis.Stop();
  REQUIRE_FALSE(redis.running());
  REQUIRE_FALSE(redis.Answers(milliseconds(200)));
  REQUIRE_THROWS(redis.Command({"PING"}));

  redis.Start();
  REQUIRE(redis.running());
  REQUIRE(redis.Command({"GET", "cluster:key"}) == "value");

  redis.FlushAll();
  REQUIRE(redis.Command({"GET", "cluster:key"}).empty());
  REQUIRE(redis.Command({"DBSIZE"}) == "0");
}

TEST_CASE("A paused RedisServer answers nothing until it is resumed", "[redis]") {
  RedisServer redis;
  REQUIRE(redis.Command({"SET", "cluster:key", "value"}) == "OK");

  redis.Pause();
  const auto paused_at = std::chrono::steady_clock::now();
  REQUIRE_FALSE(redis.Answers(milliseconds(300)));
  REQUIRE(std::chrono::steady_clock::now() - paused_at >= milliseconds(300));

  redis.Resume();
  REQUIRE(redis.Answers());
  REQUIRE(redis.Command({"GET", "cluster:key"}) == "value");

  // Stopping a paused server does not wait for the 10 s SIGKILL fallback.
  redis.Pause();
  const auto stopping_at = std::chrono::steady_clock::now();
  redis.Stop();
  REQUIRE(std::chrono::steady_clock::now() - stopping_at < seconds(5));
  REQUIRE_FALSE(redis.Answers(milliseconds(200)));
}

TEST_CASE("A RedisServer with a password refuses clients without it", "[redis]") {
  RedisServer redis("cluster-secret");
  REQUIRE(redis.password() == "cluster-secret");
  REQUIRE(redis.Command({"PING"}) == "PONG");  // Command() authenticates

  TempDir dir;
  REQUIRE(RunStatus({"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(redis.port()), "PING"},
                    dir.path() / "cli.log") == 0);
  REQUIRE(ReadTextFile(dir.path() / "cli.log").rfind("NOAUTH", 0) == 0);

  redis.Restart();
  REQUIRE(redis.Command({"PING"}) == "PONG");
}

// A tiny HTTP backend on its own free port: GET /readyz answers 200 while ready (SetReady), else
// 503; GET /who answers its name and counts the request.
class Backend {
 public:
  explicit Backend(std::string name) : name_(std::move(name)) {
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ready = ready_.load();
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "ready" : "not ready", "text/plain");
    });
    server_.Get("/who", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content(name_, "text/plain");
    });
    // Reads the body as it arrives and answers how many bytes it had.
    server_.Post("/upload", [](const httplib::Request&, httplib::Response& res,
                               const httplib::ContentReader& content_reader) {
      size_t received = 0;
      const bool complete = content_reader([&](const char*, size_t length) {
        received += length;
        return true;
      });
      res.status = complete ? 200 : 400;
      res.set_content(std::to_string(received), "text/plain");
    });
    running_.emplace(server_);
  }

  uint16_t port() const { return running_->port(); }
  void SetReady(bool ready) { ready_ = ready; }
  int hits() const { return hits_.load(); }

 private:
  std::string name_;
  std::atomic<bool> ready_{true};
  std::atomic<int> hits_{0};
  httplib::Server server_;
  std::optional<ServerThread> running_;  // after the server: stopped before it goes
};

// GET /who through the balancer `count` times on one keep-alive connection; how many answers
// each backend gave.
std::map<std::string, int> AskWho(httplib::Client& client, int count) {
  std::map<std::string, int> answers;
  for (int i = 0; i < count; ++i) {
    const httplib::Result result = client.Get("/who");
    REQUIRE(result);
    REQUIRE(result->status == 200);
    ++answers[result->body];
  }
  return answers;
}

TEST_CASE("HaproxyBalancer spreads requests over its backends and drops one that is not ready",
          "[haproxy]") {
  Backend a("a");
  Backend b("b");
  HaproxyBalancer balancer({a.port(), b.port()});
  REQUIRE(balancer.url() == "127.0.0.1:" + std::to_string(balancer.port()));
  REQUIRE(balancer.WaitUntilUp(2, seconds(10)));
  REQUIRE(balancer.ServerStates() == std::vector<std::string>{"UP", "UP"});

  httplib::Client client("127.0.0.1", balancer.port());
  client.set_keep_alive(true);
  client.set_read_timeout(seconds(10));

  SECTION("round robin, request by request, also on one connection") {
    const std::map<std::string, int> answers = AskWho(client, 20);
    CHECK(answers.size() == 2);
    CHECK(answers.count("a") == 1);
    CHECK(answers.count("b") == 1);
    // Round robin with equal weights alternates strictly.
    CHECK(answers == std::map<std::string, int>{{"a", 10}, {"b", 10}});
    CHECK(a.hits() == 10);
    CHECK(b.hits() == 10);
  }

  SECTION("a backend whose /readyz fails gets no requests within a couple of seconds") {
    b.SetReady(false);
    const auto failing_since = std::chrono::steady_clock::now();
    std::vector<std::string> states;
    while (std::chrono::steady_clock::now() - failing_since < seconds(5)) {
      states = balancer.ServerStates();
      if (states[1] == "DOWN") break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    const auto took = std::chrono::steady_clock::now() - failing_since;
    INFO(balancer.log());
    REQUIRE(states == std::vector<std::string>{"UP", "DOWN"});
    // Two failed checks 300 ms apart, plus up to one interval until the first.
    CHECK(took < seconds(2));

    const int b_hits = b.hits();
    REQUIRE(AskWho(client, 10) == std::map<std::string, int>{{"a", 10}});
    REQUIRE(b.hits() == b_hits);

    // One good check brings it back.
    b.SetReady(true);
    REQUIRE(balancer.WaitUntilUp(2, seconds(5)));
    const std::map<std::string, int> answers = AskWho(client, 10);
    REQUIRE(answers.count("b") == 1);
    CHECK(answers.at("b") >= 4);
  }

  SECTION("a large request body goes through whole") {
    constexpr size_t kSize = size_t{256} << 20;
    const std::string chunk(size_t{1} << 20, 'x');
    const httplib::Result result = client.Post(
        "/upload", kSize,
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
          sink.write(chunk.data(), std::min({length, chunk.size(), kSize - offset}));
          return true;
        },
        "application/octet-stream");
    REQUIRE(result);
    REQUIRE(result->status == 200);
    REQUIRE(result->body == std::to_string(kSize));
  }

  SECTION("a server disabled on the admin socket is in maintenance") {
    balancer.AdminCommand("disable server " + std::string(HaproxyBalancer::kBackendName) + "/" +
                          HaproxyBalancer::ServerName(0));
    REQUIRE(balancer.ServerStates() == std::vector<std::string>{"MAINT", "UP"});
    REQUIRE(AskWho(client, 4) == std::map<std::string, int>{{"b", 4}});
  }
}

}  // namespace
}  // namespace ocireg::testing
