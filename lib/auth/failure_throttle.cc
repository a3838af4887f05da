// SPDX-License-Identifier: Apache-2.0
// FailureThrottle: failed logins counted per (address, user), address and user, in a bounded
// least-recently-used table.
#include "auth/failure_throttle.h"

#include <algorithm>

namespace ocireg::internal {
namespace {

using std::chrono::seconds;

// Distinct prefixes keep the three kinds of key apart. An address holds no NUL byte, so the one
// between address and user makes pair keys unambiguous.
std::string UserPart(std::string_view user) {
  if (user.size() <= FailureThrottle::kMaxUserBytes) return std::string(user);
  // Longer than any stored name: cannot equal a short name, whatever its first bytes.
  return std::string(user.substr(0, FailureThrottle::kMaxUserBytes)) + '\0' +
         std::to_string(user.size());
}
std::string PairKey(std::string_view address, std::string_view user) {
  return "p" + std::string(address) + '\0' + UserPart(user);
}
std::string AddressKey(std::string_view address) { return "a" + std::string(address); }
std::string UserKey(std::string_view user) { return "u" + UserPart(user); }

}  // namespace

FailureThrottle::FailureThrottle(const Settings& settings) : settings_(settings) {}

FailureThrottle::Entry* FailureThrottle::Find(const std::string& key, Clock::time_point now) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  Entry& entry = *it->second;
  // Below the threshold the window runs from the first failure, so that occasional typos never
  // add up; past it, from the last one, so that a key under attack stays throttled.
  const Clock::time_point since = entry.count >= entry.threshold ? entry.last : entry.first;
  if (entry.count > 0 && now - since > settings_.window) entry.count = 0;
  return &entry;
}

FailureThrottle::Entry& FailureThrottle::Obtain(const std::string& key, uint32_t threshold,
                                                Clock::time_point now) {
  if (Entry* entry = Find(key, now)) return *entry;
  if (lru_.size() >= std::max<size_t>(settings_.capacity, 3)) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, threshold, 0, now, now, false});
  index_.emplace(lru_.front().key, lru_.begin());
  return lru_.front();
}

FailureThrottle::Clock::duration FailureThrottle::Wait(const Entry* entry,
                                                       Clock::time_point now) const {
  if (entry == nullptr || entry->count < entry->threshold) return Clock::duration::zero();
  // Doubling per failure beyond the threshold. The shift is bounded, and the product taken in
  // seconds, so that neither overflows before the cap applies (delays may be up to 36500 days).
  const uint32_t doublings = std::min<uint32_t>(entry->count - entry->threshold, 20);
  const seconds backoff =
      std::min<seconds>(settings_.delay * (int64_t{1} << doublings), settings_.max_delay);
  const Clock::time_point ready = entry->last + backoff;
  return ready > now ? ready - now : Clock::duration::zero();
}

seconds FailureThrottle::Admit(std::string_view address, std::string_view user,
                               Clock::time_point now) {
  if (settings_.limit == 0) return seconds(0);
  std::lock_guard lock(mutex_);
  Entry* pair = Find(PairKey(address, user), now);
  Entry* covering[3] = {pair, nullptr, nullptr};
  if (pair == nullptr || !pair->succeeded) {
    covering[1] = Find(AddressKey(address), now);
    covering[2] = Find(UserKey(user), now);
  }
  Clock::duration wait = Clock::duration::zero();
  for (const Entry* entry : covering) wait = std::max(wait, Wait(entry, now));
  if (wait > Clock::duration::zero()) {
    // Whole seconds for Retry-After, rounded up: never an invitation to come back too early.
    return std::chrono::ceil<seconds>(wait);
  }
  // This attempt is the one a throttled key lets through: the next waits again.
  for (Entry* entry : covering) {
    if (entry != nullptr && entry->count >= entry->threshold) entry->last = now;
  }
  return seconds(0);
}

void FailureThrottle::CountFailure(Entry& entry, Clock::time_point now) {
  if (entry.count == 0) entry.first = now;
  ++entry.count;
  entry.last = now;
}

void FailureThrottle::RecordFailure(std::string_view address, std::string_view user,
                                    Clock::time_point now) {
  if (settings_.limit == 0) return;
  std::lock_guard lock(mutex_);
  Entry& pair = Obtain(PairKey(address, user), settings_.limit, now);
  const bool new_partners = pair.count == 0;
  CountFailure(pair, now);
  // The address and user keys count partners: the pair's first failure in its window.
  if (!new_partners) return;
  CountFailure(Obtain(AddressKey(address), settings_.spread_limit, now), now);
  CountFailure(Obtain(UserKey(user), settings_.spread_limit, now), now);
}

void FailureThrottle::RecordSuccess(std::string_view address, std::string_view user,
                                    Clock::time_point now) {
  if (settings_.limit == 0) return;
  std::lock_guard lock(mutex_);
  Entry& pair = Obtain(PairKey(address, user), settings_.limit, now);
  pair.count = 0;
  pair.succeeded = true;
  pair.last = now;
}

size_t FailureThrottle::tracked() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace ocireg::internal
