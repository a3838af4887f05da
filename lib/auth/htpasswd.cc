// SPDX-License-Identifier: Apache-2.0
// HtpasswdAuthenticator: reads an htpasswd file of bcrypt entries and checks Basic credentials
// against it with libxcrypt, spending the same bcrypt work on unknown users as on known ones.
#include "ocireg/auth/htpasswd.h"

#include <crypt.h>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "auth/htpasswd_internal.h"
#include "operator_file.h"
#include "quote.h"

namespace ocireg {
namespace internal {
namespace {

// "$2y$" + two cost digits + "$" + 22 characters of salt + 31 of hash.
constexpr size_t kBcryptHashLength = 60;
constexpr size_t kBcryptPrefixLength = 7;  // "$2y$05$"
constexpr int kMinBcryptCost = 4;
constexpr int kMaxBcryptCost = 31;
// The cost of the dummy hash of a file without users: htpasswd -B's default. There is no user to
// hide then, so any cost would do.
constexpr int kDefaultBcryptCost = 5;
// Hashed into the dummy hash. Its value does not matter: the answer for an unknown user is
// nullopt whatever the check says.
constexpr char kDummyPassword[] = "not a password of any user";

bool IsCryptChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

bool AllCryptChars(std::string_view text) {
  return std::all_of(text.begin(), text.end(), IsCryptChar);
}

bool HasBcryptPrefix(std::string_view hash) {
  return hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$");
}

// What a hash that is not bcrypt looks like, for the message. Never shows the hash itself: a
// plain-text entry is a password.
std::string DescribeOtherHash(std::string_view hash) {
  struct Scheme {
    std::string_view prefix;
    std::string_view name;
  };
  static constexpr Scheme kSchemes[] = {
      {"$apr1$", "MD5"},
      {"{SHA}", "SHA-1"},
      {"$1$", "MD5-crypt"},
      {"$5$", "SHA-256-crypt"},
      {"$6$", "SHA-512-crypt"},
      {"$y$", "yescrypt"},
      {"$gy$", "gost-yescrypt"},
      {"$7$", "scrypt"},
      {"$2x$", "bcrypt with the sign-extension bug"},
      {"$sha1$", "SHA-1-crypt"},
      {"$md5", "Sun MD5-crypt"},
      {"$3$", "an NT hash"},
  };
  if (hash.empty()) return "the hash is empty";
  for (const Scheme& scheme : kSchemes) {
    if (hash.starts_with(scheme.prefix)) return fmt::format("{} is {}", scheme.prefix, scheme.name);
  }
  if (hash.size() == 13 && AllCryptChars(hash)) return "crypt(3) DES, or plain text";
  if (hash.size() == 20 && hash[0] == '_' && AllCryptChars(hash.substr(1))) {
    return "BSDi extended DES";
  }
  return "plain text or an unknown format";
}

// Why `hash`, which starts like bcrypt, cannot be checked; nullopt when it is well formed.
std::optional<std::string> BcryptProblem(std::string_view hash) {
  const std::string_view cost = hash.substr(4, 2);
  const bool digits =
      cost.size() == 2 && cost[0] >= '0' && cost[0] <= '9' && cost[1] >= '0' && cost[1] <= '9';
  if (hash.size() != kBcryptHashLength || !digits || hash[6] != '$' ||
      !AllCryptChars(hash.substr(kBcryptPrefixLength))) {
    return fmt::format("malformed bcrypt hash (expected {}NN$ and 53 characters of ./0-9A-Za-z)",
                       hash.substr(0, 4));
  }
  const int value = (cost[0] - '0') * 10 + (cost[1] - '0');
  if (value < kMinBcryptCost || value > kMaxBcryptCost) {
    return fmt::format("bcrypt cost {} is outside {}..{}", value, kMinBcryptCost, kMaxBcryptCost);
  }
  return std::nullopt;
}

// crypt_rn's work area: 32 KiB, too much for a worker's stack. Zeroed, as crypt_rn requires
// before first use, and wiped after, as it holds state derived from the password.
struct CryptArea {
  CryptArea() : data(std::make_unique<crypt_data>()) {}
  ~CryptArea() { OPENSSL_cleanse(data.get(), sizeof(crypt_data)); }
  CryptArea(const CryptArea&) = delete;
  CryptArea& operator=(const CryptArea&) = delete;

  // crypt_rn's answer, or null when it failed (it may also answer "*0" or "*1" then).
  const char* Crypt(const char* phrase, const char* setting) {
    const char* out = crypt_rn(phrase, setting, data.get(), static_cast<int>(sizeof(crypt_data)));
    return out == nullptr || out[0] == '*' ? nullptr : out;
  }

  std::unique_ptr<crypt_data> data;
};

// A real bcrypt hash of cost `cost` with a random salt, for unknown users to be checked against.
Result<std::string> MakeDummyHash(int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2y$", cost, nullptr, 0, setting, sizeof(setting)) == nullptr) {
    return Internal(fmt::format("cannot make a bcrypt salt of cost {}: {}", cost,
                                std::generic_category().message(errno)));
  }
  CryptArea area;
  const char* hash = area.Crypt(kDummyPassword, setting);
  if (hash == nullptr) return Internal(fmt::format("cannot make a bcrypt hash of cost {}", cost));
  return std::string(hash);
}

// The cost most entries have; the higher one on a tie.
int MostCommonCost(const std::map<int, int>& entries_by_cost) {
  int best = kDefaultBcryptCost;
  int best_count = 0;
  for (const auto& [cost, count] : entries_by_cost) {
    if (count >= best_count) {
      best = cost;
      best_count = count;
    }
  }
  return best;
}

// Without surrounding blanks and the '\r' of CRLF files, as Apache reads these files.
std::string_view Trim(std::string_view line) {
  constexpr std::string_view kBlanks = " \t\r";
  const size_t begin = line.find_first_not_of(kBlanks);
  if (begin == std::string_view::npos) return {};
  return line.substr(begin, line.find_last_not_of(kBlanks) - begin + 1);
}

}  // namespace

std::optional<int> BcryptCost(const std::string& hash) {
  if (!HasBcryptPrefix(hash) || BcryptProblem(hash)) return std::nullopt;
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

bool CheckBcrypt(const std::string& password, const std::string& hash) {
  CryptArea area;
  const char* out = area.Crypt(password.c_str(), hash.c_str());
  if (out == nullptr) return false;
  // Lengths are not secret (every bcrypt hash has 60 characters); the bytes are compared in
  // constant time.
  const size_t length = std::strlen(out);
  return length == hash.size() && CRYPTO_memcmp(out, hash.data(), length) == 0;
}

Result<HtpasswdEntries> ParseHtpasswd(std::string_view text, std::string_view source) {
  HtpasswdEntries entries;
  std::unordered_map<std::string, size_t> first_line;
  std::map<int, int> entries_by_cost;
  std::string_view rest = text;
  for (size_t number = 1; !rest.empty(); ++number) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // a UTF-8 BOM
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;

    const auto where = [&](std::string_view user) {
      return user.empty() ? fmt::format("{}:{}: ", source, number)
                          : fmt::format("{}:{}: user {}: ", source, number, QuoteForMessage(user));
    };
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(where({}) + "expected user:hash, found no ':'");
    }
    const std::string user(line.substr(0, colon));
    const std::string hash(line.substr(colon + 1));
    if (user.empty()) return InvalidArgument(where({}) + "empty user name");
    if (!HasBcryptPrefix(hash)) {
      return InvalidArgument(where(user) +
                             fmt::format("not a bcrypt hash ({}); create entries with "
                                         "htpasswd -B",
                                         DescribeOtherHash(hash)));
    }
    if (auto problem = BcryptProblem(hash)) return InvalidArgument(where(user) + *problem);
    if (auto [it, added] = first_line.emplace(user, number); !added) {
      return InvalidArgument(where(user) +
                             fmt::format("listed again (first on line {})", it->second));
    }
    ++entries_by_cost[*BcryptCost(hash)];
    entries.hashes.emplace(user, hash);
  }
  entries.common_cost = MostCommonCost(entries_by_cost);
  return entries;
}

Result<HtpasswdUsers> HtpasswdUsers::Load(const std::string& path, BcryptCheck check) {
  Result<std::string> text = internal::ReadOperatorFile(path);
  OCIREG_RETURN_IF_ERROR(text);
  Result<HtpasswdEntries> entries = ParseHtpasswd(*text, path);
  OCIREG_RETURN_IF_ERROR(entries);
  HtpasswdUsers users;
  users.check_ = std::move(check);
  users.hashes_ = std::move(entries->hashes);
  Result<std::string> dummy = MakeDummyHash(entries->common_cost);
  OCIREG_RETURN_IF_ERROR(dummy);
  users.dummy_hash_ = std::move(*dummy);
  return users;
}

Result<std::optional<Identity>> HtpasswdUsers::Authenticate(const Credentials& credentials) const {
  std::optional<BasicCredentials> basic = ParseBasicAuthorization(credentials.authorization);
  if (!basic) return std::optional<Identity>();
  const auto it = hashes_.find(basic->user);
  const bool known = it != hashes_.end();
  // Exactly one bcrypt check on every path, so that the time taken does not tell whether the
  // user exists.
  const bool match = check_(basic->password, known ? it->second : dummy_hash_);
  if (!known) return std::optional<Identity>();
  // An empty password never logs in, even when the file holds a hash of it; and crypt(3) stops at
  // a NUL byte, which must not make "secret\0anything" a valid password.
  const std::string& password = basic->password;
  if (!match || password.empty() || password.find('\0') != std::string::npos) {
    return Unauthorized(fmt::format("wrong password for user {}", QuoteForMessage(basic->user)));
  }
  return std::optional<Identity>(Identity{std::move(basic->user), {}});
}

}  // namespace internal

struct HtpasswdAuthenticator::Users {
  internal::HtpasswdUsers table;
};

HtpasswdAuthenticator::HtpasswdAuthenticator(std::unique_ptr<Users> users)
    : users_(std::move(users)) {}

HtpasswdAuthenticator::~HtpasswdAuthenticator() = default;

Result<std::unique_ptr<HtpasswdAuthenticator>> HtpasswdAuthenticator::Load(
    const std::string& path) {
  Result<internal::HtpasswdUsers> table = internal::HtpasswdUsers::Load(path);
  OCIREG_RETURN_IF_ERROR(table);
  auto users = std::make_unique<Users>(Users{std::move(*table)});
  return std::unique_ptr<HtpasswdAuthenticator>(new HtpasswdAuthenticator(std::move(users)));
}

Result<std::optional<Identity>> HtpasswdAuthenticator::Authenticate(
    const Credentials& credentials) {
  return users_->table.Authenticate(credentials);
}

}  // namespace ocireg
