// SPDX-License-Identifier: Apache-2.0
// ocireg-serve on S3 when the gateway fails: wrong credentials, a missing bucket or no gateway at
// startup; radosgw restarted in the middle of a push; a gateway that hangs; a bucket that
// vanishes under a running server. The server must say what is wrong, never show half a blob,
// and work again once the gateway does.
//
// These tests restart, stop and continue the shared radosgw, so they run with no other S3 test
// beside them (tests/s3/meson.build).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "raw_http.h"
#include "rgw.h"
#include "serve_process.h"
#include "serve_s3.h"
#include "temp_dir.h"
#include "test_server.h"
#include "upload_steps.h"

namespace ocireg {
namespace {

using testing::S3Gateway;
using testing::ServeProcess;

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    const uint64_t word = random();
    std::memcpy(bytes.data() + i, &word, 8);
  }
  return bytes;
}

// A TCP port on 127.0.0.1 where nothing listens (bound for a moment, then closed).
uint16_t ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

// The digest of blob `digest` of `repo` as the server sends it back; "" when it does not.
std::string PulledDigest(httplib::Client& client, const std::string& repo,
                         const std::string& digest) {
  auto res = client.Get("/v2/" + repo + "/blobs/" + digest);
  if (!res || res->status != 200) return "";
  return testing::Sha256(res->body);
}

int HeadBlob(httplib::Client& client, const std::string& repo, const std::string& digest) {
  auto res = client.Head("/v2/" + repo + "/blobs/" + digest);
  return res ? res->status : 0;
}

// Keeps radosgw stopped (SIGSTOP) for its lifetime, so that a failing check cannot leave it so.
class PausedGateway {
 public:
  PausedGateway() { S3Gateway::Shared().PauseGateway(); }
  ~PausedGateway() { S3Gateway::Shared().ResumeGateway(); }
  PausedGateway(const PausedGateway&) = delete;
  PausedGateway& operator=(const PausedGateway&) = delete;
};

struct StartupCase {
  std::string what;
  S3Options s3;
  std::string says;  // in the server's message
};

TEST_CASE("ocireg-serve on S3 refuses to start, saying why, without a usable bucket", "[s3]") {
  const S3Options good = testing::FreshS3Options();
  S3Options wrong_secret = good;
  wrong_secret.credentials.secret_access_key = "not-the-secret";
  S3Options missing_bucket = good;
  missing_bucket.bucket = "ocireg-test-no-such-bucket";
  S3Options no_gateway = good;
  no_gateway.endpoint = "http://127.0.0.1:" + std::to_string(ClosedPort());
  const std::vector<StartupCase> cases = {
      {"wrong credentials", wrong_secret, "access denied (a wrong access key or secret"},
      {"a missing bucket", missing_bucket, "no such bucket"},
      {"no gateway", no_gateway, "no answer: "},
  };
  for (const StartupCase& c : cases) {
    INFO(c.what);
    testing::TempDir dir;
    const std::string config = testing::S3ServeConfig(c.s3, "max_retry_time = \"1s\"\n");
    ServeProcess serve(dir.path(), config);
    const std::optional<int> code = serve.WaitForExit(std::chrono::minutes(1));
    INFO(serve.log());
    CHECK(code == 1);
    CHECK(serve.log().find("storage.s3: s3://" + c.s3.bucket) != std::string::npos);
    CHECK(serve.log().find(c.says) != std::string::npos);

    const std::filesystem::path check_log = dir.path() / "check.log";
    CHECK(testing::RunStatus(
              {OCIREG_SERVE, "--check-config", (dir.path() / "ocireg.toml").string()}, check_log) !=
          0);
    INFO(testing::ReadTextFile(check_log));
    CHECK(testing::ReadTextFile(check_log).find(c.says) != std::string::npos);
  }
}

TEST_CASE("a push across a radosgw restart completes or fails whole, and the next one works",
          "[s3]") {
  testing::TempDir dir;
  ServeProcess serve(dir.path(), testing::S3ServeConfig(testing::FreshS3Options()));
  const uint16_t port = testing::ListeningPort(serve);
  auto client = testing::ClientOf(port);
  const std::string blob = RandomBytes(40 << 20, 1);
  const std::string digest = testing::Sha256(blob);

  // A monolithic push streamed into multipart parts, radosgw restarted halfway through its body.
  testing::RawConnection push(port);
  REQUIRE(push.Send("POST /v2/restart/app/blobs/uploads/?digest=" + digest +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Length: " +
                    std::to_string(blob.size()) + "\r\n\r\n"));
  const size_t half = blob.size() / 2;
  REQUIRE(push.Send(std::string_view(blob).substr(0, half)));
  S3Gateway::Shared().RestartGateway();
  const bool sent = push.Send(std::string_view(blob).substr(half));
  const std::optional<testing::RawResponse> answer = push.ReadResponse(false, 120000);
  if (answer && answer->status == 201) {
    CHECK(sent);
    CHECK(PulledDigest(*client, "restart/app", digest) == digest);
  } else {
    // Failed: an error the client can read, and no trace of the blob.
    if (answer) {
      INFO(answer->head + answer->body);
      CHECK(answer->status >= 500);
      CHECK(answer->body.find("\"errors\"") != std::string::npos);
    }
    CHECK(HeadBlob(*client, "restart/app", digest) == 404);
  }

  // The gateway is back: the same blob and an image on it push and pull.
  CHECK(testing::PushBlob(*client, "restart/app", blob) == digest);
  CHECK(PulledDigest(*client, "restart/app", digest) == digest);
  const std::string manifest = testing::PushImage(*client, "restart/app", "after");
  auto pulled = client->Get("/v2/restart/app/manifests/after");
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(testing::Sha256(pulled->body) == manifest);
}

TEST_CASE("an upload session goes on after radosgw restarts between its chunks", "[s3]") {
  testing::TempDir dir;
  ServeProcess serve(dir.path(), testing::S3ServeConfig(testing::FreshS3Options()));
  const uint16_t port = testing::ListeningPort(serve);
  auto client = testing::ClientOf(port);
  const std::string first = RandomBytes(6 << 20, 2);
  const std::string second = RandomBytes(3 << 20, 3);
  const std::string digest = testing::Sha256(first + second);

  const std::string location = testing::StartSession(*client, "restart/chunks");
  auto patched = testing::PatchChunk(*client, location, first, 0);
  REQUIRE(patched);
  REQUIRE(patched->status == 202);
  S3Gateway::Shared().RestartGateway();
  patched =
      testing::PatchChunk(*client, patched->get_header_value("Location"), second, first.size());
  REQUIRE(patched);
  INFO(patched->body);
  REQUIRE(patched->status == 202);
  auto done =
      client->Put(patched->get_header_value("Location") + "?digest=" + digest, "", testing::kOctet);
  REQUIRE(done);
  INFO(done->body);
  CHECK(done->status == 201);
  CHECK(PulledDigest(*client, "restart/chunks", digest) == digest);
}

TEST_CASE("when the gateway hangs, requests fail within the S3 timeouts and the server recovers",
          "[s3]") {
  testing::TempDir dir;
  // One retry after a second without a byte: a request on a hung gateway fails in seconds.
  ServeProcess serve(dir.path(),
                     testing::S3ServeConfig(testing::FreshS3Options(),
                                            "connect_timeout = \"1s\"\nidle_timeout = \"1s\"\n"
                                            "max_retries = 1\nmax_retry_time = \"2s\"\n"));
  const uint16_t port = testing::ListeningPort(serve);
  auto client = testing::ClientOf(port);
  const std::string layer = RandomBytes(1 << 20, 4);
  testing::PushImage(*client, "hang/app", "v1", layer);
  const std::string layer_digest = testing::Sha256(layer);
  const std::string later = RandomBytes(1 << 20, 5);

  {
    PausedGateway paused;
    auto blob = client->Get("/v2/hang/app/blobs/" + layer_digest);
    REQUIRE(blob);
    CHECK(blob->status == 503);
    CHECK(blob->body.find("\"code\":\"UNAVAILABLE\"") != std::string::npos);
    auto push = client->Post("/v2/hang/app/blobs/uploads/?digest=" + testing::Sha256(later), later,
                             testing::kOctet);
    REQUIRE(push);
    CHECK(push->status == 503);
  }

  CHECK(PulledDigest(*client, "hang/app", layer_digest) == layer_digest);
  CHECK(HeadBlob(*client, "hang/app", testing::Sha256(later)) == 404);
  CHECK(testing::PushBlob(*client, "hang/app", later) == testing::Sha256(later));
}

TEST_CASE("a server whose bucket vanishes answers with errors, and works once it is back", "[s3]") {
  testing::TempDir dir;
  const testing::S3Bucket bucket = S3Gateway::Shared().NewBucket();
  S3Options s3 = testing::FreshS3Options();
  s3.bucket = bucket.bucket;
  ServeProcess serve(dir.path(), testing::S3ServeConfig(s3, "max_retry_time = \"2s\"\n"));
  const uint16_t port = testing::ListeningPort(serve);
  auto client = testing::ClientOf(port);
  testing::PushImage(*client, "vanish/app", "v1", "layer");

  S3Gateway::Shared().RemoveBucket(bucket.bucket);
  // Not "unknown": the registry cannot know, and a client must not conclude the image is gone. A
  // HEAD's 404 does not tell a missing key from a missing bucket, so the driver asks after the
  // bucket, at most every few seconds: until it does, the blob may still be "unknown".
  int status = 404;
  for (int i = 0; i < 40 && status == 404; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto blob = client->Get("/v2/vanish/app/blobs/" + testing::Sha256("layer"));
    status = blob ? blob->status : 0;
  }
  CHECK(status == 503);
  auto pushed = client->Post("/v2/vanish/app/blobs/uploads/?digest=" + testing::Sha256("later"),
                             "later", testing::kOctet);
  REQUIRE(pushed);
  CHECK(pushed->status == 503);
  auto base = client->Get("/v2/");
  REQUIRE(base);
  CHECK(base->status == 200);
  CHECK_FALSE(serve.WaitForExit(std::chrono::milliseconds(0)).has_value());

  // The operator makes the bucket again: pushes work, into the same repository too.
  REQUIRE(testing::RunStatus(
              S3Gateway::Shared().Curl({"-X", "PUT", bucket.endpoint + "/" + bucket.bucket}),
              dir.path() / "create.log") == 0);
  const std::string again = testing::PushImage(*client, "vanish/app", "v2", "new-layer");
  auto pulled = client->Get("/v2/vanish/app/manifests/v2");
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(testing::Sha256(pulled->body) == again);
  testing::PushImage(*client, "vanish/other", "v1");
}

}  // namespace
}  // namespace ocireg
