// SPDX-License-Identifier: Apache-2.0
// Fuzzes ParseBasicAuthorization with an Authorization header value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ocireg/auth/authenticator.h"

namespace {

// RFC 4648 base64 with padding, written here independently of the parser under test.
std::string EncodeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (const size_t left = bytes.size() - i; left > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (left == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto credentials = ocireg::ParseBasicAuthorization(input);
  if (credentials) {
    FUZZ_CHECK(credentials->user.find(':') == std::string::npos, input);
    // Encoding what was parsed gives a header that parses to the same user and password.
    const std::string header =
        "Basic " + EncodeBase64(credentials->user + ":" + credentials->password);
    auto again = ocireg::ParseBasicAuthorization(header);
    FUZZ_CHECK(
        again && again->user == credentials->user && again->password == credentials->password,
        header);
  }
  // Any user:password the input spells, encoded, parses back to itself.
  const size_t colon = input.find(':');
  if (colon != std::string_view::npos) {
    const std::string header = "bAsIc " + EncodeBase64(input);
    auto encoded = ocireg::ParseBasicAuthorization(header);
    FUZZ_CHECK(encoded && encoded->user == input.substr(0, colon) &&
                   encoded->password == input.substr(colon + 1),
               header);
  }
  return 0;
}
