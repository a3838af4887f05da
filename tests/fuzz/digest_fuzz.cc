// SPDX-License-Identifier: Apache-2.0
// Fuzzes Digest::Parse and ParseAlgorithm: digests come from paths, ?digest=, ?mount= and bodies.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ocireg/digest.h"

namespace {

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ocireg::Digest;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto algorithm = ocireg::ParseAlgorithm(input);
  if (algorithm.ok()) FUZZ_CHECK(ocireg::AlgorithmName(*algorithm) == input, input);

  auto digest = Digest::Parse(input);
  if (digest.ok()) {
    // A parsed digest is exactly its text: "algorithm:hex", lowercase hex of the right length.
    FUZZ_CHECK(digest->ToString() == input, input);
    FUZZ_CHECK(digest->hex().size() == ocireg::HexLength(digest->algorithm()), input);
    FUZZ_CHECK(IsLowerHex(digest->hex()), input);
    auto again = Digest::Parse(digest->ToString());
    FUZZ_CHECK(again.ok() && *again == *digest, input);
  } else {
    FUZZ_CHECK(digest.status().code() == ocireg::ErrorCode::kDigestInvalid, input);
  }

  // Every digest the hasher makes parses back to itself.
  for (auto alg : {ocireg::DigestAlgorithm::kSha256, ocireg::DigestAlgorithm::kSha512}) {
    const Digest made = ocireg::Digester::Of(alg, input);
    auto parsed = Digest::Parse(made.ToString());
    FUZZ_CHECK(parsed.ok() && *parsed == made, made.ToString());
  }
  return 0;
}
