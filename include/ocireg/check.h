// SPDX-License-Identifier: Apache-2.0
// ocireg-check as a library: a black-box conformance client for OCI distribution registries.
//
// RunChecks talks HTTP to a registry like any other client (it shares no code with the server)
// and runs the positive conformance flows of the four categories of the OCI distribution spec:
// pull, push, content discovery and content management. Each check is named by its category, the
// spec's endpoint id and what it does ("pull/end-3 GET manifest by tag"), and reports PASS, FAIL
// or SKIP with the requests it sent and the responses it got. Checks of behaviour that is on the
// spec's main branch but not in v1.1 (sha512 uploads, several tags in one manifest PUT, upload
// cancel) and of the _catalog extension are marked by their level, so that they do not count
// against plain v1.1 conformance.
//
//   CheckOptions options;
//   options.host = "127.0.0.1";
//   options.port = 5000;
//   auto report = RunChecks(options, [](const CheckProgress& p) { ... });
//   if (report.ok()) std::fputs(RenderCheckTable(*report).c_str(), stdout);
//
// Every run pushes content of its own (random bytes, so concurrent runs never collide) into a
// repository of its own, and deletes what it pushed at the end, as far as the registry allows.
// The library never prints: progress goes to the caller's callback.
//
// Thread-safety: RunChecks may run concurrently with itself; a CheckReport is a plain value.
// RunChecks blocks until every check and the clean-up have run, over connections of its own to
// options.host only. It changes the registry: it pushes, and deletes what it pushed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

// The four categories of the spec's Requirements section.
enum class CheckCategory { kPull, kPush, kDiscovery, kManagement };

// "pull", "push", "discovery", "management".
OCIREG_EXPORT std::string_view CategoryName(CheckCategory category);
// The categories named by `text`: "all", or names separated by commas ("pull,push").
// kInvalidArgument for an unknown name or an empty list.
OCIREG_EXPORT Result<std::vector<CheckCategory>> ParseCategories(std::string_view text);

// Which version of the spec a check holds a registry to.
enum class CheckLevel {
  kV1_1,        // distribution-spec v1.1: counts towards conformance
  kMainBranch,  // the spec's main branch, after v1.1 (end-4c, end-7b, end-14)
  kExtension,   // an extension API outside the spec proper (_catalog)
};
// "v1.1", "main", "extension".
OCIREG_EXPORT std::string_view LevelName(CheckLevel level);

enum class CheckStatus {
  kPass,
  kFail,
  // Not run, or the registry uses a freedom the spec gives it (a MAY, a SHOULD, or "MUST respond
  // with 400 or 405 if deletion is disabled"); the reason says which.
  kSkip,
};
// "PASS", "FAIL", "SKIP".
OCIREG_EXPORT std::string_view StatusName(CheckStatus status);

struct CheckOptions {
  // The registry. REQUIRES: host not empty. Default port: 0, meaning 443 with TLS and 80 without.
  std::string host;
  uint16_t port = 0;
  // HTTPS. The certificate is verified against the system's CAs, or against `cacert` (a PEM file)
  // when set, unless `insecure`.
  bool tls = false;
  bool insecure = false;
  std::string cacert;
  // HTTP basic authentication when `user` is not empty.
  std::string user;
  std::string password;
  // The repository the checks push to. Default (empty): "ocireg-check/<random id>".
  std::string repository;
  // The repository blobs are mounted into (end-11). Default (empty): `repository` + "-mount".
  std::string crossmount_repository;
  // Which categories to run, in the spec's order whatever the order here. Default: all four.
  std::vector<CheckCategory> categories = {CheckCategory::kPull, CheckCategory::kPush,
                                           CheckCategory::kDiscovery, CheckCategory::kManagement};
  // Timeout of each socket read and write, and of connecting. Default: 30 s.
  std::chrono::seconds timeout{30};
};

// The outcome of one check.
struct CheckResult {
  // "<category>/<endpoint> <title>", e.g. "pull/end-3 GET manifest by tag". Unique in a run.
  std::string id;
  CheckCategory category = CheckCategory::kPull;
  // The spec's endpoint id ("end-3"), "setup" for the content a category needs, or the
  // extension's name ("_catalog").
  std::string endpoint;
  std::string title;
  // Where the spec describes the behaviour, e.g. "Pull > Pulling manifests".
  std::string section;
  CheckLevel level = CheckLevel::kV1_1;
  CheckStatus status = CheckStatus::kSkip;
  // On FAIL: what went wrong, with the request sent and the response got. On SKIP: why. On PASS:
  // the decisive response, and notes on any SHOULD the registry does not follow.
  std::string reason;
  // On FAIL: the sentence of the spec the registry breaks, quoted.
  std::string requirement;
  // One line per request the check sent: "METHOD target (headers) -> status (headers) body".
  std::vector<std::string> exchanges;
  std::chrono::milliseconds duration{0};
};

// What the final clean-up did with one thing the run had pushed.
struct CleanupResult {
  std::string what;  // e.g. "manifest ocireg-check/abc@sha256:..."
  bool ok = false;   // deleted, or already gone
  std::string detail;
};

struct CheckCounts {
  size_t passed = 0;
  size_t failed = 0;
  size_t skipped = 0;
};

struct OCIREG_EXPORT CheckReport {
  std::string target;  // "http://127.0.0.1:5000"
  std::string repository;
  std::string crossmount_repository;
  std::vector<CheckResult> results;
  std::vector<CleanupResult> cleanup;
  std::chrono::milliseconds duration{0};

  // True when no check failed (skips do not fail a run).
  bool AllPassed() const;
  // Counts over the results of `category` at `level`.
  CheckCounts Count(CheckCategory category, CheckLevel level) const;
  // Counts over all results.
  CheckCounts Count() const;
};

// Reported twice per check: before it runs (finished false, only the naming fields set) and
// after (finished true, the full result). `index` counts from 0 up to `total`. `result` points
// into the run's own data and is valid only during the callback: copy what you keep.
struct CheckProgress {
  size_t index = 0;
  size_t total = 0;
  bool finished = false;
  const CheckResult* result = nullptr;
};
using CheckProgressCallback = std::function<void(const CheckProgress&)>;

// Runs the checks of options.categories against the registry and cleans up. The callback, when
// set, is called on the calling thread. A registry that cannot be reached makes every check FAIL;
// it is not an error of the call. kInvalidArgument for bad options (no host, no categories, a
// repository name the spec does not allow, an unreadable cacert).
OCIREG_EXPORT Result<CheckReport> RunChecks(const CheckOptions& options,
                                            const CheckProgressCallback& progress = nullptr);

// The checks RunChecks would run for `categories`, in order, with only the naming fields set
// (id, category, endpoint, title, section, level).
OCIREG_EXPORT std::vector<CheckResult> ListChecks(const std::vector<CheckCategory>& categories);

// A table for people: one row per check (id, level, result, reason), then a summary per category
// and the clean-up. With `width` > 0 the reason column is wrapped to fit that many columns.
OCIREG_EXPORT std::string RenderCheckTable(const CheckReport& report, size_t width = 0);
// The report as one JSON document (target, summary per category and level, every check with its
// exchanges, clean-up).
OCIREG_EXPORT std::string RenderCheckJson(const CheckReport& report);
// The report as JUnit XML: one testsuite per category, one testcase per check, FAIL as
// <failure>, SKIP as <skipped>.
OCIREG_EXPORT std::string RenderCheckJUnit(const CheckReport& report);

}  // namespace ocireg
