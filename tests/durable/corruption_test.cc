// Corruption: damaged bytes in segments and in the catalog. A bad record is
// never returned as data, never crashes the process, fails only the reads that
// need it (with ErrorType::kCorruption) and is reported by recovery(); a torn
// tail is truncated and reported; a damaged catalog stops Store::Open with
// kCorruption.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "durable/durable_util.h"

namespace tributary::durable_test {
namespace {

using testing::Iterator;
using testing::Midpoint;
using testing::OpenShards;
using testing::PutOk;
using testing::ReadShard;

constexpr uint64_t kSegmentHeader = 32;
constexpr uint64_t kFrameFixed = 12 + 19;  // checksum + length, then the body's fixed part

uint64_t FirstCounterOf(const std::string& segment_path) {
  std::string name = segment_path.substr(segment_path.rfind('/') + 1);
  return std::stoull(name.substr(0, 20));
}

// One shard of 60 records of 300 bytes (key "k"), one second apart, in
// 4 KiB segments (about five of them).
//
// These tests damage segment files behind a closed store's back and expect
// the open to find it: they open with StoreOptions::verify_on_open, which
// scans every segment as stores without recovery points always did. The
// default open reads metadata only and finds damage when a read meets it:
// recovery_point_test.cc covers that.
struct Written {
  Disk d;
  std::vector<PutRecordResult> put;
  std::vector<std::string> data;
  std::vector<absl::Time> at;
  std::vector<std::string> segments;

  explicit Written(uint64_t segment_bytes = 4096, int n = 60) {
    d.options.verify_on_open = true;
    d.options.segment_bytes = segment_bytes;
    d.Open();
    REQUIRE_OK(d->CreateStream("s", 1));
    for (int i = 0; i < n; ++i) {
      data.push_back(Payload("r" + std::to_string(i), 300));
      at.push_back(d.clock.Now());
      put.push_back(PutOk(*d, "s", "k", data.back()));
      d.clock.Advance(absl::Seconds(1));
    }
    segments = SegmentsOf(d.base, d.dir, "s", 0);
  }
  // Index (into put) of the first record of segment `i`.
  int FirstRecordOf(size_t seg) const {
    uint64_t c = FirstCounterOf(segments[seg]);
    for (size_t i = 0; i < put.size(); ++i) {
      if (put[i].sequence_number.counter() >= c) return static_cast<int>(i);
    }
    return static_cast<int>(put.size());
  }
  std::string Seq(int i) const { return put[i].sequence_number.ToString(); }
};

// GetRecords from `it` until an error, the end, or no more records. Every
// record returned must be the one written under its number.
struct Outcome {
  std::vector<Record> records;
  absl::Status error;
  bool reached_end = false;
};
Outcome ReadUntilError(Store& s, std::string it, const Written& w) {
  Outcome out;
  std::map<std::string, std::string> want;
  for (size_t i = 0; i < w.put.size(); ++i) want[w.Seq(static_cast<int>(i))] = w.data[i];
  for (int guard = 0; guard < 1000; ++guard) {
    auto got = s.GetRecords(it, 7);
    if (!got.ok()) {
      out.error = got.status();
      return out;
    }
    for (const Record& r : got->records) {
      auto wi = want.find(r.sequence_number.ToString());
      if (wi != want.end()) {
        INFO("record " << r.sequence_number.ToString() << " returned with other bytes than written");
        CHECK(r.data == wi->second);
      }
      out.records.push_back(r);
    }
    if (!got->next_shard_iterator) {
      out.reached_end = true;
      return out;
    }
    if (got->records.empty()) return out;
    it = *got->next_shard_iterator;
  }
  FAIL("read did not terminate");
  return out;
}

bool Reports(const RecoveryReport& rep, const std::string& needle) {
  for (const std::string& p : rep.problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("a corrupt record in a middle segment fails reads of its range, and only those",
          "[durable][corruption]") {
  Written w;
  REQUIRE(w.segments.size() >= 4);
  const size_t bad_seg = 1;
  const int first_bad = w.FirstRecordOf(bad_seg);
  const int first_next = w.FirstRecordOf(bad_seg + 1);
  // A byte inside the data of the segment's second record.
  const uint64_t frame = kFrameFixed + 1 + 300;
  const uint64_t offset = kSegmentHeader + frame + kFrameFixed + 1 + 150;
  const int corrupt_record = first_bad + 1;
  bool reopen = GENERATE(true, false);
  INFO((reopen ? "found by the open-time scan" : "found by a live read"));
  REQUIRE_OK(w.d.fault->CorruptByte(w.segments[bad_seg], offset));
  if (reopen) {
    w.d.Reopen();
    CHECK(Reports(w.d->recovery(), w.segments[bad_seg]));
  }
  Store& s = *w.d;

  // From the start: the good records, then a corruption error, never a skip.
  Outcome all = ReadUntilError(s, Iterator(s, "s", FormatShardId(0)), w);
  CHECK(all.records.size() <= static_cast<size_t>(corrupt_record));
  REQUIRE_FALSE(all.error.ok());
  CHECK(GetErrorType(all.error) == ErrorType::kCorruption);
  CHECK(all.error.code() == absl::StatusCode::kDataLoss);
  for (size_t i = 0; i < all.records.size(); ++i) CHECK(all.records[i].data == w.data[i]);

  // Reading at the damaged record fails; never data.
  auto at_bad = s.GetRecords(Iterator(s, "s", FormatShardId(0), ShardIteratorType::kAtSequenceNumber,
                                      w.Seq(corrupt_record)));
  REQUIRE_FALSE(at_bad.ok());
  CHECK(GetErrorType(at_bad.status()) == ErrorType::kCorruption);

  // Before the damage: readable.
  auto early = ReadUntilError(s, Iterator(s, "s", FormatShardId(0), ShardIteratorType::kAtSequenceNumber,
                                          w.Seq(3)), w);
  REQUIRE(early.records.size() >= 1);
  CHECK(early.records[0].data == w.data[3]);

  // After the damaged segment: readable to the end.
  auto later = ReadUntilError(s, Iterator(s, "s", FormatShardId(0), ShardIteratorType::kAtSequenceNumber,
                                          w.Seq(first_next)), w);
  CHECK(later.error.ok());
  REQUIRE(later.records.size() == w.put.size() - first_next);
  CHECK(later.records.front().data == w.data[first_next]);
  CHECK(later.records.back().data == w.data.back());

  // Appends go on, numbered after everything.
  auto r = PutOk(s, "s", "k", "after");
  CHECK(r.sequence_number > w.put.back().sequence_number);
}

TEST_CASE("AT_TIMESTAMP after a corrupt middle segment reads the later records",
          "[durable][corruption]") {
  Written w;
  REQUIRE(w.segments.size() >= 4);
  const int first_next = w.FirstRecordOf(2);
  REQUIRE_OK(w.d.fault->CorruptByte(w.segments[1], kSegmentHeader + kFrameFixed + 1 + 10));
  w.d.Reopen();
  Store& s = *w.d;
  auto got = ReadUntilError(s, Iterator(s, "s", FormatShardId(0), ShardIteratorType::kAtTimestamp,
                                        std::nullopt, w.at[first_next]), w);
  CHECK(got.error.ok());
  REQUIRE_FALSE(got.records.empty());
  CHECK(got.records.front().data == w.data[first_next]);
  CHECK(got.records.size() == w.put.size() - first_next);
}

TEST_CASE("a CLOSED shard with a corrupt middle segment does not read as finished",
          "[durable][corruption]") {
  Written w;
  REQUIRE(w.segments.size() >= 4);
  auto open = OpenShards(*w.d, "s");
  REQUIRE_OK(w.d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  REQUIRE_OK(w.d.fault->CorruptByte(w.segments[1], kSegmentHeader + kFrameFixed + 1 + 10));
  w.d.Reopen();
  Store& s = *w.d;
  auto got = ReadUntilError(s, Iterator(s, "s", FormatShardId(0)), w);
  INFO("read " << got.records.size() << " of " << w.put.size() << " records, error: "
               << testing::DescribeStatus(got.error));
  // Either every record came back (impossible here) or the read failed: a
  // reader must not be told the parent is drained and move to the children.
  if (got.reached_end) CHECK(got.records.size() == w.put.size());
  else CHECK(GetErrorType(got.error) == ErrorType::kCorruption);
}

TEST_CASE("a corrupt header of a middle segment fails only that segment's reads",
          "[durable][corruption]") {
  Written w;
  REQUIRE(w.segments.size() >= 4);
  const int first_next = w.FirstRecordOf(2);
  REQUIRE_OK(w.d.fault->CorruptByte(w.segments[1], 3));
  w.d.store.reset();
  auto opened = w.d.TryOpen();
  // store.h: corruption "fails only the reads that need the damaged records".
  REQUIRE_OK(opened);
  Store& s = **opened;
  CHECK(Reports(s.recovery(), w.segments[1]));
  auto later = ReadUntilError(s, Iterator(s, "s", FormatShardId(0), ShardIteratorType::kAtSequenceNumber,
                                          w.Seq(first_next)), w);
  CHECK(later.error.ok());
  CHECK(later.records.size() == w.put.size() - first_next);
  auto all = ReadUntilError(s, Iterator(s, "s", FormatShardId(0)), w);
  CHECK(GetErrorType(all.error) == ErrorType::kCorruption);
}

TEST_CASE("a corrupt record in the middle of the active segment is not taken for a torn tail",
          "[durable][corruption]") {
  // 50 synced records in one segment; damage record 10. Records 11..49 were
  // acknowledged as durable: they must not vanish silently, and their
  // sequence numbers must not be handed out again.
  Written w(/*segment_bytes=*/64 << 20, /*n=*/50);
  REQUIRE(w.segments.size() == 1);
  const uint64_t frame = kFrameFixed + 1 + 300;
  REQUIRE_OK(w.d.fault->CorruptByte(w.segments[0], kSegmentHeader + 10 * frame + kFrameFixed + 1 + 100));
  w.d.Reopen();
  Store& s = *w.d;
  RecoveryReport rep = s.recovery();
  for (const std::string& p : rep.problems) INFO("problem: " << p);
  CHECK_FALSE(rep.problems.empty());
  CHECK(rep.truncated_bytes == 0);  // synced records are not "a torn tail"
  // Record 30 is either readable or reported as corrupt; never just gone.
  GetShardIteratorRequest req;
  req.stream = "s";
  req.shard_id = FormatShardId(0);
  req.type = ShardIteratorType::kAtSequenceNumber;
  req.starting_sequence_number = w.Seq(30);
  auto it = s.GetShardIterator(req);
  CHECK_OK(it);
  if (it.ok()) {
    auto got = s.GetRecords(*it, 1);
    if (got.ok()) {
      REQUIRE(got->records.size() == 1);
      CHECK(got->records[0].data == w.data[30]);
    } else {
      CHECK(GetErrorType(got.status()) == ErrorType::kCorruption);
    }
  }
  auto r = PutOk(s, "s", "k", "after");
  INFO("last acknowledged " << w.Seq(49) << ", new " << r.sequence_number.ToString());
  CHECK(r.sequence_number > w.put.back().sequence_number);
}

TEST_CASE("a corrupt header of the active segment does not silently drop its synced records",
          "[durable][corruption]") {
  Written w(/*segment_bytes=*/64 << 20, /*n=*/30);
  REQUIRE(w.segments.size() == 1);
  REQUIRE_OK(w.d.fault->CorruptByte(w.segments[0], 2));
  w.d.store.reset();
  auto opened = w.d.TryOpen();
  if (!opened.ok()) {
    // Refusing to open is acceptable for a damaged active segment, if clear.
    CHECK(GetErrorType(opened.status()) == ErrorType::kCorruption);
    return;
  }
  Store& s = **opened;
  auto all = ReadUntilError(s, Iterator(s, "s", FormatShardId(0)), w);
  INFO("records readable after reopen: " << all.records.size());
  // Either the records are there or reads say they are damaged.
  if (all.error.ok()) CHECK(all.records.size() == w.put.size());
  else CHECK(GetErrorType(all.error) == ErrorType::kCorruption);
  auto r = PutOk(s, "s", "k", "after");
  CHECK(r.sequence_number > w.put.back().sequence_number);
}

TEST_CASE("a torn tail is truncated, reported, and appends continue after it",
          "[durable][corruption]") {
  Written w(/*segment_bytes=*/64 << 20, /*n=*/20);
  const std::string seg = w.segments.back();
  auto size = w.d.base->GetFileSize(seg);
  REQUIRE_OK(size);
  const uint64_t frame = kFrameFixed + 1 + 300;
  uint64_t cut = 0;
  SECTION("partial last record") { cut = 7; }
  SECTION("partial last record header") { cut = frame - 5; }
  w.d.store.reset();
  REQUIRE_OK(w.d.fault->TruncateTo(seg, *size - cut));
  w.d.Open();
  RecoveryReport rep = w.d->recovery();
  CHECK(rep.truncated_bytes == frame - cut);
  REQUIRE(rep.problems.size() == 1);
  CHECK(rep.problems[0].find("torn tail") != std::string::npos);
  auto recs = ReadShard(*w.d, "s", FormatShardId(0)).records;
  REQUIRE(recs.size() == 19);
  for (int i = 0; i < 19; ++i) CHECK(recs[i].data == w.data[i]);
  PutOk(*w.d, "s", "k", "after");
  w.d.Reopen();
  CHECK(w.d->recovery().problems.empty());
  recs = ReadShard(*w.d, "s", FormatShardId(0)).records;
  REQUIRE(recs.size() == 20);
  CHECK(recs.back().data == "after");
}

TEST_CASE("zero padding after the last record is truncated as a torn tail",
          "[durable][corruption]") {
  Written w(/*segment_bytes=*/64 << 20, /*n=*/10);
  w.d.store.reset();
  size_t zeros = GENERATE(3, 12, 100, 5000);
  {
    auto f = w.d.base->NewAppendableFile(w.segments.back());
    REQUIRE_OK(f);
    REQUIRE_OK((*f)->Append(std::string(zeros, '\0')));
    REQUIRE_OK((*f)->Close());
  }
  w.d.Open();
  CHECK(w.d->recovery().truncated_bytes == zeros);
  auto recs = ReadShard(*w.d, "s", FormatShardId(0)).records;
  REQUIRE(recs.size() == 10);
  CHECK(recs.back().data == w.data.back());
}

TEST_CASE("a damaged CATALOG stops Store::Open with kCorruption", "[durable][corruption]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  REQUIRE_OK(d->AddTagsToStream("s", {{"a", "b"}}));
  PutOk(*d, "s", "k", "v");
  d.store.reset();
  const std::string cat = d.dir + "/CATALOG";
  auto size = d.base->GetFileSize(cat);
  REQUIRE_OK(size);
  uint64_t off = GENERATE(0, 7, 8, 12, 20, 40, 1000000);
  off = std::min<uint64_t>(off, *size - 1);
  bool truncate = GENERATE(false, true);
  INFO((truncate ? "truncated to " : "flipped byte at ") << off << " of " << *size);
  if (truncate) {
    REQUIRE_OK(d.fault->TruncateTo(cat, off));
  } else {
    REQUIRE_OK(d.fault->CorruptByte(cat, off));
  }
  auto bad = d.TryOpen();
  REQUIRE_FALSE(bad.ok());
  CHECK(GetErrorType(bad.status()) == ErrorType::kCorruption);
  CHECK(bad.status().code() == absl::StatusCode::kDataLoss);
  // The failed open left the damaged catalog as it was, and released the lock.
  auto after = d.base->GetFileSize(cat);
  REQUIRE_OK(after);
  CHECK(*after == (truncate ? off : *size));
  auto again = d.TryOpen();
  CHECK(GetErrorType(again.status()) == ErrorType::kCorruption);
  if (!truncate) {
    REQUIRE_OK(d.fault->CorruptByte(cat, off));  // flip it back
    d.Open();
    CHECK(ReadShard(*d, "s", testing::OpenShards(*d, "s")[0].shard_id).records.size() +
              ReadShard(*d, "s", testing::OpenShards(*d, "s")[1].shard_id).records.size() ==
          1);
  }
}

}  // namespace
}  // namespace tributary::durable_test
