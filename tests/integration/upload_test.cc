// SPDX-License-Identifier: Apache-2.0
// Blob uploads over HTTP: monolithic, POST+PUT, chunked, status, cancel, sha512, every 4xx.
#include "catch.h"
#include "oci_checks.h"
#include "test_server.h"
#include "upload_steps.h"

using ocireg::testing::kOctet;
using ocireg::testing::PatchChunk;
using ocireg::testing::StartSession;
using ocireg::testing::TestServer;

namespace {

std::string Sha512(std::string_view bytes) {
  return ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha512, bytes).ToString();
}

}  // namespace

TEST_CASE("POST starts a session: 202, Location, Range, Docker-Upload-UUID",
          "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  auto res = client->Post("/v2/team/app/blobs/uploads/", "", kOctet);
  REQUIRE(res);
  CHECK(res->status == 202);
  const std::string uuid = res->get_header_value("Docker-Upload-UUID");
  CHECK_FALSE(uuid.empty());
  CHECK(res->get_header_value("Location") == "/v2/team/app/blobs/uploads/" + uuid);
  CHECK(res->get_header_value("Range") == "0-0");
}

TEST_CASE("Single-POST monolithic upload", "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  const std::string bytes = "monolithic";
  const std::string digest = ocireg::testing::Sha256(bytes);
  auto res = client->Post("/v2/m/blobs/uploads/?digest=" + digest, bytes, kOctet);
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->get_header_value("Location") == "/v2/m/blobs/" + digest);
  CHECK(res->get_header_value("Docker-Content-Digest") == digest);

  SECTION("a digest that does not match is 400 DIGEST_INVALID and stores nothing") {
    const std::string wrong = ocireg::testing::Sha256("something else");
    CHECK_OCI_ERROR(client->Post("/v2/m/blobs/uploads/?digest=" + wrong, bytes, kOctet), 400,
                    "DIGEST_INVALID");
    CHECK_OCI_ERROR(client->Get("/v2/m/blobs/" + wrong), 404, "BLOB_UNKNOWN");
  }
  SECTION("a malformed digest is 400 DIGEST_INVALID") {
    CHECK_OCI_ERROR(client->Post("/v2/m/blobs/uploads/?digest=sha256:nothex", bytes, kOctet), 400,
                    "DIGEST_INVALID");
  }
}

TEST_CASE("POST then PUT with the whole blob", "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  const std::string location = StartSession(*client, "pp");
  const std::string bytes = "post then put";
  const std::string digest = ocireg::testing::Sha256(bytes);
  auto res = client->Put(location + "?digest=" + digest, bytes, kOctet);
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->get_header_value("Location") == "/v2/pp/blobs/" + digest);
  CHECK(res->get_header_value("Docker-Content-Digest") == digest);
  auto get = client->Get("/v2/pp/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->body == bytes);
  // The session is gone once committed.
  CHECK_OCI_ERROR(client->Get(location), 404, "BLOB_UPLOAD_UNKNOWN");
}

TEST_CASE("Chunked upload with PATCH, status GET and a closing PUT", "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  std::string location = StartSession(*client, "chunked");
  const std::string a = "first chunk|", b = "second chunk|", c = "final";
  const std::string digest = ocireg::testing::Sha256(a + b + c);

  auto r1 = PatchChunk(*client, location, a, 0);
  REQUIRE(r1);
  CHECK(r1->status == 202);
  CHECK(r1->get_header_value("Range") == "0-" + std::to_string(a.size() - 1));
  CHECK_FALSE(r1->get_header_value("Docker-Upload-UUID").empty());
  location = r1->get_header_value("Location");

  auto r2 = PatchChunk(*client, location, b, a.size());
  REQUIRE(r2);
  CHECK(r2->status == 202);
  CHECK(r2->get_header_value("Range") == "0-" + std::to_string(a.size() + b.size() - 1));

  SECTION("status GET is 204 with Range and Location") {
    auto status = client->Get(location);
    REQUIRE(status);
    CHECK(status->status == 204);
    CHECK(status->get_header_value("Range") == "0-" + std::to_string(a.size() + b.size() - 1));
    CHECK(status->get_header_value("Location") == location);
  }
  SECTION("an out-of-order chunk is 416 and changes nothing") {
    auto gap = PatchChunk(*client, location, c, a.size() + b.size() + 5);
    CHECK_OCI_ERROR(gap, 416, "BLOB_UPLOAD_INVALID");
    CHECK(gap->get_header_value("Range") == "0-" + std::to_string(a.size() + b.size() - 1));
    auto overlap = PatchChunk(*client, location, c, 0);
    CHECK_OCI_ERROR(overlap, 416, "BLOB_UPLOAD_INVALID");
    auto bad = client->Patch(location, {{"Content-Range", "bytes=0-4"}}, c, kOctet);
    CHECK_OCI_ERROR(bad, 416, "BLOB_UPLOAD_INVALID");
    auto mismatch = client->Patch(location,
                                  {{"Content-Range", std::to_string(a.size() + b.size()) + "-" +
                                                         std::to_string(a.size() + b.size() + 99)}},
                                  c, kOctet);
    CHECK_OCI_ERROR(mismatch, 416, "BLOB_UPLOAD_INVALID");
    auto status = client->Get(location);
    REQUIRE(status);
    CHECK(status->get_header_value("Range") == "0-" + std::to_string(a.size() + b.size() - 1));
  }
  SECTION("closing PUT with the final chunk") {
    httplib::Headers range = {
        {"Content-Range", std::to_string(a.size() + b.size()) + "-" +
                              std::to_string(a.size() + b.size() + c.size() - 1)}};
    auto done = client->Put(location + "?digest=" + digest, range, c, kOctet);
    REQUIRE(done);
    CHECK(done->status == 201);
    CHECK(done->get_header_value("Docker-Content-Digest") == digest);
    auto get = client->Get("/v2/chunked/blobs/" + digest);
    REQUIRE(get);
    CHECK(get->body == a + b + c);
  }
  SECTION("closing PUT out of order is 416") {
    httplib::Headers range = {{"Content-Range", "3-" + std::to_string(3 + c.size() - 1)}};
    auto done = client->Put(location + "?digest=" + digest, range, c, kOctet);
    CHECK_OCI_ERROR(done, 416, "BLOB_UPLOAD_INVALID");
    // The session survives for a retry at the right offset.
    auto status = client->Get(location);
    REQUIRE(status);
    CHECK(status->status == 204);
  }
  SECTION("last chunk by PATCH, then an empty closing PUT") {
    auto r3 = PatchChunk(*client, location, c, a.size() + b.size());
    REQUIRE(r3);
    CHECK(r3->status == 202);
    auto done = client->Put(location + "?digest=" + digest, "", kOctet);
    REQUIRE(done);
    CHECK(done->status == 201);
    CHECK(done->get_header_value("Location") == "/v2/chunked/blobs/" + digest);
  }
  SECTION("a PATCH without Content-Range appends at the end (streamed upload)") {
    auto r3 = client->Patch(location, c, kOctet);
    REQUIRE(r3);
    CHECK(r3->status == 202);
    auto done = client->Put(location + "?digest=" + digest, "", kOctet);
    REQUIRE(done);
    CHECK(done->status == 201);
  }
  SECTION("closing PUT without or with a wrong digest") {
    CHECK_OCI_ERROR(client->Put(location, "", kOctet), 400, "DIGEST_INVALID");
    CHECK_OCI_ERROR(client->Put(location + "?digest=sha256:0", "", kOctet), 400, "DIGEST_INVALID");
    const std::string wrong = ocireg::testing::Sha256("wrong");
    CHECK_OCI_ERROR(client->Put(location + "?digest=" + wrong, c, kOctet), 400, "DIGEST_INVALID");
  }
}

TEST_CASE("DELETE of an upload session is 204; unknown sessions are 404", "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  const std::string location = StartSession(*client, "cancel");
  REQUIRE(PatchChunk(*client, location, "data", 0)->status == 202);
  auto del = client->Delete(location);
  REQUIRE(del);
  CHECK(del->status == 204);
  CHECK_OCI_ERROR(client->Get(location), 404, "BLOB_UPLOAD_UNKNOWN");
  CHECK_OCI_ERROR(client->Delete(location), 404, "BLOB_UPLOAD_UNKNOWN");
  CHECK_OCI_ERROR(PatchChunk(*client, location, "more", 4), 404, "BLOB_UPLOAD_UNKNOWN");
  const std::string digest = ocireg::testing::Sha256("data");
  CHECK_OCI_ERROR(client->Put(location + "?digest=" + digest, "", kOctet), 404,
                  "BLOB_UPLOAD_UNKNOWN");
  CHECK_OCI_ERROR(client->Get("/v2/cancel/blobs/uploads/no-such-session"), 404,
                  "BLOB_UPLOAD_UNKNOWN");
  // A session belongs to its repository.
  const std::string other = StartSession(*client, "cancel");
  const std::string id = other.substr(other.rfind('/') + 1);
  CHECK_OCI_ERROR(client->Get("/v2/elsewhere/blobs/uploads/" + id), 404, "BLOB_UPLOAD_UNKNOWN");
}

TEST_CASE("sha512 uploads via ?digest-algorithm and ?digest", "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  const std::string bytes = "hashed with sha512";
  const std::string digest = Sha512(bytes);

  const std::string location = StartSession(*client, "s512", "?digest-algorithm=sha512");
  REQUIRE(PatchChunk(*client, location, bytes, 0)->status == 202);
  auto done = client->Put(location + "?digest=" + digest, "", kOctet);
  REQUIRE(done);
  CHECK(done->status == 201);
  CHECK(done->get_header_value("Docker-Content-Digest") == digest);
  auto get = client->Get("/v2/s512/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->body == bytes);

  const std::string other = "monolithic sha512";
  auto mono = client->Post("/v2/s512/blobs/uploads/?digest=" + Sha512(other), other, kOctet);
  REQUIRE(mono);
  CHECK(mono->status == 201);
  CHECK(mono->get_header_value("Docker-Content-Digest") == Sha512(other));

  CHECK_OCI_ERROR(client->Post("/v2/s512/blobs/uploads/?digest-algorithm=md5", "", kOctet), 400,
                  "DIGEST_INVALID");
}

TEST_CASE("Upload bodies must be plain bytes", "[integration][upload]") {
  TestServer server;
  auto client = server.Client();
  const std::string bytes = "plain";
  const std::string digest = ocireg::testing::Sha256(bytes);
  auto gz = client->Post("/v2/enc/blobs/uploads/?digest=" + digest, {{"Content-Encoding", "gzip"}},
                         bytes, kOctet);
  CHECK_OCI_ERROR(gz, 400, "BLOB_UPLOAD_INVALID");
  const std::string location = StartSession(*client, "enc");
  auto patch = client->Patch(location, {{"Content-Encoding", "br"}}, bytes, kOctet);
  CHECK_OCI_ERROR(patch, 400, "BLOB_UPLOAD_INVALID");
  auto multipart =
      client->Put(location + "?digest=" + digest, bytes, "multipart/form-data; boundary=xyz");
  CHECK_OCI_ERROR(multipart, 400, "BLOB_UPLOAD_INVALID");
  auto identity = client->Post("/v2/enc/blobs/uploads/?digest=" + digest,
                               {{"Content-Encoding", "identity"}}, bytes, kOctet);
  REQUIRE(identity);
  CHECK(identity->status == 201);
}

TEST_CASE("max_blob_bytes refuses larger uploads with SIZE_INVALID", "[integration][upload]") {
  TestServer server(
      [](ocireg::Config& config, ocireg::ServerHooks&) { config.limits.max_blob_bytes = 100; });
  auto client = server.Client();
  const std::string big(101, 'b');
  CHECK_OCI_ERROR(
      client->Post("/v2/cap/blobs/uploads/?digest=" + ocireg::testing::Sha256(big), big, kOctet),
      400, "SIZE_INVALID");
  // Chunked transfer has no Content-Length to check up front: the store stops it mid-stream.
  const std::string location = StartSession(*client, "cap");
  auto res = client->Patch(
      location,
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset >= 300) {
          sink.done();
          return true;
        }
        return sink.write(big.data(), 50);
      },
      kOctet);
  CHECK_OCI_ERROR(res, 400, "SIZE_INVALID");
  const std::string small(100, 's');
  auto ok = client->Post("/v2/cap/blobs/uploads/?digest=" + ocireg::testing::Sha256(small), small,
                         kOctet);
  REQUIRE(ok);
  CHECK(ok->status == 201);
}
