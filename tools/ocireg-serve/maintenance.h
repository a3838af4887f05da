// SPDX-License-Identifier: Apache-2.0
// The maintenance commands of ocireg-serve: one garbage collection or one integrity scrub of the
// configured storage, with a report on stdout and a progress line on a terminal.
#pragma once

#include "ocireg/config.h"

namespace ocireg_serve {

// Exit statuses of the commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;  // scrub found problems, or the store failed
inline constexpr int kExitUsage = 2;     // bad arguments or configuration

// `ocireg-serve gc CONFIG`: runs StoreMaintenance::CollectGarbage once and prints its report.
int RunGarbageCollection(const ocireg::Config& config);
// `ocireg-serve scrub CONFIG`: runs StoreMaintenance::Scrub once and prints every problem on a
// line.
int RunScrub(const ocireg::Config& config);

}  // namespace ocireg_serve
