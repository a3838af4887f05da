// SPDX-License-Identifier: Apache-2.0
// ChunkedFraming: the framing of a request body sent with `Transfer-Encoding: chunked` (RFC 9112
// section 7.1), parsed strictly and within bounds, apart from the chunk data itself.
//
// Why our own: skopeo, podman and buildah send every layer as one chunked PATCH. httplib decodes
// such a body 4 KiB at a time through a line reader without bounds, and leaves the server unsure
// where the body ended, so the connection could not be kept. With this parser the connection
// reads the chunk data straight into the upload's buffer, knows the exact end of the body, and
// refuses what a lenient parser elsewhere might read differently (smuggling):
//   - a chunk size is 1 to 16 hexadecimal digits, nothing before them, no sign, no "0x";
//   - every line ends in CRLF, never a bare LF or CR;
//   - chunk extensions are skipped but bounded with their line, trailer fields are read and
//     dropped (never merged into the request's headers) within a byte and field bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ocireg::internal {

struct ChunkedLimits {
  size_t max_line_bytes = 4096;          // a chunk-size line, extensions included
  size_t max_trailer_bytes = 64 * 1024;  // the trailer section, all its lines
  size_t max_trailer_fields = 100;       // lines of the trailer section
};

class ChunkedFraming {
 public:
  explicit ChunkedFraming(ChunkedLimits limits = {}) : limits_(limits) {}

  // Reads framing bytes from the front of `bytes` and stops where chunk data begins
  // (data_left() > 0), at the end of the body (done()) or at an error (failed()). Returns how
  // many bytes it consumed; those past it are chunk data or the next request.
  size_t Consume(std::string_view bytes);

  // Bytes of chunk data that follow before the next framing.
  uint64_t data_left() const { return data_left_; }
  // Records that `count` (at most data_left()) bytes of chunk data were taken.
  void TookData(uint64_t count);

  bool done() const { return state_ == State::kDone; }
  bool failed() const { return error_ != nullptr; }
  // Why the framing was refused, when failed().
  const char* error() const { return error_; }
  // Bytes of chunk data announced so far (the decoded body's size once done()).
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State {
    kSizeFirst,     // the first hex digit of a chunk size
    kSize,          // further digits, or the end of the size
    kExtension,     // chunk extensions, skipped up to CR
    kSizeLf,        // LF after the size line's CR
    kData,          // chunk data (data_left_ bytes)
    kDataCr,        // CR after chunk data
    kDataLf,        // LF after chunk data
    kTrailerStart,  // the start of a trailer line, or the CR of the final empty line
    kTrailer,       // inside a trailer line
    kTrailerLf,     // LF after a trailer line
    kEndLf,         // LF of the final empty line
    kDone,
  };

  // Takes one framing byte; false when it is refused (error_ is set).
  bool Step(char c);
  // The LF that ends a size line: chunk data follows, or the trailers after the last chunk.
  bool EndSizeLine(char c);
  // Moves to `next` (true); moves to `next` when `c` is `wanted`, else fails with `why`.
  bool Go(State next);
  bool Expect(char c, char wanted, State next, const char* why);
  bool Fail(const char* why);

  ChunkedLimits limits_;
  State state_ = State::kSizeFirst;
  uint64_t size_ = 0;  // the chunk size being read
  size_t size_digits_ = 0;
  size_t line_bytes_ = 0;  // bytes of the current size line
  uint64_t data_left_ = 0;
  uint64_t body_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  size_t trailer_fields_ = 0;
  const char* error_ = nullptr;
};

}  // namespace ocireg::internal
