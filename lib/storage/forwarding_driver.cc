// SPDX-License-Identifier: Apache-2.0
// ForwardingDriver, ForwardingFileReader and ForwardingFileAppender: every call to the target.
#include "ocireg/storage/forwarding_driver.h"

#include <utility>

namespace ocireg {

ForwardingDriver::ForwardingDriver(std::unique_ptr<StorageDriver> target)
    : owned_(std::move(target)), target_(*owned_) {}

ForwardingDriver::ForwardingDriver(Borrowed, StorageDriver& target) : target_(target) {}

ForwardingDriver::~ForwardingDriver() = default;

Result<FileInfo> ForwardingDriver::Stat(std::string_view path) { return target_.Stat(path); }

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

Result<std::unique_ptr<FileReader>> ForwardingDriver::OpenReader(std::string_view path) {
  return target_.OpenReader(path);
}

Result<std::unique_ptr<FileAppender>> ForwardingDriver::OpenAppender(std::string_view path,
                                                                     Durability durability) {
  return target_.OpenAppender(path, durability);
}

Status ForwardingDriver::Rename(std::string_view from, std::string_view to, Durability durability) {
  return target_.Rename(from, to, durability);
}

Status ForwardingDriver::Link(std::string_view from, std::string_view to, Durability durability) {
  return target_.Link(from, to, durability);
}

Status ForwardingDriver::Remove(std::string_view path) { return target_.Remove(path); }

Status ForwardingDriver::RemoveTree(std::string_view path) { return target_.RemoveTree(path); }

ForwardingFileReader::ForwardingFileReader(std::unique_ptr<FileReader> target)
    : target_(std::move(target)) {}

ForwardingFileReader::~ForwardingFileReader() = default;

uint64_t ForwardingFileReader::size() const { return target_->size(); }

Result<size_t> ForwardingFileReader::ReadAt(uint64_t offset, std::span<char> buffer) {
  return target_->ReadAt(offset, buffer);
}

ForwardingFileAppender::ForwardingFileAppender(std::unique_ptr<FileAppender> target)
    : target_(std::move(target)) {}

ForwardingFileAppender::~ForwardingFileAppender() = default;

uint64_t ForwardingFileAppender::size() const { return target_->size(); }

Status ForwardingFileAppender::Append(std::span<const char> bytes) {
  return target_->Append(bytes);
}

Status ForwardingFileAppender::Truncate(uint64_t size) { return target_->Truncate(size); }

Status ForwardingFileAppender::Sync() { return target_->Sync(); }

}  // namespace ocireg
