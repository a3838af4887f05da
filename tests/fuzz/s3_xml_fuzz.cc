// SPDX-License-Identifier: Apache-2.0
// Fuzzes the readers of S3's XML answers (ListObjectsV2, Error, multipart results): whatever the
// service sends, they return a record or an error, within their bounds, and what they accept
// keeps its invariants.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "storage/s3/s3_xml.h"
#include "storage/s3/xml_reader.h"
#include "xml_escape.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ocireg::internal::s3;
  using ocireg::internal::XmlEscape;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto list = ParseListObjectsV2(input); list.ok()) {
    for (const ObjectSummary& object : list->objects) FUZZ_CHECK(!object.key.empty(), input);
    FUZZ_CHECK(!list->truncated || !list->next_continuation_token.empty(), input);
  } else {
    FUZZ_CHECK(list.status().code() == ocireg::ErrorCode::kUnavailable, input);
  }
  if (auto uploads = ParseListMultipartUploads(input); uploads.ok()) {
    for (const MultipartUpload& upload : uploads->uploads) {
      FUZZ_CHECK(!upload.key.empty() && !upload.upload_id.empty(), input);
    }
  }
  if (auto id = ParseInitiateMultipartUpload(input); id.ok()) FUZZ_CHECK(!id->empty(), input);
  (void)ParseCompleteMultipartUpload(input);
  (void)ParseError(input);

  // Every element's text stays within the limit the reader promises.
  const XmlLimits limits;
  XmlVisitor visitor;
  visitor.text = [&](std::string_view path, std::string_view text) {
    FUZZ_CHECK(text.size() <= limits.max_text, input);
    FUZZ_CHECK(!path.empty(), input);
  };
  (void)ReadXml(input, visitor, limits);

  // An escaped text is read back as itself, unless it holds control characters XML cannot carry
  // (XmlEscape turns them into '?') or a carriage return (XML reads line ends as newlines).
  const std::string text(input.substr(0, 256));
  const bool representable = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t';
  });
  if (representable) {
    std::string read;
    XmlVisitor back;
    back.text = [&](std::string_view, std::string_view t) { read = t; };
    if (ReadXml("<a>" + XmlEscape(text) + "</a>", back).ok()) FUZZ_CHECK(read == text, text);
  }
  return 0;
}
