// SPDX-License-Identifier: Apache-2.0
// Digest parsing and validation, and the streaming Digester over OpenSSL's EVP interface.
#include "ocireg/digest.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>
#include <cassert>
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

const EVP_MD* EvpMd(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return EVP_sha256();
    case DigestAlgorithm::kSha512:
      return EVP_sha512();
  }
  assert(false && "unknown DigestAlgorithm");
  return EVP_sha256();
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

// The Digester's OpenSSL context. EVP calls on the built-in SHA-2 digests fail only when memory
// runs out; Digester has no error channel, so such failures surface as std::bad_alloc, as any
// allocation in the library would.
struct Digester::State {
  struct CtxFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };

  explicit State(DigestAlgorithm algorithm) : md(EvpMd(algorithm)), ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr) throw std::bad_alloc();
    Reset();
  }

  void Reset() {
    if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) throw std::bad_alloc();
  }

  const EVP_MD* md;
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx;
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
  if (EVP_DigestUpdate(state_->ctx.get(), bytes.data(), bytes.size()) != 1) {
    throw std::bad_alloc();
  }
}

Digest Digester::Finish() {
  assert(state_ != nullptr && "Finish on a moved-from Digester");
  std::array<unsigned char, EVP_MAX_MD_SIZE> raw{};
  unsigned int raw_size = 0;
  if (EVP_DigestFinal_ex(state_->ctx.get(), raw.data(), &raw_size) != 1) throw std::bad_alloc();
  state_->Reset();

  std::string hex;
  hex.reserve(size_t{raw_size} * 2);
  for (unsigned int i = 0; i < raw_size; ++i) {
    hex += kHexDigits[raw[i] >> 4];
    hex += kHexDigits[raw[i] & 0x0f];
  }
  assert(hex.size() == HexLength(algorithm_));
  return Digest(algorithm_, std::move(hex));
}

Digest Digester::Of(DigestAlgorithm algorithm, std::string_view bytes) {
  Digester digester(algorithm);
  digester.Update(bytes);
  return digester.Finish();
}

}  // namespace ocireg
