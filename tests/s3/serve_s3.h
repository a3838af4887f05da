// SPDX-License-Identifier: Apache-2.0
// What the tests of whole ocireg-serve processes on the S3 test gateway share: the configuration
// of a server on a bucket and prefix, and an HTTP client of it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ocireg/storage/s3.h"
#include "s3_backend.h"

namespace ocireg::testing {

// An ocireg-serve configuration on 127.0.0.1 (a free port) with its data in `s3`'s bucket and
// prefix, in parts of S3's smallest size, without periodic GC; `s3_lines` are further keys of
// [storage.s3] ("idle_timeout = \"1s\"\n").
inline std::string S3ServeConfig(const S3Options& s3, const std::string& s3_lines = "") {
  return "[listen]\naddress = \"127.0.0.1\"\nport = 0\n\n"
         "[storage]\ndriver = \"s3\"\ngc_interval = 0\n\n"
         "[storage.s3]\nendpoint = \"" +
         s3.endpoint + "\"\nregion = \"" + s3.region + "\"\nbucket = \"" + s3.bucket +
         "\"\nprefix = \"" + s3.prefix + "\"\npath_style = true\naccess_key = \"" +
         s3.credentials.access_key_id + "\"\nsecret_key = \"" + s3.credentials.secret_access_key +
         "\"\npart_size = \"5MiB\"\n" + s3_lines;
}

// A client of the server on 127.0.0.1:`port` that waits up to 2 minutes for an answer: longer
// than any retry of the server's S3 requests.
inline std::unique_ptr<httplib::Client> ClientOf(uint16_t port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_read_timeout(std::chrono::minutes(2));
  client->set_write_timeout(std::chrono::minutes(2));
  return client;
}

}  // namespace ocireg::testing
