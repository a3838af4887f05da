// SPDX-License-Identifier: Apache-2.0
// Exchange: one request being answered, and the body and header helpers every endpoint shares.
//
// The helpers enforce the rules httplib 0.11 leaves to us: a body is read only through the
// route's ContentReader (never req.body), only when it is framed (Content-Length > 0 or chunked),
// with a cap checked by us, and an unread body is drained or the connection closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/route.h"
#include "ocireg/http/handler.h"
#include "ocireg/status.h"

namespace httplib {
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace ocireg::internal {

// A byte range of the Range request header as httplib parsed it: -1 marks an open end.
using ByteRange = std::pair<int64_t, int64_t>;

struct Exchange {
  Exchange(const httplib::Request& request, httplib::Response& response,
           const httplib::ContentReader* content_reader);

  const httplib::Request& req;
  httplib::Response& res;
  const httplib::ContentReader* reader;  // null for GET and HEAD
  Route route;
  Caller caller;
  // The Range header, moved out of the request so httplib never slices our own bodies with it.
  std::vector<ByteRange> ranges;
  bool body_consumed = false;
};

// How the request body is framed.
struct BodyFraming {
  bool chunked = false;
  std::optional<uint64_t> length;  // Content-Length, when given
  bool malformed = false;          // an unparsable Content-Length
  bool present() const { return chunked || (length.has_value() && *length > 0); }
};
BodyFraming InspectBody(const httplib::Request& req);

// Whether the request carries a Content-Encoding other than identity (httplib would decode it
// before we see it, so the digest would cover other bytes than the client sent).
bool HasContentEncoding(const httplib::Request& req);

// Reads the request body and passes it to `sink` in pieces of up to `chunk_bytes`. At most
// `limit` bytes are accepted (0: no limit): past it the read stops with `over_limit`.
// Errors: the first error of `sink`; `over_limit`; kBlobUploadInvalid when the client's body
// ended early or could not be read; kUnavailable when `abort` became true.
Status ReadBody(Exchange& ex, uint64_t limit, const Status& over_limit, size_t chunk_bytes,
                const std::atomic<bool>& abort,
                const std::function<Status(std::span<const char>)>& sink);

// Called after every handler: a body the handler did not read is drained when small, else the
// response says Connection: close so that the client does not reuse a connection whose unread
// bytes would be taken for the next request.
void FinishBody(Exchange& ex);

// The query parameter `name`, if present (the first of several).
std::optional<std::string> QueryParam(const httplib::Request& req, const std::string& name);

// Parses a Content-Range of the form "<first>-<last>" (the spec's ^[0-9]+-[0-9]+$, first <= last).
std::optional<std::pair<uint64_t, uint64_t>> ParseContentRange(std::string_view text);

// The inclusive byte range [first, last] of a blob of `size` bytes that `range` selects, or
// nullopt when unsatisfiable (RFC 9110 14.1.2: first byte past the end, empty suffix, empty blob).
std::optional<std::pair<uint64_t, uint64_t>> ResolveRange(const ByteRange& range, uint64_t size);

// The value of an upload's Range header: "0-<last byte>", "0-0" while empty (distribution's form).
std::string UploadRange(uint64_t size);

// Request timing for the access log. Each request runs on one worker thread from its routing to
// its logging, so the start lives in a thread_local.
void NoteRequestStart();
// The time since NoteRequestStart on this thread, and forgets it; nullopt when not noted.
std::optional<std::chrono::microseconds> TakeRequestDuration();
// Request body bytes read on this thread since NoteRequestStart, for the metrics; forgets them.
uint64_t TakeRequestBodyBytes();
// The authenticated user of this thread's request, for the access log; Take returns "-" when
// none was noted, and forgets it.
void NoteRequestUser(std::string_view user);
std::string TakeRequestUser();

}  // namespace ocireg::internal
