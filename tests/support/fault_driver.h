// SPDX-License-Identifier: Apache-2.0
// FaultInjectingDriver: a ForwardingDriver that simulates a process dying after N writes.
//
// Wraps a driver the test owns and forwards every call to it. Mutating operations (WriteFileAtomic,
// Link, Remove, RemoveTree, OpenBlobWriter, and each Append, Truncate, Checkpoint and Commit of the
// blob writers it hands out) are counted against a budget. The first operation past the budget
// fails, and so does every later call, reads included, with kUnavailable "injected crash": the
// "process" is dead. The test then reopens a store over the inner driver and checks what survived.
//
//   auto inner = ocireg::NewMemoryDriver();
//   auto faulty = std::make_unique<ocireg::testing::FaultInjectingDriver>(*inner);
//   faulty->set_budget(3);
//   FaultInjectingDriver* control = faulty.get();   // valid as long as the store lives
//   auto store = OpenStoreOver(std::move(faulty));  // the store owns the wrapper
//
// Lifetime: the wrapper holds a reference to `inner`, which must outlive the wrapper and every
// reader and blob writer it handed out. Readers and writers share the budget with the wrapper (not
// the wrapper itself), so they may outlive it.
//
// A test may also intercept single calls (set_interceptor) to fail one kind of call at one path, or
// to run something between a call and its return.
//
// Thread-safe, like the driver it wraps.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/status.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/forwarding_driver.h"

namespace ocireg::testing {

class FaultInjectingDriver final : public ForwardingDriver {
 public:
  // Without a budget nothing fails.
  static constexpr int64_t kUnlimited = -1;

  // The calls an interceptor sees.
  enum class Call {
    kWriteFileAtomic,
    kOpenBlobWriter,
    kLink,
    kRemove,
    kRemoveTree,
    kAppend,
    kCheckpoint,
    kCommit
  };
  // Decides the outcome of one admitted mutating call: `forward` runs it on the inner driver (at
  // most once) and returns its status; the interceptor returns what the caller gets. `to` is the
  // target of Link and Commit, else empty. Runs on the caller's thread without any lock held, so it
  // may call into the store.
  using Interceptor = std::function<Status(Call call, std::string_view path, std::string_view to,
                                           const std::function<Status()>& forward)>;

  explicit FaultInjectingDriver(StorageDriver& inner) : ForwardingDriver(inner) {}

  // Lets `n` more mutating operations through; the one after them "crashes". Also revives a crashed
  // wrapper. kUnlimited removes the limit.
  void set_budget(int64_t n) { gate_->SetBudget(n); }
  // Mutating operations that went through to the inner driver so far.
  uint64_t operations() const { return gate_->operations(); }
  // Calls refused since the crash.
  uint64_t failures() const { return gate_->failures(); }
  bool crashed() const { return gate_->crashed(); }
  // Sees every later mutating call that the budget admits; null forwards them all.
  void set_interceptor(Interceptor interceptor) { gate_->SetInterceptor(std::move(interceptor)); }

  Result<FileInfo> Stat(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    return ForwardingDriver::Stat(path);
  }
  Result<FileInfo> StatFile(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    return ForwardingDriver::StatFile(path);
  }
  Result<std::vector<std::string>> List(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    return ForwardingDriver::List(path);
  }
  Result<std::string> ReadFile(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    return ForwardingDriver::ReadFile(path);
  }
  Status WriteFileAtomic(std::string_view path, std::string_view data,
                         Durability durability) override {
    OCIREG_RETURN_IF_ERROR(gate_->Mutate());
    return gate_->Run(Call::kWriteFileAtomic, path, {},
                      [&] { return ForwardingDriver::WriteFileAtomic(path, data, durability); });
  }
  Result<VersionedFile> ReadVersioned(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    return ForwardingDriver::ReadVersioned(path);
  }
  Result<std::optional<VersionedFile>> ReadVersionedIfChanged(std::string_view path,
                                                              std::string_view version) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    return ForwardingDriver::ReadVersionedIfChanged(path, version);
  }
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability durability) override {
    OCIREG_RETURN_IF_ERROR(gate_->Mutate());
    Result<std::string> written = Status(ErrorCode::kInternal, "not forwarded");
    OCIREG_RETURN_IF_ERROR(gate_->Run(Call::kWriteFileAtomic, path, {}, [&] {
      written = ForwardingDriver::ReplaceFile(path, data, version, durability);
      return written.status();
    }));
    return written;
  }
  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Read());
    Result<std::unique_ptr<FileReader>> reader = ForwardingDriver::OpenReader(path);
    if (!reader.ok()) return reader.status();
    return std::unique_ptr<FileReader>(std::make_unique<Reader>(std::move(*reader), gate_));
  }
  Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(std::string_view path,
                                                     Durability durability) override {
    OCIREG_RETURN_IF_ERROR(gate_->Mutate());
    Result<std::unique_ptr<BlobWriter>> writer = Status(ErrorCode::kInternal, "not forwarded");
    OCIREG_RETURN_IF_ERROR(gate_->Run(Call::kOpenBlobWriter, path, {}, [&] {
      writer = ForwardingDriver::OpenBlobWriter(path, durability);
      return writer.status();
    }));
    if (!writer.ok()) return writer.status();
    return std::unique_ptr<BlobWriter>(
        std::make_unique<Writer>(std::move(*writer), gate_, std::string(path)));
  }
  Status Link(std::string_view from, std::string_view to, Durability durability) override {
    OCIREG_RETURN_IF_ERROR(gate_->Mutate());
    return gate_->Run(Call::kLink, from, to,
                      [&] { return ForwardingDriver::Link(from, to, durability); });
  }
  Status Remove(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Mutate());
    return gate_->Run(Call::kRemove, path, {}, [&] { return ForwardingDriver::Remove(path); });
  }
  Status RemoveTree(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(gate_->Mutate());
    return gate_->Run(Call::kRemoveTree, path, {},
                      [&] { return ForwardingDriver::RemoveTree(path); });
  }

 private:
  // The budget and counters, shared with the readers and appenders handed out.
  class Gate {
   public:
    void SetBudget(int64_t n) {
      std::lock_guard lock(mu_);
      budget_ = n;
      crashed_ = false;
    }
    uint64_t operations() const {
      std::lock_guard lock(mu_);
      return operations_;
    }
    uint64_t failures() const {
      std::lock_guard lock(mu_);
      return failures_;
    }
    bool crashed() const {
      std::lock_guard lock(mu_);
      return crashed_;
    }
    void SetInterceptor(Interceptor interceptor) {
      std::lock_guard lock(mu_);
      interceptor_ = std::make_shared<const Interceptor>(std::move(interceptor));
    }

    // Runs an admitted call through the interceptor, if any; `forward` runs at most once.
    Status Run(Call call, std::string_view path, std::string_view to,
               const std::function<Status()>& forward) {
      std::shared_ptr<const Interceptor> interceptor;
      {
        std::lock_guard lock(mu_);
        interceptor = interceptor_;
      }
      if (interceptor == nullptr || !*interceptor) return forward();
      bool forwarded = false;
      Status result;
      std::function<Status()> once = [&] {
        if (!forwarded) {
          forwarded = true;
          result = forward();
        }
        return result;
      };
      return (*interceptor)(call, path, to, once);
    }

    // Admits one mutating operation, or crashes when the budget is spent.
    Status Mutate() {
      std::lock_guard lock(mu_);
      if (!crashed_ && budget_ == 0) crashed_ = true;
      if (crashed_) return Refuse();
      if (budget_ > 0) --budget_;
      ++operations_;
      return Status::Ok();
    }
    // Admits a read unless crashed.
    Status Read() {
      std::lock_guard lock(mu_);
      return crashed_ ? Refuse() : Status::Ok();
    }

   private:
    Status Refuse() {
      ++failures_;
      return {ErrorCode::kUnavailable, "injected crash"};
    }

    mutable std::mutex mu_;
    int64_t budget_ = kUnlimited;
    bool crashed_ = false;
    uint64_t operations_ = 0;
    uint64_t failures_ = 0;
    std::shared_ptr<const Interceptor> interceptor_;
  };

  class Reader final : public ForwardingFileReader {
   public:
    Reader(std::unique_ptr<FileReader> inner, std::shared_ptr<Gate> gate)
        : ForwardingFileReader(std::move(inner)), gate_(std::move(gate)) {}
    Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override {
      OCIREG_RETURN_IF_ERROR(gate_->Read());
      return ForwardingFileReader::ReadAt(offset, buffer);
    }

   private:
    const std::shared_ptr<Gate> gate_;
  };

  class Writer final : public ForwardingBlobWriter {
   public:
    Writer(std::unique_ptr<BlobWriter> inner, std::shared_ptr<Gate> gate, std::string path)
        : ForwardingBlobWriter(std::move(inner)), gate_(std::move(gate)), path_(std::move(path)) {}
    Status Append(std::span<const char> bytes) override {
      OCIREG_RETURN_IF_ERROR(gate_->Mutate());
      return gate_->Run(Call::kAppend, path_, {},
                        [&] { return ForwardingBlobWriter::Append(bytes); });
    }
    Status Truncate(uint64_t size) override {
      OCIREG_RETURN_IF_ERROR(gate_->Mutate());
      return ForwardingBlobWriter::Truncate(size);
    }
    Status Checkpoint(std::string_view state) override {
      OCIREG_RETURN_IF_ERROR(gate_->Mutate());
      return gate_->Run(Call::kCheckpoint, path_, {},
                        [&] { return ForwardingBlobWriter::Checkpoint(state); });
    }
    Result<std::unique_ptr<FileReader>> OpenReader() override {
      OCIREG_RETURN_IF_ERROR(gate_->Read());
      Result<std::unique_ptr<FileReader>> reader = ForwardingBlobWriter::OpenReader();
      if (!reader.ok()) return reader.status();
      return std::unique_ptr<FileReader>(std::make_unique<Reader>(std::move(*reader), gate_));
    }
    Status Commit(std::string_view path) override {
      OCIREG_RETURN_IF_ERROR(gate_->Mutate());
      return gate_->Run(Call::kCommit, path_, path,
                        [&] { return ForwardingBlobWriter::Commit(path); });
    }

   private:
    const std::shared_ptr<Gate> gate_;
    const std::string path_;
  };

  const std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
};

}  // namespace ocireg::testing
