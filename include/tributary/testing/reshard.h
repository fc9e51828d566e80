// Forcing a reshard in the middle of a test.
//
//   // Split whichever shard "customer-42" routes to, at the middle of its range,
//   // and move the store's ManualClock until the stream is ACTIVE again:
//   ASSIGN_OR_FAIL(testing::Reshard r, testing::SplitShardForKey(*store, "orders", "customer-42"));
//   // r.parents == {"shardId-000000000000"}, r.children == {"...2", "...3"}
//   ASSIGN_OR_FAIL(r, testing::MergeWithNeighbour(*store, "orders", r.children[0]));
//
// Each helper issues one SplitShard or MergeShards and then, unless told not
// to, waits for the stream to be ACTIVE again by advancing the store's
// ManualClock (no wall-clock sleeping; FailedPrecondition if the store's
// clock is not a ManualClock and the stream would have to be waited for).
// With Wait::kNo the reshard stays pending (the stream UPDATING, parents
// still OPEN) so a test can act in between; call WaitForActive later.
//
// Errors are the Store's (ResourceInUseException while the stream is
// UPDATING, ResourceNotFoundException for unknown streams or shards, ...).
// Thread safety: as the Store; a reshard racing with the test's own reshards
// gets ResourceInUseException.
#ifndef TRIBUTARY_TESTING_RESHARD_H_
#define TRIBUTARY_TESTING_RESHARD_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tributary/store.h"
#include "tributary/types.h"

namespace tributary::testing {

enum class Wait { kUntilActive, kNo };

// What a reshard did: the shard(s) it closed and the shard(s) it opened
// (children is empty with Wait::kNo and a non-zero update delay: the
// children do not exist before UPDATING ends).
struct Reshard {
  std::vector<std::string> parents;
  std::vector<std::string> children;  // by shard id
};

// Every shard of `stream` that is not EXPIRED (all ListShards pages).
absl::StatusOr<std::vector<ShardDescription>> ListAllShards(Store& store, std::string_view stream);

// The OPEN shard whose hash-key range holds MD5(partition_key).
absl::StatusOr<ShardDescription> OpenShardForKey(Store& store, std::string_view stream,
                                                 std::string_view partition_key);

// Splits the open shard holding MD5(partition_key) at the midpoint of its
// range (HashKeyRange::Midpoint).
absl::StatusOr<Reshard> SplitShardForKey(Store& store, std::string_view stream,
                                         std::string_view partition_key,
                                         Wait wait = Wait::kUntilActive);

// Splits `shard_id` at `new_starting_hash_key` (default: the midpoint).
absl::StatusOr<Reshard> SplitShardAt(Store& store, std::string_view stream, std::string_view shard_id,
                                     std::optional<HashKey> new_starting_hash_key = std::nullopt,
                                     Wait wait = Wait::kUntilActive);

// Merges the open shard `shard_id` with the open shard right after it in
// hash-key order (or, for the last one, right before it). The lower shard
// is always ShardToMerge, as Kinesis wants (Reshard::parents lists it
// first). InvalidArgument (InvalidArgumentException) if the stream has a
// single open shard.
absl::StatusOr<Reshard> MergeWithNeighbour(Store& store, std::string_view stream,
                                           std::string_view shard_id, Wait wait = Wait::kUntilActive);

// Store::MergeShards plus the wait.
absl::StatusOr<Reshard> MergeShards(Store& store, std::string_view stream, std::string_view shard,
                                    std::string_view adjacent_shard, Wait wait = Wait::kUntilActive);

// Returns once `stream` is ACTIVE: at once if it is, otherwise by advancing
// the store's ManualClock to the end of the transition. FailedPrecondition
// if the store's clock is not a ManualClock and the stream is not ACTIVE.
absl::Status WaitForActive(Store& store, std::string_view stream);

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_RESHARD_H_
