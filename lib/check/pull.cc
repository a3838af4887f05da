// SPDX-License-Identifier: Apache-2.0
// Pull checks (spec: Requirements > Pull; end-1, end-2, end-3): an image the run pushes first is
// read back by tag and by digest, with HEAD and GET, and unknown content is 404.
#include "check/suite.h"

namespace ocireg::internal::check {
namespace {

constexpr const char* kSupportSentence =
    "If the response is `200 OK`, then the registry implements this specification.";
constexpr const char* kManifestGetSentence =
    "A GET request to an existing manifest URL MUST provide the expected manifest, with a "
    "response code that MUST be `200 OK`.";
constexpr const char* kGetDigestSentence =
    "A successful response MUST contain the digest of the uploaded blob in the header "
    "`Docker-Content-Digest`.";
constexpr const char* kHeadSentence =
    "A HEAD request to an existing blob or manifest URL MUST return `200 OK`.";
constexpr const char* kHeadDigestSentence =
    "A successful response MUST contain the digest of the uploaded blob or manifest in the header "
    "`Docker-Content-Digest`.";
constexpr const char* kHeadLengthSentence =
    "A successful response MUST contain the size in bytes of the uploaded blob or manifest in the "
    "header `Content-Length`.";
constexpr const char* kManifestUnknownSentence =
    "If the manifest is not found in the repository, the response code MUST be `404 Not Found`.";
constexpr const char* kHeadUnknownSentence =
    "If the blob or manifest is not found in the repository, the response code MUST be `404 Not "
    "Found`.";
constexpr const char* kRepositoryUnknownSentence =
    "An attempt to pull a nonexistent repository MUST return response code `404 Not Found`.";
constexpr const char* kBlobGetSentence =
    "A GET request to an existing blob URL MUST provide the expected blob, with a response code "
    "that MUST be `200 OK`.";
constexpr const char* kBlobDigestSentence =
    "If present, the value of this header MUST be a digest matching that of the response body.";
constexpr const char* kBlobUnknownSentence =
    "If the blob is not found in the repository, the response code MUST be `404 Not Found`.";
constexpr const char* kRangeSentence =
    "A registry SHOULD support the `Range` request header in accordance with RFC 9110 (section "
    "14).";

constexpr const char* kManifestsSection = "Pull > Pulling manifests";
constexpr const char* kBlobsSection = "Pull > Pulling blobs";
constexpr const char* kExistsSection = "Pull > Checking if content exists in the registry";

struct PullState {
  Content config;
  Content layer;
  Content manifest;
  std::string tag;
};

Verdict HeadExisting(Probe& probe, const std::string& path, const Content& content) {
  HttpRequest head = HttpRequest::Make("HEAD", path);
  if (content.media_type != kOciLayer) head.Header("Accept", kManifestAccept);
  Exchange ex = probe.Send(head);
  if (ex.status() != 200) return FailStatus(ex, 200, kHeadSentence);
  if (!HasDigest(ex, content.digest)) {
    return Fail(kHeadDigestSentence, "Docker-Content-Digest is not " + content.digest.ToString(),
                ex);
  }
  if (ex.header("Content-Length") != std::to_string(content.size())) {
    return Fail(kHeadLengthSentence, "Content-Length is not " + std::to_string(content.size()), ex);
  }
  return Pass(ex);
}

Verdict GetManifest(Probe& probe, const std::string& path, const Content& manifest) {
  Exchange ex = probe.Send(HttpRequest::Make("GET", path).Header("Accept", kManifestAccept));
  if (ex.status() != 200) return FailStatus(ex, 200, kManifestGetSentence);
  if (ex.response.body != manifest.bytes) {
    return Fail(kManifestGetSentence, "the body is not the manifest pushed", ex);
  }
  if (!ex.response.has_header("Docker-Content-Digest")) {
    return Fail(kGetDigestSentence, "no Docker-Content-Digest header", ex);
  }
  if (!DigestHeaderMatchesBody(ex, manifest.digest)) {
    return Fail(kGetDigestSentence, "Docker-Content-Digest does not match the manifest", ex);
  }
  std::vector<std::string> notes;
  const std::string type = ex.header("Content-Type");
  if (type.substr(0, type.find(';')) != manifest.media_type) {
    notes.push_back("Content-Type is not the type pushed, " + manifest.media_type + " (SHOULD)");
  }
  return Pass(ex, notes);
}

Verdict Absent(Probe& probe, const std::string& method, const std::string& path,
               const char* sentence) {
  HttpRequest request = HttpRequest::Make(method, path);
  if (path.find("/manifests/") != std::string::npos) request.Header("Accept", kManifestAccept);
  Exchange ex = probe.Send(request);
  if (ex.status() != 404) return FailStatus(ex, 404, sentence);
  return Pass(ex);
}

Verdict GetBase(Probe& probe, RunContext&, PullState&) {
  Exchange ex = probe.Send(HttpRequest::Make("GET", "/v2/"));
  if (ex.status() != 200) return FailStatus(ex, 200, kSupportSentence);
  return Pass(ex);
}

Verdict Setup(Probe& probe, RunContext& run, PullState& s) {
  s.config = run.maker.Config();
  s.layer = run.maker.Layer(20000);
  s.manifest = run.maker.ImageManifest(s.config, {s.layer});
  s.tag = "pull-" + run.run_id;
  for (const Content* blob : {&s.config, &s.layer}) {
    if (auto failed = PushBlob(probe, run, run.repository, *blob)) return *failed;
  }
  if (auto failed = PushManifest(probe, run, run.repository, s.manifest, s.tag)) return *failed;
  return Pass("pushed " + s.manifest.digest.ToString() + " as " + run.repository + ":" + s.tag);
}

Verdict HeadManifestByTag(Probe& probe, RunContext& run, PullState& s) {
  return HeadExisting(probe, ManifestPath(run.repository, s.tag), s.manifest);
}

Verdict HeadManifestByDigest(Probe& probe, RunContext& run, PullState& s) {
  return HeadExisting(probe, ManifestPath(run.repository, s.manifest.digest.ToString()),
                      s.manifest);
}

Verdict GetManifestByTag(Probe& probe, RunContext& run, PullState& s) {
  return GetManifest(probe, ManifestPath(run.repository, s.tag), s.manifest);
}

Verdict GetManifestByDigest(Probe& probe, RunContext& run, PullState& s) {
  return GetManifest(probe, ManifestPath(run.repository, s.manifest.digest.ToString()), s.manifest);
}

Verdict HeadBlob(Probe& probe, RunContext& run, PullState& s) {
  return HeadExisting(probe, BlobPath(run.repository, s.layer.digest), s.layer);
}

Verdict GetBlob(Probe& probe, RunContext& run, PullState& s) {
  Exchange ex = probe.Send(HttpRequest::Make("GET", BlobPath(run.repository, s.layer.digest)));
  if (ex.status() != 200) return FailStatus(ex, 200, kBlobGetSentence);
  if (ex.response.body_digest != s.layer.digest) {
    return Fail(kBlobGetSentence, "the body is not the blob pushed", ex);
  }
  if (!ex.response.has_header("Docker-Content-Digest")) {
    return Fail(kGetDigestSentence, "no Docker-Content-Digest header", ex);
  }
  if (!DigestHeaderMatchesBody(ex, s.layer.digest)) {
    return Fail(kBlobDigestSentence, "Docker-Content-Digest does not match the body", ex);
  }
  return Pass(ex);
}

Verdict GetBlobRange(Probe& probe, RunContext& run, PullState& s) {
  Exchange ex = probe.Send(HttpRequest::Make("GET", BlobPath(run.repository, s.layer.digest))
                               .Header("Range", "bytes=10-19"));
  if (ex.status() == 200 && ex.response.body_digest == s.layer.digest) {
    return Skip("no Range support, the whole blob came back (SHOULD): " + ex.Describe());
  }
  if (ex.status() != 206) return FailStatus(ex, 206, kRangeSentence);
  if (ex.response.body != s.layer.bytes.substr(10, 10)) {
    return Fail(kRangeSentence, "the body is not bytes 10-19 of the blob", ex);
  }
  return Pass(ex);
}

Verdict GetUnknownTag(Probe& probe, RunContext& run, PullState&) {
  return Absent(probe, "GET", ManifestPath(run.repository, "absent-" + run.run_id),
                kManifestUnknownSentence);
}

Verdict HeadUnknownManifest(Probe& probe, RunContext& run, PullState&) {
  const Digest absent = run.maker.Config().digest;
  return Absent(probe, "HEAD", ManifestPath(run.repository, absent.ToString()),
                kHeadUnknownSentence);
}

Verdict GetUnknownRepository(Probe& probe, RunContext& run, PullState&) {
  return Absent(probe, "GET", ManifestPath(run.repository + "-absent", "pull-" + run.run_id),
                kRepositoryUnknownSentence);
}

Verdict GetUnknownBlob(Probe& probe, RunContext& run, PullState&) {
  return Absent(probe, "GET", BlobPath(run.repository, run.maker.Layer(64).digest),
                kBlobUnknownSentence);
}

Verdict HeadUnknownBlob(Probe& probe, RunContext& run, PullState&) {
  return Absent(probe, "HEAD", BlobPath(run.repository, run.maker.Layer(64).digest),
                kHeadUnknownSentence);
}

}  // namespace

std::vector<CheckDef> PullChecks(RunContext& run) {
  CheckList<PullState> list(CheckCategory::kPull, run);
  list.Add("end-1", "GET /v2/", "API > Determining Support", "base", {}, GetBase);
  list.Add("setup", "push an image to pull", "Pull", "setup", {}, Setup);
  list.Add("end-3", "HEAD manifest by tag", kExistsSection, "head-tag", {"setup"},
           HeadManifestByTag);
  list.Add("end-3", "HEAD manifest by digest", kExistsSection, "head-digest", {"setup"},
           HeadManifestByDigest);
  list.Add("end-3", "GET manifest by tag", kManifestsSection, "get-tag", {"setup"},
           GetManifestByTag);
  list.Add("end-3", "GET manifest by digest", kManifestsSection, "get-digest", {"setup"},
           GetManifestByDigest);
  list.Add("end-2", "HEAD blob", kExistsSection, "head-blob", {"setup"}, HeadBlob);
  list.Add("end-2", "GET blob", kBlobsSection, "get-blob", {"setup"}, GetBlob);
  list.Add("end-2", "GET blob with a Range header", kBlobsSection, "range", {"setup"},
           GetBlobRange);
  list.Add("end-3", "GET manifest of an unknown tag is 404", kManifestsSection, "unknown-tag",
           {"setup"}, GetUnknownTag);
  list.Add("end-3", "HEAD manifest of an unknown digest is 404", kExistsSection, "unknown-digest",
           {"setup"}, HeadUnknownManifest);
  list.Add("end-3", "GET manifest in a nonexistent repository is 404", "Push > Pushing Manifests",
           "unknown-repository", {}, GetUnknownRepository);
  list.Add("end-2", "GET unknown blob is 404", kBlobsSection, "unknown-blob", {"setup"},
           GetUnknownBlob);
  list.Add("end-2", "HEAD unknown blob is 404", kExistsSection, "unknown-blob-head", {"setup"},
           HeadUnknownBlob);
  return list.Take();
}

}  // namespace ocireg::internal::check
