// Fuzz target: the record/segment decoder and disk-log recovery
// (lib/log/disk_log.cc, format in docs/FORMAT.md and lib/log/format.h).
//
// Input: a flags byte, then 1..4 segment files.
//   flags bit 0: recompute every record checksum along the frame chain, so
//                mutations reach the decoder behind the checksum (counters,
//                arrival times, key lengths, record types);
//   flags bit 1: repair each segment header (magic, version, shard 0,
//                checksum), keeping its first_counter;
//   flags bits 2-3: segment count - 1.
// Each segment but the last is u32-length-prefixed; the last takes the rest.
// A segment is named after the first_counter in its header (bytes 16..23).
//
// What must hold: DiskShardLog::Open either fails with an error or opens;
// an opened log serves reads (records or clear errors), takes an append,
// and opens again afterwards with nothing more to truncate, still holding
// the appended record.
#include <fmt/format.h>

#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "log/disk_log.h"
#include "log/format.h"
#include "tributary/env.h"
#include "util/status_macros.h"

namespace tributary::fuzz {
namespace {

constexpr char kDir[] = "/db/streams/s.1/0";

void FixRecordChecksums(std::string* seg) {
  size_t off = log::kSegmentHeaderSize;
  while (off + log::kRecordHeaderSize <= seg->size()) {
    uint64_t body_len = GetLE(*seg, off + 8, 4);
    if (body_len > log::kMaxBodyLen || off + log::kRecordHeaderSize + body_len > seg->size()) break;
    PutLE(seg, off, Xxh3(std::string_view(*seg).substr(off + 8, 4 + body_len)), 8);
    off += log::kRecordHeaderSize + body_len;
  }
}

void RepairHeader(std::string* seg) {
  if (seg->size() < log::kSegmentHeaderSize) seg->resize(log::kSegmentHeaderSize, '\0');
  seg->replace(0, 8, log::kSegmentMagic, 8);
  PutLE(seg, 8, log::kSegmentFormatVersion, 4);
  PutLE(seg, 12, 0, 4);
  PutLE(seg, 24, Xxh3(std::string_view(*seg).substr(0, 24)), 8);
}

absl::Status WriteFile(Env* env, const std::string& path, std::string_view data) {
  auto f = env->NewWritableFile(path);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Append(data); !s.ok()) return s;
  return (*f)->Close();
}

// Every record from counter 0 on, page by page; stops at the first error.
absl::Status ReadAll(const log::DiskShardLog& l, std::vector<Record>* out) {
  uint64_t from = 0;
  for (int page = 0; page < 64; ++page) {
    size_t before = out->size();
    auto next = l.Read(from, std::numeric_limits<int64_t>::min(), {1000, 1 << 20}, 0, out);
    if (!next.ok()) {
      CheckClearError(next.status(), "Read");
      return next.status();
    }
    if (out->size() == before || *next <= from) break;
    from = *next;
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace tributary::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tributary;
  using namespace tributary::fuzz;
  Input in(data, size);
  const uint8_t flags = in.U8();
  const int nseg = 1 + ((flags >> 2) & 3);
  std::vector<std::string> segs;
  for (int i = 0; i < nseg; ++i) {
    std::string s(i + 1 < nseg ? in.Bytes(in.U32() % 65536) : in.Rest());
    if (flags & 2) RepairHeader(&s);
    if (flags & 1) FixRecordChecksums(&s);
    segs.push_back(std::move(s));
  }

  std::unique_ptr<Env> env = NewMemEnv();
  if (!env->CreateDirs(kDir).ok()) return 0;
  std::set<uint64_t> names;
  for (size_t i = 0; i < segs.size(); ++i) {
    uint64_t first = segs[i].size() >= 24 ? GetLE(segs[i], 16, 8) : i;
    if (!names.insert(first).second) continue;
    FUZZ_CHECK(WriteFile(env.get(), fmt::format("{}/{:020d}.seg", kDir, first), segs[i]).ok(),
               "MemEnv write");
  }

  log::DiskShardLog::Options o;
  o.env = env.get();
  o.dir = kDir;
  o.shard_index = 0;
  o.segment_bytes = 1 << 16;
  log::RecoveryReport report;
  auto opened = log::DiskShardLog::Open(o, &report);
  if (!opened.ok()) {
    CheckClearError(opened.status(), "Open");
    return 0;
  }
  std::unique_ptr<log::DiskShardLog> l = std::move(opened).value();

  std::vector<Record> before;
  IgnoreError(ReadAll(*l, &before));
  log::RecoveryReport verify;
  IgnoreError(l->Verify(&verify));
  for (const Record& r : before) {
    IgnoreError(l->FirstAtOrAfter(r.sequence_number.counter(),
                                  absl::ToUnixMillis(r.approximate_arrival_timestamp))
                    .status());
    IgnoreError(l->SeekTimestamp(absl::ToUnixMillis(r.approximate_arrival_timestamp)).status());
    break;  // one probe is enough; the reads above walked everything
  }
  (void)l->oldest_arrival_ms();
  (void)l->record_count();
  (void)l->byte_count();

  // An opened log takes appends: one record above everything recovered.
  const uint64_t counter = l->RecoveredNextCounter();
  if (counter == std::numeric_limits<uint64_t>::max()) return 0;
  const int64_t arrival = std::max<int64_t>(l->newest_arrival_ms().value_or(0), 0);
  log::AppendRecord rec{counter, arrival, "fuzz-key", "fuzz-data"};
  absl::Status appended = l->Append({&rec, 1});
  CheckClearError(appended, "Append");
  if (appended.ok()) {
    FUZZ_CHECK(l->Sync(l->DurabilityToken()).ok(), "Sync on a MemEnv");
  }
  l.reset();

  // Recovery is idempotent: a second open truncates nothing and still has
  // the appended record.
  log::RecoveryReport again;
  auto reopened = log::DiskShardLog::Open(o, &again);
  FUZZ_CHECK(reopened.ok(), "reopen after a successful open: " + reopened.status().ToString());
  FUZZ_CHECK(again.truncated_bytes == 0,
             fmt::format("second open truncated {} bytes", again.truncated_bytes));
  if (appended.ok()) {
    std::vector<Record> got;
    auto r = (*reopened)->Read(counter, std::numeric_limits<int64_t>::min(), {1, 1 << 20}, 0, &got);
    if (r.ok()) {
      FUZZ_CHECK(!got.empty() && got[0].sequence_number.counter() == counter &&
                     got[0].data == "fuzz-data",
                 "the appended record is not readable after a reopen");
    } else {
      FUZZ_CHECK(GetErrorType(r.status()) == ErrorType::kCorruption,
                 "reading the appended record: " + r.status().ToString());
    }
  }
  (*reopened)->TrimBefore(arrival);
  return 0;
}
