// SPDX-License-Identifier: Apache-2.0
// How a blob a repository holds already is kept from garbage collection.
#include "storage/layout_store.h"

namespace ocireg::internal {

Status LayoutStore::KeepLinked(std::string_view repo, std::initializer_list<std::string> sources,
                               const std::string& target) {
  // Garbage collection reads a link's time and removes it under the repository's lock. Under that
  // lock too, the refresh cannot fall between the two: the blob is either collected before (and
  // linked again here) or seen as recently linked.
  auto state = GetOrCreateState(repo);
  std::lock_guard lock(state->mu);
  Status linked = NotFound(target + ": no source to link it from");
  for (const std::string& source : sources) {
    // On an existing target, Link refreshes its time (see StorageDriver::Link).
    linked = driver_->Link(source, target);
    if (linked.ok() || IsAlreadyExists(linked)) return Status::Ok();
  }
  return linked;
}

}  // namespace ocireg::internal
