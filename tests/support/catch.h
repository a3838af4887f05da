// SPDX-License-Identifier: Apache-2.0
// Catch2 v2 (Debian 12) or v3, whichever is installed. Use only macros both versions have.
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#else
#include <catch2/catch.hpp>
#endif
