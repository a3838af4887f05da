// SPDX-License-Identifier: Apache-2.0
// HttpTransport: HTTP exchanges over libcurl, on a bounded pool of reused easy handles.
//
// libcurl comes loaded (curl_library.h): the transport's owner (S3Client::Create) loads it, so
// that its failure is a Status there rather than an error on every request. Nothing here knows
// S3: the S3 driver signs its requests itself and hands them over as plain headers.
//
// Each easy handle keeps its connection open after a transfer, so a handle taken again from the
// pool sends its next request on the same TCP (and TLS) connection: no new handshake per object.
// The handles also share one DNS cache and one TLS session cache, so a new connection to the same
// endpoint resumes its TLS session. At most max_idle_handles wait in the pool; a request that finds
// none idle makes a new handle, which joins the pool afterwards if there is room.
//
// Thread-safe: any number of threads may call Perform at once; each transfer runs on the calling
// thread. Never prints; curl's verbose output is off, and header values are never reported.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/curl_library.h"

namespace ocireg::internal {

// One header: name and value. The same type as s3::HeaderField (sigv4.h), which signs them.
using HeaderField = std::pair<std::string, std::string>;

struct HttpResponse;

struct HttpRequest {
  std::string_view method;  // GET, HEAD, PUT, POST or DELETE
  std::string url;
  std::vector<HeaderField> headers;  // sent as given, Host among them
  std::string_view body;             // PUT and POST send it (possibly empty)
  // Receives a 2xx answer's body piece by piece, with the answer's status; returns false to stop
  // the transfer. Unset: the body is kept in HttpResponse::body, up to max_body bytes.
  std::function<bool(long status, std::string_view piece)> on_body;
  // With on_body: called once with the status and headers of a 2xx answer before its first body
  // piece (never for an empty body); returns false to stop the transfer.
  std::function<bool(const HttpResponse& head)> on_head;
  size_t max_body = 64u << 20;
  // When set, the transfer stops once it turns true, also while no byte moves (curl looks about
  // once a second); the answer then counts as stopped by the receiver.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  // Empty when an answer came; else why none did (curl's words: refused, timed out, ...).
  std::string transport_error{};
  bool stopped_by_receiver = false;  // on_body returned false, or the body passed max_body
  long status = 0;
  std::vector<HeaderField> headers{};  // names in lower case, values trimmed
  std::string body{};                  // the body, unless on_body took it (error bodies: 64 KiB)

  // The value of header `name` (lower case), or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // A transfer that moves no byte for this long fails (rounded up to whole seconds, at least 1).
  std::chrono::milliseconds idle_timeout{30000};
  std::string ca_file;  // empty: the system's CAs
  size_t max_idle_handles = 64;
  bool tls_verify = true;  // false: any certificate and host name are accepted (tests, labs)
  // false: idle_timeout is curl's low-speed limit (under 1 byte/s averaged over its last few
  // seconds), so a stall right after a burst of bytes is noticed up to 5 s late. true: a transfer
  // fails once no byte moved for idle_timeout, checked about once a second.
  bool exact_idle_timeout = false;
};

class HttpTransport {
 public:
  // `curl` is LoadCurlLibrary's, which lives as long as the process.
  HttpTransport(const CurlLibrary& curl, TransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // One exchange: sends `request`, waits for the whole answer. Never retries by itself.
  HttpResponse Perform(const HttpRequest& request);

  // Handles made so far (for tests of reuse).
  size_t handles_made() const;

 private:
  struct Handle;
  struct Shared;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);

  const CurlLibrary& curl_;
  const TransportOptions options_;
  std::unique_ptr<Shared> shared_;  // curl's share handle and its locks
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
  size_t handles_made_ = 0;
};

}  // namespace ocireg::internal
