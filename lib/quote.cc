// SPDX-License-Identifier: Apache-2.0
// Client input quoted for error messages.
#include "quote.h"

#include <fmt/format.h>

namespace ocireg::internal {
namespace {

// Inputs come from clients: messages show at most this many bytes of them, escaped.
constexpr size_t kMaxEchoedBytes = 64;

}  // namespace

std::string QuoteForMessage(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxEchoedBytes; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += static_cast<char>(byte);
    }
  }
  out += text.size() > kMaxEchoedBytes ? "\"..." : "\"";
  return out;
}

}  // namespace ocireg::internal
