// SPDX-License-Identifier: MIT
// The one Catch2 v2 main for the test suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
