// SPDX-License-Identifier: Apache-2.0
// The children of an index stay pullable: deleting one is refused while an index lists it, and
// scrub reports an index whose child is no manifest of the repository.
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
