// SPDX-License-Identifier: Apache-2.0
// The files a [[mirror]] entry names, read when LoadConfig loads the configuration: the
// credentials file (one line "username:password") and the upstream's CA file, which must be
// readable. ParseConfig reads no file, so it leaves them to this step.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "ocireg/config.h"
#include "ocireg/status.h"

namespace ocireg::internal {

// The user name and password of a mirror's credentials file.
struct MirrorCredentials {
  std::string username;
  std::string password;
};

// Parses `text`, the contents of the credentials file at `path` (named in messages): one line
// "username:password" (the first ':' splits them; the password may hold more), an optional
// line end (\n or \r\n) and nothing else but blank lines. Both parts must be non-empty.
// Errors: kInvalidArgument "PATH: ..."; no message quotes a line of the file.
Result<MirrorCredentials> ParseMirrorCredentials(std::string_view text, std::string_view path);

// For each entry of config.mirrors: reads credentials_file into username and password, and
// checks that ca_file can be read. `root` is the parsed document, for the line of the key.
// Errors: kInvalidArgument "source:line: mirror[N].credentials_file: PATH: ..." (or ca_file).
Status ReadMirrorFiles(const toml::table& root, std::string_view source, Config& config);

}  // namespace ocireg::internal
