// SPDX-License-Identifier: Apache-2.0
// Upload sessions under stress: a chunk that fails part-way is taken back, idle sessions hold no
// descriptor, and the number of open sessions is bounded per client and in all.
#include <dirent.h>

#include <string>
#include <vector>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "test_server.h"
#include "upload_steps.h"

using ocireg::testing::kOctet;
using ocireg::testing::PatchChunk;
using ocireg::testing::RawConnection;
using ocireg::testing::RawResponse;
using ocireg::testing::Sha256;
using ocireg::testing::StartSession;
using ocireg::testing::TestServer;

namespace {

// The session's Range as a status GET reports it.
std::string RangeOf(httplib::Client& client, const std::string& location) {
  auto res = client.Get(location);
  REQUIRE(res);
  REQUIRE(res->status == 204);
  return res->get_header_value("Range");
}

// Closes the upload with the rest of the blob and checks that the blob reads back whole.
void FinishAndCheck(httplib::Client& client, const std::string& location, const std::string& blob,
                    size_t offset, const std::string& repo) {
  auto rest = PatchChunk(client, location, blob.substr(offset), offset);
  REQUIRE(rest);
  CHECK(rest->status == 202);
  const std::string digest = Sha256(blob);
  auto put = client.Put(location + "?digest=" + digest, "", kOctet);
  REQUIRE(put);
  CHECK(put->status == 201);
  auto get = client.Get("/v2/" + repo + "/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == blob);
}

// Descriptors open in this process, which also runs the server.
size_t OpenDescriptors() {
  size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace

TEST_CASE("A PATCH whose body ends early leaves the session where it was",
          "[integration][upload][session]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.read_timeout = std::chrono::seconds(1);
  });
  auto client = server.Client();
  const std::string blob = std::string(100, 'a') + std::string(200, 'b');
  const std::string location = StartSession(*client, "cut");
  auto first = PatchChunk(*client, location, blob.substr(0, 100), 0);
  REQUIRE(first);
  REQUIRE(first->status == 202);
  REQUIRE(RangeOf(*client, location) == "0-99");

  // Content-Length announces 2 MiB; 600 KiB come (more than the server buffers before it
  // writes), then the client closes or goes quiet.
  const size_t announced = 2 << 20;
  const std::string head = "PATCH " + location +
                           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                           "Content-Range: 100-" +
                           std::to_string(100 + announced - 1) +
                           "\r\nContent-Length: " + std::to_string(announced) + "\r\n\r\n";
  const bool closes = GENERATE(true, false);
  INFO((closes ? "the client closes" : "the read times out"));
  {
    RawConnection raw(server.port());
    REQUIRE(raw.Send(head + std::string(600 << 10, 'x')));
    if (closes) raw.FinishSending();
    auto res = raw.ReadResponse();  // after the server's 1 s read timeout when quiet
    if (res) CHECK(res->status == 400);
  }
  // Nothing of the failed chunk counts: the Range is unchanged.
  CHECK(RangeOf(*client, location) == "0-99");
  // The client resumes from the old offset and the blob has the right digest.
  FinishAndCheck(*client, location, blob, 100, "cut");
}

TEST_CASE("Idle upload sessions hold no descriptor and still resume",
          "[integration][upload][session]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.max_uploads = 1000;
    config.limits.max_uploads_per_client = 1000;
  });
  auto client = server.Client();
  // One session first, so that every lazily opened descriptor (helper thread, connection) exists.
  const std::string blob = "resumed after idling";
  const std::string resumed = StartSession(*client, "idle");
  auto chunk = PatchChunk(*client, resumed, blob.substr(0, 7), 0);
  REQUIRE(chunk);
  REQUIRE(chunk->status == 202);
  const size_t before = OpenDescriptors();

  std::vector<std::string> sessions;
  for (int i = 0; i < 200; ++i) sessions.push_back(StartSession(*client, "idle"));
  for (size_t i = 0; i < 20; ++i) {
    auto patched = PatchChunk(*client, sessions[i], "chunk", 0);
    REQUIRE(patched);
    REQUIRE(patched->status == 202);
  }
  const size_t after = OpenDescriptors();
  INFO("descriptors before " << before << ", after 200 sessions " << after);
  CHECK(after <= before + 4);

  // Sessions idle in between still resume where they were.
  CHECK(RangeOf(*client, resumed) == "0-6");
  FinishAndCheck(*client, resumed, blob, 7, "idle");
  CHECK(RangeOf(*client, sessions[3]) == "0-4");
  FinishAndCheck(*client, sessions[3], "chunk and the rest", 5, "idle");
}

TEST_CASE("Open upload sessions are bounded per client and in all",
          "[integration][upload][session]") {
  SECTION("per client") {
    TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
      config.limits.max_uploads = 100;
      config.limits.max_uploads_per_client = 5;
    });
    auto client = server.Client();
    std::vector<std::string> sessions;
    for (int i = 0; i < 5; ++i) sessions.push_back(StartSession(*client, "quota"));
    auto refused = client->Post("/v2/quota/blobs/uploads/", "", kOctet);
    CHECK_OCI_ERROR(refused, 429, "TOOMANYREQUESTS");
    CHECK(refused->body.find("max_uploads_per_client") != std::string::npos);
    // A monolithic push needs a session too.
    CHECK_OCI_ERROR(client->Post("/v2/quota/blobs/uploads/?digest=" + Sha256("x"), "x", kOctet),
                    429, "TOOMANYREQUESTS");

    // A session that ends (committed or cancelled) frees its place.
    FinishAndCheck(*client, sessions[0], "first", 0, "quota");
    auto cancelled = client->Delete(sessions[1]);
    REQUIRE(cancelled);
    CHECK(cancelled->status == 204);
    sessions.push_back(StartSession(*client, "quota"));
    sessions.push_back(StartSession(*client, "quota"));
    CHECK_OCI_ERROR(client->Post("/v2/quota/blobs/uploads/", "", kOctet), 429, "TOOMANYREQUESTS");
    // Sessions that exist keep working at the limit.
    FinishAndCheck(*client, sessions[2], "third", 0, "quota");
  }
  SECTION("in all") {
    TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
      config.limits.max_uploads = 3;
      config.limits.max_uploads_per_client = 0;
    });
    auto client = server.Client();
    for (int i = 0; i < 3; ++i) StartSession(*client, "all");
    auto refused = client->Post("/v2/all/blobs/uploads/", "", kOctet);
    CHECK_OCI_ERROR(refused, 429, "TOOMANYREQUESTS");
    CHECK(refused->body.find("max_uploads") != std::string::npos);
  }
}
