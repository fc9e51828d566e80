// The precompiled header of Tributary's multi-unit targets (the library,
// the endpoint, the testing toolkit, the CLI): the standard library, abseil
// and fmt headers most of their units include. Parsed once per target
// instead of once per unit, it saves about 1.7 CPU-seconds a unit (ASan
// -O1, gcc 12), which is what makes it worth a ~5-second PCH build per
// target. Why, and what it costs: docs/RELIABILITY.md "Precompiled headers".
//
// Only third-party headers go here: a unit must still include what it uses
// (the lint build, which has precompiled headers off, checks that every
// unit compiles on its own), and our own headers change too often to be
// worth a PCH rebuild of every target.
#ifndef TRIBUTARY_LIB_PCH_H_
#define TRIBUTARY_LIB_PCH_H_

#include "pch_common.h"

#include <fmt/format.h>

#endif  // TRIBUTARY_LIB_PCH_H_
