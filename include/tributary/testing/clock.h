// Moving time in tests: tributary::ManualClock and helpers that advance it
// exactly past the deadlines Kinesis semantics depend on.
//
//   ManualClock clock;                    // re-exported as testing::ManualClock
//   testing::AdvancePastIteratorLifetime(clock);   // iterators taken before now expire
//   REQUIRE(testing::AdvancePastRetention(clock, *store, "orders").ok());
//
// "Past" means the deadline plus one millisecond (the store's resolution), so
// a record or iterator that was valid before the call is invalid after it,
// and nothing younger is affected beyond that millisecond.
//
// Thread safety: the helpers only call ManualClock::Advance (thread-safe) and
// the Store's thread-safe API.
#ifndef TRIBUTARY_TESTING_CLOCK_H_
#define TRIBUTARY_TESTING_CLOCK_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tributary/clock.h"
#include "tributary/options.h"
#include "tributary/store.h"

namespace tributary::testing {

using ::tributary::ManualClock;

// One tick of the store's time resolution (arrival times are milliseconds).
inline constexpr absl::Duration kTick = absl::Milliseconds(1);

// Every iterator issued at or before the current time expires
// (limits::kIteratorLifetime, 5 minutes, plus a tick).
void AdvancePastIteratorLifetime(ManualClock& clock);

// Every ListShards/ListStreams NextToken issued so far expires.
void AdvancePastNextTokenLifetime(ManualClock& clock);

// Every record that arrived at or before the current time expires under a
// retention period of `retention_hours` (default: Kinesis' 24 hours).
void AdvancePastRetention(ManualClock& clock, int retention_hours = limits::kDefaultRetentionHours);

// Same, with the retention period of `stream` read from the store.
// ResourceNotFoundException if the stream does not exist.
absl::Status AdvancePastRetention(ManualClock& clock, Store& store, std::string_view stream);

// A CREATING, UPDATING or DELETING period that began at or before now ends
// (StoreOptions::create_delay / update_delay / delete_delay, plus a tick).
void AdvancePastCreateDelay(ManualClock& clock, const StoreOptions& options);
void AdvancePastUpdateDelay(ManualClock& clock, const StoreOptions& options);
void AdvancePastDeleteDelay(ManualClock& clock, const StoreOptions& options);

// Advances `clock` until `stream` is ACTIVE, at most `limit`: the clock ends
// exactly at the end of the transition. REQUIRES: the store runs on `clock`
// (FailedPrecondition otherwise, so a test never waits on wall-clock time).
// DeadlineExceeded (ErrorType::kWaiterTimeout) past `limit`;
// ResourceNotFoundException if the stream does not exist or is DELETING.
absl::Status AdvanceUntilActive(ManualClock& clock, Store& store, std::string_view stream,
                                absl::Duration limit = absl::Hours(1));

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_CLOCK_H_
