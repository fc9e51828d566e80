// Resharding tour: keyed records keep flowing while a shard is split and two
// shards are merged; then every shard is read back parents-before-children
// (a shard only after all its parents were read to the end), and per-key
// order is checked. Exits 1 if any key's counters arrive out of order.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "tributary/tributary.h"

using namespace tributary;  // NOLINT: a short example

constexpr char kStream[] = "tour";
constexpr int kKeys = 8;
constexpr int kPerPhase = 800;  // records written before, between and after the reshards

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  fmt::print(stderr, "{}: {} ({})\n", what, s.ToString(), ErrorTypeName(GetErrorType(s)));
  std::exit(2);
}
template <typename T>
T Check(absl::StatusOr<T> v, const char* what) {
  Check(v.status(), what);
  return *std::move(v);
}

// A range as percentages of the key space, e.g. "[ 25%,  50%)" for the
// second quarter (the range is closed; its end + 1 is shown).
std::string Short(const HashKeyRange& r) {
  auto pct = [](absl::uint128 top) {
    return static_cast<double>(top) * 100 / 18446744073709551616.0;
  };
  return fmt::format("[{:3.0f}%,{:4.0f}%)", pct(absl::Uint128High64(r.start.value())),
                     pct(absl::uint128(absl::Uint128High64(r.end.value())) + 1));
}

std::vector<ShardDescription> Shards(Store& store) {
  return Check(store.ListShards({.stream = kStream}), "ListShards").shards;
}

int main() {
  auto store = Check(Store::OpenInMemory(), "OpenInMemory");
  Check(store->CreateStream(kStream, 2), "CreateStream");
  fmt::print("created stream '{}' with 2 shards\n", kStream);

  std::vector<int> written(kKeys, 0);  // per-key counter, carried in the data
  auto write = [&](int n) {
    for (int i = 0; i < n; ++i) {
      int k = i % kKeys;
      std::string key = fmt::format("sensor-{}", k), data = std::to_string(++written[k]);
      Check(store->Put(kStream, {.partition_key = key, .data = data}), "Put");
    }
    fmt::print("  wrote {} records over {} keys\n", n, kKeys);
  };

  write(kPerPhase);
  ShardDescription first = Shards(*store)[0];  // split it at its midpoint
  HashKeyRange r = first.hash_key_range;
  HashKey mid(r.start.value() + r.WidthMinusOne() / 2 + 1);
  Check(store->SplitShard(kStream, first.shard_id, mid.ToString()), "SplitShard");
  Check(store->WaitUntilActive(kStream, absl::Seconds(30)), "WaitUntilActive");
  fmt::print("split {} at its midpoint\n", first.shard_id);
  write(kPerPhase);
  std::vector<ShardDescription> open;  // merge the last two adjacent open shards
  for (const ShardDescription& s : Shards(*store))
    if (s.state == ShardState::kOpen) open.push_back(s);
  std::sort(open.begin(), open.end(),
            [](auto& a, auto& b) { return a.hash_key_range.start < b.hash_key_range.start; });
  const ShardDescription &lo = open[open.size() - 2], &hi = open.back();
  Check(store->MergeShards(kStream, lo.shard_id, hi.shard_id), "MergeShards");
  Check(store->WaitUntilActive(kStream, absl::Seconds(30)), "WaitUntilActive");
  fmt::print("merged {} + {}\n", lo.shard_id, hi.shard_id);
  write(kPerPhase);

  // Read parents before children: a shard is ready once every listed parent
  // has been read to its end (an expired parent is no longer listed).
  std::vector<ShardDescription> shards = Shards(*store);
  std::set<std::string> done, listed;
  for (const ShardDescription& s : shards) listed.insert(s.shard_id);
  std::map<std::string, int> held;
  std::vector<int> last(kKeys, 0);
  int read = 0, out_of_order = 0;
  std::string order;
  for (size_t pass = 0; done.size() < shards.size() && pass < shards.size(); ++pass) {
    for (const ShardDescription& s : shards) {
      bool ready = !done.count(s.shard_id);
      for (const auto& p : {s.parent_shard_id, s.adjacent_parent_shard_id})
        if (p && listed.count(*p) && !done.count(*p)) ready = false;
      if (!ready) continue;
      std::string it = Check(store->GetShardIterator({.stream = kStream, .shard_id = s.shard_id}),
                             "GetShardIterator");
      while (true) {  // to the end: no next iterator (closed) or caught up (open)
        GetRecordsResult got = Check(store->GetRecords(it, 1000), "GetRecords");
        for (const Record& rec : got.records) {
          int k = std::stoi(rec.partition_key.substr(7)), v = std::stoi(rec.data);
          if (v <= last[k]) ++out_of_order;
          last[k] = v;
          ++held[s.shard_id], ++read;
        }
        if (!got.next_shard_iterator || got.records.empty()) break;
        it = *got.next_shard_iterator;
      }
      done.insert(s.shard_id);
      order += fmt::format("{}{}", order.empty() ? "" : " -> ", *ParseShardId(s.shard_id));
    }
  }

  fmt::print("\n{:<21} {:<12} {:<7} {:<42} {:>7}\n", "shard", "hash keys", "state", "parents",
             "records");
  for (const ShardDescription& s : shards) {
    std::string parents = s.parent_shard_id.value_or("-");
    if (s.adjacent_parent_shard_id) parents += " + " + *s.adjacent_parent_shard_id;
    fmt::print("{:<21} {:<12} {:<7} {:<42} {:>7}\n", s.shard_id, Short(s.hash_key_range),
               ToString(s.state), parents, held[s.shard_id]);
  }
  fmt::print("\nread parents before children, in shard order {}\n", order);
  if (out_of_order > 0 || read != 3 * kPerPhase) {
    fmt::print("ORDER BROKEN: {} records out of order; read {} of {}\n", out_of_order, read,
               3 * kPerPhase);
    return 1;
  }
  fmt::print("order held for all {} keys: {} records read in per-key order\n", kKeys, read);
  return 0;
}
