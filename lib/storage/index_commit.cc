// SPDX-License-Identifier: Apache-2.0
// Writes of a repository's index.json, committed in groups: every change waits for the one write
// that carries it (see RepoState in layout_store.h).
#include <algorithm>
#include <exception>
#include <optional>
#include <string>

#include "storage/layout.h"
#include "storage/layout_store.h"

namespace ocireg::internal {

Status LayoutStore::CommitIndexLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                                      RepoState& state, RepoIndex index) {
  state.waiters.reserve(state.waiters.size() + 1);  // may throw: before anything changes
  state.pending = std::move(index);
  RepoState::Waiter me(++state.changes);
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

void LayoutStore::WriteIndexLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                                   RepoState& state) {
  state.writing = true;
  const uint64_t covered = state.changes;
  std::optional<RepoIndex> snapshot;
  Status written;
  // Every waiter relies on this write to end: a throw (std::bad_alloc, or from the driver) must
  // become their failure, not leave `writing` set with nobody to clear it.
  try {
    snapshot = *state.pending;
    state.in_flight = &*snapshot;
    lock.unlock();
    const std::string json = snapshot->Serialize();
    written = driver_->WriteFileAtomic(RepoIndexPath(repo), json);
    if (!written.ok()) written = JudgeFailedIndexWrite(repo, json, written);
  } catch (const std::exception& e) {
    written = Internal(std::string(repo) + "/index.json: write failed: " + e.what());
  } catch (...) {
    written = Internal(std::string(repo) + "/index.json: write failed: unknown exception");
  }
  if (!lock.owns_lock()) lock.lock();
  state.writing = false;
  state.in_flight = nullptr;
  if (written.ok()) state.index = std::move(*snapshot);
  // A failed write also loses the changes made meanwhile: they were built on the ones it carried.
  const uint64_t settled = written.ok() ? covered : state.changes;
  state.settled = std::max(state.settled, settled);
  std::erase_if(state.waiters, [&](RepoState::Waiter* waiter) {
    if (waiter->change > settled) return false;
    waiter->done = true;
    waiter->status = written;
    return true;
  });
  if (state.waiters.empty()) state.pending.reset();
  state.index_written.notify_all();
}

Status LayoutStore::JudgeFailedIndexWrite(std::string_view repo, const std::string& json,
                                          const Status& failure) {
  // A write whose rename succeeded before the directory's fsync failed has put the new index on
  // disk: a restart, and every other process, reads it. Reporting the change failed while keeping
  // the old index in memory would have readers and the caller disagree with the disk (a tag seen
  // after a restart that this process denies, a "failed" push whose tag appears). The change is
  // visible, so it is reported done, with a warning that a power loss may still undo it.
  auto on_disk = driver_->ReadFile(RepoIndexPath(repo));
  if (!on_disk.ok() || *on_disk != json) return failure;
  Warn(std::string(repo) +
       "/index.json was replaced, but may not survive a power loss: " + failure.message());
  return Status::Ok();
}

void LayoutStore::SettleLocked(std::unique_lock<std::mutex>& lock, RepoState& state) {
  // Each pending change has a caller waiting in CommitIndexLocked, which writes it.
  const uint64_t made = state.changes;
  state.index_written.wait(lock, [&] { return state.settled >= made; });
}

}  // namespace ocireg::internal
