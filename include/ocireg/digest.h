// SPDX-License-Identifier: Apache-2.0
// Digest (a validated content identifier) and Digester (a streaming hash over OpenSSL's SHA-2).
//
// Contract: Digest is an immutable value, safe to share between threads. A Digester belongs to one
// thread at a time; separate Digesters may run concurrently. Parse fails with kDigestInvalid.
// Hashing itself cannot fail except by running out of memory inside OpenSSL, which throws
// std::bad_alloc from the constructor.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

enum class DigestAlgorithm { kSha256, kSha512 };

// "sha256" or "sha512".
OCIREG_EXPORT std::string_view AlgorithmName(DigestAlgorithm algorithm);
// Parses "sha256" or "sha512"; anything else is kDigestInvalid (an unsupported algorithm).
OCIREG_EXPORT Result<DigestAlgorithm> ParseAlgorithm(std::string_view name);
// The length of a lowercase hex encoding: 64 for sha256, 128 for sha512.
OCIREG_EXPORT size_t HexLength(DigestAlgorithm algorithm);

// A digest "algorithm:hex" that is known to be well formed: a supported algorithm and lowercase hex
// of exactly the algorithm's length. A value type; thread-compatible.
class OCIREG_EXPORT Digest {
 public:
  // kDigestInvalid for anything but "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>".
  static Result<Digest> Parse(std::string_view text);

  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const { return AlgorithmName(algorithm_); }
  const std::string& hex() const { return hex_; }
  std::string ToString() const;

  auto operator<=>(const Digest& other) const = default;
  bool operator==(const Digest& other) const = default;

 private:
  Digest(DigestAlgorithm algorithm, std::string hex)
      : algorithm_(algorithm), hex_(std::move(hex)) {}
  friend class Digester;

  DigestAlgorithm algorithm_ = DigestAlgorithm::kSha256;
  std::string hex_;
};

// Hashes bytes as they stream by. Movable, not copyable; one Digester per stream (not thread-safe).
class OCIREG_EXPORT Digester {
 public:
  explicit Digester(DigestAlgorithm algorithm);
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  DigestAlgorithm algorithm() const { return algorithm_; }
  void Update(std::span<const char> bytes);
  void Update(std::string_view bytes) { Update(std::span<const char>(bytes.data(), bytes.size())); }
  // Without this a std::string argument is ambiguous between the two overloads above.
  void Update(const std::string& bytes) { Update(std::string_view(bytes)); }
  // The digest of everything passed to Update. The Digester is reset afterwards.
  Digest Finish();

  // The state of the hash so far, as text, so that another Digester (in this process or another
  // one, on any machine) can go on where this one stands. It holds no more than a partial block of
  // the bytes hashed.
  std::string SaveState() const;
  // A Digester that goes on from `saved` (SaveState). kDigestInvalid when `saved` is not one.
  static Result<Digester> RestoreState(std::string_view saved);

  // The digest of `bytes` in one call.
  static Digest Of(DigestAlgorithm algorithm, std::string_view bytes);

 private:
  struct State;
  DigestAlgorithm algorithm_;
  std::unique_ptr<State> state_;
};

}  // namespace ocireg

template <>
struct std::hash<ocireg::Digest> {
  size_t operator()(const ocireg::Digest& d) const noexcept {
    return std::hash<std::string>()(d.hex());
  }
};
