// SPDX-License-Identifier: Apache-2.0
// Test-only hooks of the file system driver, to run something between two of its system calls.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace ocireg::internal {

// Called by the file system driver's Link right after a new name `to` appears and before the call
// checks and returns it, so that a test can race garbage collection with a link. Null (the
// default) in production. Set it only while no driver call is running.
void TEST_SetFsAfterLinkHook(std::function<void(std::string_view to)> hook);

// The number of names from which a commit onto an existing blob replaces it with the new file
// instead of keeping it (60,000 in production), so that a test can crowd a blob cheaply.
void TEST_SetFsCrowdedLinks(uint64_t links);

}  // namespace ocireg::internal
