// SPDX-License-Identifier: Apache-2.0
// Any request on any replica: an upload moved between replicas, and every change acknowledged by
// one replica (tags, deletes, new repositories, referrers) seen by the others at the next request.
#include "replicas.h"

namespace ocireg {
namespace {

using namespace cluster_test;  // NOLINT(google-build-using-namespace): the shared fixture

// ---- 2. Any request on any replica ----------------------------------------------------------

TEST_CASE("any request works on any replica and sees what another acknowledged at once",
          "[cluster][balancer]") {
  Cluster cluster;
  auto a = cluster.replica(0).Client();
  auto b = cluster.replica(1).Client();
  auto c = cluster.replica(2).Client();
  httplib::Client* clients[] = {a.get(), b.get(), c.get()};
  const std::string config = kConfigBlob;
  const std::string layer = RandomBytes(10000, NextSeed());
  const std::pair<std::string, size_t> layer_ref{Sha256(layer), layer.size()};

  // An upload: POST on A, PATCH on B, PATCH on A, the closing PUT on C.
  {
    const std::string blob = RandomBytes(3 * 70000, NextSeed());
    const std::string digest = Sha256(blob);
    httplib::Result started = a->Post("/v2/any/app/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    std::string location = started->get_header_value("Location");
    httplib::Client* patchers[] = {b.get(), a.get()};
    for (int i = 0; i < 2; ++i) {
      const httplib::Headers range = {
          {"Content-Range", std::to_string(i * 70000) + "-" + std::to_string(i * 70000 + 69999)}};
      httplib::Result patched =
          patchers[i]->Patch(location, range, blob.substr(i * 70000, 70000), kOctet);
      INFO(Describe("PATCH " + location, patched));
      REQUIRE(patched);
      REQUIRE(patched->status == 202);
      CHECK(patched->get_header_value("Range") == "0-" + std::to_string(i * 70000 + 69999));
      location = patched->get_header_value("Location");
    }
    // The last chunk comes with the closing PUT.
    const std::string close = WithQuery(location, "digest=" + digest);
    httplib::Result done = c->Put(close, blob.substr(140000), kOctet);
    INFO(Describe("PUT " + close, done));
    REQUIRE(done);
    REQUIRE(done->status == 201);
    CHECK(DigestHeader(done) == digest);
    for (httplib::Client* client : clients) {
      httplib::Result pulled = client->Get("/v2/any/app/blobs/" + digest);
      REQUIRE(pulled);
      CHECK(pulled->status == 200);
      CHECK(pulled->body == blob);
    }
  }

  // An upload cancelled through B is over everywhere: also on A, which started it, and on C,
  // which had just answered its status.
  {
    httplib::Result started = a->Post("/v2/any/app/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    const std::string location = started->get_header_value("Location");
    httplib::Result status = c->Get(location);
    REQUIRE(status);
    REQUIRE(status->status == 204);
    httplib::Result cancelled = b->Delete(location);
    REQUIRE(cancelled);
    REQUIRE(cancelled->status == 204);
    for (size_t i = 0; i < kReplicas; ++i) {
      INFO("GET " << location << " on r" << i << " after its DELETE on r1");
      status = clients[i]->Get(location);
      REQUIRE(status);
      CHECK(status->status == 404);
      CHECK(status->body.find("BLOB_UPLOAD_UNKNOWN") != std::string::npos);
    }
    const std::string chunk = "after the cancel";
    httplib::Result patched = a->Patch(
        location, {{"Content-Range", "0-" + std::to_string(chunk.size() - 1)}}, chunk, kOctet);
    REQUIRE(patched);
    INFO(Describe("PATCH " + location + " on r0 after its DELETE on r1", patched));
    CHECK(patched->status == 404);
  }

  // An upload finished through B is over on A, which started it and sent its chunk.
  {
    const std::string blob = "a blob finished elsewhere";
    httplib::Result started = a->Post("/v2/any/app/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    httplib::Result patched =
        a->Patch(started->get_header_value("Location"),
                 {{"Content-Range", "0-" + std::to_string(blob.size() - 1)}}, blob, kOctet);
    REQUIRE(patched);
    REQUIRE(patched->status == 202);
    const std::string location = patched->get_header_value("Location");
    httplib::Result done = b->Put(WithQuery(location, "digest=" + Sha256(blob)), "", kOctet);
    REQUIRE(done);
    REQUIRE(done->status == 201);
    for (size_t i = 0; i < kReplicas; ++i) {
      INFO("GET " << location << " on r" << i << " after its PUT on r1");
      httplib::Result status = clients[i]->Get(location);
      REQUIRE(status);
      CHECK(status->status == 404);
    }
  }

  testing::PushBlob(*a, "any/app", config);
  testing::PushBlob(*a, "any/app", layer);

  // A tag moved 20 times, each time through another replica, is read through the other two on
  // the very next request.
  for (int i = 0; i < 20; ++i) {
    const std::string manifest = NamedManifest({layer_ref}, "move-" + std::to_string(i));
    const std::string digest = Sha256(manifest);
    httplib::Client& writer = *clients[i % kReplicas];
    httplib::Result put = PutManifest(writer, "any/app", "moving", manifest);
    REQUIRE(put);
    REQUIRE(put->status == 201);
    for (size_t r = 1; r < kReplicas; ++r) {
      const size_t reader = (i + r) % kReplicas;
      INFO("move " << i << " through " << i % kReplicas << ", read through " << reader);
      httplib::Result got = GetManifest(*clients[reader], "any/app", "moving");
      REQUIRE(got);
      CHECK(got->status == 200);
      CHECK(Sha256(got->body) == digest);
      httplib::Result head =
          clients[reader]->Head("/v2/any/app/manifests/moving", {{"Accept", kManifestAccept}});
      REQUIRE(head);
      CHECK(DigestHeader(head) == digest);
    }
  }

  // A manifest deleted through B is gone on A and C at once, though both had just served it.
  {
    const std::string manifest = NamedManifest({layer_ref}, "doomed");
    const std::string digest = Sha256(manifest);
    httplib::Result put = PutManifest(*b, "any/app", "doomed", manifest);
    REQUIRE(put);
    REQUIRE(put->status == 201);
    for (httplib::Client* client : {a.get(), c.get()}) {
      httplib::Result got = GetManifest(*client, "any/app", digest);
      REQUIRE(got);
      REQUIRE(got->status == 200);
      got = GetManifest(*client, "any/app", "doomed");
      REQUIRE(got);
      REQUIRE(got->status == 200);
    }
    httplib::Result deleted = b->Delete("/v2/any/app/manifests/" + digest);
    REQUIRE(deleted);
    REQUIRE(deleted->status == 202);
    httplib::Result tag_on_b = GetManifest(*b, "any/app", "doomed");
    REQUIRE(tag_on_b);
    for (httplib::Client* client : {a.get(), c.get()}) {
      httplib::Result got = GetManifest(*client, "any/app", digest);
      REQUIRE(got);
      CHECK(got->status == 404);
      CHECK(got->body.find("MANIFEST_UNKNOWN") != std::string::npos);
      httplib::Result head =
          client->Head("/v2/any/app/manifests/" + digest, {{"Accept", kManifestAccept}});
      REQUIRE(head);
      CHECK(head->status == 404);
      // The tag that named it says the same on every replica.
      got = GetManifest(*client, "any/app", "doomed");
      REQUIRE(got);
      CHECK(got->status == tag_on_b->status);
    }
    CHECK(tag_on_b->status == 404);
  }

  // A repository pushed through C is in A's catalog at once, though A had just listed it.
  {
    httplib::Result catalog = a->Get("/v2/_catalog?n=1000");
    REQUIRE(catalog);
    REQUIRE(catalog->status == 200);
    std::optional<std::vector<std::string>> names = JsonStrings(catalog->body, "repositories");
    REQUIRE(names);
    CHECK(std::count(names->begin(), names->end(), "any/app") == 1);
    CHECK(std::count(names->begin(), names->end(), "any/newcomer") == 0);
    testing::PushImage(*c, "any/newcomer", "v1", layer);
    catalog = a->Get("/v2/_catalog?n=1000");
    REQUIRE(catalog);
    REQUIRE(catalog->status == 200);
    names = JsonStrings(catalog->body, "repositories");
    REQUIRE(names);
    CHECK(std::count(names->begin(), names->end(), "any/newcomer") == 1);
    httplib::Result tags = a->Get("/v2/any/newcomer/tags/list");
    REQUIRE(tags);
    CHECK(tags->status == 200);
    CHECK(JsonStrings(tags->body, "tags") == std::vector<std::string>{"v1"});
  }

  // Referrers of a subject pushed through A are listed by B at once, though B had just listed
  // none.
  {
    const std::string subject = NamedManifest({layer_ref}, "subject");
    const std::string subject_digest = Sha256(subject);
    httplib::Result put = PutManifest(*a, "any/app", subject_digest, subject);
    REQUIRE(put);
    REQUIRE(put->status == 201);
    const std::string path = "/v2/any/app/referrers/" + subject_digest;
    httplib::Result listed = b->Get(path);
    REQUIRE(listed);
    REQUIRE(listed->status == 200);
    CHECK(JsonStrings(listed->body, "manifests", "digest") == std::vector<std::string>{});

    const std::string referrer = NamedManifest(
        {layer_ref}, "signature",
        R"(,"artifactType":"application/vnd.example.signature","subject":{"mediaType":")" +
            std::string(testing::kOciManifestType) + R"(","digest":")" + subject_digest +
            R"(","size":)" + std::to_string(subject.size()) + "}");
    const std::string referrer_digest = Sha256(referrer);
    put = PutManifest(*a, "any/app", referrer_digest, referrer);
    REQUIRE(put);
    INFO(put->body);
    REQUIRE(put->status == 201);
    for (httplib::Client* client : {b.get(), c.get()}) {
      listed = client->Get(path);
      REQUIRE(listed);
      CHECK(listed->status == 200);
      CHECK(JsonStrings(listed->body, "manifests", "digest") ==
            std::vector<std::string>{referrer_digest});
    }
  }
}

}  // namespace
}  // namespace ocireg
