// Put and PutBatch: routing, sequence numbers, limits and validation.
#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::Input;
using testing::InputWithHash;
using testing::PutOk;
using testing::ReadShard;
using testing::StoreFixture;

constexpr size_t kMiB = 1 << 20;

// Total number of records readable from every shard of `stream`.
size_t CountRecords(Store& store, const std::string& stream) {
  size_t n = 0;
  for (const auto& s : AllShards(store, stream)) n += ReadShard(store, stream, s.shard_id).records.size();
  return n;
}

TEST_CASE("records route to the shard whose range holds MD5(partition key)", "[stream][put][routing]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  // MD5 values computed outside the library (see hash_key_test.cc):
  //   "a"   -> 16955237001963240173058271559858726497   (shard 0)
  //   "abc" -> 191415658344158766168031473277922803570  (shard 1)
  //   "e"   -> 299611584147932843547128611849858313266  (shard 2)
  CHECK(PutOk(*f, "s", "a").shard_id == "shardId-000000000000");
  CHECK(PutOk(*f, "s", "abc").shard_id == "shardId-000000000001");
  CHECK(PutOk(*f, "s", "e").shard_id == "shardId-000000000002");
}

TEST_CASE("every put lands in the shard whose range holds its key", "[stream][put][routing]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 7));
  auto shards = AllShards(*f, "s");
  std::map<std::string, HashKeyRange> ranges;
  for (const auto& s : shards) ranges[s.shard_id] = s.hash_key_range;
  std::map<std::string, int> per_shard;
  for (int i = 0; i < 300; ++i) {
    std::string key = "user-" + std::to_string(i);
    auto r = PutOk(*f, "s", key, key);
    INFO("key " << key << " -> " << r.shard_id);
    REQUIRE(ranges.count(r.shard_id) == 1);
    CHECK(ranges[r.shard_id].Contains(HashKey::FromPartitionKey(key)));
    ++per_shard[r.shard_id];
  }
  // MD5 spreads 300 keys over all 7 shards.
  CHECK(per_shard.size() == 7);
  // And the records are where Put said they went.
  for (const auto& [id, n] : per_shard) {
    auto read = ReadShard(*f, "s", id);
    CHECK(read.records.size() == static_cast<size_t>(n));
    for (const auto& rec : read.records) CHECK(ranges[id].Contains(HashKey::FromPartitionKey(rec.partition_key)));
  }
}

TEST_CASE("an explicit hash key overrides the partition key", "[stream][put][routing]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  struct Case {
    const char* hash;
    const char* shard;
  };
  auto c = GENERATE(Case{"0", "shardId-000000000000"},
                    Case{"113427455640312821154458202477256070484", "shardId-000000000000"},
                    Case{"113427455640312821154458202477256070485", "shardId-000000000001"},
                    Case{"226854911280625642308916404954512140969", "shardId-000000000001"},
                    Case{"226854911280625642308916404954512140970", "shardId-000000000002"},
                    Case{"340282366920938463463374607431768211455", "shardId-000000000002"});
  // "a" alone would go to shard 0.
  auto r = f->Put("s", InputWithHash("a", c.hash, "payload"));
  REQUIRE_OK(r);
  CHECK(r->shard_id == c.shard);
  // The record keeps its partition key.
  auto read = ReadShard(*f, "s", c.shard);
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].partition_key == "a");
}

TEST_CASE("a malformed explicit hash key is rejected and changes nothing", "[stream][put][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  SECTION("not a number") {
    auto h = GENERATE(as<std::string>{}, "", "abc", "-1", "01", "1.5");
    CHECK_ERROR(f->Put("s", InputWithHash("k", h)), ErrorType::kValidation);
  }
  SECTION("out of range") {
    CHECK_ERROR_IN(f->Put("s", InputWithHash("k", "340282366920938463463374607431768211456")),
                   {ErrorType::kInvalidArgument, ErrorType::kValidation});
  }
  CHECK(CountRecords(*f, "s") == 0);
}

TEST_CASE("sequence numbers increase within a shard and are unique in a stream", "[stream][put][sequence]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 4));
  std::map<std::string, SequenceNumber> last;
  std::set<SequenceNumber> seen;
  for (int i = 0; i < 200; ++i) {
    auto r = PutOk(*f, "s", "k" + std::to_string(i % 17));
    auto it = last.find(r.shard_id);
    if (it != last.end()) CHECK(r.sequence_number > it->second);
    last[r.shard_id] = r.sequence_number;
    CHECK(seen.insert(r.sequence_number).second);
    // Kinesis' 56-digit layout, the default for new streams (types.h).
    CHECK(r.sequence_number.ToString().size() == 56);
    CHECK(r.sequence_number.is_kinesis_layout());
    // types.h: the number carries the shard's index.
    auto index = ParseShardId(r.shard_id.ToString());
    REQUIRE_OK(index);
    CHECK(r.sequence_number.shard_index() == *index);
    CHECK(r.shard_id.index() == *index);
  }
}

TEST_CASE("a shard's records start at or after its starting sequence number", "[stream][put][sequence]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  for (const auto& s : AllShards(*f, "s")) {
    auto r = f->Put("s", InputWithHash("k", s.hash_key_range.start.ToString()));
    REQUIRE_OK(r);
    CHECK(r->shard_id == s.shard_id);
    CHECK(r->sequence_number >= s.starting_sequence_number);
  }
}

// `s` with its counter `by` higher: a number of the same shard, in the
// same layout, that the shard has not issued yet.
SequenceNumber Ahead(SequenceNumber s, uint64_t by) {
  if (!s.is_kinesis_layout()) return SequenceNumber::FromParts(s.counter() + by, s.shard_index());
  // Kinesis' layout (types.h): creation seconds at bits 148..183, record
  // seconds at bits 36..71.
  const int64_t created = static_cast<int64_t>(absl::Uint128Low64(s.high() >> 20) & ((uint64_t{1} << 36) - 1));
  const int64_t record = static_cast<int64_t>(absl::Uint128Low64(s.value() >> 36) & ((uint64_t{1} << 36) - 1));
  return SequenceNumber::FromKinesisParts(created, s.shard_index(), s.counter() + by, record);
}

TEST_CASE("SequenceNumberForOrdering makes the new number greater", "[stream][put][sequence]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  const std::string h0 = "0";
  const std::string h1 = "340282366920938463463374607431768211455";
  // A number of shard 0 beyond what it has issued: the next record of the
  // shard is ordered after it.
  auto plain = f->Put("s", InputWithHash("k", h0));
  REQUIRE_OK(plain);
  const SequenceNumber high = Ahead(plain->sequence_number, 50);
  std::string ordering = high.ToString();
  auto ordered = f->Put("s", InputWithHash("k", h0), ordering);
  REQUIRE_OK(ordered);
  CHECK(ordered->shard_id == "shardId-000000000000");
  CHECK(ordered->sequence_number > high);
  CHECK(ordered->sequence_number.counter() == high.counter() + 1);
  // Another shard's number: in Tributary's layout it raises this shard's
  // counter above it; in Kinesis' layout it is accepted and, as the numbers
  // of two shards sort apart (shard index digit first), has no effect.
  for (int i = 0; i < 60; ++i) REQUIRE_OK(f->Put("s", InputWithHash("k", h1)));
  auto other = f->Put("s", InputWithHash("k", h1));
  REQUIRE_OK(other);
  auto cross = f->Put("s", InputWithHash("k", h0), other->sequence_number.ToString());
  REQUIRE_OK(cross);
  if (!other->sequence_number.is_kinesis_layout()) CHECK(cross->sequence_number > other->sequence_number);
  // The shard stays monotonic afterwards.
  auto next = f->Put("s", InputWithHash("k", h0));
  REQUIRE_OK(next);
  CHECK(next->sequence_number > ordered->sequence_number);

  // Chaining: each put orders after the previous one of the same key.
  std::string prev = next->sequence_number.ToString();
  for (int i = 0; i < 5; ++i) {
    auto r = f->Put("s", Input("chain"), prev);
    REQUIRE_OK(r);
    CHECK(r->sequence_number.ToString() > prev);
    prev = r->sequence_number.ToString();
  }
}

TEST_CASE("SequenceNumberForOrdering at the top of the counter space never wraps",
          "[stream][put][sequence]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  auto first = PutOk(*f, "s", "k");
  const uint64_t counter = GENERATE(std::numeric_limits<uint64_t>::max() - 1, std::numeric_limits<uint64_t>::max());
  SequenceNumber top = SequenceNumber::FromParts(counter, 0);
  INFO("SequenceNumberForOrdering " << top << " (counter " << counter << ")");
  auto r = f->Put("s", Input("k", "v"), top.ToString());
  if (r.ok()) {
    CHECK(r->sequence_number > top);
  } else {
    CHECK_ERROR_IN(r, {ErrorType::kInvalidArgument, ErrorType::kValidation});
  }
  // Whatever happened, the shard stays monotonic and never repeats a number.
  auto next = f->Put("s", Input("k", "w"));
  if (next.ok()) {
    CHECK(next->sequence_number > first.sequence_number);
    if (r.ok()) CHECK(next->sequence_number > r->sequence_number);
  } else {
    CHECK_ERROR_IN(next, {ErrorType::kInvalidArgument, ErrorType::kLimitExceeded, ErrorType::kInternalFailure});
  }
  SequenceNumber prev;
  for (const auto& rec : ReadShard(*f, "s", "shardId-000000000000").records) {
    CHECK(rec.sequence_number > prev);
    prev = rec.sequence_number;
  }
}

TEST_CASE("a malformed SequenceNumberForOrdering is rejected and changes nothing",
          "[stream][put][sequence][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->Put("s", Input("k", "v"), "not-a-number"), ErrorType::kValidation);
  CHECK_ERROR(f->Put("s", Input("k", "v"), "-5"), ErrorType::kValidation);
  // Kinesis' layout (the default) reads numbers as Kinesis does: version 4
  // does not exist (observed: "ExclusiveMinimumSequenceNumber ... is invalid.").
  CHECK_ERROR(f->Put("s", Input("k", "v"), "49039857307708443467467104868809893875799651909875269636"),
              ErrorType::kInvalidArgument);
  CHECK(CountRecords(*f, "s") == 0);
}

TEST_CASE("a stream in Tributary's 39-digit layout keeps its numbers and their rules",
          "[stream][put][sequence][local-only]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.shard_count = 2;
  o.sequence_format = SequenceFormat::kTributary;
  REQUIRE_OK(f->CreateStream("s", o));
  auto r = PutOk(*f, "s", "k");
  CHECK(r.sequence_number.ToString().size() == 39);
  CHECK_FALSE(r.sequence_number.is_kinesis_layout());
  CHECK(r.sequence_number.shard_index() == r.shard_id.index());
  // Its rules for SequenceNumberForOrdering: a number it never issues is
  // InvalidArgumentException; another shard's raises this shard's counter.
  CHECK_ERROR(f->Put("s", Input("k", "v"), "1"), ErrorType::kInvalidArgument);
  const std::string h0 = "0";
  const std::string h1 = "340282366920938463463374607431768211455";
  for (int i = 0; i < 50; ++i) REQUIRE_OK(f->Put("s", InputWithHash("k", h1)));
  auto in1 = f->Put("s", InputWithHash("k", h1));
  REQUIRE_OK(in1);
  auto ordered = f->Put("s", InputWithHash("k", h0), in1->sequence_number.ToString());
  REQUIRE_OK(ordered);
  CHECK(ordered->sequence_number > in1->sequence_number);
}

TEST_CASE("a record reads back with its key, data and arrival time", "[stream][put][local-only]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  f.clock.Advance(absl::Microseconds(1234567));  // not a whole millisecond
  absl::Time now = f.clock.Now();
  std::string binary("a\0b\xff\x01", 5);
  auto r = f->Put("s", Input("key-\xc3\xa9", binary));
  REQUIRE_OK(r);
  auto read = ReadShard(*f, "s", "shardId-000000000000");
  REQUIRE(read.records.size() == 1);
  const Record& rec = read.records[0];
  CHECK(rec.partition_key == "key-\xc3\xa9");
  CHECK(rec.data == binary);
  CHECK(rec.sequence_number == r->sequence_number);
  // Millisecond precision, taken from the store's clock.
  CHECK(rec.approximate_arrival_timestamp == absl::FromUnixMillis(absl::ToUnixMillis(now)));
}

TEST_CASE("empty data is a valid record", "[stream][put]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->Put("s", Input("k", "")));
  auto read = ReadShard(*f, "s", "shardId-000000000000");
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].data.empty());
}

TEST_CASE("partition keys are 1..256 Unicode characters", "[stream][put][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  SECTION("accepted") {
    CHECK_OK(f->Put("s", Input("k")));
    CHECK_OK(f->Put("s", Input(std::string(256, 'k'))));
    std::string e_acute;
    for (int i = 0; i < 256; ++i) e_acute += "\xc3\xa9";  // 256 characters, 512 bytes
    CHECK_OK(f->Put("s", Input(e_acute)));
    CHECK(CountRecords(*f, "s") == 3);
  }
  SECTION("rejected") {
    CHECK_ERROR(f->Put("s", Input("", "v")), ErrorType::kValidation);
    CHECK_ERROR(f->Put("s", Input(std::string(257, 'k'), "v")), ErrorType::kValidation);
    std::string e_acute;
    for (int i = 0; i < 257; ++i) e_acute += "\xc3\xa9";
    CHECK_ERROR(f->Put("s", Input(e_acute, "v")), ErrorType::kValidation);
    CHECK(CountRecords(*f, "s") == 0);
  }
}

TEST_CASE("data plus partition key may not exceed 1 MiB by default", "[stream][put][validation][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::string data(kMiB - 1, 'd');
  CHECK_OK(f->Put("s", Input("k", data)));  // exactly 1 MiB with the key
  std::string too_big(kMiB, 'd');
  CHECK_ERROR_IN(f->Put("s", Input("k", too_big)), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_ERROR_IN(f->Put("s", Input("kk", data)), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK(CountRecords(*f, "s") == 1);
}

TEST_CASE("max_record_size_kib allows larger records", "[stream][put][limits]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.shard_count = 1;
  o.max_record_size_kib = 2048;
  REQUIRE_OK(f->CreateStream("s", o));
  std::string data(2 * kMiB - 1, 'd');
  CHECK_OK(f->Put("s", Input("k", data)));
  std::string too_big(2 * kMiB, 'd');
  CHECK_ERROR_IN(f->Put("s", Input("k", too_big)), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  auto read = ReadShard(*f, "s", "shardId-000000000000");
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].data.size() == data.size());

  // Raising the limit later takes effect for new records.
  REQUIRE_OK(f->UpdateMaxRecordSize("s", 4096));
  CHECK_OK(f->Put("s", Input("k", too_big)));
}

TEST_CASE("a 10 MiB record fits the largest max record size and reads back", "[stream][put][limits]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.shard_count = 1;
  o.max_record_size_kib = 10240;
  REQUIRE_OK(f->CreateStream("s", o));
  std::string data(10 * kMiB - 1, 'x');
  REQUIRE_OK(f->Put("s", Input("k", data)));
  CHECK_ERROR_IN(f->Put("s", Input("k", std::string(10 * kMiB, 'x'))),
                 {ErrorType::kValidation, ErrorType::kInvalidArgument});
  auto read = ReadShard(*f, "s", "shardId-000000000000");
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].data.size() == data.size());
}

TEST_CASE("PutBatch returns one result per record, in request order", "[stream][put][batch]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back("k" + std::to_string(i % 5));
  std::vector<std::string> data;
  for (int i = 0; i < 30; ++i) data.push_back("d" + std::to_string(i));
  std::vector<PutRecordInput> batch;
  for (int i = 0; i < 30; ++i) batch.push_back(Input(keys[i], data[i]));
  auto r = f->PutBatch("s", batch);
  REQUIRE_OK(r);
  CHECK(r->failed_record_count == 0);
  REQUIRE(r->records.size() == 30);
  std::map<std::string, SequenceNumber> last_of_key;
  for (int i = 0; i < 30; ++i) {
    const auto& e = r->records[i];
    CHECK(e.ok());
    REQUIRE(e.sequence_number.has_value());
    REQUIRE(e.shard_id.has_value());
    // Same routing as Put.
    auto shard = testing::FindShard(*f, "s", *e.shard_id);
    REQUIRE(shard.has_value());
    CHECK(shard->hash_key_range.Contains(HashKey::FromPartitionKey(keys[i])));
    // Records of one key keep their request order.
    auto it = last_of_key.find(keys[i]);
    if (it != last_of_key.end()) CHECK(*e.sequence_number > it->second);
    last_of_key[keys[i]] = *e.sequence_number;
  }
  CHECK(CountRecords(*f, "s") == 30);
}

TEST_CASE("PutBatch takes 1..500 records", "[stream][put][batch][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::vector<PutRecordInput> none;
  CHECK_ERROR(f->PutBatch("s", none), ErrorType::kValidation);
  std::vector<PutRecordInput> batch(501, Input("k", "v"));
  CHECK_ERROR(f->PutBatch("s", batch), ErrorType::kValidation);
  CHECK(CountRecords(*f, "s") == 0);
  batch.resize(500);
  auto r = f->PutBatch("s", batch);
  REQUIRE_OK(r);
  CHECK(r->failed_record_count == 0);
  CHECK(CountRecords(*f, "s") == 500);
}

TEST_CASE("PutBatch takes at most 10 MiB in all", "[stream][put][batch][validation][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::string data(kMiB - 1, 'd');  // 1 MiB with a one-byte key
  std::vector<PutRecordInput> batch(11, Input("k", data));
  CHECK_ERROR_IN(f->PutBatch("s", batch), {ErrorType::kInvalidArgument, ErrorType::kValidation});
  CHECK(CountRecords(*f, "s") == 0);
  batch.resize(10);  // exactly 10 MiB
  auto r = f->PutBatch("s", batch);
  REQUIRE_OK(r);
  CHECK(r->failed_record_count == 0);
  CHECK(CountRecords(*f, "s") == 10);
}

TEST_CASE("one invalid record fails the whole batch and writes nothing", "[stream][put][batch][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  std::vector<PutRecordInput> batch(5, Input("k", "v"));
  SECTION("empty partition key") {
    batch[3] = Input("", "v");
    CHECK_ERROR(f->PutBatch("s", batch), ErrorType::kValidation);
  }
  SECTION("partition key too long") {
    std::string long_key(257, 'k');
    batch[4] = Input(long_key, "v");
    CHECK_ERROR(f->PutBatch("s", batch), ErrorType::kValidation);
  }
  SECTION("bad explicit hash key") {
    batch[2] = InputWithHash("k", "xyz", "v");
    CHECK_ERROR(f->PutBatch("s", batch), ErrorType::kValidation);
  }
  SECTION("record too large") {
    std::string big(kMiB, 'd');
    batch[1] = Input("k", big);
    CHECK_ERROR_IN(f->PutBatch("s", batch), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  }
  CHECK(CountRecords(*f, "s") == 0);
}

}  // namespace
}  // namespace tributary
