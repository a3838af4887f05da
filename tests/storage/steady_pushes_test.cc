// SPDX-License-Identifier: Apache-2.0
// Maintenance and deletes under a steady stream of tag pushes: they wait for the index writes
// under way when they start, not for the repository to fall idle, and keep what pending pushes
// reference.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
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

namespace {

constexpr std::string_view kRepo = "team/app";

// Makes the stream of tag pushes steady without relying on timing. Each write of the
// repository's index.json hands out one push to an idle pusher and returns only once that push
// has started installing its manifest. The push holds the repository's lock from before the
// install until its change is pending, so every index write ends with another change pending:
// the repository is never idle until the budget of pushes is spent or the test stops it.
class SteadyPushDriver final : public ForwardingDriver {
 public:
  explicit SteadyPushDriver(StorageDriver& inner, uint64_t budget)
      : ForwardingDriver(inner), budget_(budget) {}

  Status Link(std::string_view from, std::string_view to, Durability d) override {
    if (to.starts_with(std::string(kRepo) + "/blobs/")) {
      std::lock_guard lock(mu_);
      ++installs_;
      changed_.notify_all();
    }
    return ForwardingDriver::Link(from, to, d);
  }
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability d) override {
    if (path == std::string(kRepo) + "/index.json") {
      std::unique_lock lock(mu_);
      if (HandOutLocked()) {
        const uint64_t start = installs_;
        // Bounded: a generous upper limit, only so that a broken store cannot hang the test.
        changed_.wait_for(lock, std::chrono::seconds(20),
                          [&] { return stopped_ || installs_ > start; });
      }
    }
    return ForwardingDriver::ReplaceFile(path, data, version, d);
  }

  // Starts the stream with one push.
  void Start() {
    std::lock_guard lock(mu_);
    started_ = true;
    HandOutLocked();
  }
  // Waits for a push to make; false once stopped. `n` numbers the pushes from 0.
  bool NextPush(uint64_t& n) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return stopped_ || handed_out_ > taken_; });
    if (stopped_) return false;
    n = taken_++;
    return true;
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    changed_.notify_all();
  }
  bool exhausted() {
    std::lock_guard lock(mu_);
    return handed_out_ == budget_;
  }
  // Waits (bounded) until `n` installs have been seen.
  bool WaitForInstalls(uint64_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return installs_ >= n; });
  }

 private:
  bool HandOutLocked() {
    if (!started_ || stopped_ || handed_out_ == budget_) return false;
    ++handed_out_;
    changed_.notify_all();
    return true;
  }

  std::mutex mu_;
  std::condition_variable changed_;
  const uint64_t budget_;
  uint64_t installs_ = 0;
  uint64_t handed_out_ = 0;
  uint64_t taken_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

// An image manifest over `config` and `layer`, made distinct by `note`.
std::string Variant(const BlobRef& config, const BlobRef& layer, const std::string& note) {
  return ImageManifest(config, {layer}, std::nullopt, "", note);
}

}  // namespace

TEST_CASE("deletes, garbage collection and scrub finish while tag pushes keep coming",
          "[store][gc][concurrency]") {
  // Pushes in all: far more than happen while the operations below run.
  constexpr uint64_t kBudget = 20000;
  constexpr int kPushers = 6;
  constexpr uint64_t kVariants = 40;  // tags and manifests repeat, keeping the index small
  auto inner = NewMemoryDriver();
  auto owned = std::make_unique<SteadyPushDriver>(*inner, kBudget);
  SteadyPushDriver& driver = *owned;
  StoreOptions options;
  options.gc_grace_period = std::chrono::seconds(0);  // collect whatever is unreferenced
  auto opened = internal::LayoutStore::Open(std::move(owned), options);
  REQUIRE_OK(opened);
  internal::LayoutStore& store = **opened;

  auto config = TryPushBlob(store, kRepo, "{\"steady\":1}", kTestConfigType);
  auto layer = TryPushBlob(store, kRepo, "a layer of the steady pushes");
  // Targets of the operations under test: a blob no manifest references, and an untagged
  // manifest.
  auto loose = TryPushBlob(store, kRepo, "a blob nobody references");
  auto extra_config = TryPushBlob(store, kRepo, "{\"extra\":1}", kTestConfigType);
  REQUIRE_OK(config);
  REQUIRE_OK(layer);
  REQUIRE_OK(loose);
  REQUIRE_OK(extra_config);
  const std::string extra = ImageManifest(*extra_config, {});
  auto put_extra = store.PutManifest(kRepo, Reference::FromDigest(DigestOf(extra)), {},
                                     media_types::kOciManifest, extra);
  REQUIRE_OK(put_extra);

  std::mutex pushed_mu;
  std::map<std::string, std::string> pushed;  // tag -> manifest
  std::vector<Status> failures(kPushers);
  std::vector<std::thread> pushers;
  for (int p = 0; p < kPushers; ++p) {
    pushers.emplace_back([&, p] {
      uint64_t n = 0;
      while (driver.NextPush(n)) {
        const std::string tag = "t" + std::to_string(n % kVariants);
        const std::string manifest = Variant(*config, *layer, tag);
        auto put = store.PutManifest(kRepo, *Reference::Parse(tag), {}, media_types::kOciManifest,
                                     manifest);
        if (!put.ok()) {
          failures[p] = put.status();
          continue;
        }
        std::lock_guard lock(pushed_mu);
        pushed[tag] = manifest;
      }
    });
  }
  driver.Start();
  REQUIRE(driver.WaitForInstalls(20));

  // Each of these waited until the pushes ran out before the fix.
  Status deleted_blob = store.DeleteBlob(kRepo, loose->digest);
  auto gc = store.maintenance().CollectGarbage();
  auto scrub = store.maintenance().Scrub();
  Status deleted_manifest = store.DeleteManifest(kRepo, DigestOf(extra));
  const bool exhausted_meanwhile = driver.exhausted();
  driver.Stop();
  for (auto& t : pushers) t.join();

  CHECK_FALSE(exhausted_meanwhile);  // they finished while the pushes still came
  CHECK_OK(deleted_blob);
  REQUIRE_OK(gc);
  REQUIRE_OK(scrub);
  CHECK(scrub->problems.empty());
  CHECK_OK(deleted_manifest);
  for (const Status& failure : failures) CHECK_OK(failure);

  // Nothing a push referenced was collected, pending or not.
  CHECK(store.StatBlob(kRepo, loose->digest).status().code() == ErrorCode::kBlobUnknown);
  CHECK_OK(store.StatBlob(kRepo, config->digest));
  CHECK_OK(store.StatBlob(kRepo, layer->digest));
  for (const auto& [tag, manifest] : pushed) {
    INFO(tag);
    auto record = store.ResolveManifest(kRepo, *Reference::Parse(tag));
    REQUIRE_OK(record);
    auto body = store.ReadManifest(kRepo, record->digest);
    REQUIRE_OK(body);
    CHECK(*body == manifest);
  }
  auto after = store.maintenance().Scrub();
  REQUIRE_OK(after);
  CHECK(after->problems.empty());
}
