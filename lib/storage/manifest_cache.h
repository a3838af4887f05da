// SPDX-License-Identifier: Apache-2.0
// ManifestCache: the bytes of the manifests a store read or stored lately, by digest, within a
// bound in bytes, least recently used first out.
//
// Why: clients pull the same manifests over and over (every node of a cluster, every CI job),
// and on an object store each read costs requests. A manifest's bytes never change (its name is
// their digest), and only bytes whose digest was checked go in, so an entry is never wrong;
// whether a repository holds the manifest is still for its index to say.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ocireg/digest.h"

namespace ocireg::internal {

class ManifestCache {
 public:
  explicit ManifestCache(size_t max_bytes) : max_bytes_(max_bytes) {}
  ManifestCache(const ManifestCache&) = delete;
  ManifestCache& operator=(const ManifestCache&) = delete;

  // The bytes of manifest `digest`, when cached.
  std::optional<std::string> Find(const Digest& digest);
  // Keeps `bytes` as manifest `digest`, whose digest the caller has checked. Bytes larger than
  // the whole bound are not kept.
  void Insert(const Digest& digest, std::string_view bytes);

  size_t bytes() const;

 private:
  struct Entry {
    std::string digest;
    std::string bytes;
  };
  // Drops the least recently used entries until `max_bytes_` holds. Requires mu_.
  void TrimLocked();

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_digest_;
  size_t bytes_ = 0;
};

}  // namespace ocireg::internal
