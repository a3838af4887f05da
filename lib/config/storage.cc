// SPDX-License-Identifier: Apache-2.0
// The [storage] table: the driver, the root of the OCI layouts and the garbage collection timing.
#include "config/schema.h"

namespace ocireg::config_parse {
namespace {

using std::chrono::seconds;

constexpr std::pair<std::string_view, std::string_view> kDrivers[] = {{"fs", "fs"}, {"s3", "s3"}};

Result<std::string> ReadDriver(const toml::node& node) {
  Result<std::string_view> driver = ReadChoice(node, kDrivers);
  if (!driver.ok()) return driver.status();
  return std::string(*driver);
}

// The driver and the [storage.s3] table agree. [storage.s3] requires its endpoint itself, so an
// empty endpoint here means the table is missing.
Status CheckStorage(const Config& c) {
  const StorageConfig& storage = c.storage;
  if (storage.driver == "s3" && storage.s3.endpoint.empty()) {
    return InvalidArgument(
        "driver \"s3\" needs a [storage.s3] table with at least endpoint and bucket");
  }
  if (storage.driver != "s3" &&
      (storage.s3 != S3Options{} || storage.s3_credentials != S3CredentialsSource{})) {
    return InvalidArgument(fmt::format(
        "[storage.s3] applies to driver \"s3\" only, and driver is \"{}\"", storage.driver));
  }
  return Status::Ok();
}

}  // namespace

std::vector<SectionSpec> StorageSections() {
  return {{"storage",
           {OCIREG_FIELD(storage, driver, ReadDriver(n)),
            OCIREG_FIELD(storage, root, ReadNonEmptyString(n)),
            OCIREG_FIELD(storage, gc_grace_period, ReadDuration(n)),
            OCIREG_FIELD(storage, gc_interval, ReadDuration(n)),
            OCIREG_FIELD(storage, upload_ttl, ReadDuration(n, seconds(1)))},
           nullptr,
           nullptr,
           CheckStorage}};
}

}  // namespace ocireg::config_parse
