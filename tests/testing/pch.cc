// The unit of tributary_test_pch (tests/CMakeLists.txt), the target whose
// precompiled header (tests/testing/pch.h) every test executable reuses.
