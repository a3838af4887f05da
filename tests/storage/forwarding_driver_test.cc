// SPDX-License-Identifier: Apache-2.0
// ForwardingDriver (forwarding_driver.h): every call, with every argument, reaches the target, and
// a subclass changes only what it overrides. The driver conformance suite also runs over a wrapper.
#include "ocireg/storage/forwarding_driver.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catch.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg {
namespace {

std::span<const char> Bytes(std::string_view text) { return {text.data(), text.size()}; }

// A target that notes each call it gets as "Name(arguments)" before the memory driver runs it.
class RecordingDriver final : public ForwardingDriver {
 public:
  RecordingDriver() : ForwardingDriver(NewMemoryDriver()) {}

  std::vector<std::string> calls;

  Result<FileInfo> Stat(std::string_view path) override {
    Note("Stat", path);
    return ForwardingDriver::Stat(path);
  }
  Result<FileInfo> StatFile(std::string_view path) override {
    Note("StatFile", path);
    return ForwardingDriver::StatFile(path);
  }
  Result<std::vector<std::string>> List(std::string_view path) override {
    Note("List", path);
    return ForwardingDriver::List(path);
  }
  Result<std::string> ReadFile(std::string_view path) override {
    Note("ReadFile", path);
    return ForwardingDriver::ReadFile(path);
  }
  Status WriteFileAtomic(std::string_view path, std::string_view data,
                         Durability durability) override {
    Note("WriteFileAtomic", std::string(path) + "," + std::string(data) + Of(durability));
    return ForwardingDriver::WriteFileAtomic(path, data, durability);
  }
  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override {
    Note("OpenReader", path);
    return ForwardingDriver::OpenReader(path);
  }
  Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(std::string_view path,
                                                     Durability durability) override {
    Note("OpenBlobWriter", std::string(path) + Of(durability));
    return ForwardingDriver::OpenBlobWriter(path, durability);
  }
  Status Link(std::string_view from, std::string_view to, Durability durability) override {
    Note("Link", std::string(from) + "," + std::string(to) + Of(durability));
    return ForwardingDriver::Link(from, to, durability);
  }
  Status Remove(std::string_view path) override {
    Note("Remove", path);
    return ForwardingDriver::Remove(path);
  }
  Status RemoveTree(std::string_view path) override {
    Note("RemoveTree", path);
    return ForwardingDriver::RemoveTree(path);
  }
  Result<uint64_t> CollectLeftovers(std::chrono::system_clock::time_point cutoff) override {
    Note("CollectLeftovers", cutoff == std::chrono::system_clock::time_point() ? "epoch" : "?");
    return ForwardingDriver::CollectLeftovers(cutoff);
  }

 private:
  static std::string Of(Durability durability) {
    return durability == Durability::kCache ? ",cache" : ",durable";
  }
  void Note(std::string_view name, std::string_view arguments) {
    calls.push_back(std::string(name) + "(" + std::string(arguments) + ")");
  }
};

TEST_CASE("ForwardingDriver passes every call and argument to its target", "[driver][forwarding]") {
  RecordingDriver target;
  // The target is a ForwardingDriver itself: the wrapper borrows it, it is not taken for a copy.
  ForwardingDriver wrapper(target);
  CHECK(&wrapper.target() == &target);

  REQUIRE(wrapper.WriteFileAtomic("a/f", "one", Durability::kCache).ok());
  REQUIRE(wrapper.WriteFileAtomic("a/g", "two").ok());
  CHECK(wrapper.Stat("a/f")->size == 3);
  CHECK(wrapper.StatFile("a").status().code() == ErrorCode::kNotFound);
  CHECK(wrapper.List("a")->size() == 2);
  CHECK(*wrapper.ReadFile("a/g") == "two");
  REQUIRE(wrapper.Link("a/f", "b/f").ok());
  auto reader = wrapper.OpenReader("b/f");
  REQUIRE(reader.ok());
  CHECK((*reader)->size() == 3);
  auto writer = wrapper.OpenBlobWriter("c/log", Durability::kCache);
  REQUIRE(writer.ok());
  REQUIRE(wrapper.Remove("a/g").ok());
  REQUIRE(wrapper.RemoveTree("a").ok());
  CHECK(*wrapper.CollectLeftovers({}) == 0);

  CHECK(target.calls == std::vector<std::string>{
                            "WriteFileAtomic(a/f,one,cache)",
                            "WriteFileAtomic(a/g,two,durable)",
                            "Stat(a/f)",
                            "StatFile(a)",
                            "List(a)",
                            "ReadFile(a/g)",
                            "Link(a/f,b/f,durable)",
                            "OpenReader(b/f)",
                            "OpenBlobWriter(c/log,cache)",
                            "Remove(a/g)",
                            "RemoveTree(a)",
                            "CollectLeftovers(epoch)",
                        });
}

// A subclass that fails one kind of call at one path; everything else goes through.
class RefusingDriver final : public ForwardingDriver {
 public:
  using ForwardingDriver::ForwardingDriver;
  Status Remove(std::string_view path) override {
    if (path == "keep") return {ErrorCode::kInternal, "refused"};
    return ForwardingDriver::Remove(path);
  }
};

TEST_CASE("a ForwardingDriver subclass changes only the call it overrides",
          "[driver][forwarding]") {
  auto owned = std::make_unique<RefusingDriver>(NewMemoryDriver());
  StorageDriver& driver = *owned;
  REQUIRE(driver.WriteFileAtomic("keep", "k").ok());
  REQUIRE(driver.WriteFileAtomic("drop", "d").ok());
  CHECK(driver.Remove("keep").code() == ErrorCode::kInternal);
  CHECK(driver.Remove("drop").ok());
  CHECK(*driver.ReadFile("keep") == "k");
  CHECK(driver.Stat("drop").status().code() == ErrorCode::kNotFound);
}

// A driver that keeps one counter of its own, as an object store's driver does.
class CountingDriver final : public ForwardingDriver {
 public:
  CountingDriver() : ForwardingDriver(NewMemoryDriver()) {}
  std::vector<DriverCounter> Counters() const override {
    return {{"ocireg_test_calls_total", "Calls.", {{{{"call", "Stat"}}, 2}}}};
  }
};

TEST_CASE("ForwardingDriver reports its target's counters; the memory driver has none",
          "[driver][forwarding]") {
  CountingDriver target;
  ForwardingDriver wrapper(target);
  const std::vector<DriverCounter> counters = wrapper.Counters();
  REQUIRE(counters.size() == 1);
  CHECK(counters[0].name == "ocireg_test_calls_total");
  REQUIRE(counters[0].samples.size() == 1);
  CHECK(counters[0].samples[0].value == 2);
  CHECK(ForwardingDriver(NewMemoryDriver()).Counters().empty());
}

// Readers and blob writers that count what passes through them.
class CountingReader final : public ForwardingFileReader {
 public:
  CountingReader(std::unique_ptr<FileReader> target, uint64_t& reads)
      : ForwardingFileReader(std::move(target)), reads_(reads) {}
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override {
    ++reads_;
    return ForwardingFileReader::ReadAt(offset, buffer);
  }

 private:
  uint64_t& reads_;
};

class CountingWriter final : public ForwardingBlobWriter {
 public:
  CountingWriter(std::unique_ptr<BlobWriter> target, uint64_t& appends)
      : ForwardingBlobWriter(std::move(target)), appends_(appends) {}
  Status Append(std::span<const char> bytes) override {
    ++appends_;
    return ForwardingBlobWriter::Append(bytes);
  }

 private:
  uint64_t& appends_;
};

TEST_CASE("ForwardingFileReader and ForwardingBlobWriter forward what is not overridden",
          "[driver][forwarding]") {
  auto driver = NewMemoryDriver();
  uint64_t appends = 0;
  uint64_t reads = 0;
  {
    auto opened = driver->OpenBlobWriter("w");
    REQUIRE(opened.ok());
    CountingWriter writer(std::move(*opened), appends);
    REQUIRE(writer.Append(Bytes("hello world")).ok());
    CHECK(writer.size() == 11);
    REQUIRE(writer.Truncate(5).ok());
    CHECK(writer.size() == 5);
    REQUIRE(writer.Checkpoint("state").ok());
    auto back = writer.OpenReader();
    REQUIRE(back.ok());
    CHECK((*back)->size() == 5);
    REQUIRE(writer.Commit("f").ok());
  }
  auto opened = driver->OpenReader("f");
  REQUIRE(opened.ok());
  CountingReader reader(std::move(*opened), reads);
  CHECK(reader.size() == 5);
  std::string buffer(8, '\0');
  auto count = reader.ReadAt(1, buffer);
  REQUIRE(count.ok());
  CHECK(buffer.substr(0, *count) == "ello");
  CHECK(appends == 1);
  CHECK(reads == 1);
}

}  // namespace
}  // namespace ocireg
