// SPDX-License-Identifier: Apache-2.0
// DiscoverRepositoryNames: a parallel walk of the store's directories.
#include "storage/repository_discovery.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "storage/layout.h"

namespace ocireg::internal {
namespace {

// The shared state of one walk: directories still to list, and what was found.
class Walk {
 public:
  explicit Walk(StorageDriver& driver) : driver_(driver) { pending_.emplace_back(); }

  // Lists directories until none is pending or being listed (which could add more).
  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      changed_.wait(lock, [this] { return !pending_.empty() || listing_ == 0 || !failure_.ok(); });
      if (pending_.empty() || !failure_.ok()) return;
      std::string dir = std::move(pending_.front());
      pending_.pop_front();
      ++listing_;
      lock.unlock();
      Visit(dir);
      lock.lock();
      --listing_;
      changed_.notify_all();
    }
  }

  Result<std::vector<std::string>> Finish(std::vector<std::string>& skipped) {
    if (!failure_.ok()) return failure_;
    skipped = std::move(skipped_);
    return std::move(found_);
  }

 private:
  // Lists one directory: its subdirectory candidates go to pending_, and it is a repository
  // when it holds the marker.
  void Visit(const std::string& dir) {
    auto names = driver_.List(dir);
    if (!names.ok() && !IsNotFound(names.status())) {
      if (dir.empty()) return Fail(names.status());
      return Skip(dir + ": cannot be listed, skipped: " + names.status().message());
    }
    if (!names.ok()) return;  // vanished, or a file
    std::vector<std::string> children;
    bool is_repo = false;
    for (const std::string& name : *names) {
      if (!dir.empty() && name == kLayoutMarker) is_repo = true;
      // The store's own entries start with '_' and the drivers' with '.': none is a repository.
      if (name.empty() || name[0] == '_' || name[0] == '.') continue;
      // Below the root, layout entry names are the files and blob directory of the layout they
      // sit in (the name check refuses them there). The root is no layout: there they can only
      // be repositories, which the name check allows.
      if (!dir.empty() && IsLayoutEntry(name)) continue;
      children.push_back(dir.empty() ? name : dir + "/" + name);
    }
    std::lock_guard lock(mu_);
    for (auto& child : children) pending_.push_back(std::move(child));
    if (is_repo && ValidateStoreRepositoryName(dir).ok()) found_.push_back(dir);
  }

  void Skip(std::string problem) {
    std::lock_guard lock(mu_);
    skipped_.push_back(std::move(problem));
  }

  void Fail(const Status& status) {
    std::lock_guard lock(mu_);
    if (failure_.ok()) failure_ = status;
  }

  StorageDriver& driver_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> pending_;
  size_t listing_ = 0;
  Status failure_;
  std::vector<std::string> found_;
  std::vector<std::string> skipped_;
};

}  // namespace

Result<std::vector<std::string>> DiscoverRepositoryNames(StorageDriver& driver, size_t parallelism,
                                                         std::vector<std::string>& skipped) {
  Walk walk(driver);
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < parallelism; ++i) helpers.emplace_back([&walk] { walk.Work(); });
  walk.Work();
  for (auto& helper : helpers) helper.join();
  return walk.Finish(skipped);
}

}  // namespace ocireg::internal
