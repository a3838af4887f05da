// SPDX-License-Identifier: Apache-2.0
// The storage engine: repositories as OCI image layouts, blobs deduplicated through one content
// store.
#include "storage/layout_store.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "ocireg/manifest.h"
#include "storage/layout.h"
#include "storage/repository_discovery.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {
namespace {

// Directories listed at once while the store opens (see DiscoverRepositoryNames).
constexpr size_t kDiscoveryParallelism = 8;

Status UnknownRepository(std::string_view repo) {
  return NameUnknown("repository " + std::string(repo) + " is not known");
}

Status UnknownBlob(std::string_view repo, const Digest& digest) {
  return BlobUnknown("blob " + digest.ToString() + " is not in repository " + std::string(repo));
}

Status UnknownManifest(std::string_view repo, std::string_view reference) {
  return ManifestUnknown("manifest " + std::string(reference) + " is not in repository " +
                         std::string(repo));
}

// The keys of sorted map `entries` after `last` (exclusive), at most `limit` (0: all), skipping
// those `keep` refuses.
template <typename Map, typename Keep>
Page PageAfter(const Map& entries, std::string_view last, size_t limit, Keep keep) {
  Page page;
  auto it = last.empty() ? entries.begin() : entries.upper_bound(last);
  for (; it != entries.end(); ++it) {
    if (!keep(it->second)) continue;
    if (limit != 0 && page.items.size() == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(it->first);
  }
  return page;
}

ManifestFacts FactsOf(const ManifestInfo& info) {
  ManifestFacts facts;
  for (const Descriptor& d : info.References()) facts.references.push_back(d.digest);
  if (info.subject) facts.subject = info.subject->digest;
  facts.artifact_type = info.ReferrerArtifactType();
  facts.annotations = info.annotations;
  return facts;
}

// Runs `f` when the scope ends, however it ends.
template <typename F>
class OnExit {
 public:
  explicit OnExit(F f) : f_(std::move(f)) {}
  ~OnExit() { f_(); }
  OnExit(const OnExit&) = delete;
  OnExit& operator=(const OnExit&) = delete;

 private:
  F f_;
};

// A foreign (non-distributable) layer lives at its URLs, not in the registry.
bool IsExternal(const Descriptor& d) { return !d.urls.empty(); }

}  // namespace

// --- Opening --------------------------------------------------------------------------------

LayoutStore::LayoutStore(std::unique_ptr<StorageDriver> driver, StoreOptions options)
    : driver_(std::move(driver)), options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return std::chrono::system_clock::now(); };
}

LayoutStore::~LayoutStore() = default;

Result<std::unique_ptr<LayoutStore>> LayoutStore::Open(std::unique_ptr<StorageDriver> driver,
                                                       StoreOptions options) {
  auto store = std::make_unique<LayoutStore>(std::move(driver), std::move(options));
  OCIREG_RETURN_IF_ERROR(store->DiscoverRepositories());
  return store;
}

Status LayoutStore::DiscoverRepositories() {
  auto names = DiscoverRepositoryNames(*driver_, kDiscoveryParallelism, open_problems_);
  OCIREG_RETURN_IF_ERROR(names);
  std::unique_lock lock(repos_mu_);
  for (std::string& name : *names) {
    auto state = std::make_shared<RepoState>();
    state->exists = true;
    repos_.emplace(std::move(name), std::move(state));
  }
  return Status::Ok();
}

// --- Repository state -------------------------------------------------------------------------

std::shared_ptr<RepoState> LayoutStore::FindState(std::string_view repo) {
  std::shared_lock lock(repos_mu_);
  auto it = repos_.find(repo);
  if (it == repos_.end() || !it->second->exists) return nullptr;
  return it->second;
}

std::shared_ptr<RepoState> LayoutStore::GetOrCreateState(std::string_view repo) {
  {
    std::shared_lock lock(repos_mu_);
    auto it = repos_.find(repo);
    if (it != repos_.end()) return it->second;
  }
  std::unique_lock lock(repos_mu_);
  auto [it, inserted] = repos_.try_emplace(std::string(repo), nullptr);
  if (inserted) it->second = std::make_shared<RepoState>();
  return it->second;
}

void LayoutStore::ForgetIfAbsent(std::string_view repo, const std::shared_ptr<RepoState>& state) {
  if (state->exists) return;
  std::unique_lock lock(repos_mu_);
  auto it = repos_.find(repo);
  // Copies of the pointer are taken from the map only under repos_mu_, so with it held a count of
  // two (the map's and ours) means no other call is creating this repository.
  if (it != repos_.end() && it->second == state && state.use_count() == 2 && !state->exists) {
    repos_.erase(it);
  }
}

size_t LayoutStore::TEST_StateCount() {
  std::shared_lock lock(repos_mu_);
  return repos_.size();
}

std::vector<std::pair<std::string, std::shared_ptr<RepoState>>>
LayoutStore::SnapshotRepositories() {
  std::shared_lock lock(repos_mu_);
  std::vector<std::pair<std::string, std::shared_ptr<RepoState>>> out;
  for (const auto& [name, state] : repos_) {
    if (state->exists) out.emplace_back(name, state);
  }
  return out;
}

Status LayoutStore::LoadLocked(std::string_view repo, RepoState& state) {
  if (state.loaded) return Status::Ok();
  auto json = driver_->ReadFile(RepoIndexPath(repo));
  if (json.ok()) {
    auto index = RepoIndex::Parse(*json);
    if (!index.ok()) {
      return Internal(std::string(repo) + "/index.json: " + index.status().message());
    }
    state.index = std::move(*index);
  } else if (!IsNotFound(json.status())) {
    return json.status();
  }
  state.loaded = true;
  return Status::Ok();
}

Status LayoutStore::CreateLayoutLocked(std::string_view repo, RepoState& state) {
  if (state.exists) return Status::Ok();
  // A crash between the two writes leaves a marker without an index, which reads as empty.
  OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(RepoMarkerPath(repo), kLayoutMarkerContent));
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, state));
  OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(RepoIndexPath(repo), state.index.Serialize()));
  state.exists = true;
  return Status::Ok();
}

Status LayoutStore::EnsureRepository(std::string_view repo) {
  auto state = GetOrCreateState(repo);
  if (state->exists) return Status::Ok();
  OnExit forget([&] { ForgetIfAbsent(repo, state); });
  std::lock_guard lock(state->mu);
  return CreateLayoutLocked(repo, *state);
}

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

std::optional<Digest> LayoutStore::ParentLocked(std::string_view repo, RepoState& state,
                                                const Digest& digest) {
  for (const RepoIndex* index : state.possible()) {
    for (const auto& [other, entry] : index->manifests()) {
      if (other == digest) continue;
      auto facts = FactsLocked(repo, state, entry);
      if (!facts.ok()) continue;  // unreadable: scrub reports it
      const auto& refs = (*facts)->references;
      if (std::find(refs.begin(), refs.end(), digest) != refs.end()) return other;
    }
  }
  return std::nullopt;
}

bool LayoutStore::MayBeReferencedLocked(std::string_view repo, RepoState& state,
                                        const Digest& digest) {
  for (const RepoIndex* index : state.possible()) {
    if (index->FindManifest(digest) != nullptr) return true;
    for (const auto& [other, entry] : index->manifests()) {
      auto facts = FactsLocked(repo, state, entry);
      if (!facts.ok()) return true;
      const auto& refs = (*facts)->references;
      if (std::find(refs.begin(), refs.end(), digest) != refs.end()) return true;
    }
  }
  return false;
}

Result<const ManifestFacts*> LayoutStore::FactsLocked(std::string_view repo, RepoState& state,
                                                      const IndexEntry& entry) {
  auto it = state.facts.find(entry.digest);
  if (it != state.facts.end()) return &it->second;
  auto body = driver_->ReadFile(RepoBlobPath(repo, entry.digest));
  OCIREG_RETURN_IF_ERROR(body);
  // Stored manifests were valid when pushed; no size limit applies to reading them back.
  auto info = ParseManifest(entry.media_type, *body, body->size());
  if (!info.ok()) {
    return Internal(std::string(repo) + ": stored manifest " + entry.digest.ToString() +
                    " no longer parses: " + info.status().message());
  }
  return &state.facts.emplace(entry.digest, FactsOf(*info)).first->second;
}

// --- Listing ----------------------------------------------------------------------------------

Page LayoutStore::ListRepositories(std::string_view last, size_t limit) {
  std::shared_lock lock(repos_mu_);
  // A state whose layout is not on disk yet is a repository being created, or a failed push.
  return PageAfter(repos_, last, limit, [](const auto& state) { return state->exists.load(); });
}

bool LayoutStore::RepositoryExists(std::string_view repo) { return FindState(repo) != nullptr; }

Result<Page> LayoutStore::ListTags(std::string_view repo, std::string_view last, size_t limit) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::lock_guard lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  return PageAfter(state->index.tags(), last, limit, [](const Digest&) { return true; });
}

// --- Blobs ------------------------------------------------------------------------------------

Result<BlobInfo> LayoutStore::StatBlob(std::string_view repo, const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto info = driver_->Stat(RepoBlobPath(repo, digest));
  if (!info.ok()) return IsNotFound(info.status()) ? UnknownBlob(repo, digest) : info.status();
  return BlobInfo{digest, info->size};
}

Result<std::unique_ptr<FileReader>> LayoutStore::OpenBlob(std::string_view repo,
                                                          const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto reader = driver_->OpenReader(RepoBlobPath(repo, digest));
  if (!reader.ok() && IsNotFound(reader.status())) return UnknownBlob(repo, digest);
  return reader;
}

Status LayoutStore::DeleteBlob(std::string_view repo, const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownBlob(repo, digest);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  SettleLocked(lock, *state);
  const auto possible = state->possible();
  if (std::any_of(possible.begin(), possible.end(),
                  [&](const RepoIndex* index) { return index->FindManifest(digest) != nullptr; })) {
    return Unsupported(digest.ToString() + " is a manifest of " + std::string(repo) +
                       ": delete it through the manifests endpoint");
  }
  Status removed = driver_->Remove(RepoBlobPath(repo, digest));
  if (IsNotFound(removed)) return UnknownBlob(repo, digest);
  return removed;
}

Status LayoutStore::InstallBlob(std::string_view repo, const Digest& digest,
                                std::string_view data_path) {
  OCIREG_RETURN_IF_ERROR(EnsureRepository(repo));
  const std::string content = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  const std::string own(data_path);
  // Prefer the copy the store already has, so every repository shares one file.
  Status shared = driver_->Link(content, target);
  if (shared.ok()) return Status::Ok();
  if (IsAlreadyExists(shared)) return KeepLinked(repo, {content, own}, target);
  // No shared copy (or garbage collection just took it), or one that takes no more names
  // (EMLINK): the repository links our own file, which nobody else can remove.
  Status linked = driver_->Link(own, target);
  if (IsAlreadyExists(linked)) return KeepLinked(repo, {content, own}, target);
  OCIREG_RETURN_IF_ERROR(linked);
  // The content store learns of our file for later pushes.
  if (IsNotFound(shared)) return SeedContent(target, content);
  ReplaceContent(own, content);
  return Status::Ok();
}

Status LayoutStore::InstallBytes(std::string_view repo, const Digest& digest,
                                 std::string_view bytes) {
  const std::string content = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  Status linked = driver_->Link(content, target);
  if (IsNotFound(linked)) {
    OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(target, bytes));
    return SeedContent(target, content);
  }
  if (IsAlreadyExists(linked)) return Status::Ok();
  return linked;
}

Status LayoutStore::SeedContent(std::string_view blob, std::string_view content) {
  // Not flushed: a seed lost in a crash only costs a later push its deduplication.
  Status seeded = driver_->Link(blob, content, Durability::kCache);
  // Another push may have seeded it first, or the blob may be gone already: both are fine, the
  // content store is only a source for deduplication.
  if (IsAlreadyExists(seeded) || IsNotFound(seeded)) {
    return Status::Ok();
  }
  return seeded;
}

Result<BlobInfo> LayoutStore::MountBlob(std::string_view repo, const Digest& digest,
                                        std::string_view from) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(from));
  auto source = StatBlob(from, digest);
  OCIREG_RETURN_IF_ERROR(source);
  OCIREG_RETURN_IF_ERROR(EnsureRepository(repo));
  const std::string own = RepoBlobPath(from, digest);
  const std::string shared = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  Status linked = driver_->Link(own, target);
  if (!linked.ok() && !IsNotFound(linked) && !IsAlreadyExists(linked)) {
    // The source's file may take no more names (EMLINK); the content store's copy may be another
    // file (see ReplaceContent).
    Status copy = driver_->Link(shared, target);
    if (copy.ok() || IsAlreadyExists(copy)) linked = copy;
  }
  if (IsAlreadyExists(linked)) linked = KeepLinked(repo, {own, shared}, target);
  if (IsNotFound(linked)) return UnknownBlob(from, digest);
  OCIREG_RETURN_IF_ERROR(linked);
  return *source;
}

std::vector<std::string> LayoutStore::FindBlob(const Digest& digest) {
  std::vector<std::string> found;
  for (const auto& [repo, state] : SnapshotRepositories()) {
    if (driver_->Stat(RepoBlobPath(repo, digest)).ok()) found.push_back(repo);
  }
  return found;
}

// --- Uploads ----------------------------------------------------------------------------------

UploadHooks LayoutStore::MakeUploadHooks() {
  return UploadHooks{
      [this](std::string_view repo, const Digest& digest, std::string_view data_path) {
        return InstallBlob(repo, digest, data_path);
      },
      [this](const std::string& id) {
        std::lock_guard lock(uploads_mu_);
        uploads_.erase(id);
      },
      hashing_};
}

Result<std::shared_ptr<Upload>> LayoutStore::StartUpload(std::string_view repo,
                                                         DigestAlgorithm algorithm) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto session = UploadSession::Create(*driver_, MakeUploadHooks(), std::string(repo), algorithm,
                                       options_.max_blob_bytes);
  OCIREG_RETURN_IF_ERROR(session);
  {
    std::lock_guard lock(uploads_mu_);
    uploads_.emplace((*session)->id(), *session);
  }
  // The session's file stays open only while the caller holds this handle.
  return UploadSession::Lease(std::move(*session));
}

Result<std::shared_ptr<Upload>> LayoutStore::GetUpload(std::string_view repo, std::string_view id) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  Status unknown = BlobUploadUnknown("upload " + std::string(id) + " of " + std::string(repo) +
                                     " is not in progress");
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(std::string(id));
  std::shared_ptr<UploadSession> session;
  if (it != uploads_.end()) {
    session = it->second;
  } else {
    // Not seen since the process started: a session from before a restart, if anything.
    auto loaded =
        UploadSession::Load(*driver_, MakeUploadHooks(), std::string(id), options_.max_blob_bytes);
    if (!loaded.ok()) {
      return loaded.status().Is(ErrorCode::kBlobUploadUnknown) ? unknown : loaded.status();
    }
    session = *loaded;
    uploads_.emplace(session->id(), session);
  }
  if (session->repository() != repo) return unknown;
  return UploadSession::Lease(std::move(session));
}

// --- Manifests --------------------------------------------------------------------------------

Status LayoutStore::CheckReferencesLocked(std::string_view repo, RepoState& state,
                                          const ManifestInfo& info) {
  for (const Descriptor& d : info.References()) {
    if (IsExternal(d)) continue;
    if (state.latest().FindManifest(d.digest) != nullptr) continue;
    auto blob = driver_->Stat(RepoBlobPath(repo, d.digest));
    if (!blob.ok()) {
      if (!IsNotFound(blob.status())) return blob.status();
      return ManifestBlobUnknown("manifest references " + d.digest.ToString() +
                                 ", which is not in repository " + std::string(repo));
    }
    if (d.size >= 0 && static_cast<uint64_t>(d.size) != blob->size) {
      return ManifestInvalid("descriptor of " + d.digest.ToString() + " gives size " +
                             std::to_string(d.size) + " but the blob has " +
                             std::to_string(blob->size) + " bytes");
    }
  }
  return Status::Ok();
}

Result<PutManifestResult> LayoutStore::PutManifest(std::string_view repo,
                                                   const Reference& reference,
                                                   std::span<const std::string> extra_tags,
                                                   std::string_view content_type,
                                                   std::string_view body) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  std::vector<std::string> tags;
  if (!reference.is_digest()) tags.push_back(reference.tag());
  for (const std::string& tag : extra_tags) {
    OCIREG_RETURN_IF_ERROR(ValidateTag(tag));
    tags.push_back(tag);
  }
  auto info = ParseManifest(content_type, body, options_.max_manifest_bytes);
  OCIREG_RETURN_IF_ERROR(info);
  DigestAlgorithm algorithm =
      reference.is_digest() ? reference.digest().algorithm() : DigestAlgorithm::kSha256;
  Digest digest = Digester::Of(algorithm, body);
  if (reference.is_digest() && digest != reference.digest()) {
    return DigestInvalid("manifest body has digest " + digest.ToString() + ", not " +
                         reference.digest().ToString());
  }

  auto state = GetOrCreateState(repo);
  OnExit forget([&] { ForgetIfAbsent(repo, state); });  // after `lock` is released
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  OCIREG_RETURN_IF_ERROR(CheckReferencesLocked(repo, *state, *info));
  OCIREG_RETURN_IF_ERROR(CreateLayoutLocked(repo, *state));
  // The body becomes visible as a blob first and in the index last, so a crash in between leaves
  // an unreferenced blob for garbage collection, never an index entry without its manifest.
  OCIREG_RETURN_IF_ERROR(InstallBytes(repo, digest, body));
  RepoIndex index = state->latest();
  index.PutManifest(IndexEntry{digest, info->media_type, body.size(), info->artifact_type});
  for (const std::string& tag : tags) index.SetTag(tag, digest);
  OCIREG_RETURN_IF_ERROR(CommitIndexLocked(lock, repo, *state, std::move(index)));
  state->facts.insert_or_assign(digest, FactsOf(*info));

  PutManifestResult result{digest, std::nullopt};
  if (info->subject) result.subject = info->subject->digest;
  return result;
}

Result<ManifestRecord> LayoutStore::ResolveManifest(std::string_view repo,
                                                    const Reference& reference) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::lock_guard lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  const Digest* digest =
      reference.is_digest() ? &reference.digest() : state->index.FindTag(reference.tag());
  const IndexEntry* entry = digest ? state->index.FindManifest(*digest) : nullptr;
  if (entry == nullptr) return UnknownManifest(repo, reference.ToString());
  return ManifestRecord{entry->digest, entry->media_type, entry->size};
}

Result<std::string> LayoutStore::ReadManifest(std::string_view repo, const Digest& digest) {
  auto record = ResolveManifest(repo, Reference::FromDigest(digest));
  OCIREG_RETURN_IF_ERROR(record);
  auto body = driver_->ReadFile(RepoBlobPath(repo, digest));
  if (!body.ok() && IsNotFound(body.status())) return UnknownManifest(repo, digest.ToString());
  return body;
}

Status LayoutStore::DeleteManifest(std::string_view repo, const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  RepoIndex index = state->latest();
  if (!index.RemoveManifest(digest)) return UnknownManifest(repo, digest.ToString());
  // A child of an index cannot go while the index lists it: the index would no longer pull.
  if (auto parent = ParentLocked(repo, *state, digest)) {
    return Unsupported(digest.ToString() + " is listed by index " + parent->ToString() + " of " +
                       std::string(repo) + ": delete the index first");
  }
  OCIREG_RETURN_IF_ERROR(CommitIndexLocked(lock, repo, *state, std::move(index)));
  state->facts.erase(digest);
  // The blob is garbage now, unless the index lists it again (pushed meanwhile) or as a child:
  // then it stays, so that the index remains whole, until garbage collection finds it
  // unreferenced. Pushes still pending count too, since they may be either.
  SettleLocked(lock, *state);
  if (MayBeReferencedLocked(repo, *state, digest)) return Status::Ok();
  Status removed = driver_->Remove(RepoBlobPath(repo, digest));
  if (!removed.ok() && !IsNotFound(removed)) return removed;
  return Status::Ok();
}

Status LayoutStore::DeleteTag(std::string_view repo, std::string_view tag) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  RepoIndex index = state->latest();
  if (!index.RemoveTag(tag)) return UnknownManifest(repo, tag);
  return CommitIndexLocked(lock, repo, *state, std::move(index));
}

Result<std::vector<Descriptor>> LayoutStore::ListReferrers(std::string_view repo,
                                                           const Digest& subject,
                                                           std::string_view artifact_type) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  std::vector<Descriptor> referrers;
  auto state = FindState(repo);
  if (state == nullptr) return referrers;
  std::lock_guard lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  for (const auto& [digest, entry] : state->index.manifests()) {
    auto facts = FactsLocked(repo, *state, entry);
    // A manifest that cannot be read is skipped (scrub reports it): the others still answer.
    if (!facts.ok()) continue;
    const ManifestFacts& f = **facts;
    if (f.subject != subject) continue;
    if (!artifact_type.empty() && f.artifact_type != artifact_type) continue;
    Descriptor d;
    d.media_type = entry.media_type;
    d.digest = digest;
    d.size = static_cast<int64_t>(entry.size);
    d.artifact_type = f.artifact_type;
    d.annotations = f.annotations;
    referrers.push_back(std::move(d));
  }
  return referrers;
}

// --- Monitoring -------------------------------------------------------------------------------

Result<StoreUsage> LayoutStore::Usage() {
  auto blobs = ListStoredBlobs(*driver_, ContentAlgorithmDir);
  OCIREG_RETURN_IF_ERROR(blobs);
  StoreUsage usage;
  for (const StoredBlob& blob : *blobs) {
    auto info = driver_->Stat(blob.path);
    if (!info.ok() && IsNotFound(info.status())) continue;  // collected since it was listed
    OCIREG_RETURN_IF_ERROR(info);
    ++usage.blobs;
    usage.bytes += info->size;
  }
  return usage;
}

Result<uint64_t> LayoutStore::CountUploads() {
  auto ids = ListOrEmpty(*driver_, kUploadsDir);
  OCIREG_RETURN_IF_ERROR(ids);
  return static_cast<uint64_t>(ids->size());
}

Status LayoutStore::CheckWritable() {
  // A name no repository can have ('_'), and no other part of the store uses.
  constexpr std::string_view kProbe = "_probe";
  OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(kProbe, "probe"));
  Status removed = driver_->Remove(kProbe);
  // A concurrent probe may have removed it first.
  if (IsNotFound(removed)) return Status::Ok();
  return removed;
}

}  // namespace ocireg::internal

namespace ocireg {

Result<std::unique_ptr<Store>> OpenStore(std::unique_ptr<StorageDriver> driver,
                                         StoreOptions options) {
  if (driver == nullptr) return InvalidArgument("OpenStore needs a driver");
  auto store = internal::LayoutStore::Open(std::move(driver), std::move(options));
  OCIREG_RETURN_IF_ERROR(store);
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace ocireg
