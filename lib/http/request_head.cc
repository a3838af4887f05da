// SPDX-License-Identifier: Apache-2.0
// RequestHead: a strict HTTP/1.x request head parser (RFC 9112 sections 2-7), a pure function.
#include "http/request_head.h"

#include <array>

namespace ocireg::internal {
namespace {

constexpr std::string_view kCrlf = "\r\n";

HeadRefusal Refuse(int http_status, std::string message, ErrorCode code = ErrorCode::kUnsupported) {
  return HeadRefusal{http_status, code, std::move(message)};
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// RFC 9110 5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Field values: HTAB, SP, visible ASCII and obs-text; no other control characters.
bool IsFieldValue(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// 1*DIGIT, at most 19 digits so that it fits in uint64_t.
std::optional<uint64_t> ParseLength(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// The methods the registry API routes. Anything else is refused before its body is read.
bool IsServedMethod(std::string_view method) {
  static constexpr std::array<std::string_view, 6> kServed = {"GET", "HEAD",  "POST",
                                                              "PUT", "PATCH", "DELETE"};
  for (auto served : kServed) {
    if (method == served) return true;
  }
  return false;
}

// Checks the request line (without its CRLF) and fills method, target and version.
std::optional<HeadRefusal> ParseRequestLine(std::string_view line, RequestHead& head) {
  size_t first = line.find(' ');
  size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return Refuse(400, "malformed request line");
  }
  head.method = line.substr(0, first);
  head.target = line.substr(first + 1, second - first - 1);
  std::string_view version = line.substr(second + 1);
  if (!IsToken(head.method)) return Refuse(400, "malformed request method");
  if (head.target.empty() || head.target.front() != '/') {
    return Refuse(400, "request target must be an absolute path");
  }
  for (char c : head.target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return Refuse(400, "malformed request target");
  }
  if (version == "HTTP/1.1") {
    head.http10 = false;
  } else if (version == "HTTP/1.0") {
    head.http10 = true;
  } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && IsDigit(version[5]) &&
             version[6] == '.' && IsDigit(version[7])) {
    return Refuse(505, "HTTP version not supported");
  } else {
    return Refuse(400, "malformed HTTP version");
  }
  if (!IsServedMethod(head.method)) return Refuse(501, "method not supported");
  return std::nullopt;
}

// What the framing fields said, collected over all fields before they are judged together.
struct FieldTally {
  int hosts = 0;
  int content_lengths = 0;
  int transfer_encodings = 0;
  bool bad_content_length = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  std::string_view transfer_encoding;
};

std::optional<HeadRefusal> TallyField(std::string_view name, std::string_view value,
                                      size_t value_at, RequestHead& head, FieldTally& tally) {
  if (EqualsIgnoreCase(name, "Host")) {
    ++tally.hosts;
  } else if (EqualsIgnoreCase(name, "Content-Length")) {
    ++tally.content_lengths;
    head.content_length = ParseLength(value);
    tally.bad_content_length = tally.bad_content_length || !head.content_length;
  } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
    ++tally.transfer_encodings;
    tally.transfer_encoding = value;
    head.transfer_encoding_at = value_at;
    head.transfer_encoding_size = value.size();
  } else if (EqualsIgnoreCase(name, "Connection")) {
    tally.connection_close = tally.connection_close || HasToken(value, "close");
    tally.connection_keep_alive = tally.connection_keep_alive || HasToken(value, "keep-alive");
  }
  return std::nullopt;
}

// Judges the framing fields together (RFC 9112 6.1-6.3, 3.2).
std::optional<HeadRefusal> CheckFraming(const FieldTally& tally, RequestHead& head) {
  if (tally.hosts > 1 || (!head.http10 && tally.hosts == 0)) {
    return Refuse(400, "an HTTP/1.1 request needs exactly one Host header");
  }
  if (tally.content_lengths > 1) return Refuse(400, "more than one Content-Length header");
  if (tally.bad_content_length) return Refuse(400, "malformed Content-Length");
  if (tally.transfer_encodings > 1) return Refuse(400, "more than one Transfer-Encoding header");
  if (tally.transfer_encodings == 1) {
    if (head.http10) return Refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!EqualsIgnoreCase(tally.transfer_encoding, "chunked")) {
      return Refuse(501, "transfer coding not supported (only chunked is)");
    }
    if (tally.content_lengths > 0) {
      return Refuse(400, "both Transfer-Encoding and Content-Length");
    }
    head.chunked = true;
  }
  if (head.has_body() && (head.method == "GET" || head.method == "HEAD")) {
    return Refuse(400, "a GET or HEAD request must not have a body");
  }
  head.close = tally.connection_close || (head.http10 && !tally.connection_keep_alive);
  return std::nullopt;
}

}  // namespace

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = TrimSpace(list.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

HeadBoundary FindHeadEnd(std::string_view received, const HeadLimits& limits, size_t from) {
  const size_t line_end = received.find('\n');
  if (line_end == std::string_view::npos ? received.size() > limits.max_request_line
                                         : line_end + 1 > limits.max_request_line) {
    return Refuse(414, "request line too long", ErrorCode::kNameInvalid);
  }
  // A line that ends in a bare LF is refused here: httplib would skip it as a field, a proxy
  // might not. Checking every LF also keeps a head of bare-LF lines from waiting for more.
  for (size_t at = received.find('\n', from); at != std::string_view::npos;
       at = received.find('\n', at + 1)) {
    if (at == 0 || received[at - 1] != '\r') return Refuse(400, "line not ended by CRLF");
    if (at >= 3 && received.substr(at - 3, 4) == "\r\n\r\n") {
      if (at + 1 > limits.max_head_bytes) return Refuse(431, "request header fields too large");
      return at + 1;
    }
  }
  if (received.size() >= limits.max_head_bytes) {
    return Refuse(431, "request header fields too large");
  }
  return HeadIncomplete{};
}

std::variant<RequestHead, HeadRefusal> ParseRequestHead(std::string_view bytes,
                                                        const HeadLimits& limits) {
  RequestHead head;
  head.size = bytes.size();
  size_t line_end = bytes.find(kCrlf);
  if (line_end == std::string_view::npos || bytes.size() < 4 ||
      bytes.substr(bytes.size() - 4) != "\r\n\r\n") {
    return Refuse(400, "incomplete request head");
  }
  if (auto refusal = ParseRequestLine(bytes.substr(0, line_end), head)) return *refusal;
  FieldTally tally;
  size_t fields = 0;
  for (size_t at = line_end + 2; at < bytes.size() - 2;) {
    size_t end = bytes.find(kCrlf, at);
    std::string_view line = bytes.substr(at, end - at);
    if (++fields > limits.max_fields) return Refuse(431, "too many header fields");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      // Also a line folded onto the previous one (it starts with a space): RFC 9112 5.2.
      return Refuse(400, "malformed header field");
    }
    std::string_view raw_value = line.substr(colon + 1);
    std::string_view value = TrimSpace(raw_value);
    if (!IsFieldValue(value)) return Refuse(400, "malformed header field value");
    size_t value_at = at + colon + 1 + static_cast<size_t>(value.data() - raw_value.data());
    if (auto refusal = TallyField(line.substr(0, colon), value, value_at, head, tally)) {
      return *refusal;
    }
    at = end + 2;
  }
  if (auto refusal = CheckFraming(tally, head)) return *refusal;
  return head;
}

}  // namespace ocireg::internal
