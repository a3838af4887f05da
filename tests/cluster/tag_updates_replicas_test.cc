// SPDX-License-Identifier: Apache-2.0
// Concurrent tag updates through every replica: every acknowledged write is kept, the last
// acknowledged write of a tag wins, and no index is ever seen half-written.
#include "replicas.h"

namespace ocireg {
namespace {

using namespace cluster_test;  // NOLINT(google-build-using-namespace): the shared fixture

// ---- 3. Concurrent tag updates ------------------------------------------------------------

// One acknowledged manifest PUT under a tag: when it was sent and when its 201 came.
struct TagWrite {
  std::string tag;
  std::string digest;
  steady_clock::time_point sent;
  steady_clock::time_point acknowledged;
};

// What the writers and the reader of a tag test recorded.
struct TagRun {
  std::mutex mu;
  std::vector<TagWrite> writes;       // acknowledged
  std::set<std::string> sent;         // every digest PUT, before it was sent
  std::vector<std::string> failures;  // of writers and of the reader
  std::atomic<bool> writing{true};
  std::atomic<int> listings{0};  // tag lists the reader checked
  std::atomic<int> resolved{0};  // tags it resolved

  void Failure(const std::string& problem) {
    std::lock_guard lock(mu);
    failures.push_back(problem);
  }
};

// PUTs `manifest` under `tag` of `repo` through `client` and records it.
void WriteTag(httplib::Client& client, TagRun& run, const std::string& repo, const std::string& tag,
              const std::string& manifest) {
  const std::string digest = Sha256(manifest);
  {
    std::lock_guard lock(run.mu);
    run.sent.insert(digest);
  }
  const auto sent = steady_clock::now();
  httplib::Result put = PutManifest(client, repo, tag, manifest);
  const auto acknowledged = steady_clock::now();
  if (!put || put->status != 201) {
    run.Failure(Describe("PUT " + repo + ":" + tag, put));
    return;
  }
  if (DigestHeader(put) != digest)
    run.Failure("PUT " + tag + " answered digest " + DigestHeader(put));
  std::lock_guard lock(run.mu);
  run.writes.push_back({tag, digest, sent, acknowledged});
}

// While run.writing: lists the tags of `repo` on each replica in turn; every answer must be JSON
// and every tag in it must resolve, on that replica, to a manifest somebody PUT.
void ReadTagsWhileWriting(Cluster& cluster, TagRun& run, const std::string& repo) {
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (size_t i = 0; i < kReplicas; ++i) clients.push_back(cluster.replica(i).Client());
  for (size_t turn = 0; run.writing; ++turn) {
    httplib::Client& client = *clients[turn % kReplicas];
    const std::string on = " on r" + std::to_string(turn % kReplicas);
    httplib::Result list = client.Get("/v2/" + repo + "/tags/list");
    if (!list || (list->status != 200 && list->status != 404)) {
      run.Failure(Describe("GET tags/list" + on, list));
      continue;
    }
    if (list->status == 404) continue;  // before the first push
    const std::optional<std::vector<std::string>> tags = JsonStrings(list->body, "tags");
    if (!tags) {
      run.Failure("tags/list" + on + " is not a tag list: " + list->body);
      continue;
    }
    for (const std::string& tag : *tags) {
      httplib::Result manifest = GetManifest(client, repo, tag);
      if (!manifest || manifest->status != 200) {
        run.Failure("tag " + tag + " listed but not served" + on + ": " +
                    Describe("GET", manifest));
        continue;
      }
      std::lock_guard lock(run.mu);
      if (run.sent.count(Sha256(manifest->body)) == 0) {
        run.failures.push_back("tag " + tag + on + " names a manifest nobody pushed");
      }
      ++run.resolved;
    }
    ++run.listings;
  }
}

// After a tag run: every acknowledged manifest is served by digest on every replica, and every
// tag on every replica names one acknowledged under it. The digest each replica gives each tag.
std::map<std::string, std::set<std::string>> CheckTagsAfterRun(
    Cluster& cluster, TagRun& run, const std::string& repo, const std::vector<std::string>& tags) {
  std::map<std::string, std::set<std::string>> acknowledged;  // tag -> digests
  for (const TagWrite& write : run.writes) acknowledged[write.tag].insert(write.digest);
  std::map<std::string, std::set<std::string>> final_digests;
  for (size_t i = 0; i < kReplicas; ++i) {
    auto client = cluster.replica(i).Client();
    INFO("on r" << i);
    for (const TagWrite& write : run.writes) {
      httplib::Result manifest = GetManifest(*client, repo, write.digest);
      REQUIRE(manifest);
      CHECK(manifest->status == 200);
      CHECK(Sha256(manifest->body) == write.digest);
    }
    httplib::Result list = client->Get("/v2/" + repo + "/tags/list");
    REQUIRE(list);
    REQUIRE(list->status == 200);
    std::optional<std::vector<std::string>> listed = JsonStrings(list->body, "tags");
    REQUIRE(listed);
    std::sort(listed->begin(), listed->end());
    CHECK(*listed == tags);
    for (const std::string& tag : tags) {
      httplib::Result manifest = GetManifest(*client, repo, tag);
      REQUIRE(manifest);
      REQUIRE(manifest->status == 200);
      const std::string digest = Sha256(manifest->body);
      INFO("tag " << tag);
      CHECK(acknowledged[tag].count(digest) == 1);
      final_digests[tag].insert(digest);
    }
  }
  for (const auto& [tag, digests] : final_digests) {
    INFO("tag " << tag << " on every replica");
    CHECK(digests.size() == 1);
  }
  return final_digests;
}

TEST_CASE("concurrent tag updates through every replica keep the last acknowledged write",
          "[cluster][balancer]") {
  Cluster cluster;
  const std::string repo = "tags/app";
  const std::vector<std::string> tags = {"one", "three", "two"};  // sorted
  const std::string layer = RandomBytes(5000, NextSeed());
  {
    auto client = cluster.replica(0).Client();
    testing::PushBlob(*client, repo, kConfigBlob);
    testing::PushBlob(*client, repo, layer);
  }
  const std::pair<std::string, size_t> layer_ref{Sha256(layer), layer.size()};
  TagRun run;
  ThreadGroup reader([&run] { run.writing = false; });
  reader.Add(ReadTagsWhileWriting, std::ref(cluster), std::ref(run), repo);

  SECTION("6 writers x 15 pushes over 3 tags, all at once") {
    constexpr int kWriters = 6;
    constexpr int kPushes = 15;
    ThreadGroup writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.Add([&, w] {
        auto client = cluster.replica(w % kReplicas).Client();
        std::mt19937 random(static_cast<unsigned>(NextSeed()));
        for (int i = 0; i < kPushes; ++i) {
          const std::string tag = tags[random() % tags.size()];
          WriteTag(*client, run, repo, tag,
                   NamedManifest({layer_ref}, "w" + std::to_string(w) + "-" + std::to_string(i)));
        }
      });
    }
    writers.Join();
    run.writing = false;
    reader.Join();
    for (const std::string& failure : run.failures) UNSCOPED_INFO(failure);
    CHECK(run.failures.empty());
    REQUIRE(run.writes.size() == kWriters * kPushes);

    const auto final_digests = CheckTagsAfterRun(cluster, run, repo, tags);
    // Linearizable: the tag cannot keep a write that was acknowledged before another write to
    // it was even sent.
    for (const auto& [tag, digests] : final_digests) {
      const std::string& kept = *digests.begin();
      const auto it = std::find_if(run.writes.begin(), run.writes.end(),
                                   [&](const TagWrite& w) { return w.digest == kept; });
      REQUIRE(it != run.writes.end());
      for (const TagWrite& later : run.writes) {
        if (later.tag != tag || later.digest == kept) continue;
        INFO("tag " << tag << " kept a write acknowledged before another was sent");
        CHECK(later.sent < it->acknowledged);
      }
    }
  }

  SECTION("3 tags written one write at a time each, round robin over the replicas") {
    constexpr int kPushes = 15;
    std::mutex mu;
    std::vector<std::string> stale_reads;
    ThreadGroup writers;
    for (size_t t = 0; t < tags.size(); ++t) {
      writers.Add([&, t] {
        std::vector<std::unique_ptr<httplib::Client>> clients;
        for (size_t i = 0; i < kReplicas; ++i) clients.push_back(cluster.replica(i).Client());
        for (int i = 0; i < kPushes; ++i) {
          const std::string manifest =
              NamedManifest({layer_ref}, tags[t] + "-" + std::to_string(i));
          WriteTag(*clients[(t + i) % kReplicas], run, repo, tags[t], manifest);
          // The next replica in turn serves it on its next request.
          httplib::Result got = GetManifest(*clients[(t + i + 1) % kReplicas], repo, tags[t]);
          if (!got || Sha256(got->body) != Sha256(manifest)) {
            std::lock_guard lock(mu);
            stale_reads.push_back(
                tags[t] + " written through r" + std::to_string((t + i) % kReplicas) +
                ", read through r" + std::to_string((t + i + 1) % kReplicas) + ": wrote " +
                NameOf(manifest) + ", got " +
                (got && got->status == 200 ? NameOf(got->body) : Describe("GET", got)));
          }
        }
      });
    }
    writers.Join();
    run.writing = false;
    reader.Join();
    for (const std::string& failure : run.failures) UNSCOPED_INFO(failure);
    CHECK(run.failures.empty());
    for (const std::string& stale : stale_reads) UNSCOPED_INFO(stale);
    CHECK(stale_reads.empty());
    REQUIRE(run.writes.size() == tags.size() * kPushes);

    const auto final_digests = CheckTagsAfterRun(cluster, run, repo, tags);
    // The writes to one tag were sequential: the last acknowledged one wins, exactly.
    for (const std::string& tag : tags) {
      const TagWrite* last = nullptr;
      for (const TagWrite& write : run.writes) {
        if (write.tag == tag && (last == nullptr || write.acknowledged > last->acknowledged)) {
          last = &write;
        }
      }
      REQUIRE(last != nullptr);
      INFO("tag " << tag);
      CHECK(final_digests.at(tag) == std::set<std::string>{last->digest});
    }
  }
  // The reader ran while tags moved (how often depends on the machine's load).
  INFO("the reader checked " << run.listings << " tag lists, resolving " << run.resolved
                             << " tags");
  CHECK(run.listings >= 1);
  CHECK(run.resolved >= 1);
}

}  // namespace
}  // namespace ocireg
