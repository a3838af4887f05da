// SPDX-License-Identifier: Apache-2.0
// CurlLibrary: libcurl, loaded with dlopen when first needed (an S3 driver, an upstream client)
// rather than linked.
// Debian's libcurl4 maps libldap, liblber, GnuTLS, nghttp2, libssh2, librtmp, libpsl, Kerberos
// and more into every process that links it and runs their constructors, even when the storage
// is on the file system. <curl/curl.h> still gives the types and constants at compile time.
#pragma once

#include <curl/curl.h>

#include "ocireg/status.h"

namespace ocireg::internal {

// Every libcurl symbol the library uses. libocireg does not link libcurl, so a call that bypasses
// this table fails to link: add the symbol here instead. curl_global_init is not among them: the
// loader calls it once itself, before any handle can be made.
#define OCIREG_CURL_SYMBOLS(X) \
  X(curl_easy_cleanup)         \
  X(curl_easy_getinfo)         \
  X(curl_easy_init)            \
  X(curl_easy_perform)         \
  X(curl_easy_reset)           \
  X(curl_easy_setopt)          \
  X(curl_easy_strerror)        \
  X(curl_share_cleanup)        \
  X(curl_share_init)           \
  X(curl_share_setopt)         \
  X(curl_slist_append)         \
  X(curl_slist_free_all)

// One pointer per symbol, named like it and typed by its declaration in <curl/curl.h>:
// `curl.curl_easy_perform(handle)` calls curl_easy_perform. The variadic ones (setopt, getinfo)
// take their arguments through the pointer as they would directly. Never changes once loaded, so
// any thread may read it.
struct CurlLibrary {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` is a declarator, not an expression.
#define OCIREG_CURL_POINTER(name) decltype(&::name) name = nullptr;
  OCIREG_CURL_SYMBOLS(OCIREG_CURL_POINTER)
#undef OCIREG_CURL_POINTER
};

// libcurl, loaded and globally initialised by the first call and shared by all later ones
// (thread-safe; the outcome, success or failure, is the same for the life of the process). It
// stays loaded: curl and the TLS library behind it keep global state that an unload would leave
// dangling. kUnavailable "libcurl (libcurl.so.4): <why>" when it cannot be loaded, lacks a symbol
// above, or fails to initialise; callers say who needs it ("the S3 driver needs " + message).
Result<const CurlLibrary*> LoadCurlLibrary();

}  // namespace ocireg::internal
