// SPDX-License-Identifier: Apache-2.0
// Storage in the test gateway (rgw.h) for the suites that also run over S3: one bucket per test
// process, and a key prefix of its own for each driver or server, which is as empty as a new
// bucket and much cheaper to make.
//
//   S3Backend backend;                     // backend.driver: an S3 driver over a fresh prefix
//   S3Options options = FreshS3Options();  // the same, for a configuration
//   S3Options same = S3OptionsForRoot(root);  // one fresh prefix per storage root
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "ocireg/storage/driver.h"
#include "ocireg/storage/s3.h"
#include "rgw.h"

namespace ocireg::testing {

inline constexpr uint64_t kS3TestPartSize = 5 * 1024 * 1024;

// Options of the S3 driver for a prefix no other caller in this process gets, in the bucket of
// this process (made at the first call, on the shared gateway).
inline S3Options FreshS3Options() {
  static const S3Bucket bucket = S3Gateway::Shared().NewBucket();
  static std::atomic<unsigned> counter{0};
  S3Options options;
  options.endpoint = bucket.endpoint;
  options.region = bucket.region;
  options.bucket = bucket.bucket;
  options.prefix = "case-" + std::to_string(counter.fetch_add(1));
  options.path_style = true;
  options.credentials = {bucket.access_key, bucket.secret_key, ""};
  // S3's smallest part: blobs of a few MiB already take the multipart path.
  options.part_size = kS3TestPartSize;
  return options;
}

// The fresh prefix that stands for the storage root `root` (a server's data directory): the same
// options for the same root, so that a server started again over `root` finds what it kept.
inline S3Options S3OptionsForRoot(const std::string& root) {
  static std::mutex mu;
  static std::map<std::string, S3Options> by_root;
  std::lock_guard lock(mu);
  auto found = by_root.find(root);
  if (found == by_root.end()) found = by_root.emplace(root, FreshS3Options()).first;
  return found->second;
}

// The S3 driver over `options`; throws what NewS3Driver answered, so that every test over S3
// fails with the reason (such as a driver not built yet) rather than with a null driver.
inline std::unique_ptr<StorageDriver> OpenS3Driver(const S3Options& options) {
  Result<std::unique_ptr<StorageDriver>> driver = NewS3Driver(options);
  if (!driver.ok()) {
    throw std::runtime_error("NewS3Driver(" + options.bucket + "/" + options.prefix +
                             "): " + driver.status().ToString());
  }
  return std::move(*driver);
}

// The data a store keeps (store_fixture.h), in a fresh prefix of the gateway's bucket. A second
// driver over the same options sees the same data, as another process sharing the bucket would.
struct S3Backend {
  static constexpr bool kIsFs = false;
  S3Options options = FreshS3Options();
  std::unique_ptr<StorageDriver> driver = OpenS3Driver(options);
  std::filesystem::path root() const { return {}; }
};

}  // namespace ocireg::testing
