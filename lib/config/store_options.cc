// SPDX-License-Identifier: Apache-2.0
// StoreOptionsFromConfig and OpenStoreFromConfig: the store [storage] names (on the file system or
// in an S3 bucket), with the settings of [storage] and [limits] that the store enforces.
#include <fmt/format.h>

#include <memory>
#include <utility>

#include "ocireg/config_store.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/s3.h"

namespace ocireg {

StoreOptions StoreOptionsFromConfig(const Config& config) {
  StoreOptions options;
  options.gc_grace_period = config.storage.gc_grace_period;
  options.upload_ttl = config.storage.upload_ttl;
  options.max_manifest_bytes = static_cast<size_t>(config.limits.max_manifest_bytes);
  options.max_blob_bytes = config.limits.max_blob_bytes;
  if (config.features.sparse_indexes) {
    options.sparse_indexes = [](std::string_view) { return true; };
  }
  // A bucket is made to be shared by several servers (one registry behind a load balancer).
  if (config.storage.driver == "s3") options.shared_refresh = std::chrono::seconds(1);
  if (!config.cluster.redis_url.empty()) {
    // Only a bad URL fails, and ParseConfig has refused those.
    auto coordination = ConnectRedisCoordination(RedisOptionsFromConfig(config));
    if (coordination.ok()) options.coordination = std::move(*coordination);
    // Change marks carry freshness now; the timed re-read is only a bound should one be missed,
    // and at one a second per repository and replica it would be most of the bucket's load.
    options.shared_refresh = std::chrono::seconds(10);
  }
  return options;
}

RedisCoordinationOptions RedisOptionsFromConfig(const Config& config) {
  const ClusterConfig& cluster = config.cluster;
  RedisCoordinationOptions options;
  options.url = cluster.redis_url;
  options.password = cluster.redis_password;
  options.ca_file = cluster.redis_ca_file;
  options.tls_verify = cluster.redis_tls_verify;
  options.key_prefix = cluster.key_prefix;
  options.node_name = cluster.node_name;
  options.connect_timeout = cluster.connect_timeout;
  options.command_timeout = cluster.command_timeout;
  options.lease_ttl = cluster.lease_ttl;
  return options;
}

namespace {

// `status` with the bucket it is about in front, as an operator reading the log needs it (errors
// of the file system name their paths already).
Status AboutBucket(const Config& config, const Status& status) {
  return {status.code(),
          fmt::format("storage.s3: {}: {}", DescribeStorage(config.storage), status.message())};
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStoreFromConfig(const Config& config, StoreOptions options) {
  if (config.storage.driver != "s3") {
    auto driver = NewFsDriver(config.storage.root);
    if (!driver.ok()) return driver.status();
    return OpenStore(std::move(*driver), std::move(options));
  }
  // A missing bucket or wrong credentials say so here, rather than as the first listing failing.
  const Status bucket = CheckS3BucketReachable(config.storage.s3);
  if (!bucket.ok()) return AboutBucket(config, bucket);
  auto driver = NewS3Driver(config.storage.s3);
  if (!driver.ok()) return AboutBucket(config, driver.status());
  auto store = OpenStore(std::move(*driver), std::move(options));
  if (!store.ok()) return AboutBucket(config, store.status());
  return store;
}

Status CheckStorageFromConfig(const Config& config) {
  if (!config.cluster.redis_url.empty()) {
    const Status redis = CheckRedisReachable(RedisOptionsFromConfig(config));
    if (!redis.ok()) return {redis.code(), "cluster.redis_url: " + redis.message()};
  }
  if (config.storage.driver != "s3") return Status::Ok();
  const Status bucket = CheckS3Bucket(config.storage.s3);
  return bucket.ok() ? bucket : AboutBucket(config, bucket);
}

}  // namespace ocireg
