// SPDX-License-Identifier: Apache-2.0
// FormatAccessLogLine and FormatLogLine: log lines as text or as JSON objects.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <time.h>

#include <cstdio>
#include <string>

#include "ocireg/http/handler.h"

namespace ocireg {
namespace {

// 2024-05-01T12:00:00.123Z
std::string Rfc3339Millis(std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const time_t t = static_cast<time_t>(seconds.count());
  struct tm utc {};
  gmtime_r(&t, &utc);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

double Milliseconds(std::chrono::microseconds duration) {
  return static_cast<double>(duration.count()) / 1000.0;
}

// Control characters and quotes in a path would let a client forge log lines in text format.
std::string Escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", byte);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

// "node=NAME " for a text diagnostic line, or nothing without a name.
std::string NodeField(std::string_view node) {
  return node.empty() ? std::string() : "node=" + Escaped(node) + " ";
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

std::string FormatLogLine(std::chrono::system_clock::time_point time, LogLevel level,
                          std::string_view message, LogFormat format, std::string_view node) {
  if (format == LogFormat::kJson) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    auto string = [&w](std::string_view s) {
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    w.StartObject();
    string("time");
    string(Rfc3339Millis(time));
    string("level");
    string(LevelName(level));
    if (!node.empty()) {
      string("node");
      string(node);
    }
    string("message");
    string(message);
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }
  return Rfc3339Millis(time) + " " + std::string(LevelName(level)) + " " + NodeField(node) +
         Escaped(message);
}

std::string FormatAccessLogLine(const AccessLogEntry& entry, LogFormat format) {
  if (format == LogFormat::kJson) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    auto string = [&w](std::string_view s) {
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    w.StartObject();
    string("time");
    string(Rfc3339Millis(entry.time));
    string("remote_addr");
    string(entry.remote_addr);
    string("user");
    string(entry.user);
    string("method");
    string(entry.method);
    string("path");
    string(entry.path);
    string("status");
    w.Int(entry.status);
    string("bytes");
    w.Uint64(entry.bytes);
    string("duration_ms");
    w.Double(Milliseconds(entry.duration));
    if (!entry.node.empty()) {
      string("node");
      string(entry.node);
    }
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }
  char duration[32];
  std::snprintf(duration, sizeof(duration), "%.3fms", Milliseconds(entry.duration));
  return Rfc3339Millis(entry.time) + " " + Escaped(entry.remote_addr) + " " + Escaped(entry.user) +
         " \"" + Escaped(entry.method) + " " + Escaped(entry.path) + "\" " +
         std::to_string(entry.status) + " " + std::to_string(entry.bytes) + " " + duration +
         (entry.node.empty() ? "" : " node=" + Escaped(entry.node));
}

}  // namespace ocireg
