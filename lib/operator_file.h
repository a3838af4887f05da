// SPDX-License-Identifier: Apache-2.0
// ReadOperatorFile: reads a file an operator names (the configuration, an htpasswd file) whole.
#pragma once

#include <string>

#include "ocireg/status.h"

namespace ocireg::internal {

// The bytes of the file at `path`. Errors: kInvalidArgument "PATH: cannot read: REASON", the
// message a startup or reload reports to the operator.
Result<std::string> ReadOperatorFile(const std::string& path);

}  // namespace ocireg::internal
