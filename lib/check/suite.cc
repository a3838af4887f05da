// SPDX-License-Identifier: Apache-2.0
// The endpoints' paths and the plain pushes the categories set themselves up with.
#include "check/suite.h"

namespace ocireg::internal::check {

std::string BlobPath(const std::string& repository, const Digest& digest) {
  return "/v2/" + repository + "/blobs/" + digest.ToString();
}

std::string ManifestPath(const std::string& repository, const std::string& reference) {
  return "/v2/" + repository + "/manifests/" + reference;
}

std::string UploadsPath(const std::string& repository) {
  return "/v2/" + repository + "/blobs/uploads/";
}

std::string TagsPath(const std::string& repository) { return "/v2/" + repository + "/tags/list"; }

std::string ReferrersPath(const std::string& repository, const Digest& digest) {
  return "/v2/" + repository + "/referrers/" + digest.ToString();
}

bool HasDigest(const Exchange& ex, const Digest& digest) {
  return ex.header("Docker-Content-Digest") == digest.ToString();
}

bool DigestHeaderMatchesBody(const Exchange& ex, const Digest& expected) {
  auto header = Digest::Parse(ex.header("Docker-Content-Digest"));
  if (!header.ok()) return false;
  if (header->algorithm() == expected.algorithm()) return *header == expected;
  return ex.response.body.size() == ex.response.body_size &&
         Digester::Of(header->algorithm(), ex.response.body) == *header;
}

std::optional<Verdict> PushBlob(Probe& probe, RunContext& run, const std::string& repository,
                                const Content& blob) {
  Exchange post = probe.Send(HttpRequest::Make("POST", UploadsPath(repository)));
  if (post.status() != 202 || post.header("Location").empty()) {
    return FailStatus(post, 202, kUploadPostSentence);
  }
  const std::string session = "push " + blob.digest.ToString() + " to " + repository;
  run.ledger.Upload(session, post.header("Location"));
  Exchange put = probe.Send(HttpRequest::Make("PUT", AppendQuery(post.header("Location"), "digest",
                                                                 blob.digest.ToString()))
                                .Body(blob.bytes, "application/octet-stream"));
  if (put.status() != 201 || put.header("Location").empty()) {
    return FailStatus(put, 201, kUploadPutSentence);
  }
  run.ledger.UploadClosed(session);
  run.ledger.Blob(repository, blob.digest.ToString());
  return std::nullopt;
}

std::optional<Verdict> PushManifest(Probe& probe, RunContext& run, const std::string& repository,
                                    const Content& manifest, const std::string& reference) {
  const std::string ref = reference.empty() ? manifest.digest.ToString() : reference;
  Exchange put = probe.Send(HttpRequest::Make("PUT", ManifestPath(repository, ref))
                                .Body(manifest.bytes, manifest.media_type));
  if (put.status() != 201 || put.header("Location").empty()) {
    return FailStatus(put, 201, kManifestPutSentence);
  }
  run.ledger.Manifest(repository, manifest.digest.ToString());
  return std::nullopt;
}

}  // namespace ocireg::internal::check
