// SPDX-License-Identifier: Apache-2.0
// RenderCheckTable: the report for people, one row per check, a summary per category and level,
// and the clean-up.
#include <algorithm>

#include "ocireg/check.h"

namespace ocireg {
namespace {

constexpr size_t kMinReasonWidth = 30;

std::string Pad(std::string_view text, size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// `text` broken at spaces into lines of at most `width` (longer words are cut).
std::vector<std::string> Wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  while (text.size() > width) {
    size_t cut = text.rfind(' ', width);
    if (cut == std::string_view::npos || cut == 0) cut = width;
    lines.emplace_back(text.substr(0, cut));
    text.remove_prefix(cut);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  }
  if (!text.empty() || lines.empty()) lines.emplace_back(text);
  return lines;
}

std::string Counts(const CheckCounts& c) {
  if (c.passed + c.failed + c.skipped == 0) return "-";
  return std::to_string(c.passed) + " passed, " + std::to_string(c.failed) + " failed, " +
         std::to_string(c.skipped) + " skipped";
}

CheckCounts Add(CheckCounts a, const CheckCounts& b) {
  a.passed += b.passed;
  a.failed += b.failed;
  a.skipped += b.skipped;
  return a;
}

void RenderRows(const CheckReport& report, size_t width, std::string& out) {
  size_t id_width = 5;
  for (const auto& r : report.results) id_width = std::max(id_width, r.id.size());
  const size_t reason_column = id_width + 2 + 9 + 2 + 6 + 2;
  const bool wrap = width >= reason_column + kMinReasonWidth;
  const size_t reason_width = wrap ? width - reason_column : 0;

  out += Pad("CHECK", id_width) + "  " + Pad("SPEC", 9) + "  " + Pad("RESULT", 6) + "  REASON\n";
  for (const auto& r : report.results) {
    out += Pad(r.id, id_width) + "  " + Pad(LevelName(r.level), 9) + "  " +
           Pad(StatusName(r.status), 6) + "  ";
    if (!wrap) {
      out += r.reason + "\n";
      continue;
    }
    std::vector<std::string> lines = Wrap(r.reason, reason_width);
    // A pass needs one line; a failure or skip is shown whole.
    if (r.status == CheckStatus::kPass && lines.size() > 1) {
      lines.resize(1);
      lines[0] = lines[0].substr(0, reason_width - 3) + "...";
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += std::string(reason_column, ' ');
      out += lines[i] + "\n";
    }
    if (r.status == CheckStatus::kFail && !r.requirement.empty()) {
      for (const auto& line : Wrap("spec: " + r.requirement, reason_width)) {
        out += std::string(reason_column, ' ') + line + "\n";
      }
    }
  }
}

void RenderSummary(const CheckReport& report, std::string& out) {
  out += "\n" + Pad("CATEGORY", 12) + Pad("v1.1", 36) + "main branch and extensions\n";
  CheckCounts spec_total, extra_total;
  for (const auto category : {CheckCategory::kPull, CheckCategory::kPush, CheckCategory::kDiscovery,
                              CheckCategory::kManagement}) {
    const CheckCounts spec = report.Count(category, CheckLevel::kV1_1);
    const CheckCounts extra = Add(report.Count(category, CheckLevel::kMainBranch),
                                  report.Count(category, CheckLevel::kExtension));
    if (spec.passed + spec.failed + spec.skipped + extra.passed + extra.failed + extra.skipped ==
        0) {
      continue;
    }
    out += Pad(CategoryName(category), 12) + Pad(Counts(spec), 36) + Counts(extra) + "\n";
    spec_total = Add(spec_total, spec);
    extra_total = Add(extra_total, extra);
  }
  out += Pad("total", 12) + Pad(Counts(spec_total), 36) + Counts(extra_total) + "\n";
}

void RenderCleanup(const CheckReport& report, std::string& out) {
  if (report.cleanup.empty()) return;
  size_t ok = 0;
  for (const auto& c : report.cleanup) ok += c.ok ? 1 : 0;
  out += "\nclean-up: " + std::to_string(ok) + " of " + std::to_string(report.cleanup.size()) +
         " removed";
  out += ok == report.cleanup.size() ? "\n" : "; left behind:\n";
  for (const auto& c : report.cleanup) {
    if (!c.ok) out += "  " + c.what + ": " + c.detail + "\n";
  }
}

}  // namespace

std::string RenderCheckTable(const CheckReport& report, size_t width) {
  std::string out =
      "ocireg-check against " + report.target + ", repository " + report.repository + "\n\n";
  RenderRows(report, width, out);
  RenderSummary(report, out);
  RenderCleanup(report, out);
  const CheckCounts all = report.Count();
  out += "\n";
  out += all.failed == 0 ? "PASS: no check failed"
                         : "FAIL: " + std::to_string(all.failed) + " of " +
                               std::to_string(report.results.size()) + " checks failed";
  out += " (" + std::to_string(report.duration.count()) + " ms)\n";
  return out;
}

}  // namespace ocireg
