// SPDX-License-Identifier: Apache-2.0
// S3Client against a scripted S3 on 127.0.0.1 (httplib): signing on the wire, key encoding,
// retries of transient failures only, timeouts, connection reuse, ranged reads, and the odd
// answers of multipart completion.
#include "storage/s3/s3_client.h"

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "catch.h"
#include "fake_s3.h"
#include "status_macros.h"
#include "storage/s3/sigv4.h"

namespace {

using namespace ocireg::internal::s3;
using ocireg::ErrorCode;
using ocireg::internal::LoadCurlLibrary;  // the shared loader (net/curl_library.h)
using ocireg::testing::FakeS3;
using ocireg::testing::kObject;
using ocireg::testing::MakeClient;
using ocireg::testing::SendError;
using ocireg::testing::ServeObject;

}  // namespace

TEST_CASE("S3Client retries 503 and SlowDown, then succeeds", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request&, httplib::Response& res, int n) {
    if (n == 1) return SendError(res, 503, "ServiceUnavailable");
    if (n == 2) return SendError(res, 503, "SlowDown", "Please reduce your request rate.");
    res.set_content("hello", "text/plain");
  });
  auto client = MakeClient(s3.Options());
  auto body = client->Get("k");
  REQUIRE_OK(body);
  CHECK(*body == "hello");
  CHECK(s3.requests() == 3);
  const S3OperationStats get = client->stats()[S3Operation::kGetObject];
  CHECK(get.requests == 3);
  CHECK(get.retries == 2);
  CHECK(get.errors == 0);
}

TEST_CASE("S3Client retries RequestTimeout but never another 4xx", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request& req, httplib::Response& res, int n) {
    if (req.path == "/bucket/timeout" && n == 1) return SendError(res, 400, "RequestTimeout");
    if (req.path == "/bucket/timeout") return res.set_content("ok", "text/plain");
    SendError(res, 403, "AccessDenied", "Access Denied");
  });
  auto client = MakeClient(s3.Options());
  REQUIRE_OK(client->Get("timeout"));
  CHECK(s3.requests() == 2);

  auto denied = client->Get("private");
  CHECK_CODE(denied, ErrorCode::kDenied);
  CHECK(s3.requests() == 3);
  const std::string& message = denied.status().message();
  CHECK(message == "S3 GetObject private: 403 AccessDenied: Access Denied (request id req-403)");
  CHECK(message.find("AKIDTESTKEY") == std::string::npos);
  CHECK(message.find("SECRET") == std::string::npos);
  CHECK(client->stats()[S3Operation::kGetObject].errors == 1);
}

TEST_CASE("S3Client gives up after max_retries with S3's code and request id", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request&, httplib::Response& res, int) {
    SendError(res, 500, "InternalError", "boom");
  });
  auto options = s3.Options();
  options.max_retries = 2;
  auto client = MakeClient(options);
  auto result = client->Get("k");
  CHECK_CODE(result, ErrorCode::kUnavailable);
  CHECK(result.status().message() ==
        "S3 GetObject k: 500 InternalError: boom (request id req-500)");
  CHECK(s3.requests() == 3);
}

TEST_CASE("S3Client fails a request that stalls past idle_timeout", "[unit][s3]") {
  std::mutex mu;
  std::condition_variable released;
  bool done = false;
  FakeS3 s3([&](const httplib::Request&, httplib::Response& res, int) {
    std::unique_lock lock(mu);
    released.wait_for(lock, std::chrono::seconds(30), [&] { return done; });
    res.set_content("late", "text/plain");
  });
  auto options = s3.Options();
  options.idle_timeout = std::chrono::seconds(1);
  options.max_retries = 1;
  auto client = MakeClient(options);
  auto result = client->Get("slow");
  {
    std::lock_guard lock(mu);
    done = true;
  }
  released.notify_all();
  CHECK_CODE(result, ErrorCode::kUnavailable);
  CHECK(result.status().message().find("S3 GetObject slow: no answer") == 0);
  CHECK(client->stats()[S3Operation::kGetObject].requests == 2);
}

TEST_CASE("S3Client reuses one connection for sequential requests", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request& req, httplib::Response& res, int) {
    res.set_header("ETag", "\"e\"");
    if (req.method != "PUT") res.set_content("x", "text/plain");
  });
  auto client = MakeClient(s3.Options());
  for (int i = 0; i < 20; ++i) {
    const std::string key = "k" + std::to_string(i);
    if (i % 2 == 0) {
      REQUIRE_OK(client->Put(key, "body"));
    } else {
      REQUIRE_OK(client->Get(key));
    }
  }
  CHECK(s3.requests() == 20);
  CHECK(s3.connections() == 1);
  CHECK(client->connections_made() == 1);
}

TEST_CASE("S3Client signs what it sends and encodes keys", "[unit][s3]") {
  std::mutex mu;
  httplib::Headers seen;
  FakeS3 s3([&](const httplib::Request& req, httplib::Response& res, int) {
    std::lock_guard lock(mu);
    seen = req.headers;
    res.set_header("ETag", "\"etag-1\"");
  });
  auto client = MakeClient(s3.Options());
  ocireg::internal::s3::PutOptions put;
  put.metadata = {{"digest", "sha256:abc"}};
  put.content_type = "application/json";
  put.if_none_match_star = true;
  auto etag = client->Put("dir/a b+c~", "{}", put);
  REQUIRE_OK(etag);
  CHECK(*etag == "\"etag-1\"");
  CHECK(s3.targets().back() == "PUT /bucket/dir/a%20b%2Bc~");
  std::lock_guard lock(mu);
  auto header = [&](const std::string& name) {
    auto it = seen.find(name);
    return it == seen.end() ? std::string("<none>") : it->second;
  };
  CHECK(header("x-amz-content-sha256") == Sha256Hex("{}"));
  CHECK(header("x-amz-meta-digest") == "sha256:abc");
  CHECK(header("If-None-Match") == "*");
  CHECK(header("Content-Type") == "application/json");
  const std::string authorization = header("authorization");
  CHECK(authorization.find("AWS4-HMAC-SHA256 Credential=AKIDTESTKEY/") == 0);
  CHECK(authorization.find("/us-east-1/s3/aws4_request,SignedHeaders=content-type;host;"
                           "if-none-match;x-amz-content-sha256;x-amz-date;x-amz-meta-digest,") !=
        std::string::npos);
}

TEST_CASE("S3Client maps missing keys, buckets and lost conditions", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request& req, httplib::Response& res, int) {
    if (req.path == "/bucket/gone") return SendError(res, 404, "NoSuchKey");
    if (req.path == "/bucket/exists") return SendError(res, 412, "PreconditionFailed");
    if (req.path == "/bucket/nobucket") return SendError(res, 404, "NoSuchBucket");
    res.status = req.path == "/bucket" ? 200 : 404;  // HEADs: no body
  });
  auto client = MakeClient(s3.Options());
  CHECK_CODE(client->Head("missing"), ErrorCode::kNotFound);
  CHECK_CODE(client->Get("gone"), ErrorCode::kNotFound);
  CHECK_OK(client->Delete("gone"));
  auto no_bucket = client->Get("nobucket");
  CHECK_CODE(no_bucket, ErrorCode::kUnavailable);
  CHECK(no_bucket.status().message().find("NoSuchBucket") != std::string::npos);
  CHECK_FALSE(client->Delete("nobucket").ok());
  ocireg::internal::s3::PutOptions only_new;
  only_new.if_none_match_star = true;
  CHECK_CODE(client->Put("exists", "x", only_new), ErrorCode::kAlreadyExists);
  ocireg::internal::s3::PutOptions bad;
  bad.metadata = {{"digest", "a\r\nX-Evil: 1"}};
  const int before = s3.requests();
  CHECK_CODE(client->Put("k", "x", bad), ErrorCode::kInvalidArgument);
  CHECK(s3.requests() == before);
}

TEST_CASE("S3Client tells a missing key from a missing bucket, asking now and then", "[unit][s3]") {
  std::atomic<bool> bucket_there{true};
  FakeS3 s3([&](const httplib::Request& req, httplib::Response& res, int) {
    res.status = req.path == "/bucket" && bucket_there ? 200 : 404;  // HEADs: no body
  });
  auto client = MakeClient(s3.Options());
  CHECK_CODE(client->Head("missing"), ErrorCode::kNotFound);
  CHECK(s3.targets() == std::vector<std::string>{"HEAD /bucket/missing", "HEAD /bucket"});
  // Found a moment ago: the next missing key is not a reason to ask again.
  CHECK_CODE(client->Head("other"), ErrorCode::kNotFound);
  CHECK(s3.requests() == 3);

  // The bucket goes. Once the last lookup is old enough, a missing key reveals it.
  bucket_there = false;
  std::this_thread::sleep_for(S3Client::kBucketCheckInterval + std::chrono::milliseconds(100));
  auto gone = client->Head("missing");
  CHECK_CODE(gone, ErrorCode::kUnavailable);
  CHECK(gone.status().message().find("bucket bucket does not exist") != std::string::npos);
  // Not found again, so every later missing key asks once more.
  CHECK_CODE(client->Head("missing"), ErrorCode::kUnavailable);
  CHECK(s3.requests() == 7);
}

TEST_CASE("S3Client reads an object's head", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request&, httplib::Response& res, int) {
    res.set_header("ETag", "\"abc\"");
    res.set_header("Last-Modified", "Wed, 12 Oct 2009 17:50:00 GMT");
    res.set_header("x-amz-meta-digest", "sha256:0123");
    res.set_content(std::string(42, 'x'), "application/octet-stream");
  });
  auto client = MakeClient(s3.Options());
  auto head = client->Head("k");
  REQUIRE_OK(head);
  CHECK(head->size == 42);
  CHECK(head->etag == "\"abc\"");
  CHECK(head->metadata == Metadata{{"digest", "sha256:0123"}});
  CHECK(std::chrono::system_clock::to_time_t(head->last_modified) == 1255369800);
}

TEST_CASE("ReadRange writes the asked range into the buffer, short at the end", "[unit][s3]") {
  for (bool ignore_range : {false, true}) {
    CAPTURE(ignore_range);
    FakeS3 s3([ignore_range](const httplib::Request& req, httplib::Response& res, int) {
      ServeObject(req, res, ignore_range);
    });
    auto client = MakeClient(s3.Options());
    std::string buffer(10, '?');
    auto n = client->ReadRange("k", 5, buffer);
    REQUIRE_OK(n);
    CHECK(buffer.substr(0, *n) == "56789abcde");
    n = client->ReadRange("k", 15, buffer);
    REQUIRE_OK(n);
    CHECK(buffer.substr(0, *n) == "fghij");
    n = client->ReadRange("k", 20, buffer);
    REQUIRE_OK(n);
    CHECK(*n == 0);
    std::string streamed;
    REQUIRE_OK(client->GetStream("k", 3, 4, [&](std::string_view piece) {
      streamed += piece;
      return true;
    }));
    CHECK(streamed == "3456");
  }
}

TEST_CASE("CompleteMultipart retries an <Error> in a 200 and trusts a completed upload",
          "[unit][s3]") {
  const std::vector<CompletedPart> parts = {{1, "\"p1\""}, {2, "\"p2\""}};
  SECTION("InternalError inside a 200 is retried") {
    FakeS3 s3([](const httplib::Request&, httplib::Response& res, int n) {
      if (n == 1) {
        return res.set_content("<Error><Code>InternalError</Code></Error>", "application/xml");
      }
      res.set_content(
          "<CompleteMultipartUploadResult><ETag>\"all-2\"</ETag>"
          "</CompleteMultipartUploadResult>",
          "application/xml");
    });
    auto client = MakeClient(s3.Options());
    auto etag = client->CompleteMultipart("k", "up/1", parts);
    REQUIRE_OK(etag);
    CHECK(*etag == "\"all-2\"");
    CHECK(s3.targets().back() == "POST /bucket/k?uploadId=up%2F1");
  }
  SECTION("NoSuchUpload after a failed attempt: the object is there") {
    FakeS3 s3([](const httplib::Request& req, httplib::Response& res, int n) {
      if (n == 1) return SendError(res, 503, "ServiceUnavailable");
      if (req.method == "POST") return SendError(res, 404, "NoSuchUpload");
      res.set_header("ETag", "\"done-2\"");
      res.set_content("xx", "application/octet-stream");
    });
    auto client = MakeClient(s3.Options());
    auto etag = client->CompleteMultipart("k", "u", parts);
    REQUIRE_OK(etag);
    CHECK(*etag == "\"done-2\"");
  }
}

TEST_CASE("List and ListMultipartUploads send their queries and read every page", "[unit][s3]") {
  FakeS3 s3([](const httplib::Request& req, httplib::Response& res, int) {
    if (req.has_param("list-type")) {
      return res.set_content(
          "<ListBucketResult><Contents><Key>p/a</Key><Size>1</Size>"
          "<LastModified>2020-01-01T00:00:00Z</LastModified><ETag>\"e\"</ETag></Contents>"
          "<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>"
          "<IsTruncated>false</IsTruncated></ListBucketResult>",
          "application/xml");
    }
    if (!req.has_param("key-marker")) {
      return res.set_content(
          "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
          "<NextKeyMarker>p/a</NextKeyMarker><NextUploadIdMarker>1</NextUploadIdMarker>"
          "<Upload><Key>p/a</Key><UploadId>1</UploadId>"
          "<Initiated>2020-01-01T00:00:00Z</Initiated></Upload></ListMultipartUploadsResult>",
          "application/xml");
    }
    res.set_content(
        "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
        "<Upload><Key>p/b</Key><UploadId>2</UploadId>"
        "<Initiated>2020-01-01T00:00:00Z</Initiated></Upload></ListMultipartUploadsResult>",
        "application/xml");
  });
  auto client = MakeClient(s3.Options());
  auto list = client->List({.prefix = "p/", .delimiter = "/", .max_keys = 10});
  REQUIRE_OK(list);
  REQUIRE(list->objects.size() == 1);
  CHECK(list->objects[0].key == "p/a");
  CHECK(list->common_prefixes == std::vector<std::string>{"p/d/"});
  CHECK(s3.targets().back() == "GET /bucket?delimiter=%2F&list-type=2&max-keys=10&prefix=p%2F");
  auto uploads = client->ListMultipartUploads("p/");
  REQUIRE_OK(uploads);
  REQUIRE(uploads->size() == 2);
  CHECK((*uploads)[1].upload_id == "2");
  CHECK(s3.targets().back() ==
        "GET /bucket?key-marker=p%2Fa&prefix=p%2F&upload-id-marker=1&uploads=");
}

TEST_CASE("LoadCurlLibrary loads libcurl once and finds every symbol", "[unit][s3]") {
  auto first = LoadCurlLibrary();
  REQUIRE_OK(first);
  auto second = LoadCurlLibrary();
  REQUIRE_OK(second);
  CHECK(*first == *second);
  CHECK((*first)->curl_easy_setopt != nullptr);
  CHECK((*first)->curl_slist_free_all != nullptr);
}
