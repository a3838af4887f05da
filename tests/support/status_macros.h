// SPDX-License-Identifier: Apache-2.0
// Catch assertions on a Status or a Result<T> that print its code and message when they fail,
// where a bare REQUIRE(x.ok()) would only say "false".
#pragma once

#include "catch.h"
#include "ocireg/status.h"

// `expr` (a Status or a Result<T>, evaluated once) is ok; else the test stops (REQUIRE_OK) or
// goes on (CHECK_OK), and the failure names the expression and its status.
#define REQUIRE_OK(expr) OCIREG_ASSERT_STATUS_(REQUIRE, expr, ocireg_status_.ok())
#define CHECK_OK(expr) OCIREG_ASSERT_STATUS_(CHECK, expr, ocireg_status_.ok())
// `expr` (a Status or a Result<T>) failed with the ErrorCode `expected`; the failure names the
// status it had.
#define CHECK_CODE(expr, expected) \
  OCIREG_ASSERT_STATUS_(CHECK, expr, ocireg_status_.code() == (expected))

#define OCIREG_ASSERT_STATUS_(assertion, expr, condition)                       \
  do {                                                                          \
    const ::ocireg::Status ocireg_status_ = ::ocireg::internal::StatusOf(expr); \
    INFO(#expr << ": " << ocireg_status_.ToString());                           \
    assertion(condition);                                                       \
  } while (0)
