// SPDX-License-Identifier: Apache-2.0
// Crash safety: a store that dies at any write, or is killed at any instant, reopens consistent.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <random>
#include <thread>

#include "catch.h"
#include "fault_driver.h"
#include "manifest_builder.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "store_fixture.h"

using namespace ocireg;
using namespace ocireg::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kLayerType = "application/vnd.oci.image.layer.v1.tar";

Reference Tag(std::string_view tag) { return *Reference::Parse(tag); }

Status PushBlob(Store& store, std::string_view repo, std::string_view content) {
  auto upload = store.StartUpload(repo, DigestAlgorithm::kSha256);
  OCIREG_RETURN_IF_ERROR(upload);
  // Two appends, so that a crash can also fall between chunks.
  size_t half = content.size() / 2;
  OCIREG_RETURN_IF_ERROR((*upload)->Append(std::span<const char>(content.data(), half)));
  OCIREG_RETURN_IF_ERROR(
      (*upload)->Append(std::span<const char>(content.data() + half, content.size() - half)));
  return (*upload)->Commit(DigestOf(content)).status();
}

// Pushes config and layers of image `seed` and returns its manifest (in *manifest).
Status PushImage(Store& store, std::string_view repo, const std::string& seed,
                 std::string* manifest) {
  std::string config = R"({"image":")" + seed + R"("})";
  std::string layer_a = "layer a of " + seed + std::string(3000, 'a');
  std::string layer_b = "layer b of " + seed;
  OCIREG_RETURN_IF_ERROR(PushBlob(store, repo, config));
  OCIREG_RETURN_IF_ERROR(PushBlob(store, repo, layer_a));
  OCIREG_RETURN_IF_ERROR(PushBlob(store, repo, layer_b));
  *manifest = ImageManifest(
      RefTo(std::string(kConfigType), config),
      {RefTo(std::string(kLayerType), layer_a), RefTo(std::string(kLayerType), layer_b)});
  return Status::Ok();
}

std::string Manifest(const std::string& seed) {
  std::string config = R"({"image":")" + seed + R"("})";
  return ImageManifest(
      RefTo(std::string(kConfigType), config),
      {RefTo(std::string(kLayerType), "layer a of " + seed + std::string(3000, 'a')),
       RefTo(std::string(kLayerType), "layer b of " + seed)});
}

Status Put(Store& store, std::string_view repo, const Reference& ref, const std::string& body) {
  return store.PutManifest(repo, ref, {}, media_types::kOciManifest, body).status();
}

// The workload: each step is one client-visible operation.
std::vector<std::function<Status(Store&)>> Workload() {
  std::vector<std::function<Status(Store&)>> steps;
  steps.push_back([](Store& s) {
    std::string m;
    OCIREG_RETURN_IF_ERROR(PushImage(s, "app", "one", &m));
    return Put(s, "app", Tag("v1"), m);
  });
  steps.push_back([](Store& s) {
    std::string m;
    OCIREG_RETURN_IF_ERROR(PushImage(s, "app", "two", &m));
    std::vector<std::string> more = {"v2"};
    return s.PutManifest("app", Tag("v1"), more, media_types::kOciManifest, m).status();
  });
  steps.push_back([](Store& s) {
    std::string m = Manifest("one");
    for (const std::string& layer :
         {std::string(R"({"image":"one"})"), "layer a of one" + std::string(3000, 'a'),
          std::string("layer b of one")}) {
      OCIREG_RETURN_IF_ERROR(s.MountBlob("app/mirror", DigestOf(layer), "app").status());
    }
    return Put(s, "app/mirror", Reference::FromDigest(DigestOf(m)), m);
  });
  steps.push_back([](Store& s) { return s.DeleteTag("app", "v2"); });
  steps.push_back([](Store& s) { return s.DeleteManifest("app", DigestOf(Manifest("one"))); });
  steps.push_back([](Store& s) {
    std::string m = ImageManifest(RefTo(std::string(kConfigType), R"({"image":"one"})"), {},
                                  RefTo(std::string(media_types::kOciManifest), Manifest("two")),
                                  "application/vnd.example.sig");
    OCIREG_RETURN_IF_ERROR(PushBlob(s, "app", R"({"image":"one"})"));
    return Put(s, "app", Reference::FromDigest(DigestOf(m)), m);
  });
  steps.push_back([](Store& s) { return s.maintenance().CollectGarbage().status(); });
  steps.push_back([](Store& s) {
    std::string m;
    OCIREG_RETURN_IF_ERROR(PushImage(s, "app", "three", &m));
    return Put(s, "app", Tag("v1"), m);
  });
  return steps;
}

// What a client can observe: each tag's manifest and each manifest's presence.
using Observation = std::map<std::string, std::string>;

Observation Observe(Store& store) {
  Observation seen;
  for (std::string repo : {"app", "app/mirror"}) {
    for (std::string tag : {"v1", "v2"}) {
      auto m = store.ResolveManifest(repo, Tag(tag));
      seen[repo + ":" + tag] = m.ok() ? m->digest.ToString() : "-";
    }
    for (std::string seed : {"one", "two", "three"}) {
      Digest d = DigestOf(Manifest(seed));
      seen[repo + "@" + seed] =
          store.ResolveManifest(repo, Reference::FromDigest(d)).ok() ? "+" : "-";
    }
  }
  return seen;
}

std::unique_ptr<Store> OpenOver(std::unique_ptr<StorageDriver> driver) {
  StoreOptions options;
  options.gc_grace_period = 0s;
  auto store = OpenStore(std::move(driver), options);
  REQUIRE_OK(store);
  return std::move(*store);
}

// Everything visible must be whole: scrub finds nothing, and every manifest reads back intact.
void CheckConsistent(Store& store) {
  auto scrub = store.maintenance().Scrub();
  REQUIRE_OK(scrub);
  for (const std::string& problem : scrub->problems) INFO(problem);
  CHECK(scrub->ok());
  for (const std::string& repo : store.ListRepositories("", 0).items) {
    auto tags = store.ListTags(repo, "", 0);
    REQUIRE_OK(tags);
    for (const std::string& tag : tags->items) {
      auto record = store.ResolveManifest(repo, Tag(tag));
      REQUIRE_OK(record);
      auto body = store.ReadManifest(repo, record->digest);
      REQUIRE_OK(body);
      CHECK(DigestOf(*body) == record->digest);
    }
  }
}

// Crashes after every `stride`-th write (the file system fsyncs each one, which is slow).
template <typename Backend>
void RunCrashAtEveryWrite(uint64_t stride) {
  // A clean run gives the observation after each step and the number of writes it takes.
  auto steps = Workload();
  std::vector<Observation> after_step;
  uint64_t total_writes = 0;
  {
    Backend clean;
    auto faulty = std::make_unique<FaultInjectingDriver>(*clean.driver);
    FaultInjectingDriver* counter = faulty.get();
    auto store = OpenOver(std::move(faulty));
    after_step.push_back(Observe(*store));
    for (auto& step : steps) {
      REQUIRE_OK(step(*store));
      after_step.push_back(Observe(*store));
    }
    total_writes = counter->operations();
  }
  REQUIRE(total_writes > 20);

  for (uint64_t budget = 0; budget < total_writes; budget += stride) {
    INFO("crash after " << budget << " of " << total_writes << " writes");
    Backend backend;
    size_t completed = 0;
    {
      auto faulty = std::make_unique<FaultInjectingDriver>(*backend.driver);
      faulty->set_budget(static_cast<int64_t>(budget));
      auto store = OpenOver(std::move(faulty));
      while (completed < steps.size() && steps[completed](*store).ok()) ++completed;
      REQUIRE(completed < steps.size());  // the crash happened
    }
    // "Restart": a new store over what the dead one left behind.
    auto store = OpenOver(std::make_unique<ForwardingDriver>(*backend.driver));
    CheckConsistent(*store);
    Observation seen = Observe(*store);
    // Every finished step is kept; the step in flight happened wholly or not at all.
    bool old_state = seen == after_step[completed];
    bool new_state = seen == after_step[completed + 1];
    CHECK((old_state || new_state));
    // The restarted store takes new work.
    std::string m;
    REQUIRE_OK(PushImage(*store, "app", "after", &m));
    REQUIRE_OK(Put(*store, "app", Tag("after"), m));
    CheckConsistent(*store);
  }
}

}  // namespace

TEST_CASE("a crash after any write leaves the old state or the new one (memory)",
          "[store][crash]") {
  RunCrashAtEveryWrite<MemoryBackend>(1);
}

TEST_CASE("a crash after any of many writes leaves the old state or the new one (file system)",
          "[store][crash]") {
  RunCrashAtEveryWrite<FsBackend>(7);
}

TEST_CASE("a writer killed at random instants leaves a consistent store", "[store][crash]") {
  TempDir dir;
  std::mt19937 random(12345);
  constexpr int kKills = 12;
  for (int round = 0; round < kKills; ++round) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child writes until it is killed, with every kind of change, then stops by itself.
      auto driver = NewFsDriver(dir.path().string());
      if (!driver.ok()) ::_exit(2);
      StoreOptions options;
      options.gc_grace_period = 0s;
      auto store = OpenStore(std::move(*driver), options);
      if (!store.ok()) ::_exit(3);
      for (int i = 0; i < 400; ++i) {
        std::string repo = "kill/r" + std::to_string(i % 3);
        std::string m;
        std::string seed = std::to_string(round) + "-" + std::to_string(i);
        if (PushImage(**store, repo, seed, &m).ok()) {
          (void)Put(**store, repo, Tag("latest"), m);
        }
        if (i % 5 == 4) (void)(*store)->DeleteManifest(repo, DigestOf(m));
        if (i % 7 == 6) (void)(*store)->maintenance().CollectGarbage();
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 120));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("round " << round);
    CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));

    auto driver = NewFsDriver(dir.path().string());
    REQUIRE_OK(driver);
    auto store = OpenOver(std::move(*driver));
    CheckConsistent(*store);
  }
  // The writers got far enough to leave something behind to check.
  auto driver = NewFsDriver(dir.path().string());
  REQUIRE_OK(driver);
  auto store = OpenOver(std::move(*driver));
  CHECK(!store->ListRepositories("", 0).items.empty());
}
