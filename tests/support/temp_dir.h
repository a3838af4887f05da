// SPDX-License-Identifier: Apache-2.0
// TempDir: a fresh directory for one test, removed with everything in it when the object goes.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ocireg::testing {

class TempDir {
 public:
  // Below the test's build directory when OCIREG_TEST_TMPDIR is defined, else the system's.
  TempDir() {
#ifdef OCIREG_TEST_TMPDIR
    std::filesystem::path base = OCIREG_TEST_TMPDIR;
#else
    std::filesystem::path base = std::filesystem::temp_directory_path();
#endif
    std::string pattern = (base / "ocireg-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ocireg::testing
