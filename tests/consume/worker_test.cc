// The callback API (ConsumerWorker + RecordProcessor): the processor
// lifecycle driven step by step with RunOnce, and several workers on their
// own threads against a resharding stream, with the test moving a
// ManualClock only when every worker waits for it (no sleeps).
#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "consume/consumer_util.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using consume_test::Producer;
using consume_test::TestOptions;
using testing::OpenShards;
using testing::OrderingVerifier;
using testing::StoreFixture;

// Records the callbacks it gets, as "<event> <shard>" lines.
struct EventLog {
  std::mutex mu;
  std::vector<std::string> events;
  void Add(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    events.push_back(std::move(e));
  }
  std::vector<std::string> Failures() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.rfind("failure", 0) == 0) out.push_back(e);
    }
    return out;
  }
  int Index(const std::string& e) {
    std::lock_guard<std::mutex> l(mu);
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i] == e) return static_cast<int>(i);
    }
    return -1;
  }
};

class LoggingProcessor : public RecordProcessor {
 public:
  LoggingProcessor(std::string shard, EventLog* log, OrderingVerifier* v, LeaseTable* table, LeaseScope scope)
      : shard_(std::move(shard)), log_(log), v_(v), table_(table), scope_(std::move(scope)) {}
  void Initialize(const ShardStart& start) override {
    log_->Add("init " + shard_ + " " + start.checkpoint.ToString());
  }
  void ProcessRecords(const RecordBatch& batch, Checkpointer& cp) override {
    if (v_) v_->Delivered(batch);
    log_->Add("process " + shard_);
    if (++batches_ % 2 == 0) Note(cp.Checkpoint());
  }
  void ShardEnded(Checkpointer& cp) override {
    // SHARD_END is written after this returns: the lease still says otherwise.
    if (table_) {
      auto l = table_->GetLease(scope_, shard_);
      if (!l.ok() || !l->has_value() || (*l)->checkpoint.is_shard_end())
        log_->Add("failure: SHARD_END early");
    }
    Note(cp.Checkpoint());
    log_->Add("ended " + shard_);
  }
  void ShutdownRequested(Checkpointer& cp) override {
    (void)cp;
    log_->Add("shutdown " + shard_);
  }
  void LeaseLost() override { log_->Add("lost " + shard_); }

 private:
  // Callbacks may run on worker threads, where Catch assertions must not.
  void Note(const absl::Status& s) {
    if (!s.ok()) log_->Add("failure: " + shard_ + " " + s.ToString());
  }

  const std::string shard_;
  EventLog* log_;
  OrderingVerifier* v_;
  LeaseTable* table_;
  const LeaseScope scope_;
  int batches_ = 0;
};

TEST_CASE("worker: processors see Initialize, ProcessRecords, ShardEnded, children start after",
          "[consume][worker]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  OrderingVerifier::Options exact;
  exact.guarantee = testing::DeliveryGuarantee::kExactlyOnce;
  OrderingVerifier v(exact);
  Producer p(*f, "s", &v);
  for (int i = 0; i < 30; ++i) p.Put("k" + std::to_string(i % 3));
  const std::string parent = FormatShardId(0);
  REQUIRE_OK(f->SplitShard("s", parent, OpenShards(*f, "s")[0].hash_key_range.Midpoint()));
  for (int i = 0; i < 30; ++i) p.Put("k" + std::to_string(i % 3));
  auto table = LeaseTableFor(*f);
  REQUIRE_OK(table);
  EventLog log;
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 8;
  const LeaseScope scope{"app", "s"};
  auto worker = ConsumerWorker::Create(*f, o, [&](const std::string& shard) {
    return std::make_unique<LoggingProcessor>(shard, &log, &v, table->get(), scope);
  });
  REQUIRE_OK(worker);
  for (int round = 0; round < 10; ++round) {
    for (;;) {
      auto r = (*worker)->RunOnce();
      REQUIRE_OK(r);
      if (!*r) break;
    }
    f.clock.Advance(absl::Seconds(1));
  }
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
  const int init = log.Index("init " + parent + " TRIM_HORIZON");
  const int ended = log.Index("ended " + parent);
  REQUIRE(init >= 0);
  REQUIRE(ended > init);
  for (const auto& child : OpenShards(*f, "s")) {
    INFO(child.shard_id);
    CHECK(log.Index("init " + child.shard_id + " TRIM_HORIZON") > ended);
  }
  // Stop: ShutdownRequested for each held shard, leases released.
  REQUIRE_OK((*worker)->Stop());
  for (const auto& child : OpenShards(*f, "s")) CHECK(log.Index("shutdown " + child.shard_id) > ended);
  auto leases = (*table)->ListLeases(scope);
  REQUIRE_OK(leases);
  for (const Lease& l : *leases) CHECK(l.owner.empty());
  CHECK(log.Failures().empty());
}

TEST_CASE("worker: a worker that stopped renewing gets LeaseLost and its checkpoints fail",
          "[consume][worker][lease]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  Producer p(*f, "s");
  for (int i = 0; i < 10; ++i) p.Put("k");
  EventLog log;
  Checkpointer* saved = nullptr;
  struct Keeper : RecordProcessor {
    EventLog* log;
    Checkpointer** saved;
    void ProcessRecords(const RecordBatch&, Checkpointer& cp) override { *saved = &cp; }
    void LeaseLost() override { log->Add("lost"); }
  };
  auto make = [&](const std::string&) {
    auto k = std::make_unique<Keeper>();
    k->log = &log;
    k->saved = &saved;
    return k;
  };
  ConsumerOptions oa = TestOptions("s", "app", "a");
  oa.max_records_per_batch = 5;
  auto a = ConsumerWorker::Create(*f, oa, make);
  REQUIRE_OK(a);
  auto r = (*a)->RunOnce();
  REQUIRE_OK(r);
  CHECK(*r);
  // a stalls; b takes the shard once a's lease expired.
  f.clock.Advance(absl::Seconds(11));
  auto b = ConsumerWorker::Create(*f, TestOptions("s", "app", "b"), [](const std::string&) {
    struct Nop : RecordProcessor {
      void ProcessRecords(const RecordBatch&, Checkpointer&) override {}
    };
    return std::make_unique<Nop>();
  });
  REQUIRE_OK(b);
  REQUIRE_OK((*b)->RunOnce());
  CHECK((*b)->consumer().held().size() == 1);
  r = (*a)->RunOnce();
  REQUIRE_OK(r);
  CHECK(log.Index("lost") >= 0);
  CHECK((*a)->consumer().held().empty());
  CHECK((*a)->consumer().stats().leases_lost == 1);
  CHECK_ERROR((*a)->consumer().Checkpoint(FormatShardId(0), SequenceNumber::FromParts(2, 0)),
              ErrorType::kResourceInUse);
}

// Workers wait here when idle; the test moves the clock only once every
// running worker waits, so simulated time never runs ahead of them.
class Ticker {
 public:
  // `self` identifies the worker (and says when it is being stopped).
  void Wait(const std::atomic<bool>* self) {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t t = tick_;
    idle_.insert(self);
    cv_.notify_all();
    cv_.wait(l, [&] { return tick_ != t || self->load(); });
  }
  // Waits until every worker in `workers` waits, then advances the clock.
  void Advance(ManualClock& clock, absl::Duration d, const std::vector<const std::atomic<bool>*>& workers) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      for (const auto* w : workers) {
        if (!idle_.count(w)) return false;
      }
      return true;
    });
    clock.Advance(d);
    ++tick_;
    idle_.clear();
    cv_.notify_all();
  }
  void Wake() {
    std::lock_guard<std::mutex> l(mu_);
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t tick_ = 0;
  std::set<const std::atomic<bool>*> idle_;
};

TEST_CASE("worker threads: per-key order across reshards, a crash and a graceful stop",
          "[consume][worker][concurrency]") {
  StoreOptions so;
  so.shard_limit = 100;
  StoreFixture f(so);
  REQUIRE_OK(f->CreateStream("s", 2));
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", limits::kMaxRetentionHours));
  OrderingVerifier v;
  Producer p(*f, "s", &v);
  std::mt19937_64 rng(Catch::rngSeed());
  Ticker ticker;
  EventLog log;

  struct Running {
    std::unique_ptr<ConsumerWorker> worker;
    std::unique_ptr<std::atomic<bool>> released = std::make_unique<std::atomic<bool>>(false);
  };
  std::vector<Running> running;
  auto start = [&](const std::string& id) {
    Running r;
    std::atomic<bool>* released = r.released.get();
    WorkerOptions wo;
    wo.idle_wait = [&ticker, released](absl::Duration) { ticker.Wait(released); };
    ConsumerOptions o = TestOptions("s", "app", id);
    o.max_records_per_batch = 1 + static_cast<int>(rng() % 40);
    auto w = ConsumerWorker::Create(
        *f, o,
        [&](const std::string& shard) {
          return std::make_unique<LoggingProcessor>(shard, &log, &v, nullptr, LeaseScope{});
        },
        wo);
    REQUIRE_OK(w);
    r.worker = std::move(w).value();
    REQUIRE_OK(r.worker->Start());
    running.push_back(std::move(r));
  };
  auto stop = [&](size_t i, bool graceful) {
    running[i].released->store(true);
    ticker.Wake();
    if (graceful) {
      REQUIRE_OK(running[i].worker->Stop());
    } else {
      running[i].worker->Halt();
    }
    running.erase(running.begin() + static_cast<long>(i));
  };
  auto ids = [&] {
    std::vector<const std::atomic<bool>*> out;
    for (const Running& r : running) out.push_back(r.released.get());
    return out;
  };
  start("t0");
  start("t1");
  start("t2");
  for (int step = 0; step < 120; ++step) {
    // Every worker is idle here: write and reshard, then let time move.
    if (step > 0) {
      p.PutMany(1 + static_cast<int>(rng() % 50), 16, rng);
      if (step % 3 == 0) {
        auto open = OpenShards(*f, "s");
        if (open.size() < 8 && rng() % 2) {
          const auto& s = open[rng() % open.size()];
          REQUIRE_OK(f->SplitShard("s", s.shard_id, s.hash_key_range.Midpoint()));
        } else if (open.size() > 1) {
          const size_t i = rng() % (open.size() - 1);
          REQUIRE_OK(f->MergeShards("s", open[i].shard_id, open[i + 1].shard_id));
        }
      }
    }
    if (step == 40) stop(1, /*graceful=*/false);  // crash: its leases expire and move
    if (step == 80) stop(0, /*graceful=*/true);
    if (step == 90) start("t3");
    ticker.Advance(f.clock, absl::Milliseconds(500), ids());
  }
  // Drain: keep time moving until everything was delivered.
  for (int i = 0; i < 400 && v.Check().distinct < static_cast<uint64_t>(p.written()); ++i) {
    ticker.Advance(f.clock, absl::Milliseconds(500), ids());
  }
  while (!running.empty()) stop(0, true);
  for (const auto& e : log.Failures()) FAIL_CHECK(e);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
  CHECK(report.distinct == static_cast<uint64_t>(p.written()));
}

}  // namespace
}  // namespace tributary
