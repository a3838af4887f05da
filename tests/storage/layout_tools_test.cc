// SPDX-License-Identifier: Apache-2.0
// The store's repositories are real OCI image layouts: skopeo and umoci read them as they are.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "catch.h"
#include "manifest_builder.h"
#include "ocireg/storage/store.h"
#include "status_macros.h"
#include "store_fixture.h"

using namespace ocireg;
using namespace ocireg::testing;

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs a shell command and captures its standard output and error.
CommandResult Run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void PushBlob(Store& store, std::string_view repo, std::string_view content) {
  auto upload = store.StartUpload(repo, DigestAlgorithm::kSha256);
  REQUIRE_OK(upload);
  REQUIRE_OK((*upload)->Append(std::span<const char>(content.data(), content.size())));
  REQUIRE_OK((*upload)->Commit(DigestOf(content)));
}

// Pushes a runnable-looking single-layer image (a real tar and a real config) and tags it.
Digest PushImage(Store& store, std::string_view repo, const std::filesystem::path& scratch,
                 const std::string& tag, const std::string& text) {
  std::filesystem::create_directories(scratch / "rootfs");
  std::ofstream(scratch / "rootfs" / "hello.txt") << text;
  auto tar = Run("tar -C " + (scratch / "rootfs").string() + " -cf " +
                 (scratch / "layer.tar").string() + " hello.txt");
  REQUIRE(tar.exit_code == 0);
  std::string layer = Slurp(scratch / "layer.tar");
  std::string config =
      R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[")" +
      DigestOf(layer).ToString() + R"("]}})";
  PushBlob(store, repo, layer);
  PushBlob(store, repo, config);
  std::string manifest = ImageManifest(RefTo("application/vnd.oci.image.config.v1+json", config),
                                       {RefTo("application/vnd.oci.image.layer.v1.tar", layer)});
  auto put =
      store.PutManifest(repo, *Reference::Parse(tag), {}, media_types::kOciManifest, manifest);
  REQUIRE_OK(put);
  return put->digest;
}

}  // namespace

TEST_CASE("skopeo and umoci read a repository straight from the storage root",
          "[store][layout][tools]") {
  StoreFixture<FsBackend> f;
  TempDir scratch;
  const auto root = f.backend.root();
  Digest app_v1 = PushImage(*f.store, "team/app", scratch.path() / "a", "v1", "app one");
  PushImage(*f.store, "team/app", scratch.path() / "b", "v2", "app two");
  Digest cache = PushImage(*f.store, "team/app/cache", scratch.path() / "c", "latest", "cache");
  // An untagged manifest stays in index.json without disturbing the tools.
  REQUIRE_OK(f.store->DeleteTag("team/app", "v2"));

  SECTION("skopeo inspect") {
    auto app = Run("skopeo inspect oci:" + (root / "team/app").string() + ":v1");
    INFO(app.output);
    REQUIRE(app.exit_code == 0);
    CHECK(app.output.find(app_v1.ToString()) != std::string::npos);
    auto nested = Run("skopeo inspect oci:" + (root / "team/app/cache").string() + ":latest");
    INFO(nested.output);
    REQUIRE(nested.exit_code == 0);
    CHECK(nested.output.find(cache.ToString()) != std::string::npos);
  }

  SECTION("umoci ls") {
    auto listed = Run("umoci ls --layout " + (root / "team/app").string());
    INFO(listed.output);
    REQUIRE(listed.exit_code == 0);
    CHECK(listed.output.find("v1") != std::string::npos);
    CHECK(listed.output.find("v2") == std::string::npos);
    auto nested = Run("umoci ls --layout " + (root / "team/app/cache").string());
    INFO(nested.output);
    REQUIRE(nested.exit_code == 0);
    CHECK(nested.output.find("latest") != std::string::npos);
  }

  SECTION("skopeo copies every blob out, verifying digests") {
    auto out = scratch.path() / "copy";
    auto copied =
        Run("skopeo copy --quiet oci:" + (root / "team/app").string() + ":v1 dir:" + out.string());
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    CHECK(Slurp(out / "manifest.json") == *f.store->ReadManifest("team/app", app_v1));
  }

  SECTION("umoci unpacks the image by digest") {
    // Unpacking reads the index, the manifest, the config and the layer through the layout.
    auto bundle = scratch.path() / "bundle";
    auto unpacked = Run("umoci unpack --rootless --image " + (root / "team/app").string() + ":v1 " +
                        bundle.string());
    INFO(unpacked.output);
    REQUIRE(unpacked.exit_code == 0);
    CHECK(Slurp(bundle / "rootfs" / "hello.txt") == "app one");
  }
}
