#include "tributary/testing/clock.h"

#include <fmt/format.h>

#include <string>

namespace tributary::testing {

void AdvancePastIteratorLifetime(ManualClock& clock) { clock.Advance(limits::kIteratorLifetime + kTick); }

void AdvancePastNextTokenLifetime(ManualClock& clock) {
  clock.Advance(limits::kNextTokenLifetime + kTick);
}

void AdvancePastRetention(ManualClock& clock, int retention_hours) {
  clock.Advance(absl::Hours(retention_hours) + kTick);
}

absl::Status AdvancePastRetention(ManualClock& clock, Store& store, std::string_view stream) {
  absl::StatusOr<StreamDescriptionSummary> d = store.DescribeStreamSummary(stream);
  if (!d.ok()) return d.status();
  AdvancePastRetention(clock, d->retention_period_hours);
  return absl::OkStatus();
}

void AdvancePastCreateDelay(ManualClock& clock, const StoreOptions& options) {
  clock.Advance(options.create_delay + kTick);
}
void AdvancePastUpdateDelay(ManualClock& clock, const StoreOptions& options) {
  clock.Advance(options.update_delay + kTick);
}
void AdvancePastDeleteDelay(ManualClock& clock, const StoreOptions& options) {
  clock.Advance(options.delete_delay + kTick);
}

absl::Status AdvanceUntilActive(ManualClock& clock, Store& store, std::string_view stream,
                                absl::Duration limit) {
  if (store.options().clock != &clock) {
    return absl::FailedPreconditionError(fmt::format(
        "AdvanceUntilActive({}): the store does not run on this ManualClock (StoreOptions::clock)",
        stream));
  }
  // On a ManualClock, WaitUntilActive's SleepFor advances the clock to the
  // end of the transition instead of sleeping.
  return store.WaitUntilActive(stream, limit);
}

}  // namespace tributary::testing
