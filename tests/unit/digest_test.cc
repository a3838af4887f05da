// SPDX-License-Identifier: Apache-2.0
// Unit tests for Digest parsing and the streaming Digester.
#include "ocireg/digest.h"

#include <algorithm>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "catch.h"
#include "status_macros.h"

using ocireg::Digest;
using ocireg::DigestAlgorithm;
using ocireg::Digester;
using ocireg::ErrorCode;

namespace {

// Reference values from coreutils (printf ... | sha256sum / sha512sum).
constexpr std::string_view kSha256Empty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kSha256Abc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kSha512Empty =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
constexpr std::string_view kSha512Abc =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
// Of the three bytes 'a', NUL, 'b'.
constexpr std::string_view kSha256ANulB =
    "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138";
// Of PatternBytes(3 MiB), computed with an independent implementation (Python hashlib).
constexpr std::string_view kSha256Pattern3MiB =
    "01a4cc350e4fc405ebb5f34e84ec2b24c5154ceff897db7b4cb1f60e9af0b088";
constexpr std::string_view kSha512Pattern3MiB =
    "6e800ceffb2666b30ee7dee06bb80294d4859db379cb17cb85ea916fe3b17e2e"
    "ccad7aa0662b83abbc4c0366f89a814b70ab8d966fc1b48cf7a94f422c8c8969";

// Deterministic bytes whose period (251) does not divide any hash block size.
std::string PatternBytes(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 7 + 3) % 251);
  return out;
}

Digest MustParse(std::string_view text) {
  auto digest = Digest::Parse(text);
  REQUIRE_OK(digest);
  return *digest;
}

std::string Sha256Text(std::string_view hex) { return "sha256:" + std::string(hex); }

}  // namespace

TEST_CASE("algorithm names, parsing and hex lengths", "[digest]") {
  CHECK(ocireg::AlgorithmName(DigestAlgorithm::kSha256) == "sha256");
  CHECK(ocireg::AlgorithmName(DigestAlgorithm::kSha512) == "sha512");
  CHECK(ocireg::HexLength(DigestAlgorithm::kSha256) == 64);
  CHECK(ocireg::HexLength(DigestAlgorithm::kSha512) == 128);

  auto sha256 = ocireg::ParseAlgorithm("sha256");
  REQUIRE_OK(sha256);
  CHECK(*sha256 == DigestAlgorithm::kSha256);
  auto sha512 = ocireg::ParseAlgorithm("sha512");
  REQUIRE_OK(sha512);
  CHECK(*sha512 == DigestAlgorithm::kSha512);

  for (std::string_view bad : {"", "SHA256", "sha384", "md5", "sha1", "sha256 ", " sha256", "sha",
                               "blake3", "sha512\n", "sha256:"}) {
    INFO("algorithm: \"" << bad << "\"");
    auto result = ocireg::ParseAlgorithm(bad);
    REQUIRE(!result.ok());
    CHECK(result.status().code() == ErrorCode::kDigestInvalid);
    CHECK(!result.status().message().empty());
  }
}

TEST_CASE("known vectors for sha256 and sha512", "[digest]") {
  const Digest sha256_empty = Digester::Of(DigestAlgorithm::kSha256, "");
  CHECK(sha256_empty.algorithm() == DigestAlgorithm::kSha256);
  CHECK(sha256_empty.algorithm_name() == "sha256");
  CHECK(sha256_empty.hex() == kSha256Empty);
  CHECK(sha256_empty.ToString() == "sha256:" + std::string(kSha256Empty));

  CHECK(Digester::Of(DigestAlgorithm::kSha256, "abc").hex() == kSha256Abc);

  const Digest sha512_empty = Digester::Of(DigestAlgorithm::kSha512, "");
  CHECK(sha512_empty.algorithm() == DigestAlgorithm::kSha512);
  CHECK(sha512_empty.algorithm_name() == "sha512");
  CHECK(sha512_empty.hex() == kSha512Empty);
  CHECK(sha512_empty.ToString() == "sha512:" + std::string(kSha512Empty));

  CHECK(Digester::Of(DigestAlgorithm::kSha512, "abc").hex() == kSha512Abc);

  // Bytes are hashed by length, not up to a NUL.
  const std::string with_nul("a\0b", 3);
  CHECK(Digester::Of(DigestAlgorithm::kSha256, with_nul).hex() == kSha256ANulB);
}

TEST_CASE("computed digests equal their parsed text", "[digest]") {
  const Digest computed = Digester::Of(DigestAlgorithm::kSha512, "abc");
  const Digest parsed = MustParse(computed.ToString());
  CHECK(parsed == computed);
  CHECK(parsed.hex() == kSha512Abc);
}

TEST_CASE("streaming in small pieces equals one-shot", "[digest]") {
  const auto algorithm = GENERATE(DigestAlgorithm::kSha256, DigestAlgorithm::kSha512);
  // Long enough to cross many 64- and 128-byte hash blocks at uneven offsets.
  const std::string data = PatternBytes(10'007);
  const Digest expected = Digester::Of(algorithm, data);

  const size_t piece = GENERATE(size_t{1}, size_t{3}, size_t{63}, size_t{64}, size_t{65},
                                size_t{127}, size_t{128}, size_t{129}, size_t{4096});
  INFO("algorithm " << ocireg::AlgorithmName(algorithm) << ", piece size " << piece);
  Digester digester(algorithm);
  CHECK(digester.algorithm() == algorithm);
  for (size_t offset = 0; offset < data.size(); offset += piece) {
    digester.Update(std::string_view(data).substr(offset, piece));
  }
  CHECK(digester.Finish() == expected);
}

TEST_CASE("streaming with uneven pieces and empty updates", "[digest]") {
  Digester digester(DigestAlgorithm::kSha256);
  digester.Update(std::string_view());
  digester.Update(std::string_view("a"));
  digester.Update(std::span<const char>());
  digester.Update(std::string_view("bc"));
  digester.Update(std::string_view());
  CHECK(digester.Finish().hex() == kSha256Abc);
}

TEST_CASE("every Update overload hashes the same bytes", "[digest]") {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  const std::string_view expected =
      "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";

  Digester from_string(DigestAlgorithm::kSha256);
  from_string.Update(text);
  CHECK(from_string.Finish().hex() == expected);

  Digester from_view(DigestAlgorithm::kSha256);
  from_view.Update(std::string_view(text));
  CHECK(from_view.Finish().hex() == expected);

  const std::vector<char> bytes(text.begin(), text.end());
  Digester from_span(DigestAlgorithm::kSha256);
  from_span.Update(std::span<const char>(bytes));
  CHECK(from_span.Finish().hex() == expected);

  CHECK(Digester::Of(DigestAlgorithm::kSha256, text).hex() == expected);
}

TEST_CASE("a 3 MiB input hashes to the independently computed value", "[digest]") {
  const std::string data = PatternBytes(3 * 1024 * 1024);

  SECTION("one shot") {
    CHECK(Digester::Of(DigestAlgorithm::kSha256, data).hex() == kSha256Pattern3MiB);
    CHECK(Digester::Of(DigestAlgorithm::kSha512, data).hex() == kSha512Pattern3MiB);
  }
  SECTION("streamed in 64 KiB + 1 chunks") {
    Digester sha256(DigestAlgorithm::kSha256);
    Digester sha512(DigestAlgorithm::kSha512);
    constexpr size_t kChunk = 64 * 1024 + 1;
    for (size_t offset = 0; offset < data.size(); offset += kChunk) {
      const auto chunk = std::string_view(data).substr(offset, kChunk);
      sha256.Update(chunk);
      sha512.Update(chunk);
    }
    CHECK(sha256.Finish().hex() == kSha256Pattern3MiB);
    CHECK(sha512.Finish().hex() == kSha512Pattern3MiB);
  }
}

TEST_CASE("Finish resets the digester for reuse", "[digest]") {
  const auto algorithm = GENERATE(DigestAlgorithm::kSha256, DigestAlgorithm::kSha512);
  const std::string_view abc = algorithm == DigestAlgorithm::kSha256 ? kSha256Abc : kSha512Abc;
  const std::string_view empty =
      algorithm == DigestAlgorithm::kSha256 ? kSha256Empty : kSha512Empty;

  Digester digester(algorithm);
  digester.Update(std::string_view("abc"));
  CHECK(digester.Finish().hex() == abc);
  // Nothing carried over from the first stream.
  CHECK(digester.Finish().hex() == empty);
  digester.Update(std::string_view("ab"));
  digester.Update(std::string_view("c"));
  CHECK(digester.Finish().hex() == abc);
  CHECK(digester.algorithm() == algorithm);
}

TEST_CASE("a Digester can be moved mid-stream", "[digest]") {
  SECTION("move construction carries the state") {
    Digester first(DigestAlgorithm::kSha512);
    first.Update(std::string_view("a"));
    Digester second(std::move(first));
    second.Update(std::string_view("bc"));
    CHECK(second.algorithm() == DigestAlgorithm::kSha512);
    CHECK(second.Finish().hex() == kSha512Abc);
  }
  SECTION("move assignment replaces the target's algorithm and state") {
    Digester source(DigestAlgorithm::kSha256);
    source.Update(std::string_view("ab"));
    Digester target(DigestAlgorithm::kSha512);
    target.Update(std::string_view("discarded"));
    target = std::move(source);
    target.Update(std::string_view("c"));
    CHECK(target.algorithm() == DigestAlgorithm::kSha256);
    CHECK(target.Finish().hex() == kSha256Abc);
  }
  SECTION("a moved-from Digester can be assigned a fresh one and used again") {
    Digester first(DigestAlgorithm::kSha256);
    Digester second(std::move(first));
    first = Digester(DigestAlgorithm::kSha512);
    first.Update(std::string_view("abc"));
    CHECK(first.Finish().hex() == kSha512Abc);
    CHECK(second.Finish().hex() == kSha256Empty);
  }
  SECTION("digesters live in a vector that reallocates") {
    std::vector<Digester> digesters;
    for (int i = 0; i < 20; ++i) {
      digesters.emplace_back(i % 2 == 0 ? DigestAlgorithm::kSha256 : DigestAlgorithm::kSha512);
      digesters.back().Update(std::string_view("abc"));
    }
    for (size_t i = 0; i < digesters.size(); ++i) {
      CHECK(digesters[i].Finish().hex() == (i % 2 == 0 ? kSha256Abc : kSha512Abc));
    }
  }
}

TEST_CASE("well-formed digests parse", "[digest]") {
  const Digest sha256 = MustParse(Sha256Text(kSha256Abc));
  CHECK(sha256.algorithm() == DigestAlgorithm::kSha256);
  CHECK(sha256.hex() == kSha256Abc);
  CHECK(sha256.ToString() == Sha256Text(kSha256Abc));

  const Digest sha512 = MustParse("sha512:" + std::string(kSha512Empty));
  CHECK(sha512.algorithm() == DigestAlgorithm::kSha512);
  CHECK(sha512.hex() == kSha512Empty);

  // Every hex digit is accepted.
  const std::string all_digits =
      Sha256Text(std::string(4, '0') + "123456789abcdef" + std::string(64 - 4 - 15, 'f'));
  CHECK(MustParse(all_digits).ToString() == all_digits);
}

TEST_CASE("malformed digests are DIGEST_INVALID with a reason", "[digest]") {
  const std::string hex64(kSha256Abc);
  const std::string hex128(kSha512Abc);
  std::string upper64 = hex64;
  std::transform(upper64.begin(), upper64.end(), upper64.begin(), [](char c) {
    return c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c;
  });
  std::string one_upper = hex64;
  one_upper[10] = 'A';

  struct Case {
    std::string text;
    std::string reason;  // a fragment the message must contain
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {":", "algorithm is empty"},
      {":" + hex64, "algorithm is empty"},
      {"sha256", "no ':'"},
      {hex64, "no ':'"},
      {"sha256" + hex64, "no ':'"},
      {"sha256:", "64 hex characters, got 0"},
      {"sha512:", "128 hex characters, got 0"},
      {"sha256:" + hex64.substr(1), "64 hex characters, got 63"},
      {"sha256:" + hex64 + "0", "64 hex characters, got 65"},
      {"sha256:" + hex128, "64 hex characters, got 128"},
      {"sha512:" + hex64, "128 hex characters, got 64"},
      {"sha512:" + hex128.substr(1), "128 hex characters, got 127"},
      {"sha256:" + upper64, "lowercase"},
      {"sha256:" + one_upper, "lowercase: \"A\" at hex offset 10"},
      {"SHA256:" + hex64, "unsupported digest algorithm \"SHA256\""},
      {"sha384:" + hex64 + hex64.substr(0, 32), "unsupported digest algorithm \"sha384\""},
      {"md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm \"md5\""},
      {"sha1:a9993e364706816aba3e25717850c26c9cd0d89d", "unsupported digest algorithm"},
      {" sha256:" + hex64, "unsupported digest algorithm \" sha256\""},
      {"sha256 :" + hex64, "unsupported digest algorithm"},
      {"sha256: " + hex64.substr(1), "invalid character \" \" at hex offset 0"},
      {"sha256:" + hex64 + " ", "invalid character \" \" at hex offset 64"},
      {"sha256:" + hex64 + "\n", "invalid character \"\\x0a\""},
      {"sha256:" + hex64.substr(0, 32) + "\t" + hex64.substr(33), "invalid character \"\\x09\""},
      {"sha256:" + hex64.substr(0, 63) + "g", "invalid character \"g\" at hex offset 63"},
      {"sha256:" + hex64.substr(0, 63) + "x", "invalid character"},
      {"sha256:" + hex64 + ":" + hex64, "invalid character \":\""},
      {"sha256::" + hex64.substr(1), "invalid character \":\""},
      {"sha256:" + hex64.substr(0, 20) + std::string(1, '\0') + hex64.substr(21),
       "invalid character \"\\x00\""},
      {"sha256:" + hex64.substr(0, 62) + "\xc3\xa9", "invalid character \"\\xc3\""},
      {"sha256:+" + hex64.substr(1), "invalid character \"+\""},
  };

  for (const Case& c : cases) {
    INFO("digest text: \"" << c.text << "\" (" << c.text.size() << " bytes)");
    auto result = Digest::Parse(c.text);
    REQUIRE(!result.ok());
    CHECK(result.status().code() == ErrorCode::kDigestInvalid);
    INFO("message: " << result.status().message());
    CHECK(result.status().message().find(c.reason) != std::string::npos);
  }
}

TEST_CASE("error messages escape and truncate hostile input", "[digest]") {
  const std::string hostile = std::string(1000, 'x') + "\r\n";
  auto result = Digest::Parse(hostile);
  REQUIRE(!result.ok());
  const std::string& message = result.status().message();
  INFO(message);
  CHECK(message.size() < 200);
  CHECK(message.find('\r') == std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find("...") != std::string::npos);
}

TEST_CASE("digests compare and hash as values", "[digest]") {
  const Digest abc = Digester::Of(DigestAlgorithm::kSha256, "abc");
  const Digest empty = Digester::Of(DigestAlgorithm::kSha256, "");
  const Digest abc512 = Digester::Of(DigestAlgorithm::kSha512, "abc");

  CHECK(abc == MustParse(Sha256Text(kSha256Abc)));
  CHECK(abc != empty);
  CHECK(abc != abc512);
  // "ba78..." sorts before "e3b0...".
  CHECK(abc < empty);
  // Ordering is by algorithm first.
  CHECK(empty < abc512);

  std::unordered_set<Digest> set = {abc, empty, abc512, MustParse(Sha256Text(kSha256Abc))};
  CHECK(set.size() == 3);
  CHECK(set.count(MustParse(Sha256Text(kSha256Empty))) == 1);
}
