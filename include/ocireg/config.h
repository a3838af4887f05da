// SPDX-License-Identifier: Apache-2.0
// Config: everything ocireg-serve reads from its TOML file, as plain structs with their defaults.
//
// ParseConfig checks every key: an unknown key, a wrong type or a bad value is an error whose message
// names the file, the line and the dotted key, e.g. "ocireg.toml:7: storage.gc_interval: ...".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

struct ListenConfig {
  std::string address = "127.0.0.1";  // IPv4/IPv6 literal or host name. Default: 127.0.0.1
  uint16_t port = 5000;               // 0 picks an ephemeral port. Default: 5000
};

struct StorageConfig {
  std::string root = "./ocireg-data";  // Directory of the OCI layouts. Default: ./ocireg-data
  // Unreferenced blobs younger than this survive garbage collection. Default: 24 h
  std::chrono::seconds gc_grace_period = std::chrono::hours(24);
  // How often the server collects garbage; 0 turns periodic collection off. Default: 1 h
  std::chrono::seconds gc_interval = std::chrono::hours(1);
  // Upload sessions idle for longer are removed by garbage collection. Default: 24 h
  std::chrono::seconds upload_ttl = std::chrono::hours(24);
};

struct LimitsConfig {
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;  // Default: 4 MiB
  uint64_t max_blob_bytes = 0;                    // 0 means no limit. Default: 0
  uint32_t max_connections = 512;   // Worker threads, one per open connection. Default: 512
  uint32_t keep_alive_max_requests = 100;  // Requests served on one connection. Default: 100
  std::chrono::seconds keep_alive_timeout = std::chrono::seconds(5);  // Idle time. Default: 5 s
  std::chrono::seconds read_timeout = std::chrono::seconds(60);   // Per receive. Default: 60 s
  std::chrono::seconds write_timeout = std::chrono::seconds(60);  // Per send. Default: 60 s
  // In-flight requests get this long to finish on SIGTERM/SIGINT. Default: 30 s
  std::chrono::seconds shutdown_timeout = std::chrono::seconds(30);
};

struct FeaturesConfig {
  bool allow_delete = true;  // DELETE of manifests, tags and blobs; 405 UNSUPPORTED when off.
  bool auto_mount = true;    // Mount without ?from= searches readable repositories.
};

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct LogConfig {
  LogFormat format = LogFormat::kText;  // "text" or "json". Default: text
  LogLevel level = LogLevel::kInfo;     // "debug", "info", "warn" or "error". Default: info
  bool access_log = true;               // One line per request. Default: true
};

// The whole configuration; sections mirror the TOML tables [listen], [storage], [limits],
// [features] and [log]. TLS, authentication and access policies join this tree as they land.
struct Config {
  ListenConfig listen;
  StorageConfig storage;
  LimitsConfig limits;
  FeaturesConfig features;
  LogConfig log;
};

// The TOML text of the embedded default configuration (equivalent to Config{}).
OCIREG_EXPORT std::string_view DefaultConfigText();

// Parses TOML `text`; `source` names it in error messages (a file name, or "<default>").
// Errors: kInvalidArgument with "source:line: key: what is wrong" for a syntax error, an unknown key,
// a wrong type or a bad value. Durations are integers with a unit suffix: "30s", "5m", "24h".
OCIREG_EXPORT Result<Config> ParseConfig(std::string_view text, std::string_view source);

// Reads and parses the file at `path`. kInvalidArgument also when it cannot be read.
OCIREG_EXPORT Result<Config> LoadConfig(const std::string& path);

}  // namespace ocireg
