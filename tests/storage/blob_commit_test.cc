// SPDX-License-Identifier: Apache-2.0
// Committing blobs when things go wrong: sessions that outlive their commit, failed fsyncs.
#include <functional>
#include <memory>
#include <string>

#include "catch.h"
#include "fault_driver.h"
#include "ocireg/storage/store.h"
#include "storage/layout.h"
#include "store_fixture.h"

using namespace ocireg;
using namespace ocireg::testing;
using namespace std::chrono_literals;

namespace {

using Call = FaultInjectingDriver::Call;
using Forward = std::function<Status()>;

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
    REQUIRE(opened.ok());
    store = std::move(*opened);
  }
  StorageDriver& driver() { return *backend.driver; }
};

// A session of `repo` that holds `content`.
std::shared_ptr<Upload> Begin(Store& store, std::string_view repo, std::string_view content) {
  auto upload = store.StartUpload(repo, DigestAlgorithm::kSha256);
  REQUIRE(upload.ok());
  REQUIRE((*upload)->Append(std::span<const char>(content.data(), content.size())).ok());
  return *upload;
}

std::string ReadBlob(Store& store, std::string_view repo, const Digest& digest) {
  auto reader = store.OpenBlob(repo, digest);
  INFO(reader.status().ToString());
  REQUIRE(reader.ok());
  std::string out((*reader)->size(), '\0');
  auto n = (*reader)->ReadAt(0, std::span<char>(out.data(), out.size()));
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

}  // namespace

#define COMMIT_TEST(name, tags) \
  TEMPLATE_TEST_CASE(name, "[store][commit]" tags, FsBackend, MemoryBackend)

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
  REQUIRE(upload->Commit(digest).ok());
  f.faults->set_interceptor(nullptr);
  REQUIRE(f.driver().Stat(internal::UploadInfoPath(id)).ok());

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

COMMIT_TEST("a session whose data file is also a blob refuses to append", "[upload]") {
  FaultyStore<TestType> f;
  auto upload = Begin(*f.store, "repo", "abc");
  const std::string id = upload->id();
  upload.reset();
  // What a crash can leave when the move out of the session was lost but the link was not.
  const std::string blob = internal::RepoBlobPath("repo", DigestOf("abc"));
  REQUIRE(f.driver().Link(internal::UploadDataPath(id), blob).ok());
  f.Reopen();
  auto again = f.store->GetUpload("repo", id);
  if (again.ok()) {
    CHECK((*again)->Append(std::span<const char>("d", 1)).code() == ErrorCode::kBlobUploadUnknown);
  }
  CHECK(*f.driver().ReadFile(blob) == "abc");
}

COMMIT_TEST("a failed fsync at commit ends the session", "[upload]") {
  FaultyStore<TestType> f;
  const std::string content = "never proven durable";
  auto upload = Begin(*f.store, "repo", content);
  bool failed = false;
  f.faults->set_interceptor(
      [&](Call call, std::string_view, std::string_view, const Forward& forward) {
        if (call != Call::kSync || failed) return forward();
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
  CHECK(*f.store->CountUploads() == 0);
}
