// Randomized histories: hundreds of reshards (SplitShard, MergeShards,
// UpdateShardCount) interleaved with writes and with several workers of one
// consumer that poll, checkpoint, crash, pause (and lose their leases), shut
// down and join; everything on one thread and a ManualClock, so a seed
// replays exactly. The OrderingVerifier checks per-key order and
// completeness of what the workers delivered.
//
// The same kind of history read naively (children before parents, or all
// shards at once as a lineage-unaware reader does) breaks per-key order;
// the consumer on that very history does not.
//
//   build/tests/consumer_tests "[random]" --rng-seed 1234   # replay a seed
//   TRIBUTARY_RANDOM_STEPS=5000 build/tests/consumer_tests "[random]"
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "consume/consumer_util.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using consume_test::DrainAll;
using consume_test::MakeConsumer;
using consume_test::TestOptions;
using testing::AllShards;
using testing::OpenShards;
using testing::OrderingVerifier;
using testing::StoreFixture;

constexpr int kMaxOpenShards = 12;
constexpr int kKeys = 24;

int Steps(int fallback) {
  if (const char* env = std::getenv("TRIBUTARY_RANDOM_STEPS")) return std::max(1, std::atoi(env));
  return fallback;
}

// Writes and reshards; remembers every acknowledged record.
class History {
 public:
  History(StoreFixture& f, std::string stream, uint64_t seed)
      : f_(f), stream_(std::move(stream)), rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }
  // Acknowledges every record written from now on to `v` as well.
  void set_verifier(OrderingVerifier* v) { verifier_ = v; }

  void Write() {
    const int n = 1 + static_cast<int>(rng_() % 40);
    std::vector<std::string> keys, data;
    for (int i = 0; i < n; ++i) {
      std::string key = "key-" + std::to_string(rng_() % kKeys);
      data.push_back(key + "#" + std::to_string(next_[key]++));
      keys.push_back(std::move(key));
    }
    std::vector<PutRecordInput> in;
    for (int i = 0; i < n; ++i) in.push_back(testing::Input(keys[i], data[i]));
    auto r = f_->PutBatch(stream_, in);
    REQUIRE_OK(r);
    REQUIRE(r->failed_record_count == 0);
    for (int i = 0; i < n; ++i) {
      acked_.emplace_back(keys[i], *r->records[i].sequence_number);
      if (verifier_) verifier_->Acknowledged(keys[i], *r->records[i].sequence_number);
    }
  }

  // One SplitShard, MergeShards or UpdateShardCount; false if none applied.
  bool Reshard() {
    auto open = OpenShards(*f_, stream_);
    const int n = static_cast<int>(open.size());
    const int op = static_cast<int>(rng_() % 10);
    if (op < 4 && n < kMaxOpenShards) {
      const ShardDescription& s = open[rng_() % n];
      if (s.hash_key_range.WidthMinusOne() < 3) return false;
      REQUIRE_OK(f_->SplitShard(stream_, s.shard_id, s.hash_key_range.Midpoint()));
      ++splits_;
      return true;
    }
    if (op < 8 && n >= 2) {
      const size_t i = rng_() % (n - 1);
      // A shard with the one after it (Kinesis' order).
      REQUIRE_OK(f_->MergeShards(stream_, open[i].shard_id, open[i + 1].shard_id));
      ++merges_;
      return true;
    }
    const int lo = (n + 1) / 2, hi = std::min(2 * n, kMaxOpenShards);
    if (hi <= lo) return false;
    int target = lo + static_cast<int>(rng_() % (hi - lo + 1));
    if (target == n) target = target < hi ? target + 1 : target - 1;
    auto r = f_->UpdateShardCount(stream_, target);
    if (!r.ok()) {
      REQUIRE(GetErrorType(r.status()) == ErrorType::kLimitExceeded);  // 10 per 24 h
      return false;
    }
    ++scales_;
    return true;
  }

  void AcknowledgeTo(OrderingVerifier& v) const {
    for (const auto& [key, seq] : acked_) v.Acknowledged(key, seq);
  }
  size_t records() const { return acked_.size(); }
  int reshards() const { return splits_ + merges_ + scales_; }
  std::string Summary() const {
    return std::to_string(splits_) + " splits, " + std::to_string(merges_) + " merges, " +
           std::to_string(scales_) + " shard-count updates, " + std::to_string(acked_.size()) + " records";
  }

 private:
  StoreFixture& f_;
  const std::string stream_;
  std::mt19937_64 rng_;
  OrderingVerifier* verifier_ = nullptr;
  std::map<std::string, int> next_;
  std::vector<std::pair<std::string, SequenceNumber>> acked_;
  int splits_ = 0, merges_ = 0, scales_ = 0;
};

StoreOptions RandomStoreOptions() {
  StoreOptions o;
  o.shard_limit = 200;
  return o;
}

void KeepEverything(StoreFixture& f, const std::string& stream) {
  // The clock moves for hours; no record may expire in these tests.
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod(stream, limits::kMaxRetentionHours));
}

struct Worker {
  std::unique_ptr<Consumer> consumer;
  int paused_until = -1;  // step; a paused worker is not polled (its leases may expire)
};

TEST_CASE("randomized histories: several workers keep per-key order through reshards, crashes and takeovers",
          "[consume][random]") {
  const uint64_t seed = Catch::rngSeed();
  const int steps = Steps(1400);
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << "), steps " << steps);
  StoreFixture f(RandomStoreOptions());
  const std::string stream = "random";
  REQUIRE_OK(f->CreateStream(stream, 3));
  KeepEverything(f, stream);
  History h(f, stream, seed);
  auto& rng = h.rng();

  OrderingVerifier v;  // at least once: crashes re-deliver
  h.set_verifier(&v);
  std::vector<Worker> workers;
  int next_worker = 0;
  auto join = [&] {
    ConsumerOptions o = TestOptions(stream, "app", "w" + std::to_string(next_worker++));
    o.max_records_per_batch = 1 + static_cast<int>(rng() % 60);
    workers.push_back(Worker{MakeConsumer(*f, o)});
  };
  join();
  join();
  int crashes = 0, pauses = 0, shutdowns = 0;
  // Full-length runs go on until they saw "hundreds of reshards".
  const int min_reshards = steps >= 1000 ? 250 : 0;
  for (int step = 0; step < steps || h.reshards() < min_reshards; ++step) {
    const int op = static_cast<int>(rng() % 100);
    INFO("step " << step << " op " << op);
    if (op < 35) {
      h.Write();
    } else if (op < 60) {
      h.Reshard();
    } else if (op < 90) {
      Worker& w = workers[rng() % workers.size()];
      if (w.paused_until > step) continue;
      const int polls = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < polls; ++i) {
        auto b = w.consumer->Poll();
        REQUIRE_OK(b);
        if (!b->has_value()) break;
        v.Delivered(**b);
        if (rng() % 2) REQUIRE_OK(w.consumer->Checkpoint(**b));
      }
    } else if (op < 93) {
      if (workers.size() > 1) {  // crash: gone without a word
        workers.erase(workers.begin() + static_cast<long>(rng() % workers.size()));
        ++crashes;
      }
    } else if (op < 95) {
      // Pause longer than a lease: its shards are taken over, and when it
      // comes back it finds out and lets them go.
      workers[rng() % workers.size()].paused_until = step + 20 + static_cast<int>(rng() % 40);
      ++pauses;
    } else if (op < 97) {
      if (workers.size() > 1) {
        const size_t i = rng() % workers.size();
        if (workers[i].paused_until <= step) {
          REQUIRE_OK(workers[i].consumer->Shutdown());
          workers.erase(workers.begin() + static_cast<long>(i));
          ++shutdowns;
        }
      }
    } else if (workers.size() < 5) {
      join();
    }
    f.clock.Advance(absl::Milliseconds(static_cast<int64_t>(rng() % 1500)));
  }
  std::vector<Consumer*> live;
  for (Worker& w : workers) live.push_back(w.consumer.get());
  DrainAll(f.clock, live, &v);

  uint64_t taken = 0, lost = 0;
  for (Consumer* c : live) {
    taken += c->stats().leases_taken;
    lost += c->stats().leases_lost;
  }
  INFO(h.Summary() << "; " << crashes << " crashes, " << pauses << " pauses, " << shutdowns
                   << " shutdowns; live workers took " << taken << " leases and lost " << lost);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
  CHECK(report.distinct == h.records());
  if (steps >= 1000) {
    CHECK(h.reshards() >= 250);  // "hundreds of reshards"
    CHECK(crashes > 0);
    CHECK(taken > 0);
  }
  // Every closed shard ended at SHARD_END, every open one is checkpointed
  // no later than its last record.
  auto table = LeaseTableFor(*f);
  REQUIRE_OK(table);
  auto leases = (*table)->ListLeases(LeaseScope{"app", stream});
  REQUIRE_OK(leases);
  std::map<std::string, const Lease*> by_id;
  for (const Lease& l : *leases) by_id[l.shard_id] = &l;
  for (const ShardDescription& s : AllShards(*f, stream)) {
    INFO(s.shard_id);
    REQUIRE(by_id.count(s.shard_id));
    if (s.state == ShardState::kClosed) CHECK(by_id[s.shard_id]->checkpoint.is_shard_end());
  }
}

// ------------------------------------------------------------ naive readers

// A history built first, with no reader: writes between reshards.
void BuildHistory(History& h, int reshards) {
  while (h.reshards() < reshards) {
    h.Write();
    h.Write();
    h.Reshard();
  }
  h.Write();
}

TEST_CASE("naive child-first reading breaks per-key order where the consumer keeps it",
          "[consume][random][naive]") {
  const uint64_t seed = Catch::rngSeed();
  INFO("seed " << seed);
  StoreFixture f(RandomStoreOptions());
  const std::string stream = "history";
  REQUIRE_OK(f->CreateStream(stream, 2));
  KeepEverything(f, stream);
  History h(f, stream, seed);
  BuildHistory(h, 60);
  INFO(h.Summary());
  auto shards = AllShards(*f, stream);

  SECTION("children before parents") {
    OrderingVerifier naive;
    h.AcknowledgeTo(naive);
    std::sort(shards.begin(), shards.end(), [](const ShardDescription& a, const ShardDescription& b) {
      return a.shard_id > b.shard_id;  // newest (children) first
    });
    for (const ShardDescription& s : shards) {
      naive.Delivered(s.shard_id, testing::ReadShard(*f, stream, s.shard_id).records);
    }
    auto report = naive.Check();
    INFO(report.ToString());
    CHECK(report.missing == 0);
    CHECK(report.out_of_order > 0);
  }
  SECTION("every shard at once, lineage ignored (batches of 5, round robin)") {
    OrderingVerifier naive;
    h.AcknowledgeTo(naive);
    std::map<std::string, std::optional<std::string>> iterators;
    for (const ShardDescription& s : shards)
      iterators[s.shard_id] = testing::Iterator(*f, stream, s.shard_id);
    for (bool any = true; any;) {
      any = false;
      for (auto& [id, it] : iterators) {
        if (!it) continue;
        auto r = f->GetRecords(*it, 5);
        REQUIRE_OK(r);
        naive.Delivered(id, r->records);
        it = r->records.empty() ? std::nullopt : r->next_shard_iterator;
        any = any || it.has_value();
      }
    }
    auto report = naive.Check();
    INFO(report.ToString());
    CHECK(report.missing == 0);
    CHECK(report.out_of_order > 0);
  }
  SECTION("the ordered consumer on the same history") {
    OrderingVerifier::Options exact;
    exact.guarantee = testing::DeliveryGuarantee::kExactlyOnce;
    OrderingVerifier v(exact);
    h.AcknowledgeTo(v);
    ConsumerOptions o = TestOptions(stream, "app", "w");
    o.max_records_per_batch = 5;
    auto c = MakeConsumer(*f, o);
    auto d = MakeConsumer(*f, TestOptions(stream, "app", "x"));
    DrainAll(f.clock, {c.get(), d.get()}, &v);
    auto report = v.Check();
    INFO(report.ToString());
    CHECK(report.ok());
    CHECK(report.distinct == h.records());
  }
}

}  // namespace
}  // namespace tributary
