#include "tributary/clock.h"

#include <time.h>

#include "absl/time/clock.h"

namespace tributary {
namespace {

class RealClock final : public Clock {
 public:
  // clock_gettime directly: absl::Now() costs ~54 ns here against ~23 ns,
  // and Put reads the clock once per call.
  absl::Time Now() override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return absl::TimeFromTimespec(ts);
  }
  void SleepFor(absl::Duration d) override { absl::SleepFor(d); }
};

}  // namespace

Clock* SystemClock() {
  static RealClock* clock = new RealClock();  // never destroyed: usable at exit
  return clock;
}

ManualClock::ManualClock(absl::Time start) : now_(start) {}

absl::Time ManualClock::Now() {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

void ManualClock::SleepFor(absl::Duration d) { Advance(d); }

void ManualClock::Advance(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return;
  std::lock_guard<std::mutex> l(mu_);
  now_ += d;
}

void ManualClock::Set(absl::Time t) {
  std::lock_guard<std::mutex> l(mu_);
  if (t > now_) now_ = t;
}

}  // namespace tributary
