// SPDX-License-Identifier: Apache-2.0
// The dlopen plumbing of the libraries loaded at run time (auth/ldap_library, storage/s3/
// curl_library): a library is mapped only into processes that configure what needs it.
#pragma once

#include <dlfcn.h>

#include <string>

namespace ocireg::internal {

// dlerror(), or "unknown error" when it has none.
inline std::string DlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown error";
}

// Resolves `name` in `handle` (and its dependencies) into the function pointer `slot`; false when
// missing, with the reason left for DlError().
template <typename T>
bool FindSymbol(void* handle, const char* name, T& slot) {
  slot = reinterpret_cast<T>(dlsym(handle, name));
  return slot != nullptr;
}

}  // namespace ocireg::internal
