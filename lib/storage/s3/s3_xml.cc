// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/s3_xml.h"

#include <charconv>

#include "storage/s3/s3_time.h"
#include "storage/s3/xml_reader.h"
#include "xml_escape.h"

namespace ocireg::internal::s3 {

namespace {

// Collects the first problem a reader meets in a field, so the parse reports it once done.
class FieldErrors {
 public:
  void Note(std::string_view path, std::string_view text) {
    if (error_.empty()) error_ = "bad " + std::string(path) + " '" + std::string(text) + "'";
  }
  Status status() const { return error_.empty() ? Status::Ok() : Unavailable(error_); }

 private:
  std::string error_;
};

std::optional<uint64_t> ParseSize(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

Status ExpectRoot(const Result<std::string>& root, std::string_view expected) {
  if (!root.ok()) return root.status();
  if (*root != expected) {
    return Unavailable("unexpected XML answer: <" + *root + "> where <" + std::string(expected) +
                       "> was due");
  }
  return Status::Ok();
}

void ReadObjectField(std::string_view field, std::string_view text, ObjectSummary& object,
                     FieldErrors& errors) {
  if (field == "Key") {
    object.key = text;
  } else if (field == "Size") {
    if (auto size = ParseSize(text))
      object.size = *size;
    else
      errors.Note(field, text);
  } else if (field == "LastModified") {
    if (auto time = ParseIsoTime(text))
      object.last_modified = *time;
    else
      errors.Note(field, text);
  } else if (field == "ETag") {
    object.etag = text;
  }
}

}  // namespace

std::optional<ErrorBody> ParseError(std::string_view body) {
  ErrorBody error;
  XmlVisitor visitor;
  visitor.text = [&](std::string_view path, std::string_view text) {
    if (path == "Error/Code")
      error.code = text;
    else if (path == "Error/Message")
      error.message = text;
    else if (path == "Error/RequestId")
      error.request_id = text;
  };
  auto root = ReadXml(body, visitor);
  if (!root.ok() || *root != "Error") return std::nullopt;
  return error;
}

Result<ListResult> ParseListObjectsV2(std::string_view body) {
  constexpr std::string_view kContents = "ListBucketResult/Contents";
  ListResult result;
  FieldErrors errors;
  XmlVisitor visitor;
  visitor.open = [&](std::string_view path) {
    if (path == kContents) result.objects.emplace_back();
  };
  visitor.text = [&](std::string_view path, std::string_view text) {
    if (path.starts_with(kContents) && path.size() > kContents.size() &&
        path[kContents.size()] == '/') {
      ReadObjectField(path.substr(kContents.size() + 1), text, result.objects.back(), errors);
    } else if (path == "ListBucketResult/CommonPrefixes/Prefix") {
      result.common_prefixes.emplace_back(text);
    } else if (path == "ListBucketResult/NextContinuationToken") {
      result.next_continuation_token = text;
    } else if (path == "ListBucketResult/IsTruncated") {
      if (auto truncated = ParseBool(text))
        result.truncated = *truncated;
      else
        errors.Note(path, text);
    }
  };
  OCIREG_RETURN_IF_ERROR(ExpectRoot(ReadXml(body, visitor), "ListBucketResult"));
  OCIREG_RETURN_IF_ERROR(errors.status());
  for (const ObjectSummary& object : result.objects) {
    if (object.key.empty()) return Unavailable("ListBucketResult: a Contents without a Key");
  }
  if (result.truncated && result.next_continuation_token.empty()) {
    return Unavailable("ListBucketResult: truncated without a NextContinuationToken");
  }
  return result;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  std::string upload_id;
  XmlVisitor visitor;
  visitor.text = [&](std::string_view path, std::string_view text) {
    if (path == "InitiateMultipartUploadResult/UploadId") upload_id = text;
  };
  OCIREG_RETURN_IF_ERROR(ExpectRoot(ReadXml(body, visitor), "InitiateMultipartUploadResult"));
  if (upload_id.empty()) return Unavailable("InitiateMultipartUploadResult without an UploadId");
  return upload_id;
}

Result<std::string> ParseCompleteMultipartUpload(std::string_view body) {
  std::string etag;
  XmlVisitor visitor;
  visitor.text = [&](std::string_view path, std::string_view text) {
    if (path == "CompleteMultipartUploadResult/ETag") etag = text;
  };
  OCIREG_RETURN_IF_ERROR(ExpectRoot(ReadXml(body, visitor), "CompleteMultipartUploadResult"));
  return etag;
}

Result<MultipartUploadList> ParseListMultipartUploads(std::string_view body) {
  constexpr std::string_view kRoot = "ListMultipartUploadsResult";
  constexpr std::string_view kUpload = "ListMultipartUploadsResult/Upload";
  MultipartUploadList list;
  FieldErrors errors;
  XmlVisitor visitor;
  visitor.open = [&](std::string_view path) {
    if (path == kUpload) list.uploads.emplace_back();
  };
  visitor.text = [&](std::string_view path, std::string_view text) {
    if (path == "ListMultipartUploadsResult/Upload/Key") {
      list.uploads.back().key = text;
    } else if (path == "ListMultipartUploadsResult/Upload/UploadId") {
      list.uploads.back().upload_id = text;
    } else if (path == "ListMultipartUploadsResult/Upload/Initiated") {
      if (auto time = ParseIsoTime(text))
        list.uploads.back().initiated = *time;
      else
        errors.Note(path, text);
    } else if (path == "ListMultipartUploadsResult/IsTruncated") {
      if (auto truncated = ParseBool(text))
        list.truncated = *truncated;
      else
        errors.Note(path, text);
    } else if (path == "ListMultipartUploadsResult/NextKeyMarker") {
      list.next_key_marker = text;
    } else if (path == "ListMultipartUploadsResult/NextUploadIdMarker") {
      list.next_upload_id_marker = text;
    }
  };
  OCIREG_RETURN_IF_ERROR(ExpectRoot(ReadXml(body, visitor), kRoot));
  OCIREG_RETURN_IF_ERROR(errors.status());
  for (const MultipartUpload& upload : list.uploads) {
    if (upload.key.empty() || upload.upload_id.empty()) {
      return Unavailable("ListMultipartUploadsResult: an Upload without Key or UploadId");
    }
  }
  if (list.truncated && list.next_key_marker.empty()) {
    return Unavailable("ListMultipartUploadsResult: truncated without a NextKeyMarker");
  }
  return list;
}

std::string CompleteMultipartUploadBody(std::span<const CompletedPart> parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const CompletedPart& part : parts) {
    body += "<Part><PartNumber>";
    body += std::to_string(part.number);
    body += "</PartNumber><ETag>";
    body += XmlEscape(part.etag);
    body += "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  return body;
}

}  // namespace ocireg::internal::s3
