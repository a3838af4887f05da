// SPDX-License-Identifier: Apache-2.0
// Two stores over one storage, as two processes sharing a bucket: neither loses the other's
// index changes. (Over S3 the same runs with two ocireg-serve processes in tests/s3/.)
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "ocireg/storage/forwarding_driver.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "store_fixture.h"
#include "store_push.h"

namespace ocireg::testing {
namespace {

std::unique_ptr<Store> OpenOver(StorageDriver& shared, StoreOptions options = {}) {
  auto store = OpenStore(std::make_unique<ForwardingDriver>(shared), std::move(options));
  REQUIRE_OK(store);
  return std::move(*store);
}

struct Pushed {
  std::set<std::string> acknowledged;
  std::vector<std::string> failures;  // "tag: status"
};

// Puts tags <prefix>0..<prefix>n-1 of `manifest` through `store`.
Pushed PushTags(Store& store, const std::string& manifest, const std::string& prefix, int n) {
  Pushed pushed;
  for (int i = 0; i < n; ++i) {
    std::string tag = prefix + std::to_string(i);
    auto put = store.PutManifest("team/app", *Reference::Parse(tag), {}, media_types::kOciManifest,
                                 manifest);
    if (put.ok()) {
      pushed.acknowledged.insert(tag);
    } else {
      pushed.failures.push_back(tag + ": " + put.status().ToString());
    }
  }
  return pushed;
}

}  // namespace

TEMPLATE_TEST_CASE("two stores over one storage keep each other's tags", "[store][shared]",
                   FsBackend, MemoryBackend) {
  TestType backend;
  auto first = OpenOver(*backend.driver);
  auto second = OpenOver(*backend.driver);
  // Both push the same image's blobs, so each knows the repository and its blobs.
  auto manifest = TryPushImageBlobs(*first, "team/app", "shared image");
  REQUIRE_OK(manifest);
  REQUIRE_OK(TryPushImageBlobs(*second, "team/app", "shared image"));

  constexpr int kTags = 40;
  auto a = std::async(std::launch::async, [&] { return PushTags(*first, *manifest, "a", kTags); });
  auto b = std::async(std::launch::async, [&] { return PushTags(*second, *manifest, "b", kTags); });
  Pushed pushed = a.get();
  Pushed by_second = b.get();
  std::set<std::string> acknowledged = std::move(pushed.acknowledged);
  acknowledged.merge(by_second.acknowledged);
  pushed.failures.insert(pushed.failures.end(), by_second.failures.begin(),
                         by_second.failures.end());
  for (const std::string& failure : pushed.failures) UNSCOPED_INFO(failure);
  CHECK(acknowledged.size() == 2 * kTags);

  // A third store, as a process started afterwards, sees every acknowledged tag.
  auto third = OpenOver(*backend.driver);
  auto tags = third->ListTags("team/app", "", 0);
  REQUIRE_OK(tags);
  std::set<std::string> stored(tags->items.begin(), tags->items.end());
  for (const std::string& tag : acknowledged) {
    INFO(tag);
    CHECK(stored.contains(tag));
  }
}

TEMPLATE_TEST_CASE("two stores creating one repository at once keep both tags", "[store][shared]",
                   FsBackend, MemoryBackend) {
  TestType backend;
  auto first = OpenOver(*backend.driver);
  auto second = OpenOver(*backend.driver);
  // Neither knows the repository; each creates it with its own push.
  auto one = TryPushTaggedImage(*first, "fresh/repo", "image one", "one");
  auto two = TryPushTaggedImage(*second, "fresh/repo", "image two", "two");
  REQUIRE_OK(one);
  REQUIRE_OK(two);
  auto third = OpenOver(*backend.driver);
  auto tags = third->ListTags("fresh/repo", "", 0);
  REQUIRE_OK(tags);
  CHECK(tags->items == std::vector<std::string>{"one", "two"});
}

TEMPLATE_TEST_CASE("a tag deleted by one store while the other pushes stays deleted",
                   "[store][shared]", FsBackend, MemoryBackend) {
  TestType backend;
  auto first = OpenOver(*backend.driver);
  auto second = OpenOver(*backend.driver);
  REQUIRE_OK(TryPushTaggedImage(*first, "team/app", "image", "old"));
  auto manifest = TryPushImageBlobs(*second, "team/app", "image");
  REQUIRE_OK(manifest);
  REQUIRE_OK(second->ListTags("team/app", "", 0));  // loads its view: "old"
  REQUIRE_OK(first->DeleteTag("team/app", "old"));
  // The second store's view is stale; its push must not bring "old" back.
  REQUIRE_OK(second->PutManifest("team/app", *Reference::Parse("new"), {},
                                 media_types::kOciManifest, *manifest));
  auto third = OpenOver(*backend.driver);
  auto tags = third->ListTags("team/app", "", 0);
  REQUIRE_OK(tags);
  CHECK(tags->items == std::vector<std::string>{"new"});
}

TEMPLATE_TEST_CASE("a store on a shared storage sees another's repositories and tags in time",
                   "[store][shared]", FsBackend, MemoryBackend) {
  TestType backend;
  StoreOptions shared;
  shared.shared_refresh = std::chrono::milliseconds(20);
  auto first = OpenOver(*backend.driver, shared);
  auto second = OpenOver(*backend.driver, shared);
  auto alone = OpenOver(*backend.driver);  // not told the storage is shared

  CHECK(!second->RepositoryExists("team/app"));
  auto v1 = TryPushTaggedImage(*first, "team/app", "one", "v1");
  REQUIRE_OK(v1);
  // A repository it did not know is looked for in the storage.
  CHECK(second->RepositoryExists("team/app"));
  CHECK(!alone->RepositoryExists("team/app"));
  auto record = second->ResolveManifest("team/app", *Reference::Parse("v1"));
  REQUIRE_OK(record);
  CHECK(record->digest == Digester::Of(DigestAlgorithm::kSha256, *v1));

  // The tag moves; the second store follows once its copy is older than the interval.
  auto v2 = TryPushTaggedImage(*first, "team/app", "two", "v1");
  REQUIRE_OK(v2);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  record = second->ResolveManifest("team/app", *Reference::Parse("v1"));
  REQUIRE_OK(record);
  CHECK(record->digest == Digester::Of(DigestAlgorithm::kSha256, *v2));
  auto tags = second->ListTags("team/app", "", 0);
  REQUIRE_OK(tags);
  CHECK(tags->items == std::vector<std::string>{"v1"});
}

}  // namespace ocireg::testing
