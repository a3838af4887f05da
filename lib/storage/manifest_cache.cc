// SPDX-License-Identifier: Apache-2.0
#include "storage/manifest_cache.h"

namespace ocireg::internal {

std::optional<std::string> ManifestCache::Find(const Digest& digest) {
  std::lock_guard lock(mu_);
  auto it = by_digest_.find(digest.ToString());
  if (it == by_digest_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->bytes;
}

void ManifestCache::Insert(const Digest& digest, std::string_view bytes) {
  if (bytes.size() > max_bytes_) return;
  std::string key = digest.ToString();
  std::lock_guard lock(mu_);
  auto it = by_digest_.find(key);
  if (it != by_digest_.end()) {
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  entries_.push_front(Entry{key, std::string(bytes)});
  by_digest_.emplace(std::move(key), entries_.begin());
  bytes_ += bytes.size();
  TrimLocked();
}

size_t ManifestCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void ManifestCache::TrimLocked() {
  while (bytes_ > max_bytes_ && !entries_.empty()) {
    const Entry& last = entries_.back();
    bytes_ -= last.bytes.size();
    by_digest_.erase(last.digest);
    entries_.pop_back();
  }
}

}  // namespace ocireg::internal
