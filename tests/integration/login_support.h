// SPDX-License-Identifier: Apache-2.0
// Helpers of the login tests: an htpasswd file of two users, Basic headers, raw GET /v2/.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "raw_http.h"

namespace ocireg::testing {

// bcrypt entries as `htpasswd -nbB -C 4 user password` writes them: alice:alice-pw, bob:bob-pw.
inline constexpr const char* kHtpasswdAliceBob =
    "alice:$2y$04$Yq20Y7XS11t72mL/SX3giOadAqqCt1suoAxwGFW7/EsjygZ.m26Hu\n"
    "bob:$2y$04$nn6A6qKfuHMWEmVV3SKX5e0zZjlGE3gS02UoWlo.imxc3pAtSZSHC\n";

// Writes kHtpasswdAliceBob to `dir`/htpasswd; returns its path.
inline std::string WriteAliceBobHtpasswd(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "htpasswd";
  std::ofstream(file, std::ios::trunc) << kHtpasswdAliceBob;
  return file.string();
}

// "Basic <base64(user:password)>".
inline std::string BasicAuthorization(std::string_view user, std::string_view password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string plain = std::string(user) + ":" + std::string(password);
  std::string encoded;
  for (size_t i = 0; i < plain.size(); i += 3) {
    uint32_t group = static_cast<uint8_t>(plain[i]) << 16;
    if (i + 1 < plain.size()) group |= static_cast<uint8_t>(plain[i + 1]) << 8;
    if (i + 2 < plain.size()) group |= static_cast<uint8_t>(plain[i + 2]);
    for (size_t k = 0; k < 4; ++k) {
      encoded += i + k <= plain.size() ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return "Basic " + encoded;
}

// GET /v2/ on a new connection as `user`, with `extra_headers` (each ending in \r\n); nullopt
// when no answer came within `timeout_ms` (the failure of a test that expects no wait).
inline std::optional<RawResponse> GetBaseRaw(uint16_t port, std::string_view user,
                                             std::string_view password,
                                             const std::string& extra_headers = "",
                                             int timeout_ms = 20000) {
  RawConnection connection(port);
  if (!connection.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\nAuthorization: " +
                       BasicAuthorization(user, password) + "\r\n" + extra_headers + "\r\n")) {
    return std::nullopt;
  }
  return connection.ReadResponse(false, timeout_ms);
}

}  // namespace ocireg::testing
