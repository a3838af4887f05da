// SPDX-License-Identifier: Apache-2.0
// Fuzzes ChunkedFraming, which frames every chunked request body the server decodes itself.
//
// Input: the bytes a client sends after the head of a chunked request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/chunked_framing.h"

namespace {

using ocireg::internal::ChunkedFraming;
using ocireg::internal::ChunkedLimits;

struct Outcome {
  std::string data;
  size_t used = 0;
  bool done = false;
  bool failed = false;
};

// Decodes `input` handed over in pieces of at most `piece` bytes.
Outcome Decode(std::string_view input, size_t piece, const ChunkedLimits& limits) {
  ChunkedFraming framing(limits);
  Outcome out;
  while (out.used < input.size() && !framing.done() && !framing.failed()) {
    std::string_view next = input.substr(out.used, piece);
    if (framing.data_left() > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(next.size(), framing.data_left()));
      out.data.append(next.substr(0, n));
      framing.TookData(n);
      out.used += n;
    } else {
      const size_t took = framing.Consume(next);
      FUZZ_CHECK(took <= next.size(), input);
      // Consume stops only at data, the end or an error.
      FUZZ_CHECK(
          took == next.size() || framing.data_left() > 0 || framing.done() || framing.failed(),
          input);
      out.used += took;
    }
  }
  out.done = framing.done();
  out.failed = framing.failed();
  FUZZ_CHECK(!(out.done && out.failed), input);
  FUZZ_CHECK(!out.failed || framing.error() != nullptr, input);
  if (out.done) FUZZ_CHECK(framing.body_bytes() == out.data.size(), input);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Small limits, so that inputs of fuzzer size reach every bound.
  ChunkedLimits limits;
  limits.max_line_bytes = 32;
  limits.max_trailer_bytes = 64;
  limits.max_trailer_fields = 4;

  const Outcome whole = Decode(input, input.size() + 1, limits);
  // However the bytes arrive, the body, its end and the verdict are the same.
  for (size_t piece : {size_t{1}, size_t{3}, size / 2 + 1}) {
    const Outcome pieces = Decode(input, piece, limits);
    FUZZ_CHECK(pieces.data == whole.data && pieces.used == whole.used &&
                   pieces.done == whole.done && pieces.failed == whole.failed,
               input);
  }
  if (whole.done) FUZZ_CHECK(input.substr(0, whole.used).ends_with("\r\n\r\n"), input);
  return 0;
}
