// SPDX-License-Identifier: Apache-2.0
// Metrics: recording and the Prometheus text exposition.
#include "http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace ocireg::internal {
namespace {

constexpr std::array<const char*, 7> kMethodNames = {"GET",   "HEAD",   "POST", "PUT",
                                                     "PATCH", "DELETE", "OTHER"};
constexpr std::array<const char*, 8> kRouteNames = {"base", "catalog", "tags",      "manifest",
                                                    "blob", "upload",  "referrers", "other"};
constexpr std::array<const char*, 3> kAuthReasons = {"unauthorized", "denied", "unavailable"};

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// One sample line; `labels` is the text between the braces, or empty.
void Sample(std::string& out, std::string_view name, const std::string& labels,
            std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void Sample(std::string& out, std::string_view name, const std::string& labels, uint64_t value) {
  Sample(out, name, labels, std::to_string(value));
}

std::string Seconds(int64_t microseconds, const char* format) {
  char text[32];
  std::snprintf(text, sizeof text, format, static_cast<double>(microseconds) / 1e6);
  return text;
}

std::string Label(const char* name, const char* value) {
  return std::string(name) + "=\"" + value + "\"";
}

// A label value with the characters the text format escapes (backslash, quote, newline) escaped.
std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The shortest text that reads back as `value`: "12" for a count, "0.25" for seconds.
std::string Number(double value) {
  char text[32];
  const auto result = std::to_chars(std::begin(text), std::end(text), value);
  return std::string(text, result.ptr);
}

// A storage driver's counters (StorageDriver::Counters), one family after another.
void RenderDriverCounters(std::string& out, const std::vector<DriverCounter>& counters) {
  for (const DriverCounter& counter : counters) {
    Header(out, counter.name.c_str(), "counter", counter.help.c_str());
    for (const DriverCounter::Sample& sample : counter.samples) {
      std::string labels;
      for (const auto& [name, value] : sample.labels) {
        labels += (labels.empty() ? "" : ",") + name + "=\"" + EscapeLabelValue(value) + "\"";
      }
      Sample(out, counter.name, labels, Number(sample.value));
    }
  }
}

bool IsWrite(Method method) {
  return method == Method::kPost || method == Method::kPut || method == Method::kPatch ||
         method == Method::kDelete;
}

}  // namespace

MetricsRoute MetricsRouteOf(std::string_view path) {
  auto endpoint = ParseEndpoint(path);
  if (!endpoint.ok()) return MetricsRoute::kOther;
  switch (endpoint->kind) {
    case RouteKind::kBase:
      return MetricsRoute::kBase;
    case RouteKind::kCatalog:
      return MetricsRoute::kCatalog;
    case RouteKind::kTagsList:
      return MetricsRoute::kTags;
    case RouteKind::kManifest:
      return MetricsRoute::kManifest;
    case RouteKind::kBlob:
      return MetricsRoute::kBlob;
    case RouteKind::kUploadStart:
    case RouteKind::kUpload:
      return MetricsRoute::kUpload;
    case RouteKind::kReferrers:
      return MetricsRoute::kReferrers;
  }
  return MetricsRoute::kOther;
}

std::optional<AuthFailure> AuthFailureOf(const Status& status, bool from_authentication) {
  switch (status.code()) {
    case ErrorCode::kUnauthorized:
      return AuthFailure::kUnauthorized;
    case ErrorCode::kDenied:
      return AuthFailure::kDenied;
    case ErrorCode::kUnavailable:
      if (from_authentication) return AuthFailure::kUnavailable;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

void Metrics::RecordRequest(const RequestSample& sample) {
  const size_t method = static_cast<size_t>(sample.method);
  const size_t route = static_cast<size_t>(sample.route);
  const size_t series = method * kRoutes + route;
  // httplib answers only with real status codes; anything else is counted at the edge.
  const int code = std::clamp(sample.status, kMinCode, kMinCode + static_cast<int>(kCodes) - 1);
  requests_[series * kCodes + static_cast<size_t>(code - kMinCode)].fetch_add(
      1, std::memory_order_relaxed);

  const int64_t us = sample.duration.count();
  size_t bucket = 0;
  while (bucket < kBucketBounds.size() && us > kBucketBounds[bucket]) ++bucket;
  Histogram& histogram = durations_[series];
  histogram.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  histogram.sum_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(us, 0)),
                             std::memory_order_relaxed);

  bytes_in_[route].fetch_add(sample.bytes_in, std::memory_order_relaxed);
  bytes_out_[route].fetch_add(sample.bytes_out, std::memory_order_relaxed);
  if (IsWrite(sample.method) && sample.status >= 200 && sample.status < 300) {
    usage_stale_.store(true, std::memory_order_relaxed);
  }
}

void Metrics::RecordAuthFailure(AuthFailure reason) {
  auth_failures_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordGarbageCollection(const GcReport* report) {
  if (report == nullptr) {
    gc_runs_failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  gc_runs_ok_.fetch_add(1, std::memory_order_relaxed);
  gc_bytes_reclaimed_.fetch_add(report->bytes_reclaimed, std::memory_order_relaxed);
  gc_problems_.store(report->problems.size(), std::memory_order_relaxed);
  usage_stale_.store(true, std::memory_order_relaxed);
}

std::optional<StoreUsage> Metrics::CurrentUsage(StoreMonitoring& store) {
  std::lock_guard lock(usage_mu_);
  const auto now = std::chrono::steady_clock::now();
  // Clear the flag before counting: a write that lands during the count marks it again.
  const bool stale = usage_stale_.exchange(false) || !usage_ || now - usage_time_ > kUsageMaxAge;
  if (!stale) return usage_;
  auto usage = store.Usage();
  if (!usage.ok()) {
    usage_stale_ = true;
    return std::nullopt;
  }
  usage_ = *usage;
  usage_time_ = now;
  return usage_;
}

void Metrics::RenderRequests(std::string& out) const {
  static constexpr const char* kName = "ocireg_http_requests_total";
  Header(out, kName, "counter", "HTTP requests answered, by method, route kind and status code.");
  for (size_t m = 0; m < kMethods; ++m) {
    for (size_t r = 0; r < kRoutes; ++r) {
      for (size_t c = 0; c < kCodes; ++c) {
        const uint64_t n = requests_[(m * kRoutes + r) * kCodes + c].load();
        if (n == 0) continue;
        Sample(out, kName,
               Label("method", kMethodNames[m]) + "," + Label("route", kRouteNames[r]) + "," +
                   Label("code", std::to_string(kMinCode + static_cast<int>(c)).c_str()),
               n);
      }
    }
  }
}

void Metrics::RenderDurations(std::string& out) const {
  static constexpr const char* kName = "ocireg_http_request_duration_seconds";
  Header(out, kName, "histogram",
         "Time from routing a request to logging its answer, by method and route kind.");
  for (size_t m = 0; m < kMethods; ++m) {
    for (size_t r = 0; r < kRoutes; ++r) {
      const Histogram& histogram = durations_[m * kRoutes + r];
      std::array<uint64_t, kBuckets> counts{};
      uint64_t total = 0;
      for (size_t b = 0; b < kBuckets; ++b) total += counts[b] = histogram.buckets[b].load();
      if (total == 0) continue;
      const std::string labels =
          Label("method", kMethodNames[m]) + "," + Label("route", kRouteNames[r]);
      // Cumulative, and _count is the +Inf bucket: consistent even while requests are recorded.
      uint64_t cumulative = 0;
      for (size_t b = 0; b < kBuckets; ++b) {
        cumulative += counts[b];
        const std::string le =
            b < kBucketBounds.size() ? Seconds(kBucketBounds[b], "%g") : std::string("+Inf");
        Sample(out, std::string(kName) + "_bucket", labels + "," + Label("le", le.c_str()),
               cumulative);
      }
      Sample(out, std::string(kName) + "_sum", labels,
             Seconds(static_cast<int64_t>(histogram.sum_us.load()), "%.6f"));
      Sample(out, std::string(kName) + "_count", labels, total);
    }
  }
}

void Metrics::RenderBytes(std::string& out) const {
  static constexpr const char* kIn = "ocireg_http_request_bytes_total";
  static constexpr const char* kOut = "ocireg_http_response_bytes_total";
  Header(out, kIn, "counter", "Request body bytes received, by route kind.");
  for (size_t r = 0; r < kRoutes; ++r) {
    Sample(out, kIn, Label("route", kRouteNames[r]), bytes_in_[r].load());
  }
  Header(out, kOut, "counter", "Response body bytes sent (none for HEAD), by route kind.");
  for (size_t r = 0; r < kRoutes; ++r) {
    Sample(out, kOut, Label("route", kRouteNames[r]), bytes_out_[r].load());
  }
}

std::string Metrics::Render(StoreMonitoring& store) {
  std::string out;
  if (!node_name_.empty()) {
    Header(out, "ocireg_node_info", "gauge",
           "Always 1; its label names the replica that answered this scrape.");
    Sample(out, "ocireg_node_info", "node=\"" + EscapeLabelValue(node_name_) + "\"", uint64_t{1});
  }
  RenderRequests(out);
  RenderDurations(out);
  RenderBytes(out);

  Header(out, "ocireg_uploads_in_progress", "gauge",
         "Upload sessions started and not yet committed, cancelled or expired.");
  if (auto uploads = store.CountUploads(); uploads.ok()) {
    Sample(out, "ocireg_uploads_in_progress", "", *uploads);
  }
  const std::optional<StoreUsage> usage = CurrentUsage(store);
  Header(out, "ocireg_storage_bytes", "gauge",
         "Bytes of the distinct blobs and manifests in storage.");
  if (usage) Sample(out, "ocireg_storage_bytes", "", usage->bytes);
  Header(out, "ocireg_storage_blobs", "gauge", "Distinct blobs and manifests in storage.");
  if (usage) Sample(out, "ocireg_storage_blobs", "", usage->blobs);
  RenderDriverCounters(out, store.DriverCounters());

  Header(out, "ocireg_gc_runs_total", "counter", "Garbage collections run, by result.");
  Sample(out, "ocireg_gc_runs_total", Label("result", "success"), gc_runs_ok_.load());
  Sample(out, "ocireg_gc_runs_total", Label("result", "failure"), gc_runs_failed_.load());
  Header(out, "ocireg_gc_bytes_reclaimed_total", "counter",
         "Storage bytes freed by garbage collection.");
  Sample(out, "ocireg_gc_bytes_reclaimed_total", "", gc_bytes_reclaimed_.load());
  Header(out, "ocireg_gc_problems", "gauge",
         "Entries the last garbage collection skipped because they could not be read.");
  Sample(out, "ocireg_gc_problems", "", gc_problems_.load());

  Header(out, "ocireg_auth_failures_total", "counter",
         "Requests refused by authentication or authorization, by reason.");
  for (size_t i = 0; i < kAuthReasons.size(); ++i) {
    Sample(out, "ocireg_auth_failures_total", Label("reason", kAuthReasons[i]),
           auth_failures_[i].load());
  }
  return out;
}

}  // namespace ocireg::internal
