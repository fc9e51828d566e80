// Store::Open round trips: what a durable store holds (streams, shards,
// lineage, states, records, pending changes, sequence counters) is the same
// after the store is closed and opened again. Mostly on MemEnv (through a
// FaultEnv that injects nothing here); one round trip on the POSIX Env.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "durable/durable_util.h"
#include "shard/kinesis_sequence.h"

namespace tributary::durable_test {
namespace {

using testing::Input;
using testing::InputWithHash;
using testing::Iterator;
using testing::Midpoint;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::PutOk;
using testing::ReadFrom;
using testing::ReadShard;
using testing::StatusOf;

// Builds a store with three streams covering modes, retention, max record
// size, tags, split, merge, UpdateShardCount and a segment roll.
void BuildRichStore(Disk& d, int* records_written) {
  Store& s = *d;
  int n = 0;
  CreateStreamOptions a;
  a.shard_count = 2;
  a.max_record_size_kib = 2048;
  a.tags = {{"env", "test"}, {"team", "storage"}};
  REQUIRE_OK(s.CreateStream("alpha", a));
  CreateStreamOptions b;
  b.mode = StreamMode::kOnDemand;
  REQUIRE_OK(s.CreateStream("beta", b));
  REQUIRE_OK(s.CreateStream("gamma", 3));
  REQUIRE_OK(s.IncreaseStreamRetentionPeriod("alpha", 48));
  REQUIRE_OK(s.AddTagsToStream("gamma", {{"k", "v"}}));

  for (int i = 0; i < 120; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string data = Payload("alpha-" + std::to_string(i), 10 + (i * 37) % 300);
    REQUIRE_OK(s.Put("alpha", Input(key, data)));
    ++n;
    d.clock.Advance(absl::Milliseconds(7));
  }
  // Explicit hash keys at both ends of the space.
  REQUIRE_OK(s.Put("alpha", InputWithHash("edge", "0", "low")));
  REQUIRE_OK(s.Put("alpha", InputWithHash("edge", HashKey::Max().ToString(), "high")));
  n += 2;
  // An empty payload and a large one (spans several segments' worth).
  REQUIRE_OK(s.Put("alpha", Input("empty", "")));
  REQUIRE_OK(s.Put("alpha", Input("big", std::string(20000, 'x'))));
  n += 2;

  d.clock.Advance(absl::Minutes(5));
  auto open = OpenShards(s, "alpha");
  REQUIRE(open.size() == 2);
  REQUIRE_OK(s.SplitShard("alpha", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  for (int i = 0; i < 60; ++i) {
    REQUIRE_OK(s.Put("alpha", Input("after-split-" + std::to_string(i),
                                    Payload("as" + std::to_string(i), 50))));
    ++n;
  }
  d.clock.Advance(absl::Minutes(5));
  auto g = OpenShards(s, "gamma");
  REQUIRE(g.size() == 3);
  for (int i = 0; i < 30; ++i) {
    REQUIRE_OK(s.Put("gamma", Input("g" + std::to_string(i), "gamma-" + std::to_string(i))));
    ++n;
  }
  REQUIRE_OK(s.MergeShards("gamma", g[1].shard_id, g[2].shard_id));
  for (int i = 30; i < 60; ++i) {
    REQUIRE_OK(s.Put("gamma", Input("g" + std::to_string(i), "gamma-" + std::to_string(i))));
    ++n;
  }
  d.clock.Advance(absl::Minutes(5));
  REQUIRE_OK(s.UpdateShardCount("gamma", 3));
  for (int i = 60; i < 90; ++i) {
    REQUIRE_OK(s.Put("gamma", Input("g" + std::to_string(i), "gamma-" + std::to_string(i))));
    ++n;
  }
  std::vector<PutRecordInput> batch;
  std::vector<std::string> keys, datas;
  for (int i = 0; i < 50; ++i) {
    keys.push_back("b" + std::to_string(i));
    datas.push_back(Payload("beta-" + std::to_string(i), 100));
  }
  for (int i = 0; i < 50; ++i) batch.push_back(Input(keys[i], datas[i]));
  auto r = s.PutBatch("beta", batch);
  REQUIRE_OK(r);
  REQUIRE(r->failed_record_count == 0);
  n += 50;
  *records_written = n;
}

TEST_CASE("reopen restores streams, shards, lineage, states and every record",
          "[durable]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  int written = 0;
  BuildRichStore(d, &written);

  std::map<std::string, StreamSnapshot> before;
  auto names = d->ListStreams();
  REQUIRE_OK(names);
  REQUIRE(names->stream_names == std::vector<std::string>{"alpha", "beta", "gamma"});
  size_t total = 0;
  for (const std::string& n : names->stream_names) {
    before[n] = Snapshot(*d, n);
    for (const auto& [id, recs] : before[n].records) total += recs.size();
  }
  CHECK(total == static_cast<size_t>(written));
  auto limits_before = d->DescribeLimits();
  REQUIRE_OK(limits_before);

  d.Reopen();
  RecoveryReport rep = d->recovery();
  CHECK(rep.problems.empty());
  CHECK(rep.truncated_bytes == 0);
  CHECK(rep.records == total);
  CHECK(rep.segments > 12);  // small segments rolled

  auto names2 = d->ListStreams();
  REQUIRE_OK(names2);
  CHECK(names2->stream_names == names->stream_names);
  for (const std::string& n : names->stream_names) {
    StreamSnapshot after = Snapshot(*d, n);
    CheckSameStream(before[n], after);
  }
  auto limits_after = d->DescribeLimits();
  REQUIRE_OK(limits_after);
  CHECK(limits_after->open_shard_count == limits_before->open_shard_count);
  CHECK(limits_after->on_demand_stream_count == limits_before->on_demand_stream_count);

  // The lineage is what the calls made.
  auto alpha = before["alpha"].description.shards;
  REQUIRE(alpha.size() == 4);
  CHECK(alpha[0].state == ShardState::kClosed);
  CHECK(alpha[2].parent_shard_id == alpha[0].shard_id);
  CHECK(alpha[3].parent_shard_id == alpha[0].shard_id);
  CHECK(PartitionProblem(OpenShards(*d, "gamma")).empty());
  CHECK(OpenShards(*d, "gamma").size() == 3);

  // A second reopen with no writes in between changes nothing either.
  d.Reopen();
  CHECK(d->recovery().problems.empty());
  for (const std::string& n : names->stream_names) CheckSameStream(before[n], Snapshot(*d, n));
}

TEST_CASE("the store keeps working after reopen: writes go on, reshards go on", "[durable]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<PutRecordResult> acked;
  for (int i = 0; i < 50; ++i) acked.push_back(PutOk(*d, "s", "k" + std::to_string(i), "v"));
  d.Reopen();
  for (int i = 50; i < 100; ++i) acked.push_back(PutOk(*d, "s", "k" + std::to_string(i), "v"));
  auto open = OpenShards(*d, "s");
  REQUIRE_OK(d->SplitShard("s", open[1].shard_id, Midpoint(open[1].hash_key_range)));
  for (int i = 100; i < 150; ++i) acked.push_back(PutOk(*d, "s", "k" + std::to_string(i), "v"));
  d.Reopen();
  auto all = AllRecords(*d, "s");
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& [id, recs] : all) {
    CheckStrictlyIncreasing(recs);
    for (const Record& r : recs) CHECK(got.insert({id, r.sequence_number.ToString()}).second);
  }
  CHECK(got.size() == acked.size());
  for (const auto& a : acked) {
    CHECK(got.count({a.shard_id.ToString(), a.sequence_number.ToString()}) == 1);
  }
}

TEST_CASE("iterators issued before close keep working after reopen", "[durable]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<PutRecordResult> put;
  for (int i = 0; i < 10; ++i) put.push_back(PutOk(*d, "s", "k", "r" + std::to_string(i)));
  const std::string shard = put[0].shard_id.ToString();
  std::string trim = Iterator(*d, "s", shard);
  std::string latest = Iterator(*d, "s", shard, ShardIteratorType::kLatest);
  std::string after4 = Iterator(*d, "s", shard, ShardIteratorType::kAfterSequenceNumber,
                                put[4].sequence_number.ToString());
  auto first3 = d->GetRecords(trim, 3);
  REQUIRE_OK(first3);
  REQUIRE(first3->records.size() == 3);
  REQUIRE(first3->next_shard_iterator);
  std::string mid = *first3->next_shard_iterator;

  d.Reopen();
  d.clock.Advance(absl::Seconds(30));
  PutOk(*d, "s", "k", "r10");

  auto data = [](const std::vector<Record>& v) { return testing::DataOf(v); };
  CHECK(data(ReadFrom(*d, trim).records).size() == 11);
  CHECK(data(ReadFrom(*d, mid).records).front() == "r3");
  CHECK(data(ReadFrom(*d, after4).records).front() == "r5");
  auto from_latest = ReadFrom(*d, latest).records;
  REQUIRE(from_latest.size() == 1);
  CHECK(from_latest[0].data == "r10");
  // Every record read through an old iterator carries its original number.
  auto all = ReadFrom(*d, trim).records;
  for (int i = 0; i < 10; ++i) CHECK(all[i].sequence_number == put[i].sequence_number);

  // Still subject to the 5-minute lifetime on the store's clock.
  d.clock.Advance(absl::Minutes(6));
  REQUIRE_ERROR(d->GetRecords(trim), ErrorType::kExpiredIterator);
}

TEST_CASE("an iterator of a deleted stream is rejected after reopen, even if the name is reused",
          "[durable]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  auto r = PutOk(*d, "s", "k", "old");
  std::string it = Iterator(*d, "s", r.shard_id.ToString());
  REQUIRE_OK(d->DeleteStream("s"));
  d.Reopen();
  REQUIRE_ERROR(d->GetRecords(it), ErrorType::kResourceNotFound);
  REQUIRE_OK(d->CreateStream("s", 1));
  PutOk(*d, "s", "k", "new");
  d.Reopen();
  REQUIRE_ERROR(d->GetRecords(it), ErrorType::kResourceNotFound);
  auto recs = ReadShard(*d, "s", r.shard_id.ToString()).records;
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].data == "new");
}

TEST_CASE("sequence numbers after reopen exceed every number the shard issued before",
          "[durable]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  const std::string shard = FormatShardId(0);
  SequenceNumber last;
  for (int i = 0; i < 200; ++i) last = PutOk(*d, "s", "k", Payload("r" + std::to_string(i), 200)).sequence_number;
  REQUIRE(SegmentsOf(d.base, d.dir, "s", 0).size() > 3);

  SECTION("plain reopen") { d.Reopen(); }
  SECTION("reopen after the active segment just rolled") {
    // Fill the active segment exactly to a roll: keep writing until a new
    // segment appears, then reopen with that empty segment active.
    size_t segs = SegmentsOf(d.base, d.dir, "s", 0).size();
    while (SegmentsOf(d.base, d.dir, "s", 0).size() == segs) {
      last = PutOk(*d, "s", "k", Payload("fill", 500)).sequence_number;
    }
    d.Reopen();
  }
  SECTION("reopen after every record expired and old segments were trimmed") {
    d.clock.Advance(absl::Hours(25));
    // An append trims expired whole segments.
    last = PutOk(*d, "s", "k", "trigger").sequence_number;
    d.clock.Advance(absl::Hours(25));
    last = PutOk(*d, "s", "k", "trigger2").sequence_number;
    d.clock.Advance(absl::Hours(25));
    CHECK(ReadShard(*d, "s", shard).records.empty());
    d.Reopen();
    CHECK(ReadShard(*d, "s", shard).records.empty());
  }
  SECTION("reopen after every record expired, without an append since") {
    d.clock.Advance(absl::Hours(25));
    d.Reopen();
    CHECK(ReadShard(*d, "s", shard).records.empty());
  }
  SECTION("reopen after a SequenceNumberForOrdering jump") {
    // A number of this shard, in its layout (Kinesis', the default).
    auto f = shard::ReadKinesisSequence(last);
    REQUIRE(f.has_value());
    SequenceNumber far =
        SequenceNumber::FromKinesisParts(f->shard_created_s, 0, last.counter() + 1000000, f->record_s);
    std::string far_s = far.ToString();
    auto r = d->Put("s", Input("k", "jump"), far_s);
    REQUIRE_OK(r);
    CHECK(r->sequence_number > far);
    last = r->sequence_number;
    d.Reopen();
  }
  auto next = d->Put("s", Input("k", "after"));
  REQUIRE_OK(next);
  INFO("last before reopen " << last.ToString() << ", first after " << next->sequence_number.ToString());
  CHECK(next->sequence_number > last);
  // And the shard's records (whatever is retained) are in strictly increasing order.
  CheckStrictlyIncreasing(ReadShard(*d, "s", shard).records);
}

TEST_CASE("each stream keeps its sequence-number layout across reopens, and both read back",
          "[durable][sequence]") {
  Disk d;
  d.Open();
  CreateStreamOptions old_style{.shard_count = 2};
  old_style.sequence_format = SequenceFormat::kTributary;
  REQUIRE_OK(d->CreateStream("old", old_style));
  REQUIRE_OK(d->CreateStream("new", 2));
  std::map<std::string, std::vector<SequenceNumber>> put;
  for (const char* s : {"old", "new"}) {
    for (int i = 0; i < 20; ++i) put[s].push_back(PutOk(*d, s, "k" + std::to_string(i), "v").sequence_number);
  }
  d.Reopen();
  for (const char* s : {"old", "new"}) {
    INFO(s);
    const size_t digits = std::string(s) == "old" ? 39 : 56;
    auto after = PutOk(*d, s, "k0", "after");
    CHECK(after.sequence_number.ToString().size() == digits);
    for (const SequenceNumber& n : put[s]) {
      CHECK(n.ToString().size() == digits);
      // AT_SEQUENCE_NUMBER of each number issued before the reopen reads it.
      GetShardIteratorRequest req;
      req.stream = s;
      req.shard_id = FormatShardId(n.shard_index());
      req.type = ShardIteratorType::kAtSequenceNumber;
      req.starting_sequence_number = n.ToString();
      auto it = d->GetShardIterator(req);
      REQUIRE_OK(it);
      auto got = d->GetRecords(*it, 1);
      REQUIRE_OK(got);
      REQUIRE(got->records.size() == 1);
      CHECK(got->records[0].sequence_number == n);
    }
  }
}

TEST_CASE("a child shard's numbers after reopen exceed its parent's", "[durable]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  SequenceNumber parent_last;
  for (int i = 0; i < 20; ++i) parent_last = PutOk(*d, "s", "k" + std::to_string(i)).sequence_number;
  auto open = OpenShards(*d, "s");
  REQUIRE_OK(d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  d.Reopen();
  auto kids = OpenShards(*d, "s");
  REQUIRE(kids.size() == 2);
  for (const auto& k : kids) {
    auto r = d->Put("s", InputWithHash("x", k.hash_key_range.start.ToString(), "c"));
    REQUIRE_OK(r);
    CHECK(r->sequence_number > parent_last);
    CHECK(r->sequence_number > k.starting_sequence_number);
  }
  auto parent = testing::FindShard(*d, "s", open[0].shard_id);
  REQUIRE(parent);
  CHECK(parent->state == ShardState::kClosed);
  REQUIRE(parent->ending_sequence_number);
  CHECK(*parent->ending_sequence_number == parent_last);
  auto read = ReadShard(*d, "s", open[0].shard_id);
  CHECK(read.reached_end);
  CHECK(read.child_shards.size() == 2);
  CHECK(read.records.size() == 20);
}

TEST_CASE("a reshard accepted while UPDATING is applied after a reopen", "[durable]") {
  Disk d;
  d.options.update_delay = absl::Minutes(10);
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  auto open = OpenShards(*d, "s");
  for (int i = 0; i < 20; ++i) PutOk(*d, "s", "k" + std::to_string(i), "before");
  size_t want_open = 0;
  SECTION("split") {
    REQUIRE_OK(d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
    want_open = 3;
  }
  SECTION("merge") {
    REQUIRE_OK(d->MergeShards("s", open[0].shard_id, open[1].shard_id));
    want_open = 1;
  }
  SECTION("update shard count") {
    REQUIRE_OK(d->UpdateShardCount("s", 4));
    want_open = 4;
  }
  CHECK(StatusOf(*d, "s") == StreamStatus::kUpdating);
  d.Reopen();
  CHECK(StatusOf(*d, "s") == StreamStatus::kUpdating);
  // Until UPDATING ends the parents stay open and take writes.
  CHECK(OpenShards(*d, "s").size() == 2);
  PutOk(*d, "s", "during", "during");
  REQUIRE_ERROR(d->SplitShard("s", open[1].shard_id, Midpoint(open[1].hash_key_range)),
                ErrorType::kResourceInUse);
  d.clock.Advance(absl::Minutes(10));
  CHECK(StatusOf(*d, "s") == StreamStatus::kActive);
  auto now_open = OpenShards(*d, "s");
  CHECK(now_open.size() == want_open);
  CHECK(PartitionProblem(now_open).empty());
  PutOk(*d, "s", "after", "after");
  // The applied change is durable too.
  auto before = Snapshot(*d, "s");
  d.Reopen();
  CheckSameStream(before, Snapshot(*d, "s"));
}

TEST_CASE("a stream CREATING at close becomes ACTIVE after reopen", "[durable]") {
  Disk d;
  d.options.create_delay = absl::Minutes(1);
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  CHECK(StatusOf(*d, "s") == StreamStatus::kCreating);
  d.Reopen();
  CHECK(StatusOf(*d, "s") == StreamStatus::kCreating);
  REQUIRE_ERROR(d->Put("s", Input("k", "v")), ErrorType::kResourceNotFound);
  d.clock.Advance(absl::Minutes(1));
  CHECK(StatusOf(*d, "s") == StreamStatus::kActive);
  PutOk(*d, "s", "k", "v");
  d.Reopen();
  CHECK(StatusOf(*d, "s") == StreamStatus::kActive);
}

TEST_CASE("a stream reports the same creation time before and after a reopen", "[durable]") {
  Disk d;
  d.clock.Advance(absl::Microseconds(1234));  // not a whole millisecond
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  auto before = d->DescribeStreamSummary("s");
  REQUIRE_OK(before);
  CHECK(absl::ToUnixMicros(before->stream_creation_timestamp) % 1000 == 0);
  d.Reopen();
  auto after = d->DescribeStreamSummary("s");
  REQUIRE_OK(after);
  CHECK(after->stream_creation_timestamp == before->stream_creation_timestamp);
}

TEST_CASE("open-shard accounting survives a reopen with a reshard pending", "[durable]") {
  Disk d;
  d.options.update_delay = absl::Minutes(10);
  SECTION("pending split: its reserved shard still counts") {
    d.options.shard_limit = 3;
    d.Open();
    REQUIRE_OK(d->CreateStream("a", 2));
    auto open = OpenShards(*d, "a");
    REQUIRE_OK(d->SplitShard("a", open[0].shard_id, Midpoint(open[0].hash_key_range)));
    // Before the reopen: 3 shards are spoken for, nothing else fits.
    REQUIRE_ERROR(d->CreateStream("b", 1), ErrorType::kLimitExceeded);
    d.Reopen();
    REQUIRE_ERROR(d->CreateStream("b", 1), ErrorType::kLimitExceeded);
    d.clock.Advance(absl::Minutes(10));
    CHECK(OpenShards(*d, "a").size() == 3);
    REQUIRE_ERROR(d->CreateStream("c", 1), ErrorType::kLimitExceeded);
    auto lim = d->DescribeLimits();
    REQUIRE_OK(lim);
    CHECK(lim->open_shard_count <= lim->shard_limit);
  }
  SECTION("pending merge: the shard it frees stays free") {
    d.options.shard_limit = 2;
    d.Open();
    REQUIRE_OK(d->CreateStream("a", 2));
    auto open = OpenShards(*d, "a");
    REQUIRE_OK(d->MergeShards("a", open[0].shard_id, open[1].shard_id));
    d.Reopen();
    d.clock.Advance(absl::Minutes(10));
    CHECK(OpenShards(*d, "a").size() == 1);
    // One open shard of two allowed: a one-shard stream fits.
    REQUIRE_OK(d->CreateStream("b", 1));
  }
}

TEST_CASE("throughput limits keep refilling after a reopen (store clock, not wall clock)",
          "[durable]") {
  Disk d;
  d.options.throughput.enabled = true;
  d.options.throughput.write_records_per_second = 10;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  auto fill = [&] {
    for (int i = 0; i < 10; ++i) REQUIRE_OK(d->Put("s", Input("k", "v")));
    REQUIRE_ERROR(d->Put("s", Input("k", "v")), ErrorType::kProvisionedThroughputExceeded);
    d.clock.Advance(absl::Seconds(2));
    CHECK_OK(d->Put("s", Input("k", "v")));
    d.clock.Advance(absl::Seconds(2));
  };
  fill();
  d.Reopen();
  fill();
}

TEST_CASE("DeleteStream removes the stream's files", "[durable]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("a", 2));
  REQUIRE_OK(d->CreateStream("b", 1));
  for (int i = 0; i < 100; ++i) {
    PutOk(*d, "a", "k" + std::to_string(i), Payload("a", 200));
    PutOk(*d, "b", "k" + std::to_string(i), Payload("b", 50));
  }
  auto open = OpenShards(*d, "a");
  REQUIRE_OK(d->SplitShard("a", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  for (int i = 0; i < 30; ++i) PutOk(*d, "a", "x" + std::to_string(i), "after");
  size_t b_records = 100;
  SECTION("files of an expired, released parent shard are gone too") {
    d.clock.Advance(absl::Hours(25));
    b_records = 0;
    // A retention change releases shards that expired.
    REQUIRE_OK(d->IncreaseStreamRetentionPeriod("a", 30));
  }
  SECTION("after a reopen") { d.Reopen(); }
  SECTION("straight away") {}
  REQUIRE(!StreamDirOf(d.base, d.dir, "a").empty());
  REQUIRE_OK(d->DeleteStream("a"));
  CHECK(StreamDirOf(d.base, d.dir, "a").empty());
  std::vector<std::string> left = FilesUnder(d.base, d.dir + "/streams");
  for (const std::string& f : left) {
    INFO("left behind: " << f);
    CHECK(f.rfind("b.", 0) == 0);
  }
  d.Reopen();
  REQUIRE_ERROR(d->DescribeStreamSummary("a"), ErrorType::kResourceNotFound);
  CHECK(AllRecords(*d, "b").begin()->second.size() == b_records);
  REQUIRE_OK(d->DeleteStream("b"));
  CHECK(FilesUnder(d.base, d.dir + "/streams").empty());
  d.Reopen();
  CHECK(FilesUnder(d.base, d.dir + "/streams").empty());
  CHECK(d->recovery().problems.empty());
}

TEST_CASE("a deletion is final at DeleteStream: reopened before the delay ends, the stream is gone",
          "[durable]") {
  Disk d;
  d.options.delete_delay = absl::Minutes(5);
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  for (int i = 0; i < 20; ++i) PutOk(*d, "s", "k" + std::to_string(i), "old");
  REQUIRE_OK(d->DeleteStream("s"));
  CHECK(StatusOf(*d, "s") == StreamStatus::kDeleting);
  d.clock.Advance(absl::Minutes(1));
  d.Reopen();
  REQUIRE_ERROR(d->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
  auto list = d->ListStreams();
  REQUIRE_OK(list);
  CHECK(list->stream_names.empty());
  CHECK(FilesUnder(d.base, d.dir + "/streams").empty());
  bool reported = false;
  for (const std::string& p : d->recovery().problems) reported = reported || p.find("s.") != std::string::npos;
  CHECK(reported);
  // The name is free again, and the new stream starts empty.
  REQUIRE_OK(d->CreateStream("s", 1));
  CHECK(ReadShard(*d, "s", FormatShardId(0)).records.empty());
}

TEST_CASE("orphan stream directories are removed at open and reported", "[durable]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("live", 1));
  PutOk(*d, "live", "k", "v");
  d.store.reset();
  // Files of a stream the catalog never committed (a crash inside CreateStream).
  Env* env = d.base;
  REQUIRE_OK(env->CreateDirs(d.dir + "/streams/ghost.7/0"));
  REQUIRE_OK(env->CreateDirs(d.dir + "/streams/ghost.7/1"));
  for (const char* f : {"/streams/ghost.7/0/00000000000000000001.seg",
                        "/streams/ghost.7/1/00000000000000000001.seg"}) {
    auto w = env->NewWritableFile(d.dir + f);
    REQUIRE_OK(w);
    REQUIRE_OK((*w)->Append("garbage"));
    REQUIRE_OK((*w)->Close());
  }
  d.Open();
  auto left = FilesUnder(env, d.dir + "/streams");
  for (const std::string& f : left) {
    INFO("left: " << f);
    CHECK(f.rfind("live.", 0) == 0);
  }
  bool reported = false;
  for (const std::string& p : d->recovery().problems) {
    reported = reported || p.find("ghost.7") != std::string::npos;
  }
  CHECK(reported);
  CHECK(ReadShard(*d, "live", FormatShardId(0)).records.size() == 1);
}

TEST_CASE("a second Store::Open of the same directory fails with ResourceInUse", "[durable]") {
  bool posix = GENERATE(false, true);
  Disk d(posix);
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  PutOk(*d, "s", "k", "v");
  auto second = d.TryOpen();
  REQUIRE_ERROR(second, ErrorType::kResourceInUse);
  // The failed open disturbed nothing.
  PutOk(*d, "s", "k", "v2");
  d.store.reset();
  auto third = d.TryOpen();
  REQUIRE_OK(third);
  CHECK(ReadShard(**third, "s", FormatShardId(0)).records.size() == 2);
}

TEST_CASE("a reopen round trip on the POSIX Env", "[durable]") {
  Disk d(/*posix=*/true);
  d.options.segment_bytes = 8192;
  d.Open();
  int written = 0;
  BuildRichStore(d, &written);
  std::map<std::string, StreamSnapshot> before;
  for (const char* n : {"alpha", "beta", "gamma"}) before[n] = Snapshot(*d, n);
  d.Reopen();
  CHECK(d->recovery().problems.empty());
  CHECK(d->recovery().records == static_cast<uint64_t>(written));
  for (const char* n : {"alpha", "beta", "gamma"}) CheckSameStream(before[n], Snapshot(*d, n));
  for (const char* n : {"alpha", "beta", "gamma"}) REQUIRE_OK(d->DeleteStream(n));
  CHECK(std::filesystem::is_empty(d.dir + "/streams"));
}

}  // namespace
}  // namespace tributary::durable_test
