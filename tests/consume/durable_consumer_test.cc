// The consumer on a durable store (Store::Open): checkpoints live in the
// store's directory, so a consumer restarted over a reopened store resumes
// after its last checkpoint: at least once, never a gap.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "consume/consumer_util.h"
#include "testing/fault_env.h"
#include "testing/scratch_dir.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using consume_test::DrainAll;
using consume_test::MakeConsumer;
using consume_test::PollUntilIdle;
using consume_test::Producer;
using consume_test::TestOptions;
using testing::FaultEnv;
using testing::OpenShards;
using testing::OrderingVerifier;

// A scratch directory under this executable's part of the build tree.
struct TempDir : testing::ScratchDir {
  TempDir() : testing::ScratchDir(TRIBUTARY_CONSUMER_TEST_TMPDIR) {}
};

// A durable store on the POSIX Env in a scratch directory, reopened at will.
struct DurableStore {
  TempDir tmp;
  ManualClock clock;
  StoreOptions options;
  std::unique_ptr<Store> store;
  DurableStore() {
    options.clock = &clock;
    Open();
  }
  void Open() {
    store.reset();
    auto s = Store::Open(tmp.path + "/store", options);
    REQUIRE_OK(s);
    store = std::move(s).value();
  }
  Store& operator*() { return *store; }
  Store* operator->() { return store.get(); }
};

TEST_CASE("durable store: a restarted consumer resumes after its checkpoint, at least once, never a gap",
          "[consume][durable][checkpoint]") {
  DurableStore d;
  REQUIRE_OK(d->CreateStream("s", 2));
  OrderingVerifier v;
  std::mt19937_64 rng(17);
  {
    Producer p(*d, "s", &v);
    p.PutMany(300, 12, rng);
  }
  const bool graceful = GENERATE(false, true);
  INFO((graceful ? "graceful Shutdown" : "crash") << " before the store closes");
  // Per shard: records delivered, and how many of them were checkpointed.
  std::map<std::string, std::pair<uint64_t, uint64_t>> first_run;
  {
    ConsumerOptions o = TestOptions("s", "app", "w1");
    o.max_records_per_batch = 20;
    auto c = MakeConsumer(*d, o);
    for (int i = 0; i < 7; ++i) {
      auto b = c->Poll();
      REQUIRE_OK(b);
      REQUIRE(b->has_value());
      v.Delivered(**b);
      auto& [delivered, checkpointed] = first_run[(*b)->shard_id];
      delivered += (*b)->records.size();
      if (i % 3 != 2) {
        REQUIRE_OK(c->Checkpoint(**b));
        checkpointed = delivered;
      }
    }
    if (graceful) REQUIRE_OK(c->Shutdown());
  }
  // Close and reopen the store; write more, and reshard, in between.
  d.Open();
  {
    Producer p(*d, "s", &v);
    // The producer's per-key counters restart, but the verifier orders by
    // sequence number and identifies records by it: keys just continue.
    auto open = OpenShards(*d, "s");
    REQUIRE_OK(d->SplitShard("s", open[0].shard_id, open[0].hash_key_range.Midpoint()));
    p.PutMany(200, 12, rng);
  }
  // A new worker: after a crash it waits for w1's leases to expire.
  if (!graceful) d.clock.Advance(absl::Seconds(11));
  auto c = MakeConsumer(*d, TestOptions("s", "app", "w2"));
  DrainAll(d.clock, {c.get()}, &v);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());  // complete and in order
  CHECK(report.distinct == 500);
  if (graceful) {
    CHECK(report.duplicates == 0);  // Shutdown checkpointed what was delivered
  } else {
    uint64_t replayed = 0;
    for (const auto& [shard, counts] : first_run) replayed += counts.first - counts.second;
    CHECK(replayed > 0);
    CHECK(report.duplicates == replayed);
  }
  CHECK(std::filesystem::exists(d.tmp.path + "/store/LEASES"));
}

TEST_CASE("durable store: the same worker id takes its leases back at once after a restart",
          "[consume][durable][lease]") {
  DurableStore d;
  REQUIRE_OK(d->CreateStream("s", 3));
  OrderingVerifier v;
  Producer p(*d, "s", &v);
  std::mt19937_64 rng(2);
  p.PutMany(90, 9, rng);
  {
    auto c = MakeConsumer(*d, TestOptions("s", "app", "fixed-id"));
    PollUntilIdle(*c, &v);
    REQUIRE_OK(c->CheckpointAll());
  }
  d.Open();
  Producer q(*d, "s", &v);
  q.PutMany(30, 9, rng);
  auto c = MakeConsumer(*d, TestOptions("s", "app", "fixed-id"));
  CHECK(PollUntilIdle(*c, &v) == 30);  // no clock movement needed
  CHECK(c->held().size() == 3);
  CHECK(v.Check().ok());
  CHECK(v.Check().duplicates == 0);
}

// A durable store reports the stream's creation time in milliseconds after a
// reopen (microseconds before): the consumer must still recognize its stream.
TEST_CASE("durable store: a consumer restarts over a reopened store created at a sub-millisecond instant",
          "[consume][durable][regress]") {
  auto mem = NewMemEnv();
  ManualClock clock(absl::FromUnixMicros(1704067200123456));
  StoreOptions o;
  o.env = mem.get();
  o.clock = &clock;
  {
    auto store = Store::Open("/db", o);
    REQUIRE_OK(store);
    REQUIRE_OK((*store)->CreateStream("s", 1));
    auto c = MakeConsumer(**store, TestOptions("s", "app", "w"));
  }
  auto store = Store::Open("/db", o);
  REQUIRE_OK(store);
  CHECK_OK(Consumer::Create(**store, TestOptions("s", "app", "w")));
}

TEST_CASE("durable store: checkpoints survive power loss", "[consume][durable][fault]") {
  auto mem = NewMemEnv();
  FaultEnv env(mem.get());
  ManualClock clock;
  StoreOptions o;
  o.env = &env;
  o.clock = &clock;
  auto store = Store::Open("/db", o);
  REQUIRE_OK(store);
  REQUIRE_OK((*store)->CreateStream("s", 1));
  std::vector<SequenceNumber> seqs;
  {
    Producer p(**store, "s");
    for (int i = 0; i < 10; ++i) seqs.push_back(p.Put("k").sequence_number);
  }
  ConsumerOptions co = TestOptions("s", "app", "w");
  co.max_records_per_batch = 4;
  auto c = MakeConsumer(**store, co);
  auto b = c->Poll();
  REQUIRE_OK(b);
  REQUIRE_OK(c->Checkpoint(**b));
  REQUIRE_OK(env.DropUnsyncedData());  // power loss right after the checkpoint returned
  c.reset();
  store->reset();
  store = Store::Open("/db", o);
  REQUIRE_OK(store);
  clock.Advance(absl::Seconds(11));
  auto c2 = MakeConsumer(**store, TestOptions("s", "app", "w2"));
  auto next = c2->Poll();
  REQUIRE_OK(next);
  REQUIRE(next->has_value());
  CHECK((*next)->records.front().sequence_number == seqs[4]);
}

}  // namespace
}  // namespace tributary
