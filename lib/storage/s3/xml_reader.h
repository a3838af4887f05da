// SPDX-License-Identifier: Apache-2.0
// ReadXml: a small streaming (SAX) reader over expat for S3's XML answers.
//
// S3 answers are shallow records ("ListBucketResult/Contents/Key"), so the reader hands its
// visitor each element by its path from the root: Open when the element starts (a new record),
// Text when it ends, with the character data directly inside it. The reader holds only the open
// path and the current text, within XmlLimits; a document type declaration (and with it any entity
// of its own) is refused, so entity expansion cannot grow memory.
//
//   XmlVisitor v;
//   v.text = [&](std::string_view path, std::string_view text) {
//     if (path == "InitiateMultipartUploadResult/UploadId") upload_id = text;
//   };
//   Result<std::string> root = ReadXml(body, v);
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal::s3 {

struct XmlLimits {
  size_t max_depth = 16;        // S3's answers nest 3 deep
  size_t max_text = 64 * 1024;  // keys are at most 1 KiB; tokens and messages are short
  size_t max_body = 64u << 20;  // a 1,000-key listing is about 0.5 MiB
};

struct XmlVisitor {
  std::function<void(std::string_view path)> open;
  std::function<void(std::string_view path, std::string_view text)> text;
};

// Reads the whole document `body`, calling `visitor` as it goes. Returns the root element's name;
// kUnavailable (a malformed answer from the service) when `body` is not well-formed XML, declares
// a document type, or passes `limits`.
Result<std::string> ReadXml(std::string_view body, const XmlVisitor& visitor,
                            const XmlLimits& limits = {});

}  // namespace ocireg::internal::s3
