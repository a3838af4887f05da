// SPDX-License-Identifier: Apache-2.0
// XmlEscape: text for XML documents the library writes (JUnit reports, S3 request bodies).
#pragma once

#include <string>
#include <string_view>

namespace ocireg::internal {

// `text` as XML character data or attribute value: &, <, >, " and ' escaped, newlines and tabs as
// character references; other characters XML 1.0 cannot hold become '?'.
std::string XmlEscape(std::string_view text);

}  // namespace ocireg::internal
