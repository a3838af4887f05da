// SPDX-License-Identifier: Apache-2.0
// ChunkedFraming: valid chunked bodies decode the same however they are cut; every framing a
// lenient parser might read differently is refused.
#include "http/chunked_framing.h"

#include <optional>
#include <string>
#include <string_view>

#include "catch.h"

namespace {

using ocireg::internal::ChunkedFraming;
using ocireg::internal::ChunkedLimits;

struct Decoded {
  std::string data;
  size_t used = 0;  // bytes of the input that belong to the body
  bool done = false;
  std::optional<std::string> error;
};

// Decodes `wire` handed over in pieces of at most `piece` bytes, as the connection would.
Decoded Decode(std::string_view wire, size_t piece, ChunkedLimits limits = {}) {
  ChunkedFraming framing(limits);
  Decoded out;
  while (out.used < wire.size() && !framing.done() && !framing.failed()) {
    std::string_view next = wire.substr(out.used, piece);
    if (framing.data_left() > 0) {
      const size_t n = std::min<size_t>(next.size(), framing.data_left());
      out.data.append(next.substr(0, n));
      framing.TookData(n);
      out.used += n;
    } else {
      out.used += framing.Consume(next);
    }
  }
  out.done = framing.done();
  if (framing.failed()) out.error = framing.error();
  return out;
}

}  // namespace

TEST_CASE("ChunkedFraming decodes chunks, extensions and trailers in pieces of any size",
          "[unit][chunked]") {
  const std::string body =
      "5\r\nhello\r\n"
      "1;name=value;other=\"quoted; text\"\r\n \r\n"
      "00000A \t;ext\r\n0123456789\r\n"
      "0\r\nDigest: sha-256=x\r\nOther: y\r\n\r\n";
  const std::string next = "GET /v2/ HTTP/1.1\r\n\r\n";
  for (size_t piece : {1, 2, 3, 7, 64, 4096}) {
    CAPTURE(piece);
    Decoded d = Decode(body + next, piece);
    CHECK(d.done);
    CHECK_FALSE(d.error);
    CHECK(d.data == "hello 0123456789");
    CHECK(d.used == body.size());  // the next request is left alone
  }
}

TEST_CASE("ChunkedFraming takes an empty body and upper-case hex", "[unit][chunked]") {
  CHECK(Decode("0\r\n\r\n", 1).done);
  Decoded d = Decode("1A\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n", 5);
  CHECK(d.done);
  CHECK(d.data.size() == 26);
  ChunkedFraming framing;
  framing.Consume("FFFFFFFFFFFFFFFF\r\n");
  CHECK(framing.data_left() == UINT64_MAX);
}

TEST_CASE("ChunkedFraming refuses framing that could be read two ways", "[unit][chunked]") {
  const char* bodies[] = {
      "",                          // (incomplete, checked below)
      "\r\n",                      // no size
      " 5\r\nhello\r\n0\r\n\r\n",  // space before the size
      "+5\r\nhello\r\n0\r\n\r\n",  // a sign
      "-5\r\nhello\r\n0\r\n\r\n",
      "0x5\r\nhello\r\n0\r\n\r\n",                // a 0x prefix
      "5\nhello\r\n0\r\n\r\n",                    // bare LF after the size
      "5\rhello\r\n0\r\n\r\n",                    // bare CR
      "5\r\nhello\n0\r\n\r\n",                    // bare LF after the data
      "5\r\nhelloX\r\n0\r\n\r\n",                 // data longer than its size
      "5\r\nhello\r\n0\r\n\n",                    // bare LF at the end
      "5\r\nhello\r\n0\r\nA: b\n\r\n",            // bare LF after a trailer
      "5;a\nb\r\nhello\r\n0\r\n\r\n",             // LF inside an extension
      "5;a\x01\r\nhello\r\n0\r\n\r\n",            // a control byte in an extension
      "5g\r\nhello\r\n0\r\n\r\n",                 // not hex
      "10000000000000000\r\n",                    // 17 digits
      "00000000000000005\r\nhello\r\n0\r\n\r\n",  // 17 digits, however small
  };
  for (const char* body : bodies) {
    if (*body == '\0') continue;
    CAPTURE(body);
    Decoded d = Decode(body, 1);
    CHECK_FALSE(d.done);
    CHECK(d.error);
  }
  Decoded incomplete = Decode("5\r\nhel", 64);
  CHECK_FALSE(incomplete.done);
  CHECK_FALSE(incomplete.error);
}

TEST_CASE("ChunkedFraming bounds a size line, the trailer bytes and the trailer fields",
          "[unit][chunked]") {
  ChunkedLimits limits;
  limits.max_line_bytes = 64;
  limits.max_trailer_bytes = 100;
  limits.max_trailer_fields = 3;

  // The line's bound counts its CRLF.
  const std::string fits = "5;" + std::string(60, 'e') + "\r\nhello\r\n0\r\n\r\n";
  CHECK(Decode(fits, 1, limits).done);
  Decoded long_line = Decode("5;" + std::string(61, 'e') + "\r\nhello\r\n0\r\n\r\n", 1, limits);
  REQUIRE(long_line.error);
  CHECK(*long_line.error == "chunk size line too long");
  // An endless line is refused at its bound, not read on.
  Decoded endless = Decode("5;" + std::string(1 << 20, 'e'), 4096, limits);
  REQUIRE(endless.error);
  CHECK(endless.used <= 64);

  CHECK(Decode("0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n", 1, limits).done);
  Decoded fields = Decode("0\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n", 1, limits);
  REQUIRE(fields.error);
  CHECK(*fields.error == "too many trailer fields");
  Decoded bytes = Decode("0\r\na: " + std::string(200, 'x') + "\r\n\r\n", 7, limits);
  REQUIRE(bytes.error);
  CHECK(*bytes.error == "trailer section too large");
}

TEST_CASE("ChunkedFraming counts the decoded body", "[unit][chunked]") {
  ChunkedFraming framing;
  CHECK(framing.Consume("3\r\n") == 3);
  CHECK(framing.data_left() == 3);
  CHECK(framing.Consume("abc") == 0);  // data is not framing
  framing.TookData(3);
  CHECK(framing.Consume("\r\n4\r\n") == 5);
  framing.TookData(4);
  CHECK(framing.Consume("\r\n0\r\n\r\nrest") == 7);
  CHECK(framing.done());
  CHECK(framing.body_bytes() == 7);
}
