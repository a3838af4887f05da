// SPDX-License-Identifier: Apache-2.0
#include "net/http_transport.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstring>

namespace ocireg::internal {

namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;  // S3's <Error> documents are a few hundred bytes
constexpr long kBufferBytes = 256 * 1024;    // fewer, larger reads and writes than curl's 16 KiB

struct SlistFree {
  const CurlLibrary* lib;
  void operator()(curl_slist* list) const { lib->curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

// The state of one transfer, shared with curl's callbacks.
struct Transfer {
  const CurlLibrary& lib;
  CURL* curl;
  const HttpRequest& request;
  HttpResponse response;
  size_t sent = 0;
  bool head_reported = false;
  // exact_idle_timeout: the limit (zero: off), the byte counts last seen and when they moved.
  std::chrono::milliseconds idle_limit{0};
  curl_off_t last_down = 0;
  curl_off_t last_up = 0;
  std::chrono::steady_clock::time_point last_move{};
  bool idle_expired = false;
};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  // Each status line starts an answer afresh (a 100 Continue comes before the real one).
  if (line.starts_with("HTTP/")) {
    transfer.response.headers.clear();
    return line.size();
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name(Trim(line.substr(0, colon)));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  transfer.response.headers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
  return line.size();
}

int OnProgress(void* user, curl_off_t /*download_total*/, curl_off_t downloaded,
               curl_off_t /*upload_total*/, curl_off_t uploaded) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (transfer.request.cancel != nullptr && transfer.request.cancel->load()) {
    transfer.response.stopped_by_receiver = true;
    return 1;  // curl ends the transfer with CURLE_ABORTED_BY_CALLBACK
  }
  if (transfer.idle_limit.count() > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (downloaded != transfer.last_down || uploaded != transfer.last_up) {
      transfer.last_down = downloaded;
      transfer.last_up = uploaded;
      transfer.last_move = now;
    } else if (now - transfer.last_move >= transfer.idle_limit) {
      transfer.idle_expired = true;
      return 1;
    }
  }
  return 0;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::string_view piece(data, size * count);
  long status = 0;
  transfer.lib.curl_easy_getinfo(transfer.curl, CURLINFO_RESPONSE_CODE, &status);
  const bool success = status >= 200 && status < 300;
  if (success && transfer.request.on_body) {
    if (!transfer.head_reported && transfer.request.on_head) {
      transfer.head_reported = true;
      transfer.response.status = status;
      if (!transfer.request.on_head(transfer.response)) {
        transfer.response.stopped_by_receiver = true;
        return 0;
      }
    }
    if (transfer.request.on_body(status, piece)) return piece.size();
    transfer.response.stopped_by_receiver = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  std::string& body = transfer.response.body;
  if (!success) {
    body.append(piece.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
    return piece.size();
  }
  if (body.size() + piece.size() > transfer.request.max_body) {
    transfer.response.stopped_by_receiver = true;
    return 0;
  }
  body.append(piece);
  return piece.size();
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::string_view rest = transfer.request.body.substr(transfer.sent);
  const size_t n = std::min(rest.size(), size * count);
  std::memcpy(buffer, rest.data(), n);
  transfer.sent += n;
  return n;
}

// curl rewinds the body when it sends the request again on a fresh connection (the reused one
// had been closed by the server meanwhile).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<uint64_t>(offset) > transfer.request.body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer.sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

HeaderList MakeHeaderList(const CurlLibrary& lib, const std::vector<HeaderField>& headers) {
  curl_slist* list = nullptr;
  auto append = [&lib, &list](const std::string& line) {
    curl_slist* grown = lib.curl_slist_append(list, line.c_str());
    if (grown != nullptr) list = grown;
  };
  for (const auto& [name, value] : headers) {
    // "Name;" is curl's way to send a header with an empty value ("Name:" would remove it).
    append(value.empty() ? name + ";" : name + ": " + value);
  }
  append("Expect:");  // no 100-continue round trip before each body
  return HeaderList(list, SlistFree{&lib});
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

struct HttpTransport::Shared {
  explicit Shared(const CurlLibrary& curl) : lib(curl), share(lib.curl_share_init()) {
    lib.curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Lock);
    lib.curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Unlock);
    lib.curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    lib.curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    lib.curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Shared() { lib.curl_share_cleanup(share); }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  static void Lock(CURL* /*curl*/, curl_lock_data data, curl_lock_access /*access*/, void* self) {
    static_cast<Shared*>(self)->locks.at(static_cast<size_t>(data)).lock();
  }
  static void Unlock(CURL* /*curl*/, curl_lock_data data, void* self) {
    static_cast<Shared*>(self)->locks.at(static_cast<size_t>(data)).unlock();
  }

  const CurlLibrary& lib;
  CURLSH* share;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
};

struct HttpTransport::Handle {
  explicit Handle(const CurlLibrary& library) : lib(library), curl(lib.curl_easy_init()) {}
  ~Handle() { lib.curl_easy_cleanup(curl); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  const CurlLibrary& lib;
  CURL* curl;
  std::array<char, CURL_ERROR_SIZE> error{};
};

HttpTransport::HttpTransport(const CurlLibrary& curl, TransportOptions options)
    : curl_(curl), options_(std::move(options)), shared_(std::make_unique<Shared>(curl)) {}

HttpTransport::~HttpTransport() { idle_.clear(); }

size_t HttpTransport::handles_made() const {
  std::lock_guard lock(mu_);
  return handles_made_;
}

std::unique_ptr<HttpTransport::Handle> HttpTransport::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Handle> handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
    ++handles_made_;
  }
  return std::make_unique<Handle>(curl_);
}

void HttpTransport::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(handle));
}

HttpResponse HttpTransport::Perform(const HttpRequest& request) {
  std::unique_ptr<Handle> handle = Acquire();
  if (handle->curl == nullptr) return {.transport_error = "cannot make a curl handle"};
  CURL* curl = handle->curl;
  curl_.curl_easy_reset(curl);  // keeps the open connection and the caches
  Transfer transfer{curl_, curl, request, {}};
  HeaderList headers = MakeHeaderList(curl_, request.headers);
  // curl_easy_setopt on this handle. The value keeps its own type through the variadic call, as
  // curl needs: long for numbers (hence 1L), char* for text, the callbacks' own pointer types.
  auto set = [this, curl](CURLoption option, auto value) {
    curl_.curl_easy_setopt(curl, option, value);
  };
  const long idle_seconds =
      std::max<long>(1, static_cast<long>((options_.idle_timeout.count() + 999) / 1000));

  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_PATH_AS_IS, 1L);  // keys like "a/../b" are sent as they are
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_SHARE, shared_->share);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_KEEPIDLE, 30L);
  set(CURLOPT_TCP_KEEPINTVL, 15L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  set(CURLOPT_LOW_SPEED_LIMIT, 1L);
  set(CURLOPT_LOW_SPEED_TIME, idle_seconds);
  set(CURLOPT_BUFFERSIZE, kBufferBytes);
  set(CURLOPT_UPLOAD_BUFFERSIZE, kBufferBytes);
  if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.tls_verify) {
    set(CURLOPT_SSL_VERIFYPEER, 0L);
    set(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  set(CURLOPT_ERRORBUFFER, handle->error.data());
  set(CURLOPT_HEADERFUNCTION, &OnHeader);
  set(CURLOPT_HEADERDATA, &transfer);
  set(CURLOPT_WRITEFUNCTION, &OnBody);
  set(CURLOPT_WRITEDATA, &transfer);
  if (options_.exact_idle_timeout) {
    transfer.idle_limit = options_.idle_timeout;
    transfer.last_move = std::chrono::steady_clock::now();
  }
  if (request.cancel != nullptr || options_.exact_idle_timeout) {
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &OnProgress);
    set(CURLOPT_XFERINFODATA, &transfer);
  }

  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_READFUNCTION, &OnRead);
    set(CURLOPT_READDATA, &transfer);
    set(CURLOPT_SEEKFUNCTION, &OnSeek);
    set(CURLOPT_SEEKDATA, &transfer);
    if (request.method == "POST") set(CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, std::string(request.method).c_str());
  }

  handle->error[0] = '\0';
  const CURLcode code = curl_.curl_easy_perform(curl);
  curl_.curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  if (transfer.idle_expired) {
    transfer.response.transport_error =
        "no byte moved for " + std::to_string(options_.idle_timeout.count()) + " ms";
  } else if (code != CURLE_OK && !transfer.response.stopped_by_receiver) {
    transfer.response.transport_error = curl_.curl_easy_strerror(code);
    if (handle->error[0] != '\0') {
      transfer.response.transport_error += ": ";
      transfer.response.transport_error += handle->error.data();
    }
  }
  set(CURLOPT_SHARE, nullptr);
  Release(std::move(handle));
  return std::move(transfer.response);
}

}  // namespace ocireg::internal
