// SPDX-License-Identifier: Apache-2.0
// HashHelper: pieces hashed alongside their writing give the same digest as hashing inline, for
// one caller and for several at once (the helper takes one, the others hash themselves).
#include "storage/hash_helper.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"

namespace {

using ocireg::DigestAlgorithm;
using ocireg::Digester;
using ocireg::internal::HashHelper;

// Pieces of uneven sizes whose bytes depend on `seed`.
std::vector<std::string> Pieces(int seed, int count) {
  std::vector<std::string> pieces;
  for (int i = 0; i < count; ++i) {
    std::string piece(static_cast<size_t>(1 + (i * 7919 + seed * 104729) % 70000), '\0');
    for (size_t j = 0; j < piece.size(); ++j) piece[j] = static_cast<char>(j * 31 + i + seed);
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

std::string Joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& p : pieces) all += p;
  return all;
}

}  // namespace

TEST_CASE("HashHelper: pieces hashed alongside the work make the inline digest", "[unit][hash]") {
  HashHelper helper;
  const auto pieces = Pieces(1, 200);
  Digester digester(DigestAlgorithm::kSha256);
  int worked = 0;
  int failed = 0;
  for (const auto& piece : pieces) {
    if (!helper
             .UpdateAlongside(digester, std::span<const char>(piece.data(), piece.size()),
                              [&] { ++worked; })
             .ok()) {
      ++failed;
    }
  }
  CHECK(failed == 0);
  CHECK(worked == 200);
  CHECK(digester.Finish() == Digester::Of(DigestAlgorithm::kSha256, Joined(pieces)));
}

TEST_CASE("HashHelper: concurrent callers each get their own digest", "[unit][hash]") {
  HashHelper helper;
  constexpr int kThreads = 4;
  std::vector<std::vector<std::string>> pieces;
  for (int t = 0; t < kThreads; ++t) pieces.push_back(Pieces(t + 2, 150));
  std::atomic<int> worked{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Digester digester(DigestAlgorithm::kSha512);
      for (const auto& piece : pieces[t]) {
        if (!helper
                 .UpdateAlongside(digester, std::span<const char>(piece.data(), piece.size()),
                                  [&] { ++worked; })
                 .ok()) {
          ++wrong;
        }
      }
      if (digester.Finish() != Digester::Of(DigestAlgorithm::kSha512, Joined(pieces[t]))) {
        ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(worked == kThreads * 150);
  CHECK(wrong == 0);
}

TEST_CASE("HashHelper: stops cleanly, used or not", "[unit][hash]") {
  { HashHelper unused; }
  HashHelper used;
  Digester digester(DigestAlgorithm::kSha256);
  std::string bytes = "abc";
  CHECK(used.UpdateAlongside(digester, std::span<const char>(bytes.data(), bytes.size()), [] {})
            .ok());
  CHECK(digester.Finish() == Digester::Of(DigestAlgorithm::kSha256, "abc"));
}
