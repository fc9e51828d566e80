#include "log/disk_log.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "log/format.h"
#include "util/status_macros.h"

namespace tributary::log {
namespace {

constexpr size_t kReadWindow = 256 << 10;

void PutU16(std::string* b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

absl::Status Corruption(std::string_view msg) {
  return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption, msg);
}

// Reads a segment sequentially through a window, decoding record frames.
class Cursor {
 public:
  Cursor(const RandomAccessFile* file, uint64_t offset, uint64_t limit)
      : file_(file), offset_(offset), limit_(limit) {}

  enum class Result { kRecord, kEnd, kTorn, kBad };

  // One decoded frame: views into the cursor's window, valid until the next call.
  struct Frame {
    Result result = Result::kEnd;
    uint64_t counter = 0;
    int64_t arrival = 0;
    std::string_view key;
    std::string_view data;
    uint64_t offset = 0;  // where the frame starts
    std::string why;      // what was wrong, for kTorn / kBad
  };

  absl::StatusOr<Frame> Next() {
    Frame f;
    TRIBUTARY_ASSIGN_OR_RETURN(f.result, Next(&f.counter, &f.arrival, &f.key, &f.data, &f.offset, &f.why));
    return f;
  }

  // Decodes the frame at the current offset. kEnd at `limit`; kTorn when the
  // frame runs past `limit`; kBad for a checksum or framing mismatch. `why`
  // says what was wrong.
  absl::StatusOr<Result> Next(uint64_t* counter, int64_t* arrival, std::string_view* key,
                              std::string_view* data, uint64_t* frame_offset, std::string* why) {
    *frame_offset = offset_;
    if (offset_ >= limit_) return Result::kEnd;
    if (limit_ - offset_ < kRecordHeaderSize) {
      *why = "partial record header";
      return Result::kTorn;
    }
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view head, Window(offset_, kRecordHeaderSize));
    uint64_t sum = GetLE(head.data(), 8);
    uint32_t body_len = static_cast<uint32_t>(GetLE(head.data() + 8, 4));
    if (body_len < kRecordBodyFixedSize || body_len > kMaxBodyLen) {
      *why = fmt::format("impossible record length {}", body_len);
      // A zeroed or garbage tail looks like this too.
      return offset_ + kRecordHeaderSize + body_len > limit_ ? Result::kTorn : Result::kBad;
    }
    uint64_t frame = kRecordHeaderSize + body_len;
    if (limit_ - offset_ < frame) {
      *why = "partial record";
      return Result::kTorn;
    }
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view f, Window(offset_, frame));
    if (XXH3_64bits(f.data() + 8, frame - 8) != sum) {
      *why = "checksum mismatch";
      return Result::kBad;
    }
    const char* b = f.data() + kRecordHeaderSize;
    if (static_cast<RecordType>(b[0]) != RecordType::kFull) {
      *why = fmt::format("unknown record type {}", static_cast<int>(static_cast<uint8_t>(b[0])));
      return Result::kBad;
    }
    *counter = GetLE(b + 1, 8);
    *arrival = static_cast<int64_t>(GetLE(b + 9, 8));
    uint16_t key_len = static_cast<uint16_t>(GetLE(b + 17, 2));
    if (kRecordBodyFixedSize + key_len > body_len) {
      *why = "key longer than record";
      return Result::kBad;
    }
    *key = std::string_view(b + kRecordBodyFixedSize, key_len);
    *data = std::string_view(b + kRecordBodyFixedSize + key_len, body_len - kRecordBodyFixedSize - key_len);
    offset_ += frame;
    return Result::kRecord;
  }
  uint64_t offset() const { return offset_; }

 private:
  // Bytes [off, off+n) of the file, from the window (refilled as needed).
  absl::StatusOr<std::string_view> Window(uint64_t off, size_t n) {
    if (off < win_off_ || off + n > win_off_ + win_.size()) {
      size_t want = std::max<size_t>(n, kReadWindow);
      want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - off));
      buf_.resize(std::max(want, n));
      TRIBUTARY_ASSIGN_OR_RETURN(std::string_view got, file_->Read(off, want, buf_.data()));
      if (got.size() < n) return Corruption("segment shorter than its recorded size");
      win_ = got;
      win_off_ = off;
    }
    return win_.substr(off - win_off_, n);
  }

  const RandomAccessFile* file_;
  uint64_t offset_;
  uint64_t limit_;
  std::string buf_;
  std::string_view win_;
  uint64_t win_off_ = 0;
};

}  // namespace

std::string DiskShardLog::SegmentPath(uint64_t first_counter) const {
  return fmt::format("{}/{:020d}.seg", options_.dir, first_counter);
}

absl::StatusOr<std::unique_ptr<DiskShardLog>> DiskShardLog::Open(const Options& options,
                                                                 RecoveryReport* report) {
  std::unique_ptr<DiskShardLog> log(new DiskShardLog(options));
  RecoveryReport scratch;
  TRIBUTARY_RETURN_IF_ERROR(log->Load(report != nullptr ? report : &scratch));
  return log;
}

DiskShardLog::~DiskShardLog() {
  if (active_) IgnoreError(active_->Close());
}

absl::Status DiskShardLog::Load(RecoveryReport* report) {
  Env* env = options_.env;
  const bool existed = env->FileExists(options_.dir);
  TRIBUTARY_RETURN_IF_ERROR(env->CreateDirs(options_.dir));
  if (!existed) {
    // Make the new shard directory's entry (and its stream directory's)
    // durable before anything is acknowledged from inside it.
    for (std::string d = options_.dir; ;) {
      size_t slash = d.rfind('/');
      if (slash == std::string::npos || slash == 0) break;
      d.resize(slash);
      TRIBUTARY_RETURN_IF_ERROR(env->SyncDir(d));
      if (env->FileExists(d + "/CATALOG")) break;  // reached the store root
    }
  }
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(options_.dir));
  std::vector<uint64_t> firsts;
  for (const std::string& n : names) {
    if (n.size() != 24 || n.substr(20) != ".seg") continue;
    uint64_t v = 0;
    bool ok = true;
    for (char c : n.substr(0, 20)) {
      ok = ok && c >= '0' && c <= '9';
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (ok) firsts.push_back(v);
  }
  std::sort(firsts.begin(), firsts.end());
  next_counter_ = std::max(options_.start_counter, options_.min_next_counter);
  for (size_t i = 0; i < firsts.size(); ++i) {
    auto seg = std::make_unique<Segment>();
    seg->first_counter = firsts[i];
    seg->path = SegmentPath(firsts[i]);
    TRIBUTARY_ASSIGN_OR_RETURN(seg->file, env->NewRandomAccessFile(seg->path));
    // Counters of a segment stay below the next segment's first one.
    const uint64_t limit = i + 1 < firsts.size() ? firsts[i + 1] : ~uint64_t{0};
    TRIBUTARY_RETURN_IF_ERROR(ScanSegment(seg.get(), i + 1 == firsts.size(), limit, report));
    next_counter_ = std::max(next_counter_, seg->first_counter);
    if (seg->drop) {
      seg->file.reset();
      TRIBUTARY_RETURN_IF_ERROR(env->RemoveFile(seg->path));
      continue;
    }
    if (seg->records > 0) next_counter_ = std::max(next_counter_, seg->last_counter + 1);
    report->segments++;
    report->records += seg->records;
    segments_.push_back(std::move(seg));
  }
  if (segments_.empty() || segments_.back()->corrupt_at) {
    // Nothing to append to (or the last segment is damaged: never append
    // after damage): start a fresh segment.
    return StartSegment(next_counter_);
  }
  TRIBUTARY_ASSIGN_OR_RETURN(active_, env->NewAppendableFile(segments_.back()->path));
  return absl::OkStatus();
}

absl::Status DiskShardLog::ScanSegment(Segment* seg, bool is_last, uint64_t counter_limit,
                                       RecoveryReport* report) {
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t file_size, options_.env->GetFileSize(seg->path));
  char hdr[kSegmentHeaderSize];
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view h, seg->file->Read(0, kSegmentHeaderSize, hdr));
  bool header_ok = h.size() == kSegmentHeaderSize &&
                   std::memcmp(h.data(), kSegmentMagic, 8) == 0 &&
                   GetLE(h.data() + 24, 8) == XXH3_64bits(h.data(), 24) &&
                   GetLE(h.data() + 8, 4) == kSegmentFormatVersion &&
                   GetLE(h.data() + 12, 4) == options_.shard_index &&
                   GetLE(h.data() + 16, 8) == seg->first_counter;
  if (!header_ok) {
    if (file_size <= kSegmentHeaderSize) {
      // Created but its header never became durable (or a roll failed while
      // writing it): it never held a record.
      report->problems.push_back(fmt::format("{}: torn segment header, empty segment dropped", seg->path));
      report->truncated_bytes += file_size;
      seg->size = 0;
      seg->drop = true;
      return absl::OkStatus();
    }
    // A segment with data behind a bad header: its records cannot be
    // trusted, but they are not ours to drop. Reads of its range fail.
    seg->size = kSegmentHeaderSize;
    seg->corrupt_at = 0;
    report->problems.push_back(fmt::format(
        "{}: bad segment header ({} bytes of records behind it); reads of its range fail",
        seg->path, file_size - kSegmentHeaderSize));
    return absl::OkStatus();
  }
  seg->size = kSegmentHeaderSize;
  seg->last_indexed_offset = 0;
  Cursor cur(seg->file.get(), kSegmentHeaderSize, file_size);
  while (true) {
    TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
    if (fr.result == Cursor::Result::kEnd) break;
    if (fr.result == Cursor::Result::kRecord) {
      if (std::string why = OutOfOrder(*seg, fr.counter, counter_limit); !why.empty()) {
        // An intact frame the writer cannot have produced (reads and the
        // sparse index rely on counters increasing):
        // corruption, never a torn tail, so it is not truncated away.
        seg->corrupt_at = fr.offset;
        report->problems.push_back(fmt::format("{}: corrupt record at offset {} ({}); reads past it fail",
                                               seg->path, fr.offset, why));
        break;
      }
      Decoded d{fr.counter, fr.arrival, fr.key, fr.data, cur.offset() - fr.offset};
      IndexRecord(seg, d, fr.offset);
      seg->size = cur.offset();
      continue;
    }
    // Only damage with no intact record after it can be a torn tail (what a
    // crash mid-append leaves). Intact records after a bad one mean the bad
    // one is corruption, and those records were acknowledged.
    if (is_last && !ValidFrameAfter(*seg, fr.offset + 1, file_size)) {
      // The tail of the active segment: a crash mid-append leaves a partial
      // or garbled last frame. Nothing after it was acknowledged as synced.
      report->problems.push_back(fmt::format("{}: torn tail at offset {} ({}), {} bytes truncated",
                                             seg->path, fr.offset, fr.why, file_size - fr.offset));
      report->truncated_bytes += file_size - fr.offset;
      TRIBUTARY_RETURN_IF_ERROR(options_.env->TruncateFile(seg->path, fr.offset));
      break;
    }
    seg->corrupt_at = fr.offset;
    report->problems.push_back(
        fmt::format("{}: corrupt record at offset {} ({}); reads past it fail", seg->path, fr.offset, fr.why));
    break;
  }
  return absl::OkStatus();
}

std::string DiskShardLog::OutOfOrder(const Segment& seg, uint64_t counter, uint64_t limit) {
  if (counter >= limit) {
    return limit == ~uint64_t{0}
               ? fmt::format("counter {} is the largest counter, never issued", counter)
               : fmt::format("counter {} is not below the next segment's first counter {}",
                             counter, limit);
  }
  if (counter < seg.first_counter) {
    return fmt::format("counter {} is below the segment's first counter {}", counter, seg.first_counter);
  }
  if (seg.records > 0 && counter <= seg.last_counter) {
    return fmt::format("counter {} does not follow counter {}", counter, seg.last_counter);
  }
  return "";
}

bool DiskShardLog::ValidFrameAfter(const Segment& seg, uint64_t from, uint64_t file_size) const {
  // Only on the damaged path: read the rest of the file once and test every
  // offset for a plausible length and a matching checksum.
  if (from >= file_size) return false;
  std::string buf(file_size - from, '\0');
  absl::StatusOr<std::string_view> got = seg.file->Read(from, buf.size(), buf.data());
  if (!got.ok()) return true;  // cannot tell: do not truncate
  std::string_view b = *got;
  for (size_t off = 0; off + kRecordHeaderSize + kRecordBodyFixedSize <= b.size(); ++off) {
    uint32_t body_len = static_cast<uint32_t>(GetLE(b.data() + off + 8, 4));
    if (body_len < kRecordBodyFixedSize || body_len > kMaxBodyLen) continue;
    if (off + kRecordHeaderSize + body_len > b.size()) continue;
    if (static_cast<uint8_t>(b[off + kRecordHeaderSize]) != static_cast<uint8_t>(RecordType::kFull)) continue;
    if (XXH3_64bits(b.data() + off + 8, 4 + body_len) == GetLE(b.data() + off, 8)) return true;
  }
  return false;
}

void DiskShardLog::IndexRecord(Segment* seg, const Decoded& r, uint64_t offset) {
  if (seg->records == 0) seg->first_arrival_ms = r.arrival_ms;
  seg->records++;
  seg->data_bytes += r.key.size() + r.data.size();
  seg->last_counter = r.counter;
  seg->last_arrival_ms = r.arrival_ms;
  if (seg->index.empty() || offset - seg->last_indexed_offset >= kIndexIntervalBytes) {
    seg->index.push_back({r.counter, r.arrival_ms, offset});
    seg->last_indexed_offset = offset;
  }
}

absl::Status DiskShardLog::StartSegment(uint64_t first_counter) {
  auto seg = std::make_unique<Segment>();
  seg->first_counter = first_counter;
  seg->path = SegmentPath(first_counter);
  std::string hdr(kSegmentMagic, 8);
  PutU32(&hdr, kSegmentFormatVersion);
  PutU32(&hdr, options_.shard_index);
  PutU64(&hdr, first_counter);
  PutU64(&hdr, XXH3_64bits(hdr.data(), hdr.size()));
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, options_.env->NewWritableFile(seg->path));
  // The header and the directory entry are made durable before any record
  // goes in, so a synced record is never in a segment recovery cannot open.
  absl::Status s = f->Append(hdr);
  if (s.ok()) s = f->Sync();
  if (s.ok()) s = options_.env->SyncDir(options_.dir);
  if (!s.ok()) {
    IgnoreError(f->Close());
    IgnoreError(options_.env->RemoveFile(seg->path));
    return s;
  }
  TRIBUTARY_ASSIGN_OR_RETURN(seg->file, options_.env->NewRandomAccessFile(seg->path));
  seg->size = kSegmentHeaderSize;
  segments_.push_back(std::move(seg));
  active_ = std::move(f);
  return absl::OkStatus();
}

absl::Status DiskShardLog::RollIfFull(int64_t next_arrival_ms) {
  const Segment& cur = *segments_.back();
  // Roll by size, and by age so that retention can delete a slow shard's
  // data segment by segment instead of keeping it all in one active file.
  const bool too_old = cur.records > 0 && options_.segment_max_age_ms > 0 &&
                       next_arrival_ms - cur.first_arrival_ms >= options_.segment_max_age_ms;
  if (active_ && cur.size < options_.segment_bytes && !too_old) return absl::OkStatus();
  util::MutexLock l(&sync_mu_);
  while (syncing_) sync_cv_.Wait(&sync_mu_);
  // The old segment is synced before it is closed, so every byte before the
  // roll is durable and Sync() only ever needs the active file.
  if (active_) {
    absl::Status s = active_->Sync();
    if (s.ok()) s = active_->Close();
    if (!s.ok()) {
      sync_error_ = s;
      return s;
    }
    active_.reset();
  }
  synced_bytes_ = appended_bytes_.load(std::memory_order_acquire);
  absl::Status s = StartSegment(next_counter_);
  if (!s.ok()) {
    // Refuse appends until reopened; a half-created segment is dropped by
    // the next open (it holds no record).
    sync_error_ = s;
  }
  return s;
}

absl::Status DiskShardLog::Append(absl::Span<const AppendRecord> records) {
  {
    util::MutexLock l(&sync_mu_);
    if (!sync_error_.ok()) return sync_error_;
  }
  // Roll before appending, never after: an append that reached the file is
  // never reported as failed because the next segment could not start.
  TRIBUTARY_RETURN_IF_ERROR(RollIfFull(records.empty() ? 0 : records.front().arrival_ms));
  Segment* seg = segments_.back().get();
  encode_buf_.clear();
  std::vector<std::pair<Decoded, uint64_t>> placed;
  placed.reserve(records.size());
  uint64_t off = seg->size;
  for (const AppendRecord& r : records) {
    size_t start = encode_buf_.size();
    uint32_t body_len = static_cast<uint32_t>(kRecordBodyFixedSize + r.partition_key.size() + r.data.size());
    PutU64(&encode_buf_, 0);  // checksum, filled below
    PutU32(&encode_buf_, body_len);
    encode_buf_.push_back(static_cast<char>(RecordType::kFull));
    PutU64(&encode_buf_, r.counter);
    PutU64(&encode_buf_, static_cast<uint64_t>(r.arrival_ms));
    PutU16(&encode_buf_, static_cast<uint16_t>(r.partition_key.size()));
    encode_buf_.append(r.partition_key.data(), r.partition_key.size());
    encode_buf_.append(r.data.data(), r.data.size());
    uint64_t sum = XXH3_64bits(encode_buf_.data() + start + 8, encode_buf_.size() - start - 8);
    for (int i = 0; i < 8; ++i) encode_buf_[start + i] = static_cast<char>(sum >> (8 * i));
    uint64_t frame = encode_buf_.size() - start;
    placed.push_back({Decoded{r.counter, r.arrival_ms, r.partition_key, r.data, frame}, off});
    off += frame;
  }
  absl::Status s = active_->Append(encode_buf_);
  if (!s.ok()) {
    // The file may now end in a partial frame: refuse further appends until
    // the store is reopened, where recovery truncates it.
    util::MutexLock l(&sync_mu_);
    sync_error_ = s;
    return s;
  }
  for (const auto& [d, o] : placed) IndexRecord(seg, d, o);
  seg->size = off;
  appended_bytes_.fetch_add(encode_buf_.size(), std::memory_order_release);
  if (!records.empty()) next_counter_ = records.back().counter + 1;
  return absl::OkStatus();
}

absl::Status DiskShardLog::Sync(uint64_t token) {
  util::MutexLock l(&sync_mu_);
  while (synced_bytes_ < token) {
    if (!sync_error_.ok()) return sync_error_;
    if (syncing_) {
      sync_cv_.Wait(&sync_mu_);
      continue;
    }
    // Become the leader: one fdatasync covers every append made so far.
    syncing_ = true;
    uint64_t target = appended_bytes_.load(std::memory_order_acquire);
    WritableFile* f = active_.get();  // stable: a roll waits for !syncing_
    sync_mu_.Unlock();
    absl::Status s = f->Sync();
    sync_mu_.Lock();
    syncing_ = false;
    if (s.ok()) {
      synced_bytes_ = std::max(synced_bytes_, target);
    } else {
      sync_error_ = s;
    }
    sync_cv_.SignalAll();
  }
  return absl::OkStatus();
}

absl::Status DiskShardLog::CorruptionAt(const Segment& seg, uint64_t offset, std::string_view why) const {
  return Corruption(fmt::format("shard {}: {} at offset {}: {}", options_.shard_index, seg.path,
                                offset, why));
}

absl::StatusOr<uint64_t> DiskShardLog::Read(uint64_t from_counter, int64_t min_arrival_ms,
                                            ReadLimits limits, uint32_t shard_index,
                                            std::vector<Record>* out) const {
  size_t bytes = 0, taken = 0;
  uint64_t resume = from_counter;
  // Skip, by binary search, the segments that start before the target by
  // both keys (first counter and first arrival increase across segments).
  size_t first = static_cast<size_t>(
      std::partition_point(segments_.begin(), segments_.end(),
                           [&](const std::unique_ptr<Segment>& sp) {
                             return sp->first_counter <= from_counter &&
                                    (sp->records == 0 || sp->first_arrival_ms <= min_arrival_ms);
                           }) -
      segments_.begin());
  if (first > 0) --first;
  for (size_t si = first; si < segments_.size(); ++si) {
    const Segment& seg = *segments_[si];
    if (seg.corrupt_at) {
      // The damaged part of this segment covers counters up to the next
      // segment's first one: a read that needs any of them must fail, not
      // skip ahead.
      // The damaged records have counters below the next segment's first
      // one and arrivals no later than its first record's.
      const Segment* next = si + 1 < segments_.size() ? segments_[si + 1].get() : nullptr;
      uint64_t range_end = next ? next->first_counter : ~uint64_t{0};
      bool may_hold_target =
          from_counter < range_end &&
          (next == nullptr || next->records == 0 || min_arrival_ms < next->first_arrival_ms);
      bool wanted = may_hold_target && (seg.records == 0 || seg.last_counter < from_counter ||
                                        seg.last_arrival_ms < min_arrival_ms);
      if (wanted) {
        if (taken > 0) return resume;
        return CorruptionAt(seg, *seg.corrupt_at, "corrupt record");
      }
    }
    if (seg.records == 0) continue;
    if (seg.last_counter < from_counter || seg.last_arrival_ms < min_arrival_ms) continue;
    // Start from the last index entry at or before the wanted position.
    // Counters and arrival times both increase within a segment, so the
    // entries at or before the first wanted record form a prefix.
    auto it = std::partition_point(seg.index.begin(), seg.index.end(), [&](const IndexEntry& e) {
      return !(e.counter > from_counter && e.arrival_ms >= min_arrival_ms);
    });
    uint64_t start = it == seg.index.begin() ? kSegmentHeaderSize : std::prev(it)->offset;
    Cursor cur(seg.file.get(), start, seg.corrupt_at.value_or(seg.size));
    while (taken < limits.max_records) {
      TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
      if (fr.result == Cursor::Result::kEnd) {
        if (seg.corrupt_at && taken == 0) return CorruptionAt(seg, *seg.corrupt_at, "corrupt record");
        break;
      }
      if (fr.result != Cursor::Result::kRecord) {
        if (taken > 0) return resume;  // hand out what was good; the next read reports it
        return CorruptionAt(seg, fr.offset, fr.why);
      }
      if (fr.counter < from_counter || fr.arrival < min_arrival_ms) continue;
      size_t n = fr.key.size() + fr.data.size();
      if (taken > 0 && bytes + n > limits.max_bytes) return fr.counter;
      Record rec;
      rec.sequence_number = SequenceNumber::FromParts(fr.counter, shard_index);
      rec.approximate_arrival_timestamp = absl::FromUnixMillis(fr.arrival);
      rec.partition_key.assign(fr.key);
      rec.data.assign(fr.data);
      out->push_back(std::move(rec));
      bytes += n;
      ++taken;
      resume = fr.counter + 1;
    }
    if (taken >= limits.max_records) break;
    if (seg.corrupt_at && cur.offset() >= *seg.corrupt_at) break;
  }
  return std::max(resume, from_counter);
}

absl::StatusOr<std::optional<ShardLog::Position>> DiskShardLog::FirstAtOrAfter(
    uint64_t from_counter, int64_t min_arrival_ms) const {
  std::vector<Record> one;
  TRIBUTARY_RETURN_IF_ERROR(Read(from_counter, min_arrival_ms, {1, ~size_t{0}}, 0, &one).status());
  if (one.empty()) return std::optional<Position>();
  return std::optional<Position>(Position{one[0].sequence_number.counter(),
                                          absl::ToUnixMillis(one[0].approximate_arrival_timestamp)});
}

absl::StatusOr<std::optional<uint64_t>> DiskShardLog::SeekTimestamp(int64_t t_ms) const {
  TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Position> p, FirstAtOrAfter(0, t_ms));
  if (!p) return std::optional<uint64_t>();
  return std::optional<uint64_t>(p->counter);
}

uint64_t DiskShardLog::CountAtOrAfter(uint64_t from_counter, int64_t min_arrival_ms) const {
  uint64_t n = 0;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    const Segment& s = **it;
    if (s.records == 0) continue;
    if (s.last_counter < from_counter || s.last_arrival_ms < min_arrival_ms) break;
    if (s.first_counter >= from_counter && s.first_arrival_ms >= min_arrival_ms) {
      n += s.records;
      continue;
    }
    // The reader starts inside this segment: estimate from counters (the
    // segment's records are not indexed one by one).
    const uint64_t lo = std::max(from_counter, s.first_counter);
    n += std::min<uint64_t>(s.records, s.last_counter - lo + 1);
    break;
  }
  return n;
}

void DiskShardLog::TrimBefore(int64_t cutoff_ms) {
  bool removed = false;
  // Whole segments go once their newest record expired; the active segment
  // always stays (it carries the counter position across restarts).
  while (segments_.size() > 1) {
    Segment& s = *segments_.front();
    if (s.records > 0 && s.last_arrival_ms >= cutoff_ms) break;
    if (!options_.env->RemoveFile(s.path).ok()) break;
    segments_.erase(segments_.begin());
    removed = true;
  }
  if (removed) IgnoreError(options_.env->SyncDir(options_.dir));
}

std::optional<int64_t> DiskShardLog::oldest_arrival_ms() const {
  for (const auto& s : segments_) {
    if (s->records > 0) return s->first_arrival_ms;
  }
  return std::nullopt;
}

std::optional<int64_t> DiskShardLog::newest_arrival_ms() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if ((*it)->records > 0) return (*it)->last_arrival_ms;
  }
  return std::nullopt;
}

uint64_t DiskShardLog::record_count() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->records;
  return n;
}

uint64_t DiskShardLog::byte_count() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->data_bytes;
  return n;
}

absl::Status DiskShardLog::Destroy() {
  if (active_) {
    IgnoreError(active_->Close());
    active_.reset();
  }
  for (const auto& s : segments_) TRIBUTARY_RETURN_IF_ERROR(options_.env->RemoveFile(s->path));
  segments_.clear();
  return options_.env->RemoveDir(options_.dir);
}

absl::Status DiskShardLog::Verify(RecoveryReport* report) const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& seg = *segments_[i];
    const uint64_t limit = i + 1 < segments_.size() ? segments_[i + 1]->first_counter : ~uint64_t{0};
    report->segments++;
    TRIBUTARY_ASSIGN_OR_RETURN(uint64_t file_size, options_.env->GetFileSize(seg.path));
    Cursor cur(seg.file.get(), kSegmentHeaderSize, file_size);
    Segment seen;  // what OutOfOrder needs: the counters so far
    seen.first_counter = seg.first_counter;
    while (true) {
      TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
      if (fr.result == Cursor::Result::kEnd) break;
      if (fr.result != Cursor::Result::kRecord) {
        report->problems.push_back(fmt::format("{}: offset {}: {}", seg.path, fr.offset, fr.why));
        break;
      }
      if (std::string why = OutOfOrder(seen, fr.counter, limit); !why.empty()) {
        report->problems.push_back(fmt::format("{}: offset {}: {}", seg.path, fr.offset, why));
        break;
      }
      seen.records++;
      seen.last_counter = fr.counter;
      report->records++;
    }
  }
  return absl::OkStatus();
}

}  // namespace tributary::log
