// SPDX-License-Identifier: Apache-2.0
// Exchange helpers: body framing, streamed reads with caps, draining, query and range parsing.
#include "http/exchange.h"

#include <httplib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>

#include "http/current_connection.h"
#include "http/io_buffer.h"

namespace ocireg::internal {
namespace {

// Unread bodies up to this size are read and dropped so the connection stays usable; larger ones
// cost less as a reconnect than as bytes we would have to receive for nothing.
constexpr uint64_t kMaxDrainBytes = 1024 * 1024;

thread_local std::optional<std::chrono::steady_clock::time_point> request_start;
thread_local std::string request_user;
thread_local uint64_t request_body_bytes = 0;

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Exchange::Exchange(const httplib::Request& request, httplib::Response& response,
                   const httplib::ContentReader* content_reader)
    : req(request), res(response), reader(content_reader) {
  caller.remote_addr = request.remote_addr;
  // httplib applies req.ranges to whatever body a response has (it would slice a JSON error
  // body, or call a blob provider past its end). The handler does range requests itself, so it
  // takes the ranges out. The Request is a mutable local of httplib's process_request that
  // httplib hands to handlers as const; clearing the vector there is well defined.
  auto& mutable_ranges = const_cast<httplib::Request&>(request).ranges;
  for (const auto& r : mutable_ranges) ranges.emplace_back(r.first, r.second);
  mutable_ranges.clear();
}

BodyFraming InspectBody(const httplib::Request& req) {
  BodyFraming framing;
  // The server refused every other coding with the head (request_head.h); any case is valid.
  framing.chunked = EqualsIgnoreCase(req.get_header_value("Transfer-Encoding"), "chunked");
  if (req.has_header("Content-Length")) {
    framing.length = ParseUint(req.get_header_value("Content-Length"));
    framing.malformed = !framing.length.has_value();
  }
  return framing;
}

bool HasContentEncoding(const httplib::Request& req) {
  if (!req.has_header("Content-Encoding")) return false;
  return !EqualsIgnoreCase(req.get_header_value("Content-Encoding"), "identity");
}

namespace {

// A body at least this large, with a Content-Length, is received straight from the connection
// into our buffer (see current_connection.h); httplib would hand it over 4 KiB at a time. A
// chunked body always is, whatever its size: the connection decodes it and learns where it ends.
constexpr uint64_t kDirectBodyBytes = 1 << 20;

// The connection to read the body from, or null for httplib's reader.
RequestConnection* DirectConnection(const Exchange& ex, const BodyFraming& framing,
                                    uint64_t limit) {
  // Content-Encoding is left to httplib's reader, which decodes it.
  if (HasContentEncoding(ex.req)) return nullptr;
  if (framing.chunked) return CurrentConnection();
  if (framing.length && *framing.length >= kDirectBodyBytes &&
      (limit == 0 || *framing.length <= limit)) {
    return CurrentConnection();
  }
  return nullptr;
}

// Receives the rest of a body of `length` bytes (nullopt: chunked, to its end) from
// `connection` into the unfilled part of `buffer`, telling `took` of every piece. The connection
// bounds each wait by the read timeout and never reads past the body. False when the body ended
// early or was malformed, or `took` refused a piece.
bool ReceiveDirect(RequestConnection& connection, std::optional<uint64_t> length, IoBuffer& buffer,
                   const std::function<bool(size_t)>& took) {
  uint64_t received = 0;
  for (;;) {
    std::span<char> space = buffer.unfilled();
    if (length) {
      space =
          space.first(static_cast<size_t>(std::min<uint64_t>(space.size(), *length - received)));
      if (space.empty()) return true;
    }
    ssize_t n = connection.ReadBody(space);
    if (n < 0) return false;     // the client went away, the read timeout passed, bad framing
    if (n == 0) return !length;  // a chunked body's end, or a connection closed too soon
    received += static_cast<uint64_t>(n);
    if (!took(static_cast<size_t>(n))) return false;
  }
}

}  // namespace

Status ReadBody(Exchange& ex, uint64_t limit, const Status& over_limit, size_t chunk_bytes,
                const std::atomic<bool>& abort,
                const std::function<Status(std::span<const char>)>& sink) {
  ex.body_consumed = true;
  const BodyFraming framing = InspectBody(ex.req);
  // Without framing httplib would read until the client closes: there is no body.
  if (!framing.present() || ex.reader == nullptr) return Status::Ok();

  Status failure;  // set when we, not the client, stop the read
  uint64_t received = 0;
  IoBuffer buffer(chunk_bytes);
  auto flush = [&]() -> bool {
    if (buffer.size() == 0) return true;
    failure = sink(buffer.filled());
    buffer.Clear();
    return failure.ok();
  };
  // Counts `n` more bytes of the body; false to stop reading it.
  auto count = [&](size_t n) -> bool {
    if (abort.load()) {
      failure = Unavailable("server shutting down");
      return false;
    }
    received += n;
    request_body_bytes += n;
    if (limit == 0 || received <= limit) return true;
    // Keep reading, and discard, a bounded overrun: a client still sending its body then gets
    // to read the error instead of a reset connection.
    failure = over_limit;
    buffer.Clear();
    return received - limit <= kMaxDrainBytes;
  };
  // Takes a piece of the body as httplib hands it over; the store is called per chunk_bytes.
  auto take = [&](const char* data, size_t n) -> bool {
    if (!count(n)) return false;
    while (failure.ok() && n > 0) {
      size_t appended = buffer.Append(data, n);
      data += appended;
      n -= appended;
      if (buffer.full() && !flush()) return false;
    }
    return true;
  };
  // Takes `n` bytes the connection received into the buffer's unfilled part.
  auto took = [&](size_t n) -> bool {
    if (!count(n)) return false;
    if (failure.ok()) buffer.MarkFilled(n);  // over the limit, bytes are drained, not kept
    return !buffer.full() || flush();
  };

  RequestConnection* connection = DirectConnection(ex, framing, limit);
  bool completed = connection
                       ? ReceiveDirect(*connection, framing.chunked ? std::nullopt : framing.length,
                                       buffer, took)
                       : (*ex.reader)(take);
  if (completed && failure.ok() && !flush()) completed = false;
  if (completed && failure.ok()) return Status::Ok();
  if (completed) return failure;  // over the limit, but the whole body was read
  // Part of the body is still on the socket, or the socket is gone: either way this connection
  // cannot carry another request.
  ex.res.set_header("Connection", "close");
  if (!failure.ok()) return failure;
  return BlobUploadInvalid("request body incomplete or unreadable");
}

void FinishBody(Exchange& ex) {
  if (ex.body_consumed) return;
  ex.body_consumed = true;
  const BodyFraming framing = InspectBody(ex.req);
  if (!framing.present() || ex.reader == nullptr) return;
  if (framing.malformed || (framing.length && *framing.length > kMaxDrainBytes)) {
    ex.res.set_header("Connection", "close");
    return;
  }
  uint64_t received = 0;
  bool drained = (*ex.reader)([&](const char*, size_t n) {
    received += n;
    request_body_bytes += n;
    return received <= kMaxDrainBytes;
  });
  if (!drained) ex.res.set_header("Connection", "close");
}

std::optional<std::string> QueryParam(const httplib::Request& req, const std::string& name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

std::optional<std::pair<uint64_t, uint64_t>> ParseContentRange(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto first = ParseUint(text.substr(0, dash));
  auto last = ParseUint(text.substr(dash + 1));
  if (!first || !last || *first > *last) return std::nullopt;
  // from_chars accepts only digits, so "+1-2" or " 1-2" are refused as the spec's regexp does.
  return std::make_pair(*first, *last);
}

std::optional<std::pair<uint64_t, uint64_t>> ResolveRange(const ByteRange& range, uint64_t size) {
  auto [first, last] = range;
  if (size == 0) return std::nullopt;
  if (first < 0) {
    // A suffix range: the last `last` bytes.
    if (last <= 0) return std::nullopt;
    uint64_t count = std::min<uint64_t>(static_cast<uint64_t>(last), size);
    return std::make_pair(size - count, size - 1);
  }
  if (static_cast<uint64_t>(first) >= size) return std::nullopt;
  uint64_t end =
      (last < 0 || static_cast<uint64_t>(last) >= size) ? size - 1 : static_cast<uint64_t>(last);
  if (end < static_cast<uint64_t>(first)) return std::nullopt;
  return std::make_pair(static_cast<uint64_t>(first), end);
}

std::string UploadRange(uint64_t size) { return "0-" + std::to_string(size == 0 ? 0 : size - 1); }

void NoteRequestStart() {
  request_start = std::chrono::steady_clock::now();
  request_body_bytes = 0;
}

uint64_t TakeRequestBodyBytes() { return std::exchange(request_body_bytes, 0); }

std::optional<std::chrono::microseconds> TakeRequestDuration() {
  if (!request_start) return std::nullopt;
  auto elapsed = std::chrono::steady_clock::now() - *request_start;
  request_start.reset();
  return std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
}

void NoteRequestUser(std::string_view user) { request_user = user; }

std::string TakeRequestUser() {
  std::string user = request_user.empty() ? "-" : std::move(request_user);
  request_user.clear();
  return user;
}

}  // namespace ocireg::internal
