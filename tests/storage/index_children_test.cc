// SPDX-License-Identifier: Apache-2.0
// The children of an index stay pullable: deleting one is refused while an index lists it, and
// scrub reports an index whose child is no manifest of the repository; a repository that accepts
// sparse indexes (StoreOptions::sparse_indexes) stores one whose children are absent.
#include <string>

#include "catch.h"
#include "ocireg/reference.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "store_fixture.h"
#include "store_push.h"

using namespace ocireg;
using namespace ocireg::testing;

#define STORE_TEST(name, tags) TEMPLATE_TEST_CASE(name, "[store]" tags, OCIREG_STORE_BACKENDS)

STORE_TEST("a child manifest cannot be deleted while an index lists it", "[delete][index]") {
  StoreFixture<TestType> f;
  auto child = TryPushImageBlobs(*f.store, "multi", "amd64");
  REQUIRE_OK(child);
  const Digest child_digest = DigestOf(*child);
  REQUIRE(f.store
              ->PutManifest("multi", Reference::FromDigest(child_digest), {},
                            media_types::kOciManifest, *child)
              .ok());
  const std::string index = ImageIndex({RefTo(std::string(media_types::kOciManifest), *child)});
  REQUIRE(
      f.store->PutManifest("multi", *Reference::Parse("latest"), {}, media_types::kOciIndex, index)
          .ok());

  Status refused = f.store->DeleteManifest("multi", child_digest);
  INFO(refused.ToString());
  CHECK(refused.code() == ErrorCode::kUnsupported);
  CHECK(refused.message().find(DigestOf(index).ToString()) != std::string::npos);
  // The index still pulls whole.
  CHECK(*f.store->ReadManifest("multi", child_digest) == *child);
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(scrub->problems.empty());

  // Once the index is gone, so can the child be.
  REQUIRE_OK(f.store->DeleteManifest("multi", DigestOf(index)));
  CHECK_OK(f.store->DeleteManifest("multi", child_digest));
}

STORE_TEST("scrub reports an index whose child is no manifest of the repository",
           "[scrub][index]") {
  StoreFixture<TestType> f;
  // The child's bytes arrive as a blob only, so the index is accepted but its child cannot be
  // pulled as a manifest (how an index looked after its child was deleted).
  auto child = TryPushImageBlobs(*f.store, "multi", "arm64");
  REQUIRE_OK(child);
  REQUIRE_OK(TryPushBlob(*f.store, "multi", *child, media_types::kOciManifest));
  const std::string index = ImageIndex({RefTo(std::string(media_types::kOciManifest), *child)});
  REQUIRE(
      f.store->PutManifest("multi", *Reference::Parse("latest"), {}, media_types::kOciIndex, index)
          .ok());
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  REQUIRE(scrub->problems.size() == 1);
  CHECK(scrub->problems[0].find(DigestOf(*child).ToString()) != std::string::npos);
  CHECK(scrub->problems[0].find("not a manifest") != std::string::npos);
}

STORE_TEST("a repository that accepts sparse indexes stores one whose children are absent",
           "[index][sparse]") {
  StoreFixture<TestType> f;
  f.options.sparse_indexes = [](std::string_view repo) { return repo.starts_with("mirror/"); };
  f.Reopen();
  auto present = TryPushImageBlobs(*f.store, "mirror/multi", "amd64");
  REQUIRE_OK(present);
  REQUIRE_OK(f.store->PutManifest("mirror/multi", Reference::FromDigest(DigestOf(*present)), {},
                                  media_types::kOciManifest, *present));
  // The arm64 image is never pushed: only its manifest's bytes are known, to describe it.
  const std::string absent = R"({"schemaVersion":2,"note":"arm64 image never pushed"})";
  const std::string index = ImageIndex({RefTo(std::string(media_types::kOciManifest), *present),
                                        RefTo(std::string(media_types::kOciManifest), absent)});

  // Elsewhere, every child must be present.
  auto elsewhere = TryPushImageBlobs(*f.store, "plain/multi", "amd64");
  REQUIRE_OK(elsewhere);
  REQUIRE_OK(f.store->PutManifest("plain/multi", Reference::FromDigest(DigestOf(*present)), {},
                                  media_types::kOciManifest, *present));
  auto refused = f.store->PutManifest("plain/multi", *Reference::Parse("latest"), {},
                                      media_types::kOciIndex, index);
  CHECK(refused.status().code() == ErrorCode::kManifestBlobUnknown);

  REQUIRE_OK(f.store->PutManifest("mirror/multi", *Reference::Parse("latest"), {},
                                  media_types::kOciIndex, index));
  CHECK(*f.store->ReadManifest("mirror/multi", DigestOf(index)) == index);
  CHECK(*f.store->ReadManifest("mirror/multi", DigestOf(*present)) == *present);
  CHECK(f.store->ResolveManifest("mirror/multi", Reference::FromDigest(DigestOf(absent)))
            .status()
            .code() == ErrorCode::kManifestUnknown);
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(scrub->problems.empty());

  // An image manifest's layers are still required there.
  const std::string missing_layer =
      ImageManifest(RefTo("application/vnd.oci.image.config.v1+json", "{}"),
                    {RefTo("application/vnd.oci.image.layer.v1.tar", "never pushed")});
  auto incomplete = f.store->PutManifest("mirror/multi", *Reference::Parse("incomplete"), {},
                                         media_types::kOciManifest, missing_layer);
  CHECK(incomplete.status().code() == ErrorCode::kManifestBlobUnknown);
}
