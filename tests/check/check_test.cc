// SPDX-License-Identifier: Apache-2.0
// The conformance checks against ocireg's own in-process server: every check passes, progress is
// reported in order, and everything pushed is cleaned up.
#include "ocireg/check.h"

#include <set>
#include <string>
#include <vector>

#include "catch.h"
#include "status_macros.h"
#include "test_server.h"

namespace ocireg::testing {
namespace {

CheckOptions OptionsFor(const TestServer& server) {
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.timeout = std::chrono::seconds(20);
  return options;
}

TEST_CASE("every check passes against ocireg", "[check]") {
  TestServer server;
  std::vector<CheckProgress> events;
  std::vector<std::string> started;
  auto report = RunChecks(OptionsFor(server), [&](const CheckProgress& p) {
    events.push_back(p);
    if (!p.finished) started.push_back(p.result->id);
  });
  REQUIRE_OK(report);

  const auto listed = ListChecks(CheckOptions().categories);
  REQUIRE(report->results.size() == listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    const CheckResult& r = report->results[i];
    INFO(r.id << ": " << r.reason);
    CHECK(r.id == listed[i].id);
    CHECK(r.status == CheckStatus::kPass);
    CHECK_FALSE(r.exchanges.empty());
  }
  CHECK(report->AllPassed());
  for (const auto category : {CheckCategory::kPull, CheckCategory::kPush, CheckCategory::kDiscovery,
                              CheckCategory::kManagement}) {
    CHECK(report->Count(category, CheckLevel::kV1_1).passed > 3);
  }
  // The main-branch and extension checks are there, and marked.
  CHECK(report->Count(CheckCategory::kPush, CheckLevel::kMainBranch).passed == 3);
  CHECK(report->Count(CheckCategory::kDiscovery, CheckLevel::kExtension).passed == 2);

  // Two events per check, in order: started, then finished with the same result.
  REQUIRE(events.size() == 2 * listed.size());
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].index == i / 2);
    CHECK(events[i].total == listed.size());
    CHECK(events[i].finished == (i % 2 == 1));
  }
  CHECK(started.size() == listed.size());

  // Everything pushed was removed again.
  CHECK(report->cleanup.size() > 10);
  for (const auto& c : report->cleanup) {
    INFO(c.what << ": " << c.detail);
    CHECK(c.ok);
  }
  CHECK(report->repository.starts_with("ocireg-check/"));
  auto client = server.Client();
  auto tags = client->Get("/v2/" + report->repository + "/tags/list");
  REQUIRE(tags);
  CHECK(tags->body.find("\"tags\":[]") != std::string::npos);
}

TEST_CASE("one category runs alone, in a repository of the caller's", "[check]") {
  TestServer server;
  CheckOptions options = OptionsFor(server);
  options.categories = {CheckCategory::kManagement};
  options.repository = "mine/checked";
  auto report = RunChecks(options);
  REQUIRE_OK(report);
  CHECK(report->repository == "mine/checked");
  CHECK(report->crossmount_repository == "mine/checked-mount");
  REQUIRE_FALSE(report->results.empty());
  for (const auto& r : report->results) {
    INFO(r.id << ": " << r.reason);
    CHECK(r.category == CheckCategory::kManagement);
    CHECK(r.status == CheckStatus::kPass);
    CHECK(r.id.starts_with("management/"));
  }
}

TEST_CASE("two runs against one registry do not collide", "[check]") {
  TestServer server;
  CheckOptions options = OptionsFor(server);
  options.categories = {CheckCategory::kDiscovery};
  options.repository = "shared/repo";
  auto first = RunChecks(options);
  auto second = RunChecks(options);
  REQUIRE_OK(first);
  REQUIRE_OK(second);
  CHECK(first->AllPassed());
  CHECK(second->AllPassed());
}

TEST_CASE("an unreachable registry fails every check with the reason", "[check]") {
  uint16_t port = 0;
  {
    TestServer stopped;  // a port that was just free and is closed again
    port = stopped.port();
  }
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.categories = {CheckCategory::kPull};
  auto report = RunChecks(options);
  REQUIRE_OK(report);
  REQUIRE_FALSE(report->results.empty());
  for (const auto& r : report->results) {
    CHECK(r.status == CheckStatus::kFail);
    CHECK(r.reason.find("cannot be reached: GET /v2/ -> no response") != std::string::npos);
  }
  CHECK_FALSE(report->AllPassed());
  CHECK(report->cleanup.empty());
}

TEST_CASE("bad options are refused before anything is sent", "[check]") {
  CheckOptions options;
  auto no_host = RunChecks(options);
  REQUIRE_FALSE(no_host.ok());
  CHECK(no_host.status().code() == ErrorCode::kInvalidArgument);

  options.host = "127.0.0.1";
  options.port = 9;
  options.repository = "Not/A/Valid/Name";
  auto bad_name = RunChecks(options);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.status().message().find("Not/A/Valid/Name") != std::string::npos);

  options.repository = "";
  options.categories.clear();
  CHECK_FALSE(RunChecks(options).ok());

  options.categories = {CheckCategory::kPull};
  options.tls = true;
  options.cacert = "/nonexistent/ca.pem";
  auto bad_ca = RunChecks(options);
  REQUIRE_FALSE(bad_ca.ok());
  CHECK(bad_ca.status().message().find("/nonexistent/ca.pem") != std::string::npos);
}

TEST_CASE("categories parse from the command line's names", "[check]") {
  auto all = ParseCategories("all");
  REQUIRE_OK(all);
  CHECK(all->size() == 4);
  auto two = ParseCategories("push,pull,push");
  REQUIRE_OK(two);
  CHECK(*two == std::vector<CheckCategory>{CheckCategory::kPush, CheckCategory::kPull});
  CHECK_FALSE(ParseCategories("pull,bogus").ok());
  CHECK_FALSE(ParseCategories("").ok());
  CHECK_FALSE(ParseCategories("pull,").ok());
  for (const auto category : *all) CHECK_OK(ParseCategories(CategoryName(category)));
}

TEST_CASE("listed checks have unique ids named by category and endpoint", "[check]") {
  const auto checks = ListChecks(CheckOptions().categories);
  std::set<std::string> ids;
  for (const auto& c : checks) {
    INFO(c.id);
    CHECK(ids.insert(c.id).second);
    CHECK(c.id == std::string(CategoryName(c.category)) + "/" + c.endpoint + " " + c.title);
    CHECK_FALSE(c.section.empty());
    const bool spec_endpoint = c.endpoint.starts_with("end-") || c.endpoint == "setup";
    CHECK((spec_endpoint || c.level == CheckLevel::kExtension));
  }
  // The spec's main-branch endpoints are marked as such.
  for (const auto& c : checks) {
    if (c.endpoint == "end-4c" || c.endpoint == "end-7b" || c.endpoint == "end-14") {
      CHECK(c.level == CheckLevel::kMainBranch);
    }
  }
  CHECK(ListChecks({CheckCategory::kPull}).size() < checks.size());
}

}  // namespace
}  // namespace ocireg::testing
