// SPDX-License-Identifier: Apache-2.0
// ManifestCache (lib/storage/manifest_cache.h): found by digest, bounded in bytes, least
// recently used out first.
#include "storage/manifest_cache.h"

#include <atomic>
#include <memory>
#include <string>

#include "catch.h"
#include "ocireg/digest.h"
#include "ocireg/storage/forwarding_driver.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "store_push.h"

namespace ocireg::internal {
namespace {

Digest DigestOf(const std::string& bytes) { return Digester::Of(DigestAlgorithm::kSha256, bytes); }

TEST_CASE("ManifestCache keeps manifests by digest within its bound", "[manifest_cache]") {
  ManifestCache cache(10);
  const std::string a = "aaaa", b = "bbbb", c = "cccc";
  CHECK(!cache.Find(DigestOf(a)));
  cache.Insert(DigestOf(a), a);
  cache.Insert(DigestOf(b), b);
  CHECK(cache.Find(DigestOf(a)) == a);  // now the most recently used
  CHECK(cache.bytes() == 8);

  // A third entry passes the bound: the least recently used (b) goes.
  cache.Insert(DigestOf(c), c);
  CHECK(cache.bytes() == 8);
  CHECK(cache.Find(DigestOf(a)) == a);
  CHECK(!cache.Find(DigestOf(b)));
  CHECK(cache.Find(DigestOf(c)) == c);

  // Inserting a known digest again changes nothing but its recency.
  cache.Insert(DigestOf(c), c);
  CHECK(cache.bytes() == 8);

  // Bytes larger than the whole bound are not kept, and do not push out what is there.
  const std::string big(11, 'x');
  cache.Insert(DigestOf(big), big);
  CHECK(!cache.Find(DigestOf(big)));
  CHECK(cache.Find(DigestOf(a)) == a);
  CHECK(cache.Find(DigestOf(c)) == c);
}

// Counts the small-file reads that reach the storage.
class CountingReads final : public ForwardingDriver {
 public:
  explicit CountingReads(std::atomic<int>& reads)
      : ForwardingDriver(NewMemoryDriver()), reads_(reads) {}
  Result<std::string> ReadFile(std::string_view path) override {
    ++reads_;
    return ForwardingDriver::ReadFile(path);
  }

 private:
  std::atomic<int>& reads_;
};

TEST_CASE("a store serves the manifests it stored or read lately without reading them again",
          "[manifest_cache]") {
  std::atomic<int> reads{0};
  auto store = OpenStore(std::make_unique<CountingReads>(reads));
  REQUIRE_OK(store);
  auto manifest = testing::TryPushTaggedImage(**store, "team/app", "one", "v1");
  REQUIRE_OK(manifest);
  const Digest digest = DigestOf(*manifest);

  const int before = reads.load();
  for (int i = 0; i < 3; ++i)
    CHECK((*store)->ReadManifest("team/app", digest).value() == *manifest);
  CHECK(reads.load() == before);

  // The index still decides: a manifest deleted is unknown, cached or not.
  REQUIRE_OK((*store)->DeleteManifest("team/app", digest));
  CHECK((*store)->ReadManifest("team/app", digest).status().code() == ErrorCode::kManifestUnknown);
}

}  // namespace
}  // namespace ocireg::internal
