// SPDX-License-Identifier: Apache-2.0
// The entry point of every test executable (Catch2 v2; v3 brings its own main).
#if __has_include(<catch2/catch.hpp>) && !__has_include(<catch2/catch_test_macros.hpp>)
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
