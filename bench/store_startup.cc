// SPDX-License-Identifier: Apache-2.0
// Measures how long the store takes to open over many repositories, and how fast pages list.
//
//   store_startup DIR [REPOSITORIES] [TAGS]
//
// Fills DIR (once; later runs reuse it) with REPOSITORIES repositories (default 10000) of one
// image each, and one repository "many-tags" whose image carries TAGS tags (default 10000). Then
// prints the time to open the store, and the median latency of a catalog page and a tag page of
// 100, as text and as one JSON line.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "ocireg/manifest.h"
#include "ocireg/storage/store.h"

namespace {

using Clock = std::chrono::steady_clock;

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

bool PushBlob(ocireg::Store& store, const std::string& repo, const std::string& content) {
  auto upload = store.StartUpload(repo, ocireg::DigestAlgorithm::kSha256);
  if (!upload.ok()) return false;
  if (!(*upload)->Append(std::span<const char>(content.data(), content.size())).ok()) return false;
  return (*upload)->Commit(ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha256, content)).ok();
}

std::string Descriptor(const char* type, const std::string& content) {
  return std::string(R"({"mediaType":")") + type + R"(","digest":")" +
         ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha256, content).ToString() +
         R"(","size":)" + std::to_string(content.size()) + "}";
}

bool PushImage(ocireg::Store& store, const std::string& repo, std::vector<std::string> tags) {
  std::string config = R"({"architecture":"amd64","os":"linux","repo":")" + repo + R"("})";
  std::string layer = "layer of " + repo;
  if (!PushBlob(store, repo, config) || !PushBlob(store, repo, layer)) return false;
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      Descriptor("application/vnd.oci.image.config.v1+json", config) + R"(,"layers":[)" +
      Descriptor("application/vnd.oci.image.layer.v1.tar", layer) + "]}";
  std::string first = tags.front();
  tags.erase(tags.begin());
  return store
      .PutManifest(repo, *ocireg::Reference::Parse(first), tags, ocireg::media_types::kOciManifest,
                   manifest)
      .ok();
}

std::unique_ptr<ocireg::Store> Open(const std::string& dir) {
  auto driver = ocireg::NewFsDriver(dir);
  if (!driver.ok()) return nullptr;
  auto store = ocireg::OpenStore(std::move(*driver));
  return store.ok() ? std::move(*store) : nullptr;
}

// Creates what is missing, with a few threads since every write is fsynced.
bool Fill(const std::string& dir, size_t repositories, size_t tags) {
  auto store = Open(dir);
  if (store == nullptr) return false;
  size_t existing = store->ListRepositories("", 0).items.size();
  if (existing >= repositories + 1) return true;
  std::fprintf(stderr, "creating %zu repositories and %zu tags in %s ...\n", repositories, tags,
               dir.c_str());
  std::vector<std::string> many;
  for (size_t i = 0; i < tags; ++i) many.push_back("tag-" + std::to_string(i));
  if (!PushImage(*store, "many-tags", many)) return false;
  std::vector<std::thread> workers;
  std::atomic<bool> ok{true};
  constexpr size_t kThreads = 8;
  for (size_t t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = t; i < repositories && ok; i += kThreads) {
        char name[64];
        std::snprintf(name, sizeof name, "org%03zu/app%05zu", i % 100, i);
        if (!PushImage(*store, name, {"latest"})) ok = false;
      }
    });
  }
  for (auto& w : workers) w.join();
  return ok;
}

template <typename F>
double MedianMs(F&& f, int runs) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f();
    samples.push_back(Milliseconds(Clock::now() - start));
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [REPOSITORIES] [TAGS]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  size_t repositories = argc > 2 ? std::stoul(argv[2]) : 10000;
  size_t tags = argc > 3 ? std::stoul(argv[3]) : 10000;
  if (!Fill(dir, repositories, tags)) {
    std::fprintf(stderr, "could not fill %s\n", dir.c_str());
    return 1;
  }

  auto start = Clock::now();
  auto store = Open(dir);
  double open_ms = Milliseconds(Clock::now() - start);
  if (store == nullptr) return 1;
  size_t found = store->ListRepositories("", 0).items.size();

  // The first tag listing loads the repository's index.json; the median shows the steady state.
  double first_tags_ms = MedianMs([&] { (void)store->ListTags("many-tags", "", 100); }, 1);
  double catalog_ms = MedianMs([&] { (void)store->ListRepositories("org050", 100); }, 201);
  double tags_ms = MedianMs([&] { (void)store->ListTags("many-tags", "tag-5000", 100); }, 201);

  std::printf("repositories found     %zu\n", found);
  std::printf("open store             %.1f ms\n", open_ms);
  std::printf("first tag page         %.3f ms (loads index.json of %zu tags)\n", first_tags_ms,
              tags);
  std::printf("catalog page of 100    %.3f ms (median)\n", catalog_ms);
  std::printf("tag page of 100        %.3f ms (median)\n", tags_ms);
  std::printf(
      R"({"repositories":%zu,"open_ms":%.1f,"first_tag_page_ms":%.3f,"catalog_page_ms":%.3f,"tag_page_ms":%.3f})"
      "\n",
      found, open_ms, first_tags_ms, catalog_ms, tags_ms);
  return 0;
}
