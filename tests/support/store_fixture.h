// SPDX-License-Identifier: Apache-2.0
// Test fixtures that open a Store over each driver, and reopen it over the same data ("restart").
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "ocireg/digest.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/store.h"
#include "temp_dir.h"

namespace ocireg::testing {

// Forwards every call to a driver it does not own, so a test can close a store and open another
// over the same data, as a restarted process would. A test may override a call to interfere.
class BorrowedDriver : public StorageDriver {
 public:
  explicit BorrowedDriver(StorageDriver& inner) : inner_(inner) {}
  Result<FileInfo> Stat(std::string_view p) override { return inner_.Stat(p); }
  Result<std::vector<std::string>> List(std::string_view p) override { return inner_.List(p); }
  Result<std::string> ReadFile(std::string_view p) override { return inner_.ReadFile(p); }
  Status WriteFileAtomic(std::string_view p, std::string_view d, Durability u) override {
    return inner_.WriteFileAtomic(p, d, u);
  }
  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view p) override {
    return inner_.OpenReader(p);
  }
  Result<std::unique_ptr<FileAppender>> OpenAppender(std::string_view p, Durability u) override {
    return inner_.OpenAppender(p, u);
  }
  Status Rename(std::string_view a, std::string_view b, Durability u) override {
    return inner_.Rename(a, b, u);
  }
  Status Link(std::string_view a, std::string_view b, Durability u) override {
    return inner_.Link(a, b, u);
  }
  Status Remove(std::string_view p) override { return inner_.Remove(p); }
  Status RemoveTree(std::string_view p) override { return inner_.RemoveTree(p); }

 private:
  StorageDriver& inner_;
};

// The data a store keeps, for one driver kind; Open() may be called again to "restart".
struct FsBackend {
  static constexpr bool kIsFs = true;
  TempDir dir;
  std::unique_ptr<StorageDriver> driver = *NewFsDriver(dir.path().string());
  std::filesystem::path root() const { return dir.path(); }
};

struct MemoryBackend {
  static constexpr bool kIsFs = false;
  std::unique_ptr<StorageDriver> driver = NewMemoryDriver();
  std::filesystem::path root() const { return {}; }
};

template <typename Backend>
struct StoreFixture {
  Backend backend;
  StoreOptions options;
  std::unique_ptr<Store> store;

  StoreFixture() { Reopen(); }
  // Drops the store and opens a new one over the same data, like a process restart.
  void Reopen() {
    store.reset();
    auto opened = OpenStore(std::make_unique<BorrowedDriver>(*backend.driver), options);
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    store = std::move(*opened);
  }
  StorageDriver& driver() { return *backend.driver; }
};

inline Digest DigestOf(std::string_view bytes) {
  return Digester::Of(DigestAlgorithm::kSha256, bytes);
}

}  // namespace ocireg::testing
