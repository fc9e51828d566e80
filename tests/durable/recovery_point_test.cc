// Write-ahead log, checkpoints and recovery points (docs/DURABILITY.md): a
// clean reopen reads metadata only; a crash replays only what was written
// after the last recovery point; power loss between the WAL's sync and the
// segments' loses nothing synced; a torn or damaged recovery point, a torn
// index file and damaged segments found by reads are detected, reported and
// never returned as data.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "durable/durable_util.h"

namespace tributary::durable_test {
namespace {

using testing::Input;
using testing::Iterator;
using testing::Midpoint;
using testing::OpenShards;
using testing::PutOk;
using testing::ReadShard;

struct Acked {
  std::string shard;
  SequenceNumber seq;
  std::string data;
};

Acked Put1(Store& s, const std::string& stream, const std::string& key, const std::string& data,
           Sync sync = Sync::kYes) {
  WriteOptions wo;
  wo.sync = sync;
  auto r = s.Put(stream, Input(key, data), std::nullopt, wo);
  REQUIRE_OK(r);
  return {r->shard_id.ToString(), r->sequence_number, data};
}

// Every acknowledged record is present once with its data, and every shard's
// numbers strictly increase.
void CheckAcked(Store& store, const std::string& stream, const std::vector<Acked>& acked) {
  std::map<std::string, std::map<std::string, std::string>> by_seq;
  for (const auto& [id, recs] : AllRecords(store, stream)) {
    CheckStrictlyIncreasing(recs);
    for (const Record& r : recs) CHECK(by_seq[id].emplace(r.sequence_number.ToString(), r.data).second);
  }
  for (const Acked& a : acked) {
    INFO("acknowledged " << a.shard << " " << a.seq.ToString());
    auto it = by_seq[a.shard].find(a.seq.ToString());
    REQUIRE(it != by_seq[a.shard].end());
    CHECK(it->second == a.data);
  }
}

bool Reports(const RecoveryReport& rep, const std::string& needle) {
  for (const std::string& p : rep.problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::vector<Acked> WriteSome(Disk& d, const std::string& stream, int n, size_t bytes = 200) {
  std::vector<Acked> acked;
  for (int i = 0; i < n; ++i) {
    acked.push_back(Put1(*d, stream, "k" + std::to_string(i % 13), Payload(stream + std::to_string(i), bytes)));
    d.clock.Advance(absl::Milliseconds(10));
  }
  return acked;
}

TEST_CASE("a clean reopen reads metadata only, and holds everything", "[durable][recovery]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 4));
  std::vector<Acked> acked = WriteSome(d, "s", 300);
  auto before = Snapshot(*d, "s");
  d.Reopen();
  RecoveryReport rep = d->recovery();
  CHECK(rep.from_recovery_point);
  CHECK(rep.segments_scanned == 0);
  CHECK(rep.bytes_scanned == 0);
  CHECK(rep.records_replayed == 0);
  CHECK(rep.problems.empty());
  CHECK(rep.records == acked.size());
  CHECK(rep.segments > 4);
  CheckSameStream(before, Snapshot(*d, "s"));
  // Reading indexed segments found no damaged index.
  CHECK(d->recovery().problems.empty());
  CheckAcked(*d, "s", acked);
}

TEST_CASE("power loss between the WAL's sync and the segments' update loses no synced record",
          "[durable][recovery][crash]") {
  Disk d;
  d.options.segment_bytes = 8192;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 3));
  std::vector<Acked> acked = WriteSome(d, "s", 120);
  // Synced records are durable through the WAL; the segments hold them in
  // the page cache only (no checkpoint ran since the open).
  bool some_segment_unsynced = false;
  for (uint32_t shard = 0; shard < 3; ++shard) {
    for (const std::string& seg : SegmentsOf(d.base, d.dir, "s", shard)) {
      auto size = d.base->GetFileSize(seg);
      REQUIRE_OK(size);
      std::optional<uint64_t> synced = d.fault->SyncedSize(seg);
      if (synced && *synced < *size) some_segment_unsynced = true;
    }
  }
  CHECK(some_segment_unsynced);
  d.PowerLoss();
  d.Open();
  RecoveryReport rep = d->recovery();
  CHECK(rep.from_recovery_point);
  CHECK(rep.records_replayed == acked.size());
  CHECK(rep.records == acked.size());  // what the store holds, replayed ones included
  CHECK(rep.truncated_bytes == 0);
  CHECK(rep.problems.empty());
  CheckAcked(*d, "s", acked);
  // Replayed records are durable now (the open ended with a checkpoint):
  // another power loss right away loses nothing either.
  d.PowerLoss();
  d.Open();
  CHECK(d->recovery().records_replayed == 0);
  CheckAcked(*d, "s", acked);
  acked.push_back(Put1(*d, "s", "after", "after"));
  CheckAcked(*d, "s", acked);
}

TEST_CASE("a crash replays only what was written after the last recovery point",
          "[durable][recovery][crash]") {
  Disk d;
  d.options.segment_bytes = 16384;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked = WriteSome(d, "s", 200);
  d.Reopen();  // a clean shutdown: a recovery point covering all 200
  std::vector<Acked> later = WriteSome(d, "s", 30);
  d.PowerLoss();
  d.Open();
  CHECK(d->recovery().from_recovery_point);
  CHECK(d->recovery().records_replayed == later.size());
  CHECK(d->recovery().segments_scanned == 0);
  acked.insert(acked.end(), later.begin(), later.end());
  CheckAcked(*d, "s", acked);
}

TEST_CASE("background checkpoints racing writes, reshards and power losses lose no synced record",
          "[durable][recovery][crash]") {
  const uint32_t seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  Disk d;
  d.options.segment_bytes = 4096;
  // A checkpoint after every ~2 KiB of WAL: they run all the time, on their
  // own thread, while the writes go on.
  d.options.checkpoint_wal_bytes = 2048;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked;
  for (int round = 0; round < 8; ++round) {
    INFO("round " << round);
    const int n = 20 + static_cast<int>(rng() % 80);
    for (int i = 0; i < n; ++i) {
      const bool sync = rng() % 4 != 0;
      Acked a = Put1(*d, "s", "k" + std::to_string(rng() % 40), Payload("r" + std::to_string(round * 1000 + i),
                                                                       rng() % 500),
                     sync ? Sync::kYes : Sync::kNo);
      if (sync) acked.push_back(a);
      if (i % 37 == 5) {
        auto open = OpenShards(*d, "s");
        if (open.size() < 6) {
          REQUIRE_OK(d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
        }
      }
    }
    d.PowerLoss();
    d.Open();
    CHECK(d->recovery().truncated_bytes == 0);
    CHECK(d->recovery().problems.empty());
    CheckAcked(*d, "s", acked);
  }
}

TEST_CASE("a torn RECOVERY.tmp (a crash while writing the recovery point) is ignored",
          "[durable][recovery][corruption]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked = WriteSome(d, "s", 50);
  d.store.reset();
  // What a crash in the middle of the next checkpoint leaves: half a file.
  {
    auto rp = d.base->GetFileSize(d.dir + "/RECOVERY");
    REQUIRE_OK(rp);
    auto f = d.base->NewWritableFile(d.dir + "/RECOVERY.tmp");
    REQUIRE_OK(f);
    REQUIRE_OK((*f)->Append(std::string(*rp / 2, 'x')));
    REQUIRE_OK((*f)->Close());
  }
  d.Open();
  CHECK(d->recovery().from_recovery_point);
  CHECK(d->recovery().problems.empty());
  CheckAcked(*d, "s", acked);
}

TEST_CASE("a damaged recovery point is detected, and the open scans every segment instead",
          "[durable][recovery][corruption]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked = WriteSome(d, "s", 100);
  d.store.reset();
  const std::string rp = d.dir + "/RECOVERY";
  auto size = d.base->GetFileSize(rp);
  REQUIRE_OK(size);
  const bool truncate = GENERATE(false, true);
  INFO((truncate ? "truncated" : "a flipped byte"));
  if (truncate) {
    REQUIRE_OK(d.fault->TruncateTo(rp, *size / 2));
  } else {
    REQUIRE_OK(d.fault->CorruptByte(rp, *size / 3));
  }
  SECTION("after a clean shutdown") {}
  SECTION("with writes after it, then power loss") {
    d.Open();
    std::vector<Acked> later = WriteSome(d, "s", 20);
    acked.insert(acked.end(), later.begin(), later.end());
    d.PowerLoss();
    // The open above replaced the damaged file: damage it again.
    auto now = d.base->GetFileSize(rp);
    REQUIRE_OK(now);
    REQUIRE_OK(d.fault->CorruptByte(rp, *now / 3));
  }
  d.Open();
  RecoveryReport rep = d->recovery();
  CHECK_FALSE(rep.from_recovery_point);
  CHECK(rep.segments_scanned > 0);
  CHECK(Reports(rep, "RECOVERY"));
  CheckAcked(*d, "s", acked);
  // The open wrote a good one: the next reopen reads metadata only.
  d.Reopen();
  CHECK(d->recovery().from_recovery_point);
  CHECK(d->recovery().problems.empty());
  CheckAcked(*d, "s", acked);
}

TEST_CASE("a torn segment index (a crash while writing it) is detected and rebuilt",
          "[durable][recovery][corruption]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Acked> acked = WriteSome(d, "s", 80);
  d.store.reset();
  std::vector<std::string> indexes;
  for (const std::string& f : FilesUnder(d.base, StreamDirOf(d.base, d.dir, "s") + "/0")) {
    if (f.size() > 4 && f.substr(f.size() - 4) == ".idx") indexes.push_back(StreamDirOf(d.base, d.dir, "s") + "/0/" + f);
  }
  REQUIRE(indexes.size() >= 3);
  const std::string victim = indexes[1];
  auto size = d.base->GetFileSize(victim);
  REQUIRE_OK(size);
  const int how = GENERATE(0, 1, 2);
  if (how == 0) REQUIRE_OK(d.fault->TruncateTo(victim, *size / 2));  // torn
  if (how == 1) REQUIRE_OK(d.fault->CorruptByte(victim, *size - 20));  // an entry damaged
  if (how == 2) REQUIRE_OK(d.fault->CorruptByte(victim, 30));  // the header damaged
  d.Open();
  CHECK(d->recovery().problems.empty());  // nothing read yet
  CheckAcked(*d, "s", acked);
  CHECK(Reports(d->recovery(), victim));
  // Rebuilt: the next reopen finds a good one.
  d.Reopen();
  CheckAcked(*d, "s", acked);
  CHECK(d->recovery().problems.empty());
}

TEST_CASE("without verify_on_open, damage in a sealed segment is found by the read that meets it",
          "[durable][recovery][corruption]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Acked> acked = WriteSome(d, "s", 60, 300);
  auto segments = SegmentsOf(d.base, d.dir, "s", 0);
  REQUIRE(segments.size() >= 4);
  d.store.reset();
  const bool header = GENERATE(false, true);
  REQUIRE_OK(d.fault->CorruptByte(segments[1], header ? 3 : 32 + 31 + 1 + 150));
  d.Open();
  CHECK(d->recovery().problems.empty());
  // From the start: the good records, then corruption; never bad data.
  std::string it = Iterator(*d, "s", FormatShardId(0));
  std::vector<Record> got;
  absl::Status error;
  for (int i = 0; i < 100; ++i) {
    auto r = d->GetRecords(it, 5);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    got.insert(got.end(), r->records.begin(), r->records.end());
    if (!r->next_shard_iterator || r->records.empty()) break;
    it = *r->next_shard_iterator;
  }
  REQUIRE_FALSE(error.ok());
  CHECK(GetErrorType(error) == ErrorType::kCorruption);
  REQUIRE(got.size() < acked.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].data == acked[i].data);
  CHECK(Reports(d->recovery(), segments[1]));
  // Writes go on above every number.
  Acked after = Put1(*d, "s", "k", "after");
  CHECK(after.seq > acked.back().seq);
}

TEST_CASE("a segment cut short behind a closed store's back is reported by reads, never returned",
          "[durable][recovery][corruption]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Acked> acked = WriteSome(d, "s", 20, 300);
  d.store.reset();
  auto segments = SegmentsOf(d.base, d.dir, "s", 0);
  REQUIRE(segments.size() == 1);
  auto size = d.base->GetFileSize(segments[0]);
  REQUIRE_OK(size);
  REQUIRE_OK(d.fault->TruncateTo(segments[0], *size - 7));
  d.Open();
  auto first = d->GetRecords(Iterator(*d, "s", FormatShardId(0)), 100);
  // The 19 whole records come back; the cut one never does.
  REQUIRE_OK(first);
  REQUIRE(first->records.size() == 19);
  for (size_t i = 0; i < 19; ++i) CHECK(first->records[i].data == acked[i].data);
  REQUIRE(first->next_shard_iterator);
  auto second = d->GetRecords(*first->next_shard_iterator, 100);
  REQUIRE_FALSE(second.ok());
  CHECK(GetErrorType(second.status()) == ErrorType::kCorruption);
  // The next append cannot go after damage: a new segment, higher numbers.
  Acked after = Put1(*d, "s", "k", "after");
  CHECK(after.seq > acked.back().seq);
  CHECK(Reports(d->recovery(), segments[0]));
}

TEST_CASE("a store written before recovery points opens by a scan and is upgraded",
          "[durable][recovery]") {
  // Segment format 1 and catalog format 1 did not change: such a store is
  // this one without RECOVERY, wal/ and the .idx files.
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked = WriteSome(d, "s", 150);
  d.store.reset();
  REQUIRE_OK(d.base->RemoveFile(d.dir + "/RECOVERY"));
  for (const std::string& f : FilesUnder(d.base, d.dir + "/wal")) REQUIRE_OK(d.base->RemoveFile(d.dir + "/wal/" + f));
  REQUIRE_OK(d.base->RemoveDir(d.dir + "/wal"));
  for (const std::string& f : FilesUnder(d.base, d.dir + "/streams")) {
    if (f.size() > 4 && f.substr(f.size() - 4) == ".idx") REQUIRE_OK(d.base->RemoveFile(d.dir + "/streams/" + f));
  }
  d.Open();
  CHECK_FALSE(d->recovery().from_recovery_point);
  CHECK(d->recovery().segments_scanned > 4);
  CHECK(d->recovery().problems.empty());
  CheckAcked(*d, "s", acked);
  d.Reopen();
  CHECK(d->recovery().from_recovery_point);
  CHECK(d->recovery().segments_scanned == 0);
  CheckAcked(*d, "s", acked);
}

}  // namespace
}  // namespace tributary::durable_test
