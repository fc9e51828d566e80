// The ordered consumer over a remote stream, shared by the tributary-server
// (remote_test.cc) and kinesalite (kinesalite_test.cc) cases.
#ifndef TRIBUTARY_TESTS_REMOTE_CONSUME_ACROSS_RESHARDS_H_
#define TRIBUTARY_TESTS_REMOTE_CONSUME_ACROSS_RESHARDS_H_

#include <algorithm>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"

namespace tributary {

// The ordered consumer over a remote stream: per-key order across a split and
// a merge made through the remote API, leases and checkpoints in a local
// in-memory store (or `table`, e.g. a DynamoDB one). Shared by the
// tributary-server, kinesalite and DynamoDB variants.
inline void ConsumeAcrossReshards(Store& remote, std::shared_ptr<LeaseTable> table = nullptr) {
  REQUIRE_OK(remote.CreateStream("c", 2));
  REQUIRE_OK(remote.WaitUntilActive("c", absl::Seconds(30)));
  testing::OrderingVerifier verifier;
  int written = 0;
  auto write = [&](int phase) {
    std::vector<std::string> keys, data;
    for (int n = 0; n < 5; ++n) {
      for (int k = 0; k < 16; ++k) {
        keys.push_back("key-" + std::to_string(k));
        data.push_back(std::to_string(phase) + "/" + std::to_string(n));
      }
    }
    std::vector<PutRecordInput> batch;
    for (size_t i = 0; i < keys.size(); ++i) batch.push_back({keys[i], data[i], std::nullopt});
    ASSIGN_OR_REQUIRE(PutBatchResult r, remote.PutBatch("c", batch));
    REQUIRE(r.failed_record_count == 0);
    for (size_t i = 0; i < batch.size(); ++i) verifier.Acknowledged(keys[i], *r.records[i].sequence_number);
    written += static_cast<int>(batch.size());
  };
  auto open = [&] {
    std::vector<ShardDescription> o;
    for (auto& d : testing::AllShards(remote, "c")) {
      if (d.state == ShardState::kOpen) o.push_back(d);
    }
    std::sort(o.begin(), o.end(), [](auto& a, auto& b) { return a.hash_key_range.start < b.hash_key_range.start; });
    return o;
  };
  write(1);
  std::vector<ShardDescription> o = open();
  REQUIRE(o.size() == 2);
  REQUIRE_OK(remote.SplitShard("c", o[1].shard_id, o[1].hash_key_range.Midpoint()));
  REQUIRE_OK(remote.WaitUntilActive("c", absl::Seconds(30)));
  write(2);
  o = open();
  REQUIRE(o.size() == 3);
  REQUIRE_OK(remote.MergeShards("c", o[0].shard_id, o[1].shard_id));
  REQUIRE_OK(remote.WaitUntilActive("c", absl::Seconds(30)));
  write(3);

  ASSIGN_OR_REQUIRE(auto local, Store::OpenInMemory());
  ConsumerOptions co;
  co.stream = "c";
  co.consumer_name = "ordered";
  if (table != nullptr) {
    co.lease_table = table;
  } else {
    ASSIGN_OR_REQUIRE(co.lease_table, LeaseTableFor(*local));
  }
  co.idle_interval = absl::Milliseconds(1);
  ASSIGN_OR_REQUIRE(auto consumer, Consumer::Create(remote, co));
  int delivered = 0;
  // Bounded by a deadline: the server is a real process; a poll with
  // nothing to return is retried after a few milliseconds.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (delivered < written && absl::Now() < deadline) {
    ASSIGN_OR_REQUIRE(std::optional<RecordBatch> b, consumer->Poll());
    if (!b) {
      absl::SleepFor(absl::Milliseconds(5));
      continue;
    }
    verifier.Delivered(*b);
    delivered += static_cast<int>(b->records.size());
    REQUIRE_OK(consumer->Checkpoint(*b));
  }
  testing::OrderingVerifier::Report report = verifier.Check();
  INFO((report.problems.empty() ? std::string() : report.problems.front()));
  CHECK(report.ok());
  CHECK(report.out_of_order == 0);
  CHECK(report.missing == 0);
  CHECK(delivered >= written);
  // Every lease of the consumer ended up in the local table.
  ASSIGN_OR_REQUIRE(auto leases, co.lease_table->ListLeases(consumer->scope()));
  CHECK(leases.size() == 5);  // 2 + 2 children of the split + 1 of the merge
  REQUIRE_OK(consumer->Shutdown());
}

}  // namespace tributary

#endif  // TRIBUTARY_TESTS_REMOTE_CONSUME_ACROSS_RESHARDS_H_
