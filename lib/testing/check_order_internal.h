// The parts of CheckOrder (tributary/testing/check_order.h): one run's
// shared context, the generator, the nemesis and the readers. Internal to
// lib/testing; everything here talks to the store through the public API.
#ifndef TRIBUTARY_LIB_TESTING_CHECK_ORDER_INTERNAL_H_
#define TRIBUTARY_LIB_TESTING_CHECK_ORDER_INTERNAL_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tributary/store.h"
#include "tributary/testing/check_order.h"
#include "tributary/testing/order_checker.h"
#include "util/mutex.h"

namespace tributary::testing::check_order {

// One run: the options, the stores, the checker and the stop flags. Times
// are wall-clock (absl::Now): the run measures a real endpoint.
class Run {
 public:
  Run(const CheckOrderOptions& options, Store& store, uint64_t run_id, absl::Time start);

  const CheckOrderOptions& options;
  Store& store;
  Store& writer_store;
  const uint64_t run_id;
  const absl::Time start;
  OrderChecker checker;

  // Set when the write phase ends (writers and nemesis stop), and when the
  // readers must stop.
  std::atomic<bool> stop_writing{false};
  std::atomic<bool> stop_reading{false};

  // The stream the readers read: options.stream, or the output stream.
  const std::string& read_stream() const;

  // Decodes `records` read from `shard_id` and hands them to the checker.
  // `from_written_stream`: they come from the stream the generator wrote
  // (their sequence numbers identify stored copies).
  void Deliver(std::string_view shard_id, absl::Span<const Record> records, bool from_written_stream);

  // Sleeps until `until` or until `stop` is set; false if stopped.
  static bool SleepUntil(absl::Time until, const std::atomic<bool>& stop);

  // Progress lines (options.progress), serialized.
  void Progress(std::string_view line);
  // Problems worth a line in the report (the first few of them are kept).
  void Problem(std::string line);
  std::vector<std::string> problems() const;
  uint64_t problem_count() const;

 private:
  mutable util::Mutex mu_;
  std::vector<std::string> problems_ ABSL_GUARDED_BY(mu_);
  uint64_t problem_count_ ABSL_GUARDED_BY(mu_) = 0;
};

// How a failed write is retried.
enum class WriteOutcome {
  kNotWritten,  // throttled or refused: certainly not stored
  kUnknown,     // 5xx, timeout, dropped connection: maybe stored
};
WriteOutcome ClassifyWriteError(const absl::Status& status);

// ---------------------------------------------------------------- generator

class Generator {
 public:
  struct Stats {
    uint64_t put_records_calls = 0;
    uint64_t put_record_calls = 0;
    uint64_t failed_calls = 0;
    uint64_t throttled_records = 0;
    uint64_t ambiguous_records = 0;
    uint64_t unacknowledged = 0;
    std::map<uint32_t, uint64_t> records_per_shard;  // by shard index
  };

  explicit Generator(Run& run);
  ~Generator();
  void Start();
  // Returns once every writer stopped: Run::stop_writing was set, or the
  // record budget (max_records) is used up and acknowledged.
  void Join();
  bool finished() const { return finished_writers_.load() == static_cast<int>(threads_.size()); }
  Stats stats() const;  // after Join()

 private:
  void Writer(int index);

  Run& run_;
  std::atomic<int64_t> budget_;  // records that may still be created
  std::atomic<int> finished_writers_{0};
  std::vector<std::thread> threads_;
  std::vector<Stats> stats_;  // one per writer, merged by stats()
};

// ---------------------------------------------------------------- readers

class Reader {
 public:
  virtual ~Reader() = default;
  // Starts reading on threads of its own.
  virtual absl::Status Start() = 0;
  // Stops and joins (after Run::stop_reading was set).
  virtual void Stop() = 0;
  // Crashes one worker and starts it again (the consumer-restart nemesis).
  // False, with a reason in *detail, when this reader cannot.
  virtual bool RequestRestart(std::string* detail) {
    *detail = "this consumer has no restart";
    return false;
  }
};

std::unique_ptr<Reader> MakeReader(Run& run);

// ---------------------------------------------------------------- nemesis

class Nemesis {
 public:
  struct Stats {
    int reshards_done = 0;
    int server_restarts_done = 0;
    int consumer_restarts_done = 0;
    bool update_shard_count_unsupported = false;
  };

  Nemesis(Run& run, Reader& reader);
  ~Nemesis();
  void Start();
  void Join();
  // True once every planned operation was done (or the write phase ended).
  bool done() const { return done_.load(); }
  Stats stats() const;  // after Join()

 private:
  enum class Op { kReshard, kServerRestart, kConsumerRestart };
  void Main();
  void Reshard(int index);
  void ServerRestart(int index);
  void ConsumerRestart(int index);

  Run& run_;
  Reader& reader_;
  std::mt19937_64 rng_;
  // The first reshard tries UpdateShardCount (when allowed), so the report
  // says whether the endpoint has it whatever the random choices.
  bool update_shard_count_probed_ = false;
  std::thread thread_;
  Stats stats_;
  std::atomic<bool> done_{false};
};

// The open shards of `stream`, by hash-key range.
absl::StatusOr<std::vector<ShardDescription>> OpenShards(Store& store, std::string_view stream);

}  // namespace tributary::testing::check_order

#endif  // TRIBUTARY_LIB_TESTING_CHECK_ORDER_INTERNAL_H_
