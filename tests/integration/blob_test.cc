// SPDX-License-Identifier: Apache-2.0
// Blob pull, HEAD, Range, zero-length blobs, deletion and mounts over HTTP.
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "test_server.h"

using ocireg::testing::PushBlob;
using ocireg::testing::RawConnection;
using ocireg::testing::Sha256;
using ocireg::testing::TestServer;

TEST_CASE("Blob GET and HEAD carry digest, length and type", "[integration][blob]") {
  TestServer server;
  auto client = server.Client();
  const std::string bytes = "0123456789";
  const std::string digest = PushBlob(*client, "team/app", bytes);

  auto get = client->Get("/v2/team/app/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == bytes);
  CHECK(get->get_header_value("Docker-Content-Digest") == digest);
  CHECK(get->get_header_value("Content-Type") == "application/octet-stream");
  CHECK(get->get_header_value("Content-Length") == "10");

  auto head = client->Head("/v2/team/app/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  CHECK(head->get_header_value("Content-Length") == "10");
  CHECK(head->get_header_value("Docker-Content-Digest") == digest);

  SECTION("unknown blob, unknown repository, bad digest") {
    const std::string other = Sha256("other");
    CHECK_OCI_ERROR(client->Get("/v2/team/app/blobs/" + other), 404, "BLOB_UNKNOWN");
    CHECK_OCI_ERROR(client->Get("/v2/nobody/blobs/" + digest), 404, "BLOB_UNKNOWN");
    auto head_missing = client->Head("/v2/team/app/blobs/" + other);
    REQUIRE(head_missing);
    CHECK(head_missing->status == 404);
    CHECK_OCI_ERROR(client->Get("/v2/team/app/blobs/sha256:1234"), 400, "DIGEST_INVALID");
    CHECK_OCI_ERROR(client->Get("/v2/team/app/blobs/md5:abcd"), 400, "DIGEST_INVALID");
  }
}

TEST_CASE("Blob GET honours one Range and refuses unsatisfiable ones", "[integration][blob]") {
  TestServer server;
  auto client = server.Client();
  const std::string bytes = "0123456789";
  const std::string digest = PushBlob(*client, "r", bytes);
  const std::string path = "/v2/r/blobs/" + digest;

  struct Case {
    const char* range;
    const char* body;
    const char* content_range;
  };
  for (const Case& c :
       {Case{"bytes=2-4", "234", "bytes 2-4/10"}, Case{"bytes=7-", "789", "bytes 7-9/10"},
        Case{"bytes=-2", "89", "bytes 8-9/10"}, Case{"bytes=5-100", "56789", "bytes 5-9/10"}}) {
    INFO(c.range);
    auto res = client->Get(path, {{"Range", c.range}});
    REQUIRE(res);
    CHECK(res->status == 206);
    CHECK(res->body == c.body);
    CHECK(res->get_header_value("Content-Range") == c.content_range);
    CHECK(res->get_header_value("Docker-Content-Digest") == digest);
  }
  for (const char* range : {"bytes=10-20", "bytes=20-30", "bytes=-0"}) {
    INFO(range);
    auto res = client->Get(path, {{"Range", range}});
    CHECK_OCI_ERROR(res, 416, "BLOB_UPLOAD_INVALID");
    CHECK(res->get_header_value("Content-Range") == "bytes */10");
  }
  // Several ranges may be ignored: the whole blob.
  auto multi = client->Get(path, {{"Range", "bytes=0-1,4-5"}});
  REQUIRE(multi);
  CHECK(multi->status == 200);
  CHECK(multi->body == bytes);
}

TEST_CASE("A zero-length blob is served with Content-Length: 0", "[integration][blob]") {
  TestServer server;
  auto client = server.Client();
  const std::string digest = PushBlob(*client, "empty", "");
  CHECK(digest == Sha256(""));
  // Raw, so that a missing Content-Length would show as a hang instead of being papered over.
  RawConnection raw(server.port());
  raw.Send("GET /v2/empty/blobs/" + digest + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto res = raw.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->HasHeader("Content-Length: 0\r\n"));
  CHECK(res->HasHeader("Docker-Content-Digest: " + digest));
  CHECK(res->body.empty());
  auto ranged = client->Get("/v2/empty/blobs/" + digest, {{"Range", "bytes=0-0"}});
  CHECK_OCI_ERROR(ranged, 416, "BLOB_UPLOAD_INVALID");
}

TEST_CASE("Blobs larger than one I/O chunk stream intact", "[integration][blob]") {
  TestServer server;
  auto client = server.Client();
  std::string bytes(3 * 128 * 1024 + 17, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 + i / 7);
  const std::string digest = PushBlob(*client, "big", bytes);
  auto res = client->Get("/v2/big/blobs/" + digest);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.size() == bytes.size());
  CHECK(Sha256(res->body) == digest);
  auto tail = client->Get("/v2/big/blobs/" + digest, {{"Range", "bytes=200000-"}});
  REQUIRE(tail);
  CHECK(tail->status == 206);
  CHECK(tail->body == bytes.substr(200000));
}

namespace {

// Bytes that differ at every offset within a pull's pieces, so a piece sent twice or skipped shows.
std::string PatternBlob(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  return bytes;
}

}  // namespace

TEST_CASE("Blob pulls of several pieces are byte-exact, whole and ranged, in parallel",
          "[integration][blob]") {
  TestServer server;
  auto client = server.Client();
  // Pieces are 1 MiB, and a plain pull maps the file in windows of 8 MiB (mapped_file.h):
  // ranges that start and end inside pieces and windows, and across several.
  const std::string bytes = PatternBlob(17 * 1024 * 1024 + 123);
  const std::string digest = PushBlob(*client, "many/pieces", bytes);
  const std::string path = "/v2/many/pieces/blobs/" + digest;
  struct Case {
    std::string range;
    size_t first;
    size_t length;
  };
  const size_t size = bytes.size();
  const std::vector<Case> cases = {
      {"", 0, size},
      {"bytes=1048570-3145730", 1048570, 3145730 - 1048570 + 1},
      {"bytes=-1000001", size - 1000001, 1000001},
      {"bytes=4194304-", 4194304, size - 4194304},
      {"bytes=17-17", 17, 1},
      {"bytes=8388607-8388608", 8388607, 2},
      {"bytes=8388000-16777300", 8388000, 16777300 - 8388000 + 1},
      {"bytes=16777216-", 16777216, size - 16777216},
  };
  auto pull = [&](httplib::Client& c, const Case& one) {
    INFO(one.range);
    httplib::Headers headers;
    if (!one.range.empty()) headers.emplace("Range", one.range);
    auto res = c.Get(path, headers);
    REQUIRE(res);
    CHECK(res->status == (one.range.empty() ? 200 : 206));
    CHECK(res->get_header_value("Content-Length") == std::to_string(one.length));
    CHECK(res->body == bytes.substr(one.first, one.length));
  };
  for (const Case& one : cases) pull(*client, one);

  // Several connections at once, each pulling every case on one keep-alive connection.
  std::vector<std::thread> pullers;
  std::vector<std::string> failures(4);
  for (size_t t = 0; t < failures.size(); ++t) {
    pullers.emplace_back([&, t] {
      auto own = server.Client();
      for (const Case& one : cases) {
        httplib::Headers headers;
        if (!one.range.empty()) headers.emplace("Range", one.range);
        auto res = own->Get(path, headers);
        if (!res || res->body != bytes.substr(one.first, one.length)) {
          failures[t] += one.range + "; ";
        }
      }
    });
  }
  for (std::thread& puller : pullers) puller.join();
  for (const std::string& failure : failures) CHECK(failure.empty());
}

// [fs-root]: it cuts the blob's file short in the storage root, so it runs on the file system only
// (integration-s3 leaves it out).
TEST_CASE("A blob file cut short during a pull ends the connection before the full length",
          "[integration][blob][fs-root]") {
  TestServer server;
  auto client = server.Client();
  // Larger than the loopback socket buffers can hold, so the server is still sending when the
  // file shrinks.
  const std::string bytes = PatternBlob(40 * 1024 * 1024);
  const std::string digest = PushBlob(*client, "cut/short", bytes);
  const std::filesystem::path file =
      server.dir() / "data" / "_blobs" / "sha256" / digest.substr(digest.find(':') + 1);
  REQUIRE(std::filesystem::exists(file));
  size_t received = 0;
  bool truncated = false;
  auto res = client->Get("/v2/cut/short/blobs/" + digest, [&](const char*, size_t n) {
    if (!truncated) std::filesystem::resize_file(file, 1024 * 1024);
    truncated = true;
    received += n;
    return true;
  });
  // The client sees the connection end early instead of a blob that passes for whole.
  CHECK_FALSE(res);
  CHECK(truncated);
  CHECK(received < bytes.size());
  // The server goes on: the pages past the new end were read by send() (EFAULT), never by the
  // server itself (SIGBUS would have ended this process, which runs it).
  auto after = server.Client()->Get("/v2/");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("Blob DELETE is 202, then 404", "[integration][blob]") {
  TestServer server;
  auto client = server.Client();
  const std::string digest = PushBlob(*client, "d", "to delete");
  auto res = client->Delete("/v2/d/blobs/" + digest);
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK_OCI_ERROR(client->Get("/v2/d/blobs/" + digest), 404, "BLOB_UNKNOWN");
  CHECK_OCI_ERROR(client->Delete("/v2/d/blobs/" + digest), 404, "BLOB_UNKNOWN");
  CHECK_OCI_ERROR(client->Delete("/v2/d/blobs/sha256:zz"), 400, "DIGEST_INVALID");
}

TEST_CASE("With allow_delete off, deletions are 405 UNSUPPORTED", "[integration][blob]") {
  TestServer server(
      [](ocireg::Config& config, ocireg::ServerHooks&) { config.features.allow_delete = false; });
  auto client = server.Client();
  const std::string digest = ocireg::testing::PushImage(*client, "keep", "v1");
  const std::string layer = Sha256("layer-bytes");
  CHECK_OCI_ERROR(client->Delete("/v2/keep/blobs/" + layer), 405, "UNSUPPORTED");
  CHECK_OCI_ERROR(client->Delete("/v2/keep/manifests/v1"), 405, "UNSUPPORTED");
  CHECK_OCI_ERROR(client->Delete("/v2/keep/manifests/" + digest), 405, "UNSUPPORTED");
  auto still = client->Get("/v2/keep/blobs/" + layer);
  REQUIRE(still);
  CHECK(still->status == 200);
  // Cancelling an upload is not a deletion of content.
  auto post = client->Post("/v2/keep/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(post);
  auto cancel = client->Delete(post->get_header_value("Location"));
  REQUIRE(cancel);
  CHECK(cancel->status == 204);
}

TEST_CASE("Mount with from links the blob without an upload", "[integration][blob][mount]") {
  TestServer server;
  auto client = server.Client();
  const std::string digest = PushBlob(*client, "source", "shared layer");

  auto res = client->Post("/v2/target/blobs/uploads/?mount=" + digest + "&from=source", "",
                          "application/octet-stream");
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->get_header_value("Location") == "/v2/target/blobs/" + digest);
  CHECK(res->get_header_value("Docker-Content-Digest") == digest);
  auto get = client->Get("/v2/target/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->body == "shared layer");

  SECTION("a source without the blob falls back to an upload session") {
    const std::string missing = Sha256("never pushed");
    auto fallback = client->Post("/v2/target/blobs/uploads/?mount=" + missing + "&from=source", "",
                                 "application/octet-stream");
    REQUIRE(fallback);
    CHECK(fallback->status == 202);
    CHECK(fallback->get_header_value("Location").rfind("/v2/target/blobs/uploads/", 0) == 0);
    CHECK_FALSE(fallback->get_header_value("Docker-Upload-UUID").empty());
  }
  SECTION("a bad mount digest is 400 DIGEST_INVALID") {
    CHECK_OCI_ERROR(client->Post("/v2/target/blobs/uploads/?mount=sha256:12&from=source", "",
                                 "application/octet-stream"),
                    400, "DIGEST_INVALID");
  }
}

TEST_CASE("Mount without from finds a readable repository", "[integration][blob][mount]") {
  SECTION("auto_mount on") {
    TestServer server([](ocireg::Config&, ocireg::ServerHooks& hooks) {
      // The hook decides which repositories count as readable.
      hooks.authorize = [](const ocireg::Caller&, std::string_view repo, ocireg::Action a) {
        if (repo == "secret" && a == ocireg::Action::kRead) {
          return ocireg::Status(ocireg::ErrorCode::kDenied, "no");
        }
        return ocireg::Status::Ok();
      };
    });
    auto client = server.Client();
    const std::string digest = PushBlob(*client, "public/base", "auto layer");
    auto res =
        client->Post("/v2/mine/blobs/uploads/?mount=" + digest, "", "application/octet-stream");
    REQUIRE(res);
    CHECK(res->status == 201);
    CHECK(res->get_header_value("Location") == "/v2/mine/blobs/" + digest);

    const std::string hidden = PushBlob(*client, "secret", "secret layer");
    auto refused =
        client->Post("/v2/mine/blobs/uploads/?mount=" + hidden, "", "application/octet-stream");
    REQUIRE(refused);
    CHECK(refused->status == 202);  // not readable: no mount, a plain session
    CHECK_OCI_ERROR(client->Get("/v2/mine/blobs/" + hidden), 404, "BLOB_UNKNOWN");
  }
  SECTION("auto_mount off") {
    TestServer server(
        [](ocireg::Config& config, ocireg::ServerHooks&) { config.features.auto_mount = false; });
    auto client = server.Client();
    const std::string digest = PushBlob(*client, "public/base", "auto layer");
    auto res =
        client->Post("/v2/mine/blobs/uploads/?mount=" + digest, "", "application/octet-stream");
    REQUIRE(res);
    CHECK(res->status == 202);
    CHECK_OCI_ERROR(client->Get("/v2/mine/blobs/" + digest), 404, "BLOB_UNKNOWN");
  }
}
