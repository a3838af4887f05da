// SPDX-License-Identifier: Apache-2.0
// Push checks (spec: Requirements > Push; end-4a/4b/4c, end-5, end-6, end-7a/7b, end-11, end-13,
// end-14): blobs monolithically, in a single POST, in chunks, by mount; manifests by tag, by
// digest, as an index and with a subject; and the main branch's sha512, tag parameters and
// upload cancel.
#include <algorithm>
#include <set>

#include "check/suite.h"

namespace ocireg::internal::check {
namespace {

constexpr const char* kPullableSentence = "With `<blob-location>` being a pullable blob URL.";
constexpr const char* kChunkSentence =
    "The response for each successful chunk upload MUST be `202 Accepted`, and MUST have the "
    "following headers: `Location: <blob-push-location>` `Range: 0-<end-of-range>`";
constexpr const char* kOutOfOrderSentence =
    "If a chunk is uploaded out of order, the registry MUST respond with a `416 Requested Range "
    "Not Satisfiable` code.";
constexpr const char* kStatusSentence =
    "The response to an active upload `<blob-push-location>` MUST be a `204 No Content` response "
    "code, and MUST have the following headers: `Location: <blob-push-location>` `Range: "
    "0-<end-of-range>`";
constexpr const char* kCloseSentence =
    "The response to a successful closing of the session MUST be `201 Created`, and MUST contain "
    "the following header: `Location: <blob-location>`";
constexpr const char* kMountSentence =
    "The response to a successful mount MUST be `201 Created`, and MUST contain the following "
    "header: `Location: <blob-location>`";
constexpr const char* kExactBytesSentence =
    "The registry MUST store the manifest in the exact byte representation provided by the "
    "client.";
constexpr const char* kManifestDigestSentence =
    "The Docker-Content-Digest header returns the digest of the uploaded blob, and MUST be equal "
    "to the client provided digest.";
constexpr const char* kSubjectAcceptSentence =
    "A registry MUST initially accept an otherwise valid manifest with a `subject` field that "
    "references a manifest that does not exist in the repository, allowing clients to push a "
    "manifest and referrers to that manifest in either order.";
constexpr const char* kSubjectHeaderSentence =
    "When processing a request for an image manifest with the `subject` field, a registry "
    "implementation that supports the referrers API MUST respond with the response header "
    "`OCI-Subject: <subject digest>` to indicate to the client that the registry processed the "
    "request's `subject`.";
constexpr const char* kOciTagSentence =
    "If a registry supports this, it: [...] MUST include an `OCI-Tag` response header, in "
    "accordance with RFC 9110 (section 5) semantics, for each accepted tag.";
constexpr const char* kBlobGetSentence =
    "A GET request to an existing blob URL MUST provide the expected blob, with a response code "
    "that MUST be `200 OK`.";
constexpr const char* kBlobDigestSentence =
    "If present, the value of this header MUST be a digest matching that of the response body.";
constexpr const char* kCancelSentence =
    "During a blob upload, the session may be canceled with a `DELETE` request";

constexpr const char* kSinglePostSentence =
    "Successful completion of the request MUST return a `201 Created` and MUST include the "
    "following header: `Location: <blob-location>`";
constexpr const char* kMountLocationSentence =
    "The Location header will contain the registry URL to access the accepted layer file.";

constexpr const char* kPostPutSection = "Push > Pushing a blob monolithically > POST then PUT";
constexpr const char* kSinglePostSection = "Push > Pushing a blob monolithically > Single POST";
constexpr const char* kChunksSection = "Push > Pushing a blob in chunks";
constexpr const char* kMountSection = "Push > Mounting a blob from another repository";
constexpr const char* kManifestsSection = "Push > Pushing Manifests";
constexpr const char* kSubjectSection = "Push > Pushing Manifests with Subject";
constexpr const char* kAnnotation = "org.example.ocireg-check";

struct PushState {
  // The blobs the manifests refer to.
  Content config;
  Content layer;
  std::string monolithic_location;
  // The chunked upload that runs through several checks.
  std::string chunk_location;
  size_t chunk_size = 0;
  Content chunked;
  Content by_tag;
  Content by_digest;
};

std::string RangeTo(uint64_t end) { return "0-" + std::to_string(end); }

HttpRequest Chunk(const std::string& location, const std::string& bytes, uint64_t offset) {
  return HttpRequest::Make("PATCH", location)
      .Header("Content-Range",
              std::to_string(offset) + "-" + std::to_string(offset + bytes.size() - 1))
      .Body(bytes, "application/octet-stream");
}

// The blob is at `path` with its size and digest.
std::optional<Verdict> ExpectPullable(Probe& probe, const std::string& path, const Content& blob,
                                      const char* sentence = kPullableSentence) {
  Exchange head = probe.Send(HttpRequest::Make("HEAD", path));
  if (head.status() != 200) return FailStatus(head, 200, sentence);
  if (head.header("Content-Length") != std::to_string(blob.size())) {
    return Fail(sentence, "the blob has the wrong size", head);
  }
  return std::nullopt;
}

// POSTs a session for a chunked upload (end-4a with Content-Length: 0); its location, or a FAIL.
Verdict OpenSession(Probe& probe, const std::string& repo, std::string& location) {
  Exchange post = probe.Send(HttpRequest::Make("POST", UploadsPath(repo)));
  if (post.status() != 202 || post.header("Location").empty()) {
    return FailStatus(post, 202, kUploadPostSentence);
  }
  location = post.header("Location");
  return Pass(post);
}

// The chunk size a registry asks for with OCI-Chunk-Min-Length, at least `floor`.
size_t ChunkSize(const Exchange& post, size_t floor) {
  const std::string min = post.header("OCI-Chunk-Min-Length");
  size_t size = floor;
  if (!min.empty() &&
      std::all_of(min.begin(), min.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      min.size() < 10) {
    size = std::max<size_t>(size, std::stoul(min));
  }
  return size;
}

// A PATCH answered as kChunkSentence says, its Range ending at `end`.
std::optional<Verdict> ExpectChunkAccepted(const Exchange& ex, uint64_t end) {
  if (ex.status() != 202) return FailStatus(ex, 202, kChunkSentence);
  if (ex.header("Location").empty()) return Fail(kChunkSentence, "no Location header", ex);
  if (ex.header("Range") != RangeTo(end)) {
    return Fail(kChunkSentence, "Range is not " + RangeTo(end), ex);
  }
  return std::nullopt;
}

std::set<std::string> OciTags(const Exchange& ex) {
  std::set<std::string> tags;
  for (const auto& value : ex.response.header_values("OCI-Tag")) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string tag = value.substr(start, comma - start);
      tag.erase(0, tag.find_first_not_of(' '));
      tag.erase(tag.find_last_not_of(' ') + 1);
      if (!tag.empty()) tags.insert(tag);
      start = comma + 1;
    }
  }
  return tags;
}

// PUTs a manifest and reads it back by digest: 201 with Location, the digest header (when
// given) is the manifest's, and the bytes are unchanged.
Verdict PutManifest(Probe& probe, RunContext& run, const Content& manifest,
                    const std::string& reference) {
  const std::string& repo = run.repository;
  Exchange put = probe.Send(HttpRequest::Make("PUT", ManifestPath(repo, reference))
                                .Body(manifest.bytes, manifest.media_type));
  if (put.status() != 201) return FailStatus(put, 201, kManifestPutSentence);
  run.ledger.Manifest(repo, manifest.digest.ToString());
  if (put.header("Location").empty()) return Fail(kManifestPutSentence, "no Location header", put);
  if (put.response.has_header("Docker-Content-Digest") && !HasDigest(put, manifest.digest)) {
    return Fail(kManifestDigestSentence, "Docker-Content-Digest is not the manifest's digest", put);
  }
  Exchange get = probe.Send(HttpRequest::Make("GET", ManifestPath(repo, manifest.digest.ToString()))
                                .Header("Accept", kManifestAccept));
  if (get.status() != 200 || get.response.body != manifest.bytes) {
    return Fail(kExactBytesSentence, "the manifest does not come back as pushed", get);
  }
  std::vector<std::string> notes;
  const std::string type = get.header("Content-Type");
  if (type.substr(0, type.find(';')) != manifest.media_type) {
    notes.push_back("pulled with Content-Type " + type + ", pushed as " + manifest.media_type +
                    " (SHOULD match)");
  }
  return Pass(put, notes);
}

// --- Blobs, monolithically ---------------------------------------------------------------------

Verdict PostSession(Probe& probe, RunContext& run, PushState& s) {
  Verdict v = OpenSession(probe, run.repository, s.monolithic_location);
  if (v.status == CheckStatus::kPass) run.ledger.Upload("monolithic", s.monolithic_location);
  return v;
}

Verdict PutMonolithic(Probe& probe, RunContext& run, PushState& s) {
  const Content blob = run.maker.Layer(10000);
  Exchange put = probe.Send(
      HttpRequest::Make("PUT", AppendQuery(s.monolithic_location, "digest", blob.digest.ToString()))
          .Body(blob.bytes, "application/octet-stream"));
  if (put.status() != 201) return FailStatus(put, 201, kUploadPutSentence);
  run.ledger.UploadClosed("monolithic");
  run.ledger.Blob(run.repository, blob.digest.ToString());
  if (put.header("Location").empty()) return Fail(kUploadPutSentence, "no Location header", put);
  if (auto failed = ExpectPullable(probe, put.header("Location"), blob)) return *failed;
  return Pass(put);
}

Verdict PostSingle(Probe& probe, RunContext& run, PushState&) {
  const Content blob = run.maker.Layer(10000);
  const std::string digest = blob.digest.ToString();
  Exchange post = probe.Send(
      HttpRequest::Make("POST", AppendQuery(UploadsPath(run.repository), "digest", digest))
          .Body(blob.bytes, "application/octet-stream"));
  if (post.status() == 202 && !post.header("Location").empty()) {
    // Registries MAY refuse single-request pushes; they SHOULD then open a session.
    Exchange put =
        probe.Send(HttpRequest::Make("PUT", AppendQuery(post.header("Location"), "digest", digest))
                       .Body(blob.bytes, "application/octet-stream"));
    if (put.status() != 201) return FailStatus(put, 201, kUploadPutSentence);
    run.ledger.Blob(run.repository, digest);
    return Skip(
        "single-request pushes are not supported (MAY); the registry opened a session instead, "
        "as it SHOULD, and the PUT completed it: " +
        post.Describe());
  }
  if (post.status() != 201) return FailStatus(post, 201, kSinglePostSentence);
  run.ledger.Blob(run.repository, digest);
  if (post.header("Location").empty()) return Fail(kSinglePostSentence, "no Location header", post);
  if (auto failed = ExpectPullable(probe, post.header("Location"), blob)) return *failed;
  return Pass(post);
}

// --- Blobs, in chunks
// -----------------------------------------------------------------------------

Verdict PostChunked(Probe& probe, RunContext& run, PushState& s) {
  Exchange post = probe.Send(HttpRequest::Make("POST", UploadsPath(run.repository)));
  if (post.status() != 202 || post.header("Location").empty()) {
    return FailStatus(post, 202, kUploadPostSentence);
  }
  s.chunk_location = post.header("Location");
  run.ledger.Upload("chunked", s.chunk_location);
  s.chunk_size = ChunkSize(post, 8192);
  s.chunked = run.maker.Layer(2 * s.chunk_size + s.chunk_size / 2);
  return Pass(post);
}

// PATCHes chunk `index` (0 or 1) of the chunked blob.
Verdict PatchChunk(Probe& probe, RunContext& run, PushState& s, size_t index) {
  const uint64_t offset = index * s.chunk_size;
  Exchange ex =
      probe.Send(Chunk(s.chunk_location, s.chunked.bytes.substr(offset, s.chunk_size), offset));
  if (auto failed = ExpectChunkAccepted(ex, offset + s.chunk_size - 1)) return *failed;
  s.chunk_location = ex.header("Location");
  run.ledger.Upload("chunked", s.chunk_location);
  return Pass(ex);
}

Verdict PatchFirst(Probe& probe, RunContext& run, PushState& s) {
  return PatchChunk(probe, run, s, 0);
}

Verdict PatchNext(Probe& probe, RunContext& run, PushState& s) {
  return PatchChunk(probe, run, s, 1);
}

Verdict GetStatus(Probe& probe, RunContext& run, PushState& s) {
  Exchange ex = probe.Send(HttpRequest::Make("GET", s.chunk_location));
  if (ex.status() != 204) return FailStatus(ex, 204, kStatusSentence);
  if (ex.header("Location").empty()) return Fail(kStatusSentence, "no Location header", ex);
  if (ex.header("Range") != RangeTo(s.chunk_size - 1)) {
    return Fail(kStatusSentence, "Range is not " + RangeTo(s.chunk_size - 1), ex);
  }
  s.chunk_location = ex.header("Location");
  run.ledger.Upload("chunked", s.chunk_location);
  return Pass(ex);
}

Verdict PutLastChunk(Probe& probe, RunContext& run, PushState& s) {
  const uint64_t offset = 2 * s.chunk_size;
  HttpRequest put = Chunk(AppendQuery(s.chunk_location, "digest", s.chunked.digest.ToString()),
                          s.chunked.bytes.substr(offset), offset);
  put.method = "PUT";
  Exchange ex = probe.Send(put);
  if (ex.status() != 201) return FailStatus(ex, 201, kCloseSentence);
  run.ledger.UploadClosed("chunked");
  run.ledger.Blob(run.repository, s.chunked.digest.ToString());
  if (ex.header("Location").empty()) return Fail(kCloseSentence, "no Location header", ex);
  if (auto failed = ExpectPullable(probe, BlobPath(run.repository, s.chunked.digest), s.chunked)) {
    return *failed;
  }
  return Pass(ex);
}

Verdict PutEmptyToClose(Probe& probe, RunContext& run, PushState&) {
  std::string location;
  if (Verdict v = OpenSession(probe, run.repository, location); v.status != CheckStatus::kPass) {
    return v;
  }
  run.ledger.Upload("empty-put", location);
  const Content blob = run.maker.Layer(12000);
  Exchange patch = probe.Send(Chunk(location, blob.bytes, 0));
  if (auto failed = ExpectChunkAccepted(patch, blob.size() - 1)) return *failed;
  run.ledger.Upload("empty-put", patch.header("Location"));
  Exchange put = probe.Send(HttpRequest::Make(
      "PUT", AppendQuery(patch.header("Location"), "digest", blob.digest.ToString())));
  if (put.status() != 201) return FailStatus(put, 201, kCloseSentence);
  run.ledger.UploadClosed("empty-put");
  run.ledger.Blob(run.repository, blob.digest.ToString());
  if (put.header("Location").empty()) return Fail(kCloseSentence, "no Location header", put);
  if (auto failed = ExpectPullable(probe, BlobPath(run.repository, blob.digest), blob)) {
    return *failed;
  }
  return Pass(put);
}

Verdict PatchOutOfOrder(Probe& probe, RunContext& run, PushState&) {
  Exchange post = probe.Send(HttpRequest::Make("POST", UploadsPath(run.repository)));
  if (post.status() != 202 || post.header("Location").empty()) {
    return FailStatus(post, 202, kUploadPostSentence);
  }
  run.ledger.Upload("out-of-order", post.header("Location"));
  const size_t size = ChunkSize(post, 1024);
  const Content blob = run.maker.Layer(3 * size);
  Exchange first = probe.Send(Chunk(post.header("Location"), blob.bytes.substr(0, size), 0));
  if (auto failed = ExpectChunkAccepted(first, size - 1)) return *failed;
  const std::string location = first.header("Location");
  run.ledger.Upload("out-of-order", location);
  // The third chunk where the second belongs.
  Exchange gap = probe.Send(Chunk(location, blob.bytes.substr(2 * size, size), 2 * size));
  if (gap.status() != 416) return FailStatus(gap, 416, kOutOfOrderSentence);
  // "To get the current status after a 416 error, issue a GET request".
  Exchange status = probe.Send(HttpRequest::Make("GET", location));
  if (status.status() != 204) return FailStatus(status, 204, kStatusSentence);
  if (status.header("Range") != RangeTo(size - 1)) {
    return Fail(kStatusSentence, "after the 416, Range is not " + RangeTo(size - 1), status);
  }
  if (!status.header("Location").empty()) {
    run.ledger.Upload("out-of-order", status.header("Location"));
  }
  return Pass(gap);
}

// --- Blobs, by mount
// ------------------------------------------------------------------------------

Verdict PostMount(Probe& probe, RunContext& run, PushState&) {
  const Content blob = run.maker.Layer(9000);
  if (auto failed = PushBlob(probe, run, run.repository, blob)) return *failed;
  const std::string target = AppendQuery(
      AppendQuery(UploadsPath(run.crossmount_repository), "mount", blob.digest.ToString()), "from",
      run.repository);
  Exchange mount = probe.Send(HttpRequest::Make("POST", target));
  if (mount.status() == 202) {
    if (!mount.header("Location").empty()) run.ledger.Upload("mount", mount.header("Location"));
    return Skip(
        "the registry did not mount the blob and opened an upload session instead, which it "
        "SHOULD do when it cannot mount: " +
        mount.Describe());
  }
  if (mount.status() != 201) return FailStatus(mount, 201, kMountSentence);
  run.ledger.Blob(run.crossmount_repository, blob.digest.ToString());
  if (mount.header("Location").empty()) return Fail(kMountSentence, "no Location header", mount);
  if (auto failed = ExpectPullable(probe, BlobPath(run.crossmount_repository, blob.digest), blob,
                                   kMountLocationSentence)) {
    return *failed;
  }
  return Pass(mount);
}

// --- Manifests
// ------------------------------------------------------------------------------------

Verdict Setup(Probe& probe, RunContext& run, PushState& s) {
  s.config = run.maker.Config();
  s.layer = run.maker.Layer(15000);
  for (const Content* blob : {&s.config, &s.layer}) {
    if (auto failed = PushBlob(probe, run, run.repository, *blob)) return *failed;
  }
  return Pass("pushed " + s.config.digest.ToString() + " and " + s.layer.digest.ToString());
}

Verdict PutByTag(Probe& probe, RunContext& run, PushState& s) {
  s.by_tag = run.maker.ImageManifest(s.config, {s.layer});
  return PutManifest(probe, run, s.by_tag, "push-" + run.run_id);
}

Verdict PutByDigest(Probe& probe, RunContext& run, PushState& s) {
  s.by_digest = run.maker.ImageManifest(s.config, {s.layer},
                                        {std::nullopt, "", {{kAnnotation, "by-digest"}}});
  return PutManifest(probe, run, s.by_digest, s.by_digest.digest.ToString());
}

Verdict PutIndex(Probe& probe, RunContext& run, PushState& s) {
  const Content index = run.maker.ImageIndex({s.by_tag, s.by_digest});
  return PutManifest(probe, run, index, "index-" + run.run_id);
}

Verdict PutWithAbsentSubject(Probe& probe, RunContext& run, PushState&) {
  const Content absent_subject = run.maker.ImageManifest(run.maker.Config(), {});
  const Content referrer = run.maker.ImageManifest(
      ContentMaker::Empty(), {}, {absent_subject, "application/vnd.example.ocireg-check", {}});
  if (auto failed = PushBlob(probe, run, run.repository, ContentMaker::Empty())) return *failed;
  Exchange put =
      probe.Send(HttpRequest::Make("PUT", ManifestPath(run.repository, referrer.digest.ToString()))
                     .Body(referrer.bytes, referrer.media_type));
  if (put.status() != 201) return FailStatus(put, 201, kSubjectAcceptSentence);
  run.ledger.Manifest(run.repository, referrer.digest.ToString());
  Exchange referrers =
      probe.Send(HttpRequest::Make("GET", ReferrersPath(run.repository, absent_subject.digest)));
  if (referrers.status() != 200) {
    return Pass(put, {"the referrers API is not available (" + std::to_string(referrers.status()) +
                      "), so no OCI-Subject is due"});
  }
  if (put.header("OCI-Subject") != absent_subject.digest.ToString()) {
    return Fail(
        kSubjectHeaderSentence,
        "the referrers API answers, but OCI-Subject is not " + absent_subject.digest.ToString(),
        put);
  }
  return Pass(put);
}

// --- The spec's main branch
// -----------------------------------------------------------------------

Verdict PushSha512(Probe& probe, RunContext& run, PushState&) {
  const Content blob = run.maker.Layer(7000, DigestAlgorithm::kSha512);
  Exchange post = probe.Send(HttpRequest::Make(
      "POST", AppendQuery(UploadsPath(run.repository), "digest-algorithm", "sha512")));
  if (post.status() == 400) {
    return Skip(
        "sha512 is not supported; the registry answered 400 as it SHOULD for an unsupported "
        "algorithm: " +
        post.Describe());
  }
  if (post.status() != 202 || post.header("Location").empty()) {
    return FailStatus(post, 202, kUploadPostSentence);
  }
  run.ledger.Upload("sha512", post.header("Location"));
  Exchange put = probe.Send(HttpRequest::Make("PUT", AppendQuery(post.header("Location"), "digest",
                                                                 blob.digest.ToString()))
                                .Body(blob.bytes, "application/octet-stream"));
  if (put.status() == 400) {
    return Skip(
        "sha512 is not supported; the PUT with a sha512 digest was refused with 400, as it "
        "SHOULD be for an unsupported algorithm: " +
        put.Describe());
  }
  if (put.status() != 201) return FailStatus(put, 201, kUploadPutSentence);
  run.ledger.UploadClosed("sha512");
  run.ledger.Blob(run.repository, blob.digest.ToString());
  Exchange get = probe.Send(HttpRequest::Make("GET", BlobPath(run.repository, blob.digest))
                                .HashWith(DigestAlgorithm::kSha512));
  if (get.status() != 200) return FailStatus(get, 200, kBlobGetSentence);
  if (get.response.body_digest != blob.digest) {
    return Fail(kBlobGetSentence, "the body is not the blob pushed", get);
  }
  if (!DigestHeaderMatchesBody(get, blob.digest)) {
    return Fail(kBlobDigestSentence, "Docker-Content-Digest does not match the body", get);
  }
  std::vector<std::string> notes;
  if (!HasDigest(get, blob.digest)) {
    notes.emplace_back(
        "Docker-Content-Digest names the blob by another algorithm, which the spec "
        "allows");
  }
  return Pass(put, notes);
}

Verdict PutWithTags(Probe& probe, RunContext& run, PushState& s) {
  const Content manifest =
      run.maker.ImageManifest(s.config, {s.layer}, {std::nullopt, "", {{kAnnotation, "tags"}}});
  const std::vector<std::string> tags = {"multi-" + run.run_id + "-a",
                                         "multi-" + run.run_id + "-b"};
  std::string target = ManifestPath(run.repository, manifest.digest.ToString());
  for (const auto& tag : tags) target = AppendQuery(target, "tag", tag);
  Exchange put =
      probe.Send(HttpRequest::Make("PUT", target).Body(manifest.bytes, manifest.media_type));
  if (put.status() != 201) return FailStatus(put, 201, kManifestPutSentence);
  run.ledger.Manifest(run.repository, manifest.digest.ToString());
  const std::set<std::string> accepted = OciTags(put);
  if (accepted.empty()) {
    Exchange head = probe.Send(HttpRequest::Make("HEAD", ManifestPath(run.repository, tags[0]))
                                   .Header("Accept", kManifestAccept));
    if (head.status() == 404) {
      return Skip(
          "tag parameters are not supported (MAY): no OCI-Tag header, and the tag does not "
          "exist: " +
          put.Describe());
    }
    return Fail(kOciTagSentence, "the tag was created but no OCI-Tag header names it", put);
  }
  for (const auto& tag : tags) {
    if (!accepted.contains(tag)) return Fail(kOciTagSentence, "OCI-Tag does not name " + tag, put);
    Exchange head = probe.Send(HttpRequest::Make("HEAD", ManifestPath(run.repository, tag))
                                   .Header("Accept", kManifestAccept));
    if (head.status() != 200 || !HasDigest(head, manifest.digest)) {
      return Fail(kOciTagSentence, "OCI-Tag names " + tag + " but it is not the manifest", head);
    }
  }
  return Pass(put);
}

Verdict CancelUpload(Probe& probe, RunContext& run, PushState&) {
  std::string location;
  if (Verdict v = OpenSession(probe, run.repository, location); v.status != CheckStatus::kPass) {
    return v;
  }
  run.ledger.Upload("cancel", location);
  const Content blob = run.maker.Layer(2000);
  Exchange patch = probe.Send(Chunk(location, blob.bytes, 0));
  if (auto failed = ExpectChunkAccepted(patch, blob.size() - 1)) return *failed;
  location = patch.header("Location");
  run.ledger.Upload("cancel", location);
  Exchange cancel = probe.Send(HttpRequest::Make("DELETE", location).Header("Content-Length", "0"));
  if (cancel.status() == 405) {
    return Skip("cancelling uploads is not supported (405): " + cancel.Describe());
  }
  if (cancel.status() < 200 || cancel.status() >= 300) {
    return FailStatus(cancel, 204, kCancelSentence);
  }
  run.ledger.UploadClosed("cancel");
  Exchange status = probe.Send(HttpRequest::Make("GET", location));
  if (status.status() != 404) {
    return Fail(kCancelSentence, "the session is still there after the DELETE", status);
  }
  std::vector<std::string> notes;
  if (cancel.status() != 204) notes.emplace_back("the response SHOULD be 204 No Content");
  return Pass(cancel, notes);
}

}  // namespace

std::vector<CheckDef> PushChecks(RunContext& run) {
  CheckList<PushState> list(CheckCategory::kPush, run);
  list.Add("end-4a", "POST to open an upload session", kPostPutSection, "post", {}, PostSession);
  list.Add("end-6", "PUT a blob monolithically after POST", kPostPutSection, "put", {"post"},
           PutMonolithic);
  list.Add("end-4b", "POST a blob in a single request", kSinglePostSection, "single-post", {},
           PostSingle);
  list.Add("end-4a", "POST to open a chunked upload session", kChunksSection, "chunk-post", {},
           PostChunked);
  list.Add("end-5", "PATCH the first chunk", kChunksSection, "chunk1", {"chunk-post"}, PatchFirst);
  list.Add("end-13", "GET the upload status", kChunksSection, "status", {"chunk1"}, GetStatus);
  list.Add("end-5", "PATCH the next chunk", kChunksSection, "chunk2", {"chunk1"}, PatchNext);
  list.Add("end-6", "PUT the last chunk to close the session", kChunksSection, "chunk-close",
           {"chunk2"}, PutLastChunk);
  list.Add("end-6", "PATCH the whole blob, close with an empty PUT", kChunksSection, "empty-put",
           {}, PutEmptyToClose);
  list.Add("end-5", "PATCH an out-of-order chunk is 416", kChunksSection, "out-of-order", {},
           PatchOutOfOrder);
  list.Add("end-11", "POST mount of a blob from another repository", kMountSection, "mount", {},
           PostMount);
  list.Add("setup", "push the blobs of the manifests", kManifestsSection, "setup", {}, Setup);
  list.Add("end-7a", "PUT manifest by tag", kManifestsSection, "put-tag", {"setup"}, PutByTag);
  list.Add("end-7a", "PUT manifest by digest", kManifestsSection, "put-digest", {"setup"},
           PutByDigest);
  list.Add("end-7a", "PUT image index by tag", kManifestsSection, "put-index",
           {"put-tag", "put-digest"}, PutIndex);
  list.Add("end-7a", "PUT manifest whose subject does not exist yet", kSubjectSection,
           "put-subject", {"setup"}, PutWithAbsentSubject);
  list.Add("end-4c", "POST with digest-algorithm=sha512, PUT a sha512 blob", kChunksSection,
           "sha512", {}, PushSha512, CheckLevel::kMainBranch);
  list.Add("end-7b", "PUT manifest by digest with tag parameters", kManifestsSection, "tags",
           {"setup"}, PutWithTags, CheckLevel::kMainBranch);
  list.Add("end-14", "DELETE an upload session", "Push > Cancel a blob upload", "cancel", {},
           CancelUpload, CheckLevel::kMainBranch);
  return list.Take();
}

}  // namespace ocireg::internal::check
