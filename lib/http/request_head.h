// SPDX-License-Identifier: Apache-2.0
// RequestHead: the request line and header fields of one HTTP/1.x request, checked strictly
// before httplib sees them, so that ocireg, httplib and any proxy in front agree on framing.
//
// Why: httplib 0.11 reads a request line and headers of any size and count, skips lines that
// end in a bare LF, reads Content-Length with strtoull ("+38" is 38) and lets the first of two
// Content-Length headers win. A proxy that reads the same bytes differently would see another
// request boundary than we do (request smuggling). Only what this parser accepts is passed on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ocireg/status.h"

namespace ocireg::internal {

// Bounds on one request head; memory per connection stays within max_head_bytes.
struct HeadLimits {
  size_t max_request_line = 8 * 1024;  // request line with its CRLF: over it, 414
  size_t max_head_bytes = 64 * 1024;   // request line, fields and the blank line: over it, 431
  size_t max_fields = 100;             // header fields: over it, 431
};

// Why a head is refused: the HTTP status, the OCI error code and a message for the client.
struct HeadRefusal {
  int http_status = 400;
  ErrorCode code = ErrorCode::kUnsupported;
  std::string message;
};

// Where the head ends in the bytes received so far.
struct HeadIncomplete {};
using HeadBoundary = std::variant<HeadIncomplete, size_t, HeadRefusal>;

// The length of the head at the start of `received` (through its empty line), HeadIncomplete
// while more bytes may complete it within the limits, or a refusal (414, 431) once they cannot,
// or 400 for a line ended by a bare LF. The first `from` bytes were checked by an earlier call
// that found the head incomplete, so a head that arrives a byte at a time is not rescanned.
HeadBoundary FindHeadEnd(std::string_view received, const HeadLimits& limits, size_t from = 0);

// A head that passed ParseRequestHead. The views point into the parsed bytes.
struct RequestHead {
  std::string_view method;
  std::string_view target;
  bool http10 = false;  // HTTP/1.0 (else HTTP/1.1)
  std::optional<uint64_t> content_length;
  bool chunked = false;  // Transfer-Encoding: chunked
  bool close = false;    // the connection ends after this request
  size_t size = 0;       // bytes of the head, the final CRLF included
  // Offset and length of the Transfer-Encoding value in the head, so that it can be lowercased.
  size_t transfer_encoding_at = 0;
  size_t transfer_encoding_size = 0;
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

// Parses and checks a complete head (as FindHeadEnd delimited it). Refused: a malformed request
// line or field; a method the API does not use (501); a version other than HTTP/1.0 and 1.1
// (505); more than `max_fields` fields (431); HTTP/1.1 without exactly one Host, or HTTP/1.0 with
// several (400); a Transfer-Encoding other than exactly "chunked" (501), or on HTTP/1.0, or with
// a Content-Length (400); a Content-Length that is not 1*DIGIT, or given twice even with equal
// values (400); a body (Content-Length > 0 or chunked) on GET or HEAD (400).
std::variant<RequestHead, HeadRefusal> ParseRequestHead(std::string_view head,
                                                        const HeadLimits& limits);

// Whether `list` (a comma-separated header value) holds `token`, compared case-insensitively.
bool HasToken(std::string_view list, std::string_view token);

}  // namespace ocireg::internal
