// SPDX-License-Identifier: Apache-2.0
// MappedFile: a file's bytes window by window, and a mapping of a file cut short that fails the
// send (EFAULT) instead of ending the process (SIGBUS).
#include "http/mapped_file.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "catch.h"
#include "server/connection_stream.h"
#include "temp_dir.h"

namespace {

using ocireg::FileReader;
using ocireg::Result;
using ocireg::internal::ConnectionStream;
using ocireg::internal::MappedFile;
using ocireg::internal::StreamTimeouts;
using ocireg::testing::TempDir;

constexpr size_t kWindow = MappedFile::kWindowBytes;

// A reader over one open file that offers its descriptor, as the file-system driver's does.
class DescriptorReader final : public FileReader {
 public:
  explicit DescriptorReader(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), size_(std::filesystem::file_size(path)) {}
  ~DescriptorReader() override {
    if (fd_ >= 0) ::close(fd_);
  }
  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override {
    ssize_t n = ::pread(fd_, buffer.data(), buffer.size(), static_cast<off_t>(offset));
    return static_cast<size_t>(n < 0 ? 0 : n);
  }
  int file_descriptor() const override { return fd_; }

 private:
  const int fd_;
  const uint64_t size_;
};

std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 11);
  return bytes;
}

std::filesystem::path WriteFile(const TempDir& dir, const std::string& bytes) {
  std::filesystem::path path = dir.path() / "blob";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

}  // namespace

TEST_CASE("MappedFile gives a file's bytes from any offset, one window at a time",
          "[unit][mapped-file]") {
  TempDir dir;
  const std::string bytes = Pattern(2 * kWindow + 4097);
  MappedFile file(std::make_unique<DescriptorReader>(WriteFile(dir, bytes)));
  REQUIRE(file.size() == bytes.size());

  SECTION("read through in pieces, no piece crosses a window's end") {
    std::string seen;
    while (seen.size() < bytes.size()) {
      auto piece = file.At(seen.size(), 1 << 20);
      REQUIRE_FALSE(piece.empty());
      CHECK(seen.size() / kWindow == (seen.size() + piece.size() - 1) / kWindow);
      seen.append(piece.data(), piece.size());
    }
    CHECK(seen == bytes);
  }
  SECTION("offsets inside windows, backwards and forwards") {
    for (uint64_t offset : {kWindow - 3, size_t{17}, 2 * kWindow + 4000, kWindow, size_t{0}}) {
      INFO(offset);
      auto piece = file.At(offset, 10);
      const size_t expected = std::min<size_t>(10, kWindow - offset % kWindow);
      REQUIRE(piece.size() == std::min<size_t>(expected, bytes.size() - offset));
      CHECK(std::string(piece.data(), piece.size()) == bytes.substr(offset, piece.size()));
    }
  }
  SECTION("nothing at or past the end, nor for a zero length") {
    CHECK(file.At(bytes.size(), 10).empty());
    CHECK(file.At(bytes.size() + kWindow, 10).empty());
    CHECK(file.At(5, 0).empty());
    CHECK(file.At(bytes.size() - 1, 10).size() == 1);
  }
}

TEST_CASE("A mapping of a file cut short fails its send with EFAULT, and the process goes on",
          "[unit][mapped-file]") {
  TempDir dir;
  const std::string bytes = Pattern(4 << 20);
  const std::filesystem::path path = WriteFile(dir, bytes);
  MappedFile file(std::make_unique<DescriptorReader>(path));
  auto piece = file.At(0, bytes.size());
  REQUIRE(piece.size() == bytes.size());
  std::filesystem::resize_file(path, 4096);

  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  size_t received = 0;
  std::thread reader([&] {
    char sink[65536];
    for (ssize_t n; (n = ::read(fds[1], sink, sizeof(sink))) > 0;) received += n;
  });
  StreamTimeouts timeouts;
  timeouts.write = std::chrono::milliseconds(2000);
  {
    ConnectionStream stream(fds[0], nullptr, timeouts);  // owns fds[0]
    // Only the kernel reads the pages past the new end: send() gets EFAULT, where a read of
    // them here would raise SIGBUS and end the test.
    CHECK(stream.write(piece.data(), piece.size()) == -1);
  }
  reader.join();
  ::close(fds[1]);
  CHECK(received <= 4096);
}
