// SPDX-License-Identifier: Apache-2.0
// The [log] table: the format and level of the server log and the access log switch.
#include "config/schema.h"

namespace ocireg::config_parse {
namespace {

constexpr std::pair<std::string_view, LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                                                  {"json", LogFormat::kJson}};
constexpr std::pair<std::string_view, LogLevel> kLogLevels[] = {{"debug", LogLevel::kDebug},
                                                                {"info", LogLevel::kInfo},
                                                                {"warn", LogLevel::kWarn},
                                                                {"error", LogLevel::kError}};

}  // namespace

std::vector<SectionSpec> LogSections() {
  return {{"log",
           {OCIREG_FIELD(log, format, ReadChoice(n, kLogFormats)),
            OCIREG_FIELD(log, level, ReadChoice(n, kLogLevels)),
            OCIREG_FIELD(log, access_log, ReadBool(n))}}};
}

}  // namespace ocireg::config_parse
