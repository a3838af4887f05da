// SPDX-License-Identifier: Apache-2.0
// Finding the repositories again when a store reopens: names at the root that are layout entry
// names elsewhere, and directories that cannot be read.
#include <algorithm>
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

#define STORE_TEST(name, tags) TEMPLATE_TEST_CASE(name, "[store]" tags, OCIREG_STORE_BACKENDS)

STORE_TEST("repositories named like layout entries at the root survive a restart", "[names]") {
  StoreFixture<TestType> f;
  // At the root these names are allowed (the root is no layout); below it they are refused.
  std::vector<std::string> repos = {"blobs",     "index.json",   "oci-layout",
                                    "blobs/app", "oci-layout/x", "index.json/y/z"};
  for (const std::string& repo : repos) {
    INFO(repo);
    auto pushed = TryPushTaggedImage(*f.store, repo, repo, "v1");
    REQUIRE_OK(pushed);
  }
  std::sort(repos.begin(), repos.end());
  REQUIRE(f.store->ListRepositories("", 0).items == repos);

  f.Reopen();
  CHECK(f.store->ListRepositories("", 0).items == repos);
  for (const std::string& repo : repos) {
    INFO(repo);
    CHECK(f.store->RepositoryExists(repo));
    auto tags = f.store->ListTags(repo, "", 0);
    REQUIRE_OK(tags);
    CHECK(tags->items == std::vector<std::string>{"v1"});
    CHECK_OK(f.store->ResolveManifest(repo, *Reference::Parse("v1")));
  }
}
