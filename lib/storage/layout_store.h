// SPDX-License-Identifier: Apache-2.0
// LayoutStore: the Store over a StorageDriver, keeping each repository as an OCI image layout.
//
// It plays the three roles of store.h, maintenance.h and monitoring.h. Its members are defined by
// concern:
//   layout_store.cc      opening, the in-memory state of repositories, OpenStore
//   layout_listing.cc    repositories and tags, a page at a time
//   layout_blobs.cc      blobs of a repository and their one copy in the content store
//   blob_commit.cc       keeping a blob linked against garbage collection
//   layout_uploads.cc    upload sessions
//   layout_manifests.cc  manifests, tags and referrers
//   manifest_facts.cc    what each manifest references, cached
//   manifest_cache.h     the bytes of manifests read or stored lately
//   index_commit.cc      group commits of index.json
//   gc.cc, scrub.cc      maintenance (StoreMaintenance)
//   monitoring.cc        usage, open uploads, writability (StoreMonitoring)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ocireg/manifest.h"
#include "ocireg/storage/maintenance.h"
#include "ocireg/storage/monitoring.h"
#include "ocireg/storage/store.h"
#include "storage/manifest_cache.h"
#include "storage/repo_index.h"
#include "storage/upload_session.h"

namespace ocireg::internal {

// What the store remembers of one manifest after reading it once: enough for garbage collection
// and referrers without parsing the body again.
struct ManifestFacts {
  std::vector<Digest> references;  // config, layers, child manifests
  std::optional<Digest> subject;
  std::string artifact_type;  // as a referrers response reports it
  Annotations annotations;
};

// The facts of a parsed manifest (manifest_facts.cc).
ManifestFacts FactsOf(const ManifestInfo& info);

// One repository's in-memory state. `mu` serialises every change of the repository's index and
// garbage collection of its blobs, which is what keeps a referenced blob from being collected.
//
// Index changes are committed in groups. A change is made to `pending` under `mu`; then whoever
// finds no write in progress writes the newest pending index, with `mu` released, and that one
// write makes every change so far durable. Concurrent tag pushes to one repository so share one
// fsynced rewrite of index.json instead of queueing for one each. Readers see `index`, which
// holds only what is on disk, so nobody sees a tag before its push is acknowledged.
struct RepoState {
  std::mutex mu;
  std::atomic<bool> exists{false};                  // its layout is on disk
  bool loaded = false;                              // `index` reflects index.json
  std::chrono::steady_clock::time_point loaded_at;  // when `index` was last read
  RepoIndex index;                                  // as on disk: what readers see
  std::optional<RepoIndex> pending;                 // `index` with the changes not on disk yet
  bool writing = false;                             // a writer released `mu` to write index.json
  uint64_t changes = 0;                             // changes made so far, numbered from 1
  uint64_t settled = 0;                             // changes 1..settled are written, or lost
  // While `writing`: the index being written.
  const RepoIndex* in_flight = nullptr;
  // index.json's version (StorageDriver::ReadVersioned) as `index` holds it; empty when missing.
  // Writes are conditional on it, so that a change another process made meanwhile is never
  // overwritten: the writer reads the newer index and applies its changes to that again.
  std::string version;
  // The change mark (Coordination::ChangeMark) read just before `index` was last read or found
  // unchanged; "" when unknown. While the mark stays the same, `index` is current.
  std::string mark;
  // A change of the index, applied to whichever index is newest when it is written.
  using Change = std::function<Status(RepoIndex&)>;
  // A change waiting for the write that carries it; that write fills in the outcome.
  struct Waiter {
    Waiter(uint64_t number, Change how) : change(number), apply(std::move(how)) {}
    uint64_t change;
    Change apply;
    bool done = false;
    Status status;
  };
  std::vector<Waiter*> waiters;
  std::condition_variable index_written;  // notified after every write of index.json
  std::map<Digest, ManifestFacts> facts;  // a cache, filled as manifests are read or put

  // What a change builds on: `index` with the pending changes.
  const RepoIndex& latest() const { return pending ? *pending : index; }
  // Every index the repository may hold on disk once the writes under way end: `index`, the one
  // being written, and the newest pending one. Whoever removes a blob keeps what any of them
  // lists or references.
  std::vector<const RepoIndex*> possible() const {
    std::vector<const RepoIndex*> out{&index};
    if (in_flight) out.push_back(in_flight);
    if (pending) out.push_back(&*pending);
    return out;
  }
};

class LayoutStore final : public Store, public StoreMaintenance, public StoreMonitoring {
 public:
  // Releases, when destroyed, the guard GuardInstall took on one digest.
  class InstallGuard {
   public:
    InstallGuard(LayoutStore& store, Digest digest) : store_(store), digest_(std::move(digest)) {}
    ~InstallGuard();
    InstallGuard(const InstallGuard&) = delete;
    InstallGuard& operator=(const InstallGuard&) = delete;

   private:
    LayoutStore& store_;
    Digest digest_;
  };

  static Result<std::unique_ptr<LayoutStore>> Open(std::unique_ptr<StorageDriver> driver,
                                                   StoreOptions options);
  LayoutStore(std::unique_ptr<StorageDriver> driver, StoreOptions options);
  ~LayoutStore() override;

  Page ListRepositories(std::string_view last, size_t limit) override;
  bool RepositoryExists(std::string_view repo) override;
  Result<Page> ListTags(std::string_view repo, std::string_view last, size_t limit) override;

  Result<BlobInfo> StatBlob(std::string_view repo, const Digest& digest) override;
  Result<std::unique_ptr<FileReader>> OpenBlob(std::string_view repo,
                                               const Digest& digest) override;
  Status DeleteBlob(std::string_view repo, const Digest& digest) override;
  Result<BlobInfo> MountBlob(std::string_view repo, const Digest& digest,
                             std::string_view from) override;
  std::vector<std::string> FindBlob(const Digest& digest) override;

  Result<std::shared_ptr<Upload>> StartUpload(std::string_view repo,
                                              DigestAlgorithm algorithm) override;
  Result<std::shared_ptr<Upload>> GetUpload(std::string_view repo, std::string_view id) override;

  Result<PutManifestResult> PutManifest(std::string_view repo, const Reference& reference,
                                        std::span<const std::string> extra_tags,
                                        std::string_view content_type,
                                        std::string_view body) override;
  Result<ManifestRecord> ResolveManifest(std::string_view repo,
                                         const Reference& reference) override;
  Result<std::string> ReadManifest(std::string_view repo, const Digest& digest) override;
  Status DeleteManifest(std::string_view repo, const Digest& digest) override;
  Status DeleteTag(std::string_view repo, std::string_view tag) override;
  Result<std::vector<Descriptor>> ListReferrers(std::string_view repo, const Digest& subject,
                                                std::string_view artifact_type) override;

  StoreMaintenance& maintenance() override { return *this; }
  StoreMonitoring& monitoring() override { return *this; }

  Result<GcReport> CollectGarbage() override;
  Result<ScrubReport> Scrub() override;

  Result<StoreUsage> Usage() override;
  Result<uint64_t> CountUploads() override;
  Status CheckWritable() override;
  // The driver's counters, and the coordination's when there is one.
  std::vector<DriverCounter> DriverCounters() override;

  // Repositories the store keeps state for, including those being created.
  size_t TEST_StateCount();

 private:
  // Finds the repositories on disk (directories holding an oci-layout marker).
  Status DiscoverRepositories();
  // The state of repository `repo` when it exists; on a shared storage (shared_refresh) also one
  // another process created since this store looked.
  std::shared_ptr<RepoState> FindState(std::string_view repo);
  std::shared_ptr<RepoState> GetOrCreateState(std::string_view repo);
  std::vector<std::pair<std::string, std::shared_ptr<RepoState>>> SnapshotRepositories();
  // Drops `state` from the map when its layout was never created and no other call holds it, so
  // that failed pushes to new names leave nothing behind.
  void ForgetIfAbsent(std::string_view repo, const std::shared_ptr<RepoState>& state);
  // Reads index.json into `state` once, and again when due on a shared storage. Requires state.mu.
  // While this process writes the index a refresh waits; `deferred`, when given, is set then.
  Status LoadLocked(std::string_view repo, RepoState& state, bool* deferred = nullptr);
  // LoadLocked for requests that answer from the index: when a refresh is due (another replica's
  // change) but deferred by this process's writes, waits for them and refreshes. `lock` holds
  // state.mu.
  Status LoadForReadingLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                              RepoState& state);
  static constexpr std::chrono::seconds kReadWaitForWrites{5};
  // Reads index.json again, when another process changed it (shared_refresh). Requires state.mu.
  // `mark` is the change mark read before it, kept once the index is current.
  Status RefreshLocked(std::string_view repo, RepoState& state,
                       std::chrono::steady_clock::time_point now, std::string mark);
  // Makes `json` (index.json as read) what readers of `state` see. Requires state.mu.
  Status AdoptIndexLocked(std::string_view repo, RepoState& state, VersionedFile json);
  // Writes the layout marker and an empty index of a new repository. Requires state.mu.
  Status CreateLayoutLocked(std::string_view repo, RepoState& state);
  // Ensures `repo`'s layout exists (locks its state).
  Status EnsureRepository(std::string_view repo);
  // Applies `change` to the repository's index: returns once it is on disk, or with the error
  // that lost it (also the change's own error, when it no longer applies to an index another
  // process changed meanwhile). `lock` holds state.mu; it is released while waiting.
  Status CommitIndexLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                           RepoState& state, const RepoState::Change& change);
  // Writes `index` over the version `version` of index.json; on a conflict reads the newer one
  // and applies `changes` to it again, failing in `failed` those that no longer apply. Returns
  // the index written, its version, and whether it was rebased. Called without the repository's
  // lock.
  struct IndexWritten {
    RepoIndex index;
    std::string version;
    bool rebased = false;  // built on another process's index
    Status announced;      // the change mark published after the write (Announce)
  };
  Result<IndexWritten> WriteIndexOver(std::string_view repo, RepoIndex index, std::string version,
                                      const std::vector<RepoState::Waiter*>& changes,
                                      std::map<RepoState::Waiter*, Status>& failed);
  // Writes the newest pending index, with `lock` released meanwhile.
  void WriteIndexLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                        RepoState& state);
  // Waits until the index changes made before the call are written (or lost), so that
  // state.index holds them. Changes made meanwhile are not waited for, so that a steady stream of
  // pushes cannot hold the caller forever: they are in state.possible().
  static void SettleLocked(std::unique_lock<std::mutex>& lock, RepoState& state);
  // Whether `digest` is a manifest, or referenced by one, in any of state.possible(); true also
  // when a manifest cannot be read, since it may reference it. Requires state.mu.
  bool MayBeReferencedLocked(std::string_view repo, RepoState& state, const Digest& digest);
  // A manifest in any of state.possible() that references manifest `digest` (a parent index),
  // skipping manifests that cannot be read. Requires state.mu.
  std::optional<Digest> ParentLocked(std::string_view repo, RepoState& state, const Digest& digest);
  // The facts of manifest `entry`, read from its blob once. Requires state.mu.
  Result<const ManifestFacts*> FactsLocked(std::string_view repo, RepoState& state,
                                           const IndexEntry& entry);

  // Commits `writer` (verified) as content-store blob `digest` and links it into `repo`.
  Status InstallBlob(std::string_view repo, const Digest& digest, BlobWriter& writer);
  // Keeps content `digest` from garbage collection while it is being installed (see
  // installing_) until the guard goes.
  std::unique_ptr<InstallGuard> GuardInstall(const Digest& digest);
  // Stores small content (a manifest body) as blob `digest` of `repo`, through the content store.
  Status InstallBytes(std::string_view repo, const Digest& digest, std::string_view bytes);
  // Keeps `target`, a blob `repo` holds already, from garbage collection: refreshes its time under
  // the repository's lock, or links it again from the first of `sources` that can when it was
  // collected meanwhile. kNotFound when it is gone and no source is left.
  Status KeepLinked(std::string_view repo, std::initializer_list<std::string> sources,
                    const std::string& target);
  // The outcome of an index write that failed with `failure`: the version of `json` when it is on
  // disk all the same (the rename was done), with a warning. Called without the repository's lock.
  Result<std::string> JudgeFailedIndexWrite(std::string_view repo, const std::string& json,
                                            const Status& failure);
  // The change mark of `scope` (a repository, or "" for the list of repositories) now; "" when
  // there is no coordination or it cannot be asked, so that nothing is trusted as unchanged.
  std::string MarkNow(std::string_view scope);
  // Whether other processes may change the storage too (shared_refresh or coordination).
  bool SharesStorage() const {
    return options_.shared_refresh.count() > 0 || options_.coordination != nullptr;
  }
  // Announces a change of `scope` to the other replicas; Ok without coordination.
  Status Announce(std::string_view scope);
  // Announces that content `digest` is about to be relied on: to this process's garbage
  // collection, and to the other replicas' (Coordination::UseContent).
  Status AnnounceUse(const Digest& digest);
  // Records `digest` in local_uses_, trimming old entries now and then.
  void RecordLocalUse(const Digest& digest);
  // Whether `digest` was announced since LocalUseWindow() before the running collection started.
  // Requires uses_mu_.
  bool UsedLocallyLocked(const Digest& digest) const;
  // Finds repositories other processes created: with coordination when the list of repositories
  // changed since it was last read (or cannot be known to be unchanged); with `always`, in any
  // case. An error when the storage could not be listed completely.
  Status RefreshRepositoryList(bool always = false);
  // Removes the file of content `digest` at `path` for a collection holding `lease` (null
  // without coordination): claims the content first, so that no replica relies on it meanwhile.
  // False when it was kept because a replica announced it in use.
  Result<bool> RemoveCollected(const Lease* lease, const std::optional<Digest>& digest,
                               const std::string& path);
  // Reports something an operator should know to options_.warn, when set.
  void Warn(const std::string& message) const {
    if (options_.warn) options_.warn(message);
  }
  // Every blob and child manifest `info` references is in `repo` (kManifestBlobUnknown), with
  // the size its descriptor gives; with `sparse`, child manifests of an index may be absent.
  Status CheckReferencesLocked(std::string_view repo, RepoState& state, const ManifestInfo& info,
                               bool sparse);
  // StoreOptions::sparse_indexes for `repo`.
  bool AcceptsSparseIndexes(std::string_view repo) const {
    return options_.sparse_indexes && options_.sparse_indexes(repo);
  }

  UploadHooks MakeUploadHooks();
  // The session this process holds for `id`, or null.
  std::shared_ptr<UploadSession> CachedUpload(std::string_view id);
  // Drops `session` from those this process holds, when it is still the one held.
  void ForgetUpload(const std::shared_ptr<UploadSession>& session);
  Status CollectRepository(const std::string& repo, RepoState& state, const Lease* lease,
                           std::set<Digest>& linked, GcReport& report);
  Status CollectContent(const std::set<Digest>& linked, const Lease* lease, GcReport& report);
  // The whole collection, under `lease` when the store coordinates with replicas.
  Result<GcReport> CollectGarbageUnder(const Lease* lease);
  Status CollectUploads(GcReport& report);
  bool OlderThan(const FileInfo& info, std::chrono::seconds age) const;
  // Reports maintenance progress to options_.progress, when set.
  void Progress(std::string_view stage, uint64_t done) const {
    if (options_.progress) options_.progress(stage, done);
  }
  Status ScrubRepository(const std::string& repo, RepoState& state, std::set<Digest>& linked,
                         ScrubReport& report);
  // Hashes the file at `path` and reports a mismatch with `digest` into `report`.
  void ScrubBlob(const std::string& where, const std::string& path, const Digest& digest,
                 ScrubReport& report);

  std::unique_ptr<StorageDriver> driver_;
  StoreOptions options_;
  // What the store skipped while opening (directories it could not list); repeated in every
  // GcReport and ScrubReport. Written only by Open.
  std::vector<std::string> open_problems_;

  std::shared_mutex repos_mu_;
  std::map<std::string, std::shared_ptr<RepoState>, std::less<>> repos_;
  // Content announced in use lately by this process (AnnounceUse): digest -> when. Its own
  // garbage collection keeps what was announced since LocalUseWindow() before it started, as the
  // coordination does across replicas (RemoveCollected checks and removes under uses_mu_).
  std::mutex uses_mu_;
  // Times are options_.now()'s, the clock garbage collection judges ages by.
  std::map<Digest, std::chrono::system_clock::time_point> local_uses_;
  std::optional<std::chrono::system_clock::time_point> collection_started_;  // of the first running
  int collections_running_ = 0;
  size_t uses_since_trim_ = 0;
  // Ten minutes, or the grace period when shorter: uses before the collection started matter
  // only for pushes still under way, and a grace period of 0 asks for everything unreferenced
  // to go at once.
  std::chrono::seconds LocalUseWindow() const {
    return std::min<std::chrono::seconds>(std::chrono::minutes(10), options_.gc_grace_period);
  }
  // The change mark of the list of repositories when it was last read (RefreshRepositoryList).
  std::mutex catalog_mu_;
  std::string catalog_mark_;

  // Content being installed: committed or written to the content store and not yet linked into
  // its repository. Garbage collection skips it, checking and removing under content_mu_, so
  // that content is never taken between its commit and its first link.
  std::mutex content_mu_;
  std::multiset<Digest> installing_;

  // Manifests read or stored lately: the pulls of popular images reach no storage.
  static constexpr size_t kManifestCacheBytes = 16u << 20;
  ManifestCache manifest_cache_{kManifestCacheBytes};

  std::shared_ptr<HashHelper> hashing_ = std::make_shared<HashHelper>();
  std::mutex uploads_mu_;
  std::unordered_map<std::string, std::shared_ptr<UploadSession>> uploads_;
};

}  // namespace ocireg::internal
