// SPDX-License-Identifier: Apache-2.0
// ServeConnection: wait, read a bounded head within a deadline, check it, hand it to httplib.
#include "server/connection_loop.h"

#include <algorithm>
#include <string>
#include <variant>

#include "http/response.h"

namespace ocireg::internal {
namespace {

// An idle connection checks this often whether the server is stopping.
constexpr std::chrono::milliseconds kIdleSlice{100};

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

enum class HeadOutcome { kReady, kEnd, kRefused };

// Waits for the next request's head to be buffered. kEnd: the connection ends without a word
// (closed by the client, idle past the keep-alive timeout, server stopping); kRefused: the
// refusal was set (over a limit, malformed, or the head deadline passed mid-head).
HeadOutcome AwaitHead(ConnectionStream& stream, Clock::time_point idle_deadline,
                      Clock::time_point head_deadline, const ConnectionSettings& settings,
                      const std::function<bool()>& stopping, size_t& head_size,
                      HeadRefusal& refusal) {
  bool started = !stream.Buffered().empty();
  if (started) head_deadline = std::min(head_deadline, Clock::now() + settings.header_timeout);
  size_t scanned = 0;
  for (;;) {
    std::string_view buffered = stream.Buffered();
    HeadBoundary boundary = FindHeadEnd(buffered, settings.head_limits, scanned);
    if (const size_t* size = std::get_if<size_t>(&boundary)) {
      head_size = *size;
      return HeadOutcome::kReady;
    }
    if (HeadRefusal* refused = std::get_if<HeadRefusal>(&boundary)) {
      refusal = std::move(*refused);
      return HeadOutcome::kRefused;
    }
    scanned = buffered.size();
    Clock::time_point deadline = head_deadline;
    if (!started) {
      if (stopping()) return HeadOutcome::kEnd;
      deadline = std::min({idle_deadline, head_deadline, Clock::now() + kIdleSlice});
    }
    ssize_t n = stream.Fill(deadline, settings.head_limits.max_head_bytes - buffered.size());
    if (n == 0 || n == -1) return HeadOutcome::kEnd;
    if (n > 0) {
      if (!started) head_deadline = std::min(head_deadline, Clock::now() + settings.header_timeout);
      started = true;
      continue;
    }
    const Clock::time_point now = Clock::now();
    if (started && now >= head_deadline) {
      refusal = HeadRefusal{408, ErrorCode::kUnsupported, "request head not received in time"};
      return HeadOutcome::kRefused;
    }
    if (started || now >= idle_deadline || now >= head_deadline) return HeadOutcome::kEnd;
  }
}

}  // namespace

bool WriteRefusal(httplib::Stream& stream, const HeadRefusal& refusal) {
  const std::string body = ErrorBody(refusal.code, refusal.message);
  std::string response =
      "HTTP/1.1 " + std::to_string(refusal.http_status) + " " + ReasonPhrase(refusal.http_status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nDocker-Distribution-API-Version: registry/2.0\r\n";
  if (refusal.http_status == 503) response += "Retry-After: 1\r\n";
  response += "Connection: close\r\n\r\n";
  response += body;
  return stream.write(response.data(), response.size()) == static_cast<ssize_t>(response.size());
}

void ServeConnection(ConnectionStream& stream, Clock::time_point accepted,
                     const ConnectionSettings& settings, const ProcessRequestFn& process,
                     const std::function<bool()>& stopping) {
  Clock::time_point idle_deadline = accepted + settings.header_timeout;
  Clock::time_point head_deadline = idle_deadline;
  for (size_t served = 0;; ++served) {
    size_t head_size = 0;
    HeadRefusal refusal;
    switch (
        AwaitHead(stream, idle_deadline, head_deadline, settings, stopping, head_size, refusal)) {
      case HeadOutcome::kEnd:
        stream.Close(false, false);
        return;
      case HeadOutcome::kRefused:
        stream.Close(WriteRefusal(stream, refusal), true);
        return;
      case HeadOutcome::kReady:
        break;
    }
    auto parsed = ParseRequestHead(stream.Buffered().substr(0, head_size), settings.head_limits);
    if (HeadRefusal* refused = std::get_if<HeadRefusal>(&parsed)) {
      stream.Close(WriteRefusal(stream, *refused), true);
      return;
    }
    const RequestHead& head = std::get<RequestHead>(parsed);
    // httplib compares the coding with "chunked" exactly; RFC 9112 says any case.
    stream.LowercaseBuffered(head.transfer_encoding_at, head.transfer_encoding_size);
    stream.BeginRequest(
        head_size, head.chunked ? std::nullopt : std::optional(head.content_length.value_or(0)));
    const bool last = head.close || served + 1 >= settings.keep_alive_max_requests || stopping();
    bool connection_closed = false;
    bool ok = false;
    {
      CurrentConnectionScope scope(&stream);
      ok = process(stream, last, connection_closed);
    }
    // A chunked body is never counted as consumed: its end is httplib's to find, so the
    // connection ends after it rather than trust that both found the same end.
    const bool consumed = stream.RequestConsumed();
    if (!ok || last || connection_closed || stream.end_requested() || !consumed) {
      stream.Close(ok, !consumed);
      return;
    }
    idle_deadline = Clock::now() + settings.keep_alive_timeout;
    head_deadline = Clock::time_point::max();
  }
}

}  // namespace ocireg::internal
