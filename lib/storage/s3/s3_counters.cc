// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/s3_counters.h"

#include <chrono>
#include <string>
#include <utility>

namespace ocireg::internal::s3 {
namespace {

// One family: `value` of each operation's stats, labelled with the operation.
template <typename Value>
DriverCounter Family(const S3Stats& stats, std::string name, std::string help, Value value) {
  DriverCounter counter{std::move(name), std::move(help), {}};
  counter.samples.reserve(kS3OperationCount);
  for (size_t i = 0; i < kS3OperationCount; ++i) {
    const auto op = static_cast<S3Operation>(i);
    counter.samples.push_back({{{"operation", std::string(OperationName(op))}}, value(stats[op])});
  }
  return counter;
}

}  // namespace

std::vector<DriverCounter> S3Counters(const S3Stats& stats) {
  std::vector<DriverCounter> counters;
  counters.push_back(
      Family(stats, "ocireg_s3_requests_total",
             "HTTP requests sent to S3, retries included, by operation.",
             [](const S3OperationStats& s) { return static_cast<double>(s.requests); }));
  counters.push_back(Family(
      stats, "ocireg_s3_retries_total", "Requests to S3 that repeated a failed one, by operation.",
      [](const S3OperationStats& s) { return static_cast<double>(s.retries); }));
  counters.push_back(
      Family(stats, "ocireg_s3_errors_total",
             "S3 calls that failed after their retries (a missing key is no error), by operation.",
             [](const S3OperationStats& s) { return static_cast<double>(s.errors); }));
  counters.push_back(Family(
      stats, "ocireg_s3_request_seconds_total",
      "Time spent in requests to S3, bodies included, summed, by operation.",
      [](const S3OperationStats& s) { return std::chrono::duration<double>(s.latency).count(); }));
  return counters;
}

}  // namespace ocireg::internal::s3
