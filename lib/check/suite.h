// SPDX-License-Identifier: Apache-2.0
// The checks as data: each category is a list of CheckDefs over the run's shared context, and
// the helpers the categories share to push their content.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "check/content.h"
#include "check/ledger.h"
#include "check/probe.h"
#include "ocireg/check.h"

namespace ocireg::internal::check {

// What the checks of one run share. The categories keep their own state besides.
struct RunContext {
  std::string repository;
  std::string crossmount_repository;
  std::string run_id;  // random, part of every tag the run makes
  ContentMaker maker;
  Ledger ledger;
};

struct CheckDef {
  CheckCategory category = CheckCategory::kPull;
  std::string endpoint;
  std::string title;
  std::string section;
  CheckLevel level = CheckLevel::kV1_1;
  // Names the check for `needs` within its category.
  std::string key;
  // Keys of earlier checks of the category that must have passed; otherwise this one is skipped.
  std::vector<std::string> needs;
  std::function<Verdict(Probe&)> run;
};

// Collects the checks of a category whose functions share one State (made here, kept alive by
// the checks): list.Add("end-3", "GET manifest by tag", section, "key", {"setup"}, GetByTag).
template <typename State>
class CheckList {
 public:
  using Fn = Verdict (*)(Probe&, RunContext&, State&);

  CheckList(CheckCategory category, RunContext& run)
      : category_(category), run_(run), state_(std::make_shared<State>()) {}

  void Add(std::string endpoint, std::string title, std::string section, std::string key,
           std::vector<std::string> needs, Fn fn, CheckLevel level = CheckLevel::kV1_1) {
    checks_.push_back(
        {category_, std::move(endpoint), std::move(title), std::move(section), level,
         std::move(key), std::move(needs),
         [fn, &run = run_, state = state_](Probe& probe) { return fn(probe, run, *state); }});
  }
  std::vector<CheckDef> Take() { return std::move(checks_); }

 private:
  CheckCategory category_;
  RunContext& run_;
  std::shared_ptr<State> state_;
  std::vector<CheckDef> checks_;
};

// The checks of each category, in the order they run. Building them sends nothing.
std::vector<CheckDef> PullChecks(RunContext& run);
std::vector<CheckDef> PushChecks(RunContext& run);
std::vector<CheckDef> DiscoveryChecks(RunContext& run);
std::vector<CheckDef> ManagementChecks(RunContext& run);

// Paths of the spec's endpoints.
std::string BlobPath(const std::string& repository, const Digest& digest);
std::string ManifestPath(const std::string& repository, const std::string& reference);
std::string UploadsPath(const std::string& repository);
std::string TagsPath(const std::string& repository);
std::string ReferrersPath(const std::string& repository, const Digest& digest);

// Pushes `blob` to `repository` with POST then PUT (end-4a, end-6), the upload every registry
// that takes pushes supports, and records it in the ledger. A FAIL verdict when it did not work.
std::optional<Verdict> PushBlob(Probe& probe, RunContext& run, const std::string& repository,
                                const Content& blob);
// PUTs `manifest` as `reference` (a tag, or empty for its digest) and records it in the ledger.
std::optional<Verdict> PushManifest(Probe& probe, RunContext& run, const std::string& repository,
                                    const Content& manifest, const std::string& reference = "");

// The Docker-Content-Digest header equals `digest`.
bool HasDigest(const Exchange& ex, const Digest& digest);
// The Docker-Content-Digest of a GET names its body: `expected` itself, or (the spec lets a
// registry hash with another algorithm) the body's digest under the header's algorithm.
bool DigestHeaderMatchesBody(const Exchange& ex, const Digest& expected);

// Spec sentences several categories judge by.
inline constexpr const char* kUploadPutSentence =
    "Upon successful completion of the request, the response MUST have code `201 Created` and "
    "MUST have the following header: `Location: <blob-location>`";
inline constexpr const char* kUploadPostSentence =
    "Upon success, the response MUST have a code of `202 Accepted`, and MUST include the "
    "following header: `Location: <blob-push-location>`";
inline constexpr const char* kManifestPutSentence =
    "Upon a successful upload, the registry MUST return response code `201 Created`, and MUST "
    "have the following header: `Location: <location>`";

}  // namespace ocireg::internal::check
