// SPDX-License-Identifier: Apache-2.0
// ParseBasicAuthorization: the user and password of an "Authorization: Basic" header (RFC 7617).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ocireg/auth/authenticator.h"

namespace ocireg {
namespace {

bool EqualsIgnoringCase(std::string_view text, std::string_view lowercase) {
  if (text.size() != lowercase.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != lowercase[i]) return false;
  }
  return true;
}

// The value of one base64 digit (RFC 4648 section 4); -1 for any other byte.
int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Padded base64 and nothing else: no whitespace, no line breaks, no URL alphabet, no missing or
// misplaced '='. What RFC 7617 clients send.
std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.ends_with("==")) {
    text.remove_suffix(2);
  } else if (text.ends_with("=")) {
    text.remove_suffix(1);
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    const int digit = Base64Digit(c);
    if (digit < 0) return std::nullopt;
    bits = ((bits << 6) | static_cast<uint32_t>(digit)) & 0xfff;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header) {
  // credentials = auth-scheme 1*SP token68 (RFC 7235 section 2.1).
  const size_t space = header.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoringCase(header.substr(0, space), "basic")) {
    return std::nullopt;
  }
  std::string_view token = header.substr(space);
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  const size_t last = token.find_last_not_of(" \t");
  token = last == std::string_view::npos ? std::string_view() : token.substr(0, last + 1);

  std::optional<std::string> decoded = DecodeBase64(token);
  if (!decoded) return std::nullopt;
  // The user cannot contain ':' (RFC 7617 section 2); the password can.
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace ocireg
