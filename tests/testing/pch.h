// The precompiled header of the test executables, built once in the
// tributary_test_pch target and reused by every test executable
// (tests/CMakeLists.txt): the standard library, abseil's Status, Catch2's
// single 17,000-line header and the public API. A test unit compiles about
// 25% faster with it (8.4 to 6.2 CPU-seconds for tests/stream/put_test.cc
// under ASan at -O0, gcc 12). docs/RELIABILITY.md "Precompiled headers".
//
// No fmt here: some test executables link fmt::fmt (which defines
// FMT_SHARED) and some do not, and one PCH must suit them all.
#ifndef TRIBUTARY_TESTS_TESTING_PCH_H_
#define TRIBUTARY_TESTS_TESTING_PCH_H_

#include "../../lib/pch_common.h"

#include <catch2/catch.hpp>

#include "tributary/tributary.h"

#endif  // TRIBUTARY_TESTS_TESTING_PCH_H_
