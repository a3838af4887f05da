// SPDX-License-Identifier: Apache-2.0
// Fuzzes the byte ranges of requests: a blob GET's Range header (httplib parses it, ResolveRange
// fits it to the blob) and an upload chunk's Content-Range (ParseContentRange, CheckChunkRange).
//
// Input: the header value. A first line of only digits, when present, is a blob or session size
// to check against besides the fixed ones; the header value is then the rest.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_check.h"
#include "http/chunk_range.h"
#include "http/exchange.h"

namespace {

using ocireg::internal::ByteRange;

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

void CheckResolved(const ByteRange& range, uint64_t size, std::string_view input) {
  auto resolved = ocireg::internal::ResolveRange(range, size);
  if (!resolved) return;
  // A satisfiable range lies inside the blob, first before last.
  FUZZ_CHECK(size > 0, input);
  FUZZ_CHECK(resolved->first <= resolved->second && resolved->second < size, input);
  if (range.first >= 0) {
    FUZZ_CHECK(resolved->first == static_cast<uint64_t>(range.first), input);
  } else {
    // A suffix range ends at the blob's last byte.
    FUZZ_CHECK(resolved->second == size - 1, input);
  }
}

void CheckContentRange(std::string_view text) {
  auto range = ocireg::internal::ParseContentRange(text);
  if (!range) return;
  FUZZ_CHECK(range->first <= range->second, text);
  // Only "<digits>-<digits>": printing the numbers back parses to the same range.
  FUZZ_CHECK(text.find_first_not_of("0123456789-") == std::string_view::npos, text);
  const std::string printed = std::to_string(range->first) + "-" + std::to_string(range->second);
  auto again = ocireg::internal::ParseContentRange(printed);
  FUZZ_CHECK(again && *again == *range, text);
}

// A chunk CheckChunkRange lets through starts at the session's end and, when the request has a
// Content-Length, covers exactly that many bytes (counted without wrapping around).
void CheckChunk(std::string_view text, uint64_t session_size) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (std::optional<uint64_t> length :
       {std::optional<uint64_t>(), std::optional<uint64_t>(0), std::optional<uint64_t>(1),
        std::optional<uint64_t>(session_size), std::optional<uint64_t>(kMax)}) {
    if (!ocireg::internal::CheckChunkRange(text, length, session_size).ok()) continue;
    auto range = ocireg::internal::ParseContentRange(text);
    FUZZ_CHECK(range && range->first == session_size, text);
    if (length) {
      const unsigned __int128 covered =
          static_cast<unsigned __int128>(range->second) - range->first + 1;
      FUZZ_CHECK(covered == *length, text);
    }
  }
  FUZZ_CHECK(ocireg::internal::CheckChunkRange(std::nullopt, 5, session_size).ok(), text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<uint64_t> blob_size;
  if (size_t newline = input.find('\n'); newline != std::string_view::npos) {
    blob_size = ParseDecimal(input.substr(0, newline));
    if (blob_size) input.remove_prefix(newline + 1);
  }

  CheckContentRange(input);
  CheckChunk(input, 0);
  CheckChunk(input, 1u << 20);
  if (blob_size) CheckChunk(input, *blob_size);

  httplib::Ranges ranges;
  // As httplib does with a request's Range header before the handler runs.
  if (!httplib::detail::parse_range_header(std::string(input), ranges)) return 0;
  constexpr uint64_t kSizes[] = {0,
                                 1,
                                 2,
                                 100,
                                 1u << 20,
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<uint64_t>::max()};
  for (const auto& r : ranges) {
    const ByteRange range(r.first, r.second);
    for (uint64_t s : kSizes) CheckResolved(range, s, input);
    if (blob_size) CheckResolved(range, *blob_size, input);
  }
  // What an upload's Range header says parses back as a Content-Range.
  if (blob_size) {
    auto upload = ocireg::internal::ParseContentRange(ocireg::internal::UploadRange(*blob_size));
    FUZZ_CHECK(
        upload && upload->first == 0 && upload->second == (*blob_size == 0 ? 0 : *blob_size - 1),
        input);
  }
  return 0;
}
