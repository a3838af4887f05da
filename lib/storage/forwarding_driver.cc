// SPDX-License-Identifier: Apache-2.0
// ForwardingDriver, ForwardingFileReader and ForwardingBlobWriter: every call to the target.
#include "ocireg/storage/forwarding_driver.h"

#include <utility>

namespace ocireg {

ForwardingDriver::ForwardingDriver(std::unique_ptr<StorageDriver> target)
    : owned_(std::move(target)), target_(*owned_) {}

ForwardingDriver::ForwardingDriver(Borrowed, StorageDriver& target) : target_(target) {}

ForwardingDriver::~ForwardingDriver() = default;

Result<FileInfo> ForwardingDriver::Stat(std::string_view path) { return target_.Stat(path); }

Result<FileInfo> ForwardingDriver::StatFile(std::string_view path) {
  return target_.StatFile(path);
}

Result<std::vector<std::string>> ForwardingDriver::List(std::string_view path) {
  return target_.List(path);
}

Result<std::string> ForwardingDriver::ReadFile(std::string_view path) {
  return target_.ReadFile(path);
}

Status ForwardingDriver::WriteFileAtomic(std::string_view path, std::string_view data,
                                         Durability durability) {
  return target_.WriteFileAtomic(path, data, durability);
}

Result<VersionedFile> ForwardingDriver::ReadVersioned(std::string_view path) {
  return target_.ReadVersioned(path);
}

Result<std::optional<VersionedFile>> ForwardingDriver::ReadVersionedIfChanged(
    std::string_view path, std::string_view version) {
  return target_.ReadVersionedIfChanged(path, version);
}

Result<std::string> ForwardingDriver::ReplaceFile(std::string_view path, std::string_view data,
                                                  std::string_view version, Durability durability) {
  return target_.ReplaceFile(path, data, version, durability);
}

Result<std::unique_ptr<FileReader>> ForwardingDriver::OpenReader(std::string_view path) {
  return target_.OpenReader(path);
}

Result<std::unique_ptr<BlobWriter>> ForwardingDriver::OpenBlobWriter(std::string_view path,
                                                                     Durability durability) {
  return target_.OpenBlobWriter(path, durability);
}

Status ForwardingDriver::Link(std::string_view from, std::string_view to, Durability durability) {
  return target_.Link(from, to, durability);
}

Status ForwardingDriver::Remove(std::string_view path) { return target_.Remove(path); }

Status ForwardingDriver::RemoveTree(std::string_view path) { return target_.RemoveTree(path); }

Result<uint64_t> ForwardingDriver::CollectLeftovers(std::chrono::system_clock::time_point cutoff) {
  return target_.CollectLeftovers(cutoff);
}

std::vector<DriverCounter> ForwardingDriver::Counters() const { return target_.Counters(); }

ForwardingFileReader::ForwardingFileReader(std::unique_ptr<FileReader> target)
    : target_(std::move(target)) {}

ForwardingFileReader::~ForwardingFileReader() = default;

uint64_t ForwardingFileReader::size() const { return target_->size(); }

Result<size_t> ForwardingFileReader::ReadAt(uint64_t offset, std::span<char> buffer) {
  return target_->ReadAt(offset, buffer);
}

ForwardingBlobWriter::ForwardingBlobWriter(std::unique_ptr<BlobWriter> target)
    : target_(std::move(target)) {}

ForwardingBlobWriter::~ForwardingBlobWriter() = default;

uint64_t ForwardingBlobWriter::size() const { return target_->size(); }

Status ForwardingBlobWriter::Append(std::span<const char> bytes) { return target_->Append(bytes); }

Status ForwardingBlobWriter::Truncate(uint64_t size) { return target_->Truncate(size); }

Status ForwardingBlobWriter::Checkpoint(std::string_view state) {
  return target_->Checkpoint(state);
}

const std::string& ForwardingBlobWriter::state() const { return target_->state(); }

Result<std::unique_ptr<FileReader>> ForwardingBlobWriter::OpenReader() {
  return target_->OpenReader();
}

Status ForwardingBlobWriter::Commit(std::string_view path) { return target_->Commit(path); }

}  // namespace ocireg
