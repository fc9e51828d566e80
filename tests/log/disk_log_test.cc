// DiskShardLog: round trips, reopen, segment rolls, recovery of torn tails,
// corruption reporting, group-commit sync. Runs on MemEnv and on POSIX.
#include "log/disk_log.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "log/format.h"
#include "testing/status_matchers.h"

namespace tributary::log {
namespace {

struct TestDir {
  std::unique_ptr<Env> mem;
  Env* env;
  std::string dir;
  explicit TestDir(bool posix) {
    if (posix) {
      static std::atomic<int> n{0};
      dir = (std::filesystem::temp_directory_path() /
             ("tributary-disklog-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
                .string();
      std::filesystem::remove_all(dir);
      env = DefaultEnv();
    } else {
      mem = NewMemEnv();
      env = mem.get();
      dir = "/store/shard";
    }
  }
  ~TestDir() {
    if (!mem) std::filesystem::remove_all(dir);
  }
};

std::unique_ptr<DiskShardLog> OpenLog(TestDir& t, RecoveryReport* report = nullptr,
                                      uint64_t segment_bytes = 64 << 20) {
  DiskShardLog::Options o;
  o.env = t.env;
  o.dir = t.dir;
  o.shard_index = 3;
  o.start_counter = 1;
  o.segment_bytes = segment_bytes;
  auto log = DiskShardLog::Open(o, report);
  REQUIRE_OK(log);
  return std::move(*log);
}

void AppendN(DiskShardLog& log, uint64_t first_counter, int n, int64_t arrival = 1000) {
  std::vector<std::string> data;
  for (int i = 0; i < n; ++i) data.push_back("record-" + std::to_string(first_counter + i));
  std::vector<AppendRecord> recs;
  for (int i = 0; i < n; ++i) recs.push_back({first_counter + i, arrival + i, "key", data[i]});
  REQUIRE_OK(log.Append(recs));
}

std::vector<std::string> ReadAll(const DiskShardLog& log, uint64_t from = 0) {
  std::vector<Record> out;
  auto next = log.Read(from, 0, {100000, ~size_t{0}}, 3, &out);
  REQUIRE_OK(next);
  std::vector<std::string> data;
  for (const Record& r : out) data.push_back(r.data);
  return data;
}

TEST_CASE("disk log round-trips records and survives reopen", "[log][disk]") {
  bool posix = GENERATE(false, true);
  TestDir t(posix);
  {
    auto log = OpenLog(t);
    AppendN(*log, 1, 100);
    REQUIRE_OK(log->Sync(log->DurabilityToken()));
    CHECK(ReadAll(*log).size() == 100);
    CHECK(ReadAll(*log, 51).front() == "record-51");
  }
  RecoveryReport report;
  auto log = OpenLog(t, &report);
  CHECK(report.records == 100);
  CHECK(report.problems.empty());
  CHECK(log->RecoveredNextCounter() == 101);
  auto data = ReadAll(*log);
  REQUIRE(data.size() == 100);
  CHECK(data.front() == "record-1");
  CHECK(data.back() == "record-100");
  AppendN(*log, 101, 1);
  CHECK(ReadAll(*log).back() == "record-101");
}

TEST_CASE("disk log rolls segments and reads across them", "[log][disk]") {
  bool posix = GENERATE(false, true);
  TestDir t(posix);
  auto log = OpenLog(t, nullptr, /*segment_bytes=*/4096);
  for (int i = 0; i < 50; ++i) AppendN(*log, 1 + i * 10, 10, 1000 + i * 10);
  CHECK(log->segment_count() >= 5);
  auto data = ReadAll(*log);
  REQUIRE(data.size() == 500);
  for (int i = 0; i < 500; ++i) CHECK(data[i] == "record-" + std::to_string(i + 1));
  // Positions by counter and by time, across segment boundaries.
  CHECK(ReadAll(*log, 333).front() == "record-333");
  auto seek = log->SeekTimestamp(1000 + 250);
  REQUIRE_OK(seek);
  REQUIRE(seek->has_value());
  CHECK(**seek == 251);
  // Limits are honoured and the resume position is exact.
  std::vector<Record> out;
  auto next = log->Read(1, 0, {7, ~size_t{0}}, 3, &out);
  REQUIRE_OK(next);
  CHECK(out.size() == 7);
  CHECK(*next == 8);
  log.reset();
  RecoveryReport report;
  log = OpenLog(t, &report, 4096);
  CHECK(report.records == 500);
  CHECK(ReadAll(*log).size() == 500);
}

TEST_CASE("disk log retention deletes whole expired segments but keeps the active one",
          "[log][disk][retention]") {
  TestDir t(false);
  auto log = OpenLog(t, nullptr, 4096);
  for (int i = 0; i < 40; ++i) AppendN(*log, 1 + i * 10, 10, 1000 + i * 10);
  uint64_t before = log->segment_count();
  log->TrimBefore(1000 + 200);  // records 1..200 expired
  CHECK(log->segment_count() < before);
  auto data = ReadAll(*log);
  CHECK(data.back() == "record-400");
  CHECK(data.size() >= 200);
  log->TrimBefore(1000000);  // everything expired
  CHECK(log->segment_count() == 1);
  log.reset();
  auto reopened = OpenLog(t, nullptr, 4096);
  CHECK(reopened->RecoveredNextCounter() == 401);  // counters never go back
}

TEST_CASE("a torn tail is truncated on reopen and never returned", "[log][disk][corruption]") {
  bool posix = GENERATE(false, true);
  TestDir t(posix);
  std::string seg;
  {
    auto log = OpenLog(t);
    AppendN(*log, 1, 10);
    REQUIRE_OK(log->Sync(log->DurabilityToken()));
  }
  auto names = t.env->GetChildren(t.dir);
  REQUIRE_OK(names);
  REQUIRE(names->size() == 1);
  seg = t.dir + "/" + (*names)[0];
  auto size = t.env->GetFileSize(seg);
  REQUIRE_OK(size);
  SECTION("partial last record") { REQUIRE_OK(t.env->TruncateFile(seg, *size - 5)); }
  SECTION("garbage appended after the last record") {
    auto f = t.env->NewAppendableFile(seg);
    REQUIRE_OK(f);
    REQUIRE_OK((*f)->Append(std::string(7, '\xff')));
  }
  SECTION("zero padding at the tail") {
    auto f = t.env->NewAppendableFile(seg);
    REQUIRE_OK(f);
    REQUIRE_OK((*f)->Append(std::string(64, '\0')));
  }
  RecoveryReport report;
  auto log = OpenLog(t, &report);
  CHECK(report.truncated_bytes > 0);
  CHECK(report.problems.size() == 1);
  auto data = ReadAll(*log);
  CHECK(data.size() >= 9);
  CHECK(data.size() <= 10);
  for (size_t i = 0; i < data.size(); ++i) CHECK(data[i] == "record-" + std::to_string(i + 1));
  // Appending after recovery continues cleanly.
  AppendN(*log, 11, 1);
  log.reset();
  RecoveryReport again;
  log = OpenLog(t, &again);
  CHECK(again.problems.empty());
  CHECK(ReadAll(*log).back() == "record-11");
}

TEST_CASE("a checksum mismatch in the middle is a Corruption error, never data",
          "[log][disk][corruption]") {
  TestDir t(false);
  {
    auto log = OpenLog(t, nullptr, 4096);
    for (int i = 0; i < 30; ++i) AppendN(*log, 1 + i * 10, 10, 1000 + i * 10);
  }
  auto names = t.env->GetChildren(t.dir);
  REQUIRE_OK(names);
  std::sort(names->begin(), names->end());
  REQUIRE(names->size() > 2);
  std::string first = t.dir + "/" + (*names)[0];
  // Flip a byte inside the third record of the first segment.
  auto f = t.env->NewRandomAccessFile(first);
  REQUIRE_OK(f);
  auto size = t.env->GetFileSize(first);
  REQUIRE_OK(size);
  std::string bytes(*size, '\0');
  auto got = (*f)->Read(0, *size, bytes.data());
  REQUIRE_OK(got);
  bytes.assign(got->data(), got->size());
  size_t off = kSegmentHeaderSize + 2 * (kRecordHeaderSize + kRecordBodyFixedSize + 3 + 8) + 20;
  bytes[off] ^= 0x40;
  auto w = t.env->NewWritableFile(first);
  REQUIRE_OK(w);
  REQUIRE_OK((*w)->Append(bytes));
  REQUIRE_OK((*w)->Close());

  RecoveryReport report;
  auto log = OpenLog(t, &report, 4096);
  CHECK(report.problems.size() == 1);
  // Records before the damage read fine; the damaged range is an error.
  std::vector<Record> out;
  auto r = log->Read(1, 0, {2, ~size_t{0}}, 3, &out);
  REQUIRE_OK(r);
  CHECK(out.size() == 2);
  out.clear();
  auto bad = log->Read(3, 0, {10, ~size_t{0}}, 3, &out);
  CHECK(GetErrorType(bad.status()) == ErrorType::kCorruption);
  CHECK(bad.status().code() == absl::StatusCode::kDataLoss);
  CHECK(out.empty());
  // Verify reports it too.
  RecoveryReport v;
  REQUIRE_OK(log->Verify(&v));
  CHECK(v.problems.size() == 1);
  // Later segments remain readable.
  out.clear();
  auto later = log->Read(200, 0, {5, ~size_t{0}}, 3, &out);
  REQUIRE_OK(later);
  REQUIRE(out.size() == 5);
  CHECK(out[0].data == "record-200");
}

TEST_CASE("concurrent syncs share fdatasyncs (group commit)", "[log][disk][sync]") {
  TestDir t(true);
  auto log = OpenLog(t);
  std::mutex mu;  // stands in for the shard mutex that serializes appends
  std::atomic<uint64_t> counter{1};
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        uint64_t token;
        {
          std::lock_guard<std::mutex> l(mu);
          uint64_t c = counter++;
          std::string d = "record-" + std::to_string(c);
          AppendRecord r{c, 1000, "k", d};
          REQUIRE_OK(log->Append(absl::MakeConstSpan(&r, 1)));
          token = log->DurabilityToken();
        }
        REQUIRE_OK(log->Sync(token));
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ReadAll(*log).size() == 160);
}

TEST_CASE("Destroy removes the log's files", "[log][disk]") {
  TestDir t(false);
  auto log = OpenLog(t);
  AppendN(*log, 1, 3);
  REQUIRE_OK(log->Destroy());
  CHECK_FALSE(t.env->FileExists(t.dir + "/00000000000000000001.seg"));
}

}  // namespace
}  // namespace tributary::log

namespace tributary::log {
namespace {

TEST_CASE("disk log rolls by age so retention can free a slow shard", "[log][disk][retention]") {
  TestDir t(false);
  DiskShardLog::Options o;
  o.env = t.env;
  o.dir = t.dir;
  o.shard_index = 3;
  o.start_counter = 1;
  o.segment_max_age_ms = 1000;
  auto opened = DiskShardLog::Open(o, nullptr);
  REQUIRE_OK(opened);
  auto& log = **opened;
  // One small record every 400 ms for 10 s: a new segment about every second.
  for (int i = 0; i < 25; ++i) AppendN(log, 1 + i, 1, 10000 + i * 400);
  CHECK(log.segment_count() >= 9);
  log.TrimBefore(10000 + 6000);  // the first 6 s expired
  CHECK(log.segment_count() <= 5);
  auto data = ReadAll(log);
  REQUIRE_FALSE(data.empty());
  CHECK(data.back() == "record-25");
}

TEST_CASE("disk log seeks by counter and time across many segments", "[log][disk]") {
  TestDir t(false);
  auto log = OpenLog(t, nullptr, /*segment_bytes=*/1024);
  for (int i = 0; i < 2000; ++i) AppendN(*log, 1 + i, 1, 1000 + i);
  CHECK(log->segment_count() > 50);
  for (uint64_t c : {1u, 2u, 777u, 1999u, 2000u}) {
    std::vector<Record> out;
    auto next = log->Read(c, 0, {1, ~size_t{0}}, 3, &out);
    REQUIRE_OK(next);
    REQUIRE(out.size() == 1);
    CHECK(out[0].sequence_number.counter() == c);
  }
  for (int64_t ts : {1000, 1001, 1500, 2999}) {
    auto seek = log->SeekTimestamp(ts);
    REQUIRE_OK(seek);
    REQUIRE(seek->has_value());
    CHECK(**seek == static_cast<uint64_t>(ts - 1000 + 1));
  }
}

}  // namespace
}  // namespace tributary::log
