// SPDX-License-Identifier: Apache-2.0
// /v2/, routing errors and the error paths httplib produces itself: every one gets an OCI body.
#include <stdexcept>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "test_server.h"

using ocireg::testing::RawConnection;
using ocireg::testing::TestServer;

TEST_CASE("GET /v2/ answers 200 with the API version header", "[integration][base]") {
  TestServer server;
  auto client = server.Client();
  for (const char* path : {"/v2/", "/v2"}) {
    auto res = client->Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Docker-Distribution-API-Version") == "registry/2.0");
  }
  auto head = client->Head("/v2/");
  REQUIRE(head);
  CHECK(head->status == 200);
}

TEST_CASE("Paths that are no endpoint get 404 NAME_UNKNOWN with a JSON body",
          "[integration][base]") {
  TestServer server;
  auto client = server.Client();
  CHECK_OCI_ERROR(client->Get("/"), 404, "NAME_UNKNOWN");
  CHECK_OCI_ERROR(client->Get("/v2/a/b"), 404, "NAME_UNKNOWN");
  CHECK_OCI_ERROR(client->Get("/v3/"), 404, "NAME_UNKNOWN");
  // A body sent to an unknown path is not buffered by httplib either: it reaches our handler.
  CHECK_OCI_ERROR(client->Post("/nowhere", std::string(1000, 'x'), "text/plain"), 404,
                  "NAME_UNKNOWN");
}

TEST_CASE("A method an endpoint lacks is 405 UNSUPPORTED with Allow", "[integration][base]") {
  TestServer server;
  auto client = server.Client();
  auto res = client->Post("/v2/", "", "text/plain");
  CHECK_OCI_ERROR(res, 405, "UNSUPPORTED");
  CHECK(res->get_header_value("Allow") == "GET, HEAD");
  res = client->Patch("/v2/a/manifests/latest", "{}", "application/json");
  CHECK_OCI_ERROR(res, 405, "UNSUPPORTED");
  CHECK(res->get_header_value("Allow") == "GET, HEAD, PUT, DELETE");
}

TEST_CASE("Invalid repository names are 400 NAME_INVALID", "[integration][base]") {
  TestServer server;
  auto client = server.Client();
  CHECK_OCI_ERROR(client->Get("/v2/Upper/tags/list"), 400, "NAME_INVALID");
  CHECK_OCI_ERROR(client->Get("/v2/a//b/manifests/latest"), 400, "NAME_INVALID");
  CHECK_OCI_ERROR(client->Post("/v2/-x/blobs/uploads/", "", "application/octet-stream"), 400,
                  "NAME_INVALID");
  // A nested name whose component would land on its parent's layout entries.
  CHECK_OCI_ERROR(client->Post("/v2/a/blobs/blobs/uploads/", "", "application/octet-stream"), 400,
                  "NAME_INVALID");
}

TEST_CASE("Over-long paths are refused before routing", "[integration][base]") {
  TestServer server;
  auto client = server.Client();
  // Past our cap (checked before any regex runs).
  CHECK_OCI_ERROR(client->Get("/v2/" + std::string(2000, 'a') + "/tags/list"), 414, "NAME_INVALID");
  // Past httplib's own request-line cap: httplib answers, our error handler adds the body.
  RawConnection raw(server.port());
  raw.Send("GET /v2/" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto res = raw.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == 414);
  CHECK(ocireg::testing::ErrorCodeOf(res->body) == "NAME_INVALID");
}

TEST_CASE("httplib's own 400 and 416 answers carry OCI bodies", "[integration][base]") {
  TestServer server;
  {
    // A header line over httplib's own 8 KiB line limit (within the server's 64 KiB head).
    RawConnection raw(server.port());
    raw.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(9000, 'a') + "\r\n\r\n");
    auto res = raw.ReadResponse();
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK_FALSE(ocireg::testing::ErrorCodeOf(res->body).empty());
  }
  {
    // An unknown method is refused with the head, before httplib (RFC 9110 15.6.2: 501).
    RawConnection raw(server.port());
    raw.Send("BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = raw.ReadResponse();
    REQUIRE(res);
    CHECK(res->status == 501);
    CHECK(ocireg::testing::ErrorCodeOf(res->body) == "UNSUPPORTED");
  }
  {
    // A malformed Range is refused by httplib before routing.
    auto client = server.Client();
    auto res = client->Get("/v2/", {{"Range", "bytes=oops"}});
    CHECK_OCI_ERROR(res, 416, "BLOB_UPLOAD_INVALID");
  }
  {
    // A Range on an endpoint that is not a blob: our error bodies are never sliced by it.
    auto client = server.Client();
    auto res = client->Get("/v2/nothing/manifests/latest", {{"Range", "bytes=5-10"}});
    CHECK_OCI_ERROR(res, 404, "NAME_UNKNOWN");
    CHECK_FALSE(res->has_header("Content-Range"));
  }
}

TEST_CASE("An exception in a handler becomes 500 with an OCI body and no exception text",
          "[integration][base]") {
  TestServer server([](ocireg::Config&, ocireg::ServerHooks& hooks) {
    hooks.authorize = [](const ocireg::Caller&, std::string_view repo, ocireg::Action) {
      if (repo == "boom") throw std::runtime_error("secret detail");
      return ocireg::Status::Ok();
    };
  });
  auto client = server.Client();
  auto res = client->Get("/v2/boom/tags/list");
  CHECK_OCI_ERROR(res, 500, "UNKNOWN");
  CHECK_FALSE(res->has_header("EXCEPTION_WHAT"));
  CHECK(res->body.find("secret") == std::string::npos);
  bool logged = false;
  for (const auto& m : server.messages()) logged |= m.find("secret detail") != std::string::npos;
  CHECK(logged);
  // The server keeps serving.
  auto ok = client->Get("/v2/");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("The authorization hook decides, with 401/403 bodies", "[integration][base]") {
  TestServer server([](ocireg::Config&, ocireg::ServerHooks& hooks) {
    hooks.authorize = [](const ocireg::Caller&, std::string_view repo, ocireg::Action action) {
      if (repo == "private") return ocireg::Status(ocireg::ErrorCode::kUnauthorized, "log in");
      if (repo == "readonly" && action != ocireg::Action::kRead) {
        return ocireg::Status(ocireg::ErrorCode::kDenied, "read only");
      }
      return ocireg::Status::Ok();
    };
  });
  auto client = server.Client();
  CHECK_OCI_ERROR(client->Get("/v2/private/tags/list"), 401, "UNAUTHORIZED");
  CHECK_OCI_ERROR(client->Post("/v2/readonly/blobs/uploads/", "", "application/octet-stream"), 403,
                  "DENIED");
  CHECK_OCI_ERROR(client->Get("/v2/readonly/tags/list"), 404, "NAME_UNKNOWN");
}
