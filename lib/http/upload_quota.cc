// SPDX-License-Identifier: Apache-2.0
// UploadQuota: counts the sessions admitted, and forgets those that ended when a limit is reached.
#include "http/upload_quota.h"

#include <algorithm>
#include <utility>

namespace ocireg::internal {

UploadQuota::UploadQuota(size_t max_total, size_t max_per_client)
    : max_total_(max_total), max_per_client_(max_per_client) {}

size_t UploadQuota::size() const {
  std::lock_guard lock(mu_);
  return total_;
}

std::optional<Status> UploadQuota::RefusalLocked(const std::string& client) const {
  if (max_total_ != 0 && total_ >= max_total_) {
    return TooManyRequests(
        "the registry has " + std::to_string(total_) +
        " upload sessions open, its limit (limits.max_uploads); finish or cancel "
        "one, or retry later");
  }
  auto it = taken_.find(client);
  if (max_per_client_ != 0 && it != taken_.end() && it->second >= max_per_client_) {
    return TooManyRequests(
        "this client has " + std::to_string(it->second) +
        " upload sessions open, its limit (limits.max_uploads_per_client); finish "
        "or cancel one first");
  }
  return std::nullopt;
}

void UploadQuota::TakeLocked(const std::string& client) {
  ++total_;
  ++taken_[client];
}

void UploadQuota::GiveBackLocked(const std::string& client) {
  auto it = taken_.find(client);
  if (it == taken_.end()) return;
  --total_;
  if (--it->second == 0) taken_.erase(it);
}

Status UploadQuota::Reserve(const std::string& client, const IsOpen& is_open) {
  std::optional<std::string> sweep_client;
  {
    std::lock_guard lock(mu_);
    if (!RefusalLocked(client) && sessions_.size() < sweep_at_) {
      TakeLocked(client);
      return Status::Ok();
    }
    // Only the client's own sessions can free a place under its own limit.
    const bool total_reached =
        (max_total_ != 0 && total_ >= max_total_) || sessions_.size() >= sweep_at_;
    if (!total_reached) sweep_client = client;
  }
  Sweep(sweep_client, is_open);
  std::lock_guard lock(mu_);
  if (auto refusal = RefusalLocked(client)) return *refusal;
  TakeLocked(client);
  return Status::Ok();
}

void UploadQuota::Record(const std::string& client, const std::string& repo,
                         const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_[id] = Session{client, repo};
}

void UploadQuota::Release(const std::string& client) {
  std::lock_guard lock(mu_);
  GiveBackLocked(client);
}

void UploadQuota::Ended(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  GiveBackLocked(it->second.client);
  sessions_.erase(it);
}

void UploadQuota::Sweep(const std::optional<std::string>& client, const IsOpen& is_open) {
  std::vector<Candidate> candidates;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, session] : sessions_) {
      if (!client || session.client == *client) candidates.push_back({id, session.repo});
    }
  }
  std::vector<std::string> ended;
  for (const Candidate& candidate : candidates) {
    if (!is_open(candidate.repo, candidate.id)) ended.push_back(candidate.id);
  }
  std::lock_guard lock(mu_);
  for (const std::string& id : ended) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;  // a concurrent sweep forgot it first
    GiveBackLocked(it->second.client);
    sessions_.erase(it);
  }
  if (!client) sweep_at_ = std::max(kMinSweep, 2 * sessions_.size());
}

}  // namespace ocireg::internal
