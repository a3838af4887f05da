// SPDX-License-Identifier: Apache-2.0
// RenderCheckJUnit: the report as JUnit XML for CI systems: a testsuite per category, a testcase
// per check.
#include <cstdio>

#include "ocireg/check.h"
#include "xml_escape.h"

namespace ocireg {
namespace {

using internal::XmlEscape;

std::string Seconds(std::chrono::milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

std::string Exchanges(const CheckResult& r) {
  std::string text;
  for (const auto& e : r.exchanges) text += e + "\n";
  return text;
}

void TestCase(const CheckResult& r, std::string& out) {
  out += "    <testcase name=\"" + XmlEscape(r.id) + "\" classname=\"ocireg-check." +
         std::string(CategoryName(r.category)) + "\" time=\"" + Seconds(r.duration) + "\">\n";
  if (r.status == CheckStatus::kFail) {
    out += "      <failure message=\"" + XmlEscape(r.reason) + "\" type=\"" +
           std::string(LevelName(r.level)) + "\">" +
           XmlEscape("spec: " + r.requirement + "\n" + Exchanges(r)) + "</failure>\n";
  } else if (r.status == CheckStatus::kSkip) {
    out += "      <skipped message=\"" + XmlEscape(r.reason) + "\"/>\n";
  }
  if (!r.exchanges.empty())
    out += "      <system-out>" + XmlEscape(Exchanges(r)) + "</system-out>\n";
  out += "    </testcase>\n";
}

}  // namespace

std::string RenderCheckJUnit(const CheckReport& report) {
  const CheckCounts all = report.Count();
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"ocireg-check\" tests=\"" + std::to_string(report.results.size()) +
         "\" failures=\"" + std::to_string(all.failed) + "\" skipped=\"" +
         std::to_string(all.skipped) + "\" time=\"" + Seconds(report.duration) + "\">\n";
  for (const auto category : {CheckCategory::kPull, CheckCategory::kPush, CheckCategory::kDiscovery,
                              CheckCategory::kManagement}) {
    CheckCounts counts;
    size_t tests = 0;
    std::chrono::milliseconds time{0};
    std::string cases;
    for (const auto& r : report.results) {
      if (r.category != category) continue;
      ++tests;
      time += r.duration;
      counts.failed += r.status == CheckStatus::kFail ? 1 : 0;
      counts.skipped += r.status == CheckStatus::kSkip ? 1 : 0;
      TestCase(r, cases);
    }
    if (tests == 0) continue;
    out += "  <testsuite name=\"" + std::string(CategoryName(category)) + "\" tests=\"" +
           std::to_string(tests) + "\" failures=\"" + std::to_string(counts.failed) +
           "\" errors=\"0\" skipped=\"" + std::to_string(counts.skipped) + "\" time=\"" +
           Seconds(time) + "\">\n";
    out += "    <properties>\n      <property name=\"target\" value=\"" + XmlEscape(report.target) +
           "\"/>\n      <property name=\"repository\" value=\"" + XmlEscape(report.repository) +
           "\"/>\n    </properties>\n";
    out += cases + "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace ocireg
