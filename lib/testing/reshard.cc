#include "tributary/testing/reshard.h"

#include <fmt/format.h>

#include <algorithm>

#include "tributary/clock.h"
#include "tributary/status.h"

namespace tributary::testing {
namespace {

// The shards opened by the reshard that closed `parents` (after it applied).
absl::StatusOr<std::vector<std::string>> ChildrenOf(Store& store, std::string_view stream,
                                                    const std::vector<std::string>& parents) {
  absl::StatusOr<std::vector<ShardDescription>> all = ListAllShards(store, stream);
  if (!all.ok()) return all.status();
  std::vector<std::string> out;
  for (const ShardDescription& s : *all) {
    bool child = false;
    for (const std::string& p : parents) {
      child |= s.parent_shard_id == p || s.adjacent_parent_shard_id == p;
    }
    if (child) out.push_back(s.shard_id);
  }
  return out;
}

absl::StatusOr<Reshard> Finish(Store& store, std::string_view stream, Reshard r, Wait wait) {
  if (wait == Wait::kNo) {
    // With a zero update delay the reshard already applied.
    absl::StatusOr<StreamDescriptionSummary> d = store.DescribeStreamSummary(stream);
    if (!d.ok()) return d.status();
    if (d->stream_status != StreamStatus::kActive) return r;
  } else if (absl::Status s = WaitForActive(store, stream); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<std::string>> children = ChildrenOf(store, stream, r.parents);
  if (!children.ok()) return children.status();
  r.children = std::move(*children);
  return r;
}

absl::StatusOr<std::vector<ShardDescription>> OpenShardsByRange(Store& store, std::string_view stream) {
  absl::StatusOr<std::vector<ShardDescription>> all = ListAllShards(store, stream);
  if (!all.ok()) return all.status();
  std::vector<ShardDescription> open;
  for (ShardDescription& s : *all) {
    if (s.state == ShardState::kOpen) open.push_back(std::move(s));
  }
  std::sort(open.begin(), open.end(), [](const ShardDescription& a, const ShardDescription& b) {
    return a.hash_key_range.start < b.hash_key_range.start;
  });
  return open;
}

}  // namespace

absl::StatusOr<std::vector<ShardDescription>> ListAllShards(Store& store, std::string_view stream) {
  std::vector<ShardDescription> out;
  ListShardsRequest req;
  req.stream = std::string(stream);
  while (true) {
    absl::StatusOr<ListShardsResult> page = store.ListShards(req);
    if (!page.ok()) return page.status();
    for (ShardDescription& s : page->shards) out.push_back(std::move(s));
    if (!page->next_token.has_value()) return out;
    req = ListShardsRequest();
    req.next_token = page->next_token;
  }
}

absl::StatusOr<ShardDescription> OpenShardForKey(Store& store, std::string_view stream,
                                                 std::string_view partition_key) {
  absl::StatusOr<std::vector<ShardDescription>> open = OpenShardsByRange(store, stream);
  if (!open.ok()) return open.status();
  const HashKey k = HashKey::FromPartitionKey(partition_key);
  for (ShardDescription& s : *open) {
    // `s` is an element of *open, not a local: without the move it is copied.
    // cppcheck-suppress returnStdMoveLocal
    if (s.hash_key_range.Contains(k)) return std::move(s);
  }
  return InternalFailureError(
      fmt::format("no open shard of stream {} holds hash key {}", stream, k.ToString()));
}

absl::StatusOr<Reshard> SplitShardForKey(Store& store, std::string_view stream,
                                         std::string_view partition_key, Wait wait) {
  absl::StatusOr<ShardDescription> s = OpenShardForKey(store, stream, partition_key);
  if (!s.ok()) return s.status();
  return SplitShardAt(store, stream, s->shard_id, s->hash_key_range.Midpoint(), wait);
}

absl::StatusOr<Reshard> SplitShardAt(Store& store, std::string_view stream, std::string_view shard_id,
                                     std::optional<HashKey> new_starting_hash_key, Wait wait) {
  if (!new_starting_hash_key.has_value()) {
    absl::StatusOr<std::vector<ShardDescription>> all = ListAllShards(store, stream);
    if (!all.ok()) return all.status();
    for (const ShardDescription& s : *all) {
      if (s.shard_id == shard_id) new_starting_hash_key = s.hash_key_range.Midpoint();
    }
    if (!new_starting_hash_key.has_value()) {
      return ResourceNotFoundError(fmt::format("Shard {} in stream {} does not exist", shard_id, stream));
    }
  }
  if (absl::Status st = store.SplitShard(stream, shard_id, *new_starting_hash_key); !st.ok()) return st;
  return Finish(store, stream, Reshard{{std::string(shard_id)}, {}}, wait);
}

absl::StatusOr<Reshard> MergeWithNeighbour(Store& store, std::string_view stream,
                                           std::string_view shard_id, Wait wait) {
  absl::StatusOr<std::vector<ShardDescription>> open = OpenShardsByRange(store, stream);
  if (!open.ok()) return open.status();
  for (size_t i = 0; i < open->size(); ++i) {
    if ((*open)[i].shard_id != shard_id) continue;
    if (open->size() < 2) {
      return InvalidArgumentError(
          fmt::format("stream {} has one open shard; {} has no neighbour to merge with", stream, shard_id));
    }
    // Kinesis merges a shard with the one after it: the left one first.
    if (i + 1 < open->size()) return MergeShards(store, stream, shard_id, (*open)[i + 1].shard_id, wait);
    return MergeShards(store, stream, (*open)[i - 1].shard_id, shard_id, wait);
  }
  return ResourceNotFoundError(
      fmt::format("Shard {} is not an open shard of stream {}", shard_id, stream));
}

absl::StatusOr<Reshard> MergeShards(Store& store, std::string_view stream, std::string_view shard,
                                    std::string_view adjacent_shard, Wait wait) {
  if (absl::Status st = store.MergeShards(stream, shard, adjacent_shard); !st.ok()) return st;
  return Finish(store, stream, Reshard{{std::string(shard), std::string(adjacent_shard)}, {}}, wait);
}

absl::Status WaitForActive(Store& store, std::string_view stream) {
  absl::StatusOr<StreamDescriptionSummary> d = store.DescribeStreamSummary(stream);
  if (!d.ok()) return d.status();
  if (d->stream_status == StreamStatus::kActive) return absl::OkStatus();
  if (dynamic_cast<ManualClock*>(store.options().clock) == nullptr) {
    return absl::FailedPreconditionError(fmt::format(
        "stream {} is {}; waiting for ACTIVE needs a store on a ManualClock (StoreOptions::clock) "
        "so the test does not sleep",
        stream, ToString(d->stream_status)));
  }
  // SleepFor on a ManualClock advances it: this returns at the exact end of
  // the transition. The limit only guards against a stream that never ends.
  return store.WaitUntilActive(stream, absl::Hours(24 * 365));
}

}  // namespace tributary::testing
