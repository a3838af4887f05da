// SPDX-License-Identifier: Apache-2.0
// ocireg-serve gc and scrub: open the store of a configuration, run one pass, report.
#include "maintenance.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "ocireg/config_store.h"
#include "ocireg/storage/store.h"

namespace ocireg_serve {
namespace {

// "1.5 MiB"; plain bytes under 1 KiB.
std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

// A progress line on stderr that rewrites itself; only when stderr is a terminal, so logs and
// pipes get the report alone.
class ProgressLine {
 public:
  explicit ProgressLine(std::string_view task) : task_(task), shown_(isatty(STDERR_FILENO)) {}
  ~ProgressLine() { Clear(); }

  void Update(std::string_view stage, uint64_t done) {
    if (!shown_) return;
    if (stage == "repositories") {
      std::fprintf(stderr, "\r\033[K%s: %llu repositories", task_.c_str(),
                   static_cast<unsigned long long>(done));
    } else {
      std::fprintf(stderr, "\r\033[K%s: %.*s", task_.c_str(), static_cast<int>(stage.size()),
                   stage.data());
    }
    std::fflush(stderr);
    dirty_ = true;
  }
  void Clear() {
    if (!dirty_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    dirty_ = false;
  }

 private:
  std::string task_;
  bool shown_;
  bool dirty_ = false;  // a progress line is on the screen
};

// The store of config.storage with the configuration's grace period and upload TTL. A missing
// root is a configuration error, not an empty store to create.
std::unique_ptr<ocireg::Store> OpenConfiguredStore(const ocireg::Config& config,
                                                   ProgressLine& progress) {
  std::error_code error;
  if (config.storage.driver == "fs" && !std::filesystem::is_directory(config.storage.root, error)) {
    std::fprintf(stderr, "ocireg-serve: storage root %s is not a directory\n",
                 config.storage.root.c_str());
    return nullptr;
  }
  ocireg::StoreOptions options = ocireg::StoreOptionsFromConfig(config);
  options.progress = [&progress](std::string_view stage, uint64_t done) {
    progress.Update(stage, done);
  };
  auto store = ocireg::OpenStoreFromConfig(config, std::move(options));
  if (!store.ok()) {
    std::fprintf(stderr, "ocireg-serve: %s\n", store.status().message().c_str());
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace

int RunGarbageCollection(const ocireg::Config& config) {
  ProgressLine progress("garbage collection");
  auto store = OpenConfiguredStore(config, progress);
  if (store == nullptr) return kExitUsage;
  auto report = store->maintenance().CollectGarbage();
  progress.Clear();
  if (!report.ok()) {
    std::fprintf(stderr, "ocireg-serve: garbage collection failed: %s\n",
                 report.status().ToString().c_str());
    return kExitProblems;
  }
  for (const std::string& problem : report->problems) std::printf("skipped: %s\n", problem.c_str());
  std::printf(
      "garbage collection of %s\n"
      "  repositories scanned  %llu\n"
      "  blob links removed    %llu\n"
      "  uploads removed       %llu\n"
      "  bytes reclaimed       %llu (%s)\n",
      ocireg::DescribeStorage(config.storage).c_str(),
      static_cast<unsigned long long>(report->repositories_scanned),
      static_cast<unsigned long long>(report->blobs_removed),
      static_cast<unsigned long long>(report->uploads_removed),
      static_cast<unsigned long long>(report->bytes_reclaimed),
      HumanBytes(report->bytes_reclaimed).c_str());
  return report->problems.empty() ? kExitOk : kExitProblems;
}

int RunScrub(const ocireg::Config& config) {
  ProgressLine progress("scrub");
  auto store = OpenConfiguredStore(config, progress);
  if (store == nullptr) return kExitUsage;
  auto report = store->maintenance().Scrub();
  progress.Clear();
  if (!report.ok()) {
    std::fprintf(stderr, "ocireg-serve: scrub failed: %s\n", report.status().ToString().c_str());
    return kExitProblems;
  }
  for (const std::string& problem : report->problems) std::printf("%s\n", problem.c_str());
  std::printf("scrub of %s: %llu blobs and %llu manifests checked, %zu problems\n",
              ocireg::DescribeStorage(config.storage).c_str(),
              static_cast<unsigned long long>(report->blobs_checked),
              static_cast<unsigned long long>(report->manifests_checked), report->problems.size());
  return report->ok() ? kExitOk : kExitProblems;
}

}  // namespace ocireg_serve
