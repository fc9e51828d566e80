// OrderChecker: the checker of `tributary check-order` (testing/check_order.h,
// docs/CLI.md "check-order"): judges what a consumer delivered against what
// the generator wrote, per partition key, with memory proportional to the
// number of keys rather than the number of records.
//
// Records are identified by what their data carries (an OrderProbe: run,
// writer, key, per-key counter, put time), not by sequence number, so the
// checker judges a consumer that copies records to another stream
// (`--consumer output:STREAM`) as well as one reading the stream itself.
// Each key is written by one writer, one record at a time, counters 0, 1,
// 2, ...: a key's counters are its order.
//
//   OrderChecker checker;
//   checker.Acknowledged(/*key=*/7, /*counter=*/0, ShardId(1));   // generator
//   checker.Delivered({{.key = 7, .counter = 0}}, absl::Now());    // consumer
//   OrderReport r = checker.Finish();   // r.lost, r.out_of_order, r.duplicates ...
//
// What it reports (OrderReport):
//   * lost: acknowledged, never delivered;
//   * out of order: a record delivered for the first time after a record
//     of the same key with a higher counter. Each violation is attributed
//     to the reshard that closed the shard the late record was written to
//     (the reshard it straddled), or to "within one shard" when both
//     records were written to the same shard;
//   * duplicates, in three kinds: redelivered after a restart (first
//     delivered before the latest Restarted() and again after it), written
//     twice (a producer retry stored the record twice: the copies carry
//     different sequence numbers, or the generator declared the record
//     MaybeWrittenTwice), and true duplicates (the rest);
//   * unacknowledged records that were delivered (allowed: a write whose
//     answer was lost, or still in flight when the writers stopped);
//   * end-to-end latency, put (first attempt) to first delivery, p50/p99/max.
//
// Memory: per key a few words, the shards its records went to (one entry
// per reshard that moved it) and the counters delivered ahead of a gap
// (none for a consumer that keeps order; a reordering consumer's window).
//
// Thread safety: safe for concurrent use (writers acknowledge and consumer
// threads deliver at once; the order of Delivered calls is the order
// judged). Part of the tributary::testing library.
#ifndef TRIBUTARY_TESTING_ORDER_CHECKER_H_
#define TRIBUTARY_TESTING_ORDER_CHECKER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tributary/types.h"

namespace tributary::testing {

// ---------------------------------------------------------------- probes

// What the data of a check-order record carries.
struct OrderProbe {
  uint64_t run = 0;      // a random id per run: records of other runs are foreign
  uint32_t writer = 0;   // the writer that wrote it (for messages)
  uint32_t key = 0;      // the partition key's index (ProbePartitionKey)
  uint64_t counter = 0;  // 0, 1, 2, ... per key, in write order
  int64_t put_unix_micros = 0;  // when it was first sent
};

// "tco1 <run, 16 hex digits> <writer> <key> <counter> <put micros>", then,
// when that is shorter than `pad_to` bytes, a space and 'x' up to pad_to.
// Text, so a person (or `tributary dump`) can read it.
std::string EncodeProbe(const OrderProbe& probe, size_t pad_to = 0);
// nullopt when `data` is not an EncodeProbe output.
std::optional<OrderProbe> DecodeProbe(std::string_view data);
// The partition key of key index `key`: "key-<key>".
std::string ProbePartitionKey(uint32_t key);

// ---------------------------------------------------------------- nemesis

enum class NemesisKind { kSplitShard, kMergeShards, kUpdateShardCount, kServerRestart, kConsumerRestart };
// "SplitShard", "MergeShards", "UpdateShardCount", "server restart", "consumer restart".
std::string_view ToString(NemesisKind kind);

// One thing the nemesis did while the writers ran.
struct NemesisEvent {
  int index = 0;  // 1, 2, ... in the order they happened
  NemesisKind kind = NemesisKind::kSplitShard;
  absl::Duration at;    // since the run started
  absl::Duration took;  // until the stream was ACTIVE again (restarts: serving again)
  // Reshards: the shards it closed and the shards it opened (from the open
  // shards before and after, so an UpdateShardCount lists all of them).
  std::vector<std::string> closed;
  std::vector<std::string> opened;
  std::string detail;  // e.g. "split at 37.5%", "3 -> 4 shards"; for a failure, the error
  bool ok = true;
  uint64_t violations = 0;  // filled by Finish(): order violations attributed to it
};

// ---------------------------------------------------------------- report

struct LatencySummary {
  uint64_t count = 0;  // first deliveries of acknowledged records measured
  absl::Duration p50;
  absl::Duration p99;
  absl::Duration max;
};

struct OrderViolation {
  uint32_t key = 0;
  uint64_t counter = 0;        // the late record
  uint64_t after_counter = 0;  // the highest counter of the key delivered before it
  std::string shard;           // where the late record was written ("" if unknown)
  std::string after_shard;     // where the higher one was written
  std::string read_from;       // where the consumer read the late record
  int event = 0;               // NemesisEvent::index it straddled; 0 if none (same shard) or unknown
  absl::Duration at;           // when it was delivered, since the run started
};

struct LostRecord {
  uint32_t key = 0;
  uint64_t counter = 0;
  std::string shard;  // where it was written
};

enum class DuplicateKind { kRedeliveredAfterRestart, kWrittenTwice, kTrueDuplicate };
std::string_view ToString(DuplicateKind kind);  // "redelivered after restart", ...

struct DuplicateExample {
  uint32_t key = 0;
  uint64_t counter = 0;
  DuplicateKind kind = DuplicateKind::kTrueDuplicate;
  std::string read_from;
};

struct OrderReport {
  uint64_t keys = 0;          // keys written to or delivered
  uint64_t acknowledged = 0;  // distinct records acknowledged
  uint64_t deliveries = 0;    // every delivery, duplicates included
  uint64_t distinct = 0;      // records delivered at least once
  uint64_t lost = 0;          // acknowledged, never delivered
  uint64_t out_of_order = 0;
  uint64_t duplicates = 0;    // = the three below
  uint64_t redelivered_after_restart = 0;
  uint64_t written_twice = 0;
  uint64_t true_duplicates = 0;
  uint64_t unacknowledged_delivered = 0;  // allowed
  uint64_t foreign = 0;                   // not this run's records (skipped)
  uint64_t restarts = 0;                  // Restarted() calls
  uint64_t violations_within_shard = 0;   // both records written to one shard
  uint64_t violations_unattributed = 0;   // a shard unknown, or closed by no recorded event
  LatencySummary latency;
  absl::Duration last_delivery;  // since the run started

  // The first few of each (OrderChecker::Options::max_examples), in the
  // order found (lost: by key, then counter).
  std::vector<OrderViolation> violations;
  std::vector<LostRecord> lost_examples;
  std::vector<DuplicateExample> duplicate_examples;
  // Every event, with its attributed violations.
  std::vector<NemesisEvent> events;

  // Nothing lost and order held (duplicates and unacknowledged deliveries
  // are allowed: at-least-once).
  bool ok() const { return lost == 0 && out_of_order == 0; }
};

// ---------------------------------------------------------------- checker

class OrderChecker {
 public:
  struct Options {
    // Times in the report are measured from here.
    absl::Time start = absl::Now();
    // Examples kept per kind (the counters count everything).
    size_t max_examples = 5;
    // Deliveries of a key index at or above this are counted as foreign
    // (a garbled probe must not make the checker allocate).
    uint32_t max_keys = 1u << 20;
  };

  // One delivered record.
  struct Delivery {
    uint32_t key = 0;
    uint64_t counter = 0;
    // Its sequence number when it was read from the stream the generator
    // wrote (so two copies of one record tell a producer retry from a
    // re-delivery); nullopt when read from elsewhere (an output stream).
    std::optional<SequenceNumber> sequence_number;
    std::string_view shard_id;    // where it was read (messages only)
    int64_t put_unix_micros = 0;  // from the probe; 0: no latency sample
  };

  OrderChecker();
  explicit OrderChecker(Options options);
  ~OrderChecker();
  OrderChecker(const OrderChecker&) = delete;
  OrderChecker& operator=(const OrderChecker&) = delete;

  // ---- generator side
  // `counter` of `key` was acknowledged, written to `shard`.
  void Acknowledged(uint32_t key, uint64_t counter, ShardId shard);
  struct Ack {
    uint32_t key;
    uint64_t counter;
    ShardId shard;
  };
  void Acknowledged(absl::Span<const Ack> acks);
  // The generator retried the record after an attempt whose outcome was
  // unknown (a timeout, a 5xx, a dropped connection): it may be stored twice.
  void MaybeWrittenTwice(uint32_t key, uint64_t counter);

  // ---- nemesis side
  // The consumer (or the server it reads from) restarted: a record
  // delivered before this and again after it is a redelivery after restart.
  void Restarted();
  // Records `event` (events are attributed violations at Finish()).
  void Event(NemesisEvent event);

  // ---- consumer side
  // Records delivered at `at`, in the order the consumer handed them over.
  void Delivered(absl::Span<const Delivery> batch, absl::Time at);
  // `n` records that were not this run's (another run's probe, or no probe).
  void Foreign(uint64_t n);

  // ---- progress (cheap; for deciding when the consumer has caught up)
  uint64_t acknowledged() const;
  // Acknowledged records not delivered yet.
  uint64_t outstanding() const;
  uint64_t out_of_order() const;
  uint64_t deliveries() const;
  // Counters held one by one: delivered or acknowledged ahead of a gap of
  // their key. The checker's memory beyond a fixed amount per key and per
  // shard change (zero for a consumer that keeps order and loses nothing).
  uint64_t held_counters() const;

  // The verdict on everything so far (may be called repeatedly).
  OrderReport Finish() const;

 private:
  struct State;
  const Options options_;
  std::unique_ptr<State> state_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_ORDER_CHECKER_H_
