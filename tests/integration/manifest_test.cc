// SPDX-License-Identifier: Apache-2.0
// Manifests over HTTP: push by tag and digest, ?tag=, GET/HEAD, delete, limits, referrers.
#include <rapidjson/document.h>

#include <algorithm>
#include <map>

#include "catch.h"
#include "oci_checks.h"
#include "test_server.h"

using ocireg::testing::ImageManifest;
using ocireg::testing::kOciIndexType;
using ocireg::testing::kOciManifestType;
using ocireg::testing::PushBlob;
using ocireg::testing::PushImage;
using ocireg::testing::Sha256;
using ocireg::testing::TestServer;

namespace {

const std::string kConfig = R"({"architecture":"amd64","os":"linux"})";

// A manifest whose config and layer are pushed to `repo`.
std::string ValidManifest(httplib::Client& client, const std::string& repo,
                          const std::string& layer = "layer", const std::string& extra = "") {
  const std::string config_digest = PushBlob(client, repo, kConfig);
  const std::string layer_digest = PushBlob(client, repo, layer);
  return ImageManifest(config_digest, kConfig.size(), {{layer_digest, layer.size()}}, extra);
}

std::string Subject(const std::string& digest, size_t size) {
  return R"(,"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
         digest + R"(","size":)" + std::to_string(size) + "}";
}

}  // namespace

TEST_CASE("Manifest PUT by tag, then GET and HEAD by tag and digest", "[integration][manifest]") {
  TestServer server;
  auto client = server.Client();
  const std::string manifest = ValidManifest(*client, "app");
  const std::string digest = Sha256(manifest);

  auto put = client->Put("/v2/app/manifests/v1", manifest, kOciManifestType);
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->get_header_value("Docker-Content-Digest") == digest);
  CHECK(put->get_header_value("Location") == "/v2/app/manifests/" + digest);
  CHECK_FALSE(put->has_header("OCI-Subject"));

  for (const std::string& ref : {std::string("v1"), digest}) {
    INFO(ref);
    auto get = client->Get("/v2/app/manifests/" + ref);
    REQUIRE(get);
    CHECK(get->status == 200);
    CHECK(get->body == manifest);  // the exact bytes
    CHECK(get->get_header_value("Content-Type") == kOciManifestType);
    CHECK(get->get_header_value("Docker-Content-Digest") == digest);
    auto head = client->Head("/v2/app/manifests/" + ref);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->get_header_value("Content-Length") == std::to_string(manifest.size()));
    CHECK(head->get_header_value("Content-Type") == kOciManifestType);
    CHECK(head->get_header_value("Docker-Content-Digest") == digest);
  }
  CHECK_OCI_ERROR(client->Get("/v2/app/manifests/v2"), 404, "MANIFEST_UNKNOWN");
  CHECK_OCI_ERROR(client->Get("/v2/app/manifests/" + Sha256("x")), 404, "MANIFEST_UNKNOWN");
  auto head_missing = client->Head("/v2/app/manifests/v2");
  REQUIRE(head_missing);
  CHECK(head_missing->status == 404);
  CHECK_OCI_ERROR(client->Get("/v2/nobody/manifests/v1"), 404, "NAME_UNKNOWN");
}

TEST_CASE("Content-Type is served as pushed, parameters dropped", "[integration][manifest]") {
  TestServer server;
  auto client = server.Client();
  const std::string docker_type = "application/vnd.docker.distribution.manifest.v2+json";
  const std::string config_digest = PushBlob(*client, "dk", kConfig);
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":")" + docker_type +
      R"(","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      config_digest + R"(","size":)" + std::to_string(kConfig.size()) + R"(},"layers":[]})";
  auto put = client->Put("/v2/dk/manifests/latest", manifest, docker_type + "; charset=utf-8");
  REQUIRE(put);
  CHECK(put->status == 201);
  auto get = client->Get("/v2/dk/manifests/latest");
  REQUIRE(get);
  CHECK(get->get_header_value("Content-Type") == docker_type);
}

TEST_CASE("Manifest PUT by digest with several ?tag= answers OCI-Tag", "[integration][manifest]") {
  TestServer server;
  auto client = server.Client();
  const std::string manifest = ValidManifest(*client, "multi");
  const std::string digest = Sha256(manifest);
  auto put = client->Put("/v2/multi/manifests/" + digest + "?tag=1.2.3&tag=1.2&tag=latest",
                         manifest, kOciManifestType);
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->get_header_value("Docker-Content-Digest") == digest);
  std::vector<std::string> tags;
  for (size_t i = 0; i < put->get_header_value_count("OCI-Tag"); ++i) {
    tags.push_back(put->get_header_value("OCI-Tag", i));
  }
  std::sort(tags.begin(), tags.end());
  CHECK(tags == std::vector<std::string>{"1.2", "1.2.3", "latest"});
  for (const char* tag : {"1.2.3", "1.2", "latest"}) {
    auto get = client->Head(std::string("/v2/multi/manifests/") + tag);
    REQUIRE(get);
    CHECK(get->status == 200);
    CHECK(get->get_header_value("Docker-Content-Digest") == digest);
  }
  SECTION("a digest that does not match the body is 400 DIGEST_INVALID") {
    CHECK_OCI_ERROR(
        client->Put("/v2/multi/manifests/" + Sha256("other"), manifest, kOciManifestType), 400,
        "DIGEST_INVALID");
  }
  SECTION("an invalid extra tag is refused") {
    auto bad =
        client->Put("/v2/multi/manifests/" + digest + "?tag=-bad", manifest, kOciManifestType);
    REQUIRE(bad);
    CHECK(bad->status == 400);
  }
  SECTION("too many tags is 414") {
    std::string query;
    for (int i = 0; i < 101; ++i) query += (i ? "&tag=t" : "?tag=t") + std::to_string(i);
    CHECK_OCI_ERROR(
        client->Put("/v2/multi/manifests/" + digest + query, manifest, kOciManifestType), 414,
        "NAME_INVALID");
  }
}

TEST_CASE("Manifest PUT errors", "[integration][manifest]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.max_manifest_bytes = 2048;
  });
  auto client = server.Client();

  SECTION("a referenced blob that is missing is 400 MANIFEST_BLOB_UNKNOWN") {
    const std::string manifest = ImageManifest(Sha256("no config"), 9, {{Sha256("no layer"), 8}});
    CHECK_OCI_ERROR(client->Put("/v2/e/manifests/v1", manifest, kOciManifestType), 400,
                    "MANIFEST_BLOB_UNKNOWN");
  }
  SECTION("malformed JSON is 400 MANIFEST_INVALID") {
    CHECK_OCI_ERROR(client->Put("/v2/e/manifests/v1", "{not json", kOciManifestType), 400,
                    "MANIFEST_INVALID");
  }
  SECTION("a bad tag is 400 MANIFEST_INVALID, a bad digest 400 DIGEST_INVALID") {
    const std::string manifest = ValidManifest(*client, "e");
    CHECK_OCI_ERROR(client->Put("/v2/e/manifests/.bad", manifest, kOciManifestType), 400,
                    "MANIFEST_INVALID");
    CHECK_OCI_ERROR(client->Put("/v2/e/manifests/sha256:abc", manifest, kOciManifestType), 400,
                    "DIGEST_INVALID");
  }
  SECTION("a bad name is 400 NAME_INVALID") {
    CHECK_OCI_ERROR(client->Put("/v2/E/manifests/v1", "{}", kOciManifestType), 400, "NAME_INVALID");
  }
  SECTION("over the size limit is 413, with Content-Length or chunked") {
    const std::string big = "{\"pad\":\"" + std::string(3000, 'x') + "\"}";
    CHECK_OCI_ERROR(client->Put("/v2/e/manifests/v1", big, kOciManifestType), 413,
                    "MANIFEST_INVALID");
    // Chunked: httplib does not cap it; our reader must, and must not answer 201.
    auto chunked = client->Put(
        "/v2/e/manifests/v1",
        [&](size_t offset, httplib::DataSink& sink) {
          if (offset >= big.size()) {
            sink.done();
            return true;
          }
          return sink.write(big.data() + offset, std::min<size_t>(500, big.size() - offset));
        },
        kOciManifestType);
    CHECK_OCI_ERROR(chunked, 413, "MANIFEST_INVALID");
    // The size limit still lets a real manifest through on a new connection.
    const std::string manifest = ValidManifest(*client, "e");
    auto ok = client->Put("/v2/e/manifests/v1", manifest, kOciManifestType);
    REQUIRE(ok);
    CHECK(ok->status == 201);
  }
  SECTION("Content-Encoding is refused") {
    const std::string manifest = ValidManifest(*client, "e");
    CHECK_OCI_ERROR(client->Put("/v2/e/manifests/v1", {{"Content-Encoding", "gzip"}}, manifest,
                                kOciManifestType),
                    400, "MANIFEST_INVALID");
  }
}

TEST_CASE("Reads of a reference outside the tag grammar are 404 MANIFEST_UNKNOWN",
          "[integration][manifest]") {
  // The OCI conformance suite reads ".INVALID_MANIFEST_NAME" as a manifest that does not exist.
  TestServer server;
  auto client = server.Client();
  PushImage(*client, "bad-ref", "v1");
  for (const std::string ref : {".INVALID_MANIFEST_NAME", "-dash", "a%21b"}) {
    INFO(ref);
    const std::string path = "/v2/bad-ref/manifests/" + ref;
    CHECK_OCI_ERROR(client->Get(path), 404, "MANIFEST_UNKNOWN");
    CHECK_OCI_ERROR(client->Delete(path), 404, "MANIFEST_UNKNOWN");
    auto head = client->Head(path);
    REQUIRE(head);
    CHECK(head->status == 404);
  }
  // A malformed digest is still DIGEST_INVALID, and the PUT of a bad tag still 400.
  CHECK_OCI_ERROR(client->Get("/v2/bad-ref/manifests/sha256:abc"), 400, "DIGEST_INVALID");
  CHECK_OCI_ERROR(client->Put("/v2/bad-ref/manifests/.INVALID_MANIFEST_NAME",
                              client->Get("/v2/bad-ref/manifests/v1")->body, kOciManifestType),
                  400, "MANIFEST_INVALID");
}

TEST_CASE("Manifest DELETE by tag and by digest", "[integration][manifest]") {
  TestServer server;
  auto client = server.Client();
  const std::string digest = PushImage(*client, "del", "v1");
  REQUIRE(client
              ->Put("/v2/del/manifests/" + digest + "?tag=v2",
                    client->Get("/v2/del/manifests/v1")->body, kOciManifestType)
              ->status == 201);

  auto untag = client->Delete("/v2/del/manifests/v1");
  REQUIRE(untag);
  CHECK(untag->status == 202);
  CHECK_OCI_ERROR(client->Get("/v2/del/manifests/v1"), 404, "MANIFEST_UNKNOWN");
  auto by_digest = client->Get("/v2/del/manifests/" + digest);
  REQUIRE(by_digest);
  CHECK(by_digest->status == 200);  // the manifest stays, untagged

  auto del = client->Delete("/v2/del/manifests/" + digest);
  REQUIRE(del);
  CHECK(del->status == 202);
  CHECK_OCI_ERROR(client->Get("/v2/del/manifests/" + digest), 404, "MANIFEST_UNKNOWN");
  CHECK_OCI_ERROR(client->Get("/v2/del/manifests/v2"), 404, "MANIFEST_UNKNOWN");
  CHECK_OCI_ERROR(client->Delete("/v2/del/manifests/" + digest), 404, "MANIFEST_UNKNOWN");
  CHECK_OCI_ERROR(client->Delete("/v2/del/manifests/nosuchtag"), 404, "MANIFEST_UNKNOWN");
  CHECK_OCI_ERROR(client->Delete("/v2/nobody/manifests/v1"), 404, "NAME_UNKNOWN");
}

TEST_CASE("Referrers: OCI-Subject, the index, artifactType filter", "[integration][referrers]") {
  TestServer server;
  auto client = server.Client();
  const std::string subject_body = ValidManifest(*client, "ref", "subject layer");
  const std::string subject = Sha256(subject_body);

  // A referrer pushed before its subject exists is accepted.
  const std::string sbom = ValidManifest(*client, "ref", "sbom layer",
                                         R"(,"artifactType":"application/vnd.example.sbom.v1")" +
                                             Subject(subject, subject_body.size()) +
                                             R"(,"annotations":{"org.example.kind":"sbom"})");
  auto put_sbom = client->Put("/v2/ref/manifests/" + Sha256(sbom), sbom, kOciManifestType);
  REQUIRE(put_sbom);
  CHECK(put_sbom->status == 201);
  CHECK(put_sbom->get_header_value("OCI-Subject") == subject);

  const std::string sig =
      ValidManifest(*client, "ref", "sig layer", Subject(subject, subject_body.size()));
  REQUIRE(client->Put("/v2/ref/manifests/" + Sha256(sig), sig, kOciManifestType)->status == 201);
  REQUIRE(client->Put("/v2/ref/manifests/v1", subject_body, kOciManifestType)->status == 201);

  auto all = client->Get("/v2/ref/referrers/" + subject);
  REQUIRE(all);
  CHECK(all->status == 200);
  CHECK(all->get_header_value("Content-Type") == kOciIndexType);
  CHECK_FALSE(all->has_header("OCI-Filters-Applied"));
  rapidjson::Document doc;
  doc.Parse(all->body.c_str());
  REQUIRE(!doc.HasParseError());
  CHECK(doc["schemaVersion"].GetInt() == 2);
  CHECK(std::string(doc["mediaType"].GetString()) == kOciIndexType);
  REQUIRE(doc["manifests"].Size() == 2);
  std::map<std::string, std::string> types;  // digest -> artifactType
  for (const auto& d : doc["manifests"].GetArray()) {
    CHECK(std::string(d["mediaType"].GetString()) == kOciManifestType);
    types[d["digest"].GetString()] = d["artifactType"].GetString();
    if (std::string(d["digest"].GetString()) == Sha256(sbom)) {
      CHECK(d["size"].GetInt64() == static_cast<int64_t>(sbom.size()));
      CHECK(std::string(d["annotations"]["org.example.kind"].GetString()) == "sbom");
    }
  }
  CHECK(types[Sha256(sbom)] == "application/vnd.example.sbom.v1");
  CHECK(types[Sha256(sig)] == "application/vnd.oci.image.config.v1+json");  // config's type

  auto filtered =
      client->Get("/v2/ref/referrers/" + subject + "?artifactType=application/vnd.example.sbom.v1");
  REQUIRE(filtered);
  CHECK(filtered->status == 200);
  CHECK(filtered->get_header_value("OCI-Filters-Applied") == "artifactType");
  doc.Parse(filtered->body.c_str());
  REQUIRE(doc["manifests"].Size() == 1);
  CHECK(std::string(doc["manifests"][0]["digest"].GetString()) == Sha256(sbom));

  SECTION("an unknown digest or repository is an empty index, not 404") {
    for (const std::string& path :
         {"/v2/ref/referrers/" + Sha256("unknown"), "/v2/norepo/referrers/" + subject}) {
      auto empty = client->Get(path);
      REQUIRE(empty);
      CHECK(empty->status == 200);
      doc.Parse(empty->body.c_str());
      REQUIRE(!doc.HasParseError());
      CHECK(doc["manifests"].IsArray());
      CHECK(doc["manifests"].Empty());
    }
  }
  SECTION("a malformed digest is 400") {
    CHECK_OCI_ERROR(client->Get("/v2/ref/referrers/sha256:xyz"), 400, "DIGEST_INVALID");
  }
}
