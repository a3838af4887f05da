// SPDX-License-Identifier: Apache-2.0
// GET /metrics (Prometheus text format) and the health checks GET /healthz and GET /readyz.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "fault_driver.h"
#include "ocireg/http/handler.h"
#include "ocireg/storage/forwarding_driver.h"
#include "ocireg/storage/store.h"
#include "process.h"
#include "server_thread.h"
#include "status_macros.h"
#include "test_server.h"

using ocireg::testing::PushImage;
using ocireg::testing::RunCommand;
using ocireg::testing::Sha256;
using ocireg::testing::TestServer;

namespace {

// Asks /readyz until it answers `status`, for up to 10 s (the probe is cached for a second).
bool AwaitReadiness(httplib::Client& client, int status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto ready = client.Get("/readyz");
    if (ready && ready->status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// One scrape: sample values by series ("name{labels}" exactly as written, or just "name").
using Samples = std::map<std::string, double>;

const std::regex kSampleLine(
    R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (\S+)$)");
const std::regex kCommentLine(R"(^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$)");

// The family a sample belongs to: histograms write name_bucket, name_sum and name_count.
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

// GET /metrics; checks the response and the format of every line, and parses the samples.
Samples Scrape(httplib::Client& client) {
  auto res = client.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  std::map<std::string, std::string> types;
  std::set<std::string> helps;
  std::vector<std::string> sample_names;
  Samples samples;
  std::istringstream lines(res->body);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    std::smatch m;
    if (line.starts_with("#")) {
      REQUIRE(std::regex_match(line, m, kCommentLine));
      if (m[1] == "HELP") {
        CHECK(helps.insert(m[2]).second);
      } else {
        CHECK(types.emplace(m[2], m[3]).second);
        const std::string type = m[3];
        CHECK((type == "counter" || type == "gauge" || type == "histogram"));
      }
      continue;
    }
    REQUIRE(std::regex_match(line, m, kSampleLine));
    size_t used = 0;
    const std::string value = m[4];
    double number = 0;
    if (value == "+Inf") {
      number = kInfinity;
    } else {
      number = std::stod(value, &used);
      CHECK(used == value.size());
    }
    sample_names.push_back(m[1]);
    CHECK(samples.emplace(std::string(m[1]) + std::string(m[2]), number).second);
  }
  for (const std::string& name : sample_names) {
    INFO(name);
    const std::string family = FamilyOf(name, types);
    CHECK(types.contains(family));
    CHECK(helps.contains(family));
    if (name.ends_with("_total")) CHECK(types[family] == "counter");
  }
  return samples;
}

double Value(const Samples& samples, const std::string& series) {
  auto it = samples.find(series);
  return it == samples.end() ? 0 : it->second;
}

std::string Requests(const std::string& method, const std::string& route, int code) {
  return "ocireg_http_requests_total{method=\"" + method + "\",route=\"" + route + "\",code=\"" +
         std::to_string(code) + "\"}";
}

// The logger records a request after its response went out, so a client may see the answer
// before the metrics count it: wait (bounded) until the access log holds `count` requests, which
// the logger writes after recording them.
void WaitForLogged(const TestServer& server, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.access_log().size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(server.access_log().size() >= count);
}

// Every histogram series: buckets monotone, +Inf equal to _count, and _count equal to the requests
// counted for the same method and route.
void CheckHistograms(const Samples& samples) {
  const std::string bucket_prefix = "ocireg_http_request_duration_seconds_bucket{";
  const std::regex series(R"re(^\{method="([A-Z]+)",route="([a-z]+)"\}$)re");
  int checked = 0;
  for (const auto& [key, count] : samples) {
    const std::string prefix = "ocireg_http_request_duration_seconds_count";
    if (!key.starts_with(prefix)) continue;
    const std::string labels = key.substr(prefix.size());
    std::smatch m;
    REQUIRE(std::regex_match(labels, m, series));
    INFO(labels);
    // Buckets in the order written (the map orders them by text, so collect by bound).
    std::map<double, double> buckets;
    const std::string inner = labels.substr(1, labels.size() - 2);
    for (const auto& [other, value] : samples) {
      const std::string head = bucket_prefix + inner + ",le=\"";
      if (!other.starts_with(head)) continue;
      const std::string le = other.substr(head.size(), other.size() - head.size() - 2);
      buckets[le == "+Inf" ? kInfinity : std::stod(le)] = value;
    }
    REQUIRE(buckets.size() == 15);
    double previous = 0;
    for (const auto& [bound, value] : buckets) {
      CHECK(value >= previous);
      previous = value;
    }
    CHECK(buckets.rbegin()->second == count);
    double requests = 0;
    const std::string head = "ocireg_http_requests_total{" + inner + ",code=\"";
    for (const auto& [other, value] : samples) {
      if (other.starts_with(head)) requests += value;
    }
    CHECK(requests == count);
    CHECK(samples.contains("ocireg_http_request_duration_seconds_sum" + labels));
    ++checked;
  }
  CHECK(checked > 0);
}

}  // namespace

TEST_CASE("/metrics counts requests, bytes, auth failures and stored blobs",
          "[integration][metrics]") {
  ocireg::testing::TempDir files;
  const auto htpasswd = files.path() / "htpasswd";
  RunCommand({"htpasswd", "-B", "-b", "-C", "5", "-c", htpasswd.string(), "user", "pw"},
             files.path() / "htpasswd.log");
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = htpasswd.string();
  });
  auto anonymous = server.Client();
  auto client = server.Client();
  client->set_basic_auth("user", "pw");

  const Samples before = Scrape(*anonymous);
  CHECK(Value(before, "ocireg_storage_blobs") == 0);
  CHECK(Value(before, "ocireg_storage_bytes") == 0);
  CHECK(before.contains("ocireg_uploads_in_progress"));

  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = "metrics-layer-bytes";
  const std::string digest = PushImage(*client, "team/app", "v1", layer);
  auto manifest = client->Get("/v2/team/app/manifests/v1");
  REQUIRE(manifest);
  REQUIRE(manifest->status == 200);
  auto blob = client->Get("/v2/team/app/blobs/" + Sha256(layer));
  REQUIRE(blob);
  REQUIRE(blob->status == 200);
  auto missing = client->Get("/v2/team/app/manifests/missing");
  REQUIRE(missing);
  REQUIRE(missing->status == 404);
  auto refused = anonymous->Get("/v2/team/app/tags/list");
  REQUIRE(refused);
  REQUIRE(refused->status == 401);
  // The first scrape and the seven requests above.
  WaitForLogged(server, 8);

  const Samples after = Scrape(*anonymous);
  auto delta = [&](const std::string& series) {
    return Value(after, series) - Value(before, series);
  };
  CHECK(delta(Requests("POST", "upload", 201)) == 2);
  CHECK(delta(Requests("PUT", "manifest", 201)) == 1);
  CHECK(delta(Requests("GET", "manifest", 200)) == 1);
  CHECK(delta(Requests("GET", "blob", 200)) == 1);
  CHECK(delta(Requests("GET", "manifest", 404)) == 1);
  CHECK(delta(Requests("GET", "tags", 401)) == 1);
  CHECK(delta(Requests("GET", "other", 200)) == 1);  // the first scrape
  CHECK(delta("ocireg_auth_failures_total{reason=\"unauthorized\"}") == 1);
  CHECK(delta("ocireg_auth_failures_total{reason=\"denied\"}") == 0);
  CHECK(delta("ocireg_auth_failures_total{reason=\"unavailable\"}") == 0);

  CHECK(delta("ocireg_http_request_bytes_total{route=\"upload\"}") == config.size() + layer.size());
  CHECK(delta("ocireg_http_request_bytes_total{route=\"manifest\"}") == manifest->body.size());
  CHECK(delta("ocireg_http_response_bytes_total{route=\"blob\"}") == layer.size());
  CHECK(delta("ocireg_http_response_bytes_total{route=\"manifest\"}") ==
        manifest->body.size() + missing->body.size());
  CHECK(delta("ocireg_http_response_bytes_total{route=\"tags\"}") == refused->body.size());

  CHECK(Value(after, "ocireg_storage_blobs") == 3);  // config, layer, manifest
  CHECK(Value(after, "ocireg_storage_bytes") ==
        config.size() + layer.size() + manifest->body.size());
  CHECK(Value(after, "ocireg_uploads_in_progress") == 0);
  CHECK(Sha256(manifest->body) == digest);
  CheckHistograms(after);
}

TEST_CASE("/metrics names the replica that answers", "[integration][metrics]") {
  SECTION("the configured node_name") {
    TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
      config.cluster.node_name = "replica-7";
    });
    auto client = server.Client();
    const Samples samples = Scrape(*client);
    CHECK(Value(samples, "ocireg_node_info{node=\"replica-7\"}") == 1);
    // One series only: the replica's own.
    size_t series = 0;
    for (const auto& [name, value] : samples) series += name.starts_with("ocireg_node_info");
    CHECK(series == 1);
  }
  SECTION("the host name when node_name is empty") {
    TestServer server;
    REQUIRE(server.config().cluster.node_name.empty());
    char host[256] = {};
    REQUIRE(gethostname(host, sizeof host - 1) == 0);
    auto client = server.Client();
    CHECK(Value(Scrape(*client), "ocireg_node_info{node=\"" + std::string(host) + "\"}") == 1);
  }
}

TEST_CASE("/metrics shows upload sessions while they are open", "[integration][metrics]") {
  TestServer server;
  auto client = server.Client();
  CHECK(Value(Scrape(*client), "ocireg_uploads_in_progress") == 0);

  auto started = client->Post("/v2/team/app/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(started);
  REQUIRE(started->status == 202);
  const std::string location = started->get_header_value("Location");
  CHECK(Value(Scrape(*client), "ocireg_uploads_in_progress") == 1);

  const std::string bytes = "chunked upload";
  auto committed =
      client->Put(location + "?digest=" + Sha256(bytes), bytes, "application/octet-stream");
  REQUIRE(committed);
  REQUIRE(committed->status == 201);
  CHECK(Value(Scrape(*client), "ocireg_uploads_in_progress") == 0);

  started = client->Post("/v2/team/app/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(started);
  REQUIRE(started->status == 202);
  CHECK(Value(Scrape(*client), "ocireg_uploads_in_progress") == 1);
  auto cancelled = client->Delete(started->get_header_value("Location"));
  REQUIRE(cancelled);
  REQUIRE(cancelled->status == 204);
  CHECK(Value(Scrape(*client), "ocireg_uploads_in_progress") == 0);
}

TEST_CASE("/metrics counts garbage collections and the bytes they reclaim",
          "[integration][metrics]") {
  // Collect every second; a grace period keeps the blobs of a push in progress (the push takes
  // milliseconds, and far less than 5 s even under sanitizers on a loaded machine) yet lets the
  // test see them collected soon after.
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.storage.gc_interval = std::chrono::seconds(1);
    config.storage.gc_grace_period = std::chrono::seconds(5);
  });
  auto client = server.Client();
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = "layer to collect";
  const std::string digest = PushImage(*client, "team/app", "v1", layer);
  auto manifest = client->Get("/v2/team/app/manifests/v1");
  REQUIRE(manifest);
  REQUIRE(manifest->status == 200);
  const double stored = config.size() + layer.size() + manifest->body.size();
  WaitForLogged(server, 4);  // the push's three requests and the GET
  {
    const Samples pushed = Scrape(*client);
    CHECK(Value(pushed, "ocireg_storage_blobs") == 3);
    CHECK(Value(pushed, "ocireg_storage_bytes") == stored);
  }

  auto deleted = client->Delete("/v2/team/app/manifests/" + digest);
  REQUIRE(deleted);
  REQUIRE(deleted->status == 202);
  // Bounded wait for the collector to take everything.
  Samples collected;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    collected = Scrape(*client);
  } while (Value(collected, "ocireg_storage_blobs") != 0 &&
           std::chrono::steady_clock::now() < deadline);
  CHECK(Value(collected, "ocireg_storage_blobs") == 0);
  CHECK(Value(collected, "ocireg_storage_bytes") == 0);
  CHECK(Value(collected, "ocireg_gc_runs_total{result=\"success\"}") >= 1);
  CHECK(Value(collected, "ocireg_gc_runs_total{result=\"failure\"}") == 0);
  CHECK(Value(collected, "ocireg_gc_bytes_reclaimed_total") == stored);
}

TEST_CASE("/metrics can be switched off", "[integration][metrics]") {
  TestServer server(
      [](ocireg::Config& config, ocireg::ServerHooks&) { config.metrics.enabled = false; });
  auto res = server.Client()->Get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 404);
}

namespace {

// A RegistryHandler over `store` on an httplib server of its own on 127.0.0.1, stopped when it
// goes: for stores a test builds itself.
class HandlerOnPort {
 public:
  explicit HandlerOnPort(ocireg::Store& store) : handler_(store, config_) {
    handler_.Install(http_);
    running_.emplace(http_);
  }
  int port() const { return running_->port(); }

 private:
  const ocireg::Config config_ = ocireg::testing::TestConfig("unused");
  ocireg::RegistryHandler handler_;
  httplib::Server http_;
  std::optional<ocireg::testing::ServerThread> running_;  // after http_: stops before it goes
};

// A driver that counts its StatFile calls (a blob HEAD makes one) and reports them as a driver
// counter, the way the S3 driver reports its requests.
class StatCountingDriver final : public ocireg::ForwardingDriver {
 public:
  using ForwardingDriver::ForwardingDriver;
  ocireg::Result<ocireg::FileInfo> StatFile(std::string_view path) override {
    stats_.fetch_add(1);
    return ForwardingDriver::StatFile(path);
  }
  std::vector<ocireg::DriverCounter> Counters() const override {
    return {{"ocireg_test_driver_calls_total",
             "Driver calls, by call.",
             {{{{"call", "StatFile"}}, static_cast<double>(stats_.load())}}}};
  }

 private:
  std::atomic<uint64_t> stats_{0};
};

}  // namespace

TEST_CASE("/metrics shows the storage driver's own counters", "[integration][metrics]") {
  auto store =
      ocireg::OpenStore(std::make_unique<StatCountingDriver>(ocireg::NewMemoryDriver()), {});
  REQUIRE_OK(store);
  HandlerOnPort served(**store);
  httplib::Client client("127.0.0.1", served.port());

  const std::string series = "ocireg_test_driver_calls_total{call=\"StatFile\"}";
  const Samples before = Scrape(client);  // checks the HELP and TYPE lines of every family
  REQUIRE(before.contains(series));
  auto head = client.Head(("/v2/team/app/blobs/" + Sha256("absent")).c_str());
  REQUIRE(head);
  CHECK(head->status == 404);
  const Samples after = Scrape(client);
  CHECK(Value(after, series) > Value(before, series));
}

// [fs-root]: it breaks the file system driver's temp directory in the storage root, so it runs on
// the file system only (integration-s3 leaves it out).
TEST_CASE("/healthz answers while serving; /readyz only while storage takes writes",
          "[integration][metrics][health][fs-root]") {
  TestServer server;
  auto client = server.Client();
  auto live = client->Get("/healthz");
  REQUIRE(live);
  CHECK(live->status == 200);
  CHECK(live->body == "ok\n");
  auto ready = client->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  // The file-system driver writes every file through its temp directory first. A file in its
  // place makes every write fail, also for root (whom a read-only mode would not stop).
  const auto temp = server.dir() / "data" / ".tmp";
  std::filesystem::remove_all(temp);
  ocireg::testing::WriteTextFile(temp, "not a directory");
  // The probe's result is reused for a second: the change shows once that has passed.
  CHECK(AwaitReadiness(*client, 503));
  live = client->Get("/healthz");
  REQUIRE(live);
  CHECK(live->status == 200);

  // The driver makes its temp directory again when it is missing.
  std::filesystem::remove(temp);
  CHECK(AwaitReadiness(*client, 200));
}

TEST_CASE("/readyz probes storage at most once a second and still sees it fail",
          "[integration][metrics][health]") {
  // The handler over a store whose driver counts writes: each probe writes a file and removes it.
  auto inner = ocireg::NewMemoryDriver();
  auto owned = std::make_unique<ocireg::testing::FaultInjectingDriver>(*inner);
  ocireg::testing::FaultInjectingDriver& driver = *owned;
  auto store = ocireg::OpenStore(std::move(owned), {});
  REQUIRE_OK(store);
  HandlerOnPort served(**store);
  httplib::Client client("127.0.0.1", served.port());

  const uint64_t writes_before = driver.operations();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    auto ready = client.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 200);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const uint64_t probes = (driver.operations() - writes_before) / 2;
  INFO("probes: " << probes);
  CHECK(probes >= 1);
  // One probe per second begun; the requests themselves add none.
  CHECK(probes <= 1 + static_cast<uint64_t>(
                          std::chrono::duration_cast<std::chrono::seconds>(elapsed).count()));

  driver.set_budget(0);  // every storage call fails from now on
  CHECK(AwaitReadiness(client, 503));
  driver.set_budget(ocireg::testing::FaultInjectingDriver::kUnlimited);
  CHECK(AwaitReadiness(client, 200));
}
