// SPDX-License-Identifier: Apache-2.0
// RunChecks: builds the selected categories' checks, runs them in order (skipping those whose
// prerequisites did not pass), reports progress, and cleans up.
#include <algorithm>
#include <exception>
#include <map>
#include <random>
#include <set>

#include "check/suite.h"
#include "ocireg/check.h"
#include "ocireg/reference.h"

namespace ocireg {
namespace {

using internal::check::CheckDef;
using internal::check::ContentMaker;
using internal::check::Exchange;
using internal::check::HttpClient;
using internal::check::HttpRequest;
using internal::check::Probe;
using internal::check::RunContext;
using internal::check::Verdict;

constexpr CheckCategory kAllCategories[] = {CheckCategory::kPull, CheckCategory::kPush,
                                            CheckCategory::kDiscovery, CheckCategory::kManagement};

std::vector<CheckDef> BuildChecks(const std::vector<CheckCategory>& categories, RunContext& run) {
  std::vector<CheckDef> defs;
  for (const CheckCategory category : kAllCategories) {
    if (std::find(categories.begin(), categories.end(), category) == categories.end()) continue;
    std::vector<CheckDef> more;
    switch (category) {
      case CheckCategory::kPull:
        more = internal::check::PullChecks(run);
        break;
      case CheckCategory::kPush:
        more = internal::check::PushChecks(run);
        break;
      case CheckCategory::kDiscovery:
        more = internal::check::DiscoveryChecks(run);
        break;
      case CheckCategory::kManagement:
        more = internal::check::ManagementChecks(run);
        break;
    }
    std::move(more.begin(), more.end(), std::back_inserter(defs));
  }
  return defs;
}

CheckResult Named(const CheckDef& def) {
  CheckResult r;
  r.id = std::string(CategoryName(def.category)) + "/" + def.endpoint + " " + def.title;
  r.category = def.category;
  r.endpoint = def.endpoint;
  r.title = def.title;
  r.section = def.section;
  r.level = def.level;
  return r;
}

// The first prerequisite of `def` that did not pass, as its check id; empty when all did.
std::string MissingNeed(const CheckDef& def,
                        const std::map<std::string, const CheckResult*>& done) {
  for (const auto& need : def.needs) {
    auto it = done.find(need);
    if (it == done.end()) return need;
    if (it->second->status != CheckStatus::kPass) return it->second->id;
  }
  return "";
}

void Run(const CheckDef& def, HttpClient& client, CheckResult& r) {
  const auto start = std::chrono::steady_clock::now();
  Probe probe(client, r.exchanges);
  Verdict verdict;
  try {
    verdict = def.run(probe);
  } catch (const std::exception& e) {
    // A bug of the check, not of the registry; still reported, never thrown to the caller.
    verdict = internal::check::Fail("", std::string("the check could not run: ") + e.what());
  }
  r.status = verdict.status;
  r.reason = std::move(verdict.reason);
  r.requirement = std::move(verdict.requirement);
  r.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
}

// Empty when the registry answers at all; otherwise why not.
std::string Unreachable(HttpClient& client) {
  std::vector<std::string> log;
  Probe probe(client, log);
  Exchange ex = probe.Send(HttpRequest::Make("GET", "/v2/"));
  return ex.status() == 0 ? ex.Describe() : "";
}

}  // namespace

std::string_view CategoryName(CheckCategory category) {
  switch (category) {
    case CheckCategory::kPull:
      return "pull";
    case CheckCategory::kPush:
      return "push";
    case CheckCategory::kDiscovery:
      return "discovery";
    case CheckCategory::kManagement:
      return "management";
  }
  return "?";
}

Result<std::vector<CheckCategory>> ParseCategories(std::string_view text) {
  if (text == "all")
    return std::vector<CheckCategory>(std::begin(kAllCategories), std::end(kAllCategories));
  std::vector<CheckCategory> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view name = text.substr(start, comma - start);
    auto it = std::find_if(std::begin(kAllCategories), std::end(kAllCategories),
                           [&](CheckCategory c) { return CategoryName(c) == name; });
    if (it == std::end(kAllCategories)) {
      return InvalidArgument("unknown category \"" + std::string(name) +
                             "\" (expected all, pull, push, discovery or management)");
    }
    if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
    start = comma + 1;
  }
  return out;
}

std::string_view LevelName(CheckLevel level) {
  switch (level) {
    case CheckLevel::kV1_1:
      return "v1.1";
    case CheckLevel::kMainBranch:
      return "main";
    case CheckLevel::kExtension:
      return "extension";
  }
  return "?";
}

std::string_view StatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "PASS";
    case CheckStatus::kFail:
      return "FAIL";
    case CheckStatus::kSkip:
      return "SKIP";
  }
  return "?";
}

bool CheckReport::AllPassed() const { return Count().failed == 0; }

CheckCounts CheckReport::Count(CheckCategory category, CheckLevel level) const {
  CheckCounts counts;
  for (const auto& r : results) {
    if (r.category != category || r.level != level) continue;
    if (r.status == CheckStatus::kPass) ++counts.passed;
    if (r.status == CheckStatus::kFail) ++counts.failed;
    if (r.status == CheckStatus::kSkip) ++counts.skipped;
  }
  return counts;
}

CheckCounts CheckReport::Count() const {
  CheckCounts counts;
  for (const auto& r : results) {
    if (r.status == CheckStatus::kPass) ++counts.passed;
    if (r.status == CheckStatus::kFail) ++counts.failed;
    if (r.status == CheckStatus::kSkip) ++counts.skipped;
  }
  return counts;
}

std::vector<CheckResult> ListChecks(const std::vector<CheckCategory>& categories) {
  RunContext run{"", "", "", ContentMaker(0), {}};
  std::vector<CheckResult> out;
  for (const auto& def : BuildChecks(categories, run)) out.push_back(Named(def));
  return out;
}

Result<CheckReport> RunChecks(const CheckOptions& options, const CheckProgressCallback& progress) {
  if (options.categories.empty()) {
    return InvalidArgument("no categories selected");
  }
  auto client = HttpClient::Create(options);
  if (!client.ok()) return client.status();

  std::random_device entropy;
  RunContext run{"", "", "", ContentMaker((uint64_t{entropy()} << 32) | entropy()), {}};
  run.run_id = run.maker.Hex(8);
  run.repository = options.repository.empty() ? "ocireg-check/" + run.run_id : options.repository;
  run.crossmount_repository = options.crossmount_repository.empty() ? run.repository + "-mount"
                                                                    : options.crossmount_repository;
  for (const auto* name : {&run.repository, &run.crossmount_repository}) {
    if (Status valid = ValidateRepositoryName(*name); !valid.ok()) {
      return InvalidArgument("repository " + *name + ": " + valid.message());
    }
  }

  CheckReport report;
  report.target = (*client)->origin();
  report.repository = run.repository;
  report.crossmount_repository = run.crossmount_repository;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<CheckDef> defs = BuildChecks(options.categories, run);
  const std::string unreachable = Unreachable(**client);
  report.results.reserve(defs.size());  // `done` points into it
  std::map<CheckCategory, std::map<std::string, const CheckResult*>> done;
  for (size_t i = 0; i < defs.size(); ++i) {
    CheckResult r = Named(defs[i]);
    if (progress) progress({i, defs.size(), false, &r});
    const std::string missing = MissingNeed(defs[i], done[defs[i].category]);
    if (!unreachable.empty()) {
      r.status = CheckStatus::kFail;
      r.reason = "the registry cannot be reached: " + unreachable;
    } else if (!missing.empty()) {
      r.status = CheckStatus::kSkip;
      r.reason = "needs " + missing + ", which did not pass";
    } else {
      Run(defs[i], **client, r);
    }
    report.results.push_back(std::move(r));
    done[defs[i].category][defs[i].key] = &report.results.back();
    if (progress) progress({i, defs.size(), true, &report.results.back()});
  }
  if (unreachable.empty()) report.cleanup = run.ledger.CleanUp(**client);
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return report;
}

}  // namespace ocireg
