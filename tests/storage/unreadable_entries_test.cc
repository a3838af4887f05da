// SPDX-License-Identifier: Apache-2.0
// Entries the store cannot read (a directory of another user, a manifest that no longer parses)
// are skipped and reported; everything else keeps working.
#include <chrono>
#include <string>
#include <vector>

#include "catch.h"
#include "ocireg/reference.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "store_fixture.h"
#include "store_push.h"

using namespace ocireg;
using namespace ocireg::testing;
using namespace std::chrono_literals;

namespace {

// Answers every read under `denied` as the file system answers EACCES (the tests run as root,
// where permissions would not stop them).
class DenyingDriver final : public ForwardingDriver {
 public:
  DenyingDriver(StorageDriver& inner, std::string denied)
      : ForwardingDriver(inner), denied_(std::move(denied)) {}
  Result<FileInfo> Stat(std::string_view p) override {
    OCIREG_RETURN_IF_ERROR(Check(p));
    return ForwardingDriver::Stat(p);
  }
  Result<std::vector<std::string>> List(std::string_view p) override {
    OCIREG_RETURN_IF_ERROR(Check(p));
    return ForwardingDriver::List(p);
  }
  Result<std::string> ReadFile(std::string_view p) override {
    OCIREG_RETURN_IF_ERROR(Check(p));
    return ForwardingDriver::ReadFile(p);
  }
  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view p) override {
    OCIREG_RETURN_IF_ERROR(Check(p));
    return ForwardingDriver::OpenReader(p);
  }

 private:
  Status Check(std::string_view p) const {
    if (p == denied_ || p.starts_with(denied_ + "/")) {
      return Internal("open " + std::string(p) + ": Permission denied");
    }
    return Status::Ok();
  }
  const std::string denied_;
};

bool Mentions(const std::vector<std::string>& problems, std::string_view what) {
  for (const std::string& p : problems) {
    if (p.find(what) != std::string::npos) return true;
  }
  return false;
}

Reference Tag(std::string_view tag) { return *Reference::Parse(tag); }

}  // namespace

#define STORE_TEST(name, tags) TEMPLATE_TEST_CASE(name, "[store]" tags, OCIREG_STORE_BACKENDS)

STORE_TEST("an unreadable directory under the root is skipped and reported", "[unreadable]") {
  TestType backend;
  {
    auto store = *OpenStore(std::make_unique<ForwardingDriver>(*backend.driver));
    REQUIRE_OK(TryPushTaggedImage(*store, "team/app", "app", "v1"));
    REQUIRE_OK(TryPushTaggedImage(*store, "solo", "solo", "v1"));
  }
  REQUIRE_OK(backend.driver->WriteFileAtomic("lost+found/#1234", "x", Durability::kDurable));
  REQUIRE_OK(backend.driver->WriteFileAtomic("team/hidden/oci-layout", "{}", Durability::kDurable));

  for (const std::string denied : {"lost+found", "team/hidden"}) {
    INFO(denied);
    auto opened = OpenStore(std::make_unique<DenyingDriver>(*backend.driver, denied));
    REQUIRE_OK(opened);
    Store& store = **opened;
    std::vector<std::string> expected = {"solo", "team/app"};
    if (denied != "team/hidden") expected.push_back("team/hidden");
    CHECK(store.ListRepositories("", 0).items == expected);
    CHECK_OK(store.ResolveManifest("team/app", Tag("v1")));
    auto gc = store.maintenance().CollectGarbage();
    REQUIRE_OK(gc);
    CHECK(Mentions(gc->problems, denied));
    auto scrub = store.maintenance().Scrub();
    REQUIRE_OK(scrub);
    CHECK(Mentions(scrub->problems, denied));
  }
}

STORE_TEST("a manifest that no longer parses stops neither collection nor referrers",
           "[unreadable]") {
  StoreFixture<TestType> f;
  f.options.gc_grace_period = 0s;
  f.options.upload_ttl = 0s;
  f.Reopen();
  // The broken repository: a subject, a referrer of it, a manifest to corrupt, a loose blob.
  auto subject = TryPushTaggedImage(*f.store, "team/broken", "subject", "v1");
  REQUIRE_OK(subject);
  auto doomed = TryPushTaggedImage(*f.store, "team/broken", "doomed", "v2");
  REQUIRE_OK(doomed);
  auto config = TryPushBlob(*f.store, "team/broken", "{}", kTestConfigType);
  REQUIRE_OK(config);
  const std::string referrer =
      ImageManifest(*config, {}, RefTo(std::string(media_types::kOciManifest), *subject));
  REQUIRE(f.store
              ->PutManifest("team/broken", Reference::FromDigest(DigestOf(referrer)), {},
                            media_types::kOciManifest, referrer)
              .ok());
  auto loose_broken = TryPushBlob(*f.store, "team/broken", "loose in broken");
  REQUIRE_OK(loose_broken);
  // A healthy repository with garbage, and an idle upload.
  REQUIRE_OK(TryPushTaggedImage(*f.store, "team/ok", "ok", "v1"));
  auto loose_ok = TryPushBlob(*f.store, "team/ok", "loose in ok");
  REQUIRE_OK(loose_ok);
  REQUIRE_OK(f.store->StartUpload("team/ok", DigestAlgorithm::kSha256));

  // The manifest's file is replaced by garbage (a disk error, a careless hand).
  const Digest doomed_digest = DigestOf(*doomed);
  REQUIRE(f.driver()
              .WriteFileAtomic("team/broken/blobs/sha256/" + doomed_digest.hex(), "{not json",
                               Durability::kDurable)
              .ok());
  f.Reopen();  // forgets what it had read of the manifests

  auto referrers = f.store->ListReferrers("team/broken", DigestOf(*subject), "");
  REQUIRE_OK(referrers);
  REQUIRE(referrers->size() == 1);
  CHECK((*referrers)[0].digest == DigestOf(referrer));

  auto gc = f.store->maintenance().CollectGarbage();
  REQUIRE_OK(gc);
  CHECK(Mentions(gc->problems, "team/broken"));
  CHECK(Mentions(gc->problems, doomed_digest.ToString()));
  // The healthy repository was collected and the idle upload expired.
  CHECK(f.store->StatBlob("team/ok", loose_ok->digest).status().code() == ErrorCode::kBlobUnknown);
  CHECK(gc->uploads_removed == 1);
  // The broken repository keeps everything: nothing there can be judged unreferenced.
  CHECK_OK(f.store->StatBlob("team/broken", loose_broken->digest));
  CHECK_OK(f.store->ResolveManifest("team/broken", Tag("v1")));

  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(Mentions(scrub->problems, doomed_digest.ToString()));
}
