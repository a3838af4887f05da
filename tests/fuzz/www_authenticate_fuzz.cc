// SPDX-License-Identifier: Apache-2.0
// Fuzzes ParseWwwAuthenticate (an upstream registry's WWW-Authenticate header) and what the
// upstream client builds from it: the Bearer challenge and its token request URL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mirror/upstream_auth.h"
#include "mirror/www_authenticate.h"

namespace {

bool IsTokenText(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f ||
        std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// The challenge written back as a header: quoted values with their quotes and backslashes escaped.
std::string Render(const ocireg::internal::AuthChallenge& challenge) {
  std::string out = challenge.scheme;
  if (!challenge.token68.empty()) return out + " " + challenge.token68;
  for (size_t i = 0; i < challenge.params.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += challenge.params[i].first + "=\"";
    for (const char c : challenge.params[i].second) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = ocireg::internal::ParseWwwAuthenticate(input);
  if (!parsed.ok()) return 0;
  FUZZ_CHECK(!parsed->empty() && parsed->size() <= ocireg::internal::kMaxChallenges, input);
  std::string rendered;
  for (const auto& challenge : *parsed) {
    FUZZ_CHECK(IsTokenText(challenge.scheme), challenge.scheme);
    FUZZ_CHECK(challenge.params.size() <= ocireg::internal::kMaxChallengeParams, input);
    for (const auto& [name, value] : challenge.params) {
      FUZZ_CHECK(IsTokenText(name), name);
      FUZZ_CHECK(value.size() <= input.size(), input);
      for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        FUZZ_CHECK(byte == '\t' || (byte >= 0x20 && byte != 0x7f), value);
      }
    }
    if (!rendered.empty()) rendered += ", ";
    rendered += Render(challenge);
  }
  // Written back in the canonical form, the challenges parse to themselves.
  if (rendered.size() <= ocireg::internal::kMaxWwwAuthenticateBytes) {
    auto again = ocireg::internal::ParseWwwAuthenticate(rendered);
    FUZZ_CHECK(again.ok() && again->size() == parsed->size(), rendered);
    for (size_t i = 0; i < parsed->size(); ++i) {
      FUZZ_CHECK((*again)[i].scheme == (*parsed)[i].scheme &&
                     (*again)[i].params == (*parsed)[i].params &&
                     (*again)[i].token68 == (*parsed)[i].token68,
                 rendered);
    }
  }
  if (auto bearer = ocireg::internal::FindBearerChallenge(*parsed)) {
    const std::string url = ocireg::internal::TokenRequestUrl(*bearer);
    FUZZ_CHECK(url.starts_with(bearer->realm), url);
    for (const char c : url.substr(bearer->realm.size())) {
      FUZZ_CHECK(c != ' ' && c != '\r' && c != '\n' && c != '#', url);
    }
  }
  return 0;
}
