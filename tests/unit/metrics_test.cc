// SPDX-License-Identifier: Apache-2.0
// Metrics::Render (http/metrics.h): a storage driver's own counters, reported through
// StoreMonitoring::DriverCounters, in the Prometheus text format.
#include "http/metrics.h"

#include <string>
#include <vector>

#include "catch.h"

namespace ocireg::internal {
namespace {

// A store that holds nothing and whose driver reports `counters`.
class CountingMonitoring final : public StoreMonitoring {
 public:
  explicit CountingMonitoring(std::vector<DriverCounter> counters)
      : counters_(std::move(counters)) {}
  Result<StoreUsage> Usage() override { return StoreUsage{}; }
  Result<uint64_t> CountUploads() override { return uint64_t{0}; }
  Status CheckWritable() override { return Status::Ok(); }
  std::vector<DriverCounter> DriverCounters() override { return counters_; }

 private:
  std::vector<DriverCounter> counters_;
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("Metrics renders a driver's counters with HELP, TYPE and labels", "[unit][metrics]") {
  CountingMonitoring store({
      {"ocireg_test_requests_total",
       "Requests sent, by operation.",
       {{{{"operation", "PutObject"}}, 3}, {{{"operation", "GetObject"}}, 0}}},
      {"ocireg_test_seconds_total", "Time spent.", {{{}, 1.25}}},
      {"ocireg_test_odd_total",
       "Label values escaped.",
       {{{{"a", "x"}, {"b", "say \"hi\"\\\n"}}, 12345678901234.0}}},
  });
  Metrics metrics;
  const std::string text = metrics.Render(store);
  INFO(text);
  CHECK(Contains(text,
                 "# HELP ocireg_test_requests_total Requests sent, by operation.\n"
                 "# TYPE ocireg_test_requests_total counter\n"
                 "ocireg_test_requests_total{operation=\"PutObject\"} 3\n"
                 "ocireg_test_requests_total{operation=\"GetObject\"} 0\n"));
  CHECK(Contains(text,
                 "# HELP ocireg_test_seconds_total Time spent.\n"
                 "# TYPE ocireg_test_seconds_total counter\n"
                 "ocireg_test_seconds_total 1.25\n"));
  CHECK(Contains(text,
                 "ocireg_test_odd_total{a=\"x\",b=\"say \\\"hi\\\"\\\\\\n\"} 12345678901234\n"));
}

TEST_CASE("Metrics renders no driver families for a driver without counters", "[unit][metrics]") {
  CountingMonitoring store({});
  Metrics metrics;
  const std::string text = metrics.Render(store);
  CHECK(Contains(text, "# TYPE ocireg_storage_blobs gauge\n"));
  CHECK_FALSE(Contains(text, "ocireg_s3_"));
}

}  // namespace
}  // namespace ocireg::internal
