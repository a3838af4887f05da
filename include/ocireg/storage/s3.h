// SPDX-License-Identifier: Apache-2.0
// The S3 storage driver: a StorageDriver over any S3-compatible object store (AWS S3, Ceph RGW,
// MinIO), for a registry whose bytes live in a bucket, shared by every ocireg process that uses
// the same bucket and prefix.
//
//   ocireg::S3Options s3;
//   s3.endpoint = "https://rgw.example.net";
//   s3.bucket = "registry";
//   s3.path_style = true;
//   s3.credentials = {"AKIA...", "secret", ""};
//   auto driver = ocireg::NewS3Driver(s3);
//   auto store = ocireg::OpenStore(std::move(*driver));
//
// Contract: thread-safe (driver.h); never prints. Requests are signed with AWS Signature V4 and
// reuse connections. Requests that are safe to repeat are retried with exponential backoff and
// jitter on 5xx answers, SlowDown and throttling, and timeouts, within max_retry_time; what still
// fails is kUnavailable with the S3 error code and request id in its message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ocireg/export.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless the keys are temporary (STS)

  bool operator==(const S3Credentials&) const = default;
};

struct S3Options {
  // http:// or https:// URL of the service, with no path: "http://127.0.0.1:7480".
  std::string endpoint;
  std::string region = "us-east-1";  // the SigV4 signing region ("default" on many RGWs)
  std::string bucket;
  // Key prefix of everything the driver writes, without leading or trailing '/', so several
  // registries can share one bucket. Default: none
  std::string prefix;
  // Path-style addressing (endpoint/bucket/key), as RGW and MinIO expect; virtual-hosted style
  // (bucket.endpoint/key) otherwise. Default: false
  bool path_style = false;
  S3Credentials credentials;
  // PEM file of the CA that signs the endpoint's certificate; empty: the system's CAs.
  std::string ca_file;
  // Size of the parts a blob is uploaded in, 5 MiB to 5 GiB: S3's bounds. Also the most a blob
  // upload keeps in memory. A blob may have at most 10,000 parts, so the largest blob is
  // 10,000 x part_size. A blob upload holds up to two parts in memory. Default: 8 MiB
  uint64_t part_size = 8ull * 1024 * 1024;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  // A request that moves no byte for this long fails (and may be retried). Default: 30 s
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // Attempts after the first, for requests that are safe to retry. Default: 5
  uint32_t max_retries = 5;
  // The first retry waits up to this long (with jitter); each further one up to twice as long.
  std::chrono::milliseconds retry_base_delay = std::chrono::milliseconds(100);
  // No retry starts after this long since the first attempt. Default: 30 s
  std::chrono::milliseconds max_retry_time = std::chrono::seconds(30);
  // Connections kept open for reuse. Default: 64
  uint32_t max_idle_connections = 64;

  bool operator==(const S3Options&) const = default;
};

// Checks `options` (kInvalidArgument naming the field) and returns the driver. Does not contact
// the service: call CheckS3Bucket for that.
OCIREG_EXPORT Result<std::unique_ptr<StorageDriver>> NewS3Driver(const S3Options& options);

// Checks that the bucket of `options` is reachable with its credentials and writable under its
// prefix: writes, reads and removes a small object. Errors say which step failed and S3's answer
// (kUnavailable: unreachable; kDenied: credentials or permissions; kNotFound: no such bucket).
OCIREG_EXPORT Status CheckS3Bucket(const S3Options& options);

// The first step of CheckS3Bucket alone, which writes nothing: the bucket exists and answers to
// the credentials (S3 HeadBucket). For a server about to start. Errors as CheckS3Bucket's.
OCIREG_EXPORT Status CheckS3BucketReachable(const S3Options& options);

}  // namespace ocireg
