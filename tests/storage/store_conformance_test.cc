// SPDX-License-Identifier: Apache-2.0
// One suite of Store behaviour, run over every storage driver.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "catch.h"
#include "manifest_builder.h"
#include "ocireg/manifest.h"
#include "ocireg/reference.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "storage/layout.h"
#ifdef OCIREG_TEST_S3
#include "storage/s3/s3_client.h"
#endif
#include "store_fixture.h"
#include "store_push.h"

using namespace ocireg;
using namespace ocireg::testing;
using namespace std::chrono_literals;

namespace {

Reference Tag(std::string_view tag) { return *Reference::Parse(tag); }

// Pushes a config and `layer_count` layers and returns a manifest over them.
Result<std::string> TryPushImage(Store& store, std::string_view repo, const std::string& seed,
                                 int layer_count = 2) {
  Result<BlobRef> config =
      TryPushBlob(store, repo, R"({"seed":")" + seed + R"("})", kTestConfigType);
  if (!config.ok()) return config.status();
  std::vector<BlobRef> layers;
  for (int i = 0; i < layer_count; ++i) {
    Result<BlobRef> layer = TryPushBlob(store, repo, "layer " + std::to_string(i) + " of " + seed);
    if (!layer.ok()) return layer.status();
    layers.push_back(*layer);
  }
  return ImageManifest(*config, layers);
}

BlobRef Push(Store& store, std::string_view repo, std::string_view content,
             std::string_view media_type = kTestLayerType) {
  Result<BlobRef> ref = TryPushBlob(store, repo, content, media_type);
  REQUIRE_OK(ref);
  return *ref;
}

std::string PushImage(Store& store, std::string_view repo, const std::string& seed,
                      int layer_count = 2) {
  Result<std::string> manifest = TryPushImage(store, repo, seed, layer_count);
  REQUIRE_OK(manifest);
  return *manifest;
}

std::string ReadAll(FileReader& reader) {
  std::string out(reader.size(), '\0');
  uint64_t offset = 0;
  while (offset < out.size()) {
    auto n = reader.ReadAt(offset, std::span<char>(out.data() + offset, out.size() - offset));
    REQUIRE_OK(n);
    REQUIRE(*n > 0);
    offset += *n;
  }
  return out;
}

}  // namespace

#define STORE_TEST(name, tags) TEMPLATE_TEST_CASE(name, "[store]" tags, OCIREG_STORE_BACKENDS)

STORE_TEST("a committed upload becomes a blob of its repository", "[upload]") {
  StoreFixture<TestType> f;
  std::string content = "hello, registry";
  auto upload = f.store->StartUpload("library/hello", DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  CHECK(*(*upload)->Size() == 0);
  REQUIRE_OK((*upload)->Append(std::span<const char>(content.data(), 5), 0));
  REQUIRE_OK((*upload)->Append(std::span<const char>(content.data() + 5, content.size() - 5), 5));
  CHECK(*(*upload)->Size() == content.size());
  Digest digest = DigestOf(content);
  auto info = (*upload)->Commit(digest, content.size());
  REQUIRE_OK(info);
  CHECK(info->size == content.size());

  auto stat = f.store->StatBlob("library/hello", digest);
  REQUIRE_OK(stat);
  CHECK(stat->size == content.size());
  auto reader = f.store->OpenBlob("library/hello", digest);
  REQUIRE_OK(reader);
  CHECK(ReadAll(**reader) == content);
  CHECK(f.store->RepositoryExists("library/hello"));
  // The session is over.
  CHECK((*upload)->Size().status().code() == ErrorCode::kBlobUploadUnknown);
  CHECK(f.store->GetUpload("library/hello", (*upload)->id()).status().code() ==
        ErrorCode::kBlobUploadUnknown);
  // Other repositories do not see it.
  CHECK(f.store->StatBlob("library/other", digest).status().code() == ErrorCode::kBlobUnknown);
}

STORE_TEST("an empty blob can be uploaded and read", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("empty", DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  REQUIRE_OK((*upload)->Commit(DigestOf("")));
  auto stat = f.store->StatBlob("empty", DigestOf(""));
  REQUIRE_OK(stat);
  CHECK(stat->size == 0);
}

STORE_TEST("a digest mismatch is DIGEST_INVALID and discards the upload", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  REQUIRE_OK((*upload)->Append(std::span<const char>("abc", 3)));
  auto committed = (*upload)->Commit(DigestOf("abd"));
  CHECK(committed.status().code() == ErrorCode::kDigestInvalid);
  CHECK(f.store->StatBlob("repo", DigestOf("abc")).status().code() == ErrorCode::kBlobUnknown);
  CHECK(f.store->StatBlob("repo", DigestOf("abd")).status().code() == ErrorCode::kBlobUnknown);
  CHECK(f.store->GetUpload("repo", (*upload)->id()).status().code() ==
        ErrorCode::kBlobUploadUnknown);
  // No session data remains.
  auto sessions = f.driver().List("_uploads");
  CHECK((!sessions.ok() || sessions->empty()));
}

STORE_TEST("a size mismatch is SIZE_INVALID", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK((*upload)->Append(std::span<const char>("abc", 3)));
  CHECK((*upload)->Commit(DigestOf("abc"), 4).status().code() == ErrorCode::kSizeInvalid);
  CHECK(f.store->StatBlob("repo", DigestOf("abc")).status().code() == ErrorCode::kBlobUnknown);
}

STORE_TEST("Rewind takes back a failed chunk, only while nothing followed it", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  REQUIRE_OK((*upload)->Append(std::span<const char>("abc", 3), 0));
  REQUIRE_OK((*upload)->Append(std::span<const char>("XY", 2), 3));
  // Another request's end does not match: nothing changes.
  CHECK((*upload)->Rewind(3, 4).code() == ErrorCode::kRangeInvalid);
  CHECK((*upload)->Rewind(6, 5).code() == ErrorCode::kRangeInvalid);
  CHECK(*(*upload)->Size() == 5);
  REQUIRE_OK((*upload)->Rewind(3, 5));
  CHECK(*(*upload)->Size() == 3);
  // The digest is rebuilt from what remains; a fresh handle (after the request) sees the same.
  const std::string id = (*upload)->id();
  upload->reset();
  auto resumed = f.store->GetUpload("repo", id);
  REQUIRE_OK(resumed);
  CHECK(*(*resumed)->Size() == 3);
  REQUIRE_OK((*resumed)->Append(std::span<const char>("def", 3), 3));
  auto blob = (*resumed)->Commit(DigestOf("abcdef"));
  REQUIRE_OK(blob);
  CHECK(blob->size == 6);
}

STORE_TEST("a chunk out of order is a range error and changes nothing", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK((*upload)->Append(std::span<const char>("abc", 3), 0));
  CHECK((*upload)->Append(std::span<const char>("def", 3), 2).code() == ErrorCode::kRangeInvalid);
  CHECK((*upload)->Append(std::span<const char>("def", 3), 4).code() == ErrorCode::kRangeInvalid);
  CHECK(*(*upload)->Size() == 3);
  REQUIRE_OK((*upload)->Append(std::span<const char>("def", 3), 3));
  CHECK_OK((*upload)->Commit(DigestOf("abcdef")));
}

STORE_TEST("an upload whose metadata a crash cut short is unknown, not an error", "[upload]") {
  // A session's files are not flushed (a client starts over after a crash), so a restart may
  // find its metadata empty or partial: that is a lost session, BLOB_UPLOAD_UNKNOWN.
  StoreFixture<TestType> f;
  std::vector<std::string> ids;
  for (std::string_view damage : {"", "{\"repository\":\"re", "{\"repository\":\"repo\"}"}) {
    auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
    REQUIRE_OK(upload);
    REQUIRE_OK((*upload)->Append(std::span<const char>("abc", 3)));
    ids.push_back((*upload)->id());
    REQUIRE_OK(f.driver().WriteFileAtomic(internal::UploadInfoPath(ids.back()), damage));
  }
  f.Reopen();
  for (const std::string& id : ids) {
    INFO(id);
    CHECK(f.store->GetUpload("repo", id).status().code() == ErrorCode::kBlobUploadUnknown);
  }
  // Other sessions and pushes are unaffected.
  std::string m = PushImage(*f.store, "repo", "after");
  CHECK_OK(f.store->PutManifest("repo", Tag("v1"), {}, media_types::kOciManifest, m));
}

STORE_TEST("a cancelled upload is gone", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  std::string id = (*upload)->id();
  REQUIRE_OK((*upload)->Append(std::span<const char>("abc", 3)));
  REQUIRE_OK((*upload)->Cancel());
  CHECK((*upload)->Append(std::span<const char>("x", 1)).code() == ErrorCode::kBlobUploadUnknown);
  CHECK(f.store->GetUpload("repo", id).status().code() == ErrorCode::kBlobUploadUnknown);
  f.Reopen();
  CHECK(f.store->GetUpload("repo", id).status().code() == ErrorCode::kBlobUploadUnknown);
}

STORE_TEST("sessions are found only in their own repository and by well-formed ids", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo/a", DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  CHECK_OK(f.store->GetUpload("repo/a", (*upload)->id()));
  CHECK(f.store->GetUpload("repo/b", (*upload)->id()).status().code() ==
        ErrorCode::kBlobUploadUnknown);
  for (std::string_view bad :
       {"", "..", "../../etc", "0123", "not-a-uuid-at-all-but-36-chars-long"}) {
    CHECK(f.store->GetUpload("repo/a", bad).status().code() == ErrorCode::kBlobUploadUnknown);
  }
}

STORE_TEST("an upload survives a restart and resumes with its digest rebuilt", "[upload]") {
  StoreFixture<TestType> f;
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  std::string id = (*upload)->id();
  REQUIRE_OK((*upload)->Append(std::span<const char>("first half, ", 12)));
  upload->reset();
  f.Reopen();
  auto resumed = f.store->GetUpload("repo", id);
  REQUIRE_OK(resumed);
  CHECK(*(*resumed)->Size() == 12);
  REQUIRE_OK((*resumed)->Append(std::span<const char>("second half", 11), 12));
  auto info = (*resumed)->Commit(DigestOf("first half, second half"));
  REQUIRE_OK(info);
  CHECK(info->size == 23);
}

STORE_TEST("sha512 uploads and cross-algorithm commits", "[upload]") {
  StoreFixture<TestType> f;
  std::string content = "sha512 content";
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha512);
  REQUIRE_OK(upload);
  CHECK((*upload)->algorithm() == DigestAlgorithm::kSha512);
  REQUIRE_OK((*upload)->Append(std::span<const char>(content.data(), content.size())));
  Digest d512 = Digester::Of(DigestAlgorithm::kSha512, content);
  REQUIRE_OK((*upload)->Commit(d512));
  CHECK_OK(f.store->StatBlob("repo", d512));

  // A session hashed with sha256 still verifies a sha512 digest given at commit.
  auto other = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK((*other)->Append(std::span<const char>("xyz", 3)));
  REQUIRE_OK((*other)->Commit(Digester::Of(DigestAlgorithm::kSha512, "xyz")));
  CHECK_OK(f.store->StatBlob("repo", Digester::Of(DigestAlgorithm::kSha512, "xyz")));
}

STORE_TEST("the blob size limit is enforced while appending", "[upload]") {
  StoreFixture<TestType> f;
  f.options.max_blob_bytes = 8;
  f.Reopen();
  auto upload = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK((*upload)->Append(std::span<const char>("12345678", 8)));
  CHECK((*upload)->Append(std::span<const char>("9", 1)).code() == ErrorCode::kSizeInvalid);
}

STORE_TEST("manifests are stored byte for byte and resolved by tag and digest", "[manifest]") {
  StoreFixture<TestType> f;
  std::string manifest = PushImage(*f.store, "team/app", "v1");
  auto put = f.store->PutManifest("team/app", Tag("v1"), {}, media_types::kOciManifest, manifest);
  REQUIRE_OK(put);
  CHECK(put->digest == DigestOf(manifest));
  CHECK(!put->subject);

  auto by_tag = f.store->ResolveManifest("team/app", Tag("v1"));
  REQUIRE_OK(by_tag);
  CHECK(by_tag->digest == put->digest);
  CHECK(by_tag->media_type == media_types::kOciManifest);
  CHECK(by_tag->size == manifest.size());
  auto by_digest = f.store->ResolveManifest("team/app", Reference::FromDigest(put->digest));
  REQUIRE_OK(by_digest);
  auto body = f.store->ReadManifest("team/app", put->digest);
  REQUIRE_OK(body);
  CHECK(*body == manifest);

  CHECK(f.store->ResolveManifest("team/app", Tag("v2")).status().code() ==
        ErrorCode::kManifestUnknown);
  CHECK(f.store->ResolveManifest("team/none", Tag("v1")).status().code() ==
        ErrorCode::kNameUnknown);

  f.Reopen();
  auto again = f.store->ResolveManifest("team/app", Tag("v1"));
  REQUIRE_OK(again);
  CHECK(again->digest == put->digest);
  CHECK(*f.store->ReadManifest("team/app", put->digest) == manifest);
}

STORE_TEST("a manifest must reference blobs of its own repository", "[manifest]") {
  StoreFixture<TestType> f;
  std::string manifest = PushImage(*f.store, "a", "x");
  auto put = f.store->PutManifest("b", Tag("latest"), {}, media_types::kOciManifest, manifest);
  CHECK(put.status().code() == ErrorCode::kManifestBlobUnknown);
  CHECK(!f.store->RepositoryExists("b"));

  // A descriptor whose size disagrees with the blob is invalid.
  BlobRef config = Push(*f.store, "a", "{}", kTestConfigType);
  BlobRef layer = Push(*f.store, "a", "data");
  layer.size = 5;
  auto wrong = f.store->PutManifest("a", Tag("bad"), {}, media_types::kOciManifest,
                                    ImageManifest(config, {layer}));
  CHECK(wrong.status().code() == ErrorCode::kManifestInvalid);
}

STORE_TEST("a manifest put by digest must match its body", "[manifest]") {
  StoreFixture<TestType> f;
  std::string manifest = PushImage(*f.store, "repo", "d");
  auto wrong = f.store->PutManifest("repo", Reference::FromDigest(DigestOf("other")), {},
                                    media_types::kOciManifest, manifest);
  CHECK(wrong.status().code() == ErrorCode::kDigestInvalid);
  std::vector<std::string> tags = {"one", "two"};
  auto put = f.store->PutManifest("repo", Reference::FromDigest(DigestOf(manifest)), tags,
                                  media_types::kOciManifest, manifest);
  REQUIRE_OK(put);
  auto page = f.store->ListTags("repo", "", 0);
  REQUIRE_OK(page);
  CHECK(page->items == std::vector<std::string>{"one", "two"});
  std::vector<std::string> bad_tags = {"-bad"};
  CHECK(f.store
            ->PutManifest("repo", Reference::FromDigest(DigestOf(manifest)), bad_tags,
                          media_types::kOciManifest, manifest)
            .status()
            .code() == ErrorCode::kManifestInvalid);
}

STORE_TEST("invalid and oversized manifests are refused", "[manifest]") {
  StoreFixture<TestType> f;
  f.options.max_manifest_bytes = 64;
  f.Reopen();
  CHECK(f.store->PutManifest("repo", Tag("x"), {}, media_types::kOciManifest, "{not json")
            .status()
            .code() == ErrorCode::kManifestInvalid);
  std::string big = PushImage(*f.store, "repo", "big");
  CHECK(
      f.store->PutManifest("repo", Tag("x"), {}, media_types::kOciManifest, big).status().code() ==
      ErrorCode::kManifestTooLarge);
}

STORE_TEST("an index needs its child manifests in the repository", "[manifest]") {
  StoreFixture<TestType> f;
  std::string amd64 = PushImage(*f.store, "multi", "amd64");
  std::string arm64 = PushImage(*f.store, "multi", "arm64");
  BlobRef a = RefTo(std::string(media_types::kOciManifest), amd64);
  BlobRef b = RefTo(std::string(media_types::kOciManifest), arm64);
  std::string index = ImageIndex({a, b});
  CHECK(f.store->PutManifest("multi", Tag("latest"), {}, media_types::kOciIndex, index)
            .status()
            .code() == ErrorCode::kManifestBlobUnknown);
  REQUIRE(f.store
              ->PutManifest("multi", Reference::FromDigest(a.digest), {}, media_types::kOciManifest,
                            amd64)
              .ok());
  REQUIRE(f.store
              ->PutManifest("multi", Reference::FromDigest(b.digest), {}, media_types::kOciManifest,
                            arm64)
              .ok());
  auto put = f.store->PutManifest("multi", Tag("latest"), {}, media_types::kOciIndex, index);
  REQUIRE_OK(put);
  CHECK(f.store->ResolveManifest("multi", Tag("latest"))->media_type == media_types::kOciIndex);
  // A child the index still lists cannot be deleted: the index would no longer pull.
  CHECK(f.store->DeleteManifest("multi", a.digest).code() == ErrorCode::kUnsupported);
  CHECK_OK(f.store->ResolveManifest("multi", Reference::FromDigest(a.digest)));
  CHECK_OK(f.store->StatBlob("multi", a.digest));
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(scrub->ok());
}

STORE_TEST("tags move atomically and old manifests stay listed untagged", "[manifest]") {
  StoreFixture<TestType> f;
  std::string m1 = PushImage(*f.store, "repo", "1");
  std::string m2 = PushImage(*f.store, "repo", "2");
  REQUIRE_OK(f.store->PutManifest("repo", Tag("latest"), {}, media_types::kOciManifest, m1));
  REQUIRE_OK(f.store->PutManifest("repo", Tag("latest"), {}, media_types::kOciManifest, m2));
  CHECK(f.store->ResolveManifest("repo", Tag("latest"))->digest == DigestOf(m2));
  CHECK_OK(f.store->ResolveManifest("repo", Reference::FromDigest(DigestOf(m1))));
  auto index = f.driver().ReadFile("repo/index.json");
  REQUIRE_OK(index);
  CHECK(index->find(DigestOf(m1).ToString()) != std::string::npos);
  CHECK(index->find(R"("org.opencontainers.image.ref.name":"latest")") != std::string::npos);
}

STORE_TEST("deleting a tag keeps the manifest; deleting a manifest drops its tags", "[delete]") {
  StoreFixture<TestType> f;
  std::string m = PushImage(*f.store, "repo", "del");
  std::vector<std::string> more = {"b"};
  REQUIRE_OK(f.store->PutManifest("repo", Tag("a"), more, media_types::kOciManifest, m));
  REQUIRE_OK(f.store->DeleteTag("repo", "a"));
  CHECK(f.store->DeleteTag("repo", "a").code() == ErrorCode::kManifestUnknown);
  CHECK(f.store->ResolveManifest("repo", Tag("a")).status().code() == ErrorCode::kManifestUnknown);
  CHECK_OK(f.store->ResolveManifest("repo", Tag("b")));
  REQUIRE_OK(f.store->DeleteManifest("repo", DigestOf(m)));
  CHECK(f.store->ResolveManifest("repo", Tag("b")).status().code() == ErrorCode::kManifestUnknown);
  CHECK(f.store->ResolveManifest("repo", Reference::FromDigest(DigestOf(m))).status().code() ==
        ErrorCode::kManifestUnknown);
  CHECK(f.store->DeleteManifest("repo", DigestOf(m)).code() == ErrorCode::kManifestUnknown);
  CHECK(f.store->ListTags("repo", "", 0)->items.empty());
  f.Reopen();
  CHECK(f.store->ResolveManifest("repo", Tag("b")).status().code() == ErrorCode::kManifestUnknown);
}

STORE_TEST("blobs can be deleted, but not manifests through the blob call", "[delete]") {
  StoreFixture<TestType> f;
  BlobRef b = Push(*f.store, "repo", "to delete");
  REQUIRE_OK(f.store->DeleteBlob("repo", b.digest));
  CHECK(f.store->StatBlob("repo", b.digest).status().code() == ErrorCode::kBlobUnknown);
  CHECK(f.store->DeleteBlob("repo", b.digest).code() == ErrorCode::kBlobUnknown);
  std::string m = PushImage(*f.store, "repo", "keep");
  REQUIRE_OK(f.store->PutManifest("repo", Tag("t"), {}, media_types::kOciManifest, m));
  CHECK(f.store->DeleteBlob("repo", DigestOf(m)).code() == ErrorCode::kUnsupported);
}

STORE_TEST("repositories nest without disturbing each other", "[names]") {
  StoreFixture<TestType> f;
  std::string parent = PushImage(*f.store, "team/app", "parent");
  std::string child = PushImage(*f.store, "team/app/cache", "child");
  REQUIRE_OK(f.store->PutManifest("team/app", Tag("v1"), {}, media_types::kOciManifest, parent));
  REQUIRE_OK(
      f.store->PutManifest("team/app/cache", Tag("v1"), {}, media_types::kOciManifest, child));
  CHECK(f.store->ResolveManifest("team/app", Tag("v1"))->digest == DigestOf(parent));
  CHECK(f.store->ResolveManifest("team/app/cache", Tag("v1"))->digest == DigestOf(child));
  CHECK(f.store->ReadManifest("team/app", DigestOf(child)).status().code() ==
        ErrorCode::kManifestUnknown);
  f.Reopen();
  auto repos = f.store->ListRepositories("", 0);
  CHECK(repos.items == std::vector<std::string>{"team/app", "team/app/cache"});
  CHECK(f.store->ResolveManifest("team/app/cache", Tag("v1"))->digest == DigestOf(child));
}

STORE_TEST("a reopened store finds every repository of a wide, deep tree", "[names]") {
  // Opening lists directories in parallel: every repository must be found exactly once, at
  // any depth, next to its siblings and below other repositories.
  StoreFixture<TestType> f;
  std::vector<std::string> expected;
  for (int team = 0; team < 12; ++team) {
    std::string base = "team" + std::to_string(team);
    for (int app = 0; app < 12; ++app) expected.push_back(base + "/app" + std::to_string(app));
    expected.push_back(base + "/app0/cache");
    expected.push_back(base + "/deep/er/still/app");
  }
  expected.push_back("solo");
  for (const std::string& repo : expected) Push(*f.store, repo, "content of " + repo);
  std::sort(expected.begin(), expected.end());
  f.Reopen();
  CHECK(f.store->ListRepositories("", 0).items == expected);
}

STORE_TEST("names that would collide with a layout's entries are NAME_INVALID", "[names]") {
  StoreFixture<TestType> f;
  std::string m = PushImage(*f.store, "team", "t");
  REQUIRE_OK(f.store->PutManifest("team", Tag("v1"), {}, media_types::kOciManifest, m));
  for (std::string_view bad :
       {"team/blobs", "team/index.json", "team/oci-layout", "team/blobs/sha256", "a/b/blobs/c"}) {
    INFO(bad);
    CHECK(f.store->StartUpload(bad, DigestAlgorithm::kSha256).status().code() ==
          ErrorCode::kNameInvalid);
    CHECK(f.store->ListTags(bad, "", 0).status().code() == ErrorCode::kNameInvalid);
  }
  for (std::string_view bad : {"../x", "/abs", "a//b", "A", ".", ""}) {
    INFO(bad);
    CHECK(f.store->StartUpload(bad, DigestAlgorithm::kSha256).status().code() ==
          ErrorCode::kNameInvalid);
  }
  // As a first component these names sit in the store's root, not in a layout: allowed.
  CHECK_OK(f.store->StartUpload("blobs", DigestAlgorithm::kSha256));
  CHECK_OK(f.store->StartUpload("blobs/app", DigestAlgorithm::kSha256));
  // The parent is intact.
  CHECK(*f.store->ReadManifest("team", DigestOf(m)) == m);
}

STORE_TEST("repositories and tags list in lexical pages", "[listing]") {
  StoreFixture<TestType> f;
  for (std::string repo : {"c", "a", "b/x", "b"}) Push(*f.store, repo, "content of " + repo);
  auto all = f.store->ListRepositories("", 0);
  CHECK(all.items == std::vector<std::string>{"a", "b", "b/x", "c"});
  CHECK(!all.more);
  auto first = f.store->ListRepositories("", 2);
  CHECK(first.items == std::vector<std::string>{"a", "b"});
  CHECK(first.more);
  auto second = f.store->ListRepositories("b", 2);
  CHECK(second.items == std::vector<std::string>{"b/x", "c"});
  CHECK(!second.more);
  CHECK(f.store->ListRepositories("c", 2).items.empty());

  std::string m = PushImage(*f.store, "a", "tags");
  std::vector<std::string> tags = {"v2", "v10", "latest", "V1"};
  REQUIRE_OK(f.store->PutManifest("a", Tag("v1"), tags, media_types::kOciManifest, m));
  auto page = f.store->ListTags("a", "", 3);
  REQUIRE_OK(page);
  CHECK(page->items == std::vector<std::string>{"V1", "latest", "v1"});
  CHECK(page->more);
  auto rest = f.store->ListTags("a", "v1", 3);
  CHECK(rest->items == std::vector<std::string>{"v10", "v2"});
  CHECK(!rest->more);
  CHECK(f.store->ListTags("nope", "", 0).status().code() == ErrorCode::kNameUnknown);
}

STORE_TEST("mounting links a blob from another repository", "[mount]") {
  StoreFixture<TestType> f;
  BlobRef b = Push(*f.store, "source", "shared layer");
  auto mounted = f.store->MountBlob("target", b.digest, "source");
  REQUIRE_OK(mounted);
  CHECK(mounted->size == b.size);
  CHECK_OK(f.store->StatBlob("target", b.digest));
  CHECK(f.store->MountBlob("target2", b.digest, "nowhere").status().code() ==
        ErrorCode::kBlobUnknown);
  CHECK(f.store->MountBlob("target2", DigestOf("nothing"), "source").status().code() ==
        ErrorCode::kBlobUnknown);
  CHECK(f.store->FindBlob(b.digest) == std::vector<std::string>{"source", "target"});
  // Deleting the source's copy leaves the target's.
  REQUIRE_OK(f.store->DeleteBlob("source", b.digest));
  auto reader = f.store->OpenBlob("target", b.digest);
  REQUIRE_OK(reader);
  CHECK(ReadAll(**reader) == "shared layer");
}

STORE_TEST("referrers are listed by subject and filtered by artifact type", "[referrers]") {
  StoreFixture<TestType> f;
  std::string image = PushImage(*f.store, "repo", "subject");
  REQUIRE_OK(f.store->PutManifest("repo", Tag("v1"), {}, media_types::kOciManifest, image));
  BlobRef subject = RefTo(std::string(media_types::kOciManifest), image);
  BlobRef empty = Push(*f.store, "repo", "{}", media_types::kOciEmptyJson);
  BlobRef sig = Push(*f.store, "repo", "signature");
  std::string sbom_manifest =
      ImageManifest(empty, {sig}, subject, "application/vnd.example.sbom", "sbom");
  std::string sig_manifest =
      ImageManifest(empty, {sig}, subject, "application/vnd.example.sig", "sig");
  auto put = f.store->PutManifest("repo", Reference::FromDigest(DigestOf(sbom_manifest)), {},
                                  media_types::kOciManifest, sbom_manifest);
  REQUIRE_OK(put);
  REQUIRE(put->subject == subject.digest);
  REQUIRE(f.store
              ->PutManifest("repo", Reference::FromDigest(DigestOf(sig_manifest)), {},
                            media_types::kOciManifest, sig_manifest)
              .ok());

  auto all = f.store->ListReferrers("repo", subject.digest, "");
  REQUIRE_OK(all);
  REQUIRE(all->size() == 2);
  auto only_sbom = f.store->ListReferrers("repo", subject.digest, "application/vnd.example.sbom");
  REQUIRE(only_sbom->size() == 1);
  const Descriptor& d = only_sbom->front();
  CHECK(d.digest == DigestOf(sbom_manifest));
  CHECK(d.media_type == media_types::kOciManifest);
  CHECK(d.size == static_cast<int64_t>(sbom_manifest.size()));
  CHECK(d.artifact_type == "application/vnd.example.sbom");
  CHECK(d.annotations.at("test.note") == "sbom");

  CHECK(f.store->ListReferrers("repo", DigestOf("unknown"), "")->empty());
  CHECK(f.store->ListReferrers("no-such-repo", subject.digest, "")->empty());

  // A referrer may arrive before its subject.
  BlobRef missing = RefTo(std::string(media_types::kOciManifest), "not pushed");
  std::string early = ImageManifest(empty, {sig}, missing, "application/vnd.example.sig");
  REQUIRE(f.store
              ->PutManifest("repo", Reference::FromDigest(DigestOf(early)), {},
                            media_types::kOciManifest, early)
              .ok());
  CHECK(f.store->ListReferrers("repo", missing.digest, "")->size() == 1);

  // The index is rebuilt after a restart and follows deletions.
  f.Reopen();
  CHECK(f.store->ListReferrers("repo", subject.digest, "")->size() == 2);
  REQUIRE_OK(f.store->DeleteManifest("repo", DigestOf(sig_manifest)));
  auto left = f.store->ListReferrers("repo", subject.digest, "");
  REQUIRE(left->size() == 1);
  CHECK(left->front().digest == DigestOf(sbom_manifest));
}

STORE_TEST("garbage collection removes only unreferenced blobs past the grace period", "[gc]") {
  StoreFixture<TestType> f;
  auto now = std::chrono::system_clock::now();
  f.options.now = [&now] { return now; };
  f.options.gc_grace_period = 1h;
  f.Reopen();
  std::string m = PushImage(*f.store, "repo", "kept", 1);
  REQUIRE_OK(f.store->PutManifest("repo", Tag("v1"), {}, media_types::kOciManifest, m));
  BlobRef loose = Push(*f.store, "repo", "never referenced");

  auto early = f.store->maintenance().CollectGarbage();
  REQUIRE_OK(early);
  CHECK(early->blobs_removed == 0);
  CHECK_OK(f.store->StatBlob("repo", loose.digest));

  now += 2h;
  auto late = f.store->maintenance().CollectGarbage();
  REQUIRE_OK(late);
  CHECK(late->repositories_scanned == 1);
  CHECK(late->blobs_removed == 1);
  CHECK(late->bytes_reclaimed == loose.size);
  CHECK(f.store->StatBlob("repo", loose.digest).status().code() == ErrorCode::kBlobUnknown);
  // Everything the manifest needs is intact.
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(scrub->ok());
  CHECK(scrub->manifests_checked == 1);
  CHECK(scrub->blobs_checked == 3);

  // Once the manifest is deleted its blobs go too.
  REQUIRE_OK(f.store->DeleteManifest("repo", DigestOf(m)));
  auto after = f.store->maintenance().CollectGarbage();
  REQUIRE_OK(after);
  CHECK(after->blobs_removed == 2);
  // A file system keeps the emptied directory; an object store has no empty directories.
  auto repo_blobs = f.driver().List("repo/blobs/sha256");
  CHECK(
      (repo_blobs.ok() ? repo_blobs->empty() : repo_blobs.status().code() == ErrorCode::kNotFound));
  auto content = f.driver().List("_blobs/sha256");
  CHECK((!content.ok() || content->empty()));
}

STORE_TEST("garbage collection removes idle upload sessions", "[gc]") {
  StoreFixture<TestType> f;
  auto now = std::chrono::system_clock::now();
  f.options.now = [&now] { return now; };
  f.options.upload_ttl = 1h;
  f.Reopen();
  auto idle = f.store->StartUpload("repo", DigestAlgorithm::kSha256);
  REQUIRE_OK((*idle)->Append(std::span<const char>("abc", 3)));
  CHECK(f.store->maintenance().CollectGarbage()->uploads_removed == 0);
  now += 2h;
  CHECK(f.store->maintenance().CollectGarbage()->uploads_removed == 1);
  CHECK((*idle)->Append(std::span<const char>("d", 1)).code() == ErrorCode::kBlobUploadUnknown);
  CHECK(f.store->GetUpload("repo", (*idle)->id()).status().code() == ErrorCode::kBlobUploadUnknown);
}

STORE_TEST("scrub reports a blob whose content does not match its digest", "[scrub]") {
  StoreFixture<TestType> f;
  std::string m = PushImage(*f.store, "repo", "scrub", 1);
  REQUIRE_OK(f.store->PutManifest("repo", Tag("v1"), {}, media_types::kOciManifest, m));
  CHECK(f.store->maintenance().Scrub()->ok());
  BlobRef layer = RefTo(std::string(kTestLayerType), "layer 0 of scrub");
  std::string path = "repo/blobs/sha256/" + layer.digest.hex();
  REQUIRE_OK(f.driver().Remove(path));
  REQUIRE_OK(f.driver().WriteFileAtomic(path, "tampered"));
  auto report = f.store->maintenance().Scrub();
  REQUIRE_OK(report);
  REQUIRE(report->problems.size() == 1);
  CHECK(report->problems[0].find(layer.digest.ToString()) != std::string::npos);
  REQUIRE_OK(f.driver().Remove(path));
  report = f.store->maintenance().Scrub();
  REQUIRE(report->problems.size() == 1);
  CHECK(report->problems[0].find("missing") != std::string::npos);
}

STORE_TEST("concurrent uploads of one blob all succeed", "[concurrency]") {
  StoreFixture<TestType> f;
  std::string content(64 * 1024, 'x');
  Digest digest = DigestOf(content);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::string repo = t % 2 ? "shared" : "repo" + std::to_string(t);
      auto upload = f.store->StartUpload(repo, DigestAlgorithm::kSha256);
      if (!upload.ok()) return;
      for (size_t off = 0; off < content.size(); off += 4096) {
        if (!(*upload)->Append(std::span<const char>(content.data() + off, 4096)).ok()) return;
      }
      if ((*upload)->Commit(digest).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  for (const std::string& repo : f.store->ListRepositories("", 0).items) {
    auto reader = f.store->OpenBlob(repo, digest);
    REQUIRE_OK(reader);
    CHECK(ReadAll(**reader) == content);
  }
}

STORE_TEST("concurrent pushes, tag moves and deletes keep every repository consistent",
           "[concurrency]") {
  StoreFixture<TestType> f;
  constexpr int kThreads = 6;
  constexpr int kRounds = 12;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string repo = t < 3 ? "busy" : "quiet" + std::to_string(t);
      for (int r = 0; r < kRounds; ++r) {
        Result<std::string> pushed =
            TryPushImage(*f.store, repo, std::to_string(t) + "-" + std::to_string(r));
        if (!pushed.ok()) {
          ++failures;
          continue;
        }
        const std::string& m = *pushed;
        if (!f.store->PutManifest(repo, Tag("latest"), {}, media_types::kOciManifest, m).ok()) {
          ++failures;
        }
        if (r % 3 == 2 && !f.store->DeleteManifest(repo, DigestOf(m)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  f.Reopen();
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  CHECK(scrub->ok());
  auto latest = f.store->ResolveManifest("busy", Tag("latest"));
  // The last write wins, unless that manifest was deleted; either way the index parsed.
  if (latest.ok()) CHECK_OK(f.store->ReadManifest("busy", latest->digest));
}

STORE_TEST("garbage collection racing with pushes never removes a referenced blob", "[gc]") {
  StoreFixture<TestType> f;
  f.options.gc_grace_period = 0s;  // the harshest setting: every unreferenced blob is fair game
  f.Reopen();
  std::atomic<bool> done{false};
  std::thread collector([&] {
    for (int i = 0; i < 2000 && !done; ++i) (void)f.store->maintenance().CollectGarbage();
  });
  int accepted = 0;
  for (int r = 0; r < 40; ++r) {
    std::string m = PushImage(*f.store, "race", "r" + std::to_string(r), 2);
    auto put = f.store->PutManifest("race", Tag("t" + std::to_string(r)), {},
                                    media_types::kOciManifest, m);
    // The collector may take a blob before the manifest arrives: then the push fails cleanly.
    if (put.ok()) {
      ++accepted;
    } else {
      CHECK(put.status().code() == ErrorCode::kManifestBlobUnknown);
    }
  }
  done = true;
  collector.join();
  INFO("accepted " << accepted << " of 40");
  auto scrub = f.store->maintenance().Scrub();
  REQUIRE_OK(scrub);
  for (const auto& p : scrub->problems) INFO(p);
  CHECK(scrub->ok());
  CHECK(scrub->manifests_checked == static_cast<uint64_t>(accepted));
}

STORE_TEST("concurrent tag pushes to one repository all land, each readable once acknowledged",
           "[concurrency]") {
  StoreFixture<TestType> f;
  const std::string m = PushImage(*f.store, "tags", "one image");
  constexpr int kThreads = 8;
  constexpr int kTagsEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTagsEach; ++i) {
        const std::string tag = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!f.store->PutManifest("tags", Tag(tag), {}, media_types::kOciManifest, m).ok() ||
            !f.store->ResolveManifest("tags", Tag(tag)).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(f.store->ListTags("tags", "", 0)->items.size() == kThreads * kTagsEach);
  f.Reopen();
  CHECK(f.store->ListTags("tags", "", 0)->items.size() == kThreads * kTagsEach);
}

namespace {

// Holds the first write of an index.json until Release(), then fails it; the writes after it go
// through. Tag pushes made while it is held wait for it, and may be committed with it.
class FirstIndexWriteFails final : public ForwardingDriver {
 public:
  using ForwardingDriver::ForwardingDriver;
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability durability) override {
    if (path.ends_with("index.json")) {
      std::unique_lock lock(mu_);
      if (armed_ && !held_) {
        held_ = true;
        changed_.notify_all();
        changed_.wait(lock, [this] { return released_; });
        return Status(ErrorCode::kInternal, "injected index write failure");
      }
    }
    return ForwardingDriver::ReplaceFile(path, data, version, durability);
  }
  void Arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
  }
  void WaitUntilHeld() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool armed_ = false;
  bool held_ = false;
  bool released_ = false;
};

}  // namespace

STORE_TEST("a failed index write fails every tag push it carried, and none of them appears later",
           "[concurrency]") {
  TestType backend;
  auto driver = std::make_unique<FirstIndexWriteFails>(*backend.driver);
  FirstIndexWriteFails& control = *driver;
  auto opened = OpenStore(std::move(driver), StoreOptions{});
  REQUIRE_OK(opened);
  std::unique_ptr<Store> store = std::move(*opened);
  const std::string m = PushImage(*store, "tags", "one image");
  REQUIRE_OK(store->PutManifest("tags", Tag("before"), {}, media_types::kOciManifest, m));

  control.Arm();
  std::map<std::string, bool> acknowledged;
  std::mutex acknowledged_mu;
  auto push = [&](const std::string& tag) {
    bool ok = store->PutManifest("tags", Tag(tag), {}, media_types::kOciManifest, m).ok();
    std::lock_guard lock(acknowledged_mu);
    acknowledged[tag] = ok;
  };
  std::thread first(push, "first");
  control.WaitUntilHeld();
  // These wait behind the held write and most likely join the next one, built on the lost tag.
  std::vector<std::thread> others;
  for (int i = 0; i < 4; ++i) others.emplace_back(push, "other" + std::to_string(i));
  std::this_thread::sleep_for(100ms);
  control.Release();
  first.join();
  for (auto& t : others) t.join();
  CHECK_FALSE(acknowledged["first"]);
  REQUIRE_OK(store->PutManifest("tags", Tag("after"), {}, media_types::kOciManifest, m));

  // A push is visible exactly when it was acknowledged, also after a restart.
  auto check_tags = [&](Store& s) {
    CHECK_OK(s.ResolveManifest("tags", Tag("before")));
    CHECK_OK(s.ResolveManifest("tags", Tag("after")));
    for (const auto& [tag, ok] : acknowledged) {
      INFO(tag);
      CHECK(s.ResolveManifest("tags", Tag(tag)).ok() == ok);
    }
  };
  check_tags(*store);
  store.reset();
  auto reopened = OpenStore(std::make_unique<ForwardingDriver>(*backend.driver), StoreOptions{});
  REQUIRE_OK(reopened);
  check_tags(**reopened);
}

#ifdef OCIREG_TEST_S3
TEST_CASE("a blob pushed to many repositories is stored once in the bucket", "[store][dedup][s3]") {
  StoreFixture<S3Backend> f;
  // Larger than a part, so that its bytes go up as a multipart upload.
  std::string content(kS3TestPartSize + 123457, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 + i / 977);
  for (std::string repo : {"one", "two", "three/deep"}) Push(*f.store, repo, content);
  BlobRef ref = RefTo(std::string(kTestLayerType), content);
  f.store->MountBlob("four", ref.digest, "one").value();

  // Every object under the prefix, as the bucket lists them.
  auto client = internal::s3::S3Client::Create(f.backend.options);
  REQUIRE_OK(client);
  internal::s3::ListRequest request;
  request.prefix = f.backend.options.prefix + "/";
  uint64_t total = 0;
  int copies = 0;
  for (;;) {
    auto page = (*client)->List(request);
    REQUIRE_OK(page);
    for (const internal::s3::ObjectSummary& object : page->objects) {
      INFO(object.key << ": " << object.size << " bytes");
      total += object.size;
      if (object.size >= content.size()) ++copies;
    }
    if (!page->truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  CHECK(copies == 1);
  // The rest are references (empty) and small files: indexes, markers.
  CHECK(total < content.size() + 64 * 1024);
  for (std::string repo : {"one", "two", "three/deep", "four"}) {
    INFO(repo);
    auto info = f.store->StatBlob(repo, ref.digest);
    REQUIRE_OK(info);
    CHECK(info->size == content.size());
  }
}
#endif

TEST_CASE("a blob pushed to many repositories is stored once", "[store][dedup]") {
  StoreFixture<FsBackend> f;
  std::string content(100000, 'd');
  for (std::string repo : {"one", "two", "three/deep"}) Push(*f.store, repo, content);
  BlobRef ref = RefTo(std::string(kTestLayerType), content);
  f.store->MountBlob("four", ref.digest, "one").value();
  std::set<ino_t> inodes;
  for (std::string repo : {"one", "two", "three/deep", "four"}) {
    struct stat st {};
    auto path = f.backend.root() / repo / "blobs" / "sha256" / ref.digest.hex();
    REQUIRE(::stat(path.c_str(), &st) == 0);
    inodes.insert(st.st_ino);
    CHECK(st.st_nlink == 5);  // four repositories and the content store
  }
  CHECK(inodes.size() == 1);
}
