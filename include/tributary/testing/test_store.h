// TestStore: an in-memory Store wired to a ManualClock and a Faults object,
// the usual starting point of a test.
//
//   auto t = *tributary::testing::TestStore::Create();
//   REQUIRE(t->store().CreateStream("orders", 2).ok());
//   t->faults().ThrottlePuts(1);
//   t->clock().Advance(absl::Minutes(6));
//
// Owns all three; they live as long as the TestStore. The clock starts at
// ManualClock's fixed default instant, so tests are reproducible.
// Thread safety: the accessors are; the objects are as documented
// (Store, ManualClock and Faults are all safe for concurrent use).
#ifndef TRIBUTARY_TESTING_TEST_STORE_H_
#define TRIBUTARY_TESTING_TEST_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "tributary/clock.h"
#include "tributary/options.h"
#include "tributary/store.h"
#include "tributary/testing/faults.h"

namespace tributary::testing {

class TestStore {
 public:
  // An in-memory store with `options`, except that options.clock and
  // options.fault_injector are replaced by this object's ManualClock and
  // Faults. Fails as Store::OpenInMemory does (bad options).
  static absl::StatusOr<std::unique_ptr<TestStore>> Create(StoreOptions options = {});

  Store& store() { return *store_; }
  Store* operator->() { return store_.get(); }
  ManualClock& clock() { return clock_; }
  Faults& faults() { return faults_; }
  // The options the store was opened with (clock and injector included).
  const StoreOptions& options() const { return store_->options(); }

 private:
  TestStore() = default;
  ManualClock clock_;
  Faults faults_;
  std::unique_ptr<Store> store_;  // declared last: destroyed before the clock and faults
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_TEST_STORE_H_
