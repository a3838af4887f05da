// SPDX-License-Identifier: Apache-2.0
// StoreOptionsFromConfig: the settings of [storage] and [limits] that the store enforces.
#include "ocireg/config_store.h"

namespace ocireg {

StoreOptions StoreOptionsFromConfig(const Config& config) {
  StoreOptions options;
  options.gc_grace_period = config.storage.gc_grace_period;
  options.upload_ttl = config.storage.upload_ttl;
  options.max_manifest_bytes = static_cast<size_t>(config.limits.max_manifest_bytes);
  options.max_blob_bytes = config.limits.max_blob_bytes;
  return options;
}

}  // namespace ocireg
