// The consumers CheckOrder judges (CheckConsumer): the ordered consumer
// (also used to read a user consumer's output stream), and a plain reader
// in two flavours, naive (every shard at once) and parents-first.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "check_order_internal.h"
#include "tributary/consumer.h"
#include "tributary/lease_table.h"
#include "tributary/status.h"
#include "tributary/testing/reshard.h"

namespace tributary::testing::check_order {
namespace {

// ---------------------------------------------------------------- ordered

// The ordered consumer: `consumer_workers` workers of one consumer name,
// each a Consumer polled from a thread of its own, sharing the shards
// through a lease table in a local in-memory store (as a KCL application
// shares a DynamoDB table).
class OrderedReader final : public Reader {
 public:
  explicit OrderedReader(Run& run) : run_(run) {}
  ~OrderedReader() override { Stop(); }

  absl::Status Start() override {
    absl::StatusOr<std::unique_ptr<Store>> local = Store::OpenInMemory();
    if (!local.ok()) return local.status();
    local_ = std::move(*local);
    absl::StatusOr<std::shared_ptr<LeaseTable>> table = LeaseTableFor(*local_);
    if (!table.ok()) return table.status();
    options_.stream = run_.read_stream();
    options_.consumer_name = fmt::format("check-order-{:016x}", run_.run_id);
    options_.lease_table = *table;
    options_.initial_position = InitialPosition::TrimHorizon();
    options_.idle_interval = run_.options.poll_interval;
    // Children are found from GetRecords' ChildShards at once; endpoints
    // that do not send them (kinesalite) leave it to the shard sync, so
    // sync (and take the new leases) about as often as shards are polled.
    const absl::Duration sync = std::clamp(run_.options.poll_interval, absl::Milliseconds(100), absl::Seconds(1));
    options_.take_interval = sync;
    options_.shard_sync_interval = sync;
    const int n = std::max(1, run_.options.consumer_workers);
    restart_.reset(new std::atomic<bool>[static_cast<size_t>(n)]);
    for (int i = 0; i < n; ++i) {
      restart_[static_cast<size_t>(i)] = false;
      // Created here, so a missing stream fails the run at once.
      absl::StatusOr<std::unique_ptr<Consumer>> c = Create(i);
      if (!c.ok()) return c.status();
      consumers_.push_back(std::move(*c));
    }
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { Work(i); });
    return absl::OkStatus();
  }

  void Stop() override {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  bool RequestRestart(std::string* detail) override {
    const size_t n = consumers_.size();
    const size_t i = next_restart_++ % n;
    restart_[i] = true;
    *detail = fmt::format("worker check-order-w{} crashed (dropped without Shutdown) and started again", i);
    return true;
  }

 private:
  absl::StatusOr<std::unique_ptr<Consumer>> Create(int i) {
    ConsumerOptions o = options_;
    o.worker_id = fmt::format("check-order-w{}", i);
    return Consumer::Create(run_.store, o);
  }

  void Work(int i) {
    std::unique_ptr<Consumer>& c = consumers_[static_cast<size_t>(i)];
    const bool written = run_.options.consumer != CheckConsumer::kOutput;
    const int every = std::max(1, run_.options.checkpoint_every);
    int batches = 0;
    while (!run_.stop_reading.load(std::memory_order_relaxed)) {
      if (restart_[static_cast<size_t>(i)].exchange(false)) {
        c.reset();  // a crash: no Shutdown, no checkpoint
        run_.checker.Restarted();
        absl::StatusOr<std::unique_ptr<Consumer>> again = Create(i);
        if (!again.ok()) {
          run_.Problem(fmt::format("consumer worker {}: restart: {}", i, again.status().ToString()));
          restart_[static_cast<size_t>(i)] = true;  // try again
          Run::SleepUntil(absl::Now() + absl::Milliseconds(100), run_.stop_reading);
          continue;
        }
        c = std::move(*again);
      }
      absl::StatusOr<std::optional<RecordBatch>> b = c->Poll();
      if (!b.ok()) {
        run_.Problem(fmt::format("consumer worker {}: {}", i, b.status().ToString()));
        Run::SleepUntil(absl::Now() + absl::Milliseconds(50), run_.stop_reading);
        continue;
      }
      if (!b->has_value()) {
        Run::SleepUntil(absl::Now() + absl::Milliseconds(5), run_.stop_reading);
        continue;
      }
      const RecordBatch& batch = **b;
      run_.Deliver(batch.shard_id, batch.records, written);
      if (++batches % every == 0) {
        if (absl::Status s = c->Checkpoint(batch); !s.ok() && GetErrorType(s) != ErrorType::kResourceInUse) {
          run_.Problem(fmt::format("consumer worker {}: checkpoint: {}", i, s.ToString()));
        }
      }
    }
  }

  Run& run_;
  ConsumerOptions options_;
  std::unique_ptr<Store> local_;  // holds the lease table
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::unique_ptr<std::atomic<bool>[]> restart_;
  size_t next_restart_ = 0;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------- plain

// A reader with no leases and no checkpoints, one thread per shard, each
// reading its shard from TRIM_HORIZON to its end; a caught-up shard rests
// for poll_interval between GetRecords. A coordinating thread lists the
// shards and starts their threads. Naive: a shard starts as soon as it is
// listed, parents or not (every shard at once, as a hand-written reader or
// a function per shard does). Parents-first: a shard starts only once every
// listed parent was read to its end (GetRecords gave no next iterator).
class PlainReader final : public Reader {
 public:
  PlainReader(Run& run, bool parents_first) : run_(run), parents_first_(parents_first) {}
  ~PlainReader() override { Stop(); }

  absl::Status Start() override {
    thread_ = std::thread([this] { Main(); });
    return absl::OkStatus();
  }
  void Stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Shard {
    std::optional<std::string> parent, adjacent_parent;
    bool started = false;
    std::atomic<bool> done{false};  // read to its end (set by its thread)
    std::thread thread;
  };

  bool ParentsDone(const Shard& s) const {
    for (const std::optional<std::string>& p : {s.parent, s.adjacent_parent}) {
      if (!p) continue;
      auto it = shards_.find(*p);
      if (it != shards_.end() && !it->second->done.load()) return false;  // an unlisted parent expired: done
    }
    return true;
  }

  void List() {
    absl::StatusOr<std::vector<ShardDescription>> all = ListAllShards(run_.store, run_.read_stream());
    if (!all.ok()) {
      run_.Problem(fmt::format("reader: ListShards: {}", all.status().ToString()));
      return;
    }
    for (const ShardDescription& d : *all) {
      auto [it, inserted] = shards_.try_emplace(d.shard_id);
      if (!inserted) continue;
      it->second = std::make_unique<Shard>();
      it->second->parent = d.parent_shard_id;
      it->second->adjacent_parent = d.adjacent_parent_shard_id;
    }
  }

  void Main() {
    // New shards are looked for as often as a caught-up shard is polled
    // (at most every 200 ms, at least every 20 ms).
    const absl::Duration list_every =
        std::max(absl::Milliseconds(20), std::min(run_.options.poll_interval, absl::Milliseconds(200)));
    while (!run_.stop_reading.load(std::memory_order_relaxed)) {
      List();
      for (auto& [id, s] : shards_) {
        if (s->started || (parents_first_ && !ParentsDone(*s))) continue;
        s->started = true;
        s->thread = std::thread([this, shard_id = id, shard = s.get()] { ReadShard(shard_id, *shard); });
      }
      Run::SleepUntil(absl::Now() + list_every, run_.stop_reading);
    }
    for (auto& [id, s] : shards_) {
      if (s->thread.joinable()) s->thread.join();
    }
  }

  void ReadShard(const std::string& id, Shard& shard) {
    const std::string& stream = run_.read_stream();
    std::optional<std::string> iterator;
    std::optional<SequenceNumber> last;
    while (!run_.stop_reading.load(std::memory_order_relaxed)) {
      if (!iterator) {
        GetShardIteratorRequest req;
        req.stream = stream;
        req.shard_id = id;
        req.type = last ? ShardIteratorType::kAfterSequenceNumber : ShardIteratorType::kTrimHorizon;
        if (last) req.starting_sequence_number = last->ToString();
        absl::StatusOr<std::string> it = run_.store.GetShardIterator(req);
        if (!it.ok()) {
          run_.Problem(fmt::format("reader: GetShardIterator {}: {}", id, it.status().ToString()));
          Run::SleepUntil(absl::Now() + absl::Milliseconds(50), run_.stop_reading);
          continue;
        }
        iterator = std::move(*it);
      }
      absl::StatusOr<GetRecordsResult> r = run_.store.GetRecords(*iterator);
      if (!r.ok()) {
        if (GetErrorType(r.status()) == ErrorType::kExpiredIterator) {
          iterator.reset();  // renewed after the last record read
        } else {
          run_.Problem(fmt::format("reader: GetRecords {}: {}", id, r.status().ToString()));
        }
        Run::SleepUntil(absl::Now() + absl::Milliseconds(50), run_.stop_reading);
        continue;
      }
      if (!r->records.empty()) {
        run_.Deliver(id, r->records, true);
        last = r->records.back().sequence_number;
      }
      if (!r->next_shard_iterator) {
        shard.done = true;  // read to its end: its children may start
        return;
      }
      iterator = std::move(*r->next_shard_iterator);
      if (r->records.empty()) Run::SleepUntil(absl::Now() + run_.options.poll_interval, run_.stop_reading);
    }
  }

  Run& run_;
  const bool parents_first_;
  // By shard id; the map is the coordinating thread's, each Shard's thread
  // touches only its `done`.
  std::map<std::string, std::unique_ptr<Shard>> shards_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Reader> MakeReader(Run& run) {
  switch (run.options.consumer) {
    case CheckConsumer::kTributary:
    case CheckConsumer::kOutput:
      return std::make_unique<OrderedReader>(run);
    case CheckConsumer::kNaive:
      return std::make_unique<PlainReader>(run, /*parents_first=*/false);
    case CheckConsumer::kParentsFirst:
      return std::make_unique<PlainReader>(run, /*parents_first=*/true);
  }
  return nullptr;
}

}  // namespace tributary::testing::check_order
