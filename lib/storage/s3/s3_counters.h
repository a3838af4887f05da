// SPDX-License-Identifier: Apache-2.0
// The S3 client's counters (S3Stats) as the driver reports them for GET /metrics
// (StorageDriver::Counters): ocireg_s3_requests_total, ocireg_s3_retries_total,
// ocireg_s3_errors_total and ocireg_s3_request_seconds_total, each with a sample per S3 operation
// (label "operation", S3's name of the call: "PutObject"), zero included, so that every series
// exists from the first scrape.
#pragma once

#include <vector>

#include "ocireg/storage/driver.h"
#include "storage/s3/s3_client.h"

namespace ocireg::internal::s3 {

std::vector<DriverCounter> S3Counters(const S3Stats& stats);

}  // namespace ocireg::internal::s3
