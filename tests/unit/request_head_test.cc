// SPDX-License-Identifier: Apache-2.0
// RequestHead: head boundaries, limits and the framing rules that keep proxies and us in step.
#include "http/request_head.h"

#include <string>
#include <variant>

#include "catch.h"

namespace {

using ocireg::internal::FindHeadEnd;
using ocireg::internal::HeadIncomplete;
using ocireg::internal::HeadLimits;
using ocireg::internal::HeadRefusal;
using ocireg::internal::ParseRequestHead;
using ocireg::internal::RequestHead;

// The HTTP status a head is refused with, or 0 when it is accepted.
int RefusalOf(const std::string& head) {
  auto parsed = ParseRequestHead(head, HeadLimits{});
  if (auto* refusal = std::get_if<HeadRefusal>(&parsed)) return refusal->http_status;
  return 0;
}

// The views of the result point into `head`, which the caller keeps.
RequestHead Accepted(const std::string& head) {
  auto parsed = ParseRequestHead(head, HeadLimits{});
  REQUIRE(std::holds_alternative<RequestHead>(parsed));
  return std::get<RequestHead>(parsed);
}

int BoundaryRefusal(const std::string& bytes) {
  auto boundary = FindHeadEnd(bytes, HeadLimits{});
  if (auto* refusal = std::get_if<HeadRefusal>(&boundary)) return refusal->http_status;
  return 0;
}

}  // namespace

TEST_CASE("FindHeadEnd finds the blank line and enforces the limits", "[unit][head]") {
  const std::string head = "GET /v2/ HTTP/1.1\r\nHost: a\r\n\r\n";
  auto boundary = FindHeadEnd(head + "next", HeadLimits{});
  REQUIRE(std::holds_alternative<size_t>(boundary));
  CHECK(std::get<size_t>(boundary) == head.size());
  CHECK(std::holds_alternative<HeadIncomplete>(FindHeadEnd("GET / HTTP/1.1\r\nHost:", {})));
  CHECK(BoundaryRefusal("GET /" + std::string(9000, 'a')) == 414);
  CHECK(BoundaryRefusal("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n") == 414);
  std::string many = "GET / HTTP/1.1\r\n";
  while (many.size() < 70000) many += "X-Filler: " + std::string(100, 'x') + "\r\n";
  CHECK(BoundaryRefusal(many) == 431);
  CHECK(BoundaryRefusal("GET / HTTP/1.1\nHost: a\n\n") == 400);
  CHECK(BoundaryRefusal("GET / HTTP/1.1\r\nHost: a\n\r\n") == 400);
  // A later call with `from` finds the end all the same.
  auto resumed = FindHeadEnd(head, HeadLimits{}, head.size() - 2);
  CHECK(std::get<size_t>(resumed) == head.size());
}

TEST_CASE("ParseRequestHead accepts ordinary requests", "[unit][head]") {
  const std::string get_head = "GET /v2/ HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
  RequestHead get = Accepted(get_head);
  CHECK(get.method == "GET");
  CHECK(get.target == "/v2/");
  CHECK_FALSE(get.has_body());
  CHECK_FALSE(get.close);
  RequestHead put = Accepted("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 38\r\n\r\n");
  CHECK(put.content_length == 38u);
  RequestHead chunked =
      Accepted("PATCH /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n\r\n");
  CHECK(chunked.chunked);
  CHECK(std::string_view("PATCH /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n\r\n")
            .substr(chunked.transfer_encoding_at, chunked.transfer_encoding_size) == "Chunked");
  CHECK(Accepted("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n").close);
  CHECK(Accepted("GET / HTTP/1.0\r\n\r\n").close);
  CHECK_FALSE(Accepted("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").close);
  CHECK(Accepted("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").content_length == 0u);
}

TEST_CASE("ParseRequestHead refuses ambiguous framing", "[unit][head]") {
  const std::string put = "PUT /x HTTP/1.1\r\nHost: a\r\n";
  CHECK(RefusalOf(put + "Content-Length: +38\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Content-Length: 38, 38\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Content-Length: -1\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Content-Length: 99999999999999999999\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Content-Length: 38\r\nContent-Length: 38\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Content-Length: 38\r\nContent-Length: 5\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Transfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(RefusalOf(put + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(RefusalOf("PUT /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(RefusalOf("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n") == 400);
  CHECK(RefusalOf("HEAD /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "Content-Length : 5\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "X-A: 1\r\n folded\r\n\r\n") == 400);
  CHECK(RefusalOf(put + "X-A: a\x01z\r\n\r\n") == 400);
}

TEST_CASE("ParseRequestHead refuses bad request lines, methods and hosts", "[unit][head]") {
  CHECK(RefusalOf("PRI / HTTP/1.1\r\nHost: a\r\n\r\n") == 501);
  CHECK(RefusalOf("OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n") == 501);
  CHECK(RefusalOf("get / HTTP/1.1\r\nHost: a\r\n\r\n") == 501);
  CHECK(RefusalOf("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
  CHECK(RefusalOf("GET / HTTX/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(RefusalOf("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(RefusalOf("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(RefusalOf("GET / HTTP/1.1\r\n\r\n") == 400);
  CHECK(RefusalOf("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(RefusalOf("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n") == 400);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 100; ++i) many += "X-N: 1\r\n";
  CHECK(RefusalOf(many + "\r\n") == 431);
}
