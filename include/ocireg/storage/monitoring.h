// SPDX-License-Identifier: Apache-2.0
// StoreMonitoring: what a store tells about itself for metrics and readiness probes.
//
// Its own header, not maintenance.h: its callers (the /metrics and /readyz handlers) ask often and
// expect cheap answers, while maintenance walks the whole store and changes it; and a store kept
// by several replicas may answer these per replica, or aggregated, independently of where it runs
// maintenance. A Store hands its monitoring out through Store::monitoring().
//
// Thread-safety: every call may run concurrently with the registry operations of the same store.
#pragma once

#include <cstdint>
#include <vector>

#include "ocireg/export.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg {

// What the store holds, for monitoring.
struct StoreUsage {
  uint64_t blobs = 0;  // distinct blobs and manifests in the content store
  uint64_t bytes = 0;  // their total size
};

class OCIREG_EXPORT StoreMonitoring {
 public:
  StoreMonitoring() = default;
  virtual ~StoreMonitoring() = default;
  StoreMonitoring(const StoreMonitoring&) = delete;
  StoreMonitoring& operator=(const StoreMonitoring&) = delete;

  // Counts the content store: one listing per digest algorithm and one Stat per blob, no content
  // read. Cost grows with the number of blobs: callers that ask often should cache the answer.
  virtual Result<StoreUsage> Usage() = 0;
  // Upload sessions not yet committed, cancelled or expired (one listing).
  virtual Result<uint64_t> CountUploads() = 0;
  // Writes and removes a small file: ok when the storage accepts writes now, else kInternal.
  virtual Status CheckWritable() = 0;
  // The storage driver's own counters (StorageDriver::Counters): cheap, no I/O. None by default.
  virtual std::vector<DriverCounter> DriverCounters() { return {}; }
};

}  // namespace ocireg
