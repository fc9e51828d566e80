// The durable store's building blocks below the Store: the file cache, the
// write-ahead log's group commit, and the segment index and recovery point
// codecs (every damaged byte detected). The whole works through the Store in
// tests/durable/.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "log/file_cache.h"
#include "log/format.h"
#include "log/metadata.h"
#include "log/wal.h"
#include "testing/fault_env.h"
#include "testing/status_matchers.h"

namespace tributary::log {
namespace {

struct Counted : FileCache::Value {
  explicit Counted(std::atomic<int>* live) : live_(live) { ++*live_; }
  ~Counted() override { --*live_; }
  std::atomic<int>* live_;
};

TEST_CASE("the file cache holds at most its capacity, dropping the least recently used",
          "[log][cache]") {
  std::atomic<int> live{0};
  FileCache cache(3);
  std::vector<FileCache::Slot> slots(5);
  for (int i = 0; i < 3; ++i) cache.Insert(&slots[i], std::make_shared<Counted>(&live));
  CHECK(cache.size() == 3);
  CHECK(live == 3);
  REQUIRE(cache.Lookup<Counted>(&slots[0]) != nullptr);  // 0 is now the most recent
  cache.Insert(&slots[3], std::make_shared<Counted>(&live));
  CHECK(cache.size() == 3);
  CHECK(live == 3);
  CHECK(cache.Lookup<Counted>(&slots[1]) == nullptr);  // the least recent went
  CHECK(cache.Lookup<Counted>(&slots[0]) != nullptr);
  // A value a caller holds stays alive after its entry is dropped. (The
  // lookup makes 2 the most recent: three inserts push it out.)
  std::shared_ptr<Counted> held = cache.Lookup<Counted>(&slots[2]);
  cache.Insert(&slots[4], std::make_shared<Counted>(&live));
  cache.Insert(&slots[1], std::make_shared<Counted>(&live));
  cache.Insert(&slots[0], std::make_shared<Counted>(&live));
  CHECK(cache.size() == 3);
  CHECK(cache.Lookup<Counted>(&slots[2]) == nullptr);
  CHECK(live == 4);  // three cached, one held
  held.reset();
  CHECK(live == 3);
  cache.Erase(&slots[1]);
  CHECK(cache.size() == 2);
  CHECK(live == 2);
}

TEST_CASE("a slot destroyed while cached releases its entry", "[log][cache]") {
  std::atomic<int> live{0};
  FileCache cache(8);
  {
    FileCache::Slot s;
    cache.Insert(&s, std::make_shared<Counted>(&live));
    CHECK(cache.size() == 1);
  }
  CHECK(cache.size() == 0);
  CHECK(live == 0);
}

SegmentSummary Summary() {
  SegmentSummary s;
  s.first_counter = 100;
  s.size = 32 + 3 * 50;
  s.records = 3;
  s.data_bytes = 3 * 19;
  s.last_counter = 102;
  s.first_arrival_ms = 1700000000000;
  s.last_arrival_ms = 1700000000002;
  return s;
}

TEST_CASE("a segment index round-trips, and every damaged byte is detected", "[log][index]") {
  const SegmentSummary seg = Summary();
  const std::vector<IndexEntry> entries = {{100, 1700000000000, 32}, {102, 1700000000002, 132}};
  const std::string file = EncodeSegmentIndex(7, seg, entries);
  auto back = DecodeSegmentIndex(file, 7, seg);
  REQUIRE_OK(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[1].offset == 132);
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = static_cast<char>(~bad[i]);
    INFO("byte " << i);
    CHECK_FALSE(DecodeSegmentIndex(bad, 7, seg).ok());
  }
  for (size_t n = 0; n < file.size(); n += 5) CHECK_FALSE(DecodeSegmentIndex(file.substr(0, n), 7, seg).ok());
  // An index of another state of the segment, or another shard, is refused.
  SegmentSummary grown = seg;
  grown.size += 50;
  grown.records++;
  CHECK_FALSE(DecodeSegmentIndex(file, 7, grown).ok());
  CHECK_FALSE(DecodeSegmentIndex(file, 8, seg).ok());
}

TEST_CASE("a recovery point round-trips, and every damaged byte is detected", "[log][recovery]") {
  RecoveryPoint rp;
  rp.flags = kRecoveryFlagClean;
  rp.wal_start = 42;
  rp.logs.push_back({3, 0, {Summary()}});
  SegmentSummary second = Summary();
  second.first_counter = 200;
  second.last_counter = 202;
  rp.logs.push_back({3, 1, {Summary(), second}});
  const std::string file = EncodeRecoveryPoint(rp);
  auto back = DecodeRecoveryPoint(file);
  REQUIRE_OK(back);
  CHECK(back->wal_start == 42);
  REQUIRE(back->logs.size() == 2);
  CHECK(back->logs[1].segments[1].first_counter == 200);
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    INFO("byte " << i);
    CHECK_FALSE(DecodeRecoveryPoint(bad).ok());
  }
  for (size_t n = 0; n < file.size(); ++n) CHECK_FALSE(DecodeRecoveryPoint(file.substr(0, n)).ok());
}

TEST_CASE("WAL group commit: concurrent appenders share syncs, and every Sync covers its frame",
          "[log][wal]") {
  auto mem = NewMemEnv();
  testing::FaultEnv env(mem.get());
  REQUIRE_OK(env.CreateDirs("/w"));
  auto wal = Wal::Create(&env, "/w", 1);
  REQUIRE_OK(wal);
  const int syncs_before = env.CallCount(testing::FaultEnv::Op::kSync);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto lsn = (*wal)->Append(std::string(100, 'x'));
        if (!lsn.ok() || !(*wal)->Sync(*lsn).ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  const int syncs = env.CallCount(testing::FaultEnv::Op::kSync) - syncs_before;
  INFO(syncs << " fdatasyncs for 400 synced appends");
  CHECK(syncs <= 400);
  CHECK(env.SyncedSize(Wal::FileName("/w", 1)) == kWalHeaderSize + 400 * 100);
  // After a rotation, an LSN of the old file is covered; new frames go to
  // the new file.
  auto at = (*wal)->Rotate(2);
  REQUIRE_OK(at);
  REQUIRE_OK((*wal)->Sync(*at));
  auto lsn = (*wal)->Append("y");
  REQUIRE_OK(lsn);
  REQUIRE_OK((*wal)->Sync(*lsn));
  CHECK(env.SyncedSize(Wal::FileName("/w", 2)) == kWalHeaderSize + 1);
}

TEST_CASE("a failed WAL write or sync stops the WAL with that error", "[log][wal][fault]") {
  auto mem = NewMemEnv();
  testing::FaultEnv env(mem.get());
  REQUIRE_OK(env.CreateDirs("/w"));
  auto wal = Wal::Create(&env, "/w", 1);
  REQUIRE_OK(wal);
  const bool fail_sync = GENERATE(false, true);
  env.FailNth(fail_sync ? testing::FaultEnv::Op::kSync : testing::FaultEnv::Op::kAppend, 1);
  absl::StatusOr<uint64_t> lsn = (*wal)->Append("frame");
  absl::Status s = lsn.ok() ? (*wal)->Sync(*lsn) : lsn.status();
  REQUIRE_FALSE(s.ok());
  CHECK_FALSE((*wal)->error().ok());
  CHECK_FALSE((*wal)->Append("more").ok());
  CHECK_FALSE((*wal)->Rotate(2).ok());
}

}  // namespace
}  // namespace tributary::log
