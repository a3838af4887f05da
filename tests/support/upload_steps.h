// SPDX-License-Identifier: Apache-2.0
// The steps of a chunked blob upload over HTTP, shared by the tests that upload in chunks.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>

#include "catch.h"

namespace ocireg::testing {

inline constexpr const char* kOctet = "application/octet-stream";

// Starts a session (POST, 202); returns its Location.
inline std::string StartSession(httplib::Client& client, const std::string& repo,
                                const std::string& query = "") {
  auto res = client.Post("/v2/" + repo + "/blobs/uploads/" + query, "", kOctet);
  REQUIRE(res);
  REQUIRE(res->status == 202);
  return res->get_header_value("Location");
}

// PATCHes `bytes` as the chunk starting at `first`.
inline httplib::Result PatchChunk(httplib::Client& client, const std::string& location,
                                  const std::string& bytes, uint64_t first) {
  httplib::Headers headers = {
      {"Content-Range", std::to_string(first) + "-" + std::to_string(first + bytes.size() - 1)}};
  return client.Patch(location, headers, bytes, kOctet);
}

}  // namespace ocireg::testing
