// The third-party headers both precompiled headers hold: the standard
// library and abseil's Status, strings and time. lib/pch.h adds fmt for the
// library's targets; tests/testing/pch.h adds Catch2 and the public API for
// the tests. docs/RELIABILITY.md "Precompiled headers".
#ifndef TRIBUTARY_LIB_PCH_COMMON_H_
#define TRIBUTARY_LIB_PCH_COMMON_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#endif  // TRIBUTARY_LIB_PCH_COMMON_H_
