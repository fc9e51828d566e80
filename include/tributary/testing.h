// Umbrella header of Tributary's testing toolkit (CMake target
// tributary::testing, pkg-config tributary-testing): what a user's own tests
// need to exercise stream code against a Tributary store deterministically.
//
//   testing/clock.h       ManualClock and helpers to move past retention,
//                         iterator expiry and CREATING/UPDATING/DELETING delays
//   testing/faults.h      Faults: throttling, partial PutBatch failures,
//                         internal errors, failed or expired reads, on demand
//   testing/reshard.h     split the shard holding a key, merge neighbours,
//                         wait for ACTIVE on the manual clock
//   testing/test_store.h  TestStore: an in-memory Store wired to all of the above
//   testing/ordering_verifier.h  OrderingVerifier: per-key order and completeness
//                         of what a consumer delivered against what was written
//   testing/check_order.h CheckOrder: generator, nemesis and checker against
//                         any endpoint and consumer (`tributary check-order`)
//   testing/order_checker.h  OrderChecker: its checker, memory per key
//
// Nothing here depends on a test framework; use it from Catch2, GoogleTest
// or plain asserts. docs/API.md ("Testing toolkit") walks through it and
// examples/testing_my_consumer is a complete Catch2 test that uses it.
#ifndef TRIBUTARY_TESTING_H_
#define TRIBUTARY_TESTING_H_

#include "tributary/testing/check_order.h"
#include "tributary/testing/clock.h"
#include "tributary/testing/faults.h"
#include "tributary/testing/order_checker.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/testing/reshard.h"
#include "tributary/testing/test_store.h"
#include "tributary/tributary.h"

#endif  // TRIBUTARY_TESTING_H_
