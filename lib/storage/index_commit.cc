// SPDX-License-Identifier: Apache-2.0
// Writes of a repository's index.json, committed in groups: every change waits for the one write
// that carries it (see RepoState in layout_store.h).
#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "storage/layout.h"
#include "storage/layout_store.h"

namespace ocireg::internal {

namespace {

// Attempts at writing an index that other processes keep changing before the write gives up.
constexpr int kConflictAttempts = 32;

// Waits a random while, longer after each lost attempt (up to 50 ms), before the next: writers
// that keep meeting in lockstep would otherwise keep losing to each other.
void BackOffAfterConflict(int attempt) {
  thread_local std::minstd_rand random{std::random_device{}()};
  const int longest_us = std::min(50'000, 250 << std::min(attempt, 8));
  std::uniform_int_distribution<int> wait_us(0, longest_us);
  std::this_thread::sleep_for(std::chrono::microseconds(wait_us(random)));
}

}  // namespace

Status LayoutStore::CommitIndexLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                                      RepoState& state, const RepoState::Change& change) {
  RepoIndex index = state.latest();
  OCIREG_RETURN_IF_ERROR(change(index));
  state.waiters.reserve(state.waiters.size() + 1);  // may throw: before anything changes
  state.pending = std::move(index);
  RepoState::Waiter me(++state.changes, change);
  state.waiters.push_back(&me);
  while (!me.done) {
    if (state.writing) {
      state.index_written.wait(lock);
    } else {
      WriteIndexLocked(lock, repo, state);
    }
  }
  return me.status;
}

Result<LayoutStore::IndexWritten> LayoutStore::WriteIndexOver(
    std::string_view repo, RepoIndex index, std::string version,
    const std::vector<RepoState::Waiter*>& changes, std::map<RepoState::Waiter*, Status>& failed) {
  // Announced before the write as well as after: a replica that cannot reach its coordinator
  // fails the change here, before anything is written, instead of after.
  OCIREG_RETURN_IF_ERROR(Announce(repo));
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    const std::string json = index.Serialize();
    auto written = driver_->ReplaceFile(RepoIndexPath(repo), json, version);
    if (!written.ok() && !IsAlreadyExists(written.status())) {
      written = JudgeFailedIndexWrite(repo, json, written.status());
    }
    if (written.ok()) {
      return IndexWritten{std::move(index), std::move(*written), attempt > 0, Announce(repo)};
    }
    if (!IsAlreadyExists(written.status())) return written.status();
    // Another process wrote the index since it was read: build on what it wrote.
    BackOffAfterConflict(attempt);
    auto fresh = driver_->ReadVersioned(RepoIndexPath(repo));
    RepoIndex base;
    if (fresh.ok()) {
      auto parsed = RepoIndex::Parse(fresh->data);
      if (!parsed.ok()) {
        return Internal(std::string(repo) + "/index.json: " + parsed.status().message());
      }
      base = std::move(*parsed);
      version = std::move(fresh->version);
    } else if (IsNotFound(fresh.status())) {
      version.clear();
    } else {
      return fresh.status();
    }
    failed.clear();
    for (RepoState::Waiter* waiter : changes) {
      if (Status applied = waiter->apply(base); !applied.ok()) failed[waiter] = applied;
    }
    index = std::move(base);
  }
  return Unavailable(std::string(repo) + "/index.json keeps changing: " +
                     std::to_string(kConflictAttempts) + " writes lost to other processes");
}

void LayoutStore::WriteIndexLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                                   RepoState& state) {
  state.writing = true;
  const uint64_t covered = state.changes;
  std::optional<RepoIndex> snapshot;
  std::optional<RepoIndex> stored;  // what was written: the snapshot, or it rebased
  std::string version;
  bool rebased = false;
  std::map<RepoState::Waiter*, Status> failed;
  Status written;
  // Every waiter relies on this write to end: a throw (std::bad_alloc, or from the driver) must
  // become their failure, not leave `writing` set with nobody to clear it.
  try {
    snapshot = *state.pending;
    state.in_flight = &*snapshot;
    std::vector<RepoState::Waiter*> changes;
    for (RepoState::Waiter* waiter : state.waiters) {
      if (waiter->change <= covered) changes.push_back(waiter);
    }
    const std::string known = state.version;
    lock.unlock();
    auto result = WriteIndexOver(repo, *snapshot, known, changes, failed);
    written = result.status();
    // Not into *snapshot: readers holding the lock see it as in_flight until the lock is taken.
    if (result.ok()) {
      stored.emplace(std::move(result->index));
      version = std::move(result->version);
      rebased = result->rebased;
      // Written but not announced: other replicas may not see it at once, so it is not
      // acknowledged; this process serves what storage holds.
      written = result->announced;
    }
  } catch (const std::exception& e) {
    written = Internal(std::string(repo) + "/index.json: write failed: " + e.what());
  } catch (...) {
    written = Internal(std::string(repo) + "/index.json: write failed: unknown exception");
  }
  if (!lock.owns_lock()) lock.lock();
  state.writing = false;
  state.in_flight = nullptr;
  if (stored) {
    state.index = std::move(*stored);
    state.version = std::move(version);
  }
  // A failed write also loses the changes made meanwhile: they were built on the ones it carried.
  const uint64_t settled = stored ? covered : state.changes;
  state.settled = std::max(state.settled, settled);
  std::erase_if(state.waiters, [&](RepoState::Waiter* waiter) {
    if (waiter->change > settled) return false;
    auto it = failed.find(waiter);
    waiter->status = it != failed.end() ? it->second : written;
    waiter->done = true;
    return true;
  });
  // Changes made meanwhile were built on an index another process has since replaced: they are
  // applied again to the one now written.
  if (rebased && !state.waiters.empty()) {
    RepoIndex next = state.index;
    std::erase_if(state.waiters, [&](RepoState::Waiter* waiter) {
      Status applied = waiter->apply(next);
      if (applied.ok()) return false;
      waiter->status = applied;
      waiter->done = true;
      return true;
    });
    state.pending = std::move(next);
  }
  if (state.waiters.empty()) state.pending.reset();
  state.index_written.notify_all();
}

Result<std::string> LayoutStore::JudgeFailedIndexWrite(std::string_view repo,
                                                       const std::string& json,
                                                       const Status& failure) {
  // A write whose rename succeeded before the directory's fsync failed has put the new index on
  // disk: a restart, and every other process, reads it. Reporting the change failed while keeping
  // the old index in memory would have readers and the caller disagree with the disk (a tag seen
  // after a restart that this process denies, a "failed" push whose tag appears). The change is
  // visible, so it is reported done, with a warning that a power loss may still undo it.
  auto on_disk = driver_->ReadVersioned(RepoIndexPath(repo));
  if (!on_disk.ok() || on_disk->data != json) return failure;
  Warn(std::string(repo) +
       "/index.json was replaced, but may not survive a power loss: " + failure.message());
  return std::move(on_disk->version);
}

void LayoutStore::SettleLocked(std::unique_lock<std::mutex>& lock, RepoState& state) {
  // Each pending change has a caller waiting in CommitIndexLocked, which writes it.
  const uint64_t made = state.changes;
  state.index_written.wait(lock, [&] { return state.settled >= made; });
}

}  // namespace ocireg::internal
