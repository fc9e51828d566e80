// The remote backend against kinesalite (npm, installed by scripts/setup into
// tests/remote/peers): a Kinesis implementation nobody here wrote, with its
// own sequence numbers (56 digits), iterators and error texts.
#include <string>

#include "consume_across_reshards.h"
#include "testing/remote_server.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"

namespace tributary {
namespace {

struct Kinesalite {
  Kinesalite() : server(testing::StartKinesalite()) {
    RemoteOptions o = testing::LocalPeerOptions(server->url());
    auto opened = Store::OpenRemote(o);
    REQUIRE_OK(opened);
    store = std::move(opened).value();
  }
  std::unique_ptr<testing::ListeningChild> server;
  std::unique_ptr<Store> store;
};

TEST_CASE("kinesalite: create, put, read back with its 56-digit sequence numbers", "[remote][kinesalite]") {
  Kinesalite k;
  Store& s = *k.store;
  REQUIRE_OK(s.CreateStream("s", 2));
  REQUIRE_OK(s.WaitUntilActive("s", absl::Seconds(30)));
  ASSIGN_OR_REQUIRE(PutRecordResult first, s.Put("s", testing::Input("key-a", "one")));
  CHECK(first.sequence_number.wide());  // not a Tributary number
  CHECK(first.sequence_number.ToString().size() > 39);
  ASSIGN_OR_REQUIRE(PutRecordResult second, s.Put("s", testing::Input("key-a", "two")));
  CHECK(first.sequence_number < second.sequence_number);
  CHECK(first.shard_id == second.shard_id);

  std::vector<PutRecordInput> batch;
  for (int i = 0; i < 50; ++i) batch.push_back({"key-b", "batch", std::nullopt});
  ASSIGN_OR_REQUIRE(PutBatchResult br, s.PutBatch("s", batch));
  CHECK(br.failed_record_count == 0);
  REQUIRE(br.records.size() == 50);

  const std::string shard = first.shard_id.ToString();
  testing::ShardRead read = testing::ReadShard(s, "s", shard);
  REQUIRE(read.records.size() >= 2);
  CHECK(read.records[0].data == "one");
  CHECK(read.records[0].sequence_number == first.sequence_number);
  CHECK(read.records[1].data == "two");

  // Iterators at and after a wide sequence number.
  std::string at = testing::Iterator(s, "s", shard, ShardIteratorType::kAtSequenceNumber,
                                     second.sequence_number.ToString());
  ASSIGN_OR_REQUIRE(GetRecordsResult r, s.GetRecords(at, 1));
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].data == "two");
  std::string after = testing::Iterator(s, "s", shard, ShardIteratorType::kAfterSequenceNumber,
                                        first.sequence_number.ToString());
  ASSIGN_OR_REQUIRE(r, s.GetRecords(after, 1));
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].data == "two");

  ASSIGN_OR_REQUIRE(StreamDescriptionSummary sum, s.DescribeStreamSummary("s"));
  CHECK(sum.open_shard_count == 2);
  CHECK(sum.stream_status == StreamStatus::kActive);
  CHECK(s.StreamArn("s") == sum.stream_arn);
}

TEST_CASE("kinesalite: split and merge through the remote API", "[remote][kinesalite]") {
  Kinesalite k;
  Store& s = *k.store;
  REQUIRE_OK(s.CreateStream("r", 2));
  REQUIRE_OK(s.WaitUntilActive("r", absl::Seconds(30)));
  std::vector<ShardDescription> open = testing::OpenShards(s, "r");
  REQUIRE(open.size() == 2);
  REQUIRE_OK(s.SplitShard("r", open[0].shard_id, open[0].hash_key_range.Midpoint()));
  REQUIRE_OK(s.WaitUntilActive("r", absl::Seconds(30)));
  std::vector<ShardDescription> after_split = testing::OpenShards(s, "r");
  REQUIRE(after_split.size() == 3);
  CHECK(testing::PartitionProblem(after_split) == "");
  REQUIRE_OK(s.MergeShards("r", after_split[0].shard_id, after_split[1].shard_id));
  REQUIRE_OK(s.WaitUntilActive("r", absl::Seconds(30)));
  std::vector<ShardDescription> all = testing::AllShards(s, "r");
  CHECK(all.size() == 5);  // 2 + 2 children + 1 merged
  std::vector<ShardDescription> now_open = testing::OpenShards(s, "r");
  REQUIRE(now_open.size() == 2);
  CHECK(testing::PartitionProblem(now_open) == "");
  // The parents are CLOSED (they have an ending sequence number) and read to
  // their end: no next iterator.
  auto parent = testing::FindShard(s, "r", open[0].shard_id);
  REQUIRE(parent.has_value());
  CHECK(parent->state == ShardState::kClosed);
  // kinesalite, like Kinesis, may answer a closed shard with an empty page
  // and a next iterator before the one that ends it.
  std::string it = testing::Iterator(s, "r", open[0].shard_id);
  bool ended = false;
  for (int i = 0; i < 10 && !ended; ++i) {
    ASSIGN_OR_REQUIRE(GetRecordsResult page, s.GetRecords(it));
    if (!page.next_shard_iterator) {
      ended = true;
    } else {
      it = *page.next_shard_iterator;
    }
  }
  CHECK(ended);
  // New records go to the merged child.
  ASSIGN_OR_REQUIRE(PutRecordResult p,
                    s.Put("r", testing::InputWithHash("x", "0", "to the merged shard")));
  CHECK(p.shard_id.ToString() == now_open[0].shard_id);
}

TEST_CASE("kinesalite: the ordered consumer keeps per-key order across a split and a merge",
          "[remote][kinesalite][consumer]") {
  Kinesalite k;
  ConsumeAcrossReshards(*k.store);
}

TEST_CASE("kinesalite: its errors map to the same ErrorTypes", "[remote][kinesalite]") {
  Kinesalite k;
  Store& s = *k.store;
  CHECK_ERROR(s.DescribeStreamSummary("missing"), ErrorType::kResourceNotFound);
  REQUIRE_OK(s.CreateStream("e", 1));
  CHECK_ERROR(s.CreateStream("e", 1), ErrorType::kResourceInUse);
  CHECK_ERROR(s.GetRecords("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1),
              ErrorType::kInvalidArgument);
  REQUIRE_OK(s.WaitUntilActive("e", absl::Seconds(30)));
  CHECK_ERROR(s.SplitShard("e", "shardId-000000000000", "0"), ErrorType::kInvalidArgument);
  REQUIRE_OK(s.DeleteStream("e"));
  REQUIRE_OK(s.WaitUntilDeleted("e", absl::Seconds(30)));
  CHECK_ERROR(s.DescribeStreamSummary("e"), ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace tributary
