// SPDX-License-Identifier: Apache-2.0
// The user name a verified client certificate carries.
#pragma once

#include <string>

#include "ocireg/config.h"

struct ssl_st;

namespace ocireg::internal {

// The identity of the peer certificate of `ssl` when the TLS layer verified it: its subject CN,
// or the first SAN of the kind `which` names. Empty when there is no verified certificate or it
// lacks that name. `ssl` may be null (plain HTTP).
std::string ClientCertificateIdentity(const ssl_st* ssl, ClientIdentity which);

}  // namespace ocireg::internal
