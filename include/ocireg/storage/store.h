// SPDX-License-Identifier: Apache-2.0
// Store: the registry's storage engine. Repositories as OCI image layouts over a StorageDriver.
//
// Layout (all paths relative to the driver's root):
//
//   _blobs/<alg>/<hex>           one copy of every blob, committed there by its upload;
//   repositories
//                                link to it (deduplication)
//   _uploads/<id>/data           the blob writer of an upload session: its bytes so far
//   _uploads/<id>/info           the session's repository and digest algorithm (JSON)
//   _probe                       written and removed at once by CheckWritable
//   <repo>/oci-layout            {"imageLayoutVersion": "1.0.0"}
//   <repo>/index.json            every manifest of the repository; tags are
//                                org.opencontainers.image.ref.name annotations
//   <repo>/blobs/<alg>/<hex>     blobs and manifests of the repository (links into _blobs)
//   <repo>/<component>/...       deeper repositories: team/app/cache lives inside team/app
//
// Repository names follow the spec's grammar, whose components never start with '_' or '.', so the
// store's own entries cannot collide with a repository. A nested repository whose component (after
// the first) is "blobs", "index.json" or "oci-layout" would land on its parent's layout entries:
// such names are refused with kNameInvalid. As a first component they are allowed: the root is no
// layout, so there they can only name a repository.
//
// Roles: Store holds the registry operations, those the HTTP API serves. Garbage collection and
// scrub (StoreMaintenance, maintenance.h) and usage, upload count and writability (StoreMonitoring,
// monitoring.h) are reached through maintenance() and monitoring(): each role has its own callers,
// and another implementation (an object store, replicas) may provide each its own way. The store
// OpenStore gives implements all three.
//
// Thread-safety: all methods may be called concurrently. Updates of one repository's index are
// serialised; a tag moves atomically; uploads of the same blob may commit concurrently.
// Crash safety: a blob becomes visible only by an atomic commit or link after it was verified (and
// made durable), and index.json is replaced atomically, so a crash leaves the old state or the new
// one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/descriptor.h"
#include "ocireg/digest.h"
#include "ocireg/export.h"
#include "ocireg/reference.h"
#include "ocireg/status.h"
#include "ocireg/storage/coordination.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/maintenance.h"
#include "ocireg/storage/monitoring.h"

namespace ocireg {

struct StoreOptions {
  // Unreferenced blobs and manifests whose last link is younger than this survive garbage
  // collection, so that the blobs of a push in progress are not taken. Default: 24 h
  std::chrono::seconds gc_grace_period = std::chrono::hours(24);
  // Upload sessions idle for longer are removed by garbage collection. Default: 24 h
  std::chrono::seconds upload_ttl = std::chrono::hours(24);
  // Manifest bodies over this are refused with kManifestTooLarge. Default: 4 MiB
  size_t max_manifest_bytes = 4 * 1024 * 1024;
  // Blobs over this are refused with kSizeInvalid; 0 means no limit. Default: 0
  uint64_t max_blob_bytes = 0;
  // For a storage other processes share (several servers on one bucket): a repository's
  // index.json is read again when this store's copy is older than this, so a tag pushed through
  // another process shows here within it (one small read per repository in use and interval),
  // and a repository this store does not know is looked for in the storage before it is called
  // unknown. 0: the storage is this process's alone, read once. OpenStoreFromConfig sets 1 s for
  // S3. Default: 0
  std::chrono::milliseconds shared_refresh{0};
  // The other replicas this store coordinates with (coordination.h). With it, a repository's
  // index is read again whenever its change mark moved, so another replica's change is seen at
  // the next request (shared_refresh stays as a bound should a mark be missed); every index
  // change and every new repository is announced before it is acknowledged, and a change that
  // cannot be announced fails with kUnavailable; content is announced in use before it is relied
  // on; garbage collection and scrub take the cluster's lease, and a collection claims what it
  // removes. Null: nobody to coordinate with. Default: null
  std::shared_ptr<Coordination> coordination;
  // Whether repository `repo` accepts sparse image indexes: indexes (and Docker manifest lists)
  // some of whose child manifests are not in the repository, as a mirror that keeps only some
  // platforms stores them. The spec lets a registry accept or refuse them. An absent child then
  // answers kManifestUnknown like any other unknown manifest, and scrub does not report it; an
  // image manifest's config and layers are still required. Null: no repository does, and every
  // child must be present (kManifestBlobUnknown). Called with no store lock held. Default: null
  std::function<bool(std::string_view repo)> sparse_indexes;
  // The clock garbage collection compares modification times with. Default: system_clock::now
  std::function<std::chrono::system_clock::time_point()> now;
  // Progress of CollectGarbage and Scrub, called on the thread running them: ("repositories", n)
  // after each repository, then ("content", 0) and, for garbage collection, ("uploads", 0) as
  // those stages start. For a progress display; must not call into the store. Default: none
  std::function<void(std::string_view stage, uint64_t done)> progress;
  // Told of what the store got past but an operator should know, such as a change that became
  // visible although flushing it to disk failed. Called on the thread that met it; must not call
  // into the store. Default: none
  std::function<void(std::string_view message)> warn;
};

// A blob's identity and size.
struct BlobInfo {
  Digest digest;
  uint64_t size = 0;
};

// A manifest as the repository knows it: what GET and HEAD answer with.
struct ManifestRecord {
  Digest digest;
  std::string media_type;
  uint64_t size = 0;
};

// One page of a lexically ordered listing. `more` says whether entries follow the last one.
struct Page {
  std::vector<std::string> items;
  bool more = false;
};

struct PutManifestResult {
  Digest digest;
  std::optional<Digest> subject;  // set when the manifest has a subject
};

// An upload session: a blob being received. Handles are shared and thread-safe; operations on one
// session are serialised. After Commit or Cancel every call fails with kBlobUploadUnknown.
// A handle must not outlive the Store that gave it out. A session holds open files only while a
// handle to it is held: drop handles when a request ends, so that idle sessions cost no
// descriptor.
class OCIREG_EXPORT Upload {
 public:
  Upload() = default;
  virtual ~Upload() = default;
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  virtual const std::string& id() const = 0;
  virtual const std::string& repository() const = 0;
  virtual DigestAlgorithm algorithm() const = 0;

  // Bytes received so far. kBlobUploadUnknown after Commit or Cancel.
  virtual Result<uint64_t> Size() = 0;
  // Appends `bytes`. With `expected_offset`, kRangeInvalid unless it equals Size() (a chunk out of
  // order). kSizeInvalid past StoreOptions::max_blob_bytes.
  virtual Status Append(std::span<const char> bytes,
                        std::optional<uint64_t> expected_offset = std::nullopt) = 0;
  // Takes back the bytes from `offset` on that one request appended and then failed to finish,
  // so that the session is where it was before the request. Only while the session ends at
  // `end` (the end of that request's appends): kRangeInvalid when anything else has appended
  // since, or when `offset` > `end`; nothing changes then.
  virtual Status Rewind(uint64_t offset, uint64_t end) = 0;
  // Saves the bytes appended so far, so that GetUpload finds them after a restart and in any
  // process sharing the storage. The HTTP API calls it before it acknowledges a chunk; dropping
  // the last handle saves too, but cannot report a failure.
  virtual Status Persist() = 0;
  // Verifies the data against `expected` and makes it a blob of the session's repository.
  // kDigestInvalid on a mismatch: the session and its data are discarded. kSizeInvalid when
  // `expected_size` is given and differs. The session ends either way, and also when storing the
  // verified data fails (a failed fsync proves nothing about a later one): the client starts over.
  virtual Result<BlobInfo> Commit(const Digest& expected,
                                  std::optional<uint64_t> expected_size = std::nullopt) = 0;
  // Discards the session and its data.
  virtual Status Cancel() = 0;
};

class OCIREG_EXPORT Store {
 public:
  Store() = default;
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- Repositories --------------------------------------------------------------------------
  // Repository names in lexical order after `last` (exclusive; empty starts at the beginning), at
  // most `limit` of them (0: no limit).
  virtual Page ListRepositories(std::string_view last, size_t limit) = 0;
  virtual bool RepositoryExists(std::string_view repo) = 0;
  // Tags of `repo` in lexical order, paginated like ListRepositories. kNameUnknown, kNameInvalid.
  virtual Result<Page> ListTags(std::string_view repo, std::string_view last, size_t limit) = 0;

  // --- Blobs ---------------------------------------------------------------------------------
  // kBlobUnknown when `repo` has no such blob; kNameInvalid for a bad name.
  virtual Result<BlobInfo> StatBlob(std::string_view repo, const Digest& digest) = 0;
  // A reader of the blob's bytes; the caller owns it. Errors as StatBlob.
  virtual Result<std::unique_ptr<FileReader>> OpenBlob(std::string_view repo,
                                                       const Digest& digest) = 0;
  // Removes the blob from `repo` (other repositories keep theirs). kBlobUnknown.
  virtual Status DeleteBlob(std::string_view repo, const Digest& digest) = 0;
  // Makes the blob `digest` of repository `from` a blob of `repo` without copying. kBlobUnknown
  // when `from` has no such blob.
  virtual Result<BlobInfo> MountBlob(std::string_view repo, const Digest& digest,
                                     std::string_view from) = 0;
  // The repositories that hold blob `digest`, in lexical order (for mounts without a source).
  virtual std::vector<std::string> FindBlob(const Digest& digest) = 0;

  // --- Uploads -------------------------------------------------------------------------------
  // Starts a session for a blob of `repo` hashed with `algorithm`. kNameInvalid.
  virtual Result<std::shared_ptr<Upload>> StartUpload(std::string_view repo,
                                                      DigestAlgorithm algorithm) = 0;
  // The session `id` of `repo`, also after a restart. kBlobUploadUnknown.
  virtual Result<std::shared_ptr<Upload>> GetUpload(std::string_view repo, std::string_view id) = 0;

  // --- Manifests -----------------------------------------------------------------------------
  // Validates and stores a manifest under `reference` (a tag, or a digest that must match the body:
  // kDigestInvalid otherwise) and under each of `extra_tags`. Every blob and child manifest it
  // references must be in `repo` (kManifestBlobUnknown); its subject need not be.
  // Also the errors of ParseManifest and ValidateTag.
  virtual Result<PutManifestResult> PutManifest(std::string_view repo, const Reference& reference,
                                                std::span<const std::string> extra_tags,
                                                std::string_view content_type,
                                                std::string_view body) = 0;
  // kNameUnknown for an unknown repository, kManifestUnknown for an unknown tag or digest.
  virtual Result<ManifestRecord> ResolveManifest(std::string_view repo,
                                                 const Reference& reference) = 0;
  // The exact bytes of manifest `digest` of `repo`. Errors as ResolveManifest.
  virtual Result<std::string> ReadManifest(std::string_view repo, const Digest& digest) = 0;
  // Removes the manifest and every tag pointing at it. kManifestUnknown; kUnsupported while an
  // index of the repository lists it (delete the index first).
  virtual Status DeleteManifest(std::string_view repo, const Digest& digest) = 0;
  // Removes the tag; the manifest stays (untagged). kManifestUnknown.
  virtual Status DeleteTag(std::string_view repo, std::string_view tag) = 0;
  // Descriptors of the manifests of `repo` whose subject is `subject`, filtered by artifact type
  // when `artifact_type` is not empty. An unknown subject or repository gives an empty list.
  virtual Result<std::vector<Descriptor>> ListReferrers(std::string_view repo,
                                                        const Digest& subject,
                                                        std::string_view artifact_type) = 0;

  // --- Roles beside the registry operations ---------------------------------------------------
  // Garbage collection and scrub (maintenance.h), and the answers for metrics and readiness
  // (monitoring.h), of this store. Valid as long as the store.
  virtual StoreMaintenance& maintenance() = 0;
  virtual StoreMonitoring& monitoring() = 0;
};

// Opens (or initialises) the store kept by `driver`. Takes ownership of the driver.
// Errors: kInternal when the driver's root cannot be read or written.
OCIREG_EXPORT Result<std::unique_ptr<Store>> OpenStore(std::unique_ptr<StorageDriver> driver,
                                                       StoreOptions options = {});

}  // namespace ocireg
