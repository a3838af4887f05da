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
// After a response the worker waits this long for the next request before it hands the
// connection to the waiter: a keep-alive client that answers at once costs no thread handoff,
// and a slow one holds the worker no longer than this.
constexpr std::chrono::milliseconds kWarmWait{2};

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
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

enum class HeadOutcome { kReady, kEnd, kRefused, kPark };

// Waits here for the next request's head (or, when `may_park`, for kWarmWait, then parks). kEnd:
// the connection ends without a word (closed by the client, idle past its deadline, server
// stopping); kRefused: `refusal` is set (over a limit, malformed, or past the head deadline).
HeadOutcome AwaitHead(Connection& connection, const ConnectionSettings& settings,
                      const std::function<bool()>& stopping, bool may_park, size_t& head_size,
                      HeadRefusal& refusal) {
  ConnectionStream& stream = *connection.stream;
  bool waited_warm = false;
  for (;;) {
    switch (CheckHead(connection, settings, head_size, refusal)) {
      case HeadState::kReady:
        return HeadOutcome::kReady;
      case HeadState::kRefused:
        return HeadOutcome::kRefused;
      case HeadState::kIncomplete:
        break;
    }
    const bool started = !stream.Buffered().empty();
    if (may_park && waited_warm) return HeadOutcome::kPark;
    if (may_park) {
      waited_warm = true;
      const size_t room = settings.head_limits.max_head_bytes - stream.Buffered().size();
      ssize_t n = stream.Fill(Clock::now() + kWarmWait, room);
      if (n > 0) connection.NoteHeadBytes(settings);
      if (n == 0 || n == -1) return HeadOutcome::kEnd;
      continue;
    }
    Clock::time_point deadline = connection.head_deadline;
    if (!started) {
      if (stopping()) return HeadOutcome::kEnd;
      deadline = std::min({connection.idle_deadline, deadline, Clock::now() + kIdleSlice});
    }
    const size_t room = settings.head_limits.max_head_bytes - stream.Buffered().size();
    ssize_t n = stream.Fill(deadline, room);
    if (n > 0) {
      connection.NoteHeadBytes(settings);
      continue;
    }
    if (n != ConnectionStream::kTimedOut) return HeadOutcome::kEnd;
    const Clock::time_point now = Clock::now();
    if (!started && (now >= connection.idle_deadline || now >= connection.head_deadline)) {
      return HeadOutcome::kEnd;
    }
  }
}

}  // namespace

Connection::Connection(std::unique_ptr<ConnectionStream> connection_stream,
                       Clock::time_point accepted, const ConnectionSettings& settings,
                       std::atomic<size_t>* open)
    : stream(std::move(connection_stream)),
      idle_deadline(accepted + settings.header_timeout),
      head_deadline(accepted + settings.header_timeout),
      open_count(open) {}

Connection::~Connection() {
  stream.reset();
  if (open_count != nullptr) --*open_count;
}

void Connection::AwaitNext(Clock::time_point idle_until) {
  idle_deadline = idle_until;
  head_deadline = Clock::time_point::max();
  scanned = 0;
}

void Connection::NoteHeadBytes(const ConnectionSettings& settings) {
  if (head_deadline == Clock::time_point::max()) {
    head_deadline = Clock::now() + settings.header_timeout;
  }
}

HeadState CheckHead(Connection& connection, const ConnectionSettings& settings, size_t& head_size,
                    HeadRefusal& refusal) {
  std::string_view buffered = connection.stream->Buffered();
  if (!buffered.empty()) connection.NoteHeadBytes(settings);
  HeadBoundary boundary = FindHeadEnd(buffered, settings.head_limits, connection.scanned);
  if (const size_t* size = std::get_if<size_t>(&boundary)) {
    head_size = *size;
    return HeadState::kReady;
  }
  if (HeadRefusal* refused = std::get_if<HeadRefusal>(&boundary)) {
    refusal = std::move(*refused);
    return HeadState::kRefused;
  }
  connection.scanned = buffered.size();
  if (!buffered.empty() && Clock::now() >= connection.head_deadline) {
    refusal = HeadRefusal{408, ErrorCode::kUnsupported, "request head not received in time"};
    return HeadState::kRefused;
  }
  return HeadState::kIncomplete;
}

bool WriteRefusal(httplib::Stream& stream, const HeadRefusal& refusal, bool head_request) {
  const std::string body = ErrorBody(refusal.code, refusal.message);
  std::string response =
      "HTTP/1.1 " + std::to_string(refusal.http_status) + " " + ReasonPhrase(refusal.http_status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nDocker-Distribution-API-Version: registry/2.0\r\n";
  if (refusal.http_status == 503) response += "Retry-After: 1\r\n";
  response += "Connection: close\r\n\r\n";
  if (!head_request) response += body;
  return stream.write(response.data(), response.size()) == static_cast<ssize_t>(response.size());
}

void ServeConnection(ConnectionPtr connection, const ConnectionSettings& settings,
                     const ProcessRequestFn& process, const std::function<bool()>& stopping,
                     const ParkFn& park) {
  ConnectionStream& stream = *connection->stream;
  for (bool first = true;; first = false) {
    size_t head_size = 0;
    HeadRefusal refusal;
    // A parked connection comes back with its head complete; after a response, park again.
    switch (AwaitHead(*connection, settings, stopping, park && !first, head_size, refusal)) {
      case HeadOutcome::kPark:
        park(std::move(connection));
        return;
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
      stream.Close(WriteRefusal(stream, *refused, stream.Buffered().starts_with("HEAD ")), true);
      return;
    }
    const RequestHead& head = std::get<RequestHead>(parsed);
    // httplib compares the coding with "chunked" exactly; RFC 9112 says any case.
    stream.LowercaseBuffered(head.transfer_encoding_at, head.transfer_encoding_size);
    stream.BeginRequest(
        head_size, head.chunked ? std::nullopt : std::optional(head.content_length.value_or(0)));
    const bool last =
        head.close || ++connection->served >= settings.keep_alive_max_requests || stopping();
    bool connection_closed = false;
    bool ok = false;
    {
      CurrentConnectionScope scope(&stream);
      ok = process(stream, last, connection_closed);
    }
    // A chunked body counts as consumed only when ReadBody decoded it to its end: when httplib
    // read it, the connection ends rather than trust that both found the same end.
    const bool consumed = stream.RequestConsumed();
    if (!ok || last || connection_closed || stream.end_requested() || !consumed) {
      stream.Close(ok, !consumed);
      return;
    }
    connection->AwaitNext(Clock::now() + settings.keep_alive_timeout);
  }
}

}  // namespace ocireg::internal
