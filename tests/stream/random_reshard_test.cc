// Randomized resharding under concurrent writes.
//
// The main thread runs random SplitShard / MergeShards / UpdateShardCount
// steps while two producer threads put records (one with Put, one with
// PutBatch) and a reader thread reads random shards. After every step the open
// shards must partition [0, 2^128-1] exactly, and lineage/closing invariants
// must hold. At the end every shard is read parents-before-children and every
// acknowledged record must be read exactly once, per partition key in put
// order.
//
// Seeded from Catch's --rng-seed (printed on failure). The number of steps
// defaults to a few hundred; TRIBUTARY_RANDOM_STEPS overrides it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::ReadShard;
using testing::StoreFixture;

constexpr int kProducers = 2;
constexpr int kKeysPerProducer = 25;
constexpr int kPutsPerStep = 8;
constexpr int kMaxOpenShards = 24;

int Steps() {
  if (const char* env = std::getenv("TRIBUTARY_RANDOM_STEPS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return 300;
}

struct Put {
  std::string key;
  int n;
  SequenceNumber seq;
  std::string shard;
};

// Uniform in [lo, hi] over 128-bit values.
absl::uint128 Uniform128(std::mt19937_64& rng, absl::uint128 lo, absl::uint128 hi) {
  absl::uint128 span = hi - lo;
  absl::uint128 r = absl::MakeUint128(rng(), rng());
  if (span == absl::Uint128Max()) return r;
  return lo + r % (span + 1);
}

// Checks lineage invariants on a full listing; returns "" or a description.
std::string LineageProblem(const std::vector<ShardDescription>& all) {
  std::map<std::string, const ShardDescription*> by_id;
  for (const auto& s : all) by_id[s.shard_id] = &s;
  for (const auto& s : all) {
    if (s.state == ShardState::kClosed && !s.ending_sequence_number) {
      return s.shard_id + " is CLOSED without an ending sequence number";
    }
    if (s.state == ShardState::kOpen && s.ending_sequence_number) {
      return s.shard_id + " is OPEN with an ending sequence number";
    }
    for (const auto& p : {s.parent_shard_id, s.adjacent_parent_shard_id}) {
      if (!p) continue;
      auto it = by_id.find(*p);
      if (it == by_id.end()) continue;  // expired parents are not listed
      const ShardDescription& parent = *it->second;
      if (parent.state != ShardState::kClosed) return s.shard_id + " has a parent that is not CLOSED: " + *p;
      if (!(s.starting_sequence_number > *parent.ending_sequence_number)) {
        return s.shard_id + " starts at or below its parent's end: " + *p;
      }
      if (!(ParseShardId(*p).value() < ParseShardId(s.shard_id).value())) {
        return s.shard_id + " has a parent with a higher index: " + *p;
      }
    }
  }
  return "";
}

TEST_CASE("random splits, merges and rescales under concurrent puts", "[stream][random][slow][reshard]") {
  const unsigned seed = Catch::rngSeed();
  const int steps = Steps();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << "), steps " << steps);
  std::mt19937_64 rng(seed);

  StoreOptions options;
  options.shard_limit = 100;
  StoreFixture f(options);
  const std::string stream = "random";
  REQUIRE_OK(f->CreateStream(stream, 2));
  // Keep every record for the whole run: the clock moves ~100 hours.
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod(stream, limits::kMaxRetentionHours));

  // ---- producers, gated so that they write while each step runs
  std::mutex mu;
  std::condition_variable cv;
  int quota = kPutsPerStep;  // guarded by mu
  bool stop = false;         // guarded by mu
  std::vector<std::vector<Put>> puts(kProducers);
  std::vector<std::string> producer_errors;  // guarded by mu
  std::vector<std::thread> producers;
  auto record_error = [&](std::string e) {
    std::lock_guard<std::mutex> l(mu);
    producer_errors.push_back(std::move(e));
  };
  // Producer 0 uses Put, producer 1 PutBatch with 1..12 records per call.
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::vector<int> next(kKeysPerProducer, 0);
      std::mt19937 local(seed + 17 * (p + 1));
      int done = 0;
      for (;;) {
        int allowed;
        {
          std::unique_lock<std::mutex> l(mu);
          cv.wait(l, [&] { return stop || done < quota; });
          if (stop) return;
          allowed = quota - done;
        }
        const int batch = p == 0 ? 1 : std::min(allowed, 1 + static_cast<int>(local() % 12));
        std::vector<std::string> keys, data;
        std::vector<int> ns;
        for (int i = 0; i < batch; ++i) {
          int k = static_cast<int>(local() % kKeysPerProducer);
          keys.push_back("p" + std::to_string(p) + "-key" + std::to_string(k));
          ns.push_back(next[k]++);
          data.push_back(keys.back() + "#" + std::to_string(ns.back()));
        }
        if (p == 0) {
          auto r = f->Put(stream, testing::Input(keys[0], data[0]));
          if (r.ok()) {
            puts[p].push_back({keys[0], ns[0], r->sequence_number, r->shard_id.ToString()});
          } else {
            record_error("put " + data[0] + ": " + testing::DescribeStatus(r.status()));
          }
        } else {
          std::vector<PutRecordInput> in;
          for (int i = 0; i < batch; ++i) in.push_back(testing::Input(keys[i], data[i]));
          auto r = f->PutBatch(stream, in);
          if (!r.ok()) {
            record_error("put batch: " + testing::DescribeStatus(r.status()));
          } else {
            for (int i = 0; i < batch; ++i) {
              const auto& e = r->records[i];
              if (e.ok() && e.sequence_number && e.shard_id) {
                puts[p].push_back({keys[i], ns[i], *e.sequence_number, e.shard_id->ToString()});
              } else {
                record_error("batch entry " + data[i] + ": " + e.error_code + " " + e.error_message);
              }
            }
          }
        }
        done += batch;
      }
    });
  }

  // A reader that reads random shards while the resharding goes on. It checks
  // only what holds at any moment: sequence numbers increase within a shard,
  // and a shard that ends names its children.
  std::atomic<bool> stop_reader{false};
  std::atomic<int> reader_reads{0};
  std::thread reader([&] {
    std::mt19937 local(seed + 1000);
    while (!stop_reader.load()) {
      ListShardsRequest lr;
      lr.stream = stream;
      auto listed = f->ListShards(lr);
      if (!listed.ok()) {
        record_error("reader list: " + testing::DescribeStatus(listed.status()));
        return;
      }
      const auto& shards = listed->shards;
      if (shards.empty()) continue;
      const ShardDescription& s = shards[local() % shards.size()];
      GetShardIteratorRequest ir;
      ir.stream = stream;
      ir.shard_id = s.shard_id;
      auto it = f->GetShardIterator(ir);
      if (!it.ok()) {
        record_error("reader iterator " + s.shard_id + ": " + testing::DescribeStatus(it.status()));
        return;
      }
      std::string iter = *it;
      SequenceNumber prev;
      for (int calls = 0; calls < 20; ++calls) {
        auto r = f->GetRecords(iter, 1 + static_cast<int>(local() % 100));
        if (!r.ok()) {
          // The main thread may move the clock past the iterator's 5 minutes.
          if (GetErrorType(r.status()) != ErrorType::kExpiredIterator) {
            record_error("reader get " + s.shard_id + ": " + testing::DescribeStatus(r.status()));
          }
          break;
        }
        reader_reads.fetch_add(1);
        for (const auto& rec : r->records) {
          if (!(rec.sequence_number > prev)) record_error("reader saw a sequence number go down in " + s.shard_id);
          prev = rec.sequence_number;
        }
        if (!r->next_shard_iterator) {
          if (r->child_shards.empty()) record_error("reader: " + s.shard_id + " ended without children");
          break;
        }
        if (r->records.empty()) break;
        iter = *r->next_shard_iterator;
      }
    }
  });

  // ---- random resharding
  std::deque<absl::Time> rescales;  // successful UpdateShardCount calls
  int splits = 0, merges = 0, scales = 0, scale_limited = 0;
  for (int step = 0; step < steps; ++step) {
    auto open = OpenShards(*f, stream);
    const int n = static_cast<int>(open.size());
    const int op = static_cast<int>(rng() % 100);
    INFO("step " << step << ", op roll " << op << ", " << n << " open shards");
    if (op < 35 && n < kMaxOpenShards) {
      // Split a shard wide enough to have a key strictly inside (start+1 < k < end).
      std::vector<const ShardDescription*> splittable;
      for (const auto& s : open) {
        if (s.hash_key_range.WidthMinusOne() >= 3) splittable.push_back(&s);
      }
      if (!splittable.empty()) {
        const ShardDescription& s = *splittable[rng() % splittable.size()];
        HashKey k(Uniform128(rng, s.hash_key_range.start.value() + 2, s.hash_key_range.end.value() - 1));
        INFO("split " << s.shard_id << " " << s.hash_key_range << " at " << k);
        REQUIRE_OK(f->SplitShard(stream, s.shard_id, k.ToString()));
        ++splits;
      }
    } else if (op < 70 && n >= 2) {
      size_t i = rng() % (n - 1);
      const std::string& a = open[i].shard_id;
      const std::string& b = open[i + 1].shard_id;
      INFO("merge " << a << " " << open[i].hash_key_range << " + " << b << " " << open[i + 1].hash_key_range);
      // Kinesis merges a shard with the one after it; the other way round
      // the pair is not adjacent (InvalidArgumentException).
      if (rng() % 2) CHECK_ERROR(f->MergeShards(stream, b, a), ErrorType::kInvalidArgument);
      REQUIRE_OK(f->MergeShards(stream, a, b));
      ++merges;
    } else if (op < 90) {
      const int lo = (n + 1) / 2;
      const int hi = std::min(2 * n, kMaxOpenShards);
      int target = lo + static_cast<int>(rng() % (hi - lo + 1));
      if (target == n) target = n < hi ? n + 1 : lo;
      if (target != n) {
        const absl::Time now = f.clock.Now();
        while (!rescales.empty() && rescales.front() < now - absl::Hours(24)) rescales.pop_front();
        const bool on_boundary = !rescales.empty() && rescales.front() == now - absl::Hours(24);
        INFO("UpdateShardCount " << n << " -> " << target << " with " << rescales.size()
                                 << " rescales in the last 24h");
        auto r = f->UpdateShardCount(stream, target);
        if (on_boundary) {
          // Either answer is defensible exactly at the window's edge.
        } else if (rescales.size() >= static_cast<size_t>(limits::kMaxRescalingsPer24h)) {
          CHECK_ERROR(r, ErrorType::kLimitExceeded);
        } else {
          REQUIRE_OK(r);
        }
        if (r.ok()) {
          rescales.push_back(now);
          ++scales;
          auto after = OpenShards(*f, stream);
          REQUIRE(after.size() == static_cast<size_t>(target));
        } else {
          ++scale_limited;
        }
      }
    }
    // Move time on; sometimes less than a millisecond, sometimes many minutes.
    f.clock.Advance(absl::Microseconds(static_cast<int64_t>(rng() % (40LL * 60 * 1000000))));

    // Invariants after every step (producers are still writing).
    auto now_open = OpenShards(*f, stream);
    REQUIRE(PartitionProblem(now_open) == "");
    ListShardsRequest latest;
    latest.stream = stream;
    latest.shard_filter = ShardFilter{ShardFilterType::kAtLatest, std::nullopt, std::nullopt};
    auto listed_latest = f->ListShards(latest);
    REQUIRE_OK(listed_latest);
    CHECK(testing::ShardIds(listed_latest->shards) == testing::ShardIds(now_open));
    REQUIRE(LineageProblem(AllShards(*f, stream)) == "");

    {
      std::lock_guard<std::mutex> l(mu);
      quota += kPutsPerStep;
    }
    cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
  }
  cv.notify_all();
  for (auto& t : producers) t.join();
  stop_reader = true;
  reader.join();
  CHECK(reader_reads.load() > 0);
  INFO(splits << " splits, " << merges << " merges, " << scales << " rescales, " << scale_limited
              << " rescales refused by the 24h limit");
  for (const auto& e : producer_errors) FAIL_CHECK(e);
  REQUIRE(producer_errors.empty());

  // ---- read everything, parents before children (ids ascend along lineage)
  auto all = AllShards(*f, stream);
  REQUIRE(LineageProblem(all) == "");
  std::map<std::string, std::set<std::string>> children_of;
  for (const auto& s : all) {
    if (s.parent_shard_id) children_of[*s.parent_shard_id].insert(s.shard_id);
    if (s.adjacent_parent_shard_id) children_of[*s.adjacent_parent_shard_id].insert(s.shard_id);
  }
  std::sort(all.begin(), all.end(), [](const ShardDescription& a, const ShardDescription& b) {
    return ParseShardId(a.shard_id).value() < ParseShardId(b.shard_id).value();
  });

  std::map<std::pair<std::string, int>, const Put*> expected;
  size_t total = 0;
  for (const auto& per : puts) {
    for (const auto& p : per) {
      REQUIRE(expected.emplace(std::make_pair(p.key, p.n), &p).second);
      ++total;
    }
  }
  REQUIRE(total > 0);

  std::map<std::pair<std::string, int>, int> seen;
  std::map<std::string, int> next_n;
  size_t read_total = 0;
  for (const auto& s : all) {
    INFO("reading " << s.shard_id << " " << ToString(s.state));
    auto r = ReadShard(*f, stream, s.shard_id);
    if (s.state == ShardState::kClosed) {
      CHECK(r.reached_end);
      std::set<std::string> announced;
      for (const auto& c : r.child_shards) announced.insert(c.shard_id);
      CHECK(announced == children_of[s.shard_id]);
      if (!r.records.empty()) CHECK(r.records.back().sequence_number == *s.ending_sequence_number);
    } else {
      CHECK_FALSE(r.reached_end);
    }
    SequenceNumber prev;
    for (const auto& rec : r.records) {
      ++read_total;
      CHECK(rec.sequence_number > prev);
      CHECK(rec.sequence_number >= s.starting_sequence_number);
      prev = rec.sequence_number;
      CHECK(s.hash_key_range.Contains(HashKey::FromPartitionKey(rec.partition_key)));
      const int n = std::stoi(rec.data.substr(rec.data.find('#') + 1));
      auto key = std::make_pair(rec.partition_key, n);
      INFO("record " << rec.data);
      CHECK(++seen[key] == 1);
      auto it = expected.find(key);
      REQUIRE(it != expected.end());
      CHECK(it->second->seq == rec.sequence_number);
      CHECK(it->second->shard == s.shard_id);
      // Per partition key, records come in put order.
      CHECK(n == next_n[rec.partition_key]);
      next_n[rec.partition_key] = n + 1;
    }
  }
  CHECK(read_total == total);
  CHECK(seen.size() == total);
}

}  // namespace
}  // namespace tributary
