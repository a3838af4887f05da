// SPDX-License-Identifier: Apache-2.0
// RequestConnection: the thread_local that names the connection a request arrived on.
#include "http/current_connection.h"

namespace ocireg::internal {
namespace {

thread_local RequestConnection* current = nullptr;

}  // namespace

RequestConnection* CurrentConnection() { return current; }

CurrentConnectionScope::CurrentConnectionScope(RequestConnection* connection) : previous_(current) {
  current = connection;
}

CurrentConnectionScope::~CurrentConnectionScope() { current = previous_; }

}  // namespace ocireg::internal
