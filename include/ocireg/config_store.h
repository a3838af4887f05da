// SPDX-License-Identifier: Apache-2.0
// The store a configuration names: the driver of [storage] and the options of [storage] and
// [limits], as RegistryServer and ocireg-serve's gc and scrub open it.
//
//   StoreOptions options = StoreOptionsFromConfig(config);
//   options.progress = ShowProgress;
//   auto store = OpenStoreFromConfig(config, std::move(options));
//
// Contract: thread-safe, never prints.
#pragma once

#include <memory>

#include "ocireg/config.h"
#include "ocireg/export.h"
#include "ocireg/status.h"
#include "ocireg/storage/coordination.h"
#include "ocireg/storage/store.h"

namespace ocireg {

// StoreOptions with the garbage collection grace period and the upload TTL of [storage] and the
// manifest and blob size limits of [limits], and on S3 a shared_refresh of 1 s (a bucket may be
// shared by several servers); the hooks (now, progress, warn) are left empty for the caller to
// set. With [cluster] redis_url, also the coordination through that Redis
// (ConnectRedisCoordination), which connects when first used, and a shared_refresh of 10 s (the
// change marks say when to read an index again; the timed re-read is only a bound).
OCIREG_EXPORT StoreOptions StoreOptionsFromConfig(const Config& config);

// The options of ConnectRedisCoordination that [cluster] gives.
OCIREG_EXPORT RedisCoordinationOptions RedisOptionsFromConfig(const Config& config);

// Opens the store of config.storage with `options`, usually StoreOptionsFromConfig(config) with
// the caller's hooks set: for driver "fs" the file-system driver at storage.root (created when
// missing), for "s3" the S3 driver on storage.s3 (see LoadConfig for its keys).
// On S3 it first checks that the bucket exists and answers to the credentials.
// Errors: those of the driver (kInternal: an unusable root; kInvalidArgument: bad S3 options), of
// CheckS3BucketReachable and of OpenStore; on S3 each after "storage.s3: " and the bucket's
// description (DescribeStorage).
OCIREG_EXPORT Result<std::unique_ptr<Store>> OpenStoreFromConfig(const Config& config,
                                                                 StoreOptions options);

// Checks, without opening a store, that the storage of config.storage can be used: on S3 that
// the bucket answers to the keys and takes a write (CheckS3Bucket), with errors as
// OpenStoreFromConfig's; on the file system nothing (the root is made when the store opens).
// With [cluster] redis_url, first that Redis answers (CheckRedisReachable; the message starts
// "cluster.redis_url: ").
OCIREG_EXPORT Status CheckStorageFromConfig(const Config& config);

}  // namespace ocireg
