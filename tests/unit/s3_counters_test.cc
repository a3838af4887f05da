// SPDX-License-Identifier: Apache-2.0
// S3Counters (storage/s3/s3_counters.h): the client's statistics as the driver's counters.
#include "storage/s3/s3_counters.h"

#include <chrono>
#include <string>
#include <vector>

#include "catch.h"

namespace ocireg::internal::s3 {
namespace {

// The value `counter` gives operation `op`; -1 when it has no such sample.
double ValueOf(const DriverCounter& counter, std::string_view op) {
  for (const DriverCounter::Sample& sample : counter.samples) {
    if (sample.labels.size() == 1 && sample.labels[0].first == "operation" &&
        sample.labels[0].second == op) {
      return sample.value;
    }
  }
  return -1;
}

TEST_CASE("S3Counters gives requests, retries, errors and seconds by operation", "[unit][s3]") {
  S3Stats stats;
  stats.operations[static_cast<size_t>(S3Operation::kPutObject)] = {
      7, 2, 1, std::chrono::microseconds(1'500'000)};
  stats.operations[static_cast<size_t>(S3Operation::kUploadPart)] = {
      1, 0, 0, std::chrono::microseconds(250)};

  const std::vector<DriverCounter> counters = S3Counters(stats);
  REQUIRE(counters.size() == 4);
  CHECK(counters[0].name == "ocireg_s3_requests_total");
  CHECK(counters[1].name == "ocireg_s3_retries_total");
  CHECK(counters[2].name == "ocireg_s3_errors_total");
  CHECK(counters[3].name == "ocireg_s3_request_seconds_total");
  for (const DriverCounter& counter : counters) {
    INFO(counter.name);
    CHECK_FALSE(counter.help.empty());
    // Every operation, counted or not, so that each series exists from the first scrape.
    CHECK(counter.samples.size() == kS3OperationCount);
    CHECK(ValueOf(counter, "ListObjectsV2") == 0);
  }
  CHECK(ValueOf(counters[0], "PutObject") == 7);
  CHECK(ValueOf(counters[1], "PutObject") == 2);
  CHECK(ValueOf(counters[2], "PutObject") == 1);
  CHECK(ValueOf(counters[3], "PutObject") == 1.5);
  CHECK(ValueOf(counters[0], "UploadPart") == 1);
  CHECK(ValueOf(counters[3], "UploadPart") == 0.00025);
}

}  // namespace
}  // namespace ocireg::internal::s3
