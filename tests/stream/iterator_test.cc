// GetShardIterator and GetRecords: iterator types, expiry, limits,
// MillisBehindLatest, and their error paths.
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::DataOf;
using testing::Input;
using testing::InputWithHash;
using testing::Iterator;
using testing::PutOk;
using testing::ReadFrom;
using testing::StoreFixture;

const std::string kShard0 = "shardId-000000000000";

// A one-shard stream "s" holding records "0".."n-1", one second apart.
std::vector<PutRecordResult> Fill(StoreFixture& f, int n) {
  REQUIRE_OK(f->CreateStream("s", 1));
  std::vector<PutRecordResult> out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) f.clock.Advance(absl::Seconds(1));
    out.push_back(PutOk(*f, "s", "k", std::to_string(i)));
  }
  return out;
}

GetShardIteratorRequest Req(ShardIteratorType type, std::optional<std::string> seq = std::nullopt,
                            std::optional<absl::Time> ts = std::nullopt) {
  GetShardIteratorRequest r;
  r.stream = "s";
  r.shard_id = kShard0;
  r.type = type;
  r.starting_sequence_number = std::move(seq);
  r.timestamp = ts;
  return r;
}

TEST_CASE("TRIM_HORIZON reads from the oldest record", "[stream][iterator]") {
  StoreFixture f;
  Fill(f, 5);
  auto read = ReadFrom(*f, Iterator(*f, "s", kShard0, ShardIteratorType::kTrimHorizon));
  CHECK(DataOf(read.records) == std::vector<std::string>{"0", "1", "2", "3", "4"});
  CHECK_FALSE(read.reached_end);  // an OPEN shard always has a next iterator
}

TEST_CASE("LATEST reads only records put after the iterator was taken", "[stream][iterator]") {
  StoreFixture f;
  Fill(f, 3);
  std::string it = Iterator(*f, "s", kShard0, ShardIteratorType::kLatest);
  auto first = f->GetRecords(it);
  REQUIRE_OK(first);
  CHECK(first->records.empty());
  REQUIRE(first->next_shard_iterator.has_value());
  PutOk(*f, "s", "k", "new");
  auto read = ReadFrom(*f, *first->next_shard_iterator);
  CHECK(DataOf(read.records) == std::vector<std::string>{"new"});
  // The original LATEST iterator is a position, not "the tip at read time".
  auto again = ReadFrom(*f, it);
  CHECK(DataOf(again.records) == std::vector<std::string>{"new"});
}

TEST_CASE("AT_ and AFTER_SEQUENCE_NUMBER start at or after the record", "[stream][iterator]") {
  StoreFixture f;
  auto puts = Fill(f, 5);
  std::string seq2 = puts[2].sequence_number.ToString();
  auto at = ReadFrom(*f, Iterator(*f, "s", kShard0, ShardIteratorType::kAtSequenceNumber, seq2));
  CHECK(DataOf(at.records) == std::vector<std::string>{"2", "3", "4"});
  auto after = ReadFrom(*f, Iterator(*f, "s", kShard0, ShardIteratorType::kAfterSequenceNumber, seq2));
  CHECK(DataOf(after.records) == std::vector<std::string>{"3", "4"});
  std::string last = puts[4].sequence_number.ToString();
  auto after_last = ReadFrom(*f, Iterator(*f, "s", kShard0, ShardIteratorType::kAfterSequenceNumber, last));
  CHECK(after_last.records.empty());
}

TEST_CASE("AFTER_SEQUENCE_NUMBER with the largest counter does not wrap to the start",
          "[stream][iterator]") {
  StoreFixture f;
  Fill(f, 2);
  std::string top = SequenceNumber::FromParts(std::numeric_limits<uint64_t>::max(), 0).ToString();
  auto it = f->GetShardIterator(Req(ShardIteratorType::kAfterSequenceNumber, top));
  if (it.ok()) {
    CHECK(ReadFrom(*f, *it).records.empty());
  } else {
    CHECK_ERROR(it, ErrorType::kInvalidArgument);
  }
}

TEST_CASE("an AT_SEQUENCE_NUMBER iterator past the tip does not skip later records",
          "[stream][iterator]") {
  // A sequence number this shard has not issued yet (counter 1000 on a shard
  // at counter ~3): either reject it, or read the records put afterwards.
  StoreFixture f;
  Fill(f, 3);
  std::string future = SequenceNumber::FromParts(1000, 0).ToString();
  auto it = f->GetShardIterator(Req(ShardIteratorType::kAtSequenceNumber, future));
  if (!it.ok()) {
    CHECK_ERROR(it, ErrorType::kInvalidArgument);
    return;
  }
  auto first = f->GetRecords(*it);
  REQUIRE_OK(first);
  CHECK(first->records.empty());
  PutOk(*f, "s", "k", "later");
  auto read = ReadFrom(*f, *first->next_shard_iterator);
  CHECK(DataOf(read.records) == std::vector<std::string>{"later"});
}

TEST_CASE("AT_TIMESTAMP starts at the first record that arrived at or after it", "[stream][iterator][local-only]") {
  StoreFixture f;
  absl::Time t0 = f.clock.Now();
  Fill(f, 5);  // arrivals t0, t0+1s, ..., t0+4s
  auto from = [&](absl::Time ts) {
    return DataOf(ReadFrom(*f, Iterator(*f, "s", kShard0, ShardIteratorType::kAtTimestamp, std::nullopt, ts))
                      .records);
  };
  CHECK(from(t0 - absl::Hours(1)) == std::vector<std::string>{"0", "1", "2", "3", "4"});
  CHECK(from(t0 + absl::Seconds(2)) == std::vector<std::string>{"2", "3", "4"});
  CHECK(from(t0 + absl::Milliseconds(2500)) == std::vector<std::string>{"3", "4"});
  f.clock.Advance(absl::Seconds(1));
  CHECK(from(f.clock.Now()).empty());
  // Observed Kinesis behaviour: a timestamp in the future is
  // InvalidArgumentException ("The timestampInMillis parameter cannot be
  // greater than the currentTimestampInMillis. ...").
  GetShardIteratorRequest req;
  req.stream = "s";
  req.shard_id = kShard0;
  req.type = ShardIteratorType::kAtTimestamp;
  req.timestamp = f.clock.Now() + absl::Milliseconds(1);
  CHECK_ERROR(f->GetShardIterator(req), ErrorType::kInvalidArgument);
}

TEST_CASE("GetRecords returns at most `limit` records and continues from there", "[stream][iterator]") {
  StoreFixture f;
  Fill(f, 10);
  auto read = ReadFrom(*f, Iterator(*f, "s", kShard0), 3);
  CHECK(read.records.size() == 10);
  CHECK(read.calls >= 4);  // 3 + 3 + 3 + 1
  std::string it = Iterator(*f, "s", kShard0);
  auto one = f->GetRecords(it, 1);
  REQUIRE_OK(one);
  CHECK(DataOf(one->records) == std::vector<std::string>{"0"});
  auto rest = f->GetRecords(*one->next_shard_iterator, 10000);
  REQUIRE_OK(rest);
  CHECK(rest->records.size() == 9);
  // Reusing an iterator rereads from the same position.
  auto again = f->GetRecords(it, 2);
  REQUIRE_OK(again);
  CHECK(DataOf(again->records) == std::vector<std::string>{"0", "1"});
}

TEST_CASE("GetRecords returns at most 10 MiB per call", "[stream][iterator][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::string data((1 << 20) - 1, 'd');
  for (int i = 0; i < 12; ++i) REQUIRE_OK(f->Put("s", Input("k", data)));
  auto r = f->GetRecords(Iterator(*f, "s", kShard0));
  REQUIRE_OK(r);
  size_t bytes = 0;
  for (const auto& rec : r->records) bytes += rec.data.size() + rec.partition_key.size();
  CHECK(bytes <= limits::kMaxGetRecordsBytes);
  CHECK(r->records.size() >= 1);
  CHECK(r->records.size() < 12);
  auto rest = ReadFrom(*f, *r->next_shard_iterator);
  CHECK(r->records.size() + rest.records.size() == 12);
}

TEST_CASE("GetRecords limit must be 1..10000", "[stream][iterator][validation]") {
  StoreFixture f;
  Fill(f, 1);
  std::string it = Iterator(*f, "s", kShard0);
  CHECK_ERROR_IN(f->GetRecords(it, 0), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_ERROR_IN(f->GetRecords(it, -1), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_ERROR_IN(f->GetRecords(it, 10001), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_OK(f->GetRecords(it, 10000));
  CHECK_OK(f->GetRecords(it, 1));
}

TEST_CASE("an iterator expires five minutes after it was issued", "[stream][iterator][expiry][local-only]") {
  StoreFixture f;
  Fill(f, 2);
  std::string it = Iterator(*f, "s", kShard0);
  f.clock.Advance(absl::Minutes(5) - absl::Seconds(1));
  auto r = f->GetRecords(it, 1);
  REQUIRE_OK(r);
  std::string next = *r->next_shard_iterator;
  f.clock.Advance(absl::Seconds(2));
  CHECK_ERROR(f->GetRecords(it), ErrorType::kExpiredIterator);
  // The iterator GetRecords returned is fresh: it has its own five minutes.
  auto r2 = f->GetRecords(next);
  REQUIRE_OK(r2);
  CHECK(DataOf(r2->records) == std::vector<std::string>{"1"});
  f.clock.Advance(absl::Minutes(5) + absl::Seconds(1));
  CHECK_ERROR(f->GetRecords(next), ErrorType::kExpiredIterator);
}

TEST_CASE("a malformed iterator is InvalidArgument", "[stream][iterator][validation]") {
  StoreFixture f;
  Fill(f, 1);
  std::string real = Iterator(*f, "s", kShard0);
  CHECK_ERROR(f->GetRecords("not-an-iterator"), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->GetRecords(std::string(100, 'A')), ErrorType::kInvalidArgument);
  // A tampered token (one character changed) is not accepted either.
  std::string tampered = real;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  CHECK_ERROR(f->GetRecords(tampered), ErrorType::kInvalidArgument);
  // Outside Kinesis' length constraint (1..512).
  CHECK_ERROR_IN(f->GetRecords(""), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_ERROR_IN(f->GetRecords(std::string(513, 'A')), {ErrorType::kValidation, ErrorType::kInvalidArgument});
}

TEST_CASE("iterators are printable tokens of at most 512 characters", "[stream][iterator]") {
  StoreFixture f;
  Fill(f, 1);
  auto type = GENERATE(ShardIteratorType::kTrimHorizon, ShardIteratorType::kLatest,
                       ShardIteratorType::kAtTimestamp);
  std::optional<absl::Time> ts;
  if (type == ShardIteratorType::kAtTimestamp) ts = f.clock.Now();
  std::string it = Iterator(*f, "s", kShard0, type, std::nullopt, ts);
  CHECK(it.size() <= 512);
  CHECK_FALSE(it.empty());
  for (char c : it) CHECK((c >= 0x21 && c <= 0x7e));
}

TEST_CASE("a sequence number of another shard is InvalidArgument", "[stream][iterator][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  auto in1 = f->Put("s", InputWithHash("k", "340282366920938463463374607431768211455"));
  REQUIRE_OK(in1);
  REQUIRE(in1->shard_id == "shardId-000000000001");
  auto req = Req(ShardIteratorType::kAtSequenceNumber, in1->sequence_number.ToString());
  CHECK_ERROR(f->GetShardIterator(req), ErrorType::kInvalidArgument);
  req.type = ShardIteratorType::kAfterSequenceNumber;
  CHECK_ERROR(f->GetShardIterator(req), ErrorType::kInvalidArgument);
}

TEST_CASE("GetShardIterator validates its request", "[stream][iterator][validation]") {
  StoreFixture f;
  Fill(f, 1);
  SECTION("sequence number types need a sequence number") {
    CHECK_ERROR(f->GetShardIterator(Req(ShardIteratorType::kAtSequenceNumber)), ErrorType::kInvalidArgument);
    CHECK_ERROR(f->GetShardIterator(Req(ShardIteratorType::kAfterSequenceNumber)), ErrorType::kInvalidArgument);
  }
  SECTION("AT_TIMESTAMP needs a timestamp") {
    CHECK_ERROR(f->GetShardIterator(Req(ShardIteratorType::kAtTimestamp)), ErrorType::kInvalidArgument);
  }
  SECTION("malformed sequence numbers") {
    CHECK_ERROR(f->GetShardIterator(Req(ShardIteratorType::kAtSequenceNumber, "abc")), ErrorType::kValidation);
    CHECK_ERROR(f->GetShardIterator(Req(ShardIteratorType::kAtSequenceNumber, "1")), ErrorType::kInvalidArgument);
  }
  SECTION("unknown shard") {
    auto req = Req(ShardIteratorType::kTrimHorizon);
    req.shard_id = "shardId-000000000009";
    CHECK_ERROR(f->GetShardIterator(req), ErrorType::kResourceNotFound);
    req.shard_id = "shardId-999999999999";
    CHECK_ERROR(f->GetShardIterator(req), ErrorType::kResourceNotFound);
  }
  SECTION("malformed shard id") {
    auto req = Req(ShardIteratorType::kTrimHorizon);
    // types.h: calls that look a shard up report ResourceNotFound for a malformed id.
    req.shard_id = "bogus";
    CHECK_ERROR(f->GetShardIterator(req), ErrorType::kResourceNotFound);
    req.shard_id = "shardId-x";
    CHECK_ERROR(f->GetShardIterator(req), ErrorType::kResourceNotFound);
  }
  SECTION("unknown stream") {
    auto req = Req(ShardIteratorType::kTrimHorizon);
    req.stream = "other";
    CHECK_ERROR(f->GetShardIterator(req), ErrorType::kResourceNotFound);
  }
}

// Local only: the figures follow the ManualClock, which does not drive a
// remote server (there they follow wall time; the case below runs on both).
TEST_CASE("MillisBehindLatest is 0 when caught up and positive when behind", "[stream][iterator][local-only]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "0");
  f.clock.Advance(absl::Seconds(10));
  PutOk(*f, "s", "k", "1");
  f.clock.Advance(absl::Seconds(5));
  PutOk(*f, "s", "k", "2");

  auto r = f->GetRecords(Iterator(*f, "s", kShard0), 1);
  REQUIRE_OK(r);
  REQUIRE(r->records.size() == 1);
  CHECK(r->millis_behind_latest > 0);
  CHECK(r->millis_behind_latest <= 15000);
  int64_t behind_first = r->millis_behind_latest;

  auto r2 = f->GetRecords(*r->next_shard_iterator, 1);
  REQUIRE_OK(r2);
  CHECK(r2->millis_behind_latest > 0);
  CHECK(r2->millis_behind_latest <= behind_first);

  auto r3 = f->GetRecords(*r2->next_shard_iterator, 10);
  REQUIRE_OK(r3);
  CHECK(DataOf(r3->records) == std::vector<std::string>{"2"});
  CHECK(r3->millis_behind_latest == 0);

  auto empty = f->GetRecords(*r3->next_shard_iterator);
  REQUIRE_OK(empty);
  CHECK(empty->records.empty());
  CHECK(empty->millis_behind_latest == 0);
}

TEST_CASE("MillisBehindLatest is 0 once a reader has caught up", "[stream][iterator]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  for (int i = 0; i < 3; ++i) PutOk(*f, "s", "k", std::to_string(i));
  auto r = f->GetRecords(Iterator(*f, "s", kShard0), 1);
  REQUIRE_OK(r);
  CHECK(r->millis_behind_latest >= 0);
  auto rest = f->GetRecords(*r->next_shard_iterator, 10);
  REQUIRE_OK(rest);
  CHECK(DataOf(rest->records) == std::vector<std::string>{"1", "2"});
  CHECK(rest->millis_behind_latest == 0);
}

TEST_CASE("GetShardIterator accepts a stream ARN", "[stream][iterator][arn]") {
  StoreFixture f;
  Fill(f, 2);
  GetShardIteratorRequest req;
  req.stream = f->StreamArn("s");
  req.shard_id = kShard0;
  auto it = f->GetShardIterator(req);
  REQUIRE_OK(it);
  CHECK(ReadFrom(*f, *it).records.size() == 2);
}

}  // namespace
}  // namespace tributary
