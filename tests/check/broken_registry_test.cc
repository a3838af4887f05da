// SPDX-License-Identifier: Apache-2.0
// A registry that is wrong in one place: a small proxy in front of ocireg that tampers with one
// endpoint's answers. The checks must fail exactly there, saying what was sent and what came back.
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "catch.h"
#include "ocireg/check.h"
#include "server_thread.h"
#include "status_macros.h"
#include "test_server.h"

namespace ocireg::testing {
namespace {

// Forwards every request to `upstream` and lets `tamper` change the answer before it goes back.
class TamperingProxy {
 public:
  using Tamper = std::function<void(const httplib::Request&, httplib::Response&)>;

  TamperingProxy(uint16_t upstream, Tamper tamper)
      : upstream_(upstream), tamper_(std::move(tamper)) {
    auto forward = [this](const httplib::Request& req, httplib::Response& res) {
      Forward(req, res);
    };
    server_.Get(".*", forward);  // HEAD comes here too
    server_.Post(".*", forward);
    server_.Put(".*", forward);
    server_.Patch(".*", forward);
    server_.Delete(".*", forward);
    running_.emplace(server_);
  }
  TamperingProxy(const TamperingProxy&) = delete;
  TamperingProxy& operator=(const TamperingProxy&) = delete;

  uint16_t port() const { return running_->port(); }

 private:
  // Headers httplib adds or that belong to one hop only; Content-Type is passed on separately,
  // and a request's Range is left to the proxy's own server.
  static bool HopHeader(const std::string& name, bool request) {
    static const std::set<std::string> kSkip = {
        "host",        "content-length", "connection", "transfer-encoding", "accept-encoding",
        "remote_addr", "remote_port",    "local_addr", "local_port",        "content-type"};
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    return kSkip.count(lower) > 0 || (request && lower == "range");
  }

  void Forward(const httplib::Request& req, httplib::Response& res) {
    httplib::Client client("127.0.0.1", upstream_);
    client.set_url_encode(false);
    client.set_decompress(false);
    httplib::Request up;
    // HEAD is forwarded as GET: the proxy's server then sends the right Content-Length alone.
    up.method = req.method == "HEAD" ? "GET" : req.method;
    up.path = req.target;
    for (const auto& [name, value] : req.headers) {
      if (!HopHeader(name, true)) up.headers.emplace(name, value);
    }
    if (req.has_header("Content-Type")) {
      up.headers.emplace("Content-Type", req.get_header_value("Content-Type"));
    }
    up.body = req.body;
    auto result = client.send(up);
    if (!result) {
      res.status = 502;
      return;
    }
    // A 200 for a ranged request: the proxy's server cuts the range itself.
    if (!(result->status == 200 && !req.ranges.empty())) res.status = result->status;
    for (const auto& [name, value] : result->headers) {
      if (!HopHeader(name, false)) res.headers.emplace(name, value);
    }
    res.set_content(result->body, result->get_header_value("Content-Type"));
    tamper_(req, res);
  }

  uint16_t upstream_;
  Tamper tamper_;
  httplib::Server server_;
  std::optional<testing::ServerThread> running_;  // after server_: stops serving before it goes
};

// Reverses the tag list of a full (unpaginated) tags/list answer.
void ReverseTags(const httplib::Request& req, httplib::Response& res) {
  if (!req.path.ends_with("/tags/list") || !req.params.empty() || res.status != 200) return;
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  if (doc.HasParseError() || !doc.HasMember("tags") || !doc["tags"].IsArray()) return;
  auto tags = doc["tags"].GetArray();
  for (rapidjson::SizeType i = 0, j = tags.Size(); i + 1 < j; ++i, --j) tags[i].Swap(tags[j - 1]);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  res.set_content(buffer.GetString(), "application/json");
}

// Drops Docker-Content-Digest from HEAD answers for manifests.
void DropManifestDigest(const httplib::Request& req, httplib::Response& res) {
  if (req.method != "HEAD" || req.path.find("/manifests/") == std::string::npos) return;
  res.headers.erase("Docker-Content-Digest");
}

// Answers every PATCH with 500.
void FailPatches(const httplib::Request& req, httplib::Response& res) {
  if (req.method == "PATCH") {
    res.status = 500;
    res.set_content("{\"errors\":[{\"code\":\"UNKNOWN\"}]}", "application/json");
  }
}

std::vector<const CheckResult*> Failures(const CheckReport& report) {
  std::vector<const CheckResult*> failed;
  for (const auto& r : report.results) {
    if (r.status == CheckStatus::kFail) failed.push_back(&r);
  }
  return failed;
}

TEST_CASE("the proxy alone is transparent", "[check][broken]") {
  TestServer server;
  TamperingProxy proxy(server.port(), [](const httplib::Request&, httplib::Response&) {});
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = proxy.port();
  auto report = RunChecks(options);
  REQUIRE_OK(report);
  for (const auto& r : report->results) {
    INFO(r.id << ": " << r.reason);
    CHECK(r.status == CheckStatus::kPass);
  }
}

TEST_CASE("an unsorted tag list fails the tag list check, naming request and response",
          "[check][broken]") {
  TestServer server;
  TamperingProxy proxy(server.port(), ReverseTags);
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = proxy.port();
  options.categories = {CheckCategory::kDiscovery};
  auto report = RunChecks(options);
  REQUIRE_OK(report);

  const auto failed = Failures(*report);
  REQUIRE(failed.size() == 1);
  const CheckResult& r = *failed[0];
  INFO(r.reason);
  CHECK(r.id == "discovery/end-8a the tag list is in lexical or ASCII order");
  CHECK(r.reason.starts_with("tags out of order: GET /v2/" + report->repository +
                             "/tags/list -> 200"));
  CHECK(r.reason.find("-4\",\"disc-") != std::string::npos);  // the body, as it came back
  CHECK(r.requirement.find("\"ASCIIbetical\"") != std::string::npos);
  // Everything else passes: the pages, read from the registry in order, still agree.
  for (const auto& other : report->results) {
    if (&other == &r) continue;
    INFO(other.id << ": " << other.reason);
    CHECK(other.status == CheckStatus::kPass);
  }
  CHECK(RenderCheckJUnit(*report).find("failures=\"1\"") != std::string::npos);
}

TEST_CASE("a HEAD without Docker-Content-Digest fails both manifest HEAD checks",
          "[check][broken]") {
  TestServer server;
  TamperingProxy proxy(server.port(), DropManifestDigest);
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = proxy.port();
  options.categories = {CheckCategory::kPull};
  auto report = RunChecks(options);
  REQUIRE_OK(report);
  std::set<std::string> failed;
  for (const auto* r : Failures(*report)) {
    failed.insert(r->id);
    INFO(r->reason);
    CHECK(r->reason.starts_with("Docker-Content-Digest is not sha256:"));
    CHECK(r->reason.find(": HEAD /v2/" + report->repository + "/manifests/") != std::string::npos);
    CHECK(r->reason.find("-> 200 (Content-Type: application/vnd.oci.image.manifest.v1+json") !=
          std::string::npos);
    CHECK(r->requirement.find("`Docker-Content-Digest`") != std::string::npos);
  }
  CHECK(failed == std::set<std::string>{"pull/end-3 HEAD manifest by tag",
                                        "pull/end-3 HEAD manifest by digest"});
}

TEST_CASE("checks that need a failed check are skipped, naming it", "[check][broken]") {
  TestServer server;
  TamperingProxy proxy(server.port(), FailPatches);
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = proxy.port();
  options.categories = {CheckCategory::kPush};
  auto report = RunChecks(options);
  REQUIRE_OK(report);
  auto find = [&](const std::string& id) -> const CheckResult& {
    for (const auto& r : report->results) {
      if (r.id == id) return r;
    }
    FAIL("no check " << id);
    return report->results.front();
  };
  const CheckResult& patch = find("push/end-5 PATCH the first chunk");
  CHECK(patch.status == CheckStatus::kFail);
  CHECK(patch.reason.starts_with("expected 202, got 500: PATCH /v2/"));
  for (const char* id : {"push/end-13 GET the upload status", "push/end-5 PATCH the next chunk"}) {
    const CheckResult& skipped = find(id);
    CHECK(skipped.status == CheckStatus::kSkip);
    CHECK(skipped.reason == "needs push/end-5 PATCH the first chunk, which did not pass");
    CHECK(skipped.exchanges.empty());
  }
  // "PUT the last chunk" needs "PATCH the next chunk", which was skipped.
  CHECK(find("push/end-6 PUT the last chunk to close the session").reason ==
        "needs push/end-5 PATCH the next chunk, which did not pass");
  CHECK(find("push/end-6 PUT a blob monolithically after POST").status == CheckStatus::kPass);
  CHECK_FALSE(report->AllPassed());
}

}  // namespace
}  // namespace ocireg::testing
