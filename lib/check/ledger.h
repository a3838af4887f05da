// SPDX-License-Identifier: Apache-2.0
// Ledger: what a run pushed, so that it can delete it again at the end.
#pragma once

#include <string>
#include <vector>

#include "check/http_client.h"
#include "ocireg/check.h"

namespace ocireg::internal::check {

// Records manifests, blobs and upload sessions as the checks create them. Not thread-safe.
class Ledger {
 public:
  void Manifest(const std::string& repository, const std::string& digest);
  void Blob(const std::string& repository, const std::string& digest);
  // An upload session that is open, named by `session` (unique in the run), at `location`, the
  // latest the registry gave (some registries change it with every request).
  void Upload(const std::string& session, const std::string& location);
  // The session is closed: committed or cancelled.
  void UploadClosed(const std::string& session);

  // Deletes everything recorded, best effort: open upload sessions, then manifests newest first
  // (a referrer or an index before what it points to), then blobs. Something already gone
  // counts as cleaned up.
  std::vector<CleanupResult> CleanUp(HttpClient& client) const;

 private:
  enum class Kind { kManifest, kBlob, kUpload };
  struct Entry {
    Kind kind;
    std::string repository;  // or the session's name
    std::string reference;   // a digest, or an upload location
    bool operator==(const Entry&) const = default;
  };
  void Add(Entry entry);

  std::vector<Entry> entries_;
};

}  // namespace ocireg::internal::check
