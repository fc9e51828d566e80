// Power loss simulated by FaultEnv::DropUnsyncedData() over a MemEnv: every
// record acknowledged with Sync::kYes survives, in order, exactly once;
// unsynced records may be lost but nothing torn is ever returned; catalog
// changes (create, reshard, tags, retention, delete) are durable when the
// call returns.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "durable/durable_util.h"

namespace tributary::durable_test {
namespace {

using testing::AllShards;
using testing::Input;
using testing::Midpoint;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::PutOk;
using testing::ReadShard;

struct Acked {
  std::string shard_id;
  SequenceNumber seq;
  std::string key;
  std::string data;
};

// Checks that each acknowledged record is present exactly once, in
// acknowledgement order within its shard, with its data; returns the total
// number of records present.
size_t CheckAllPresent(Store& store, const std::string& stream, const std::vector<Acked>& acked) {
  auto all = AllRecords(store, stream);
  size_t total = 0;
  std::map<std::string, std::vector<const Acked*>> by_shard;
  for (const Acked& a : acked) by_shard[a.shard_id].push_back(&a);
  for (const auto& [id, recs] : all) {
    total += recs.size();
    CheckStrictlyIncreasing(recs);
  }
  for (const auto& [id, want] : by_shard) {
    INFO("shard " << id);
    REQUIRE(all.count(id) == 1);
    const std::vector<Record>& got = all[id];
    std::map<std::string, const Record*> by_seq;
    for (const Record& r : got) {
      CHECK(by_seq.emplace(r.sequence_number.ToString(), &r).second);  // exactly once
    }
    for (const Acked* a : want) {
      auto it = by_seq.find(a->seq.ToString());
      INFO("acknowledged " << a->seq.ToString() << " " << a->data.substr(0, 30));
      REQUIRE(it != by_seq.end());
      CHECK(it->second->data == a->data);
      CHECK(it->second->partition_key == a->key);
    }
  }
  return total;
}

TEST_CASE("every record acknowledged with Sync::kYes survives power loss",
          "[durable][crash]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 3));
  std::vector<Acked> acked;
  std::mt19937 rng(Catch::rngSeed());
  for (int i = 0; i < 300; ++i) {
    std::string key = "k" + std::to_string(rng() % 1000);
    std::string data = Payload("r" + std::to_string(i), rng() % 700);
    if (i % 3 == 0) {
      std::vector<std::string> keys, datas;
      std::vector<PutRecordInput> in;
      for (int j = 0; j < 5; ++j) {
        keys.push_back(key + "-" + std::to_string(j));
        datas.push_back(data + "-" + std::to_string(j));
      }
      for (int j = 0; j < 5; ++j) in.push_back(Input(keys[j], datas[j]));
      auto r = d->PutBatch("s", in);
      REQUIRE_OK(r);
      REQUIRE(r->failed_record_count == 0);
      for (int j = 0; j < 5; ++j) {
        acked.push_back({r->records[j].shard_id->ToString(), *r->records[j].sequence_number, keys[j],
                         datas[j]});
      }
    } else {
      auto r = PutOk(*d, "s", key, data);
      acked.push_back({r.shard_id.ToString(), r.sequence_number, key, data});
    }
    if (i == 150) {
      auto open = OpenShards(*d, "s");
      REQUIRE_OK(d->SplitShard("s", open[1].shard_id, Midpoint(open[1].hash_key_range)));
    }
  }
  d.PowerLoss();
  d.Open();
  CHECK(CheckAllPresent(*d, "s", acked) == acked.size());
  // Nothing was torn: every byte written was synced.
  CHECK(d->recovery().truncated_bytes == 0);
  // Writes continue, with new numbers.
  auto r = PutOk(*d, "s", "after", "after");
  for (const Acked& a : acked) {
    if (a.shard_id == r.shard_id.ToString()) CHECK(a.seq < r.sequence_number);
  }
}

TEST_CASE("with Sync::kNo power loss may drop records but never tears one", "[durable][crash]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> synced, unsynced;
  WriteOptions no;
  no.sync = Sync::kNo;
  WriteOptions yes;
  yes.sync = Sync::kYes;
  for (int i = 0; i < 200; ++i) {
    std::string key = "k" + std::to_string(i % 17);
    std::string data = Payload("r" + std::to_string(i), 50 + (i * 31) % 400);
    bool sync = i < 80 && i % 4 == 0;
    auto r = d->Put("s", Input(key, data), std::nullopt, sync ? yes : no);
    REQUIRE_OK(r);
    (sync ? synced : unsynced).push_back({r->shard_id.ToString(), r->sequence_number, key, data});
  }
  d.PowerLoss();
  d.Open();
  // Every record present is one that was written, whole; synced ones all are.
  CheckAllPresent(*d, "s", synced);
  std::map<std::string, std::string> written;
  for (const auto* v : {&synced, &unsynced}) {
    for (const Acked& a : *v) written[a.shard_id + "/" + a.seq.ToString()] = a.data;
  }
  size_t present = 0;
  for (const auto& [id, recs] : AllRecords(*d, "s")) {
    for (const Record& r : recs) {
      ++present;
      auto it = written.find(id + "/" + r.sequence_number.ToString());
      REQUIRE(it != written.end());
      CHECK(it->second == r.data);
    }
  }
  CHECK(present >= synced.size());
  CHECK(present < synced.size() + unsynced.size());  // the unsynced tail went
  PutOk(*d, "s", "after", "after");
}

TEST_CASE("sequence numbers handed out with Sync::kNo are not reissued after power loss",
          "[durable][crash]") {
  // DESIGN.md / issue 3: "no sequence number is ever reused after a restart".
  Disk d;
  d.options.sync = Sync::kNo;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  PutOk(*d, "s", "k", "synced");  // the store-wide default is kNo: nothing is synced
  WriteOptions yes;
  yes.sync = Sync::kYes;
  REQUIRE_OK(d->Put("s", Input("k", "synced-yes"), std::nullopt, yes));
  SequenceNumber last;
  for (int i = 0; i < 10; ++i) last = PutOk(*d, "s", "k", "lost-" + std::to_string(i)).sequence_number;
  d.PowerLoss();
  d.Open();
  CHECK(ReadShard(*d, "s", FormatShardId(0)).records.size() == 2);
  auto r = PutOk(*d, "s", "k", "new");
  INFO("handed out before the crash up to " << last.ToString() << "; after: "
                                            << r.sequence_number.ToString());
  CHECK(r.sequence_number > last);
}

TEST_CASE("concurrent synced writers (group commit): every acknowledged record survives",
          "[durable][crash]") {
  Disk d;
  d.options.segment_bytes = 8192;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i % 5);
        std::string data = Payload("t" + std::to_string(t) + "-" + std::to_string(i), 120);
        auto r = d->Put("s", Input(key, data));
        if (!r.ok()) {
          failures++;
          continue;
        }
        std::lock_guard<std::mutex> l(mu);
        acked.push_back({r->shard_id.ToString(), r->sequence_number, key, data});
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(failures == 0);
  // Acknowledgement order within a shard is sequence order.
  std::sort(acked.begin(), acked.end(), [](const Acked& a, const Acked& b) { return a.seq < b.seq; });
  d.PowerLoss();
  d.Open();
  CHECK(CheckAllPresent(*d, "s", acked) == 400);
}

TEST_CASE("catalog changes are durable when the call returns", "[durable][crash]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("keep", 2));
  REQUIRE_OK(d->CreateStream("gone", 1));
  CreateStreamOptions od;
  od.mode = StreamMode::kOnDemand;
  od.tags = {{"a", "1"}};
  REQUIRE_OK(d->CreateStream("od", od));
  auto open = OpenShards(*d, "keep");
  REQUIRE_OK(d->SplitShard("keep", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  open = OpenShards(*d, "keep");
  REQUIRE_OK(d->MergeShards("keep", open[1].shard_id, open[2].shard_id));
  REQUIRE_OK(d->AddTagsToStream("keep", {{"x", "y"}}));
  REQUIRE_OK(d->IncreaseStreamRetentionPeriod("keep", 100));
  REQUIRE_OK(d->UpdateMaxRecordSize("keep", 4096));
  REQUIRE_OK(d->DeleteStream("gone"));
  REQUIRE_OK(d->UpdateStreamMode("od", StreamMode::kProvisioned));
  auto keep = Snapshot(*d, "keep");
  auto ods = Snapshot(*d, "od");
  d.PowerLoss();
  d.Open();
  CheckSameStream(keep, Snapshot(*d, "keep"));
  CheckSameStream(ods, Snapshot(*d, "od"));
  CHECK(ods.description.stream_mode == StreamMode::kProvisioned);
  REQUIRE_ERROR(d->DescribeStreamSummary("gone"), ErrorType::kResourceNotFound);
  CHECK(StreamDirOf(d.base, d.dir, "gone").empty());
}

// ---------------------------------------------------------------- random loop

// One record a test attempted to write. `acked_sync`: acknowledged with
// Sync::kYes (must survive); `acked`: acknowledged at all (its sequence
// number is known); neither: the call failed (may or may not be present).
struct Attempt {
  std::string key, data;
  bool acked = false;
  bool acked_sync = false;
  std::optional<SequenceNumber> seq;
};

TEST_CASE("random writes, reshards and power losses: synced records always survive",
          "[durable][crash]") {
  const uint32_t seed = Catch::rngSeed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  std::mt19937 rng(seed);
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  // Per shard: what is known to be in it (the durable prefix after the last
  // check) followed by this round's attempts.
  std::map<std::string, std::vector<Attempt>> model;
  std::set<std::string> tags_seen;
  int serial = 0;
  for (int round = 0; round < 30; ++round) {
    INFO("round " << round);
    const bool inject = round % 4 == 3;
    bool fault_fired = false;
    std::string injected = "nothing";
    if (inject) {
      FaultEnv::Op ops[] = {FaultEnv::Op::kAppend, FaultEnv::Op::kSync, FaultEnv::Op::kRename,
                            FaultEnv::Op::kSyncDir, FaultEnv::Op::kOpen};
      FaultEnv::Op op = ops[rng() % 5];
      int nth = 1 + static_cast<int>(rng() % 15);
      d.fault->FailNth(op, nth);
      injected = std::string(FaultEnv::OpName(op)) + " #" + std::to_string(nth);
    }
    INFO("injected this round: " << injected);
    bool reshard_failed = false;
    const int nops = 10 + static_cast<int>(rng() % 40);
    for (int op = 0; op < nops; ++op) {
      int dice = static_cast<int>(rng() % 100);
      if (dice < 75) {
        // PutBatch of 1..8 (or a single Put).
        int n = dice < 50 ? 1 : 1 + static_cast<int>(rng() % 8);
        bool sync = rng() % 3 != 0;
        WriteOptions wo;
        wo.sync = sync ? Sync::kYes : Sync::kNo;
        std::vector<std::string> keys, datas;
        for (int i = 0; i < n; ++i) {
          keys.push_back("k" + std::to_string(rng() % 50));
          datas.push_back(Payload("#" + std::to_string(serial++), rng() % 600));
        }
        if (n == 1) {
          auto r = d->Put("s", Input(keys[0], datas[0]), std::nullopt, wo);
          if (!r.ok()) {
            fault_fired = true;
            CHECK(GetErrorType(r.status()) == ErrorType::kInternalFailure);
            // Unknown shard: remember it under every open shard is not
            // possible; record it under a pseudo shard of failed writes.
            model["?"].push_back({keys[0], datas[0], false, false, std::nullopt});
          } else {
            model[r->shard_id.ToString()].push_back({keys[0], datas[0], true, sync, r->sequence_number});
          }
        } else {
          std::vector<PutRecordInput> in;
          for (int i = 0; i < n; ++i) in.push_back(Input(keys[i], datas[i]));
          auto r = d->PutBatch("s", in, wo);
          if (!r.ok()) {
            fault_fired = true;
            CHECK(GetErrorType(r.status()) == ErrorType::kInternalFailure);
            for (int i = 0; i < n; ++i) model["?"].push_back({keys[i], datas[i], false, false, std::nullopt});
            continue;
          }
          for (int i = 0; i < n; ++i) {
            const PutBatchEntryResult& e = r->records[i];
            if (e.ok()) {
              model[e.shard_id->ToString()].push_back({keys[i], datas[i], true, sync, e.sequence_number});
            } else {
              fault_fired = true;
              CHECK(e.error_code == "InternalFailure");
              model["?"].push_back({keys[i], datas[i], false, false, std::nullopt});
            }
          }
        }
      } else if (dice < 85) {
        auto open = OpenShards(*d, "s");
        absl::Status st;
        if ((rng() % 2 == 0 && open.size() < 8) || open.size() < 2) {
          const auto& sh = open[rng() % open.size()];
          st = d->SplitShard("s", sh.shard_id, Midpoint(sh.hash_key_range));
        } else {
          size_t i = rng() % (open.size() - 1);
          st = d->MergeShards("s", open[i].shard_id, open[i + 1].shard_id);
        }
        if (!st.ok()) {
          fault_fired = true;
          reshard_failed = true;
          CHECK(GetErrorType(st) == ErrorType::kInternalFailure);
        }
      } else {
        d.clock.Advance(absl::Milliseconds(1 + rng() % 5000));
      }
    }
    (void)fault_fired;
    std::vector<ShardDescription> shards_before = AllShards(*d, "s");
    d.fault->ClearFailures();
    d.PowerLoss();
    d.Open();
    CHECK(d->recovery().truncated_bytes == 0);

    // The shard structure: acknowledged reshards are all there.
    std::vector<ShardDescription> shards_after = AllShards(*d, "s");
    CHECK(PartitionProblem(OpenShards(*d, "s")).empty());
    if (!reshard_failed) {
      REQUIRE(shards_after.size() == shards_before.size());
      for (size_t i = 0; i < shards_after.size(); ++i) {
        CHECK(shards_after[i].shard_id == shards_before[i].shard_id);
        CHECK(shards_after[i].state == shards_before[i].state);
        CHECK(shards_after[i].hash_key_range == shards_before[i].hash_key_range);
      }
    }

    // Records: per shard, the records present are the attempts in order,
    // where only unacknowledged-or-unsynced ones may be missing, and once
    // one acknowledged record is missing every later one is too (a durable
    // prefix), except failed writes which leave gaps only where they were
    // never appended.
    std::map<std::string, const Attempt*> failed_by_data;
    for (const Attempt& a : model["?"]) failed_by_data[a.data] = &a;
    std::map<std::string, std::vector<Attempt>> next_model;
    for (const auto& [id, recs] : AllRecords(*d, "s")) {
      INFO("shard " << id);
      CheckStrictlyIncreasing(recs);
      const std::vector<Attempt>& want = model[id];
      size_t w = 0;
      std::vector<Attempt> kept;
      bool lost_acked = false;
      for (const Record& r : recs) {
        INFO("record " << Show(r));
        if (auto f = failed_by_data.find(r.data); f != failed_by_data.end()) {
          // A write reported as failed that reached the disk anyway: allowed.
          CHECK(f->second->key == r.partition_key);
          kept.push_back(*f->second);
          kept.back().seq = r.sequence_number;
          continue;
        }
        // Skip attempts that are allowed to be missing.
        while (w < want.size() && want[w].data != r.data) {
          CHECK_FALSE(want[w].acked_sync);
          if (want[w].acked) lost_acked = true;
          ++w;
        }
        if (w < want.size()) {
          CHECK_FALSE(lost_acked);  // a hole in the middle: not a prefix
          CHECK(want[w].key == r.partition_key);
          if (want[w].seq) CHECK(*want[w].seq == r.sequence_number);
          kept.push_back(want[w]);
          kept.back().seq = r.sequence_number;
          ++w;
        } else {
          FAIL_CHECK("a record nobody wrote to this shard (or out of order): " << Show(r));
        }
      }
      for (; w < want.size(); ++w) {
        INFO("missing " << want[w].data.substr(0, 20));
        CHECK_FALSE(want[w].acked_sync);
      }
      // What survived a power loss is durable from now on.
      for (Attempt& a : kept) a.acked = a.acked_sync = true;
      next_model[id] = std::move(kept);
    }
    for (const auto& [id, want] : model) {
      if (id == "?" || next_model.count(id)) continue;
      for (const Attempt& a : want) CHECK_FALSE(a.acked_sync);  // a shard vanished
    }
    model = std::move(next_model);
  }
}

}  // namespace
}  // namespace tributary::durable_test
