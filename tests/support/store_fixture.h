// SPDX-License-Identifier: Apache-2.0
// Test fixtures that open a Store over each driver, and reopen it over the same data ("restart").
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "ocireg/digest.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/forwarding_driver.h"
#include "ocireg/storage/store.h"
#include "temp_dir.h"

#ifdef OCIREG_TEST_S3
#include "s3_backend.h"
#endif

namespace ocireg::testing {

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

// The backends the store suites run over (TEMPLATE_TEST_CASE(name, tags, OCIREG_STORE_BACKENDS)):
// the file system and memory, or, in the S3 test executable (tests/s3, built with OCIREG_TEST_S3),
// the test gateway alone. Cases written for one backend name it themselves.
#ifdef OCIREG_TEST_S3
#define OCIREG_STORE_BACKENDS S3Backend
#else
#define OCIREG_STORE_BACKENDS FsBackend, MemoryBackend
#endif

template <typename Backend>
struct StoreFixture {
  Backend backend;
  StoreOptions options;
  std::unique_ptr<Store> store;

  StoreFixture() { Reopen(); }
  // Drops the store and opens a new one over the same data, like a process restart: the store
  // owns a wrapper that borrows the backend's driver.
  void Reopen() {
    store.reset();
    auto opened = OpenStore(std::make_unique<ForwardingDriver>(*backend.driver), options);
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    store = std::move(*opened);
  }
  StorageDriver& driver() { return *backend.driver; }
};

inline Digest DigestOf(std::string_view bytes) {
  return Digester::Of(DigestAlgorithm::kSha256, bytes);
}

}  // namespace ocireg::testing
