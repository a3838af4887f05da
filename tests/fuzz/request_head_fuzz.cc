// SPDX-License-Identifier: Apache-2.0
// Fuzzes FindHeadEnd and ParseRequestHead, the checks every request head passes before httplib
// reads it.
//
// Input: the bytes a client sends on a new connection.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_check.h"
#include "http/request_head.h"

namespace {

using ocireg::internal::FindHeadEnd;
using ocireg::internal::HeadBoundary;
using ocireg::internal::HeadIncomplete;
using ocireg::internal::HeadLimits;
using ocireg::internal::HeadRefusal;
using ocireg::internal::ParseRequestHead;
using ocireg::internal::RequestHead;

bool IsRefusalStatus(int status) {
  for (int allowed : {400, 411, 413, 414, 431, 501, 505}) {
    if (status == allowed) return true;
  }
  return false;
}

bool IsApiMethod(std::string_view method) {
  for (std::string_view allowed : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    if (method == allowed) return true;
  }
  return false;
}

bool SameBoundary(const HeadBoundary& a, const HeadBoundary& b) {
  if (a.index() != b.index()) return false;
  if (const size_t* size = std::get_if<size_t>(&a)) return *size == std::get<size_t>(b);
  if (const HeadRefusal* refusal = std::get_if<HeadRefusal>(&a)) {
    return refusal->http_status == std::get<HeadRefusal>(b).http_status;
  }
  return true;
}

void CheckHead(std::string_view head, const HeadLimits& limits) {
  auto parsed = ParseRequestHead(head, limits);
  if (const HeadRefusal* refusal = std::get_if<HeadRefusal>(&parsed)) {
    FUZZ_CHECK(IsRefusalStatus(refusal->http_status), head);
    FUZZ_CHECK(!refusal->message.empty(), head);
    return;
  }
  const RequestHead& request = std::get<RequestHead>(parsed);
  FUZZ_CHECK(request.size == head.size(), head);
  FUZZ_CHECK(IsApiMethod(request.method), head);
  FUZZ_CHECK(!request.target.empty(), head);
  // Exactly one framing: chunked excludes a length, and GET/HEAD carry no body.
  FUZZ_CHECK(!(request.chunked && request.content_length.has_value()), head);
  FUZZ_CHECK(!(request.chunked && request.http10), head);
  if (request.method == "GET" || request.method == "HEAD") FUZZ_CHECK(!request.has_body(), head);
  FUZZ_CHECK(request.transfer_encoding_at + request.transfer_encoding_size <= head.size(), head);
  // The views point into the head.
  FUZZ_CHECK(request.method.data() >= head.data() &&
                 request.target.data() + request.target.size() <= head.data() + head.size(),
             head);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Small limits, so that inputs of fuzzer size reach every refusal.
  HeadLimits limits;
  limits.max_request_line = 256;
  limits.max_head_bytes = 2048;
  limits.max_fields = 16;

  const HeadBoundary whole = FindHeadEnd(input, limits);
  if (const size_t* end = std::get_if<size_t>(&whole)) {
    FUZZ_CHECK(*end <= input.size() && *end <= limits.max_head_bytes, input);
    FUZZ_CHECK(input.substr(0, *end).ends_with("\r\n\r\n"), input);
    CheckHead(input.substr(0, *end), limits);
  } else if (const HeadRefusal* refusal = std::get_if<HeadRefusal>(&whole)) {
    FUZZ_CHECK(IsRefusalStatus(refusal->http_status), input);
  } else {
    FUZZ_CHECK(input.size() <= limits.max_head_bytes, input);
  }

  // A head that arrives in two pieces is judged as if it came at once.
  const size_t split = size / 2;
  if (std::holds_alternative<HeadIncomplete>(FindHeadEnd(input.substr(0, split), limits))) {
    FUZZ_CHECK(SameBoundary(FindHeadEnd(input, limits, split), whole), input);
  }
  return 0;
}
