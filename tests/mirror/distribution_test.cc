// SPDX-License-Identifier: Apache-2.0
// UpstreamClient against a real CNCF distribution (docker-registry 2.8) with htpasswd auth: an
// image pushed over HTTP, then manifests by tag and digest, a blob streamed in pieces and from an
// offset, tags, 404s, the referrers API it lacks, and refused credentials.
#include "distribution.h"

#include <algorithm>
#include <string>
#include <vector>

#include "catch.h"
#include "mirror/upstream_auth.h"
#include "mirror/upstream_client.h"
#include "status_macros.h"

namespace ocireg::internal {
namespace {

using testing::Distribution;
using testing::PushImage;

std::unique_ptr<UpstreamClient> Client(const std::string& url, std::string user = "",
                                       std::string password = "") {
  auto client = UpstreamClient::Create({.base_url = url,
                                        .username = std::move(user),
                                        .password = std::move(password),
                                        .request_timeout = std::chrono::seconds(10)});
  REQUIRE_OK(client);
  return std::move(*client);
}

TEST_CASE("UpstreamClient pulls from distribution with htpasswd auth", "[mirror]") {
  Distribution registry(Distribution::Htpasswd("alice", "s3cret"));
  const std::string basic = BasicAuthorization("alice", "s3cret");
  const auto image = PushImage(registry.port(), basic, "library/small", "v1");
  for (const char* tag : {"v2", "v3", "v4", "v5"}) {
    PushImage(registry.port(), basic, "library/small", tag, 1000);
  }
  auto client = Client(registry.url(), "alice", "s3cret");
  INFO(registry.log());

  SECTION("ping") { CHECK_OK(client->Ping()); }

  SECTION("manifests by tag and by digest, HEAD and GET") {
    auto head = client->HeadManifest("library/small", "v1");
    REQUIRE_OK(head);
    CHECK(head->status == 200);
    CHECK(head->digest == image.manifest_digest);
    CHECK(head->content_type == "application/vnd.oci.image.manifest.v1+json");
    CHECK(head->content_length == image.manifest.size());
    CHECK(head->bytes.empty());
    auto by_tag = client->GetManifest("library/small", "v1");
    REQUIRE_OK(by_tag);
    CHECK(by_tag->bytes == image.manifest);
    CHECK(by_tag->digest == image.manifest_digest);
    auto by_digest = client->GetManifest("library/small", image.manifest_digest);
    REQUIRE_OK(by_digest);
    CHECK(by_digest->bytes == image.manifest);
    // The first request went anonymously and met a Basic challenge; later ones send Basic from
    // the start: one request each.
    const uint64_t before = client->counters().requests;
    REQUIRE_OK(client->HeadManifest("library/small", "v1"));
    CHECK(client->counters().requests == before + 1);
  }

  SECTION("a blob streamed in pieces, whole and from an offset") {
    std::string received;
    std::optional<uint64_t> total;
    int pieces = 0;
    UpstreamBlobRequest request{.on_start =
                                    [&total](std::optional<uint64_t> size) {
                                      total = size;
                                      return true;
                                    },
                                .on_data =
                                    [&](std::string_view piece) {
                                      received.append(piece);
                                      ++pieces;
                                      return true;
                                    }};
    REQUIRE_OK(client->GetBlob("library/small", image.layer_ref.digest.ToString(), request));
    CHECK(received == image.layer);
    CHECK(total == image.layer.size());
    CHECK(pieces > 1);

    received.clear();
    total.reset();
    request.offset = 123457;
    REQUIRE_OK(client->GetBlob("library/small", image.layer_ref.digest.ToString(), request));
    CHECK(received == image.layer.substr(123457));
    CHECK(total == image.layer.size());

    // The receiver may stop the transfer.
    request.offset = 0;
    request.on_data = [](std::string_view) { return false; };
    CHECK_CODE(client->GetBlob("library/small", image.layer_ref.digest.ToString(), request),
               ErrorCode::kUnavailable);
  }

  SECTION("tags") {
    // distribution 2.8 neither sorts the tag list nor pages it (n is ignored): the Link pages
    // are tested against an upstream of the tests' own (failures_test.cc).
    auto all = client->ListTags("library/small");
    REQUIRE_OK(all);
    std::sort(all->begin(), all->end());
    CHECK(*all == std::vector<std::string>{"v1", "v2", "v3", "v4", "v5"});
    auto paged = client->ListTags("library/small", 2);
    REQUIRE_OK(paged);
    std::sort(paged->begin(), paged->end());
    CHECK(*paged == *all);
  }

  SECTION("what is not there") {
    CHECK_CODE(client->GetManifest("library/small", "nope").status(), ErrorCode::kManifestUnknown);
    CHECK_CODE(client->HeadManifest("library/small", "nope").status(), ErrorCode::kManifestUnknown);
    const std::string missing =
        "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    UpstreamBlobRequest request{.on_data = [](std::string_view) { return true; }};
    CHECK_CODE(client->GetBlob("library/small", missing, request), ErrorCode::kBlobUnknown);
    CHECK_CODE(client->ListTags("library/none").status(), ErrorCode::kNameUnknown);
    // distribution 2.8 has no referrers API: "not supported", not "not found".
    CHECK_CODE(client->GetReferrers("library/small", image.manifest_digest).status(),
               ErrorCode::kUnsupported);
    // Names the client must not put in a URL.
    CHECK_FALSE(client->GetManifest("../x", "v1").ok());
    CHECK_FALSE(client->GetManifest("library/small", "a/../b").ok());
  }

  SECTION("wrong password: denied; no credentials: unauthorized") {
    auto wrong = Client(registry.url(), "alice", "wrong-password");
    auto denied = wrong->GetManifest("library/small", "v1");
    CHECK_CODE(denied.status(), ErrorCode::kDenied);
    CHECK(denied.status().message().find("wrong-password") == std::string::npos);
    auto anonymous = Client(registry.url());
    CHECK_CODE(anonymous->GetManifest("library/small", "v1").status(), ErrorCode::kUnauthorized);
    CHECK_CODE(anonymous->Ping(), ErrorCode::kUnauthorized);
  }
}

TEST_CASE("UpstreamClient checks its options", "[mirror]") {
  for (const char* url : {"", "ftp://x", "http://", "http://u:p@host", "http://host/path",
                          "http://host?q", "https://host:5000/v2"}) {
    INFO(url);
    CHECK_CODE(UpstreamClient::Create({.base_url = url}).status(), ErrorCode::kInvalidArgument);
  }
  CHECK_CODE(
      UpstreamClient::Create({.base_url = "http://127.0.0.1:1", .max_concurrent_requests = 0})
          .status(),
      ErrorCode::kInvalidArgument);
  REQUIRE_OK(UpstreamClient::Create({.base_url = "https://registry.example:5000/"}));
}

}  // namespace
}  // namespace ocireg::internal
