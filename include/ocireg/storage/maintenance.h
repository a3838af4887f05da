// SPDX-License-Identifier: Apache-2.0
// StoreMaintenance: the work an operator runs over a whole store, garbage collection and scrub.
//
// Apart from the registry operations (store.h) because its callers are others: a periodic thread
// of the server and the `ocireg-serve gc|scrub` commands, never a request. Both walk every
// repository and the content store, so a store kept by several replicas may run them on one
// replica only; a Store hands its maintenance out through Store::maintenance().
//
// Thread-safety: both calls may run while the registry operations of the same store run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

struct GcReport {
  uint64_t repositories_scanned = 0;
  uint64_t blobs_removed = 0;    // repository links removed
  uint64_t bytes_reclaimed = 0;  // content-store bytes freed
  uint64_t uploads_removed = 0;
  // Entries skipped because they could not be read (an unreadable directory, a manifest that no
  // longer parses: its repository keeps all its blobs), one readable line each.
  std::vector<std::string> problems;
};

struct ScrubReport {
  uint64_t blobs_checked = 0;
  uint64_t manifests_checked = 0;
  std::vector<std::string> problems;  // one readable line each: "team/app: blob sha256:… ..."
  bool ok() const { return problems.empty(); }
};

class OCIREG_EXPORT StoreMaintenance {
 public:
  StoreMaintenance() = default;
  virtual ~StoreMaintenance() = default;
  StoreMaintenance(const StoreMaintenance&) = delete;
  StoreMaintenance& operator=(const StoreMaintenance&) = delete;

  // Removes blobs that no manifest of their repository references and whose last link is older than
  // the grace period, content no repository links any more, and upload sessions idle past the TTL.
  // Safe while pushes run, and waits only for the index writes under way when it starts. An entry
  // it cannot read is skipped and listed in GcReport::problems, not an error. A store that
  // coordinates with replicas (StoreOptions::coordination) collects only under the cluster's gc
  // lease: kAlreadyExists naming the holder when another replica holds it.
  virtual Result<GcReport> CollectGarbage() = 0;
  // Checks every blob against its digest and every manifest's references; with coordination
  // only under the scrub lease (kAlreadyExists when another replica holds it).
  virtual Result<ScrubReport> Scrub() = 0;
};

}  // namespace ocireg
