// SPDX-License-Identifier: Apache-2.0
// UpstreamClient against small httplib upstreams that misbehave: 429 with Retry-After, slow
// answers beyond the concurrency limit, a body that stalls, cancellation, an oversized manifest,
// a redirect to another host (whose own 401 or 429 is not the upstream's), and no upstream at all;
// and tag lists in Link pages, which distribution 2.8 does not send. Every wait is bounded.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "loopback.h"
#include "mirror/upstream_auth.h"
#include "mirror/upstream_client.h"
#include "ocireg/manifest.h"
#include "status_macros.h"

namespace ocireg::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* kDigest =
    "sha256:0123456789012345678901234567890123456789012345678901234567890123";

// An httplib server on 127.0.0.1 running `handler` for every GET and HEAD, counting requests and
// how many were in its handler at once.
class FakeUpstream {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit FakeUpstream(Handler handler) : handler_(std::move(handler)) {
    auto counted = [this](const httplib::Request& request, httplib::Response& response) {
      ++requests_;
      const int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      handler_(request, response);
      --in_flight_;
    };
    server_.Get(".*", counted);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    REQUIRE(server_.is_running());
  }
  ~FakeUpstream() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  // Sleeps up to `limit`, less when the server is being stopped.
  void Nap(milliseconds limit) const {
    const auto end = steady_clock::now() + limit;
    while (!stopping_ && steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(10));
  }

 private:
  Handler handler_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

std::unique_ptr<UpstreamClient> Client(const std::string& url, milliseconds request_timeout,
                                       size_t max_concurrent = 8) {
  auto client = UpstreamClient::Create({.base_url = url,
                                        .username = "mirror",
                                        .password = "pw",
                                        .connect_timeout = milliseconds(2000),
                                        .request_timeout = request_timeout,
                                        .max_concurrent_requests = max_concurrent});
  REQUIRE_OK(client);
  return std::move(*client);
}

// "{}" as a manifest, with its digest.
void ServeManifest(httplib::Response& response) {
  response.set_header("Docker-Content-Digest",
                      Digester::Of(DigestAlgorithm::kSha256, "{}").ToString());
  response.set_content("{}", "application/vnd.oci.image.manifest.v1+json");
}

TEST_CASE("429: Retry-After is kept and calls fail without reaching the upstream",
          "[mirror][failures]") {
  std::atomic<bool> limited{true};
  FakeUpstream upstream([&limited](const httplib::Request&, httplib::Response& response) {
    if (limited) {
      response.status = 429;
      response.set_header("Retry-After", "2");
      return;
    }
    ServeManifest(response);
  });
  auto client = Client(upstream.url(), milliseconds(5000));
  auto first = client->GetManifest("a/b", "v1");
  CHECK_CODE(first.status(), ErrorCode::kTooManyRequests);
  CHECK(upstream.requests() == 1);
  limited = false;
  const auto start = steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    CHECK_CODE(client->HeadManifest("a/b", "v1").status(), ErrorCode::kTooManyRequests);
  }
  CHECK(steady_clock::now() - start < milliseconds(500));
  CHECK(upstream.requests() == 1);  // none of them was sent
  CHECK(client->counters().refused_early == 5);
  std::this_thread::sleep_for(milliseconds(2100));
  REQUIRE_OK(client->GetManifest("a/b", "v1"));
  CHECK(upstream.requests() == 2);
}

TEST_CASE("At most max_concurrent_requests at the upstream; waiters time out",
          "[mirror][failures]") {
  FakeUpstream upstream([&upstream](const httplib::Request&, httplib::Response& response) {
    upstream.Nap(milliseconds(600));
    ServeManifest(response);
  });
  SECTION("N+1 callers: N at once, the last one after a turn") {
    auto client = Client(upstream.url(), milliseconds(5000), 2);
    std::vector<std::thread> callers;
    std::atomic<int> succeeded{0};
    for (int i = 0; i < 3; ++i) {
      callers.emplace_back([&] {
        if (client->HeadManifest("a/b", "v1").ok()) ++succeeded;
      });
    }
    for (std::thread& caller : callers) caller.join();
    CHECK(succeeded == 3);
    CHECK(upstream.requests() == 3);
    CHECK(upstream.max_in_flight() == 2);
  }
  SECTION("a caller that cannot get a turn within the request timeout fails") {
    // One at a time, 600 ms each: the third waits about 1.2 s for its turn, past the 1 s bound.
    auto client = Client(upstream.url(), milliseconds(1000), 1);
    std::vector<std::thread> callers;
    std::atomic<int> unavailable{0};
    for (int i = 0; i < 3; ++i) {
      callers.emplace_back([&] {
        if (client->HeadManifest("a/b", "v1").status().Is(ErrorCode::kUnavailable)) {
          ++unavailable;
        }
      });
    }
    for (std::thread& caller : callers) caller.join();
    CHECK(unavailable >= 1);
    CHECK(upstream.max_in_flight() == 1);
  }
}

TEST_CASE("A body that stalls ends with the request timeout, or at once when cancelled",
          "[mirror][failures]") {
  FakeUpstream upstream([&upstream](const httplib::Request&, httplib::Response& response) {
    response.set_content_provider(1 << 20, "application/octet-stream",
                                  [&upstream](size_t offset, size_t, httplib::DataSink& sink) {
                                    if (offset == 0)
                                      return sink.write(std::string(1000, 'x').data(), 1000);
                                    upstream.Nap(milliseconds(8000));  // then stops answering
                                    return false;
                                  });
  });
  std::string received;
  UpstreamBlobRequest request{.on_data = [&received](std::string_view piece) {
    received.append(piece);
    return true;
  }};
  SECTION("request timeout") {
    auto client = Client(upstream.url(), milliseconds(1000));
    const auto start = steady_clock::now();
    CHECK_CODE(client->GetBlob("a/b", kDigest, request), ErrorCode::kUnavailable);
    CHECK(steady_clock::now() - start < milliseconds(4000));
    CHECK(received.size() == 1000);
  }
  SECTION("cancel flag") {
    auto client = Client(upstream.url(), milliseconds(30000));
    std::atomic<bool> cancel{false};
    request.cancel = &cancel;
    std::thread canceller([&cancel] {
      std::this_thread::sleep_for(milliseconds(300));
      cancel = true;
    });
    const auto start = steady_clock::now();
    CHECK_CODE(client->GetBlob("a/b", kDigest, request), ErrorCode::kUnavailable);
    canceller.join();
    CHECK(steady_clock::now() - start < milliseconds(3000));
  }
}

TEST_CASE("No upstream listening: unavailable, quickly", "[mirror][failures]") {
  const uint16_t port = testing::FreeLoopbackPort();
  auto client = Client("http://127.0.0.1:" + std::to_string(port), milliseconds(5000));
  const auto start = steady_clock::now();
  CHECK_CODE(client->Ping(), ErrorCode::kUnavailable);
  CHECK_CODE(client->GetManifest("a/b", "v1").status(), ErrorCode::kUnavailable);
  CHECK(steady_clock::now() - start < milliseconds(2000));
}

TEST_CASE("Oversized manifests and 5xx", "[mirror][failures]") {
  FakeUpstream upstream([](const httplib::Request& request, httplib::Response& response) {
    if (request.path.find("/big/") != std::string::npos) {
      response.set_content(std::string(kDefaultMaxManifestBytes + 1, ' '),
                           "application/vnd.oci.image.manifest.v1+json");
      return;
    }
    response.status = 503;
  });
  auto client = Client(upstream.url(), milliseconds(5000));
  CHECK_CODE(client->GetManifest("a/big/c", "v1").status(), ErrorCode::kManifestTooLarge);
  CHECK_CODE(client->GetManifest("a/b", "v1").status(), ErrorCode::kUnavailable);
  CHECK_CODE(client->ListTags("a/b").status(), ErrorCode::kUnavailable);
}

TEST_CASE("Redirects: followed, without credentials to another host", "[mirror][failures]") {
  std::atomic<bool> storage_saw_authorization{false};
  FakeUpstream storage(
      [&storage_saw_authorization](const httplib::Request& request, httplib::Response& response) {
        if (request.has_header("Authorization")) storage_saw_authorization = true;
        response.set_content("blob bytes", "application/octet-stream");
      });
  const std::string basic = BasicAuthorization("mirror", "pw");
  FakeUpstream registry([&](const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("Authorization") != basic) {
      response.status = 401;
      response.set_header("WWW-Authenticate", "Basic realm=\"r\"");
      return;
    }
    response.status = 307;
    response.set_header("Location", storage.url() + "/data?sig=1");
  });
  auto client = Client(registry.url(), milliseconds(5000));
  std::string received;
  REQUIRE_OK(client->GetBlob("a/b", kDigest, {.on_data = [&received](std::string_view piece) {
                               received.append(piece);
                               return true;
                             }}));
  CHECK(received == "blob bytes");
  CHECK(registry.requests() == 2);  // anonymous, then Basic
  CHECK(storage.requests() == 1);
  CHECK_FALSE(storage_saw_authorization);
}

TEST_CASE("A host the upstream redirects to gets no credentials from its 401, nor pauses it",
          "[mirror][failures]") {
  FakeUpstream realm([](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"token":"stolen"})", "application/json");
  });
  std::atomic<int> storage_status{401};
  FakeUpstream storage([&](const httplib::Request&, httplib::Response& response) {
    response.status = storage_status.load();
    if (response.status == 401) {
      response.set_header("WWW-Authenticate", "Bearer realm=\"" + realm.url() + "/token\"");
    } else {
      response.set_header("Retry-After", "3600");
    }
  });
  FakeUpstream registry([&](const httplib::Request& request, httplib::Response& response) {
    if (request.path.find("/blobs/") != std::string::npos) {
      response.status = 307;
      response.set_header("Location", storage.url() + "/data?sig=1");
      return;
    }
    ServeManifest(response);
  });
  auto client = Client(registry.url(), milliseconds(5000));
  auto pull = [&] {
    return client->GetBlob("a/b", kDigest, {.on_data = [](std::string_view) { return true; }});
  };
  SECTION("a 401 with a Bearer realm: no token request, the pull fails") {
    CHECK_FALSE(pull().ok());
    CHECK(realm.requests() == 0);
    CHECK(storage.requests() == 1);
  }
  SECTION("a 429 with Retry-After: the pull fails, the upstream still answers") {
    storage_status = 429;
    CHECK_FALSE(pull().ok());
    CHECK_OK(client->HeadManifest("a/b", "latest"));
    CHECK(registry.requests() == 2);
  }
}

TEST_CASE("A manifest's Docker-Content-Digest must be a digest and name its bytes",
          "[mirror][failures]") {
  const std::string real = Digester::Of(DigestAlgorithm::kSha256, "{}").ToString();
  struct Case {
    std::string header;  // empty: none sent
    bool get_ok;
    bool head_ok;
  };
  // Other bytes' digest is refused on GET (a HEAD has no bytes to compare); a header that is not
  // a digest on both; without a header the bytes' own digest is taken.
  const Case one = GENERATE_COPY(Case{kDigest, false, true}, Case{"sha256:../../etc", false, false},
                                 Case{"", true, true}, Case{real, true, true});
  INFO("Docker-Content-Digest: " << one.header);
  FakeUpstream registry([&one](const httplib::Request&, httplib::Response& response) {
    if (!one.header.empty()) response.set_header("Docker-Content-Digest", one.header);
    response.set_content("{}", "application/vnd.oci.image.manifest.v1+json");
  });
  auto client = Client(registry.url(), milliseconds(5000));
  auto got = client->GetManifest("a/b", "v1");
  CHECK(got.ok() == one.get_ok);
  if (got.ok()) {
    CHECK(got->digest == real);
  } else {
    CHECK_CODE(got.status(), ErrorCode::kManifestInvalid);
  }
  CHECK(client->HeadManifest("a/b", "v1").ok() == one.head_ok);
}

TEST_CASE("A 206 that starts elsewhere than the offset asked for is refused",
          "[mirror][failures]") {
  // Whatever the Range asked, this upstream answers the blob's first bytes as a range.
  FakeUpstream registry([](const httplib::Request&, httplib::Response& response) {
    response.status = 206;
    response.set_header("Content-Range", "bytes 0-9/10");
    response.set_content("0123456789", "application/octet-stream");
  });
  auto client = Client(registry.url(), milliseconds(5000));
  std::string received;
  UpstreamBlobRequest request{.offset = 5, .on_data = [&received](std::string_view piece) {
                                received.append(piece);
                                return true;
                              }};
  CHECK_FALSE(client->GetBlob("a/b", kDigest, request).ok());
  CHECK(received.empty());
}

TEST_CASE("Tag lists follow Link pages, within bounds", "[mirror][failures]") {
  const std::vector<std::string> all = {"a", "b", "c", "d", "e"};
  std::atomic<bool> loop{false};
  FakeUpstream upstream([&](const httplib::Request& request, httplib::Response& response) {
    const size_t n = request.has_param("n") ? std::stoul(request.get_param_value("n")) : 100;
    const std::string last = request.get_param_value("last");
    std::string body = R"({"name":"x/y","tags":[)";
    size_t count = 0;
    std::string page_last;
    for (const std::string& tag : all) {
      if (tag <= last || count == n) continue;
      body += (count++ == 0 ? "\"" : ",\"") + tag + "\"";
      page_last = tag;
    }
    body += "]}";
    if (loop) {
      response.set_header("Link", "<" + request.path + "?n=2&last=a>; rel=\"next\"");
    } else if (page_last != all.back()) {
      response.set_header("Link", "</v2/x/y/tags/list?n=" + std::to_string(n) +
                                      "&last=" + page_last + ">; rel=\"next\"");
    }
    response.set_content(body, "application/json");
  });
  auto client = Client(upstream.url(), milliseconds(5000));
  auto paged = client->ListTags("x/y", 2);
  REQUIRE_OK(paged);
  CHECK(*paged == all);
  CHECK(upstream.requests() == 3);  // a b, c d, e

  // An upstream whose next page is the page itself is refused, not followed for ever (other
  // cycles end at kMaxTagPages).
  loop = true;
  const int before = upstream.requests();
  CHECK_CODE(client->ListTags("x/y", 2).status(), ErrorCode::kUnavailable);
  CHECK(upstream.requests() - before == 2);
}

}  // namespace
}  // namespace ocireg::internal
