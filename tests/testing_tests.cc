// The testing toolkit for users (include/tributary/testing.h, target
// tributary::testing): fault injection through StoreOptions::fault_injector,
// the manual-clock helpers and the reshard helpers. Each test checks what the
// store really did (records read back, shard listings, clock readings), not
// just that the helper returned OK.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/testing.h"

namespace tributary::testing {
namespace {

// Every record of a shard, from TRIM_HORIZON to the current tip.
std::vector<Record> ReadShard(Store& store, const std::string& stream, const std::string& shard) {
  std::vector<Record> out;
  absl::StatusOr<std::string> it = store.GetShardIterator({stream, shard, ShardIteratorType::kTrimHorizon});
  REQUIRE_OK(it);
  std::optional<std::string> next = *it;
  while (next.has_value()) {
    absl::StatusOr<GetRecordsResult> r = store.GetRecords(*next);
    REQUIRE_OK(r);
    if (r->records.empty()) break;
    for (Record& rec : r->records) out.push_back(std::move(rec));
    next = r->next_shard_iterator;
  }
  return out;
}

std::vector<std::string> Datas(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.data);
  return out;
}

std::unique_ptr<TestStore> NewTestStore(StoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<TestStore>> t = TestStore::Create(options);
  REQUIRE_OK(t);
  return std::move(*t);
}

TEST_CASE("a throttled Put fails with ProvisionedThroughputExceeded and writes nothing",
          "[testing][fault]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 1));
  t->faults().ThrottlePuts(2);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<PutRecordResult> put = t->store().Put("s", {"k", "lost"});
    REQUIRE_ERROR(put, ErrorType::kProvisionedThroughputExceeded);
    CHECK(put.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(put.status().message()), Catch::Contains("injected"));
  }
  REQUIRE_OK(t->store().Put("s", {"k", "kept"}));
  CHECK(t->faults().injected(Call::kPut) == 2);
  CHECK(t->faults().exhausted());
  CHECK(Datas(ReadShard(t->store(), "s", "shardId-000000000000")) == std::vector<std::string>{"kept"});
}

TEST_CASE("Put faults can target one stream or one partition key", "[testing][fault]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("a", 1));
  REQUIRE_OK(t->store().CreateStream("b", 1));
  t->faults().FailPutsInternally(kAlways, {.stream = "a", .partition_key = "bad"});
  REQUIRE_ERROR(t->store().Put("a", {"bad", "x"}), ErrorType::kInternalFailure);
  REQUIRE_ERROR(t->store().Put("a", {"bad", "x"}), ErrorType::kInternalFailure);
  REQUIRE_OK(t->store().Put("a", {"good", "x"}));
  REQUIRE_OK(t->store().Put("b", {"bad", "x"}));
  CHECK(t->faults().injected(Call::kPut) == 2);
  CHECK_FALSE(t->faults().exhausted());  // kAlways never runs out
  t->faults().Clear();
  REQUIRE_OK(t->store().Put("a", {"bad", "x"}));
}

TEST_CASE("invalid input is reported before an injected fault, which stays armed",
          "[testing][fault]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 1));
  t->faults().ThrottlePuts(1);
  REQUIRE_ERROR(t->store().Put("s", {"", "no key"}), ErrorType::kValidation);
  CHECK(t->faults().injected(Call::kPut) == 0);
  REQUIRE_ERROR(t->store().Put("s", {"k", "x"}), ErrorType::kProvisionedThroughputExceeded);
}

TEST_CASE("a partial PutBatch failure writes exactly the records that did not fail",
          "[testing][fault]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 1));
  std::vector<PutRecordInput> batch;
  const std::vector<std::string> data = {"r0", "r1", "r2", "r3", "r4"};
  for (const std::string& d : data) batch.push_back({"key", d});

  SECTION("throttled records") {
    t->faults().FailBatchRecords({1, 3});
    absl::StatusOr<PutBatchResult> r = t->store().PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 2);
    REQUIRE(r->records.size() == 5);
    for (size_t i : {1u, 3u}) {
      CHECK(r->records[i].error_code == "ProvisionedThroughputExceededException");
      CHECK_FALSE(r->records[i].sequence_number.has_value());
      CHECK_THAT(r->records[i].error_message, Catch::Contains("Records[" + std::to_string(i) + "]"));
    }
    for (size_t i : {0u, 2u, 4u}) {
      REQUIRE(r->records[i].ok());
      CHECK(r->records[i].shard_id == std::string("shardId-000000000000"));
    }
    CHECK(*r->records[0].sequence_number < *r->records[2].sequence_number);
    CHECK(*r->records[2].sequence_number < *r->records[4].sequence_number);
    std::vector<Record> got = ReadShard(t->store(), "s", "shardId-000000000000");
    CHECK(Datas(got) == std::vector<std::string>{"r0", "r2", "r4"});
    CHECK(got[1].sequence_number == *r->records[2].sequence_number);
    CHECK(t->faults().injected_records() == 2);
    CHECK(t->faults().injected(Call::kPutBatch) == 1);
    // The rule fired once: the next batch is written whole.
    absl::StatusOr<PutBatchResult> again = t->store().PutBatch("s", batch);
    REQUIRE_OK(again);
    CHECK(again->failed_record_count == 0);
  }
  SECTION("internal failures chosen by a predicate, every record") {
    t->faults().FailBatchRecordsIf([](size_t, const PutRecordInput&) { return true; },
                                   ErrorType::kInternalFailure);
    absl::StatusOr<PutBatchResult> r = t->store().PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 5);
    for (const PutBatchEntryResult& e : r->records) CHECK(e.error_code == "InternalFailure");
    CHECK(ReadShard(t->store(), "s", "shardId-000000000000").empty());
  }
  SECTION("records of one partition key") {
    batch[2].partition_key = "other";
    t->faults().FailBatchRecordsIf([](size_t, const PutRecordInput&) { return true; },
                                   ErrorType::kProvisionedThroughputExceeded, 1, {.partition_key = "other"});
    absl::StatusOr<PutBatchResult> r = t->store().PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 1);
    CHECK_FALSE(r->records[2].ok());
    CHECK(Datas(ReadShard(t->store(), "s", "shardId-000000000000")) ==
          std::vector<std::string>{"r0", "r1", "r3", "r4"});
  }
  SECTION("a whole-call failure writes nothing") {
    t->faults().FailCalls(Call::kPutBatch, InjectedError(ErrorType::kInternalFailure, "PutRecords"));
    REQUIRE_ERROR(t->store().PutBatch("s", batch), ErrorType::kInternalFailure);
    CHECK(ReadShard(t->store(), "s", "shardId-000000000000").empty());
  }
}

TEST_CASE("read faults: expired iterators, throttled and failed GetRecords and GetShardIterator",
          "[testing][fault]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 2));
  REQUIRE_OK(t->store().Put("s", {"k", "v"}, std::nullopt));
  const std::string shard0 = "shardId-000000000000", shard1 = "shardId-000000000001";
  ASSIGN_OR_REQUIRE(std::string it0, t->store().GetShardIterator({"s", shard0, ShardIteratorType::kTrimHorizon}));
  ASSIGN_OR_REQUIRE(std::string it1, t->store().GetShardIterator({"s", shard1, ShardIteratorType::kTrimHorizon}));

  t->faults().ExpireIterators(1, {.shard_id = shard1});
  REQUIRE_OK(t->store().GetRecords(it0));  // other shard: untouched
  absl::StatusOr<GetRecordsResult> r = t->store().GetRecords(it1);
  REQUIRE_ERROR(r, ErrorType::kExpiredIterator);
  CHECK(r.status().code() == absl::StatusCode::kOutOfRange);
  REQUIRE_OK(t->store().GetRecords(it1));  // fired once

  t->faults().ThrottleGetRecords(1).FailGetRecordsInternally(1);
  REQUIRE_ERROR(t->store().GetRecords(it0), ErrorType::kProvisionedThroughputExceeded);
  REQUIRE_ERROR(t->store().GetRecords(it0), ErrorType::kInternalFailure);
  REQUIRE_OK(t->store().GetRecords(it0));
  CHECK(t->faults().injected(Call::kGetRecords) == 3);

  t->faults().FailGetShardIterator(ErrorType::kProvisionedThroughputExceeded, 1, {.stream = "s"});
  REQUIRE_ERROR(t->store().GetShardIterator({"s", shard0, ShardIteratorType::kLatest}),
                ErrorType::kProvisionedThroughputExceeded);
  REQUIRE_OK(t->store().GetShardIterator({"s", shard0, ShardIteratorType::kLatest}));
  // A malformed iterator is still InvalidArgument, whatever the rules say.
  t->faults().ExpireIterators(kAlways);
  REQUIRE_ERROR(t->store().GetRecords("not-an-iterator"), ErrorType::kInvalidArgument);
}

TEST_CASE("random faults are reproducible from their seed", "[testing][fault]") {
  auto pattern = [](uint64_t seed, double p) {
    auto t = NewTestStore();
    REQUIRE_OK(t->store().CreateStream("s", 1));
    t->faults().FailRandomly(Call::kPut, p, InjectedError(ErrorType::kInternalFailure, "Put"), seed);
    std::string out;
    for (int i = 0; i < 64; ++i) out += t->store().Put("s", {"k", "v"}).ok() ? '.' : 'X';
    return out;
  };
  const std::string a = pattern(7, 0.5);
  CHECK(a == pattern(7, 0.5));
  CHECK(a != pattern(8, 0.5));
  CHECK(a.find('X') != std::string::npos);
  CHECK(a.find('.') != std::string::npos);
  CHECK(pattern(7, 0.0) == std::string(64, '.'));
  CHECK(pattern(7, 1.0) == std::string(64, 'X'));
}

TEST_CASE("a custom FaultInjector sees every data-plane call", "[testing][fault]") {
  struct Recorder : FaultInjector {
    std::vector<std::string> calls;
    absl::Status OnPut(std::string_view s, const PutRecordInput& r) override {
      calls.push_back("Put " + std::string(s) + " " + std::string(r.partition_key));
      return absl::OkStatus();
    }
    absl::Status OnPutBatch(std::string_view s, absl::Span<const PutRecordInput> rs,
                            std::vector<absl::Status>* errors) override {
      calls.push_back("PutBatch " + std::string(s) + " " + std::to_string(rs.size()) + " " +
                      std::to_string(errors->size()));
      return absl::OkStatus();
    }
    absl::Status OnGetShardIterator(const GetShardIteratorRequest& r) override {
      calls.push_back("GetShardIterator " + r.stream + " " + r.shard_id);
      return absl::OkStatus();
    }
    absl::Status OnGetRecords(std::string_view s, std::string_view shard) override {
      calls.push_back("GetRecords " + std::string(s) + " " + std::string(shard));
      return absl::OkStatus();
    }
  } recorder;
  StoreOptions options;
  options.fault_injector = &recorder;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory(options));
  REQUIRE_OK(store->CreateStream("s", 1));
  REQUIRE_OK(store->Put("s", {"k1", "a"}));
  std::vector<PutRecordInput> batch = {{"k2", "b"}, {"k3", "c"}};
  ASSIGN_OR_REQUIRE(PutBatchResult b, store->PutBatch("s", batch));
  CHECK(b.failed_record_count == 0);
  ASSIGN_OR_REQUIRE(std::string it, store->GetShardIterator({"s", "shardId-000000000000"}));
  ASSIGN_OR_REQUIRE(GetRecordsResult r, store->GetRecords(it));
  CHECK(Datas(r.records) == std::vector<std::string>{"a", "b", "c"});
  CHECK(recorder.calls == std::vector<std::string>{
                              "Put s k1", "PutBatch s 2 2", "GetShardIterator s shardId-000000000000",
                              "GetRecords s shardId-000000000000"});
}

TEST_CASE("clock helpers move exactly past iterator lifetime and retention", "[testing][clock]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 1));
  REQUIRE_OK(t->store().IncreaseStreamRetentionPeriod("s", 48));
  REQUIRE_OK(t->store().Put("s", {"k", "old"}));
  const absl::Time start = t->clock().Now();

  ASSIGN_OR_REQUIRE(std::string it, t->store().GetShardIterator({"s", "shardId-000000000000"}));
  AdvancePastIteratorLifetime(t->clock());
  CHECK(t->clock().Now() - start == limits::kIteratorLifetime + kTick);
  REQUIRE_ERROR(t->store().GetRecords(it), ErrorType::kExpiredIterator);  // real expiry
  CHECK(t->faults().injected(Call::kGetRecords) == 0);

  AdvancePastRetention(t->clock());  // 24 h: the stream keeps 48 h
  CHECK(Datas(ReadShard(t->store(), "s", "shardId-000000000000")) == std::vector<std::string>{"old"});
  REQUIRE_OK(AdvancePastRetention(t->clock(), t->store(), "s"));
  CHECK(ReadShard(t->store(), "s", "shardId-000000000000").empty());
  REQUIRE_ERROR(AdvancePastRetention(t->clock(), t->store(), "nope"), ErrorType::kResourceNotFound);
}

TEST_CASE("AdvanceUntilActive ends exactly at the end of CREATING", "[testing][clock]") {
  StoreOptions options;
  options.create_delay = absl::Milliseconds(750);
  auto t = NewTestStore(options);
  REQUIRE_OK(t->store().CreateStream("s", 1));
  const absl::Time start = t->clock().Now();
  REQUIRE_ERROR(t->store().Put("s", {"k", "v"}), ErrorType::kResourceNotFound);  // CREATING
  REQUIRE_OK(AdvanceUntilActive(t->clock(), t->store(), "s"));
  CHECK(t->clock().Now() - start == absl::Milliseconds(750));
  REQUIRE_OK(t->store().Put("s", {"k", "v"}));

  ManualClock other;
  REQUIRE(AdvanceUntilActive(other, t->store(), "s").code() == absl::StatusCode::kFailedPrecondition);
  AdvancePastDeleteDelay(t->clock(), t->options());  // zero delay: one tick
  CHECK(t->clock().Now() - start == absl::Milliseconds(751));
}

TEST_CASE("SplitShardForKey splits the shard a key routes to and waits on the manual clock",
          "[testing][reshard]") {
  StoreOptions options;
  options.update_delay = absl::Milliseconds(500);
  auto t = NewTestStore(options);
  REQUIRE_OK(t->store().CreateStream("s", 2));
  ASSIGN_OR_REQUIRE(ShardDescription before, OpenShardForKey(t->store(), "s", "customer-42"));
  const absl::Time start = t->clock().Now();

  ASSIGN_OR_REQUIRE(Reshard r, SplitShardForKey(t->store(), "s", "customer-42"));
  CHECK(t->clock().Now() - start == absl::Milliseconds(500));
  CHECK(r.parents == std::vector<std::string>{before.shard_id});
  REQUIRE(r.children.size() == 2);
  ASSIGN_OR_REQUIRE(ShardDescription after, OpenShardForKey(t->store(), "s", "customer-42"));
  CHECK((after.shard_id == r.children[0] || after.shard_id == r.children[1]));
  CHECK(after.parent_shard_id == before.shard_id);
  ASSIGN_OR_REQUIRE(std::vector<ShardDescription> all, ListAllShards(t->store(), "s"));
  CHECK(all.size() == 4);
  // The children exactly cover the parent's range, split at its midpoint.
  HashKeyRange lo, hi;
  for (const ShardDescription& s : all) {
    if (s.shard_id == r.children[0]) lo = s.hash_key_range;
    if (s.shard_id == r.children[1]) hi = s.hash_key_range;
  }
  CHECK(lo.start == before.hash_key_range.start);
  CHECK(hi.start == before.hash_key_range.Midpoint());
  CHECK(hi.end == before.hash_key_range.end);
  ASSIGN_OR_REQUIRE(PutRecordResult put, t->store().Put("s", {"customer-42", "after"}));
  CHECK(put.shard_id == after.shard_id);
}

TEST_CASE("Wait::kNo leaves the reshard pending until WaitForActive", "[testing][reshard]") {
  StoreOptions options;
  options.update_delay = absl::Seconds(2);
  auto t = NewTestStore(options);
  REQUIRE_OK(t->store().CreateStream("s", 1));
  ASSIGN_OR_REQUIRE(Reshard r, SplitShardAt(t->store(), "s", "shardId-000000000000", std::nullopt, Wait::kNo));
  CHECK(r.children.empty());
  ASSIGN_OR_REQUIRE(StreamDescriptionSummary d, t->store().DescribeStreamSummary("s"));
  CHECK(d.stream_status == StreamStatus::kUpdating);
  // The parent still takes writes meanwhile, and a second reshard is refused.
  ASSIGN_OR_REQUIRE(PutRecordResult put, t->store().Put("s", {"k", "during"}));
  CHECK(put.shard_id == std::string("shardId-000000000000"));
  REQUIRE_ERROR(SplitShardForKey(t->store(), "s", "k"), ErrorType::kResourceInUse);
  REQUIRE_OK(WaitForActive(t->store(), "s"));
  ASSIGN_OR_REQUIRE(std::vector<ShardDescription> all, ListAllShards(t->store(), "s"));
  CHECK(all.size() == 3);
}

TEST_CASE("MergeWithNeighbour merges adjacent open shards", "[testing][reshard]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 3));
  SECTION("the last shard merges with the one before it") {
    ASSIGN_OR_REQUIRE(Reshard r, MergeWithNeighbour(t->store(), "s", "shardId-000000000002"));
    // Kinesis merges a shard with the one after it: the lower one is named first.
    CHECK(r.parents == std::vector<std::string>{"shardId-000000000001", "shardId-000000000002"});
    CHECK(r.children == std::vector<std::string>{"shardId-000000000003"});
  }
  SECTION("others merge with the one after them") {
    ASSIGN_OR_REQUIRE(Reshard r, MergeWithNeighbour(t->store(), "s", "shardId-000000000000"));
    CHECK(r.parents == std::vector<std::string>{"shardId-000000000000", "shardId-000000000001"});
    REQUIRE(r.children.size() == 1);
    ASSIGN_OR_REQUIRE(Reshard again, MergeWithNeighbour(t->store(), "s", r.children[0]));
    ASSIGN_OR_REQUIRE(StreamDescriptionSummary d, t->store().DescribeStreamSummary("s"));
    CHECK(d.open_shard_count == 1);
    REQUIRE_ERROR(MergeWithNeighbour(t->store(), "s", again.children[0]), ErrorType::kInvalidArgument);
  }
  REQUIRE_ERROR(MergeWithNeighbour(t->store(), "s", "shardId-000000000099"), ErrorType::kResourceNotFound);
}

TEST_CASE("WaitForActive refuses to wait on a clock it cannot move", "[testing][reshard]") {
  StoreOptions options;
  options.update_delay = absl::Hours(1);  // system clock: would really take an hour
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory(options));
  REQUIRE_OK(store->CreateStream("s", 1));
  REQUIRE_OK(WaitForActive(*store, "s"));  // already ACTIVE: fine on any clock
  absl::StatusOr<Reshard> r = SplitShardAt(*store, "s", "shardId-000000000000");
  REQUIRE(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("ManualClock"));
}

}  // namespace
}  // namespace tributary::testing
