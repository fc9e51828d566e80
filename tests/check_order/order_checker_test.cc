// The checker of `tributary check-order` (tributary/testing/order_checker.h)
// on hand-made histories: each problem it must report, fed to it directly,
// and the histories it must pass.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tributary/testing/check_order.h"
#include "tributary/testing/order_checker.h"

namespace tributary::testing {
namespace {

using Delivery = OrderChecker::Delivery;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

OrderChecker::Options CheckerOptions() {
  OrderChecker::Options o;
  o.start = kStart;
  return o;
}

Delivery D(uint32_t key, uint64_t counter, std::string_view shard = "shardId-000000000000") {
  Delivery d;
  d.key = key;
  d.counter = counter;
  d.shard_id = shard;
  return d;
}

Delivery WithSeq(Delivery d, uint64_t counter, uint32_t shard) {
  d.sequence_number = SequenceNumber::FromParts(counter, shard);
  return d;
}

// Writes counters [from, to) of `key` to `shard`, acknowledged.
void Write(OrderChecker& c, uint32_t key, uint64_t from, uint64_t to, uint32_t shard) {
  for (uint64_t i = from; i < to; ++i) c.Acknowledged(key, i, ShardId(shard));
}

TEST_CASE("order checker: probes round-trip through record data", "[check-order][checker]") {
  OrderProbe p{0x0123456789abcdefull, 3, 17, 42, 1700000000123456};
  const std::string data = EncodeProbe(p);
  CHECK(data == "tco1 0123456789abcdef 3 17 42 1700000000123456");
  auto back = DecodeProbe(data);
  REQUIRE(back.has_value());
  CHECK(back->run == p.run);
  CHECK(back->writer == 3);
  CHECK(back->key == 17);
  CHECK(back->counter == 42);
  CHECK(back->put_unix_micros == p.put_unix_micros);
  const std::string padded = EncodeProbe(p, 100);
  CHECK(padded.size() == 100);
  REQUIRE(DecodeProbe(padded).has_value());
  CHECK(DecodeProbe(padded)->counter == 42);
  CHECK_FALSE(DecodeProbe("hello").has_value());
  CHECK_FALSE(DecodeProbe("tco1 0123 3 17 42 1").has_value());  // run id not 16 hex digits
  CHECK_FALSE(DecodeProbe("tco1 0123456789abcdef 3 17 x 1").has_value());
  CHECK_FALSE(DecodeProbe("tco1 0123456789abcdef 3 17").has_value());
  CHECK(ProbePartitionKey(17) == "key-17");
}

TEST_CASE("order checker: an in-order, complete history passes", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 0, 0, 100, 0);
  Write(c, 1, 0, 100, 1);
  std::vector<Delivery> batch;
  for (uint64_t i = 0; i < 100; ++i) {
    batch.push_back(D(0, i));
    batch.push_back(D(1, i, "shardId-000000000001"));
  }
  c.Delivered(batch, kStart + absl::Seconds(1));
  OrderReport r = c.Finish();
  CHECK(r.ok());
  CHECK(r.acknowledged == 200);
  CHECK(r.distinct == 200);
  CHECK(r.deliveries == 200);
  CHECK(r.lost == 0);
  CHECK(r.out_of_order == 0);
  CHECK(r.duplicates == 0);
  CHECK(r.keys == 2);
  CHECK(c.outstanding() == 0);
}

TEST_CASE("order checker: a lost record is reported with its key, counter and shard", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 5, 0, 10, 2);
  std::vector<Delivery> batch;
  for (uint64_t i = 0; i < 10; ++i) {
    if (i != 6) batch.push_back(D(5, i, "shardId-000000000002"));
  }
  c.Delivered(batch, kStart);
  CHECK(c.outstanding() == 1);
  OrderReport r = c.Finish();
  CHECK_FALSE(r.ok());
  CHECK(r.lost == 1);
  CHECK(r.out_of_order == 0);  // a gap is not a reorder
  REQUIRE(r.lost_examples.size() == 1);
  CHECK(r.lost_examples[0].key == 5);
  CHECK(r.lost_examples[0].counter == 6);
  CHECK(r.lost_examples[0].shard == "shardId-000000000002");
}

TEST_CASE("order checker: lost records at the tail of a key, and a key never delivered", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 0, 0, 5, 0);
  Write(c, 1, 0, 3, 0);
  c.Delivered({D(0, 0), D(0, 1), D(0, 2)}, kStart);
  OrderReport r = c.Finish();
  CHECK(r.lost == 2 + 3);
  CHECK(r.lost_examples.size() == 5);
  CHECK(r.lost_examples[0].key == 0);
  CHECK(r.lost_examples[0].counter == 3);
}

TEST_CASE("order checker: a reorder across a merge is attributed to the merge", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  // key 9: counters 0..4 in shard 1, then shards 1 and 2 merge into 3, and
  // counters 5..9 go to shard 3. A naive reader reads shard 3 first.
  Write(c, 9, 0, 5, 1);
  Write(c, 9, 5, 10, 3);
  NemesisEvent split;
  split.index = 1;
  split.kind = NemesisKind::kSplitShard;
  split.closed = {"shardId-000000000000"};
  split.opened = {"shardId-000000000001", "shardId-000000000002"};
  c.Event(split);
  NemesisEvent merge;
  merge.index = 2;
  merge.kind = NemesisKind::kMergeShards;
  merge.closed = {"shardId-000000000001", "shardId-000000000002"};
  merge.opened = {"shardId-000000000003"};
  c.Event(merge);
  std::vector<Delivery> batch;
  for (uint64_t i = 5; i < 10; ++i) batch.push_back(D(9, i, "shardId-000000000003"));
  for (uint64_t i = 0; i < 5; ++i) batch.push_back(D(9, i, "shardId-000000000001"));
  c.Delivered(batch, kStart + absl::Seconds(2));
  OrderReport r = c.Finish();
  CHECK_FALSE(r.ok());
  CHECK(r.lost == 0);
  CHECK(r.out_of_order == 5);  // 0..4, each first delivered after 9
  REQUIRE(!r.violations.empty());
  const OrderViolation& v = r.violations[0];
  CHECK(v.key == 9);
  CHECK(v.counter == 0);
  CHECK(v.after_counter == 9);
  CHECK(v.shard == "shardId-000000000001");
  CHECK(v.after_shard == "shardId-000000000003");
  CHECK(v.read_from == "shardId-000000000001");
  CHECK(v.event == 2);
  CHECK(v.at == absl::Seconds(2));
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].violations == 0);
  CHECK(r.events[1].violations == 5);
  CHECK(r.violations_within_shard == 0);
  CHECK(r.violations_unattributed == 0);
}

TEST_CASE("order checker: a reorder inside one shard is counted as such", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 1, 0, 4, 0);
  c.Delivered({D(1, 1), D(1, 0), D(1, 3), D(1, 2)}, kStart);
  OrderReport r = c.Finish();
  CHECK(r.out_of_order == 2);
  CHECK(r.violations_within_shard == 2);
  CHECK(r.lost == 0);
  REQUIRE(r.violations.size() == 2);
  CHECK(r.violations[0].event == 0);
}

TEST_CASE("order checker: duplicates are never order violations, and are told apart", "[check-order][checker]") {
  SECTION("a record redelivered after a restart") {
    OrderChecker c(CheckerOptions());
    Write(c, 2, 0, 6, 0);
    c.Delivered({WithSeq(D(2, 0), 1, 0), WithSeq(D(2, 1), 2, 0), WithSeq(D(2, 2), 3, 0), WithSeq(D(2, 3), 4, 0)},
                kStart);
    c.Restarted();  // the consumer resumes from its checkpoint after #1
    c.Delivered({WithSeq(D(2, 2), 3, 0), WithSeq(D(2, 3), 4, 0), WithSeq(D(2, 4), 5, 0), WithSeq(D(2, 5), 6, 0)},
                kStart);
    OrderReport r = c.Finish();
    CHECK(r.ok());
    CHECK(r.duplicates == 2);
    CHECK(r.redelivered_after_restart == 2);
    CHECK(r.true_duplicates == 0);
    CHECK(r.written_twice == 0);
    CHECK(r.out_of_order == 0);
    CHECK(r.restarts == 1);
  }
  SECTION("a record stored twice by a producer retry: two sequence numbers") {
    OrderChecker c(CheckerOptions());
    Write(c, 2, 0, 3, 0);
    c.Delivered({WithSeq(D(2, 0), 1, 0), WithSeq(D(2, 1), 2, 0), WithSeq(D(2, 1), 3, 0), WithSeq(D(2, 2), 4, 0)},
                kStart);
    OrderReport r = c.Finish();
    CHECK(r.ok());
    CHECK(r.written_twice == 1);
    CHECK(r.true_duplicates == 0);
  }
  SECTION("a record the generator declared maybe written twice, read from an output stream") {
    OrderChecker c(CheckerOptions());
    Write(c, 2, 0, 3, 0);
    c.MaybeWrittenTwice(2, 1);
    c.Delivered({D(2, 0), D(2, 1), D(2, 1), D(2, 2)}, kStart);
    OrderReport r = c.Finish();
    CHECK(r.written_twice == 1);
    CHECK(r.true_duplicates == 0);
  }
  SECTION("the same stored record delivered twice with no restart") {
    OrderChecker c(CheckerOptions());
    Write(c, 2, 0, 3, 0);
    c.MaybeWrittenTwice(2, 1);  // refuted: both deliveries carry one sequence number
    c.Delivered({WithSeq(D(2, 0), 1, 0), WithSeq(D(2, 1), 2, 0), WithSeq(D(2, 1), 2, 0), WithSeq(D(2, 2), 3, 0)},
                kStart);
    OrderReport r = c.Finish();
    CHECK(r.ok());  // at-least-once: a duplicate is allowed
    CHECK(r.duplicates == 1);
    CHECK(r.true_duplicates == 1);
    REQUIRE(r.duplicate_examples.size() == 1);
    CHECK(r.duplicate_examples[0].kind == DuplicateKind::kTrueDuplicate);
    CHECK(r.duplicate_examples[0].counter == 1);
  }
}

TEST_CASE("order checker: unacknowledged deliveries are allowed and counted", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 4, 0, 3, 0);
  // Counter 3 was in flight when the writers stopped: stored, never acknowledged.
  c.Delivered({D(4, 0), D(4, 1), D(4, 2), D(4, 3)}, kStart);
  OrderReport r = c.Finish();
  CHECK(r.ok());
  CHECK(r.unacknowledged_delivered == 1);
  CHECK(r.acknowledged == 3);
  CHECK(r.distinct == 4);
}

TEST_CASE("order checker: acknowledgements may come after deliveries", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  c.Delivered({D(0, 0), D(0, 1)}, kStart);
  CHECK(c.outstanding() == 0);
  Write(c, 0, 0, 3, 0);
  CHECK(c.outstanding() == 1);
  c.Delivered({D(0, 2)}, kStart);
  CHECK(c.outstanding() == 0);
  OrderReport r = c.Finish();
  CHECK(r.ok());
  CHECK(r.unacknowledged_delivered == 0);
}

TEST_CASE("order checker: latency percentiles from put time to delivery", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 0, 0, 100, 0);
  std::vector<Delivery> batch;
  const int64_t at = absl::ToUnixMicros(kStart + absl::Seconds(10));
  for (uint64_t i = 0; i < 100; ++i) {
    Delivery d = D(0, i);
    d.put_unix_micros = at - static_cast<int64_t>((i + 1) * 1000);  // 1 .. 100 ms
    batch.push_back(d);
  }
  c.Delivered(batch, kStart + absl::Seconds(10));
  OrderReport r = c.Finish();
  CHECK(r.latency.count == 100);
  // Buckets are within about 6% of the value.
  CHECK(absl::ToDoubleMilliseconds(r.latency.p50) >= 50);
  CHECK(absl::ToDoubleMilliseconds(r.latency.p50) <= 54);
  CHECK(absl::ToDoubleMilliseconds(r.latency.p99) >= 99);
  CHECK(absl::ToDoubleMilliseconds(r.latency.p99) <= 100);
  CHECK(r.latency.max == absl::Milliseconds(100));
}

TEST_CASE("order checker: memory follows keys, not records", "[check-order][checker]") {
  // 1,000,000 records over 10 keys, in order: the checker keeps per key a
  // prefix, not the records; out-of-order windows are the only growth.
  OrderChecker c(CheckerOptions());
  std::vector<OrderChecker::Ack> acks;
  std::vector<Delivery> batch;
  for (uint64_t i = 0; i < 100000; ++i) {
    acks.clear();
    batch.clear();
    for (uint32_t k = 0; k < 10; ++k) {
      acks.push_back({k, i, ShardId(k % 2)});
      batch.push_back(D(k, i));
    }
    c.Acknowledged(acks);
    c.Delivered(batch, kStart);
  }
  OrderReport r = c.Finish();
  CHECK(r.ok());
  CHECK(r.acknowledged == 1000000);
  CHECK(r.distinct == 1000000);
  CHECK(c.held_counters() == 0);
}

TEST_CASE("order checker: a reordering window is held until its gap closes", "[check-order][checker]") {
  OrderChecker c(CheckerOptions());
  Write(c, 0, 0, 10, 0);
  c.Delivered({D(0, 0), D(0, 5), D(0, 6), D(0, 7)}, kStart);
  CHECK(c.held_counters() == 3);  // 5, 6, 7 wait for 1..4
  c.Delivered({D(0, 1), D(0, 2), D(0, 3), D(0, 4), D(0, 8), D(0, 9)}, kStart);
  CHECK(c.held_counters() == 0);
  CHECK(c.Finish().out_of_order == 4);
}

TEST_CASE("order checker: key indexes past max_keys are foreign", "[check-order][checker]") {
  OrderChecker::Options o = CheckerOptions();
  o.max_keys = 10;
  OrderChecker c(o);
  c.Delivered({D(3, 0), D(1000000, 0)}, kStart);
  c.Foreign(2);
  OrderReport r = c.Finish();
  CHECK(r.foreign == 3);
  CHECK(r.distinct == 1);
}

TEST_CASE("check-order: consumer kinds parse", "[check-order]") {
  CheckConsumer kind;
  std::string out;
  REQUIRE(ParseCheckConsumer("naive", &kind, &out).ok());
  CHECK(kind == CheckConsumer::kNaive);
  REQUIRE(ParseCheckConsumer("output:copy", &kind, &out).ok());
  CHECK(kind == CheckConsumer::kOutput);
  CHECK(out == "copy");
  CHECK(ToString(kind, out) == "output:copy");
  CHECK_FALSE(ParseCheckConsumer("output:", &kind, &out).ok());
  CHECK_FALSE(ParseCheckConsumer("kcl", &kind, &out).ok());
}

}  // namespace
}  // namespace tributary::testing
