// SPDX-License-Identifier: Apache-2.0
// Committing and linking blobs when things go wrong: sessions that outlive their commit, failed
// fsyncs, files that take no more links, index writes failing after their rename, and garbage
// collection running while a blob is linked.
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.h"
#include "fault_driver.h"
#include "manifest_builder.h"
#include "ocireg/reference.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "storage/fs_test_hooks.h"
#include "storage/layout.h"
#include "store_fixture.h"

using namespace ocireg;
using namespace ocireg::testing;
using namespace std::chrono_literals;

namespace {

using Call = FaultInjectingDriver::Call;
using Forward = std::function<Status()>;

constexpr std::string_view kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kLayerType = "application/vnd.oci.image.layer.v1.tar";

Status Injected(const std::string& what) { return Internal(what + ": injected failure"); }

// A store over `Backend` whose driver calls a test can intercept (faults->set_interceptor).
// Reopen() restarts it over the same data, without the interceptor.
template <typename Backend>
struct FaultyStore {
  Backend backend;
  StoreOptions options;
  FaultInjectingDriver* faults = nullptr;  // owned by `store`
  std::unique_ptr<Store> store;

  FaultyStore() { Reopen(); }
  void Reopen() {
    store.reset();
    auto driver = std::make_unique<FaultInjectingDriver>(*backend.driver);
    faults = driver.get();
    auto opened = OpenStore(std::move(driver), options);
    REQUIRE_OK(opened);
    store = std::move(*opened);
  }
  StorageDriver& driver() { return *backend.driver; }
};

// Removes a test hook of the file system driver when the test ends, however it ends.
struct AfterLinkHookGuard {
  explicit AfterLinkHookGuard(std::function<void(std::string_view)> hook) {
    internal::TEST_SetFsAfterLinkHook(std::move(hook));
  }
  ~AfterLinkHookGuard() { internal::TEST_SetFsAfterLinkHook(nullptr); }
  AfterLinkHookGuard(const AfterLinkHookGuard&) = delete;
  AfterLinkHookGuard& operator=(const AfterLinkHookGuard&) = delete;
};

// A session of `repo` that holds `content`.
std::shared_ptr<Upload> Begin(Store& store, std::string_view repo, std::string_view content) {
  auto upload = store.StartUpload(repo, DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  REQUIRE_OK((*upload)->Append(std::span<const char>(content.data(), content.size())));
  return *upload;
}

Status PushBlob(Store& store, std::string_view repo, std::string_view content) {
  return Begin(store, repo, content)->Commit(DigestOf(content)).status();
}

std::string ReadBlob(Store& store, std::string_view repo, const Digest& digest) {
  auto reader = store.OpenBlob(repo, digest);
  REQUIRE_OK(reader);
  std::string out((*reader)->size(), '\0');
  auto n = (*reader)->ReadAt(0, std::span<char>(out.data(), out.size()));
  REQUIRE_OK(n);
  out.resize(*n);
  return out;
}

Status PutTag(Store& store, std::string_view repo, std::string_view tag,
              const std::string& manifest) {
  return store.PutManifest(repo, *Reference::Parse(tag), {}, media_types::kOciManifest, manifest)
      .status();
}

// Sets the time of `path` below the file system store's root, and so of every name of its file.
void Age(const FsBackend& backend, const std::string& path) {
  std::filesystem::last_write_time(backend.root() / path,
                                   std::filesystem::file_time_type::clock::now() - 2h);
}

}  // namespace

#define COMMIT_TEST(name, tags) \
  TEMPLATE_TEST_CASE(name, "[store][commit]" tags, OCIREG_STORE_BACKENDS)

COMMIT_TEST("a session that outlives its commit cannot append to the blob", "[upload]") {
  FaultyStore<TestType> f;
  const std::string content = "committed bytes";
  const Digest digest = DigestOf(content);
  auto upload = Begin(*f.store, "repo", content);
  const std::string id = upload->id();
  // The session's directory cannot be removed after the commit, as if the process died first.
  f.faults->set_interceptor(
      [&](Call call, std::string_view path, std::string_view, const Forward& forward) {
        if (call == Call::kRemoveTree && path == internal::UploadDir(id)) {
          return Injected("remove session");
        }
        return forward();
      });
  REQUIRE_OK(upload->Commit(digest));
  f.faults->set_interceptor(nullptr);
  REQUIRE_OK(f.driver().Stat(internal::UploadInfoPath(id)));

  for (bool restarted : {false, true}) {
    INFO("restarted: " << restarted);
    if (restarted) {
      upload.reset();
      f.Reopen();
    }
    auto again = f.store->GetUpload("repo", id);
    CHECK(again.status().code() == ErrorCode::kBlobUploadUnknown);
    if (again.ok()) (void)(*again)->Append(std::span<const char>("tail", 4));
    CHECK(ReadBlob(*f.store, "repo", digest) == content);
  }
}

COMMIT_TEST("a failed fsync at commit ends the session", "[upload]") {
  FaultyStore<TestType> f;
  const std::string content = "never proven durable";
  auto upload = Begin(*f.store, "repo", content);
  bool failed = false;
  f.faults->set_interceptor(
      [&](Call call, std::string_view, std::string_view, const Forward& forward) {
        if (call != Call::kCommit || failed) return forward();
        failed = true;
        return Injected("fdatasync");
      });
  auto committed = upload->Commit(DigestOf(content));
  REQUIRE(failed);
  CHECK(!committed.ok());
  CHECK(committed.status().code() != ErrorCode::kDigestInvalid);
  // A retry finds no session (the client uploads again), not a digest that no longer matches.
  CHECK(upload->Commit(DigestOf(content)).status().code() == ErrorCode::kBlobUploadUnknown);
  CHECK(f.store->GetUpload("repo", upload->id()).status().code() == ErrorCode::kBlobUploadUnknown);
  CHECK(f.store->StatBlob("repo", DigestOf(content)).status().code() == ErrorCode::kBlobUnknown);
  CHECK(*f.store->monitoring().CountUploads() == 0);
}

TEST_CASE("a blob crowded with names is replaced by its next commit, and every name still reads",
          "[store][commit][dedup]") {
  // As if the file system allowed three names per file: the content store's copy and two
  // repositories fill it, and the next push must not fail for want of a name.
  internal::TEST_SetFsCrowdedLinks(3);
  struct Restore {
    ~Restore() { internal::TEST_SetFsCrowdedLinks(60000); }
  } restore;
  StoreFixture<FsBackend> f;
  const std::string content = "a layer in every repository";
  const Digest digest = DigestOf(content);
  for (std::string repo : {"first", "second", "third", "fourth"}) {
    INFO(repo);
    REQUIRE_OK(PushBlob(*f.store, repo, content));
  }
  auto mounted = f.store->MountBlob("fifth", digest, "first");
  REQUIRE_OK(mounted);
  for (std::string repo : {"first", "second", "third", "fourth", "fifth"}) {
    INFO(repo);
    CHECK(ReadBlob(*f.store, repo, digest) == content);
  }
  // The content store's copy was replaced: it no longer shares the first repository's file.
  const auto content_file = f.backend.root() / internal::ContentPath(digest);
  const auto first_file = f.backend.root() / internal::RepoBlobPath("first", digest);
  CHECK_FALSE(std::filesystem::equivalent(content_file, first_file));
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(scrub->ok());
}

COMMIT_TEST("an index write that fails after its rename is reported as done", "[manifest]") {
  FaultyStore<TestType> f;
  std::vector<std::string> warnings;
  f.options.warn = [&](std::string_view message) { warnings.emplace_back(message); };
  f.Reopen();
  const std::string config = R"({"seed":"index"})";
  const std::string layer = "the layer of the index test";
  REQUIRE_OK(PushBlob(*f.store, "repo", config));
  REQUIRE_OK(PushBlob(*f.store, "repo", layer));
  const std::string manifest = ImageManifest(RefTo(std::string(kConfigType), config),
                                             {RefTo(std::string(kLayerType), layer)});
  REQUIRE_OK(PutTag(*f.store, "repo", "v1", manifest));

  enum class Fault { kNone, kAfterRename, kBeforeRename };
  Fault fault = Fault::kNone;
  f.faults->set_interceptor(
      [&](Call call, std::string_view path, std::string_view, const Forward& forward) {
        if (call != Call::kWriteFileAtomic || path != "repo/index.json") return forward();
        switch (std::exchange(fault, Fault::kNone)) {
          case Fault::kNone:
            return forward();
          case Fault::kAfterRename:
            (void)forward();  // the new index is in place; the directory's fsync then fails
            return Injected("fsync repo");
          case Fault::kBeforeRename:
            return Injected("write repo/index.json");
        }
        return forward();
      });

  fault = Fault::kAfterRename;
  Status visible = PutTag(*f.store, "repo", "v2", manifest);
  CHECK_OK(visible);
  CHECK_OK(f.store->ResolveManifest("repo", *Reference::Parse("v2")));
  CHECK(warnings.size() == 1);

  fault = Fault::kBeforeRename;
  CHECK(!PutTag(*f.store, "repo", "v3", manifest).ok());
  CHECK(f.store->ResolveManifest("repo", *Reference::Parse("v3")).status().code() ==
        ErrorCode::kManifestUnknown);

  // What this process answered is what the disk holds.
  f.Reopen();
  CHECK_OK(f.store->ResolveManifest("repo", *Reference::Parse("v2")));
  CHECK(f.store->ResolveManifest("repo", *Reference::Parse("v3")).status().code() ==
        ErrorCode::kManifestUnknown);
}

TEST_CASE("a blob pushed or mounted again is protected from garbage collection anew",
          "[store][commit][gc]") {
  StoreFixture<FsBackend> f;
  f.options.gc_grace_period = 1h;
  f.Reopen();
  const std::string content = "pushed again before its manifest";
  const Digest digest = DigestOf(content);
  REQUIRE_OK(PushBlob(*f.store, "source", content));
  REQUIRE_OK(PushBlob(*f.store, "repo", content));
  // Every name of the blob shares one file, and so its time: all look pushed long ago, to a
  // process that did not see those pushes (this one would keep what it announced lately).
  Age(f.backend, internal::RepoBlobPath("repo", digest));
  f.Reopen();
  bool kept = true;
  SECTION("left alone, it is collected") { kept = false; }
  SECTION("uploaded again") { REQUIRE_OK(PushBlob(*f.store, "repo", content)); }
  SECTION("mounted again") { REQUIRE_OK(f.store->MountBlob("repo", digest, "source")); }
  REQUIRE_OK(f.store->maintenance().CollectGarbage());
  CHECK(f.store->StatBlob("repo", digest).ok() == kept);
}

TEST_CASE("garbage collection between a link and its return does not take the new link",
          "[store][commit][gc]") {
  StoreFixture<FsBackend> f;
  f.options.gc_grace_period = 1h;
  f.Reopen();
  const std::string content = "shared by two repositories";
  const Digest digest = DigestOf(content);
  REQUIRE_OK(PushBlob(*f.store, "first", content));
  Age(f.backend, internal::ContentPath(digest));
  const std::string target = internal::RepoBlobPath("second", digest);
  int collections = 0;
  Status pushed;
  {
    AfterLinkHookGuard guard([&](std::string_view to) {
      if (to != target || collections++ > 0) return;
      (void)f.store->maintenance().CollectGarbage();
    });
    pushed = PushBlob(*f.store, "second", content);
  }
  REQUIRE_OK(pushed);
  CHECK(collections >= 1);
  CHECK_OK(f.store->StatBlob("second", digest));
}

TEST_CASE("a link removed as soon as it is made is made again", "[store][commit][gc]") {
  StoreFixture<FsBackend> f;
  const std::string content = "collected at once";
  const Digest digest = DigestOf(content);
  REQUIRE_OK(PushBlob(*f.store, "first", content));
  const std::string target = internal::RepoBlobPath("second", digest);
  int removals = 0;
  Status pushed;
  {
    // As garbage collection with no grace period may do.
    AfterLinkHookGuard guard([&](std::string_view to) {
      if (to == target && removals++ == 0) std::filesystem::remove(f.backend.root() / target);
    });
    pushed = PushBlob(*f.store, "second", content);
  }
  REQUIRE_OK(pushed);
  CHECK(removals >= 1);
  CHECK(ReadBlob(*f.store, "second", digest) == content);
}

// A collection judges content by the links it found when it read the repositories, then removes
// old content that none of them names. A push that links such content in between must keep it,
// whether or not the driver's Link touches the content (an object store's does not).
COMMIT_TEST("content linked after the collection read the repositories is kept", "[gc]") {
  StoreFixture<TestType> f;
  f.options.gc_grace_period = 1h;
  // Every file looks two days old to the collection.
  f.options.now = [] { return std::chrono::system_clock::now() + 48h; };
  const std::string content = "garbage until pushed again";
  const Digest digest = DigestOf(content);
  Status pushed = Internal("not pushed");
  f.options.progress = [&](std::string_view stage, uint64_t) {
    if (stage != "content" || pushed.ok()) return;
    // Another request, while the collection goes from the repositories to the content store.
    std::thread push([&] { pushed = PushBlob(*f.store, "second", content); });
    push.join();
  };
  REQUIRE_OK(PushBlob(*f.store, "first", content));  // no manifest names it: garbage
  f.Reopen();                                        // a process that has not seen that push
  REQUIRE_OK(f.store->maintenance().CollectGarbage());
  REQUIRE_OK(pushed);
  CHECK_FALSE(f.store->StatBlob("first", digest).ok());  // collected before the push
  CHECK(ReadBlob(*f.store, "second", digest) == content);
}
