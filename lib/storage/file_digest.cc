// SPDX-License-Identifier: Apache-2.0
// Hashing stored files: upload resumption, commits with another algorithm, scrub.
#include "storage/file_digest.h"

#include <vector>

namespace ocireg::internal {
namespace {

constexpr size_t kHashBufferBytes = 1 << 20;

}  // namespace

Result<uint64_t> HashFile(StorageDriver& driver, std::string_view path, Digester& digester) {
  auto reader = driver.OpenReader(path);
  OCIREG_RETURN_IF_ERROR(reader);
  return HashReader(**reader, digester);
}

Result<uint64_t> HashReader(FileReader& reader, Digester& digester) {
  std::vector<char> buffer(kHashBufferBytes);
  uint64_t offset = 0;
  for (;;) {
    auto n = reader.ReadAt(offset, buffer);
    OCIREG_RETURN_IF_ERROR(n);
    if (*n == 0) break;
    digester.Update(std::span<const char>(buffer.data(), *n));
    offset += *n;
  }
  return offset;
}

}  // namespace ocireg::internal
