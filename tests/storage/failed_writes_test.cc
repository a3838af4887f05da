// SPDX-License-Identifier: Apache-2.0
// What a failed or throwing write leaves behind: no state for a repository that was never
// created, and no caller left waiting for an index write that threw.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "ocireg/reference.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "storage/layout_store.h"
#include "store_fixture.h"
#include "store_push.h"

using namespace ocireg;
using namespace ocireg::testing;
using internal::LayoutStore;

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Refuses to create any layout marker, so no new repository can come into being.
class NoNewRepositoriesDriver final : public ForwardingDriver {
 public:
  using ForwardingDriver::ForwardingDriver;
  Status WriteFileAtomic(std::string_view path, std::string_view data, Durability d) override {
    if (EndsWith(path, "/oci-layout")) return Internal("injected: disk full");
    return ForwardingDriver::WriteFileAtomic(path, data, d);
  }
};

// Throws std::bad_alloc from every write of an index.json once armed.
class ThrowingIndexDriver final : public ForwardingDriver {
 public:
  using ForwardingDriver::ForwardingDriver;
  std::atomic<bool> armed{false};
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability d) override {
    if (armed && EndsWith(path, "/index.json")) throw std::bad_alloc();
    return ForwardingDriver::ReplaceFile(path, data, version, d);
  }
};

std::unique_ptr<LayoutStore> OpenLayoutStore(std::unique_ptr<StorageDriver> driver) {
  auto store = LayoutStore::Open(std::move(driver), {});
  REQUIRE_OK(store);
  return std::move(*store);
}

}  // namespace

TEST_CASE("failed pushes to new names leave no repository state behind", "[store][names]") {
  auto inner = NewMemoryDriver();
  auto store = OpenLayoutStore(std::make_unique<NoNewRepositoriesDriver>(*inner));
  const size_t before = store->TEST_StateCount();
  for (int i = 0; i < 20; ++i) {
    const std::string repo = "fresh/name" + std::to_string(i);
    INFO(repo);
    // A blob commit, whose layout cannot be created.
    CHECK(!TryPushBlob(*store, repo, "content " + std::to_string(i)).ok());
    // A manifest whose blobs are not in the repository.
    BlobRef missing = RefTo(std::string(kTestLayerType), "nowhere " + std::to_string(i));
    auto put = store->PutManifest(repo, *Reference::Parse("v1"), {}, media_types::kOciManifest,
                                  ImageManifest(missing, {missing}));
    CHECK(put.status().code() == ErrorCode::kManifestBlobUnknown);
    // A mount from a repository that does not exist.
    CHECK(!store->MountBlob(repo, missing.digest, "nowhere").ok());
    CHECK_FALSE(store->RepositoryExists(repo));
  }
  CHECK(store->ListRepositories("", 0).items.empty());
  CHECK(store->TEST_StateCount() == before);
}

TEST_CASE("an index write that throws fails every waiting push instead of hanging",
          "[store][concurrency]") {
  auto inner = NewMemoryDriver();
  auto owned = std::make_unique<ThrowingIndexDriver>(*inner);
  ThrowingIndexDriver& driver = *owned;
  auto store = OpenLayoutStore(std::move(owned));
  constexpr int kPushers = 6;
  std::vector<std::string> manifests;
  for (int i = 0; i < kPushers; ++i) {
    auto blobs = TryPushImageBlobs(*store, "team/app", "image " + std::to_string(i));
    REQUIRE_OK(blobs);
    manifests.push_back(*blobs);
  }
  driver.armed = true;

  // Each pusher puts one tag; every index write throws. Each must come back with an error.
  std::vector<std::future<Status>> results;
  for (int i = 0; i < kPushers; ++i) {
    results.push_back(std::async(std::launch::async, [&, i]() -> Status {
      try {
        auto put = store->PutManifest("team/app", *Reference::Parse("t" + std::to_string(i)), {},
                                      media_types::kOciManifest, manifests[i]);
        return put.status();
      } catch (...) {
        return Internal("the store let an exception out");
      }
    }));
  }
  // A generous bound: a push left waiting forever is the failure.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (auto& result : results) {
    if (result.wait_until(deadline) != std::future_status::ready) {
      // The waiting threads can neither be joined nor abandoned with the store alive.
      std::fprintf(stderr, "FAILED: a push still waits for an index write that threw\n");
      std::abort();
    }
    Status status = result.get();
    INFO(status.ToString());
    CHECK(status.code() == ErrorCode::kInternal);
    CHECK(status.message().find("the store let an exception out") == std::string::npos);
  }
  driver.armed = false;
  // The repository works again, and none of the failed tags appeared.
  auto tags = store->ListTags("team/app", "", 0);
  REQUIRE_OK(tags);
  CHECK(tags->items.empty());
  REQUIRE(store
              ->PutManifest("team/app", *Reference::Parse("after"), {}, media_types::kOciManifest,
                            manifests[0])
              .ok());
}
