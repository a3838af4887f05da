// SPDX-License-Identifier: Apache-2.0
// HTTP helpers without a server: error bodies, range arithmetic, Content-Range, log lines.
#include <rapidjson/document.h>

#include "catch.h"
#include "http/chunk_range.h"
#include "http/exchange.h"
#include "http/response.h"
#include "ocireg/http/handler.h"
#include "status_macros.h"

using ocireg::ErrorCode;
using ocireg::Status;
namespace internal = ocireg::internal;

TEST_CASE("ErrorBody is the spec's error JSON", "[http]") {
  rapidjson::Document doc;
  doc.Parse(internal::ErrorBody(ErrorCode::kBlobUploadUnknown, "no session \"x\"").c_str());
  REQUIRE(!doc.HasParseError());
  const auto& errors = doc["errors"];
  REQUIRE(errors.IsArray());
  REQUIRE(errors.Size() == 1);
  CHECK(std::string(errors[0]["code"].GetString()) == "BLOB_UPLOAD_UNKNOWN");
  CHECK(std::string(errors[0]["message"].GetString()) == "no session \"x\"");

  doc.Parse(internal::ErrorBody(ErrorCode::kDenied, "").c_str());
  CHECK(std::string(doc["errors"][0]["message"].GetString()) ==
        "requested access to the resource is denied");
}

TEST_CASE("ClientStatus never lets storage-level codes out", "[http]") {
  auto not_found = internal::ClientStatus(Status(ErrorCode::kNotFound, "/srv/x/index.json"),
                                          ErrorCode::kManifestUnknown);
  CHECK(not_found.code() == ErrorCode::kManifestUnknown);
  CHECK(not_found.message().find("/srv") == std::string::npos);
  for (ErrorCode code :
       {ErrorCode::kAlreadyExists, ErrorCode::kInvalidArgument, ErrorCode::kInternal}) {
    auto visible = internal::ClientStatus(Status(code, "open /srv/data/_blobs: EIO"));
    CHECK(visible.code() == ErrorCode::kInternal);
    CHECK(visible.message().find("/srv") == std::string::npos);
  }
  auto kept = internal::ClientStatus(Status(ErrorCode::kBlobUnknown, "no such blob"));
  CHECK(kept == Status(ErrorCode::kBlobUnknown, "no such blob"));
}

TEST_CASE("CodeForHttpStatus gives httplib's own errors a spec code", "[http]") {
  CHECK(internal::CodeForHttpStatus(404) == ErrorCode::kNameUnknown);
  CHECK(internal::CodeForHttpStatus(414) == ErrorCode::kNameInvalid);
  CHECK(internal::CodeForHttpStatus(416) == ErrorCode::kRangeInvalid);
  CHECK(internal::CodeForHttpStatus(500) == ErrorCode::kInternal);
  CHECK(internal::CodeForHttpStatus(400) == ErrorCode::kUnsupported);
}

TEST_CASE("ParseContentRange accepts only <first>-<last>", "[http]") {
  auto r = internal::ParseContentRange("0-99");
  REQUIRE(r);
  CHECK(r->first == 0);
  CHECK(r->second == 99);
  CHECK(internal::ParseContentRange("100-100"));
  for (const char* bad : {"", "-", "5-", "-5", "5-4", "bytes 0-9", "0-9/10", "+1-2", " 1-2", "a-b",
                          "1-2-3", "99999999999999999999-1"}) {
    INFO(bad);
    CHECK_FALSE(internal::ParseContentRange(bad));
  }
}

TEST_CASE("ResolveRange clamps to the blob and refuses unsatisfiable ranges", "[http]") {
  using R = internal::ByteRange;
  auto check = [](R range, uint64_t size, uint64_t first, uint64_t last) {
    auto r = internal::ResolveRange(range, size);
    REQUIRE(r);
    CHECK(r->first == first);
    CHECK(r->second == last);
  };
  check(R{2, 4}, 10, 2, 4);
  check(R{2, -1}, 10, 2, 9);   // bytes=2-
  check(R{5, 100}, 10, 5, 9);  // past the end: clamped
  check(R{-1, 3}, 10, 7, 9);   // bytes=-3
  check(R{-1, 50}, 10, 0, 9);  // suffix longer than the blob
  check(R{9, 9}, 10, 9, 9);
  CHECK_FALSE(internal::ResolveRange(R{10, 20}, 10));  // first byte past the end
  CHECK_FALSE(internal::ResolveRange(R{20, 30}, 10));
  CHECK_FALSE(internal::ResolveRange(R{-1, 0}, 10));  // empty suffix
  CHECK_FALSE(internal::ResolveRange(R{0, 0}, 0));    // nothing to serve in an empty blob
  CHECK_FALSE(internal::ResolveRange(R{5, 2}, 10));
}

TEST_CASE("CheckChunkRange takes a chunk at the session's end covering Content-Length bytes",
          "[http]") {
  using internal::CheckChunkRange;
  CHECK_OK(CheckChunkRange(std::nullopt, 10, 5));  // no Content-Range: nothing to check
  CHECK_OK(CheckChunkRange("5-14", 10, 5));
  CHECK_OK(CheckChunkRange("5-14", std::nullopt, 5));  // chunked: no length to compare
  CHECK_OK(CheckChunkRange("0-0", 1, 0));
  CHECK(CheckChunkRange("4-14", 11, 5).code() == ErrorCode::kRangeInvalid);  // out of order
  CHECK(CheckChunkRange("5-14", 9, 5).code() == ErrorCode::kRangeInvalid);
  CHECK(CheckChunkRange("5-x", 1, 5).code() == ErrorCode::kRangeInvalid);
  // The range's byte count is not computed modulo 2^64: 0-18446744073709551615 is 2^64 bytes,
  // not the 0 of an empty body.
  CHECK(CheckChunkRange("0-18446744073709551615", 0, 0).code() == ErrorCode::kRangeInvalid);
}

TEST_CASE("UploadRange is 0-<last byte>", "[http]") {
  CHECK(internal::UploadRange(0) == "0-0");
  CHECK(internal::UploadRange(1) == "0-0");
  CHECK(internal::UploadRange(100) == "0-99");
}

TEST_CASE("Access log lines in text and JSON", "[http]") {
  ocireg::AccessLogEntry entry;
  entry.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  entry.remote_addr = "127.0.0.1";
  entry.method = "GET";
  entry.path = "/v2/a/\"x\"\n";
  entry.status = 404;
  entry.bytes = 77;
  entry.duration = std::chrono::microseconds(1500);
  const std::string text = ocireg::FormatAccessLogLine(entry, ocireg::LogFormat::kText);
  CHECK(text ==
        "2024-05-01T12:00:00.123Z 127.0.0.1 - \"GET /v2/a/\\x22x\\x22\\x0a\" 404 77 1.500ms");

  rapidjson::Document doc;
  doc.Parse(ocireg::FormatAccessLogLine(entry, ocireg::LogFormat::kJson).c_str());
  REQUIRE(!doc.HasParseError());
  CHECK(std::string(doc["time"].GetString()) == "2024-05-01T12:00:00.123Z");
  CHECK(std::string(doc["remote_addr"].GetString()) == "127.0.0.1");
  CHECK(std::string(doc["user"].GetString()) == "-");
  CHECK(std::string(doc["method"].GetString()) == "GET");
  CHECK(std::string(doc["path"].GetString()) == "/v2/a/\"x\"\n");
  CHECK(doc["status"].GetInt() == 404);
  CHECK(doc["bytes"].GetUint64() == 77);
  CHECK(doc["duration_ms"].GetDouble() == 1.5);

  const std::string line = ocireg::FormatLogLine(entry.time, ocireg::LogLevel::kWarn, "disk full",
                                                 ocireg::LogFormat::kText);
  CHECK(line == "2024-05-01T12:00:00.123Z warn disk full");
  doc.Parse(
      ocireg::FormatLogLine(entry.time, ocireg::LogLevel::kError, "x", ocireg::LogFormat::kJson)
          .c_str());
  REQUIRE(!doc.HasParseError());
  CHECK(std::string(doc["level"].GetString()) == "error");
  CHECK_FALSE(doc.HasMember("node"));
}

TEST_CASE("Log lines name the replica when they have a node", "[http]") {
  ocireg::AccessLogEntry entry;
  entry.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  entry.remote_addr = "127.0.0.1";
  entry.method = "GET";
  entry.path = "/v2/";
  entry.status = 200;
  entry.bytes = 2;
  entry.duration = std::chrono::microseconds(412);
  entry.node = "replica-7";
  CHECK(ocireg::FormatAccessLogLine(entry, ocireg::LogFormat::kText) ==
        "2024-05-01T12:00:00.123Z 127.0.0.1 - \"GET /v2/\" 200 2 0.412ms node=replica-7");
  rapidjson::Document doc;
  doc.Parse(ocireg::FormatAccessLogLine(entry, ocireg::LogFormat::kJson).c_str());
  REQUIRE(!doc.HasParseError());
  CHECK(std::string(doc["node"].GetString()) == "replica-7");
  CHECK(doc["status"].GetInt() == 200);

  CHECK(ocireg::FormatLogLine(entry.time, ocireg::LogLevel::kInfo, "stopped",
                              ocireg::LogFormat::kText, "replica-7") ==
        "2024-05-01T12:00:00.123Z info node=replica-7 stopped");
  doc.Parse(ocireg::FormatLogLine(entry.time, ocireg::LogLevel::kInfo, "stopped",
                                  ocireg::LogFormat::kJson, "replica-7")
                .c_str());
  REQUIRE(!doc.HasParseError());
  CHECK(std::string(doc["node"].GetString()) == "replica-7");
  CHECK(std::string(doc["message"].GetString()) == "stopped");
}
