// SPDX-License-Identifier: Apache-2.0
// ChunkedFraming: a byte-at-a-time state machine over the framing; chunk data never passes here.
#include "http/chunked_framing.h"

namespace ocireg::internal {
namespace {

// 16 hex digits hold any 64-bit size; more can only be padding meant to confuse a parser.
constexpr size_t kMaxSizeDigits = 16;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes a field line or an extension may hold: visible characters, space, tab and obs-text.
bool IsLineByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

bool ChunkedFraming::Fail(const char* why) {
  error_ = why;
  return false;
}

size_t ChunkedFraming::Consume(std::string_view bytes) {
  size_t taken = 0;
  while (taken < bytes.size() && state_ != State::kData && state_ != State::kDone &&
         error_ == nullptr) {
    if (!Step(bytes[taken])) break;
    ++taken;
  }
  return taken;
}

void ChunkedFraming::TookData(uint64_t count) {
  data_left_ -= count;
  if (data_left_ == 0 && state_ == State::kData) state_ = State::kDataCr;
}

bool ChunkedFraming::Go(State next) {
  state_ = next;
  return true;
}

bool ChunkedFraming::Expect(char c, char wanted, State next, const char* why) {
  return c == wanted ? Go(next) : Fail(why);
}

bool ChunkedFraming::EndSizeLine(char c) {
  if (c != '\n') return Fail("chunk size line not ended by CRLF");
  line_bytes_ = 0;
  size_digits_ = 0;
  if (size_ == 0) return Go(State::kTrailerStart);
  data_left_ = size_;
  body_bytes_ += size_;
  size_ = 0;
  return Go(State::kData);
}

bool ChunkedFraming::Step(char c) {
  if (state_ == State::kSizeFirst || state_ == State::kSize || state_ == State::kExtension ||
      state_ == State::kSizeLf) {
    if (++line_bytes_ > limits_.max_line_bytes) return Fail("chunk size line too long");
  }
  switch (state_) {
    case State::kSizeFirst:
    case State::kSize: {
      const int digit = HexValue(c);
      if (digit >= 0) {
        if (++size_digits_ > kMaxSizeDigits) return Fail("chunk size too large");
        size_ = size_ * 16 + static_cast<uint64_t>(digit);
        return Go(State::kSize);
      }
      if (state_ == State::kSizeFirst) return Fail("chunk size missing");
      if (c == '\r') return Go(State::kSizeLf);
      if (c == ';' || c == ' ' || c == '\t') return Go(State::kExtension);
      return Fail("malformed chunk size");
    }
    case State::kExtension:
      if (c == '\r') return Go(State::kSizeLf);
      return IsLineByte(c) ? true : Fail("malformed chunk extension");
    case State::kSizeLf:
      return EndSizeLine(c);
    case State::kDataCr:
      return Expect(c, '\r', State::kDataLf, "chunk data longer than its size");
    case State::kDataLf:
      return Expect(c, '\n', State::kSizeFirst, "chunk data not ended by CRLF");
    case State::kTrailerStart:
      if (c == '\r') return Go(State::kEndLf);
      if (++trailer_fields_ > limits_.max_trailer_fields) return Fail("too many trailer fields");
      state_ = State::kTrailer;
      [[fallthrough]];
    case State::kTrailer:
      if (++trailer_bytes_ > limits_.max_trailer_bytes) return Fail("trailer section too large");
      if (c == '\r') return Go(State::kTrailerLf);
      return IsLineByte(c) ? true : Fail("malformed trailer field");
    case State::kTrailerLf:
      return Expect(c, '\n', State::kTrailerStart, "trailer field not ended by CRLF");
    case State::kEndLf:
      return Expect(c, '\n', State::kDone, "chunked body not ended by CRLF");
    case State::kData:
    case State::kDone:
      break;
  }
  return Fail("unexpected framing byte");
}

}  // namespace ocireg::internal
