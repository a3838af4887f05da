// SPDX-License-Identifier: Apache-2.0
// Metrics: the registry's counters, gauges and histograms, and their Prometheus text exposition
// (format 0.0.4) for GET /metrics.
//
// Every label set is small and fixed (method, route kind, status code), so each series is one
// std::atomic in an array: recording a request takes no lock. The route label is the endpoint's
// kind, never the path, which would give one series per repository and digest.
//
// Storage gauges come from StoreMonitoring::Usage(), which lists the content store. A scrape asks
// it again only when this server answered a write (a 2xx to POST, PUT, PATCH or DELETE) or ran
// garbage collection since the last count, or when the count is older than kUsageMaxAge (changes
// by other processes); otherwise the cached count is served.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http/route.h"
#include "ocireg/storage/maintenance.h"
#include "ocireg/storage/monitoring.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ocireg::internal {

class Api;

// The route label: RouteKind with both upload kinds as one, plus kOther for every path that is
// no endpoint of the API (/metrics and the health checks included).
enum class MetricsRoute { kBase, kCatalog, kTags, kManifest, kBlob, kUpload, kReferrers, kOther };

// The route label of a request for `path` (decoded, without the query).
MetricsRoute MetricsRouteOf(std::string_view path);

enum class AuthFailure { kUnauthorized, kDenied, kUnavailable };

// The auth failure `status` is, if it is one: kUnauthorized and kDenied always are; kUnavailable
// only when `from_authentication` (a login backend down, not a storage error or a shutdown).
std::optional<AuthFailure> AuthFailureOf(const Status& status, bool from_authentication);

// One answered request.
struct RequestSample {
  Method method = Method::kOther;
  MetricsRoute route = MetricsRoute::kOther;
  int status = 0;
  std::chrono::microseconds duration{0};
  uint64_t bytes_in = 0;   // request body bytes read
  uint64_t bytes_out = 0;  // response body bytes
};

class Metrics {
 public:
  // A stored-blob count older than this is taken again at the next scrape.
  static constexpr std::chrono::minutes kUsageMaxAge{5};

  // `node_name` names this replica in ocireg_node_info, so that the scrapes of replicas behind
  // one address can be told apart; "" leaves the metric out.
  explicit Metrics(std::string node_name = {}) : node_name_(std::move(node_name)) {}

  void RecordRequest(const RequestSample& sample);
  void RecordAuthFailure(AuthFailure reason);
  // One garbage collection: its report, or null when it failed.
  void RecordGarbageCollection(const GcReport* report);

  // The exposition of every metric. Asks `store` for open uploads, for its usage when the cached
  // count is stale, and for its driver's counters. A store error leaves those gauges out (their
  // HELP and TYPE stay).
  std::string Render(StoreMonitoring& store);

 private:
  static constexpr size_t kMethods = 7;  // Method
  static constexpr size_t kRoutes = 8;   // MetricsRoute
  static constexpr int kMinCode = 100;
  static constexpr size_t kCodes = 500;  // 100..599
  // Upper bounds of the duration buckets, in microseconds; +Inf is one more bucket.
  static constexpr std::array<int64_t, 14> kBucketBounds = {
      5'000,     10'000,    25'000,    50'000,     100'000,    250'000,    500'000,
      1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000, 300'000'000};
  static constexpr size_t kBuckets = kBucketBounds.size() + 1;

  using Counter = std::atomic<uint64_t>;
  struct Histogram {
    std::array<Counter, kBuckets> buckets{};  // not cumulative; the last one is +Inf
    Counter sum_us{0};
  };

  std::optional<StoreUsage> CurrentUsage(StoreMonitoring& store);
  void RenderRequests(std::string& out) const;
  void RenderDurations(std::string& out) const;
  void RenderBytes(std::string& out) const;

  const std::string node_name_;
  std::array<Counter, kMethods * kRoutes * kCodes> requests_{};
  std::array<Histogram, kMethods * kRoutes> durations_{};
  std::array<Counter, kRoutes> bytes_in_{};
  std::array<Counter, kRoutes> bytes_out_{};
  std::array<Counter, 3> auth_failures_{};  // AuthFailure
  Counter gc_runs_ok_{0};
  Counter gc_runs_failed_{0};
  Counter gc_bytes_reclaimed_{0};
  Counter gc_problems_{0};  // entries the last successful collection skipped

  std::atomic<bool> usage_stale_{true};
  std::mutex usage_mu_;  // guards the two below; held while the store is counted
  std::optional<StoreUsage> usage_;
  std::chrono::steady_clock::time_point usage_time_;
};

// Installs GET /healthz (200 while the process serves), GET /readyz (200 when the store accepts a
// probe write, 503 otherwise and while Api::out_of_rotation is set) and, when `metrics_enabled`,
// GET /metrics; all without authentication. Must run before the API's catch-all routes, which
// would answer them otherwise. (metrics_handlers.cc)
void InstallMonitoringRoutes(httplib::Server& server, Api& api, bool metrics_enabled);

}  // namespace ocireg::internal
