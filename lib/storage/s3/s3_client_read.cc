// SPDX-License-Identifier: Apache-2.0
// S3Client's ranged reads: ReadRange into the caller's buffer and GetStream to a sink, both
// resuming after the bytes already delivered when an attempt fails midway.
#include <algorithm>
#include <cstring>
#include <limits>

#include "storage/s3/s3_client.h"
#include "storage/s3/s3_client_call.h"

namespace ocireg::internal::s3 {

namespace {

constexpr uint64_t kToTheEnd = std::numeric_limits<uint64_t>::max();

// The bytes [offset, offset + length) of an object, handed to `deliver` in order, each once.
class RangeReader {
 public:
  RangeReader(uint64_t offset, uint64_t length, std::function<bool(std::string_view)> deliver)
      : offset_(offset), length_(length), deliver_(std::move(deliver)) {}

  // "Range: bytes=<first not yet delivered>-<last>".
  void SetRange(std::vector<HeaderField>& headers) {
    seen_this_attempt_ = 0;
    std::string range = "bytes=" + std::to_string(offset_ + delivered_) + "-";
    if (length_ != kToTheEnd) range += std::to_string(offset_ + length_ - 1);
    headers.emplace_back("range", std::move(range));
  }

  // A piece of the answer. A 206 holds just the range asked for; a 200 (a server that ignored
  // Range) holds the whole object, whose bytes before the range are skipped.
  bool Take(long status, std::string_view piece) {
    if (status == 200) {
      const uint64_t position = seen_this_attempt_;
      const uint64_t wanted = offset_ + delivered_;
      seen_this_attempt_ += piece.size();
      if (wanted > position) {
        piece.remove_prefix(
            static_cast<size_t>(std::min<uint64_t>(wanted - position, piece.size())));
      }
    }
    const uint64_t room = length_ - delivered_;
    if (piece.size() > room) {
      if (status != 200) return false;  // more than asked for: not an answer to our request
      piece = piece.substr(0, static_cast<size_t>(room));
    }
    if (piece.empty()) return true;
    if (!deliver_(piece)) return false;
    delivered_ += piece.size();
    return true;
  }

 private:
  const uint64_t offset_;
  const uint64_t length_;
  std::function<bool(std::string_view)> deliver_;
  uint64_t delivered_ = 0;
  uint64_t seen_this_attempt_ = 0;  // bytes of a 200 answer received in the current attempt
};

}  // namespace

Result<size_t> S3Client::ReadRange(std::string_view key, uint64_t offset, std::span<char> out) {
  size_t filled = 0;
  OCIREG_RETURN_IF_ERROR(GetStream(key, offset, out.size(), [&](std::string_view piece) {
    std::memcpy(out.data() + filled, piece.data(), piece.size());
    filled += piece.size();
    return true;
  }));
  return filled;
}

Status S3Client::GetStream(std::string_view key, uint64_t offset, uint64_t length,
                           const std::function<bool(std::string_view piece)>& sink,
                           const std::atomic<bool>* cancel) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  if (length == 0) return Status::Ok();
  if (length != kToTheEnd) length = std::min(length, kToTheEnd - offset);
  RangeReader reader(offset, length, sink);
  return Execute({.op = S3Operation::kGetObject,
                  .method = "GET",
                  .key = key,
                  .on_body = [&](long code, std::string_view p) { return reader.Take(code, p); },
                  .cancel = cancel,
                  .before_attempt = [&](auto& headers) { reader.SetRange(headers); },
                  .accept = [](const HttpResponse& r) { return r.status == 416; }})
      .status;
}

}  // namespace ocireg::internal::s3
