// ManualClock: the simulated clock every store test uses.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>
#include <vector>

#include "tributary/clock.h"

namespace tributary {
namespace {

TEST_CASE("ManualClock starts at 2024-01-01T00:00:00Z by default", "[shard][clock]") {
  ManualClock clock;
  CHECK(clock.Now() == absl::FromUnixSeconds(1704067200));
  ManualClock other(absl::FromUnixSeconds(100));
  CHECK(other.Now() == absl::FromUnixSeconds(100));
}

TEST_CASE("ManualClock moves only when told to", "[shard][clock]") {
  ManualClock clock;
  absl::Time t0 = clock.Now();
  CHECK(clock.Now() == t0);
  clock.Advance(absl::Milliseconds(1500));
  CHECK(clock.Now() == t0 + absl::Milliseconds(1500));
  clock.Advance(absl::ZeroDuration());
  CHECK(clock.Now() == t0 + absl::Milliseconds(1500));
  clock.Set(t0 + absl::Hours(25));
  CHECK(clock.Now() == t0 + absl::Hours(25));
}

TEST_CASE("ManualClock::SleepFor advances the clock instead of blocking", "[shard][clock]") {
  ManualClock clock;
  absl::Time t0 = clock.Now();
  absl::Time wall = absl::Now();
  clock.SleepFor(absl::Hours(10));
  CHECK(clock.Now() == t0 + absl::Hours(10));
  CHECK(absl::Now() - wall < absl::Seconds(5));
}

TEST_CASE("ManualClock is safe for concurrent Advance and Now", "[shard][clock]") {
  ManualClock clock;
  absl::Time t0 = clock.Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      absl::Time last = clock.Now();
      for (int i = 0; i < 1000; ++i) {
        clock.Advance(absl::Milliseconds(1));
        absl::Time now = clock.Now();
        if (now < last) std::abort();  // never goes backwards
        last = now;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(clock.Now() == t0 + absl::Milliseconds(4000));
}

TEST_CASE("SystemClock is a process-wide real clock", "[shard][clock]") {
  Clock* c = SystemClock();
  REQUIRE(c != nullptr);
  CHECK(c == SystemClock());
  absl::Time a = c->Now();
  CHECK(absl::AbsDuration(a - absl::Now()) < absl::Seconds(5));
}

}  // namespace
}  // namespace tributary
