// SPDX-License-Identifier: Apache-2.0
// Basic credentials, Bearer challenges, token requests and answers, and the token cache.
#include "mirror/upstream_auth.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "storage/s3/s3_time.h"

namespace ocireg::internal {
namespace {

using std::chrono::system_clock;

// RFC 3986 unreserved characters stay; everything else is %XX.
std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

std::string EncodeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                       uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    for (const int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (const size_t left = bytes.size() - i; left > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (left == 2) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(left == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Status MalformedToken(std::string_view why) {
  return Unavailable("malformed token response: " + std::string(why));
}

}  // namespace

std::string BasicAuthorization(std::string_view user, std::string_view password) {
  std::string pair(user);
  pair += ':';
  pair += password;
  return "Basic " + EncodeBase64(pair);
}

std::optional<BearerChallenge> FindBearerChallenge(const std::vector<AuthChallenge>& challenges) {
  for (const AuthChallenge& challenge : challenges) {
    if (challenge.scheme != "bearer") continue;
    const std::string* realm = challenge.Param("realm");
    if (realm == nullptr || !(realm->starts_with("http://") || realm->starts_with("https://"))) {
      continue;
    }
    BearerChallenge bearer{.realm = *realm, .service = {}, .scopes = {}};
    if (const std::string* service = challenge.Param("service")) bearer.service = *service;
    if (const std::string* scope = challenge.Param("scope")) {
      std::string_view rest = *scope;
      while (!rest.empty()) {
        const size_t space = rest.find(' ');
        const std::string_view one = rest.substr(0, space);
        if (!one.empty()) bearer.scopes.emplace_back(one);
        if (space == std::string_view::npos) break;
        rest.remove_prefix(space + 1);
      }
    }
    return bearer;
  }
  return std::nullopt;
}

bool HasBasicChallenge(const std::vector<AuthChallenge>& challenges) {
  return std::any_of(challenges.begin(), challenges.end(),
                     [](const AuthChallenge& challenge) { return challenge.scheme == "basic"; });
}

std::string TokenRequestUrl(const BearerChallenge& challenge) {
  std::string url = challenge.realm;
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  auto add = [&url, &separator](std::string_view name, std::string_view value) {
    url += separator;
    url += name;
    url += '=';
    url += PercentEncode(value);
    separator = '&';
  };
  if (!challenge.service.empty()) add("service", challenge.service);
  for (const std::string& scope : challenge.scopes) add("scope", scope);
  return url;
}

Result<BearerToken> ParseTokenResponse(std::string_view body, system_clock::time_point now) {
  if (body.size() > kMaxTokenResponseBytes) return MalformedToken("too large");
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return MalformedToken("not a JSON object");
  // Read through a const view: clang finds comparing a MemberIterator with MemberEnd() ambiguous
  // in C++20 (-Wambiguous-reversed-operator), ConstMemberIterators not.
  const rapidjson::Value& root = document;
  std::string token;
  for (const char* name : {"token", "access_token"}) {
    const auto member = root.FindMember(name);
    if (member == root.MemberEnd()) continue;
    if (!member->value.IsString()) return MalformedToken(std::string(name) + " is not a string");
    if (member->value.GetStringLength() > 0) {
      token.assign(member->value.GetString(), member->value.GetStringLength());
      break;
    }
  }
  if (token.empty()) return MalformedToken("no token");
  // A token goes into a header line: no control characters, no line breaks.
  if (std::any_of(token.begin(), token.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x21 || byte == 0x7f;
      })) {
    return MalformedToken("the token holds characters a header cannot carry");
  }
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
  if (const auto member = root.FindMember("expires_in"); member != root.MemberEnd()) {
    if (!member->value.IsInt64()) return MalformedToken("expires_in is not an integer");
    const int64_t seconds = member->value.GetInt64();
    // A day at most: a hostile or broken endpoint cannot pin a token for ever.
    if (seconds > 0) lifetime = std::chrono::seconds(std::min<int64_t>(seconds, 86400));
  }
  system_clock::time_point expires = now + lifetime;
  if (const auto member = root.FindMember("issued_at");
      member != root.MemberEnd() && member->value.IsString()) {
    const auto issued = s3::ParseIsoTime(
        std::string_view(member->value.GetString(), member->value.GetStringLength()));
    if (issued && *issued + lifetime < expires) expires = *issued + lifetime;
  }
  // Renew a little early: a quarter of the lifetime, at most 10 s.
  const auto margin = std::min<system_clock::duration>(std::chrono::seconds(10), lifetime / 4);
  return BearerToken{.token = std::move(token), .renew_at = expires - margin};
}

std::optional<std::string> TokenCache::Token(const std::string& key,
                                             system_clock::time_point now) const {
  std::lock_guard lock(mu_);
  const auto found = entries_.find(key);
  if (found == entries_.end() || found->second.token.token.empty() ||
      now >= found->second.token.renew_at) {
    return std::nullopt;
  }
  return found->second.token.token;
}

std::optional<BearerChallenge> TokenCache::Challenge(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto found = entries_.find(key);
  if (found == entries_.end()) return std::nullopt;
  return found->second.challenge;
}

void TokenCache::Store(const std::string& key, BearerChallenge challenge, BearerToken token) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.contains(key)) {
    const auto oldest =
        std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
          return a.second.token.renew_at < b.second.token.renew_at;
        });
    entries_.erase(oldest);
  }
  entries_[key] = Entry{std::move(challenge), std::move(token)};
}

void TokenCache::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  if (const auto found = entries_.find(key); found != entries_.end()) {
    found->second.token.token.clear();
  }
}

}  // namespace ocireg::internal
