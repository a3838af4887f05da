// SPDX-License-Identifier: Apache-2.0
// How a blob a repository holds already is kept from garbage collection, and how the content store
// is given a new copy when its own cannot be linked.
#include "storage/layout_store.h"

namespace ocireg::internal {

void LayoutStore::ReplaceContent(std::string_view file, std::string_view content) {
  // Repositories that linked the old copy keep it. Not flushed, like a seed: losing the rename
  // in a crash only costs later pushes this fallback again.
  (void)driver_->Rename(file, content, Durability::kCache);
}

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
