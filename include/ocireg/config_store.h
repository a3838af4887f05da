// SPDX-License-Identifier: Apache-2.0
// The store options a configuration sets: what RegistryServer and ocireg-serve's gc and scrub give
// OpenStore for the layouts under config.storage.root.
//
// Contract: a pure function of its argument; thread-safe, never prints.
#pragma once

#include "ocireg/config.h"
#include "ocireg/export.h"
#include "ocireg/storage/store.h"

namespace ocireg {

// StoreOptions with the garbage collection grace period and the upload TTL of [storage] and the
// manifest and blob size limits of [limits]; the hooks (now, progress, warn) are left empty for
// the caller to set.
OCIREG_EXPORT StoreOptions StoreOptionsFromConfig(const Config& config);

}  // namespace ocireg
