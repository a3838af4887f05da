// SPDX-License-Identifier: Apache-2.0
// S3Client's listings (ListObjectsV2, ListMultipartUploads) and multipart uploads.
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_client_call.h"
#include "storage/s3/s3_xml.h"

namespace ocireg::internal::s3 {

namespace {

void AddParam(std::vector<QueryParam>& query, std::string name, std::string_view value) {
  if (!value.empty()) query.emplace_back(std::move(name), value);
}

// A listing that does not move on would page forever.
constexpr size_t kMaxUploadPages = 100000;

}  // namespace

Result<ListResult> S3Client::List(const ListRequest& request) {
  Call call{.op = S3Operation::kListObjectsV2, .method = "GET"};
  call.query.emplace_back("list-type", "2");
  call.query.emplace_back("max-keys", std::to_string(request.max_keys));
  AddParam(call.query, "prefix", request.prefix);
  AddParam(call.query, "delimiter", request.delimiter);
  AddParam(call.query, "start-after", request.start_after);
  AddParam(call.query, "continuation-token", request.continuation_token);
  Outcome outcome = Execute(call);
  if (!outcome.status.ok()) return outcome.status;
  auto result = ParseListObjectsV2(outcome.response.body);
  if (!result.ok())
    return Unavailable("S3 ListObjectsV2 " + request.prefix + ": " + result.status().message());
  return result;
}

Result<std::string> S3Client::CreateMultipart(std::string_view key, const Metadata& metadata) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Call call{.op = S3Operation::kCreateMultipartUpload, .method = "POST", .key = key};
  call.query.emplace_back("uploads", "");
  OCIREG_RETURN_IF_ERROR(AddMetadata(metadata, call.headers));
  Outcome outcome = Execute(call);
  if (!outcome.status.ok()) return outcome.status;
  auto upload_id = ParseInitiateMultipartUpload(outcome.response.body);
  if (!upload_id.ok()) {
    return Unavailable("S3 CreateMultipartUpload " + std::string(key) + ": " +
                       upload_id.status().message());
  }
  return upload_id;
}

Result<std::string> S3Client::UploadPart(std::string_view key, std::string_view upload_id,
                                         uint32_t part_number, std::span<const char> bytes) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  if (part_number < 1 || part_number > 10000) {
    return InvalidArgument("S3 part number " + std::to_string(part_number) + " not in 1..10000");
  }
  Call call{.op = S3Operation::kUploadPart,
            .method = "PUT",
            .key = key,
            .body = std::string_view(bytes.data(), bytes.size())};
  call.query.emplace_back("partNumber", std::to_string(part_number));
  call.query.emplace_back("uploadId", upload_id);
  Outcome outcome = Execute(call);
  if (!outcome.status.ok()) return outcome.status;
  const std::string* etag = outcome.response.Header("etag");
  if (etag == nullptr || etag->empty()) {
    return Unavailable("S3 UploadPart " + std::string(key) + ": the answer has no ETag");
  }
  return *etag;
}

Result<std::string> S3Client::CompleteMultipart(std::string_view key, std::string_view upload_id,
                                                std::span<const CompletedPart> parts) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  const std::string body = CompleteMultipartUploadBody(parts);
  Call call{.op = S3Operation::kCompleteMultipartUpload,
            .method = "POST",
            .key = key,
            .body = body,
            .error_in_200 = true};
  call.query.emplace_back("uploadId", upload_id);
  Outcome outcome = Execute(call);
  // An attempt that timed out may have completed the upload: the retry then finds it gone.
  if (outcome.attempts > 1 && outcome.error && outcome.error->code == "NoSuchUpload") {
    auto head = Head(key);
    if (head.ok()) return head->etag;
  }
  if (!outcome.status.ok()) return outcome.status;
  auto etag = ParseCompleteMultipartUpload(outcome.response.body);
  if (!etag.ok()) {
    return Unavailable("S3 CompleteMultipartUpload " + std::string(key) + ": " +
                       etag.status().message());
  }
  return etag;
}

Status S3Client::AbortMultipart(std::string_view key, std::string_view upload_id) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Call call{.op = S3Operation::kAbortMultipartUpload,
            .method = "DELETE",
            .key = key,
            .accept = [](const HttpResponse& r) { return IsMissingKey(r, "NoSuchUpload"); }};
  call.query.emplace_back("uploadId", upload_id);
  return Execute(call).status;
}

Result<std::vector<MultipartUpload>> S3Client::ListMultipartUploads(std::string_view prefix) {
  std::vector<MultipartUpload> uploads;
  std::string key_marker, upload_id_marker;
  for (size_t page = 0; page < kMaxUploadPages; ++page) {
    Call call{.op = S3Operation::kListMultipartUploads, .method = "GET"};
    call.query.emplace_back("uploads", "");
    AddParam(call.query, "prefix", prefix);
    AddParam(call.query, "key-marker", key_marker);
    AddParam(call.query, "upload-id-marker", upload_id_marker);
    Outcome outcome = Execute(call);
    if (!outcome.status.ok()) return outcome.status;
    auto list = ParseListMultipartUploads(outcome.response.body);
    if (!list.ok()) {
      return Unavailable("S3 ListMultipartUploads " + std::string(prefix) + ": " +
                         list.status().message());
    }
    uploads.insert(uploads.end(), list->uploads.begin(), list->uploads.end());
    if (!list->truncated) return uploads;
    if (list->next_key_marker == key_marker && list->next_upload_id_marker == upload_id_marker) {
      return Unavailable("S3 ListMultipartUploads " + std::string(prefix) +
                         ": the listing does not move on");
    }
    key_marker = std::move(list->next_key_marker);
    upload_id_marker = std::move(list->next_upload_id_marker);
  }
  return Unavailable("S3 ListMultipartUploads " + std::string(prefix) + ": too many pages");
}

}  // namespace ocireg::internal::s3
