// SPDX-License-Identifier: Apache-2.0
// Blob endpoints: GET/HEAD /v2/<name>/blobs/<digest> (end-2, with Range) and DELETE (end-10).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "http/api.h"
#include "http/current_connection.h"
#include "http/io_buffer.h"
#include "http/mapped_file.h"
#include "http/response.h"

namespace ocireg::internal {
namespace {

constexpr const char* kBlobType = "application/octet-stream";

constexpr size_t kBlobReadBytes = 1 << 20;

// Streams bytes [first, first + length) of `reader` in kBlobReadBytes pieces. httplib calls the
// provider with offsets relative to the response body; the reader is released with the response.
void StreamBlob(httplib::Response& res, std::unique_ptr<FileReader> reader, uint64_t first,
                uint64_t length, const std::atomic<bool>& abort) {
  auto shared_reader = std::shared_ptr<FileReader>(std::move(reader));
  auto buffer = std::make_shared<IoBuffer>(std::min<uint64_t>(length, kBlobReadBytes));
  res.set_content_provider(
      static_cast<size_t>(length), kBlobType,
      [shared_reader, buffer, first, &abort](size_t offset, size_t want, httplib::DataSink& sink) {
        if (abort.load()) return false;
        auto got = shared_reader->ReadAt(
            first + offset, buffer->writable().first(std::min(want, buffer->capacity())));
        // A short file (it changed under us, or an I/O error) must not pass for the blob: failing
        // closes the connection before Content-Length bytes went out, so the client notices.
        if (!got.ok() || *got == 0) return false;
        return sink.write(buffer->writable().data(), *got);
      },
      [shared_reader](bool) {});
}

// The same, sent from a mapping of the reader's file (mapped_file.h): one copy per byte instead of
// two. Only for a connection that sends as it is, so that no byte of the mapping is read by this
// process. Pieces stay kBlobReadBytes, so the abort check applies as often as when copying.
void StreamMappedBlob(httplib::Response& res, std::unique_ptr<FileReader> reader, uint64_t first,
                      uint64_t length, const std::atomic<bool>& abort) {
  auto file = std::make_shared<MappedFile>(std::move(reader));
  res.set_content_provider(
      static_cast<size_t>(length), kBlobType,
      [file, first, &abort](size_t offset, size_t want, httplib::DataSink& sink) {
        if (abort.load()) return false;
        auto bytes = file->At(first + offset, std::min(want, kBlobReadBytes));
        // As when copying, a file that shrank fails the response part-way (here through the
        // window's end, or through send's EFAULT inside sink.write).
        if (bytes.empty()) return false;
        return sink.write(bytes.data(), bytes.size());
      },
      [file](bool) {});
}

}  // namespace

void Api::GetBlob(Exchange& ex) {
  auto digest = Digest::Parse(ex.route.reference);
  if (!digest.ok()) return Fail(ex, digest.status());

  if (ex.route.method == Method::kHead) {
    auto info = store_.StatBlob(ex.route.name, *digest);
    if (!info.ok()) return Fail(ex, info.status(), ErrorCode::kBlobUnknown);
    ex.res.status = 200;
    ex.res.set_header("Docker-Content-Digest", digest->ToString());
    ex.res.set_header("Accept-Ranges", "bytes");
    // No body for HEAD: httplib keeps a Content-Length we set when the body is empty.
    ex.res.set_header("Content-Type", kBlobType);
    ex.res.set_header("Content-Length", std::to_string(info->size));
    return;
  }

  auto reader = store_.OpenBlob(ex.route.name, *digest);
  if (!reader.ok()) return Fail(ex, reader.status(), ErrorCode::kBlobUnknown);
  const uint64_t size = (*reader)->size();
  uint64_t first = 0;
  uint64_t length = size;
  // One range is served as 206; several are allowed to be ignored (RFC 9110 14.2), as we do.
  if (ex.ranges.size() == 1) {
    auto range = ResolveRange(ex.ranges.front(), size);
    if (!range) {
      ex.res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return Fail(ex, RangeInvalid("range not satisfiable for a blob of " + std::to_string(size) +
                                   " bytes"));
    }
    first = range->first;
    length = range->second - range->first + 1;
    ex.res.status = 206;
    ex.res.set_header("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                           std::to_string(range->second) + "/" +
                                           std::to_string(size));
  } else {
    ex.res.status = 200;
  }
  ex.res.set_header("Docker-Content-Digest", digest->ToString());
  ex.res.set_header("Accept-Ranges", "bytes");
  if (length == 0) {
    // A zero-length provider sends neither Content-Length nor chunked framing (the client
    // hangs); an empty string body gets Content-Length: 0.
    ex.res.set_content("", kBlobType);
    return;
  }
  RequestConnection* connection = CurrentConnection();
  if (connection != nullptr && connection->SendsAsIs() && (*reader)->file_descriptor() >= 0) {
    return StreamMappedBlob(ex.res, std::move(*reader), first, length, aborting);
  }
  StreamBlob(ex.res, std::move(*reader), first, length, aborting);
}

void Api::DeleteBlob(Exchange& ex) {
  auto digest = Digest::Parse(ex.route.reference);
  if (!digest.ok()) return Fail(ex, digest.status());
  Status status = store_.DeleteBlob(ex.route.name, *digest);
  if (!status.ok()) return Fail(ex, status, ErrorCode::kBlobUnknown);
  ex.res.status = 202;
  ex.res.set_header("Content-Length", "0");
}

}  // namespace ocireg::internal
