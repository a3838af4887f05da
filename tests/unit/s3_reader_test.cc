// SPDX-License-Identifier: Apache-2.0
// S3Reader and ObjectStream against a scripted S3: a reader going on through an object gets its
// bytes from one GET, single reads fetch what they ask for, and a reader that leaves early ends
// its GET.
#include "storage/s3/s3_reader.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "fake_s3.h"
#include "status_macros.h"

namespace {

using namespace ocireg::internal::s3;
using ocireg::testing::FakeS3;
using ocireg::testing::MakeClient;

// An object of `size` bytes that differ from their neighbours, so a misplaced byte shows.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7 + i / 251);
  return bytes;
}

// Serves `object` at any key, honouring Range (httplib cuts it out of the body).
FakeS3::Handler Serving(const std::string& object) {
  return [&object](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(object, "application/octet-stream");
  };
}

// Reads all of `reader` front to back in pieces of `piece` bytes.
std::string ReadAll(S3Reader& reader, size_t piece) {
  std::string out;
  std::vector<char> buffer(piece);
  while (out.size() < reader.size()) {
    auto got = reader.ReadAt(out.size(), buffer);
    REQUIRE_OK(got);
    REQUIRE(*got > 0);
    out.append(buffer.data(), *got);
  }
  return out;
}

TEST_CASE("S3Reader reads an object front to back with two GETs", "[unit][s3]") {
  const std::string object = Pattern(3 * ObjectStream::kBufferBytes + 12345);
  FakeS3 s3(Serving(object));
  auto client = MakeClient(s3.Options());
  S3Reader reader(*client, "blob", object.size());
  CHECK(ReadAll(reader, 1 << 20) == object);
  // The first read alone, then one stream from the second read to the end.
  CHECK(s3.targets() == std::vector<std::string>{"GET /bucket/blob", "GET /bucket/blob"});
  std::vector<char> buffer(16);
  auto past = reader.ReadAt(object.size(), buffer);
  REQUIRE_OK(past);
  CHECK(*past == 0);
}

TEST_CASE("S3Reader serves reads that jump with single ranged GETs", "[unit][s3]") {
  const std::string object = Pattern(1 << 20);
  FakeS3 s3(Serving(object));
  auto client = MakeClient(s3.Options());
  S3Reader reader(*client, "blob", object.size());
  std::vector<char> buffer(100);
  for (uint64_t offset : {5000u, 100u, 900000u, 1048526u}) {
    auto got = reader.ReadAt(offset, buffer);
    REQUIRE_OK(got);
    const size_t expected = std::min<size_t>(100, object.size() - offset);
    REQUIRE(*got == expected);
    CHECK(std::string(buffer.data(), *got) == object.substr(offset, expected));
  }
  CHECK(s3.requests() == 4);
}

TEST_CASE("ObjectStream stops its GET when the reader leaves early", "[unit][s3]") {
  const std::string object = Pattern(8 * ObjectStream::kBufferBytes);
  FakeS3 s3(Serving(object));
  auto client = MakeClient(s3.Options());
  {
    ObjectStream stream(*client, "blob", 10, object.size());
    std::vector<char> buffer(1000);
    auto got = stream.Read(buffer);
    REQUIRE_OK(got);
    CHECK(*got == 1000);
    CHECK(std::string(buffer.data(), 1000) == object.substr(10, 1000));
    CHECK(stream.position() == 1010);
  }  // gone with most of the object unread: the destructor must not wait for the rest
  CHECK(s3.requests() == 1);
}

TEST_CASE("ObjectStream stops its GET also while the gateway sends nothing", "[unit][s3]") {
  // The gateway sends a first piece, then nothing until the test lets it go on.
  std::atomic<bool> go_on{false};
  FakeS3 s3([&](const httplib::Request&, httplib::Response& res, int) {
    res.set_content_provider(1 << 20, "application/octet-stream",
                             [&](size_t offset, size_t, httplib::DataSink& sink) {
                               if (offset == 0)
                                 return sink.write(std::string(4096, 'x').data(), 4096);
                               // Bounded: the test lets it go on, at the latest after a minute.
                               for (int i = 0; i < 6000 && !go_on; ++i) {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(10));
                               }
                               return false;
                             });
  });
  ocireg::S3Options options = s3.Options();
  // Far longer than the test may take: only the cancel can end the GET in time.
  options.idle_timeout = std::chrono::minutes(10);
  auto client = MakeClient(options);
  {
    ObjectStream stream(*client, "blob", 0, 1 << 20);
    std::vector<char> buffer(4096);
    auto got = stream.Read(buffer);
    REQUIRE_OK(got);
    CHECK(*got == 4096);
  }  // gone while the GET waits for bytes that do not come
  go_on = true;
  CHECK(s3.requests() == 1);
}

}  // namespace
