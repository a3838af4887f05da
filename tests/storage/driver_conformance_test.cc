// SPDX-License-Identifier: Apache-2.0
// One suite for every StorageDriver (driver.h): the fs and memory drivers must behave alike, and
// the S3 driver as far as an object store can (see DRIVER_FIXTURES).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.h"
#include "fault_driver.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/forwarding_driver.h"
#include "status_macros.h"
#include "storage/path.h"

#ifdef OCIREG_TEST_S3
#include "s3_backend.h"
#endif

namespace ocireg {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// File systems stamp times from a coarse clock that may lag system_clock by a tick.
constexpr auto kClockSlack = std::chrono::seconds(2);

// A fresh directory under the build tree, removed with its content when the test ends.
class TestDir {
 public:
  TestDir() : path_(NextPath()) { fs::remove_all(path_); }
  ~TestDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  static std::string NextPath() {
    static std::atomic<int> counter{0};
    return std::string(OCIREG_TEST_TMPDIR) + "/driver-test-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
  }

  std::string path_;
};

std::unique_ptr<StorageDriver> OpenFsDriver(const std::string& root) {
  Result<std::unique_ptr<StorageDriver>> driver = NewFsDriver(root);
  REQUIRE_OK(driver);
  return std::move(*driver);
}

// The drivers under test, one fixture each; `driver` is what the suite talks to.
struct FsDriverFixture {
  TestDir dir;
  std::unique_ptr<StorageDriver> driver = OpenFsDriver(dir.path());
};
struct MemoryDriverFixture {
  std::unique_ptr<StorageDriver> driver = NewMemoryDriver();
};
// The memory driver behind a ForwardingDriver: the wrapper must change nothing a driver does.
struct ForwardingDriverFixture {
  std::unique_ptr<StorageDriver> driver = std::make_unique<ForwardingDriver>(NewMemoryDriver());
};

// The contract of every driver runs over DRIVER_FIXTURES: the fs, memory and forwarding drivers,
// or, in the S3 test executable (tests/s3, built with OCIREG_TEST_S3), the S3 driver over a fresh
// prefix of the test gateway's bucket. What a POSIX file system does beyond that contract, and the
// memory driver copies, runs over POSIX_DRIVER_FIXTURES only: readers that outlive the removal or
// replacement of their file, a linked name that keeps the content after the other name goes, and
// directories as entries of their own (they stay when emptied, have a time, and are never files).
// An object store does none of these (driver.h).
#ifdef OCIREG_TEST_S3
struct S3DriverFixture {
  std::unique_ptr<StorageDriver> driver = testing::OpenS3Driver(testing::FreshS3Options());
};
#define DRIVER_FIXTURES S3DriverFixture
#else
#define DRIVER_FIXTURES FsDriverFixture, MemoryDriverFixture, ForwardingDriverFixture
#endif
#define POSIX_DRIVER_FIXTURES FsDriverFixture, MemoryDriverFixture, ForwardingDriverFixture

std::span<const char> Bytes(std::string_view text) { return {text.data(), text.size()}; }

std::string ReadAll(StorageDriver& driver, std::string_view path) {
  Result<std::string> content = driver.ReadFile(path);
  REQUIRE_OK(content);
  return *content;
}

void Write(StorageDriver& driver, std::string_view path, std::string_view data) {
  REQUIRE_OK(driver.WriteFileAtomic(path, data));
}

std::set<std::string> ListSet(StorageDriver& driver, std::string_view path) {
  Result<std::vector<std::string>> names = driver.List(path);
  REQUIRE_OK(names);
  std::set<std::string> unique(names->begin(), names->end());
  CHECK(unique.size() == names->size());
  return unique;
}

std::string ReadRange(FileReader& reader, uint64_t offset, size_t length) {
  std::string buffer(length, '\0');
  Result<size_t> count = reader.ReadAt(offset, buffer);
  REQUIRE_OK(count);
  REQUIRE(*count <= length);
  buffer.resize(*count);
  return buffer;
}

std::unique_ptr<FileReader> OpenReader(StorageDriver& driver, std::string_view path) {
  Result<std::unique_ptr<FileReader>> reader = driver.OpenReader(path);
  REQUIRE_OK(reader);
  return std::move(*reader);
}

std::unique_ptr<BlobWriter> OpenWriter(StorageDriver& driver, std::string_view path) {
  Result<std::unique_ptr<BlobWriter>> writer = driver.OpenBlobWriter(path);
  REQUIRE_OK(writer);
  return std::move(*writer);
}

// Writes `data` through a blob writer and commits it at `path`.
void Commit(StorageDriver& driver, std::string_view path, std::string_view data) {
  std::unique_ptr<BlobWriter> writer = OpenWriter(driver, std::string(path) + ".writing");
  REQUIRE_OK(writer->Append(Bytes(data)));
  REQUIRE_OK(writer->Commit(path));
}

bool IsDirectory(StorageDriver& driver, std::string_view path) {
  Result<FileInfo> info = driver.Stat(path);
  return info.ok() && info->is_directory;
}

// Sets the modification time of a file of the process's file system `age` into the past.
void Age(const std::string& path, std::chrono::seconds age) {
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = ::time(nullptr) - age.count();
  times[0].tv_nsec = times[1].tv_nsec = 0;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

// Versions written concurrently: "<writer>:<round>|" then a body of one letter whose length depends
// on both, so a torn or mixed read never passes IsCompleteVersion.
std::string Version(int writer, int round) {
  std::string header = std::to_string(writer) + ":" + std::to_string(round) + "|";
  return header + std::string(4096 + 997 * writer + 31 * round, static_cast<char>('a' + writer));
}

bool IsCompleteVersion(const std::string& content) {
  size_t colon = content.find(':');
  size_t bar = content.find('|');
  if (colon == std::string::npos || bar == std::string::npos || colon > bar) return false;
  int writer = std::stoi(content.substr(0, colon));
  int round = std::stoi(content.substr(colon + 1, bar - colon - 1));
  return content == Version(writer, round);
}

// Collects failures of worker threads; Catch's assertions belong to the main thread.
class Failures {
 public:
  void Add(const std::string& what) {
    std::lock_guard lock(mu_);
    messages_.push_back(what);
  }
  void Check(const Status& status, const std::string& what) {
    if (!status.ok()) Add(what + ": " + status.ToString());
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("driver paths are validated and split", "[driver][path]") {
  using internal::BaseName;
  using internal::JoinPath;
  using internal::ParentPath;
  using internal::ValidateDriverPath;

  for (std::string_view good :
       {"a", "a/b", "team/app/index.json", ".hidden", "a..b", "...", "_b/x"}) {
    INFO(good);
    CHECK_OK(ValidateDriverPath(good));
  }
  for (std::string_view bad :
       {"", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "../a", "a/./b"}) {
    INFO(bad);
    CHECK(ValidateDriverPath(bad).code() == ErrorCode::kInvalidArgument);
  }
  Status with_nul = ValidateDriverPath(std::string_view("a\0b", 3));
  CHECK(with_nul.code() == ErrorCode::kInvalidArgument);
  CHECK(with_nul.message().find('\0') == std::string::npos);

  CHECK(JoinPath("", "b") == "b");
  CHECK(JoinPath("a", "") == "a");
  CHECK(JoinPath("a/b", "c/d") == "a/b/c/d");
  CHECK(ParentPath("a/b/c") == "a/b");
  CHECK(ParentPath("a") == "");
  CHECK(BaseName("a/b/c") == "c");
  CHECK(BaseName("a") == "a");
}

TEMPLATE_TEST_CASE("a driver refuses invalid paths with kInvalidArgument", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "ok", "x");
  const std::vector<std::string> bad_paths = {
      "", "/abs", "a/", "a//b", ".", "..", "./a", "a/./b", "a/..", "../a", std::string("a\0b", 3)};
  for (const std::string& bad : bad_paths) {
    INFO("path: " << bad);
    CHECK_CODE(driver.Stat(bad), ErrorCode::kInvalidArgument);
    if (!bad.empty()) CHECK_CODE(driver.List(bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.ReadFile(bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.WriteFileAtomic(bad, "x"), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.OpenReader(bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.OpenBlobWriter(bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(OpenWriter(driver, "w")->Commit(bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.Link("ok", bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.Link(bad, "linked"), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.Remove(bad), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.RemoveTree(bad), ErrorCode::kInvalidArgument);
  }
  // Nothing was created, moved or removed (but the writer "w").
  CHECK_CODE(driver.RemoveTree("w"), ErrorCode::kOk);
  CHECK(ListSet(driver, "") == std::set<std::string>{"ok"});
  CHECK(ReadAll(driver, "ok") == "x");
}

TEMPLATE_TEST_CASE("WriteFileAtomic and ReadFile round-trip, replace, and create parents",
                   "[driver]", DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;

  Write(driver, "team/app/index.json", "{}");
  CHECK(ReadAll(driver, "team/app/index.json") == "{}");
  CHECK(ListSet(driver, "team") == std::set<std::string>{"app"});
  CHECK(ListSet(driver, "team/app") == std::set<std::string>{"index.json"});

  SECTION("replacing with longer, shorter and empty content") {
    Write(driver, "team/app/index.json", "{\"manifests\": []}");
    CHECK(ReadAll(driver, "team/app/index.json") == "{\"manifests\": []}");
    Write(driver, "team/app/index.json", "[]");
    CHECK(ReadAll(driver, "team/app/index.json") == "[]");
    Write(driver, "team/app/index.json", "");
    CHECK(ReadAll(driver, "team/app/index.json").empty());
    Result<FileInfo> info = driver.Stat("team/app/index.json");
    REQUIRE_OK(info);
    CHECK(info->size == 0);
  }
  SECTION("binary and large content") {
    std::string binary("\0\x01\xff\n\r\0z", 7);
    Write(driver, "bin", binary);
    CHECK(ReadAll(driver, "bin") == binary);
    std::string large(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7 + i / 4096);
    Write(driver, "deep/er/still/large", large);
    CHECK(ReadAll(driver, "deep/er/still/large") == large);
  }
  SECTION("StatFile sees files alone") {
    Result<FileInfo> info = driver.StatFile("team/app/index.json");
    REQUIRE_OK(info);
    CHECK(info->size == 2);
    CHECK(!info->is_directory);
    CHECK_CODE(driver.StatFile("team/app"), ErrorCode::kNotFound);
    CHECK_CODE(driver.StatFile("team/app/missing"), ErrorCode::kNotFound);
    CHECK_CODE(driver.StatFile("../escape"), ErrorCode::kInvalidArgument);
  }
  SECTION("missing files are kNotFound") {
    CHECK_CODE(driver.ReadFile("missing"), ErrorCode::kNotFound);
    CHECK_CODE(driver.ReadFile("team/app/missing"), ErrorCode::kNotFound);
    CHECK_CODE(driver.ReadFile("team/app/index.json/below"), ErrorCode::kNotFound);
    CHECK_CODE(driver.ReadFile("nowhere/at/all"), ErrorCode::kNotFound);
  }
}

TEMPLATE_TEST_CASE("ReplaceFile swaps only the version read, and a changed file reads again",
                   "[driver]", DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  CHECK_CODE(driver.ReadVersioned("team/app/index.json"), ErrorCode::kNotFound);
  CHECK_CODE(driver.ReadVersionedIfChanged("team/app/index.json", ""), ErrorCode::kNotFound);
  // Only while it does not exist (empty version), then only over the version read.
  auto first = driver.ReplaceFile("team/app/index.json", "one", "");
  REQUIRE_OK(first);
  CHECK_CODE(driver.ReplaceFile("team/app/index.json", "lost", ""), ErrorCode::kAlreadyExists);
  auto read = driver.ReadVersioned("team/app/index.json");
  REQUIRE_OK(read);
  CHECK(read->data == "one");
  CHECK(read->version == *first);

  // Unchanged: nothing to read again.
  auto same = driver.ReadVersionedIfChanged("team/app/index.json", read->version);
  REQUIRE_OK(same);
  CHECK(!same->has_value());

  auto second = driver.ReplaceFile("team/app/index.json", "two", read->version);
  REQUIRE_OK(second);
  CHECK(*second != *first);
  CHECK_CODE(driver.ReplaceFile("team/app/index.json", "lost", read->version),
             ErrorCode::kAlreadyExists);
  // Changed since: the new content and version.
  auto changed = driver.ReadVersionedIfChanged("team/app/index.json", read->version);
  REQUIRE_OK(changed);
  REQUIRE(changed->has_value());
  CHECK((*changed)->data == "two");
  CHECK((*changed)->version == *second);
  CHECK(ReadAll(driver, "team/app/index.json") == "two");
}

TEMPLATE_TEST_CASE("nothing is found below a file, and a directory has no content", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "file", "f");
  Write(driver, "dir/inner", "i");

  CHECK_CODE(driver.List("file"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Stat("file/x"), ErrorCode::kNotFound);
  CHECK_CODE(driver.ReadFile("file/x"), ErrorCode::kNotFound);
  CHECK_CODE(driver.OpenReader("file/x"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Remove("file/x"), ErrorCode::kNotFound);
  CHECK_CODE(driver.RemoveTree("file/x"), ErrorCode::kOk);
  // A file system refuses these with kInternal, an object store has no such file: kNotFound.
  CHECK(!driver.ReadFile("dir").ok());
  CHECK(!driver.OpenReader("dir").ok());
  CHECK(!driver.Remove("dir").ok());
  CHECK(!driver.Link("dir", "linked").ok());
  CHECK_CODE(driver.Stat("linked"), ErrorCode::kNotFound);
  CHECK(ReadAll(driver, "dir/inner") == "i");
  CHECK(ReadAll(driver, "file") == "f");
  CHECK(ListSet(driver, "") == std::set<std::string>{"dir", "file"});
}

TEMPLATE_TEST_CASE("files and directories in each other's place are errors", "[driver][posix]",
                   POSIX_DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "file", "f");
  Write(driver, "dir/inner", "i");

  SECTION("a file cannot be a parent") {
    CHECK_CODE(driver.WriteFileAtomic("file/x", "y"), ErrorCode::kInternal);
    CHECK_CODE(driver.OpenBlobWriter("file/x"), ErrorCode::kInternal);
    CHECK_CODE(driver.Link("dir/inner", "file/x"), ErrorCode::kInternal);
    CHECK_CODE(driver.List("file"), ErrorCode::kNotFound);
    CHECK_CODE(driver.Stat("file/x"), ErrorCode::kNotFound);
    CHECK_CODE(driver.Remove("file/x"), ErrorCode::kNotFound);
    CHECK_CODE(driver.RemoveTree("file/x"), ErrorCode::kOk);
    CHECK(ReadAll(driver, "dir/inner") == "i");
  }
  SECTION("a directory is not a file") {
    CHECK_CODE(driver.ReadFile("dir"), ErrorCode::kInternal);
    CHECK_CODE(driver.OpenReader("dir"), ErrorCode::kInternal);
    CHECK_CODE(driver.WriteFileAtomic("dir", "x"), ErrorCode::kInternal);
    CHECK_CODE(driver.OpenBlobWriter("dir"), ErrorCode::kInternal);
    CHECK_CODE(driver.Remove("dir"), ErrorCode::kInternal);
    CHECK_CODE(driver.Link("dir", "linked"), ErrorCode::kInternal);
    CHECK_CODE(driver.Link("file", "dir"), ErrorCode::kAlreadyExists);
    CHECK(ReadAll(driver, "dir/inner") == "i");
    CHECK(ReadAll(driver, "file") == "f");
    CHECK(ListSet(driver, "") == std::set<std::string>{"dir", "file"});
  }
}

TEMPLATE_TEST_CASE("blob writers append, resume at their checkpoint and commit", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;

  std::unique_ptr<BlobWriter> writer = OpenWriter(driver, "_uploads/1/data");
  CHECK(writer->size() == 0);
  CHECK(writer->state().empty());
  REQUIRE_OK(writer->Append(Bytes("hello")));
  REQUIRE_OK(writer->Append(Bytes(" world")));
  REQUIRE_OK(writer->Append(Bytes("")));
  CHECK(writer->size() == 11);
  REQUIRE_OK(writer->Checkpoint("state-11"));
  writer.reset();

  // Reopening resumes at the checkpoint, with its state, or (where the backend keeps no state)
  // with the bytes readable to rebuild it.
  writer = OpenWriter(driver, "_uploads/1/data");
  CHECK(writer->size() == 11);
  if (writer->state().empty()) {
    Result<std::unique_ptr<FileReader>> back = writer->OpenReader();
    REQUIRE_OK(back);
    CHECK(ReadRange(**back, 0, 100) == "hello world");
  } else {
    CHECK(writer->state() == "state-11");
  }
  REQUIRE_OK(writer->Append(Bytes("!")));
  CHECK(writer->size() == 12);

  SECTION("commit makes the bytes a file and ends the writer") {
    Clock::time_point before = Clock::now() - kClockSlack;
    REQUIRE_OK(writer->Commit("_blobs/sha256/ab"));
    CHECK(ReadAll(driver, "_blobs/sha256/ab") == "hello world!");
    Result<FileInfo> info = driver.Stat("_blobs/sha256/ab");
    REQUIRE_OK(info);
    CHECK(info->size == 12);
    CHECK(info->modified >= before);
    CHECK_CODE(driver.Stat("_uploads/1/data"), ErrorCode::kNotFound);
    CHECK_CODE(writer->Append(Bytes("more")), ErrorCode::kInvalidArgument);
    CHECK_CODE(writer->Commit("_blobs/sha256/cd"), ErrorCode::kInvalidArgument);
    CHECK_CODE(driver.Stat("_blobs/sha256/cd"), ErrorCode::kNotFound);
    // A new writer at the same path starts empty.
    CHECK(OpenWriter(driver, "_uploads/1/data")->size() == 0);
  }
  SECTION("commit onto an existing file keeps it and refreshes its time") {
    Write(driver, "_blobs/sha256/ab", "hello world!");
    Result<FileInfo> old_info = driver.Stat("_blobs/sha256/ab");
    REQUIRE_OK(old_info);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK_CODE(writer->Commit("_blobs/sha256/ab"), ErrorCode::kAlreadyExists);
    CHECK(ReadAll(driver, "_blobs/sha256/ab") == "hello world!");
    Result<FileInfo> info = driver.Stat("_blobs/sha256/ab");
    REQUIRE_OK(info);
    CHECK(info->modified >= old_info->modified);
    CHECK_CODE(driver.Stat("_uploads/1/data"), ErrorCode::kNotFound);
  }
  SECTION("removing the writer's path discards its bytes") {
    writer.reset();
    REQUIRE_OK(driver.RemoveTree("_uploads/1"));
    CHECK(OpenWriter(driver, "_uploads/1/data")->size() == 0);
  }
}

TEMPLATE_TEST_CASE("a blob of many megabytes commits whole, across a checkpoint", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  // Over S3 (5 MiB parts) two full parts and a tail, written in appends that straddle the parts.
  std::string content(12 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 13 + i / 4099);
  const std::string_view all(content);
  constexpr size_t kAppend = 3 * 1024 * 1024 + 5;
  constexpr size_t kCheckpointAt = 2 * kAppend;

  std::unique_ptr<BlobWriter> writer = OpenWriter(driver, "up/big");
  for (size_t at = 0; at < kCheckpointAt; at += kAppend) {
    REQUIRE_OK(writer->Append(Bytes(all.substr(at, kAppend))));
  }
  REQUIRE_OK(writer->Checkpoint("half"));
  writer = OpenWriter(driver, "up/big");
  REQUIRE(writer->size() == kCheckpointAt);
  for (size_t at = kCheckpointAt; at < content.size(); at += kAppend) {
    REQUIRE_OK(writer->Append(Bytes(all.substr(at, kAppend))));
  }
  CHECK(writer->size() == content.size());
  REQUIRE_OK(writer->Commit("blobs/big"));

  Result<FileInfo> info = driver.Stat("blobs/big");
  REQUIRE_OK(info);
  CHECK(info->size == content.size());
  std::unique_ptr<FileReader> reader = OpenReader(driver, "blobs/big");
  CHECK(reader->size() == content.size());
  for (uint64_t offset :
       {uint64_t{0}, uint64_t{5 * 1024 * 1024 - 3}, uint64_t{content.size() - 9}}) {
    INFO("offset " << offset);
    CHECK(ReadRange(*reader, offset, 100) == all.substr(offset, 100));
  }
  CHECK(ReadAll(driver, "blobs/big") == content);
  REQUIRE_OK(driver.Link("blobs/big", "repo/big"));
  Result<FileInfo> linked = driver.Stat("repo/big");
  REQUIRE_OK(linked);
  CHECK(linked->size == content.size());
  CHECK(ReadAll(driver, "repo/big") == content);
}

TEMPLATE_TEST_CASE("blob writers truncate back to their checkpoint and append from there",
                   "[driver]", DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  std::unique_ptr<BlobWriter> writer = OpenWriter(driver, "up/data");
  REQUIRE_OK(writer->Append(Bytes("kept+")));
  REQUIRE_OK(writer->Checkpoint("s"));
  REQUIRE_OK(writer->Append(Bytes("dropped")));
  REQUIRE_OK(writer->Truncate(5));
  CHECK(writer->size() == 5);
  REQUIRE_OK(writer->Append(Bytes("new")));
  CHECK_CODE(writer->Truncate(9), ErrorCode::kInvalidArgument);
  REQUIRE_OK(writer->Truncate(8));
  CHECK(writer->size() == 8);
  REQUIRE_OK(writer->Commit("done"));
  CHECK(ReadAll(driver, "done") == "kept+new");
}

TEMPLATE_TEST_CASE("readers read at offsets, also from several threads at once", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "blobs/b", "0123456789");
  std::unique_ptr<FileReader> reader = OpenReader(driver, "blobs/b");
  REQUIRE(reader->size() == 10);

  CHECK(ReadRange(*reader, 0, 4) == "0123");
  CHECK(ReadRange(*reader, 3, 4) == "3456");
  CHECK(ReadRange(*reader, 0, 100) == "0123456789");
  CHECK(ReadRange(*reader, 8, 4) == "89");
  CHECK(ReadRange(*reader, 10, 4).empty());
  CHECK(ReadRange(*reader, 1000, 4).empty());
  CHECK(ReadRange(*reader, 2, 0).empty());
  CHECK_CODE(driver.OpenReader("blobs/missing"), ErrorCode::kNotFound);

  SECTION("a replaced file opens with the new content") {
    Write(driver, "blobs/b", "replaced");
    CHECK(ReadRange(*OpenReader(driver, "blobs/b"), 0, 100) == "replaced");
  }
  SECTION("a removed file no longer opens") {
    REQUIRE_OK(driver.Remove("blobs/b"));
    CHECK_CODE(driver.OpenReader("blobs/b"), ErrorCode::kNotFound);
  }
  SECTION("a committed blob reads like a written file") {
    Commit(driver, "blobs/c", "abcdefghij");
    CHECK(ReadRange(*OpenReader(driver, "blobs/c"), 2, 3) == "cde");
  }
  SECTION("ReadAt may be called from several threads at once") {
    std::string content(512 * 1024, '\0');
    for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i % 251);
    Write(driver, "blobs/big", content);
    std::unique_ptr<FileReader> big = OpenReader(driver, "blobs/big");
    Failures failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::string buffer(4099, '\0');
        for (uint64_t offset = t * 1000; offset < content.size(); offset += 4099 * 3) {
          Result<size_t> count = big->ReadAt(offset, buffer);
          if (!count.ok()) return failures.Add(count.status().ToString());
          if (std::string_view(buffer.data(), *count) !=
              std::string_view(content).substr(offset, buffer.size())) {
            return failures.Add("wrong bytes at " + std::to_string(offset));
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(failures.messages() == std::vector<std::string>{});
  }
}

TEMPLATE_TEST_CASE("readers outlive removal and replacement", "[driver][posix]",
                   POSIX_DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "blobs/b", "0123456789");
  std::unique_ptr<FileReader> reader = OpenReader(driver, "blobs/b");

  SECTION("after replacement the old reader keeps the old content") {
    Write(driver, "blobs/b", "replaced");
    CHECK(ReadRange(*reader, 0, 100) == "0123456789");
    CHECK(ReadRange(*OpenReader(driver, "blobs/b"), 0, 100) == "replaced");
  }
  SECTION("after removal the reader still reads") {
    REQUIRE_OK(driver.Remove("blobs/b"));
    CHECK_CODE(driver.OpenReader("blobs/b"), ErrorCode::kNotFound);
    CHECK(ReadRange(*reader, 5, 100) == "56789");
  }
}

TEMPLATE_TEST_CASE("Link shares content, refreshes the time and refuses existing targets",
                   "[driver]", DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Commit(driver, "_blobs/sha256/x", "content");
  Write(driver, "other", "keep");

  Clock::time_point before = Clock::now() - kClockSlack;
  REQUIRE_OK(driver.Link("_blobs/sha256/x", "team/app/blobs/sha256/x"));
  CHECK(ReadAll(driver, "team/app/blobs/sha256/x") == "content");
  CHECK(ListSet(driver, "team/app/blobs/sha256") == std::set<std::string>{"x"});
  Result<FileInfo> info = driver.Stat("team/app/blobs/sha256/x");
  REQUIRE_OK(info);
  CHECK(info->size == 7);
  CHECK(info->modified >= before);
  CHECK(info->modified <= Clock::now() + kClockSlack);

  CHECK_CODE(driver.Link("_blobs/sha256/x", "team/app/blobs/sha256/x"), ErrorCode::kAlreadyExists);
  CHECK_CODE(driver.Link("_blobs/sha256/x", "other"), ErrorCode::kAlreadyExists);
  CHECK(ReadAll(driver, "other") == "keep");

  CHECK_CODE(driver.Link("missing", "y"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Link("missing", "new/dir/y"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Stat("y"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Stat("new"), ErrorCode::kNotFound);

  // The new name may go; the content stays under the first.
  REQUIRE_OK(driver.Remove("team/app/blobs/sha256/x"));
  CHECK_CODE(driver.Stat("team/app/blobs/sha256/x"), ErrorCode::kNotFound);
  CHECK(ReadAll(driver, "_blobs/sha256/x") == "content");
}

TEMPLATE_TEST_CASE("either name of a linked file may go; the content stays under the other",
                   "[driver][posix]", POSIX_DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Commit(driver, "_blobs/sha256/x", "content");
  REQUIRE_OK(driver.Link("_blobs/sha256/x", "team/app/blobs/sha256/x"));
  REQUIRE_OK(driver.Remove("_blobs/sha256/x"));
  CHECK(ReadAll(driver, "team/app/blobs/sha256/x") == "content");
  REQUIRE_OK(driver.Link("team/app/blobs/sha256/x", "_blobs/sha256/x"));
  REQUIRE_OK(driver.Remove("team/app/blobs/sha256/x"));
  CHECK(ReadAll(driver, "_blobs/sha256/x") == "content");
}

TEST_CASE("fs driver: Link to an existing name refreshes that name's time", "[driver][fs]") {
  TestDir dir;
  std::unique_ptr<StorageDriver> driver = OpenFsDriver(dir.path());
  Write(*driver, "_blobs/x", "content");
  Write(*driver, "repo/blobs/x", "content");  // a separate file, as after a content replacement
  Age(dir.path() + "/repo/blobs/x", std::chrono::hours(2));
  Clock::time_point before = Clock::now() - kClockSlack;
  CHECK_CODE(driver->Link("_blobs/x", "repo/blobs/x"), ErrorCode::kAlreadyExists);
  Result<FileInfo> info = driver->Stat("repo/blobs/x");
  REQUIRE_OK(info);
  CHECK(info->modified >= before);
}

TEST_CASE("memory driver: Link to an existing name refreshes that name's time", "[driver]") {
  std::unique_ptr<StorageDriver> driver = NewMemoryDriver();
  Write(*driver, "_blobs/x", "content");
  Write(*driver, "repo/blobs/x", "content");
  // The memory driver stamps from system_clock itself, so a short pause orders the times.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Clock::time_point before = Clock::now();
  CHECK_CODE(driver->Link("_blobs/x", "repo/blobs/x"), ErrorCode::kAlreadyExists);
  Result<FileInfo> info = driver->Stat("repo/blobs/x");
  REQUIRE_OK(info);
  CHECK(info->modified >= before);
}

TEMPLATE_TEST_CASE("Remove deletes one file and RemoveTree a whole directory", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "r/a/1", "1");
  Write(driver, "r/a/2", "2");
  Write(driver, "r/b/c/3", "3");
  Write(driver, "r2/4", "4");
  Write(driver, "keep/5", "5");

  REQUIRE_OK(driver.Remove("r/a/1"));
  CHECK_CODE(driver.Remove("r/a/1"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Stat("r/a/1"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Remove("never/there"), ErrorCode::kNotFound);
  CHECK(ListSet(driver, "r/a") == std::set<std::string>{"2"});
  REQUIRE_OK(driver.Remove("r/a/2"));
  CHECK_CODE(driver.Stat("r/a/2"), ErrorCode::kNotFound);

  REQUIRE_OK(driver.RemoveTree("r"));
  CHECK_CODE(driver.Stat("r"), ErrorCode::kNotFound);
  CHECK_CODE(driver.List("r"), ErrorCode::kNotFound);
  CHECK_CODE(driver.ReadFile("r/b/c/3"), ErrorCode::kNotFound);
  // "r2" shares a prefix with "r" but is not below it.
  CHECK(ListSet(driver, "") == std::set<std::string>{"keep", "r2"});
  CHECK(ReadAll(driver, "r2/4") == "4");

  CHECK_CODE(driver.RemoveTree("r"), ErrorCode::kOk);
  CHECK_CODE(driver.RemoveTree("never/there"), ErrorCode::kOk);
  // Given a file, RemoveTree removes it, like rm -r.
  REQUIRE_OK(driver.RemoveTree("keep/5"));
  CHECK_CODE(driver.Stat("keep/5"), ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("emptied directories stay, and readers outlive RemoveTree", "[driver][posix]",
                   POSIX_DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "r/a/2", "2");
  Write(driver, "r/b/c/3", "3");
  Write(driver, "keep/5", "5");
  // A directory stays when its last file goes, as on a file system.
  REQUIRE_OK(driver.Remove("r/a/2"));
  CHECK(ListSet(driver, "r/a").empty());
  CHECK(IsDirectory(driver, "r/a"));
  REQUIRE_OK(driver.RemoveTree("keep/5"));
  CHECK(IsDirectory(driver, "keep"));

  std::unique_ptr<FileReader> reader = OpenReader(driver, "r/b/c/3");
  REQUIRE_OK(driver.RemoveTree("r"));
  CHECK_CODE(driver.Stat("r"), ErrorCode::kNotFound);
  CHECK(ReadRange(*reader, 0, 10) == "3");
}

TEMPLATE_TEST_CASE("List names the entries directly below a directory", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  CHECK(ListSet(driver, "").empty());

  Write(driver, "a/x", "");
  Write(driver, "a/y/z", "");
  Write(driver, "a/y/w", "");
  Write(driver, "a/y/v/deep", "");
  Write(driver, "b", "");
  Write(driver, "a.txt", "");  // sorts between "a" and "a/..." in a flat map
  CHECK(ListSet(driver, "") == std::set<std::string>{"a", "a.txt", "b"});
  CHECK(ListSet(driver, "a") == std::set<std::string>{"x", "y"});
  CHECK(ListSet(driver, "a/y") == std::set<std::string>{"v", "w", "z"});
  CHECK_CODE(driver.List("missing"), ErrorCode::kNotFound);
  CHECK_CODE(driver.List("a/missing"), ErrorCode::kNotFound);
  CHECK_CODE(driver.List("b"), ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("Stat reports a file's size, kind and modification time", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Clock::time_point before = Clock::now() - kClockSlack;
  Write(driver, "s/t/f", "12345");

  Result<FileInfo> file = driver.Stat("s/t/f");
  REQUIRE_OK(file);
  CHECK(file->size == 5);
  CHECK(!file->is_directory);
  CHECK(file->modified >= before);
  CHECK(file->modified <= Clock::now() + kClockSlack);
  CHECK_CODE(driver.Stat("missing"), ErrorCode::kNotFound);
  CHECK_CODE(driver.Stat("s/missing"), ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("Stat reports directories with their modification time", "[driver][posix]",
                   POSIX_DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Clock::time_point before = Clock::now() - kClockSlack;
  Write(driver, "s/t/f", "12345");
  for (std::string_view dir : {"s", "s/t"}) {
    INFO(dir);
    Result<FileInfo> info = driver.Stat(dir);
    REQUIRE_OK(info);
    CHECK(info->is_directory);
    CHECK(info->modified >= before);
  }
}

TEMPLATE_TEST_CASE("concurrent writers of distinct files in shared new directories", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  constexpr int kThreads = 4;
  constexpr int kFiles = 20;
  Failures failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string name = "t" + std::to_string(t);
      Result<std::unique_ptr<BlobWriter>> writer =
          driver.OpenBlobWriter("c/uploads/" + name + "/data");
      if (!writer.ok()) return failures.Add(writer.status().ToString());
      for (int i = 0; i < kFiles; ++i) {
        std::string file = name + "-" + std::to_string(i);
        failures.Check(driver.WriteFileAtomic("c/shared/deep/" + file, file), file);
        failures.Check((*writer)->Append(Bytes(file + ";")), "append " + file);
        failures.Check(
            driver.Link("c/shared/deep/" + file, "c/links/" + std::to_string(i) + "/" + name),
            "link " + file);
      }
      failures.Check((*writer)->Commit("c/blobs/" + name), "commit " + name);
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures.messages() == std::vector<std::string>{});

  CHECK(ListSet(driver, "c/shared/deep").size() == kThreads * kFiles);
  for (int t = 0; t < kThreads; ++t) {
    std::string name = "t" + std::to_string(t);
    std::string expected;
    for (int i = 0; i < kFiles; ++i) {
      std::string file = name + "-" + std::to_string(i);
      CHECK(ReadAll(driver, "c/shared/deep/" + file) == file);
      CHECK(ReadAll(driver, "c/links/" + std::to_string(i) + "/" + name) == file);
      expected += file + ";";
    }
    CHECK(ReadAll(driver, "c/blobs/" + name) == expected);
  }
}

namespace {

// Four writers replace one file while a reader reads it whole, with ReadFile and, where readers
// keep the content they opened (`with_readers`: POSIX only), through a FileReader as well. Every
// read is one complete version, and one of the last rounds is left.
void CheckConcurrentReplacements(StorageDriver& driver, bool with_readers) {
  constexpr int kWriters = 4;
  constexpr int kRounds = 25;
  Write(driver, "repo/index.json", Version(0, 0));

  Failures failures;
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    // Reads until the writers are done, and at least a few times.
    while (writing.load() || reads.load() < 5) {
      Result<std::string> content = driver.ReadFile("repo/index.json");
      if (!content.ok()) return failures.Add("read: " + content.status().ToString());
      if (!IsCompleteVersion(*content))
        return failures.Add("torn read of " + content->substr(0, 16));
      if (with_readers) {
        Result<std::unique_ptr<FileReader>> opened = driver.OpenReader("repo/index.json");
        if (!opened.ok()) return failures.Add("open: " + opened.status().ToString());
        std::string buffer((*opened)->size(), '\0');
        Result<size_t> count = (*opened)->ReadAt(0, buffer);
        if (!count.ok() || *count != buffer.size() || !IsCompleteVersion(buffer)) {
          return failures.Add("torn reader");
        }
      }
      ++reads;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        failures.Check(driver.WriteFileAtomic("repo/index.json", Version(w, round)), "write");
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  writing = false;
  reader.join();
  CHECK(failures.messages() == std::vector<std::string>{});

  std::string final_content = ReadAll(driver, "repo/index.json");
  CHECK(IsCompleteVersion(final_content));
  std::set<std::string> last_rounds;
  for (int w = 0; w < kWriters; ++w) last_rounds.insert(Version(w, kRounds - 1));
  CHECK(last_rounds.contains(final_content));
  CHECK(ListSet(driver, "repo") == std::set<std::string>{"index.json"});
}

}  // namespace

TEMPLATE_TEST_CASE("concurrent WriteFileAtomic of one file leaves one complete version", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  CheckConcurrentReplacements(*fixture.driver, false);
}

TEMPLATE_TEST_CASE("readers opened among concurrent replacements read one complete version",
                   "[driver][posix]", POSIX_DRIVER_FIXTURES) {
  TestType fixture;
  CheckConcurrentReplacements(*fixture.driver, true);
}

TEMPLATE_TEST_CASE("collecting leftovers keeps every file and every name", "[driver]",
                   DRIVER_FIXTURES) {
  TestType fixture;
  StorageDriver& driver = *fixture.driver;
  Commit(driver, "_blobs/sha256/x", "content");
  REQUIRE_OK(driver.Link("_blobs/sha256/x", "repo/blobs/sha256/x"));
  Write(driver, "repo/index.json", "{}");
  // A cutoff in the future: everything left behind so far may go, but no file and no name.
  REQUIRE_OK(driver.CollectLeftovers(Clock::now() + std::chrono::hours(1)));
  CHECK(ReadAll(driver, "_blobs/sha256/x") == "content");
  CHECK(ReadAll(driver, "repo/blobs/sha256/x") == "content");
  CHECK(ReadAll(driver, "repo/index.json") == "{}");
}

#ifdef OCIREG_TEST_S3
TEST_CASE("s3 driver: Link to an existing name refreshes that name's time", "[driver][s3]") {
  S3DriverFixture fixture;
  StorageDriver& driver = *fixture.driver;
  Write(driver, "_blobs/x", "content");
  SECTION("a name that is a link already") { REQUIRE_OK(driver.Link("_blobs/x", "repo/blobs/x")); }
  SECTION("a name that is a file of its own") {
    Write(driver, "repo/blobs/x", "content");  // as after a content replacement
  }
  Result<FileInfo> old_info = driver.Stat("repo/blobs/x");
  REQUIRE_OK(old_info);
  // S3 keeps times to the second: a later time needs a second to pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK_CODE(driver.Link("_blobs/x", "repo/blobs/x"), ErrorCode::kAlreadyExists);
  Result<FileInfo> info = driver.Stat("repo/blobs/x");
  REQUIRE_OK(info);
  CHECK(info->modified > old_info->modified);
  CHECK(ReadAll(driver, "repo/blobs/x") == "content");
}
#endif

// The file system driver's own promises: hard links, temp files, the root.

TEST_CASE("fs driver: Link is a hard link and refreshes the shared time", "[driver][fs]") {
  TestDir dir;
  std::unique_ptr<StorageDriver> driver = OpenFsDriver(dir.path());
  Write(*driver, "_blobs/x", "content");
  Age(dir.path() + "/_blobs/x", std::chrono::hours(2));
  Result<FileInfo> aged = driver->Stat("_blobs/x");
  REQUIRE_OK(aged);
  REQUIRE(aged->modified < Clock::now() - std::chrono::hours(1));

  Clock::time_point before = Clock::now() - kClockSlack;
  REQUIRE_OK(driver->Link("_blobs/x", "repo/blobs/x"));
  struct stat from_st;
  struct stat to_st;
  REQUIRE(::stat((dir.path() + "/_blobs/x").c_str(), &from_st) == 0);
  REQUIRE(::stat((dir.path() + "/repo/blobs/x").c_str(), &to_st) == 0);
  CHECK(from_st.st_ino == to_st.st_ino);
  CHECK(from_st.st_nlink == 2);
  for (std::string_view path : {"_blobs/x", "repo/blobs/x"}) {
    INFO(path);
    Result<FileInfo> info = driver->Stat(path);
    REQUIRE_OK(info);
    CHECK(info->modified >= before);
  }
}

TEST_CASE("fs driver: temp files stay in .tmp and are gone after each call", "[driver][fs]") {
  TestDir dir;
  std::unique_ptr<StorageDriver> driver = OpenFsDriver(dir.path());
  Write(*driver, "a/index.json", "1");
  Write(*driver, "a/index.json", "2");
  Commit(*driver, "b/e", "committed");
  REQUIRE_OK(driver->Link("b/e", "f/g"));
  std::unique_ptr<BlobWriter> writer = OpenWriter(*driver, "h/data");
  REQUIRE_OK(writer->Append(Bytes("x")));
  // Failed writes must clean up too.
  CHECK_CODE(driver->WriteFileAtomic("b/e/below", "x"), ErrorCode::kInternal);
  CHECK_CODE(driver->WriteFileAtomic("a", "x"), ErrorCode::kInternal);

  std::set<std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir.path())) {
    if (!entry.is_directory()) files.insert(fs::relative(entry.path(), dir.path()).string());
  }
  CHECK(files == std::set<std::string>{"a/index.json", "b/e", "f/g", "h/data"});
  CHECK(fs::is_directory(dir.path() + "/.tmp"));
  CHECK(fs::is_empty(dir.path() + "/.tmp"));
  // The driver's directory is not one of its paths.
  CHECK(ListSet(*driver, "") == std::set<std::string>{"a", "b", "f", "h"});
  CHECK_CODE(driver->WriteFileAtomic(".tmp/x", "x"), ErrorCode::kInvalidArgument);
  CHECK_CODE(driver->Stat(".tmp"), ErrorCode::kInvalidArgument);
  CHECK_CODE(driver->RemoveTree(".tmp"), ErrorCode::kInvalidArgument);
}

TEST_CASE("fs driver: opening removes stale temp files and keeps fresh ones", "[driver][fs]") {
  TestDir dir;
  std::string temp = dir.path() + "/.tmp";
  Write(*OpenFsDriver(dir.path()), "data", "kept");
  for (const char* name : {"stale", "fresh", "stale-dir/x"}) {
    fs::create_directories(fs::path(temp + "/" + name).parent_path());
    int fd = ::open((temp + "/" + name).c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  Age(temp + "/stale", std::chrono::hours(2));
  Age(temp + "/stale-dir/x", std::chrono::hours(2));
  Age(temp + "/stale-dir", std::chrono::hours(2));

  std::unique_ptr<StorageDriver> driver = OpenFsDriver(dir.path());
  CHECK(!fs::exists(temp + "/stale"));
  CHECK(!fs::exists(temp + "/stale-dir"));
  CHECK(fs::exists(temp + "/fresh"));
  CHECK(ReadAll(*driver, "data") == "kept");
}

TEST_CASE("fs driver: the root is created, checked and reopened", "[driver][fs]") {
  TestDir dir;
  std::string root = dir.path() + "/nested/root/";
  {
    std::unique_ptr<StorageDriver> driver = OpenFsDriver(root);
    CHECK(fs::is_directory(root));
    Write(*driver, "repo/index.json", "{}");
  }
  // What one driver wrote, the next one over the same root reads.
  std::unique_ptr<StorageDriver> reopened = OpenFsDriver(root);
  CHECK(ReadAll(*reopened, "repo/index.json") == "{}");

  Write(*reopened, "plain-file", "x");
  Result<std::unique_ptr<StorageDriver>> on_file = NewFsDriver(root + "plain-file");
  CHECK_CODE(on_file, ErrorCode::kInternal);
  CHECK(on_file.status().message().find("not a directory") != std::string::npos);
  CHECK_CODE(NewFsDriver(root + "plain-file/below"), ErrorCode::kInternal);
  CHECK_CODE(NewFsDriver(""), ErrorCode::kInternal);

  // Permission bits do not bind root, so only other users can see this refusal.
  if (::geteuid() != 0) {
    std::string read_only = dir.path() + "/read-only";
    fs::create_directories(read_only);
    fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
    Result<std::unique_ptr<StorageDriver>> refused = NewFsDriver(read_only);
    fs::permissions(read_only, fs::perms::owner_all);
    CHECK_CODE(refused, ErrorCode::kInternal);
    CHECK(refused.status().message().find("not writable") != std::string::npos);
  }
}

TEST_CASE("fs driver: files and directories get 0644 and 0755 under the umask", "[driver][fs]") {
  TestDir dir;
  std::unique_ptr<StorageDriver> driver = OpenFsDriver(dir.path());
  mode_t mask = ::umask(0);
  ::umask(mask);
  Write(*driver, "d/written", "x");
  OpenWriter(*driver, "d/appended");
  for (const char* name : {"d/written", "d/appended"}) {
    INFO(name);
    struct stat st;
    REQUIRE(::stat((dir.path() + "/" + name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == (0644 & ~mask));
  }
  struct stat st;
  REQUIRE(::stat((dir.path() + "/d").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (0755 & ~mask));
}

TEST_CASE("FaultInjectingDriver fails every call once its budget is spent", "[driver][fault]") {
  std::unique_ptr<StorageDriver> inner = NewMemoryDriver();
  auto owned = std::make_unique<testing::FaultInjectingDriver>(*inner);
  testing::FaultInjectingDriver* control = owned.get();
  std::unique_ptr<StorageDriver> driver = std::move(owned);  // as a store would hold it

  // Without a budget everything passes, and mutations are counted.
  Write(*driver, "before", "1");
  CHECK(ReadAll(*driver, "before") == "1");
  CHECK(control->operations() == 1);
  CHECK(!control->crashed());

  control->set_budget(3);
  std::unique_ptr<BlobWriter> writer = OpenWriter(*driver, "up/data");  // 1
  std::unique_ptr<FileReader> reader = OpenReader(*driver, "before");   // reads are free
  REQUIRE_OK(writer->Append(Bytes("ab")));                              // 2
  REQUIRE_OK(writer->Checkpoint("s"));                                  // 3
  CHECK(control->operations() == 4);

  // The fourth mutation is the crash; everything after it fails as well.
  Status crash = writer->Append(Bytes("cd"));
  CHECK(crash.code() == ErrorCode::kUnavailable);
  CHECK(crash.message() == "injected crash");
  CHECK(control->crashed());
  CHECK_CODE(driver->ReadFile("before"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->Stat("before"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->StatFile("before"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->List(""), ErrorCode::kUnavailable);
  CHECK_CODE(reader->ReadAt(0, std::span<char>()), ErrorCode::kUnavailable);
  CHECK_CODE(driver->Remove("before"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->Link("before", "l"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->RemoveTree("up"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->WriteFileAtomic("w", "x"), ErrorCode::kUnavailable);
  CHECK_CODE(driver->OpenBlobWriter("a"), ErrorCode::kUnavailable);
  CHECK_CODE(writer->Commit("c"), ErrorCode::kUnavailable);
  CHECK(control->operations() == 4);
  CHECK(control->failures() == 12);

  // The inner driver holds exactly what was done before the crash.
  CHECK(ReadAll(*inner, "up/data") == "ab");
  CHECK(ListSet(*inner, "") == std::set<std::string>{"before", "up"});

  // A new budget revives it; a budget of 0 crashes at the next mutation.
  control->set_budget(testing::FaultInjectingDriver::kUnlimited);
  CHECK(ReadAll(*driver, "before") == "1");
  control->set_budget(0);
  CHECK(ReadAll(*driver, "before") == "1");
  CHECK_CODE(driver->Remove("before"), ErrorCode::kUnavailable);
  CHECK(ReadAll(*inner, "before") == "1");
}

}  // namespace ocireg
