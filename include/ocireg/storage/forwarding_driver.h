// SPDX-License-Identifier: Apache-2.0
// ForwardingDriver: a StorageDriver that passes every call to another one, to be extended.
//
// Derive from it and override only the calls to change; the others reach the target unchanged.
// That is how a driver gains behaviour without reimplementing one: count or time calls, fail one
// kind of call at one path to test the store's error handling, deny reads below a directory, or
// log what is written.
//
//   class CountingDriver final : public ocireg::ForwardingDriver {
//    public:
//     using ForwardingDriver::ForwardingDriver;
//     ocireg::Status WriteFileAtomic(std::string_view path, std::string_view data,
//                                    ocireg::Durability durability) override {
//       ++writes;
//       return ForwardingDriver::WriteFileAtomic(path, data, durability);
//     }
//     std::atomic<uint64_t> writes{0};
//   };
//   auto store = ocireg::OpenStore(std::make_unique<CountingDriver>(ocireg::NewMemoryDriver()));
//
// The target is either owned (the unique_ptr constructor) or borrowed (the reference one: it must
// outlive the wrapper). A borrowed target lets a test drop a store and open another over the same
// data, as a restarted process would.
//
// Readers and blob writers come from the target as they are. To change what they do, override
// OpenReader or OpenBlobWriter and wrap the result in a subclass of ForwardingFileReader or
// ForwardingBlobWriter, which forward the same way.
//
// Thread-safe as far as the target is; an override must keep the StorageDriver contract
// (driver.h), thread-safety included.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/export.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg {

class OCIREG_EXPORT ForwardingDriver : public StorageDriver {
 public:
  // Forwards to `target`, which the wrapper owns; not null.
  explicit ForwardingDriver(std::unique_ptr<StorageDriver> target);
  // Forwards to `target`, which must outlive the wrapper. A template, so that wrapping another
  // ForwardingDriver is not taken for a copy (which is deleted, as for every driver).
  template <std::derived_from<StorageDriver> Driver>
  explicit ForwardingDriver(Driver& target) : ForwardingDriver(Borrowed{}, target) {}
  ~ForwardingDriver() override;

  // The driver every call goes to.
  StorageDriver& target() const { return target_; }

  Result<FileInfo> Stat(std::string_view path) override;
  Result<FileInfo> StatFile(std::string_view path) override;
  Result<std::vector<std::string>> List(std::string_view path) override;
  Result<std::string> ReadFile(std::string_view path) override;
  Status WriteFileAtomic(std::string_view path, std::string_view data,
                         Durability durability = Durability::kDurable) override;
  Result<VersionedFile> ReadVersioned(std::string_view path) override;
  Result<std::optional<VersionedFile>> ReadVersionedIfChanged(std::string_view path,
                                                              std::string_view version) override;
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version,
                                  Durability durability = Durability::kDurable) override;
  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override;
  Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(
      std::string_view path, Durability durability = Durability::kDurable) override;
  Status Link(std::string_view from, std::string_view to,
              Durability durability = Durability::kDurable) override;
  Status Remove(std::string_view path) override;
  Status RemoveTree(std::string_view path) override;
  Result<uint64_t> CollectLeftovers(std::chrono::system_clock::time_point cutoff) override;
  std::vector<DriverCounter> Counters() const override;

 private:
  struct Borrowed {};
  ForwardingDriver(Borrowed, StorageDriver& target);

  const std::unique_ptr<StorageDriver> owned_;  // null when the target is borrowed
  StorageDriver& target_;
};

// A FileReader that passes every call to the reader it owns, except file_descriptor(): a subclass
// that changes what ReadAt returns (fails it, counts it) would be bypassed by a caller reading the
// target's file directly, so a wrapper has no descriptor unless it forwards target()'s itself.
class OCIREG_EXPORT ForwardingFileReader : public FileReader {
 public:
  explicit ForwardingFileReader(std::unique_ptr<FileReader> target);
  ~ForwardingFileReader() override;

  FileReader& target() const { return *target_; }

  uint64_t size() const override;
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override;

 private:
  const std::unique_ptr<FileReader> target_;
};

// A BlobWriter that passes every call to the writer it owns.
class OCIREG_EXPORT ForwardingBlobWriter : public BlobWriter {
 public:
  explicit ForwardingBlobWriter(std::unique_ptr<BlobWriter> target);
  ~ForwardingBlobWriter() override;

  BlobWriter& target() const { return *target_; }

  uint64_t size() const override;
  Status Append(std::span<const char> bytes) override;
  Status Truncate(uint64_t size) override;
  Status Checkpoint(std::string_view state) override;
  const std::string& state() const override;
  Result<std::unique_ptr<FileReader>> OpenReader() override;
  Status Commit(std::string_view path) override;

 private:
  const std::unique_ptr<BlobWriter> target_;
};

}  // namespace ocireg
