// Time for Tributary: every clock read in the library goes through a Clock.
//
// Retention, iterator expiry, NextToken expiry, stream status transitions
// (CREATING/UPDATING/DELETING delays), throughput token buckets and
// MillisBehindLatest are all computed from StoreOptions::clock. Production
// code uses the system clock (the default); tests use ManualClock and move
// time explicitly, so no test ever sleeps on wall-clock time.
#ifndef TRIBUTARY_CLOCK_H_
#define TRIBUTARY_CLOCK_H_

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tributary {

// A source of time. Implementations must be safe for concurrent use.
class Clock {
 public:
  virtual ~Clock() = default;

  // The current time. Successive calls from one thread never go backwards
  // for the clocks the library ships.
  virtual absl::Time Now() = 0;

  // Blocks (or, for simulated clocks, advances time) for `d`. Used only by
  // waiting helpers such as Store::WaitUntilActive, never on a data path.
  virtual void SleepFor(absl::Duration d) = 0;
};

// The process-wide real-time clock (absl::Now / absl::SleepFor). Never null;
// the returned object lives for the whole process.
Clock* SystemClock();

// A simulated clock for tests: time moves only when Advance() or SleepFor()
// is called. SleepFor(d) advances the clock by d instead of blocking, so a
// WaitUntilActive loop on a ManualClock finishes immediately and
// deterministically. Safe for concurrent use.
class ManualClock final : public Clock {
 public:
  // Starts at `start`; the default is a fixed, arbitrary instant
  // (2024-01-01T00:00:00Z), so tests are reproducible.
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1704067200));

  absl::Time Now() override;
  void SleepFor(absl::Duration d) override;

  // Moves time forward by `d`. REQUIRES: d >= absl::ZeroDuration().
  void Advance(absl::Duration d);
  // Sets the time. REQUIRES: t >= Now() (a clock never goes backwards).
  void Set(absl::Time t);

 private:
  std::mutex mu_;
  absl::Time now_;  // guarded by mu_
};

}  // namespace tributary

#endif  // TRIBUTARY_CLOCK_H_
