#include "tributary/testing/test_store.h"

namespace tributary::testing {

absl::StatusOr<std::unique_ptr<TestStore>> TestStore::Create(StoreOptions options) {
  std::unique_ptr<TestStore> t(new TestStore());
  options.clock = &t->clock_;
  options.fault_injector = &t->faults_;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::OpenInMemory(options);
  if (!store.ok()) return store.status();
  t->store_ = std::move(*store);
  return t;
}

}  // namespace tributary::testing
