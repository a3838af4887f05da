// SPDX-License-Identifier: Apache-2.0
// Content management checks (spec: Requirements > Content Management; end-9, end-10): delete a
// tag, a manifest and a blob, and what is gone is 404. The spec lets a registry disable deletion
// if it then answers 400 or 405; such answers are skips.
#include "check/suite.h"

namespace ocireg::internal::check {
namespace {

constexpr const char* kTagDeleteSentence =
    "Upon success, the registry MUST respond with a `202 Accepted` code. If tag deletion is "
    "disabled, the registry MUST respond with either a `400 Bad Request` or a `405 Method Not "
    "Allowed`.";
constexpr const char* kTagGoneSentence =
    "Once deleted, a `GET` to `/v2/<name>/manifests/<tag>` will return a 404.";
constexpr const char* kManifestDeleteSentence =
    "Upon success, the registry MUST respond with a `202 Accepted` code. If manifest deletion is "
    "disabled, the registry MUST respond with either a `400 Bad Request` or a `405 Method Not "
    "Allowed`.";
constexpr const char* kManifestGoneSentence =
    "Once deleted, a `GET` to `/v2/<name>/manifests/<digest>` and any tag pointing to that digest "
    "will return a 404.";
constexpr const char* kRepositoryUnknownSentence =
    "If the repository does not exist, the response MUST return `404 Not Found`.";
constexpr const char* kBlobDeleteSentence =
    "Upon success, the registry MUST respond with code `202 Accepted`. If blob deletion is "
    "disabled, the registry MUST respond with either a `400 Bad Request` or a `405 Method Not "
    "Allowed`.";
constexpr const char* kBlobUnknownSentence =
    "If the blob is not found, a `404 Not Found` code MUST be returned.";
constexpr const char* kBlobGoneSentence =
    "If the blob is not found in the repository, the response code MUST be `404 Not Found`.";

constexpr const char* kManifestsSection = "Content Management > Deleting Manifests";
constexpr const char* kBlobsSection = "Content Management > Deleting Blobs";

struct ManagementState {
  Content layer;
  Content manifest;
  std::string tag_a;
  std::string tag_b;
};

// A DELETE answered 400 or 405, which the spec allows when deletion is disabled.
std::optional<Verdict> DeletionDisabled(const Exchange& ex, const char* what) {
  if (ex.status() != 400 && ex.status() != 405) return std::nullopt;
  return Skip(std::string(what) + " deletion is disabled; the registry answered " +
              std::to_string(ex.status()) + " as the spec allows: " + ex.Describe());
}

// `method` on `path` is 404 now.
std::optional<Verdict> ExpectGone(Probe& probe, const std::string& method, const std::string& path,
                                  const char* sentence) {
  Exchange ex = probe.Send(HttpRequest::Make(method, path).Header("Accept", kManifestAccept));
  if (ex.status() != 404) return FailStatus(ex, 404, sentence);
  return std::nullopt;
}

Exchange Delete(Probe& probe, const std::string& path) {
  return probe.Send(HttpRequest::Make("DELETE", path));
}

Verdict Setup(Probe& probe, RunContext& run, ManagementState& s) {
  const std::string& repo = run.repository;
  const Content config = run.maker.Config();
  s.layer = run.maker.Layer(6000);
  s.manifest = run.maker.ImageManifest(config, {s.layer});
  s.tag_a = "manage-" + run.run_id + "-a";
  s.tag_b = "manage-" + run.run_id + "-b";
  for (const Content* blob : {&config, static_cast<const Content*>(&s.layer)}) {
    if (auto failed = PushBlob(probe, run, repo, *blob)) return *failed;
  }
  for (const auto* tag : {&s.tag_a, &s.tag_b}) {
    if (auto failed = PushManifest(probe, run, repo, s.manifest, *tag)) return *failed;
  }
  return Pass("pushed " + s.manifest.digest.ToString() + " as " + s.tag_a + " and " + s.tag_b);
}

Verdict DeleteTag(Probe& probe, RunContext& run, ManagementState& s) {
  const std::string path = ManifestPath(run.repository, s.tag_a);
  Exchange ex = Delete(probe, path);
  if (auto skip = DeletionDisabled(ex, "tag")) return *skip;
  if (ex.status() != 202) return FailStatus(ex, 202, kTagDeleteSentence);
  if (auto failed = ExpectGone(probe, "GET", path, kTagGoneSentence)) return *failed;
  return Pass(ex);
}

Verdict DeleteManifest(Probe& probe, RunContext& run, ManagementState& s) {
  const std::string by_digest = ManifestPath(run.repository, s.manifest.digest.ToString());
  Exchange ex = Delete(probe, by_digest);
  if (auto skip = DeletionDisabled(ex, "manifest")) return *skip;
  if (ex.status() != 202) return FailStatus(ex, 202, kManifestDeleteSentence);
  for (const auto& path : {by_digest, ManifestPath(run.repository, s.tag_b)}) {
    if (auto failed = ExpectGone(probe, "GET", path, kManifestGoneSentence)) return *failed;
  }
  return Pass(ex);
}

Verdict DeleteInUnknownRepository(Probe& probe, RunContext& run, ManagementState&) {
  Exchange ex =
      Delete(probe, ManifestPath(run.repository + "-absent", run.maker.Config().digest.ToString()));
  if (auto skip = DeletionDisabled(ex, "manifest")) return *skip;
  if (ex.status() != 404) return FailStatus(ex, 404, kRepositoryUnknownSentence);
  return Pass(ex);
}

Verdict DeleteBlob(Probe& probe, RunContext& run, ManagementState& s) {
  const std::string path = BlobPath(run.repository, s.layer.digest);
  Exchange ex = Delete(probe, path);
  if (auto skip = DeletionDisabled(ex, "blob")) return *skip;
  if (ex.status() != 202) return FailStatus(ex, 202, kBlobDeleteSentence);
  if (auto failed = ExpectGone(probe, "GET", path, kBlobGoneSentence)) return *failed;
  return Pass(ex);
}

Verdict DeleteUnknownBlob(Probe& probe, RunContext& run, ManagementState&) {
  Exchange ex = Delete(probe, BlobPath(run.repository, run.maker.Layer(64).digest));
  if (auto skip = DeletionDisabled(ex, "blob")) return *skip;
  if (ex.status() != 404) return FailStatus(ex, 404, kBlobUnknownSentence);
  return Pass(ex);
}

}  // namespace

std::vector<CheckDef> ManagementChecks(RunContext& run) {
  CheckList<ManagementState> list(CheckCategory::kManagement, run);
  list.Add("setup", "push an image with two tags", "Content Management", "setup", {}, Setup);
  list.Add("end-9", "DELETE a tag", "Content Management > Deleting tags", "tag", {"setup"},
           DeleteTag);
  list.Add("end-9", "DELETE a manifest by digest", kManifestsSection, "manifest", {"setup"},
           DeleteManifest);
  list.Add("end-9", "DELETE a manifest in a nonexistent repository is 404", kManifestsSection,
           "manifest-unknown-repository", {}, DeleteInUnknownRepository);
  list.Add("end-10", "DELETE a blob", kBlobsSection, "blob", {"setup"}, DeleteBlob);
  list.Add("end-10", "DELETE an unknown blob is 404", kBlobsSection, "blob-unknown", {"setup"},
           DeleteUnknownBlob);
  return list.Take();
}

}  // namespace ocireg::internal::check
