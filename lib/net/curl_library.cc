// SPDX-License-Identifier: Apache-2.0
// Loading libcurl at run time: dlopen by soname, dlsym for each symbol, then curl_global_init.
#include "net/curl_library.h"

#include <string>

#include "dynamic_library.h"

namespace ocireg::internal {
namespace {

// The soname of libcurl 7.16 and later, every flavour (OpenSSL, GnuTLS, NSS) alike.
constexpr const char* kSoname = "libcurl.so.4";

Status Missing(const std::string& why) {
  return Unavailable("libcurl (" + std::string(kSoname) + "): " + why);
}

// Stops at the first missing symbol, leaving its error for DlError().
bool FindAll(void* handle, CurlLibrary& library) {
  bool found = true;
#define OCIREG_CURL_FIND(name) found = found && FindSymbol(handle, #name, library.name);
  OCIREG_CURL_SYMBOLS(OCIREG_CURL_FIND)
#undef OCIREG_CURL_FIND
  return found;
}

Result<const CurlLibrary*> Load(CurlLibrary& library) {
  // RTLD_LOCAL: its symbols serve only this table. A handle lacking a symbol is not closed
  // either: its constructors have run already.
  void* handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr || !FindAll(handle, library)) return Missing(DlError());
  // Once per process, before any handle: it sets up the TLS library, which is not thread-safe.
  decltype(&curl_global_init) global_init = nullptr;
  if (!FindSymbol(handle, "curl_global_init", global_init)) return Missing(DlError());
  if (const CURLcode code = global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return Missing("curl_global_init failed: " + std::string(library.curl_easy_strerror(code)));
  }
  return &library;
}

}  // namespace

Result<const CurlLibrary*> LoadCurlLibrary() {
  static CurlLibrary library;
  // A function-local static is initialised once, even when threads race to it.
  static const Result<const CurlLibrary*> loaded = Load(library);
  return loaded;
}

}  // namespace ocireg::internal
