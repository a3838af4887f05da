// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/s3_client_call.h"

#include "storage/s3/s3_xml.h"

namespace ocireg::internal::s3 {

namespace {

bool IsHeaderValue(std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

bool IsMetadataName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status CheckKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("S3 object key must not be empty");
  if (key.size() > 1024) return InvalidArgument("S3 object key longer than 1024 bytes");
  return Status::Ok();
}

Status AddHeader(std::string_view name, std::string_view value, std::vector<HeaderField>& headers) {
  if (value.empty()) return Status::Ok();
  if (!IsHeaderValue(value)) {
    return InvalidArgument("S3 header " + std::string(name) + " has control characters");
  }
  headers.emplace_back(name, value);
  return Status::Ok();
}

Status AddMetadata(const Metadata& metadata, std::vector<HeaderField>& headers) {
  for (const auto& [name, value] : metadata) {
    if (!IsMetadataName(name)) {
      return InvalidArgument("S3 metadata name '" + name + "' is not a lower-case token");
    }
    if (!IsHeaderValue(value)) {
      return InvalidArgument("S3 metadata " + name + " has control characters");
    }
    headers.emplace_back("x-amz-meta-" + name, value);
  }
  return Status::Ok();
}

bool IsMissingKey(const HttpResponse& response, std::string_view code) {
  if (response.status != 404) return false;
  std::optional<ErrorBody> error = ParseError(response.body);
  return !error || error->code == code;
}

}  // namespace ocireg::internal::s3
