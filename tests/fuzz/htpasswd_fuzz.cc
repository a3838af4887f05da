// SPDX-License-Identifier: Apache-2.0
// Fuzzes ParseHtpasswd with the text of an operator's htpasswd file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/htpasswd_internal.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The source name has a blank, as no hash checked below has: it cannot contain one.
  auto entries = ocireg::internal::ParseHtpasswd(input, "fuzz htpasswd");
  if (!entries.ok()) {
    const std::string& message = entries.status().message();
    FUZZ_CHECK(message.starts_with("fuzz htpasswd:"), message);
    // A refused entry may be a password in plain text: a one-line file's hash part never shows.
    const size_t colon = input.find(':');
    if (input.find('\n') == std::string_view::npos && colon != std::string_view::npos) {
      const std::string_view user = input.substr(0, colon);
      const std::string_view hash = input.substr(colon + 1);
      if (hash.size() >= 12 && user.find(hash) == std::string_view::npos &&
          hash.find_first_of(" \t\r") == std::string_view::npos) {
        // The message names the user in quotes (inner quotes escaped, a long name cut short).
        // The quotes and the name can together spell the hash (user `**`, hash `"**`) without
        // showing it: only what follows the closing quote must not hold it.
        std::string_view rest = message;
        constexpr std::string_view kNamed = "fuzz htpasswd:1: user \"";
        if (rest.starts_with(kNamed)) {
          const size_t end = rest.find('"', kNamed.size());
          if (end != std::string_view::npos) rest.remove_prefix(end + 1);
        }
        FUZZ_CHECK(rest.find(hash) == std::string_view::npos, message);
      }
    }
    return 0;
  }
  bool cost_seen = entries->hashes.empty();
  for (const auto& [user, hash] : entries->hashes) {
    FUZZ_CHECK(!user.empty() && user.find(':') == std::string::npos, user);
    FUZZ_CHECK(user.find('\n') == std::string::npos, user);
    const std::optional<int> cost = ocireg::internal::BcryptCost(hash);
    FUZZ_CHECK(hash.size() == 60 && cost.has_value() && *cost >= 4 && *cost <= 31, hash);
    cost_seen = cost_seen || *cost == entries->common_cost;
  }
  // The dummy hash's cost is one the entries have (5 for a file without entries).
  FUZZ_CHECK(cost_seen, std::to_string(entries->common_cost));
  if (entries->hashes.empty()) FUZZ_CHECK(entries->common_cost == 5, input);
  return 0;
}
