// SPDX-License-Identifier: Apache-2.0
// Digest parsing and validation, and the streaming Digester over OpenSSL's SHA-2 functions.
//
// Why not EVP: a Digester's state must be saved and restored (an upload resumed in another
// process, whose bytes an object store cannot give back), and EVP keeps it opaque. The SHA-2
// contexts of <openssl/sha.h> are public structs over the same assembly; OpenSSL 3 marks their
// functions deprecated in favour of EVP, which offers no equivalent, hence the suppression.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ocireg/digest.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "quote.h"

namespace ocireg {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

std::string Quote(std::string_view text) { return internal::QuoteForMessage(text); }

// Ok if `hex` is exactly HexLength(algorithm) lowercase hex digits. Characters are checked first so
// that a stray space or newline is named rather than reported as a length mismatch.
Status CheckHex(DigestAlgorithm algorithm, std::string_view hex) {
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    if (kHexDigits.find(c) != std::string_view::npos) continue;
    if (c >= 'A' && c <= 'F') {
      return DigestInvalid(fmt::format("digest hex must be lowercase: {} at hex offset {}",
                                       Quote(hex.substr(i, 1)), i));
    }
    return DigestInvalid(fmt::format("digest hex has invalid character {} at hex offset {}",
                                     Quote(hex.substr(i, 1)), i));
  }
  if (hex.size() != HexLength(algorithm)) {
    return DigestInvalid(fmt::format("{} digest needs {} hex characters, got {}",
                                     AlgorithmName(algorithm), HexLength(algorithm), hex.size()));
  }
  return Status::Ok();
}

}  // namespace

std::string_view AlgorithmName(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return "sha256";
    case DigestAlgorithm::kSha512:
      return "sha512";
  }
  assert(false && "unknown DigestAlgorithm");
  return "unknown";
}

Result<DigestAlgorithm> ParseAlgorithm(std::string_view name) {
  if (name == "sha256") return DigestAlgorithm::kSha256;
  if (name == "sha512") return DigestAlgorithm::kSha512;
  if (name.empty()) return DigestInvalid("digest algorithm is empty");
  return DigestInvalid(
      fmt::format("unsupported digest algorithm {} (supported: sha256, sha512)", Quote(name)));
}

size_t HexLength(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return 64;
    case DigestAlgorithm::kSha512:
      return 128;
  }
  assert(false && "unknown DigestAlgorithm");
  return 0;
}

Result<Digest> Digest::Parse(std::string_view text) {
  if (text.empty()) return DigestInvalid("digest is empty");
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return DigestInvalid(
        fmt::format("digest {} has no ':' between algorithm and hex", Quote(text)));
  }
  Result<DigestAlgorithm> algorithm = ParseAlgorithm(text.substr(0, colon));
  if (!algorithm.ok()) return algorithm.status();
  const std::string_view hex = text.substr(colon + 1);
  OCIREG_RETURN_IF_ERROR(CheckHex(*algorithm, hex));
  return Digest(*algorithm, std::string(hex));
}

std::string Digest::ToString() const {
  std::string out(algorithm_name());
  out += ':';
  out += hex_;
  return out;
}

// The Digester's OpenSSL context: one of the two SHA-2 contexts. The SHA-2 functions fail only
// on null arguments; Digester has no error channel, and none is needed.
struct Digester::State {
  explicit State(DigestAlgorithm of) : algorithm(of) { Reset(); }

  void Reset() {
    if (algorithm == DigestAlgorithm::kSha256) {
      SHA256_Init(&sha256);
    } else {
      SHA512_Init(&sha512);
    }
  }

  DigestAlgorithm algorithm;
  SHA256_CTX sha256{};
  SHA512_CTX sha512{};
};

Digester::Digester(DigestAlgorithm algorithm)
    : algorithm_(algorithm), state_(std::make_unique<State>(algorithm)) {}

// Defined here, where State is complete. A moved-from Digester has no state: it may only be
// destroyed or assigned to.
Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::Update(std::span<const char> bytes) {
  assert(state_ != nullptr && "Update on a moved-from Digester");
  if (bytes.empty()) return;
  if (algorithm_ == DigestAlgorithm::kSha256) {
    SHA256_Update(&state_->sha256, bytes.data(), bytes.size());
  } else {
    SHA512_Update(&state_->sha512, bytes.data(), bytes.size());
  }
}

Digest Digester::Finish() {
  assert(state_ != nullptr && "Finish on a moved-from Digester");
  std::array<unsigned char, SHA512_DIGEST_LENGTH> raw{};
  size_t raw_size = SHA256_DIGEST_LENGTH;
  if (algorithm_ == DigestAlgorithm::kSha256) {
    SHA256_Final(raw.data(), &state_->sha256);
  } else {
    SHA512_Final(raw.data(), &state_->sha512);
    raw_size = SHA512_DIGEST_LENGTH;
  }
  state_->Reset();

  std::string hex;
  hex.reserve(raw_size * 2);
  for (size_t i = 0; i < raw_size; ++i) {
    hex += kHexDigits[raw[i] >> 4];
    hex += kHexDigits[raw[i] & 0x0f];
  }
  assert(hex.size() == HexLength(algorithm_));
  return Digest(algorithm_, std::move(hex));
}

namespace {

// The saved state is text: the algorithm, the chaining values and bit counts as decimal numbers,
// and the bytes of the partial block in hex, separated by spaces. Numbers, not the structs'
// memory, so that a state saved on one machine restores on another.
constexpr std::string_view kStateVersion = "digester-state-1";

std::string HexOf(const unsigned char* bytes, size_t count) {
  std::string hex;
  hex.reserve(count * 2);
  for (size_t i = 0; i < count; ++i) {
    hex += kHexDigits[bytes[i] >> 4];
    hex += kHexDigits[bytes[i] & 0x0f];
  }
  return hex;
}

bool BytesOf(std::string_view hex, unsigned char* out, size_t capacity, size_t& count) {
  if (hex.size() % 2 != 0 || hex.size() / 2 > capacity) return false;
  count = hex.size() / 2;
  for (size_t i = 0; i < count; ++i) {
    auto [end, error] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, out[i], 16);
    if (error != std::errc() || end != hex.data() + 2 * i + 2) return false;
  }
  return true;
}

// Reads the next space-separated word of `text` into `word`.
bool NextWord(std::string_view& text, std::string_view& word) {
  size_t space = text.find(' ');
  word = text.substr(0, space);
  text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  return !word.empty();
}

template <typename Number>
bool NextNumber(std::string_view& text, Number& number) {
  std::string_view word;
  if (!NextWord(text, word)) return false;
  auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), number);
  return error == std::errc() && end == word.data() + word.size();
}

template <typename Context>
std::string SaveContext(std::string_view algorithm, const Context& ctx, const void* block) {
  std::string out = fmt::format("{} {}", kStateVersion, algorithm);
  for (auto h : ctx.h) out += fmt::format(" {}", h);
  out += fmt::format(" {} {} {} ", ctx.Nl, ctx.Nh, ctx.num);
  out += HexOf(static_cast<const unsigned char*>(block), ctx.num);
  return out;
}

// Restores what SaveContext wrote after the algorithm into `ctx` (initialised), whose partial
// block is `block` of `block_size` bytes.
template <typename Context>
bool RestoreContext(std::string_view text, Context& ctx, void* block, size_t block_size) {
  for (auto& h : ctx.h) {
    if (!NextNumber(text, h)) return false;
  }
  if (!NextNumber(text, ctx.Nl) || !NextNumber(text, ctx.Nh) || !NextNumber(text, ctx.num)) {
    return false;
  }
  size_t count = 0;
  if (ctx.num >= block_size ||
      !BytesOf(text, static_cast<unsigned char*>(block), block_size, count)) {
    return false;
  }
  return count == ctx.num;
}

}  // namespace

std::string Digester::SaveState() const {
  assert(state_ != nullptr && "SaveState on a moved-from Digester");
  if (algorithm_ == DigestAlgorithm::kSha256) {
    return SaveContext("sha256", state_->sha256, state_->sha256.data);
  }
  return SaveContext("sha512", state_->sha512, state_->sha512.u.p);
}

Result<Digester> Digester::RestoreState(std::string_view saved) {
  auto invalid = [] { return DigestInvalid("not a saved digest state"); };
  std::string_view word;
  if (!NextWord(saved, word) || word != kStateVersion || !NextWord(saved, word)) return invalid();
  auto algorithm = ParseAlgorithm(word);
  if (!algorithm.ok()) return invalid();
  Digester digester(*algorithm);
  State& state = *digester.state_;
  const bool restored = *algorithm == DigestAlgorithm::kSha256
                            ? RestoreContext(saved, state.sha256, state.sha256.data, SHA256_CBLOCK)
                            : RestoreContext(saved, state.sha512, state.sha512.u.p, SHA512_CBLOCK);
  if (!restored) return invalid();
  return digester;
}

Digest Digester::Of(DigestAlgorithm algorithm, std::string_view bytes) {
  Digester digester(algorithm);
  digester.Update(bytes);
  return digester.Finish();
}

}  // namespace ocireg
