// SPDX-License-Identifier: Apache-2.0
// The three renderings of a check report: the table names every check, the JSON parses and holds
// every check, the JUnit XML is well formed and counts failures and skips right.
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "catch.h"
#include "ocireg/check.h"

namespace ocireg::testing {
namespace {

CheckResult Result(std::string id, CheckStatus status, std::string reason,
                   CheckLevel level = CheckLevel::kV1_1,
                   CheckCategory category = CheckCategory::kPull) {
  CheckResult r;
  r.id = std::move(id);
  r.category = category;
  r.endpoint = "end-3";
  r.title = "title";
  r.section = "Pull > Pulling manifests";
  r.level = level;
  r.status = status;
  r.reason = std::move(reason);
  r.exchanges = {"GET /v2/ -> 200"};
  r.duration = std::chrono::milliseconds(12);
  return r;
}

// Characters a renderer must escape: markup, quotes, ampersands, a control byte, newlines.
const std::string kNasty = "expected 200, got 404: <GET /v2/a?x=1&y=\"2\"> 'q' \x01\nnext line";

CheckReport SampleReport() {
  CheckReport report;
  report.target = "http://127.0.0.1:5000";
  report.repository = "ocireg-check/abc";
  report.crossmount_repository = "ocireg-check/abc-mount";
  report.results = {
      Result("pull/end-1 GET /v2/", CheckStatus::kPass, "GET /v2/ -> 200"),
      Result("pull/end-3 GET manifest by tag", CheckStatus::kFail, kNasty),
      Result("push/end-4c sha512", CheckStatus::kSkip, "sha512 is not supported",
             CheckLevel::kMainBranch, CheckCategory::kPush),
      Result("discovery/_catalog GET /v2/_catalog", CheckStatus::kFail, "no list",
             CheckLevel::kExtension, CheckCategory::kDiscovery),
  };
  report.results[1].requirement = "A GET request ... MUST be `200 OK`.";
  report.cleanup = {{"blob ocireg-check/abc@sha256:00", true, "deleted (202)"},
                    {"manifest ocireg-check/abc@sha256:11", false, "left behind: DELETE -> 405"}};
  report.duration = std::chrono::milliseconds(1500);
  return report;
}

// A small XML well-formedness check: balanced elements, quoted attributes, known entities only,
// no raw '<' or '&' in text, no control characters.
bool WellFormedXml(const std::string& xml, std::string& problem) {
  std::vector<std::string> open;
  size_t i = 0;
  auto entity_ok = [&](size_t at) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (xml.compare(at, std::string(e).size(), e) == 0) return true;
    }
    if (xml.compare(at, 2, "&#") != 0) return false;
    const size_t semi = xml.find(';', at);
    return semi != std::string::npos && semi > at + 2 &&
           xml.find_first_not_of("0123456789", at + 2) == semi;
  };
  if (!xml.starts_with("<?xml ")) return problem = "no XML declaration", false;
  i = xml.find("?>") + 2;
  bool root_seen = false;
  while (i < xml.size()) {
    const char c = xml[i];
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      return problem = "control character at " + std::to_string(i), false;
    }
    if (c == '&') {
      if (!entity_ok(i)) return problem = "bad entity at " + std::to_string(i), false;
      ++i;
      continue;
    }
    if (c != '<') {
      if (open.empty() && c != '\n' && c != ' ') return problem = "text outside the root", false;
      ++i;
      continue;
    }
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return problem = "unterminated tag", false;
    std::string tag = xml.substr(i + 1, end - i - 1);
    // Attribute values must be quoted and hold no raw '<' or unknown entities.
    for (size_t q = tag.find('"'); q != std::string::npos; q = tag.find('"', q + 1)) {
      const size_t close = tag.find('"', q + 1);
      if (close == std::string::npos) return problem = "unquoted attribute in <" + tag, false;
      const std::string value = tag.substr(q + 1, close - q - 1);
      if (value.find('<') != std::string::npos) return problem = "'<' in an attribute", false;
      for (size_t a = value.find('&'); a != std::string::npos; a = value.find('&', a + 1)) {
        if (!entity_ok(i + 1 + q + 1 + a)) return problem = "bad entity in an attribute", false;
      }
      q = close;
    }
    if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1))
        return problem = "mismatched </" + tag, false;
      open.pop_back();
    } else if (!tag.ends_with("/")) {
      if (open.empty() && root_seen) return problem = "second root element", false;
      root_seen = true;
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
    i = end + 1;
  }
  if (!open.empty()) return problem = "unclosed <" + open.back() + ">", false;
  return root_seen;
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

TEST_CASE("the table names every check with its result and reason", "[check][render]") {
  const CheckReport report = SampleReport();
  for (const size_t width : {size_t{0}, size_t{100}, size_t{40}}) {
    INFO("width " << width);
    const std::string table = RenderCheckTable(report, width);
    for (const auto& r : report.results) CHECK(table.find(r.id) != std::string::npos);
    CHECK(table.find("PASS") != std::string::npos);
    CHECK(table.find("SKIP") != std::string::npos);
    CHECK(table.find("sha512 is not supported") != std::string::npos);
    CHECK(table.find("main") != std::string::npos);
    CHECK(table.find("extension") != std::string::npos);
    CHECK(table.find("left behind") != std::string::npos);
    CHECK(table.find("FAIL: 2 of 4 checks failed") != std::string::npos);
  }
  // Wrapped to 100 columns, no line is longer (the ids fit in this sample).
  const std::string wrapped = RenderCheckTable(report, 100);
  size_t start = 0;
  while (start < wrapped.size()) {
    const size_t end = wrapped.find('\n', start);
    CHECK(end - start <= 100);
    start = end + 1;
  }
  CHECK(wrapped.find("spec: A GET request") != std::string::npos);
}

TEST_CASE("the JSON parses and holds every check", "[check][render]") {
  const CheckReport report = SampleReport();
  rapidjson::Document doc;
  const std::string json = RenderCheckJson(report);
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["target"].GetString()) == report.target);
  CHECK(doc["passed"].IsFalse());
  REQUIRE(doc["checks"].Size() == report.results.size());
  for (rapidjson::SizeType i = 0; i < doc["checks"].Size(); ++i) {
    const auto& c = doc["checks"][i];
    const CheckResult& r = report.results[i];
    CHECK(c["id"].GetString() == r.id);
    CHECK(c["status"].GetString() == std::string(StatusName(r.status)));
    CHECK(c["level"].GetString() == std::string(LevelName(r.level)));
    CHECK(c["reason"].GetString() == r.reason);
    CHECK(c["exchanges"].Size() == 1);
  }
  CHECK(doc["summary"]["total"]["failed"].GetInt() == 2);
  CHECK(doc["summary"]["pull"]["v1.1"]["failed"].GetInt() == 1);
  CHECK(doc["summary"]["push"]["main"]["skipped"].GetInt() == 1);
  CHECK(doc["summary"]["discovery"]["extension"]["failed"].GetInt() == 1);
  CHECK(doc["cleanup"].Size() == 2);
  CHECK(doc["cleanup"][1]["ok"].IsFalse());
}

TEST_CASE("the JUnit XML is well formed and counts failures", "[check][render]") {
  const CheckReport report = SampleReport();
  const std::string xml = RenderCheckJUnit(report);
  std::string problem;
  INFO(xml);
  CHECK(WellFormedXml(xml, problem));
  CHECK(problem == "");
  CHECK(xml.find("<testsuites name=\"ocireg-check\" tests=\"4\" failures=\"2\" skipped=\"1\"") !=
        std::string::npos);
  CHECK(Occurrences(xml, "<testcase ") == 4);
  CHECK(Occurrences(xml, "<failure ") == 2);
  CHECK(Occurrences(xml, "<skipped ") == 1);
  CHECK(Occurrences(xml, "<testsuite ") == 3);  // pull, push, discovery; management has none
  CHECK(xml.find("&lt;GET /v2/a?x=1&amp;y=&quot;2&quot;&gt; &apos;q&apos;") != std::string::npos);

  // The checker itself catches what the renderer must avoid.
  CHECK_FALSE(WellFormedXml("<?xml version=\"1.0\"?>\n<a><b></a>", problem));
  CHECK_FALSE(WellFormedXml("<?xml version=\"1.0\"?>\n<a x=\"&\"/>", problem));
  CHECK_FALSE(WellFormedXml("<?xml version=\"1.0\"?>\n<a>1 < 2</a>", problem));
}

TEST_CASE("an empty report renders", "[check][render]") {
  CheckReport report;
  report.target = "http://h:1";
  CHECK(RenderCheckTable(report).find("PASS: no check failed") != std::string::npos);
  rapidjson::Document doc;
  doc.Parse(RenderCheckJson(report).c_str());
  CHECK_FALSE(doc.HasParseError());
  std::string problem;
  CHECK(WellFormedXml(RenderCheckJUnit(report), problem));
}

}  // namespace
}  // namespace ocireg::testing
