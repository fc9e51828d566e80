// OrderingVerifier: checks what a consumer delivered against what producers
// wrote: per-partition-key sequence order, and completeness.
//
// Feed it every record the store acknowledged (Acknowledged) and every
// record the consumer handed to the host, in the order the host saw them
// (Delivered); then Check(). It reports:
//   * out of order: a record of key K delivered for the first time after a
//     record of K with a higher sequence number was delivered (the rule a
//     reader breaks when it reads a child shard before its parent);
//   * missing: an acknowledged record never delivered;
//   * duplicates: a record delivered again. Counted, and an error only
//     under DeliveryGuarantee::kExactlyOnce (at-least-once consumers
//     re-deliver after crashes and lease takeovers; a re-delivery is never
//     an order violation, however late it comes);
//   * unacknowledged: delivered records nobody acknowledged by the time of
//     Check() (an error by default: the store made up a record, or the test
//     forgot one). Judged at Check(), so a consumer may see a record before
//     its producer got around to Acknowledged().
//
// Sequence numbers identify records (they are unique within a stream), so
// one verifier checks one stream.
//
// Thread safety: safe for concurrent use (workers on several threads may
// call Delivered at once; the order of their calls is the order checked).
// Part of the tributary::testing library (link tributary::testing).
#ifndef TRIBUTARY_TESTING_ORDERING_VERIFIER_H_
#define TRIBUTARY_TESTING_ORDERING_VERIFIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "tributary/consumer.h"
#include "tributary/store.h"
#include "tributary/types.h"

namespace tributary::testing {

enum class DeliveryGuarantee { kAtLeastOnce, kExactlyOnce };

class OrderingVerifier {
 public:
  struct Options {
    DeliveryGuarantee guarantee = DeliveryGuarantee::kAtLeastOnce;
    // Delivered records that were never acknowledged are errors; set false
    // to only count them (e.g. when some producer acknowledgements were
    // lost on purpose).
    bool require_acknowledged = true;
    // Problems kept verbatim in the report (the counters count them all).
    size_t max_problems = 20;
  };

  struct Report {
    uint64_t acknowledged = 0;
    uint64_t delivered = 0;  // every delivery, duplicates included
    uint64_t distinct = 0;   // records delivered at least once
    uint64_t duplicates = 0;
    uint64_t out_of_order = 0;
    uint64_t missing = 0;  // acknowledged, never delivered
    uint64_t unacknowledged = 0;
    uint64_t key_mismatches = 0;        // delivered with another key than acknowledged
    uint64_t keys = 0;                  // partition keys delivered
    std::vector<std::string> problems;  // the first few, human-readable
    bool exactly_once = false;
    bool require_acknowledged = true;

    // No order violation, nothing missing; no duplicate under exactly-once;
    // nothing unacknowledged when that is required.
    bool ok() const {
      return out_of_order == 0 && missing == 0 && key_mismatches == 0 && (!exactly_once || duplicates == 0) &&
             (!require_acknowledged || unacknowledged == 0);
    }
    // One line of counters, then the problems, one per line.
    std::string ToString() const;
  };

  OrderingVerifier();
  explicit OrderingVerifier(Options options);
  ~OrderingVerifier();
  OrderingVerifier(const OrderingVerifier&) = delete;
  OrderingVerifier& operator=(const OrderingVerifier&) = delete;

  // A record the store acknowledged (Put or a successful PutBatch entry).
  void Acknowledged(std::string_view partition_key, SequenceNumber sequence_number);

  // Records the host received, in the order it received them.
  void Delivered(std::string_view shard_id, const Record& record);
  void Delivered(std::string_view shard_id, absl::Span<const Record> records);
  void Delivered(const RecordBatch& batch);

  // The verdict on everything fed so far (may be called repeatedly).
  Report Check() const;

 private:
  struct State;
  const Options options_;
  std::unique_ptr<State> state_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_ORDERING_VERIFIER_H_
