// SPDX-License-Identifier: Apache-2.0
// StoreOptionsFromConfig and OpenStoreFromConfig: the store [storage] names (on the file system or
// in an S3 bucket), with the settings of [storage] and [limits] that the store enforces.
#include <memory>
#include <utility>

#include "ocireg/config_store.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/s3.h"

namespace ocireg {

StoreOptions StoreOptionsFromConfig(const Config& config) {
  StoreOptions options;
  options.gc_grace_period = config.storage.gc_grace_period;
  options.upload_ttl = config.storage.upload_ttl;
  options.max_manifest_bytes = static_cast<size_t>(config.limits.max_manifest_bytes);
  options.max_blob_bytes = config.limits.max_blob_bytes;
  return options;
}

Result<std::unique_ptr<Store>> OpenStoreFromConfig(const Config& config, StoreOptions options) {
  auto driver = config.storage.driver == "s3" ? NewS3Driver(config.storage.s3)
                                              : NewFsDriver(config.storage.root);
  if (!driver.ok()) return driver.status();
  return OpenStore(std::move(*driver), std::move(options));
}

}  // namespace ocireg
