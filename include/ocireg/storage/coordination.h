// SPDX-License-Identifier: Apache-2.0
// Coordination: what the replicas of one registry, several stores over one shared storage, agree
// on beside that storage. A store given none (StoreOptions::coordination) coordinates with
// nobody: right for one process, and for processes that accept StoreOptions::shared_refresh as
// the delay before they see each other's changes.
//
// Three things are coordinated (docs/cluster.md tells why each is enough):
//   - Change marks: a replica asks for a repository's mark before it answers from the copy of the
//     index it holds, and reads the index again when the mark moved; a writer publishes a new
//     mark after its change is durable and before it is acknowledged. So a tag pushed through one
//     replica is seen through every other on the next request.
//   - Content in use: a writer announces the content it is about to rely on (write, link, or
//     reference from a manifest); a garbage collector claims content before removing it, and a
//     claim fails on content announced lately. The two meet atomically in the coordinator, so
//     either the collector keeps the content or the writer waits for the removal and finds it
//     gone.
//   - Leases: one garbage collection and one scrub at a time in the whole cluster. A lease ends
//     when its holder releases it, or lease_ttl after its holder last renewed it.
//
// ConnectRedisCoordination gives the implementation over Redis; an embedder may supply another.
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/digest.h"
#include "ocireg/export.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg {

// A lease on one named job. Destroying it releases it.
class OCIREG_EXPORT Lease {
 public:
  virtual ~Lease() = default;
  // Whether it is still held with time to spare: false once a renewal failed for long enough
  // that another holder may have it. Work that must not overlap another holder's checks it
  // before each step.
  virtual bool Held() const = 0;
  // The token that fences the holder's claims (ClaimContent): unique to this holding.
  virtual const std::string& token() const = 0;
};

class OCIREG_EXPORT Coordination {
 public:
  virtual ~Coordination() = default;

  // The change mark of `scope` (a repository name; "" is the list of repositories). It moves on
  // every PublishChange(scope) anywhere and never returns to an earlier value. kUnavailable when
  // the coordinator cannot be asked: the caller must then read the storage.
  virtual Result<std::string> ChangeMark(std::string_view scope) = 0;
  // Announces that `scope` changed in the storage. kUnavailable when it could not be announced.
  virtual Status PublishChange(std::string_view scope) = 0;

  // Announces that the caller is about to rely on content `digest`. When a collector has claimed
  // it, waits until that claim ends (the content is then gone, or was kept). kUnavailable when
  // the coordinator cannot be asked or the claim outlasts the wait.
  virtual Status UseContent(const Digest& digest) = 0;
  // For the holder of `lease`: claims `digest` for removal. False when it was announced in use
  // lately (keep it); kUnavailable when the lease is lost or the coordinator cannot be asked.
  virtual Result<bool> ClaimContent(const Lease& lease, const Digest& digest) = 0;
  // Ends a claim once the content is removed (or was not).
  virtual void ReleaseContent(const Digest& digest) = 0;

  // Takes the lease on job `name` ("gc", "scrub"). kAlreadyExists naming the holder when another
  // replica holds it; kUnavailable when the coordinator cannot be asked.
  virtual Result<std::unique_ptr<Lease>> AcquireLease(std::string_view name) = 0;

  // Counters for /metrics, in DriverCounter's form: ocireg_coordination_* (requests answered and
  // failed).
  virtual std::vector<DriverCounter> Counters() = 0;
};

struct RedisCoordinationOptions {
  std::string url;       // redis://[user@]host:port/db or rediss://...
  std::string password;  // AUTH; "" none
  std::string ca_file;   // rediss://: PEM CAs; "" the system's
  bool tls_verify = true;
  std::string key_prefix = "ocireg:";
  std::string node_name;  // names this replica in the leases it holds
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::seconds lease_ttl{30};
};

// Coordination through a Redis server (Redis 6 or later). Checks the URL; connects lazily, so a
// Redis that is down at start is not an error here (CheckRedisReachable tells).
// kInvalidArgument for a bad URL.
OCIREG_EXPORT Result<std::shared_ptr<Coordination>> ConnectRedisCoordination(
    const RedisCoordinationOptions& options);

// Connects once and runs PING: Ok, or kUnavailable saying why (no answer, login refused, TLS).
OCIREG_EXPORT Status CheckRedisReachable(const RedisCoordinationOptions& options);

}  // namespace ocireg
