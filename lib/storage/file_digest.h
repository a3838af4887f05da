// SPDX-License-Identifier: Apache-2.0
// HashFile: feeds a stored file through a Digester, in bounded chunks.
#pragma once

#include <string_view>

#include "ocireg/digest.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg::internal {

// Passes every byte of the file at `path` to `digester`; returns how many there were.
// kNotFound when the file does not exist, kInternal on read errors.
Result<uint64_t> HashFile(StorageDriver& driver, std::string_view path, Digester& digester);

// Passes every byte `reader` gives to `digester`; returns how many there were.
Result<uint64_t> HashReader(FileReader& reader, Digester& digester);

}  // namespace ocireg::internal
