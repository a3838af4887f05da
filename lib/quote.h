// SPDX-License-Identifier: Apache-2.0
// QuoteForMessage: shows client input in an error message safely.
#pragma once

#include <string>
#include <string_view>

namespace ocireg::internal {

// `text` in double quotes, with control, quote, backslash and non-ASCII bytes written as \xNN and
// anything past 64 bytes cut off (then followed by "..."): client input can neither forge log
// lines nor flood them.
std::string QuoteForMessage(std::string_view text);

}  // namespace ocireg::internal
