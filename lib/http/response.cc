// SPDX-License-Identifier: Apache-2.0
// JSON response bodies (RapidJSON writer) and the mapping of Status onto error responses.
#include "http/response.h"

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ocireg/manifest.h"

namespace ocireg::internal {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void String(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void StringArray(JsonWriter& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& item : items) String(w, item);
  w.EndArray();
}

void WriteDescriptor(JsonWriter& w, const Descriptor& d) {
  w.StartObject();
  String(w, "mediaType");
  String(w, d.media_type);
  String(w, "digest");
  String(w, d.digest.ToString());
  String(w, "size");
  w.Int64(d.size);
  if (!d.artifact_type.empty()) {
    String(w, "artifactType");
    String(w, d.artifact_type);
  }
  if (!d.annotations.empty()) {
    String(w, "annotations");
    w.StartObject();
    for (const auto& [key, value] : d.annotations) {
      String(w, key);
      String(w, value);
    }
    w.EndObject();
  }
  w.EndObject();
}

bool IsStorageLevel(ErrorCode code) {
  return code == ErrorCode::kNotFound || code == ErrorCode::kAlreadyExists ||
         code == ErrorCode::kInvalidArgument;
}

}  // namespace

std::string ErrorBody(ErrorCode code, std::string_view message) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  String(w, "errors");
  w.StartArray();
  w.StartObject();
  String(w, "code");
  String(w, SpecCode(code));
  String(w, "message");
  String(w, message.empty() ? SpecMessage(code) : message);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status ClientStatus(const Status& status, ErrorCode not_found) {
  if (IsNotFound(status)) return {not_found, std::string(SpecMessage(not_found))};
  // A storage path collision, a bad driver argument or an I/O failure: a server-side problem
  // whose message names paths of the server. The caller logs it; the client learns only that.
  if (IsStorageLevel(status.code()) || status.Is(ErrorCode::kInternal)) {
    return Internal("internal server error");
  }
  return status;
}

void WriteError(httplib::Response& res, const Status& status, int http_status) {
  Status visible = ClientStatus(status);
  res.status = http_status != 0 ? http_status : HttpStatus(visible.code());
  // set_header adds rather than replaces: drop what a handler set before it failed.
  res.headers.erase("Content-Type");
  res.headers.erase("Content-Length");
  res.set_content(ErrorBody(visible.code(), visible.message()), "application/json");
}

ErrorCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kDenied;
    case 404:
      return ErrorCode::kNameUnknown;
    case 405:
      return ErrorCode::kUnsupported;
    case 413:
      return ErrorCode::kSizeInvalid;
    case 414:
      return ErrorCode::kNameInvalid;
    case 416:
      return ErrorCode::kRangeInvalid;
    case 429:
      return ErrorCode::kTooManyRequests;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      break;
  }
  if (http_status >= 500) return ErrorCode::kInternal;
  return ErrorCode::kUnsupported;
}

std::string TagListBody(std::string_view name, const std::vector<std::string>& tags) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  String(w, "name");
  String(w, name);
  String(w, "tags");
  StringArray(w, tags);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string CatalogBody(const std::vector<std::string>& repositories) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  String(w, "repositories");
  StringArray(w, repositories);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ReferrersBody(const std::vector<Descriptor>& manifests) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  String(w, "schemaVersion");
  w.Int(2);
  String(w, "mediaType");
  String(w, media_types::kOciIndex);
  String(w, "manifests");
  w.StartArray();
  for (const auto& d : manifests) WriteDescriptor(w, d);
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace ocireg::internal
