// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/s3_time.h"

#include <array>
#include <cstdint>

namespace ocireg::internal::s3 {

namespace {

using std::chrono::system_clock;

// Reads `width` decimal digits at `text[at]`.
std::optional<int> Digits(std::string_view text, size_t at, size_t width) {
  if (at + width > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<system_clock::time_point> FromFields(int year, int month, int day, int hour,
                                                   int minute, int second) {
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  // system_clock counts nanoseconds in 64 bits: years 1678 to 2262 only.
  if (!date.ok() || year < 1900 || year > 2200 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  return system_clock::time_point(std::chrono::sys_days(date)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second);
}

std::optional<int> Month(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<int>(i + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<system_clock::time_point> ParseIsoTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  const std::string_view fraction = text.substr(19, text.size() - 20);
  if (!fraction.empty() && (fraction.size() < 2 || fraction.size() > 10 || fraction[0] != '.' ||
                            !Digits(fraction, 1, fraction.size() - 1))) {
    return std::nullopt;
  }
  auto year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  auto hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  return FromFields(*year, *month, *day, *hour, *minute, *second);
}

std::optional<system_clock::time_point> ParseHttpTime(std::string_view text) {
  // Www, DD Mon YYYY HH:MM:SS GMT
  if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  auto day = Digits(text, 5, 2), year = Digits(text, 12, 4);
  auto hour = Digits(text, 17, 2), minute = Digits(text, 20, 2), second = Digits(text, 23, 2);
  auto month = Month(text.substr(8, 3));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  return FromFields(*year, *month, *day, *hour, *minute, *second);
}

}  // namespace ocireg::internal::s3
