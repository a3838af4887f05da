// SPDX-License-Identifier: Apache-2.0
// Fuzzes ParseConfig with the TOML text of an operator's configuration file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ocireg/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto config = ocireg::ParseConfig(input, "fuzz.toml");
  if (!config.ok()) {
    // Every refusal is the operator's error and says where: "fuzz.toml:line: ...".
    FUZZ_CHECK(config.status().code() == ocireg::ErrorCode::kInvalidArgument,
               config.status().ToString());
    FUZZ_CHECK(config.status().message().starts_with("fuzz.toml"), config.status().message());
    return 0;
  }
  // Pure: the same text gives the same configuration, as the log line shows it.
  const std::string described = ocireg::DescribeConfig(*config);
  FUZZ_CHECK(!described.empty(), input);
  auto again = ocireg::ParseConfig(input, "fuzz.toml");
  FUZZ_CHECK(again.ok() && ocireg::DescribeConfig(*again) == described, described);
  return 0;
}
