// SPDX-License-Identifier: Apache-2.0
// UploadQuota: bounds the upload sessions open at once, per client and in all.
//
// Why: a session lives until it is committed, cancelled or expires (upload_ttl, a day by
// default), and each one costs memory and a directory; without a bound one anonymous client
// could open sessions until the server runs out. The store decides when a session ends, so the
// quota remembers the sessions it admitted, forgets those that end through this server, and, when
// a limit is reached, asks which of the rest are still open before refusing (a session may also
// end by expiry or through another server on the same storage; its place is then free again).
//
// Thread-safety: all methods may be called concurrently. `is_open` is called without the
// quota's lock held.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ocireg/status.h"

namespace ocireg::internal {

class UploadQuota {
 public:
  // Whether session `id` of `repo` is still open.
  using IsOpen = std::function<bool(const std::string& repo, const std::string& id)>;

  // At most `max_total` sessions in all and `max_per_client` per client; 0: no such limit.
  UploadQuota(size_t max_total, size_t max_per_client);
  UploadQuota(const UploadQuota&) = delete;
  UploadQuota& operator=(const UploadQuota&) = delete;

  // Takes a place for a new session of `client` (a user name or an address). kTooManyRequests,
  // naming the limit, when none is free. A place taken must be given to Record or Release.
  Status Reserve(const std::string& client, const IsOpen& is_open);
  // Fills a place taken by Reserve with the session that now occupies it.
  void Record(const std::string& client, const std::string& repo, const std::string& id);
  // Gives back a place taken by Reserve that no session occupies (the session ended at once).
  void Release(const std::string& client);
  // Gives back the place of recorded session `id`, which has ended (committed or cancelled
  // here), so that no later sweep has to ask the store about it; nothing when it is unknown.
  void Ended(const std::string& id);

  // Places taken in all: reserved or recorded and not yet found ended.
  size_t size() const;

 private:
  struct Session {
    std::string client;
    std::string repo;
  };
  struct Candidate {
    std::string id;
    std::string repo;
  };
  // Whether `client` may take a place now, and else the error. Requires mu_.
  std::optional<Status> RefusalLocked(const std::string& client) const;
  void TakeLocked(const std::string& client);
  void GiveBackLocked(const std::string& client);
  // Forgets the recorded sessions (of `client` only, when given) that have ended.
  void Sweep(const std::optional<std::string>& client, const IsOpen& is_open);

  const size_t max_total_;
  const size_t max_per_client_;

  mutable std::mutex mu_;
  size_t total_ = 0;                                   // places taken
  std::unordered_map<std::string, size_t> taken_;      // places taken by client (none: absent)
  std::unordered_map<std::string, Session> sessions_;  // recorded sessions by id
  // Recorded sessions beyond which all are swept even below the limits, so that memory stays
  // bounded when there is no total limit.
  size_t sweep_at_ = kMinSweep;
  static constexpr size_t kMinSweep = 1024;
};

}  // namespace ocireg::internal
