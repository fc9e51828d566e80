// CheckOrder: benchmark the ordering guarantees of a Kinesis endpoint and a
// consumer, Jepsen-style: a generator, a nemesis and a checker, bounded in
// time and count. The engine of `tributary check-order` (docs/CLI.md), for
// programs and tests that want it without the command line.
//
//   auto store = *Store::OpenRemote(options);   // any Kinesis endpoint, or a local store
//   CheckOrderOptions o;
//   o.duration = absl::Seconds(20);
//   o.reshards = 12;
//   o.consumer = CheckConsumer::kNaive;
//   CheckOrderReport r = *CheckOrder(*store, o);
//   std::cout << r.ToString();                   // r.ok(): nothing lost, order held
//
// While it runs:
//   * Generator: `writers` threads put records over `keys` partition keys
//     at `rate` records/s, with PutRecords (batches of distinct keys) and
//     PutRecord (a `put_record_ratio` share of the calls). Each key belongs
//     to one writer and has at most one record in flight, so a key's
//     records are stored in counter order; a record is retried, with the
//     same data, until it is acknowledged or the run ends. A record retried
//     after an attempt with an unknown outcome may be stored twice: the
//     checker is told (OrderChecker::MaybeWrittenTwice).
//   * Nemesis: `reshards` SplitShard / MergeShards / UpdateShardCount
//     operations, spread over the write phase, each waited on until the
//     stream is ACTIVE; `server_restarts` calls of `restart_server` (the
//     CLI kills tributary-server with SIGKILL and starts it again);
//     `consumer_restarts` crashes of a consumer worker (dropped without
//     shutting down, then started again with the same worker id).
//   * Consumer (CheckConsumer): the ordered consumer, a naive reader, a
//     parents-first reader, or the user's own consumer, judged by what it
//     wrote to an output stream.
//   * Checker: OrderChecker (testing/order_checker.h).
// After the write phase the consumer drains until every acknowledged record
// was delivered or `drain_timeout` passes.
//
// Identity and order come from the records' data (OrderProbe), never from
// the form of sequence numbers, so it works with any endpoint's numbers.
//
// Thread safety: CheckOrder runs its own threads and returns when they have
// stopped. The store must be safe for concurrent use (every Store is).
#ifndef TRIBUTARY_TESTING_CHECK_ORDER_H_
#define TRIBUTARY_TESTING_CHECK_ORDER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/store.h"
#include "tributary/testing/order_checker.h"

namespace tributary::testing {

enum class CheckConsumer {
  // The ordered consumer (tributary/consumer.h): `consumer_workers` workers
  // sharing the shards through leases in a local in-memory lease table,
  // checkpointing every `checkpoint_every` batches.
  kTributary,
  // Reads every shard at once, each from TRIM_HORIZON as soon as it is
  // listed, children alongside their parents: what the resharding document
  // warns against. A caught-up shard is polled again after `poll_interval`.
  kNaive,
  // A plain reader (no leases, no checkpoints) that starts a shard only
  // once its parents were read to their end.
  kParentsFirst,
  // The user's consumer: it reads `stream` and writes every record's data,
  // unchanged, to `output_stream` in the order it processed them (per
  // partition key: one shard per key, one write at a time). The ordered
  // consumer reads `output_stream`, and that order is judged.
  kOutput,
};
// "tributary", "naive", "parents-first", "output:STREAM".
std::string ToString(CheckConsumer kind, std::string_view output_stream = "");
// Parses the --consumer forms above. InvalidArgument otherwise.
absl::Status ParseCheckConsumer(std::string_view text, CheckConsumer* kind, std::string* output_stream);

struct CheckOrderOptions {
  // The stream written to. Created with `shards` shards if it does not
  // exist (and then deleted at the end, unless keep_stream); an existing
  // stream is used as it is (records of other runs are skipped as foreign).
  std::string stream = "check-order";
  int shards = 2;
  bool keep_stream = false;

  // ---- bounds: the write phase ends at `duration` or after `max_records`
  // records (0: no count bound), whichever comes first; if the nemesis has
  // not done its operations by `duration` (a slow endpoint), writing goes
  // on until it has, up to 2 * duration.
  absl::Duration duration = absl::Seconds(10);
  uint64_t max_records = 0;
  // After the write phase: how long the consumer may take to deliver
  // everything acknowledged.
  absl::Duration drain_timeout = absl::Seconds(30);

  // ---- generator
  int writers = 2;
  int keys = 100;  // few enough that every key has records around each reshard
  double rate = 1000;  // records/s, all writers together; 0: as fast as they can
  int batch_size = 500;         // PutRecords entries (1..500), distinct keys
  double put_record_ratio = 0.1;  // share of calls that are a single PutRecord (0..1)
  size_t record_bytes = 0;        // pad each record's data to this many bytes
  // The store the writers use; nullptr: the store given to CheckOrder.
  // Give one whose calls are not retried inside the store (a remote store
  // with RetryPolicy::max_attempts = 1): then the generator sees every
  // failed attempt and knows which records may be stored twice.
  Store* writer_store = nullptr;

  // ---- nemesis
  int reshards = 12;
  int max_shards = 8;               // never more open shards than this (nor fewer than 1)
  bool update_shard_count = true;   // use UpdateShardCount too (skipped if unsupported)
  int server_restarts = 0;          // REQUIRES restart_server when > 0
  // Kills the endpoint's server and starts it again on the same address;
  // returns once it serves. The CLI provides it for a server it started.
  std::function<absl::Status()> restart_server;
  int consumer_restarts = 0;        // kTributary and kOutput only

  // ---- consumer
  CheckConsumer consumer = CheckConsumer::kTributary;
  std::string output_stream;        // kOutput: where the user's consumer writes
  int consumer_workers = 2;         // kTributary, kOutput
  int checkpoint_every = 10;        // batches between checkpoints (kTributary, kOutput)
  absl::Duration poll_interval = absl::Milliseconds(200);  // rest of a caught-up shard

  uint64_t seed = 0;  // 0: from the time; the nemesis' choices and the run id
  // Called about once a second with a one-line progress report, and for
  // each nemesis event; may be empty.
  std::function<void(std::string_view line)> progress;
};

struct CheckOrderReport {
  // ---- what ran
  std::string stream;
  std::string consumer;  // ToString(CheckConsumer)
  uint64_t run = 0;      // the run id in every probe (hex in the data)
  uint64_t seed = 0;
  int writers = 0, keys = 0;
  double rate = 0;
  int shards_at_start = 0, shards_at_end = 0;
  bool stream_created = false;

  // ---- generator
  uint64_t put_records_calls = 0;
  uint64_t put_record_calls = 0;
  uint64_t failed_calls = 0;       // whole calls that failed (and were retried)
  uint64_t throttled_records = 0;  // records refused for throughput (and retried)
  uint64_t ambiguous_records = 0;  // records retried after an unknown outcome
  uint64_t unacknowledged = 0;     // records still unacknowledged when the writers stopped
  absl::Duration write_time;       // the write phase
  absl::Duration drain_time;       // from the end of the write phase to the last check
  absl::Duration total_time;

  // ---- nemesis
  int reshards_requested = 0;
  int reshards_done = 0;
  int server_restarts_done = 0;
  int consumer_restarts_done = 0;
  bool update_shard_count_unsupported = false;

  // ---- checker (events: every nemesis event, with violations attributed)
  OrderReport order;
  bool drained = false;  // every acknowledged record was delivered before drain_timeout

  // The stream's shards at the end (ListShards), for lineage pictures.
  std::vector<ShardDescription> shard_lineage;
  // When each shard was opened and closed, since the start (shards of the
  // stream at the start: opened at zero; open at the end: no close).
  struct ShardTimes {
    std::string shard_id;
    absl::Duration opened;
    std::optional<absl::Duration> closed;
    uint64_t records_written = 0;  // acknowledged records written to it
  };
  std::vector<ShardTimes> shard_times;

  // CPU time of this process during the run (user + system).
  double cpu_seconds = 0;
  // CPU time of the server, when the caller knows it (the CLI does for a
  // tributary-server it started); printed by ToString() when set.
  std::optional<double> server_cpu_seconds;

  // Things that went wrong and were retried (failed calls, reads), the
  // first few; problem_count counts them all.
  std::vector<std::string> problems;
  uint64_t problem_count = 0;

  bool ok() const { return order.ok(); }
  // Acknowledged records per second of the write phase.
  double written_per_second() const;
  // Distinct records delivered and checked per second, from the start to the last delivery.
  double checked_per_second() const;
  // The summary table printed by `tributary check-order`.
  std::string ToString() const;
};

// InvalidArgument naming the first bad option (what CheckOrder checks first).
absl::Status ValidateCheckOrderOptions(const CheckOrderOptions& options);

// Runs one check. Errors: InvalidArgument for bad options; the store's
// error if the stream cannot be created or found (or the output stream is
// missing). Everything that goes wrong while it runs (failed writes,
// reshards refused, reads failing) is retried or reported, not returned.
absl::StatusOr<CheckOrderReport> CheckOrder(Store& store, const CheckOrderOptions& options);

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_CHECK_ORDER_H_
