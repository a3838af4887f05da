// SPDX-License-Identifier: Apache-2.0
// Blob upload endpoints: POST (end-4a/4b/4c, mount end-11), PATCH (end-5), PUT (end-6),
// GET status (end-13) and DELETE (end-14) of /v2/<name>/blobs/uploads/...
#include <httplib.h>

#include "http/api.h"
#include "http/chunk_range.h"
#include "http/response.h"

namespace ocireg::internal {
namespace {

// The request's Content-Range checked against the session's `size` (see chunk_range.h).
Status CheckRequestChunkRange(const httplib::Request& req, uint64_t size) {
  const BodyFraming framing = InspectBody(req);
  std::optional<std::string> content_range;
  if (req.has_header("Content-Range")) content_range = req.get_header_value("Content-Range");
  return CheckChunkRange(
      content_range ? std::optional<std::string_view>(*content_range) : std::nullopt,
      framing.length, size);
}

}  // namespace

Status Api::AppendBody(Exchange& ex, Upload& upload, uint64_t offset, ThenCommit then_commit) {
  uint64_t next = offset;
  // Each append names its offset, so two requests racing on one session cannot interleave.
  Status read = ReadBody(ex, 0, Status(), kIoChunkBytes, aborting,
                         [&](std::span<const char> bytes) -> Status {
                           OCIREG_RETURN_IF_ERROR(upload.Append(bytes, next));
                           next += bytes.size();
                           return Status::Ok();
                         });
  if (!read.ok() && next != offset) {
    // The client is told the chunk failed (a body cut short, a timeout, a write error), so none
    // of it may count: it resumes from the offset it started at.
    if (Status rewound = upload.Rewind(offset, next); !rewound.ok()) {
      Log(LogLevel::kWarn,
          "upload " + upload.id() + " keeps part of a failed chunk: " + rewound.ToString());
    }
  }
  if (!read.ok()) return read;
  // A commit follows in this request and ends the session whatever its outcome (Upload::Commit):
  // nothing will continue from a save, which would cost a write of the bytes not yet in a part.
  if (then_commit == ThenCommit::kYes) return Status::Ok();
  // Saved before the chunk is acknowledged, so that any process sharing the storage (or this one
  // after a restart) continues from it.
  return upload.Persist();
}

void Api::AnswerUploadProgress(Exchange& ex, Upload& upload, uint64_t size, int status) {
  ex.res.status = status;
  ex.res.set_header("Location", UploadLocation(ex.route.name, upload.id()));
  ex.res.set_header("Range", UploadRange(size));
  ex.res.set_header("Docker-Upload-UUID", upload.id());
  ex.res.set_header("Content-Length", "0");
}

bool Api::TryMount(Exchange& ex, const Digest& digest) {
  const std::string& name = ex.route.name;
  auto answer_created = [&](const Digest& d) {
    ex.res.status = 201;
    ex.res.set_header("Location", BlobLocation(name, d));
    ex.res.set_header("Docker-Content-Digest", d.ToString());
    ex.res.set_header("Content-Length", "0");
    return true;
  };
  if (store_.StatBlob(name, digest).ok()) return answer_created(digest);

  std::vector<std::string> sources;
  if (auto from = QueryParam(ex.req, "from"); from && !from->empty()) {
    sources.push_back(*from);
  } else if (features_.auto_mount) {
    sources = store_.FindBlob(digest);
  }
  for (const auto& source : sources) {
    // The caller must be allowed to read the source; otherwise the mount would leak its content.
    if (source == name || !Authorize(ex.caller, source, Action::kRead).ok()) continue;
    auto mounted = store_.MountBlob(name, digest, source);
    if (mounted.ok()) return answer_created(mounted->digest);
    // A source that lacks the blob (or vanished) only means a normal upload; anything else is
    // worth knowing about but still leaves the client a session to upload into.
    if (!mounted.status().Is(ErrorCode::kBlobUnknown) &&
        !mounted.status().Is(ErrorCode::kNameUnknown) &&
        !mounted.status().Is(ErrorCode::kNameInvalid)) {
      Log(LogLevel::kWarn, "mount of " + digest.ToString() + " from " + source + " into " + name +
                               " failed: " + mounted.status().ToString());
    }
  }
  return false;
}

void Api::PostUpload(Exchange& ex) {
  const std::string& name = ex.route.name;
  if (auto mount = QueryParam(ex.req, "mount")) {
    auto digest = Digest::Parse(*mount);
    if (!digest.ok()) return Fail(ex, digest.status());
    if (TryMount(ex, *digest)) return;
    // Not mountable: the spec's fallback is a normal session (202) below.
  }

  std::optional<Digest> expected;
  DigestAlgorithm algorithm = DigestAlgorithm::kSha256;
  if (auto text = QueryParam(ex.req, "digest"); text && !ex.req.has_param("mount")) {
    auto digest = Digest::Parse(*text);
    if (!digest.ok()) return Fail(ex, digest.status());
    expected = *digest;
    algorithm = digest->algorithm();
  } else if (auto alg = QueryParam(ex.req, "digest-algorithm")) {
    auto parsed = ParseAlgorithm(*alg);
    if (!parsed.ok()) return Fail(ex, parsed.status());
    algorithm = *parsed;
  }

  // Sessions live until committed, cancelled or expired: their number is bounded.
  const std::string client = QuotaClient(ex);
  Status admitted =
      upload_quota_.Reserve(client, [this](const std::string& repo, const std::string& id) {
        return store_.GetUpload(repo, id).ok();
      });
  if (!admitted.ok()) return Fail(ex, admitted);
  auto upload = store_.StartUpload(name, algorithm);
  if (!upload.ok()) {
    upload_quota_.Release(client);
    return Fail(ex, upload.status());
  }
  if (!expected) {
    upload_quota_.Record(client, name, (*upload)->id());
    return AnswerUploadProgress(ex, **upload, 0, 202);
  }
  PostMonolithic(ex, **upload, *expected);
  // The session ended within this request, committed or not.
  upload_quota_.Release(client);
}

void Api::PostMonolithic(Exchange& ex, Upload& upload, const Digest& expected) {
  if (Status s = AppendBody(ex, upload, 0, ThenCommit::kYes); !s.ok()) {
    (void)upload.Cancel();
    return Fail(ex, s, ErrorCode::kBlobUploadUnknown);
  }
  const BodyFraming framing = InspectBody(ex.req);
  auto blob = upload.Commit(expected, framing.chunked ? std::nullopt : framing.length);
  if (!blob.ok()) return Fail(ex, blob.status(), ErrorCode::kBlobUploadUnknown);
  ex.res.status = 201;
  ex.res.set_header("Location", BlobLocation(ex.route.name, blob->digest));
  ex.res.set_header("Docker-Content-Digest", blob->digest.ToString());
  ex.res.set_header("Content-Length", "0");
}

std::string Api::QuotaClient(const Exchange& ex) {
  return ex.caller.anonymous() ? "address " + ex.req.remote_addr
                               : "user " + std::string(ex.caller.user());
}

std::shared_ptr<Upload> Api::ReceiveChunk(Exchange& ex, ThenCommit then_commit) {
  auto upload = store_.GetUpload(ex.route.name, ex.route.reference);
  if (!upload.ok()) {
    Fail(ex, upload.status(), ErrorCode::kBlobUploadUnknown);
    return nullptr;
  }
  auto size = (*upload)->Size();
  if (!size.ok()) {
    Fail(ex, size.status(), ErrorCode::kBlobUploadUnknown);
    return nullptr;
  }
  if (Status s = CheckRequestChunkRange(ex.req, *size); !s.ok()) {
    // The client learns where to resume, as from a status GET.
    ex.res.set_header("Range", UploadRange(*size));
    ex.res.set_header("Location", UploadLocation(ex.route.name, (*upload)->id()));
    Fail(ex, s);
    return nullptr;
  }
  if (Status s = AppendBody(ex, **upload, *size, then_commit); !s.ok()) {
    Fail(ex, s, ErrorCode::kBlobUploadUnknown);
    return nullptr;
  }
  return *upload;
}

void Api::PatchUpload(Exchange& ex) {
  auto upload = ReceiveChunk(ex, ThenCommit::kNo);
  if (upload == nullptr) return;
  auto new_size = upload->Size();
  if (!new_size.ok()) return Fail(ex, new_size.status(), ErrorCode::kBlobUploadUnknown);
  AnswerUploadProgress(ex, *upload, *new_size, 202);
}

void Api::PutUpload(Exchange& ex) {
  auto text = QueryParam(ex.req, "digest");
  if (!text) return Fail(ex, DigestInvalid("the closing PUT needs ?digest="));
  auto digest = Digest::Parse(*text);
  if (!digest.ok()) return Fail(ex, digest.status());
  auto upload = ReceiveChunk(ex, ThenCommit::kYes);
  if (upload == nullptr) return;
  auto blob = upload->Commit(*digest);
  upload_quota_.Ended(upload->id());  // whatever the outcome (Upload::Commit)
  if (!blob.ok()) return Fail(ex, blob.status(), ErrorCode::kBlobUploadUnknown);
  ex.res.status = 201;
  ex.res.set_header("Location", BlobLocation(ex.route.name, blob->digest));
  ex.res.set_header("Docker-Content-Digest", blob->digest.ToString());
  ex.res.set_header("Content-Length", "0");
}

void Api::GetUploadStatus(Exchange& ex) {
  auto upload = store_.GetUpload(ex.route.name, ex.route.reference);
  if (!upload.ok()) return Fail(ex, upload.status(), ErrorCode::kBlobUploadUnknown);
  auto size = (*upload)->Size();
  if (!size.ok()) return Fail(ex, size.status(), ErrorCode::kBlobUploadUnknown);
  AnswerUploadProgress(ex, **upload, *size, 204);
}

void Api::CancelUpload(Exchange& ex) {
  auto upload = store_.GetUpload(ex.route.name, ex.route.reference);
  if (!upload.ok()) return Fail(ex, upload.status(), ErrorCode::kBlobUploadUnknown);
  if (Status s = (*upload)->Cancel(); !s.ok()) return Fail(ex, s, ErrorCode::kBlobUploadUnknown);
  upload_quota_.Ended((*upload)->id());
  ex.res.status = 204;
}

}  // namespace ocireg::internal
