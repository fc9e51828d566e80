#include "log/disk_log.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "log/format.h"
#include "log/log_store.h"
#include "log/record_frame.h"
#include "util/status_macros.h"

namespace tributary::log {
namespace {

constexpr size_t kReadWindow = 256 << 10;
// A standalone log's own file cache never evicts.
constexpr size_t kUnboundedCache = size_t{1} << 30;

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
    DecodedFrame f;
    uint64_t offset = 0;  // where the frame starts
    std::string why;      // what was wrong, for kTorn / kBad
  };

  // Decodes the frame at the current offset. kEnd at `limit`; kTorn when the
  // frame runs past `limit`; kBad for a checksum or framing mismatch, or a
  // file that ends before `limit`. An error only for a failed read.
  absl::StatusOr<Frame> Next() {
    Frame fr;
    fr.offset = offset_;
    if (offset_ >= limit_) return fr;
    if (limit_ - offset_ < kRecordHeaderSize) {
      fr.result = Result::kTorn;
      fr.why = "partial record header";
      return fr;
    }
    bool short_file = false;
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view head, Window(offset_, kRecordHeaderSize, &short_file));
    if (short_file) return Short(fr);
    const uint32_t body_len = static_cast<uint32_t>(GetLE(head.data() + 8, 4));
    uint64_t want = kRecordHeaderSize;
    if (body_len >= kRecordBodyFixedSize && body_len <= kMaxBodyLen &&
        kRecordHeaderSize + uint64_t{body_len} <= limit_ - offset_) {
      want = kRecordHeaderSize + body_len;
    }
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view view, Window(offset_, want, &short_file));
    if (short_file) return Short(fr);
    // Let the decoder judge torn against everything up to `limit`: pass a
    // view as long as the frame claims when it fits, else the header alone
    // with the impossible or overlong length (judged below).
    if (want == kRecordHeaderSize) {
      fr.why = body_len < kRecordBodyFixedSize || body_len > kMaxBodyLen
                   ? fmt::format("impossible record length {}", body_len)
                   : "partial record";
      const bool past_end = kRecordHeaderSize + uint64_t{body_len} > limit_ - offset_;
      fr.result = past_end ? Result::kTorn : Result::kBad;
      return fr;
    }
    switch (DecodeRecordFrame(view, &fr.f, &fr.why)) {
      case FrameResult::kRecord:
        fr.result = Result::kRecord;
        offset_ += fr.f.size;
        return fr;
      case FrameResult::kTorn:
        fr.result = Result::kTorn;
        return fr;
      case FrameResult::kBad:
        fr.result = Result::kBad;
        return fr;
    }
    return fr;
  }
  uint64_t offset() const { return offset_; }

 private:
  Frame Short(Frame fr) {
    fr.result = Result::kBad;
    fr.why = "segment file shorter than its recorded size";
    return fr;
  }
  // Bytes [off, off+n) of the file, from the window (refilled as needed).
  absl::StatusOr<std::string_view> Window(uint64_t off, size_t n, bool* short_file) {
    if (off < win_off_ || off + n > win_off_ + win_.size()) {
      size_t want = std::max<size_t>(n, kReadWindow);
      want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - off));
      buf_.resize(std::max(want, n));
      TRIBUTARY_ASSIGN_OR_RETURN(std::string_view got, file_->Read(off, want, buf_.data()));
      win_ = got;
      win_off_ = off;
      if (got.size() < n) {
        *short_file = true;
        return std::string_view();
      }
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

// Scratch space for encoding appends: one per thread, not per log (a log's
// own buffer would keep a whole batch's worth of memory per shard).
std::string& EncodeBuffer() {
  thread_local std::string buf;
  return buf;
}

bool ParseSegmentName(const std::string& n, std::string_view ext, uint64_t* first) {
  if (n.size() != 20 + ext.size() || n.compare(20, std::string::npos, ext.data(), ext.size()) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (n[i] < '0' || n[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(n[i] - '0');
  }
  *first = v;
  return true;
}

std::string SegmentHeader(uint32_t shard_index, uint64_t first_counter) {
  std::string hdr(kSegmentMagic, 8);
  PutU32(&hdr, kSegmentFormatVersion);
  PutU32(&hdr, shard_index);
  PutU64(&hdr, first_counter);
  PutU64(&hdr, XXH3_64bits(hdr.data(), hdr.size()));
  return hdr;
}

// What is wrong with a segment header, or "".
std::string HeaderProblem(std::string_view h, uint32_t shard_index, uint64_t first_counter) {
  if (h.size() < kSegmentHeaderSize) return "segment shorter than its header";
  if (std::memcmp(h.data(), kSegmentMagic, 8) != 0) return "bad segment magic";
  if (GetLE(h.data() + 24, 8) != XXH3_64bits(h.data(), 24)) return "segment header checksum mismatch";
  if (GetLE(h.data() + 8, 4) != kSegmentFormatVersion) {
    return fmt::format("unknown segment format version {}", GetLE(h.data() + 8, 4));
  }
  if (GetLE(h.data() + 12, 4) != shard_index) {
    return fmt::format("header names shard {}", GetLE(h.data() + 12, 4));
  }
  if (GetLE(h.data() + 16, 8) != first_counter) {
    return fmt::format("header names first counter {}", GetLE(h.data() + 16, 8));
  }
  return "";
}

}  // namespace

struct DiskShardLog::SegmentReader final : FileCache::Value {
  std::unique_ptr<RandomAccessFile> file;
  std::vector<IndexEntry> index;  // a sealed segment's, once loaded
  bool index_loaded = false;
};

struct DiskShardLog::SegmentWriter final : FileCache::Value {
  std::unique_ptr<WritableFile> file;
  ~SegmentWriter() override {
    // Closing never syncs: a checkpoint (or, standalone, the roll and
    // Sync()) does.
    if (file) IgnoreError(file->Close());
  }
};

std::string DiskShardLog::SegmentPath(uint64_t first_counter) const {
  return fmt::format("{}/{:020d}.seg", options_.dir, first_counter);
}

std::string DiskShardLog::IndexPath(uint64_t first_counter) const {
  return fmt::format("{}/{:020d}.idx", options_.dir, first_counter);
}

DiskShardLog::Standalone::Standalone() : cache(kUnboundedCache) {}

DiskShardLog::DiskShardLog(const Options& options)
    : options_(options),
      standalone_(options.store == nullptr ? std::make_unique<Standalone>() : nullptr),
      cache_(options.store != nullptr ? options.store->cache() : &standalone_->cache) {}

absl::StatusOr<std::unique_ptr<DiskShardLog>> DiskShardLog::Open(const Options& options,
                                                                 RecoveryReport* report) {
  std::unique_ptr<DiskShardLog> log(new DiskShardLog(options));
  RecoveryReport scratch;
  TRIBUTARY_RETURN_IF_ERROR(log->Load(report != nullptr ? report : &scratch));
  if (log->in_store()) log->options_.store->Register(log.get());
  return log;
}

DiskShardLog::~DiskShardLog() {
  if (in_store()) options_.store->Unregister(this);
}

void DiskShardLog::Fail(const absl::Status& s) {
  util::MutexLock l(&mu_);
  FailLocked(s);
}

void DiskShardLog::FailLocked(const absl::Status& s) {
  if (error_.ok()) error_ = s;
  failed_.store(true, std::memory_order_release);
  if (in_store()) options_.store->ReportFailure(s);
}

absl::Status DiskShardLog::error() const {
  if (!failed_.load(std::memory_order_acquire)) return absl::OkStatus();
  util::MutexLock l(&mu_);
  return error_;
}

void DiskShardLog::SetCorrupt(const Segment& seg, uint64_t offset) const {
  util::MutexLock l(&mu_);
  Segment& s = const_cast<Segment&>(seg);
  s.meta.corrupt_at = std::min(s.meta.corrupt_at, offset);
}

// ---------------------------------------------------------------- opening

absl::Status DiskShardLog::Load(RecoveryReport* report) {
  next_counter_ = std::max(options_.start_counter, options_.min_next_counter);
  if (in_store() && !options_.store->scan_logs()) {
    if (options_.create) {
      reconciled_ = true;
      return StartSegment(next_counter_);
    }
    return LoadFromSummaries(
        options_.store->TakeRecoveredSegments(options_.incarnation, options_.shard_index), report);
  }
  // A scan of every segment (standalone; a store without a usable recovery
  // point).
  Env* env = options_.env;
  const bool existed = env->FileExists(options_.dir);
  if (!in_store()) {
    TRIBUTARY_RETURN_IF_ERROR(env->CreateDirs(options_.dir));
    if (!existed) {
      // Make the new shard directory's entry (and its stream directory's)
      // durable before anything is acknowledged from inside it.
      for (std::string d = options_.dir;;) {
        size_t slash = d.rfind('/');
        if (slash == std::string::npos || slash == 0) break;
        d.resize(slash);
        TRIBUTARY_RETURN_IF_ERROR(env->SyncDir(d));
        if (env->FileExists(d + "/CATALOG")) break;  // reached the store root
      }
    }
  }
  reconciled_ = true;  // the scan sees every file
  std::vector<uint64_t> firsts;
  if (existed) {
    TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(options_.dir));
    for (const std::string& n : names) {
      uint64_t v = 0;
      if (ParseSegmentName(n, ".seg", &v)) firsts.push_back(v);
    }
  }
  std::sort(firsts.begin(), firsts.end());
  for (size_t i = 0; i < firsts.size(); ++i) {
    auto seg = std::make_unique<Segment>();
    seg->meta.first_counter = firsts[i];
    const std::string path = SegmentPath(firsts[i]);
    auto reader = std::make_shared<SegmentReader>();
    TRIBUTARY_ASSIGN_OR_RETURN(reader->file, env->NewRandomAccessFile(path));
    // Counters of a segment stay below the next segment's first one.
    const uint64_t limit = i + 1 < firsts.size() ? firsts[i + 1] : ~uint64_t{0};
    const bool is_last = i + 1 == firsts.size();
    bool drop = false;
    std::vector<IndexEntry> index;
    TRIBUTARY_RETURN_IF_ERROR(ScanSegment(seg.get(), *reader->file, is_last, limit, &index, &drop, report));
    next_counter_ = std::max(next_counter_, seg->meta.first_counter);
    if (drop) {
      reader.reset();
      TRIBUTARY_RETURN_IF_ERROR(env->RemoveFile(path));
      if (in_store()) IgnoreError(env->RemoveFile(IndexPath(firsts[i])));
      continue;
    }
    if (seg->meta.records > 0) next_counter_ = std::max(next_counter_, seg->meta.last_counter + 1);
    report->segments++;
    report->records += seg->meta.records;
    if (is_last) {
      active_index_ = std::move(index);
      active_index_valid_ = true;
    } else {
      if (in_store() && seg->meta.corrupt_at == kNoCorruption) WriteIndexFile(*seg, index);
      reader->index = std::move(index);
      reader->index_loaded = true;
    }
    {
      util::MutexLock l(&mu_);
      segments_.push_back(std::move(seg));
    }
    cache_->Insert(&segments_.back()->reader, std::move(reader));
  }
  if (!segments_.empty()) last_indexed_offset_ = active_index_.empty() ? 0 : active_index_.back().offset;
  {
    // What a scan found is on disk already (written before this open);
    // the store's first checkpoint syncs it.
    util::MutexLock l(&mu_);
    active_synced_ = in_store() ? 0 : (segments_.empty() ? 0 : segments_.back()->meta.size);
  }
  if (!in_store()) {
    // Standalone logs keep format 1's behaviour: the active segment is
    // open for appends from the start.
    TRIBUTARY_RETURN_IF_ERROR(Writer().status());
  }
  return absl::OkStatus();
}

absl::Status DiskShardLog::LoadFromSummaries(const std::vector<SegmentSummary>& summaries,
                                             RecoveryReport* report) {
  util::MutexLock l(&mu_);
  for (const SegmentSummary& s : summaries) {
    auto seg = std::make_unique<Segment>();
    seg->meta = s;
    next_counter_ = std::max(next_counter_, s.first_counter);
    if (s.records > 0) next_counter_ = std::max(next_counter_, s.last_counter + 1);
    report->segments++;
    report->records += s.records;
    segments_.push_back(std::move(seg));
  }
  // The recovery point recorded these sizes after syncing them.
  active_synced_ = segments_.empty() ? 0 : segments_.back()->meta.size;
  return absl::OkStatus();
}

absl::Status DiskShardLog::ScanSegment(Segment* seg, const RandomAccessFile& file, bool is_last,
                                       uint64_t counter_limit, std::vector<IndexEntry>* index,
                                       bool* drop, RecoveryReport* report) {
  const std::string path = SegmentPath(seg->meta.first_counter);
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t file_size, options_.env->GetFileSize(path));
  report->segments_scanned++;
  report->bytes_scanned += file_size;
  char hdr[kSegmentHeaderSize];
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view h, file.Read(0, kSegmentHeaderSize, hdr));
  if (!HeaderProblem(h, options_.shard_index, seg->meta.first_counter).empty()) {
    if (file_size <= kSegmentHeaderSize) {
      // Created but its header never became durable (or a roll failed while
      // writing it): it never held a record.
      report->problems.push_back(fmt::format("{}: torn segment header, empty segment dropped", path));
      report->truncated_bytes += file_size;
      *drop = true;
      return absl::OkStatus();
    }
    // A segment with data behind a bad header: its records cannot be
    // trusted, but they are not ours to drop. Reads of its range fail.
    seg->meta.size = kSegmentHeaderSize;
    seg->meta.corrupt_at = 0;
    report->problems.push_back(fmt::format(
        "{}: bad segment header ({} bytes of records behind it); reads of its range fail", path,
        file_size - kSegmentHeaderSize));
    return absl::OkStatus();
  }
  seg->meta.size = kSegmentHeaderSize;
  uint64_t last_indexed = 0;
  Cursor cur(&file, kSegmentHeaderSize, file_size);
  while (true) {
    TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
    if (fr.result == Cursor::Result::kEnd) break;
    if (fr.result == Cursor::Result::kRecord) {
      if (std::string why = OutOfOrder(seg->meta, fr.f.counter, counter_limit); !why.empty()) {
        // An intact frame the writer cannot have produced (reads and the
        // sparse index rely on counters increasing): corruption, never a
        // torn tail, so it is not truncated away.
        seg->meta.corrupt_at = fr.offset;
        report->problems.push_back(
            fmt::format("{}: corrupt record at offset {} ({}); reads past it fail", path, fr.offset, why));
        break;
      }
      SegmentSummary& m = seg->meta;
      if (m.records == 0) m.first_arrival_ms = fr.f.arrival_ms;
      m.records++;
      m.data_bytes += fr.f.key.size() + fr.f.data.size();
      m.last_counter = fr.f.counter;
      m.last_arrival_ms = fr.f.arrival_ms;
      if (index->empty() || fr.offset - last_indexed >= kIndexIntervalBytes) {
        index->push_back({fr.f.counter, fr.f.arrival_ms, fr.offset});
        last_indexed = fr.offset;
      }
      m.size = cur.offset();
      continue;
    }
    // Only damage with no intact record after it can be a torn tail (what a
    // crash mid-append leaves). Intact records after a bad one mean the bad
    // one is corruption, and those records were acknowledged.
    bool valid_after = true;
    if (is_last) {
      std::string rest(file_size - fr.offset - 1, '\0');
      absl::StatusOr<std::string_view> got = file.Read(fr.offset + 1, rest.size(), rest.data());
      valid_after = !got.ok() || AnyValidFrame(*got);  // cannot tell: do not truncate
    }
    if (is_last && !valid_after) {
      // The tail of the active segment: a crash mid-append leaves a partial
      // or garbled last frame. Nothing after it was acknowledged as synced.
      report->problems.push_back(fmt::format("{}: torn tail at offset {} ({}), {} bytes truncated", path,
                                             fr.offset, fr.why, file_size - fr.offset));
      report->truncated_bytes += file_size - fr.offset;
      TRIBUTARY_RETURN_IF_ERROR(options_.env->TruncateFile(path, fr.offset));
      break;
    }
    seg->meta.corrupt_at = fr.offset;
    report->problems.push_back(
        fmt::format("{}: corrupt record at offset {} ({}); reads past it fail", path, fr.offset, fr.why));
    break;
  }
  return absl::OkStatus();
}

std::string DiskShardLog::OutOfOrder(const SegmentSummary& seg, uint64_t counter, uint64_t limit) {
  if (counter >= limit) {
    return limit == ~uint64_t{0}
               ? fmt::format("counter {} is the largest counter, never issued", counter)
               : fmt::format("counter {} is not below the next segment's first counter {}", counter, limit);
  }
  if (counter < seg.first_counter) {
    return fmt::format("counter {} is below the segment's first counter {}", counter, seg.first_counter);
  }
  if (seg.records > 0 && counter <= seg.last_counter) {
    return fmt::format("counter {} does not follow counter {}", counter, seg.last_counter);
  }
  return "";
}

// ---------------------------------------------------------------- files

void DiskShardLog::WriteIndexFile(const Segment& seg, const std::vector<IndexEntry>& index) const {
  // Derived data: written without a sync. A torn or missing index is
  // detected by its checksum (or its absence) and rebuilt from the segment.
  const std::string body = EncodeSegmentIndex(options_.shard_index, seg.meta, index);
  absl::StatusOr<std::unique_ptr<WritableFile>> f = options_.env->NewWritableFile(IndexPath(seg.meta.first_counter));
  if (!f.ok()) return;
  IgnoreError((*f)->Append(body));
  IgnoreError((*f)->Close());
  if (in_store()) {
    util::MutexLock l(&mu_);
    const_cast<DiskShardLog*>(this)->dir_dirty_ = true;
  }
}

absl::StatusOr<std::shared_ptr<DiskShardLog::SegmentReader>> DiskShardLog::ReaderFor(size_t i) const {
  const Segment& seg = *segments_[i];
  std::shared_ptr<SegmentReader> r = cache_->Lookup<SegmentReader>(&const_cast<Segment&>(seg).reader);
  if (r == nullptr) {
    r = std::make_shared<SegmentReader>();
    const std::string path = SegmentPath(seg.meta.first_counter);
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> f = options_.env->NewRandomAccessFile(path);
    if (!f.ok()) {
      if (f.status().code() != absl::StatusCode::kNotFound) return f.status();
      SetCorrupt(seg, kSegmentHeaderSize);
      if (in_store()) options_.store->AddProblem(fmt::format("{}: segment file missing; reads of its range fail", path));
      return CorruptionAt(seg, 0, "segment file missing");
    }
    r->file = std::move(*f);
    char hdr[kSegmentHeaderSize];
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view h, r->file->Read(0, kSegmentHeaderSize, hdr));
    if (std::string why = HeaderProblem(h, options_.shard_index, seg.meta.first_counter); !why.empty()) {
      if (seg.meta.corrupt_at != 0 && in_store()) {
        options_.store->AddProblem(fmt::format("{}: {}; reads of its range fail", path, why));
      }
      SetCorrupt(seg, 0);
    }
    cache_->Insert(&const_cast<Segment&>(seg).reader, r);
  }
  const bool active = i + 1 == segments_.size();
  if (seg.meta.corrupt_at != 0 && ((active && !active_index_valid_) || (!active && !r->index_loaded))) {
    TRIBUTARY_RETURN_IF_ERROR(LoadIndex(i, r.get()));
  }
  return r;
}

absl::Status DiskShardLog::LoadIndex(size_t i, SegmentReader* r) const {
  const Segment& seg = *segments_[i];
  const bool active = i + 1 == segments_.size();
  std::vector<IndexEntry> index;
  bool loaded = false;
  if (in_store() && seg.meta.corrupt_at == kNoCorruption) {
    const std::string ipath = IndexPath(seg.meta.first_counter);
    absl::StatusOr<uint64_t> size = options_.env->GetFileSize(ipath);
    if (size.ok()) {
      std::string buf(*size, '\0');
      absl::StatusOr<std::unique_ptr<RandomAccessFile>> f = options_.env->NewRandomAccessFile(ipath);
      absl::StatusOr<std::string_view> data =
          f.ok() ? (*f)->Read(0, buf.size(), buf.data()) : absl::StatusOr<std::string_view>(f.status());
      if (data.ok()) {
        absl::StatusOr<std::vector<IndexEntry>> dec = DecodeSegmentIndex(*data, options_.shard_index, seg.meta);
        if (dec.ok()) {
          index = std::move(*dec);
          loaded = true;
        } else if (!active && std::string(dec.status().message()).find("another segment state") ==
                                  std::string::npos) {
          // Damage (not merely an index of an older state of the segment):
          // say so, then rebuild.
          options_.store->AddProblem(fmt::format("{}: {}; rebuilt from the segment", ipath,
                                                 std::string(dec.status().message())));
        }
      }
    }
  }
  if (!loaded) {
    // Rebuild by scanning the segment: every frame checked.
    const uint64_t limit = std::min(seg.meta.size, seg.meta.corrupt_at);
    const uint64_t counter_limit = i + 1 < segments_.size() ? segments_[i + 1]->meta.first_counter : ~uint64_t{0};
    SegmentSummary seen;
    seen.first_counter = seg.meta.first_counter;
    uint64_t last_indexed = 0;
    Cursor cur(r->file.get(), kSegmentHeaderSize, limit);
    while (true) {
      TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
      if (fr.result == Cursor::Result::kEnd) break;
      std::string why = fr.why;
      if (fr.result == Cursor::Result::kRecord) {
        why = OutOfOrder(seen, fr.f.counter, counter_limit);
        if (why.empty()) {
          seen.records++;
          seen.last_counter = fr.f.counter;
          if (index.empty() || fr.offset - last_indexed >= kIndexIntervalBytes) {
            index.push_back({fr.f.counter, fr.f.arrival_ms, fr.offset});
            last_indexed = fr.offset;
          }
          continue;
        }
      }
      SetCorrupt(seg, fr.offset);
      if (in_store()) {
        options_.store->AddProblem(fmt::format("{}: corrupt record at offset {} ({}); reads past it fail",
                                               SegmentPath(seg.meta.first_counter), fr.offset, why));
      }
      break;
    }
    if (!active && in_store() && seg.meta.corrupt_at == kNoCorruption) WriteIndexFile(seg, index);
  }
  if (active) {
    active_index_ = std::move(index);
    active_index_valid_ = true;
    last_indexed_offset_ = active_index_.empty() ? 0 : active_index_.back().offset;
  } else {
    r->index = std::move(index);
    r->index_loaded = true;
  }
  return absl::OkStatus();
}

absl::Status DiskShardLog::Reconcile() {
  // Once per log and process, before the first append (or replay): the
  // directory may hold what the recovery point does not know (a crash after
  // it: bytes past the active segment's recorded size, segments started
  // later) which the WAL replay writes again, or never acknowledged.
  reconciled_ = true;
  if (segments_.empty()) return absl::OkStatus();  // StartSegment clears the directory
  Env* env = options_.env;
  Segment& active = *segments_.back();
  absl::StatusOr<std::vector<std::string>> names = env->GetChildren(options_.dir);
  if (names.ok()) {
    for (const std::string& n : *names) {
      uint64_t first = 0;
      const bool seg_file = ParseSegmentName(n, ".seg", &first);
      if (!seg_file && !ParseSegmentName(n, ".idx", &first)) continue;
      // Later segments are gone from the log's history; an index of the
      // active segment describes an older state of it.
      if (first > active.meta.first_counter || (!seg_file && first == active.meta.first_counter)) {
        if (seg_file) {
          absl::StatusOr<uint64_t> size = env->GetFileSize(options_.dir + "/" + n);
          if (size.ok() && *size > kSegmentHeaderSize) dropped_bytes_ += *size - kSegmentHeaderSize;
        }
        TRIBUTARY_RETURN_IF_ERROR(env->RemoveFile(options_.dir + "/" + n));
        util::MutexLock l(&mu_);
        dir_dirty_ = true;
      }
    }
  }
  if (active.meta.corrupt_at != kNoCorruption) return absl::OkStatus();
  const std::string path = SegmentPath(active.meta.first_counter);
  absl::StatusOr<uint64_t> size = env->GetFileSize(path);
  if (size.ok() && *size > active.meta.size) {
    dropped_bytes_ += *size - active.meta.size;
    return env->TruncateFile(path, active.meta.size);
  }
  if (!size.ok() || *size < active.meta.size) {
    const uint64_t have = size.ok() ? *size : 0;
    options_.store->AddProblem(fmt::format(
        "{}: {} bytes, but the recovery point recorded {} as durable; reads past offset {} fail",
        path, have, active.meta.size, have));
    SetCorrupt(active, have < kSegmentHeaderSize ? 0 : have);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<DiskShardLog::SegmentWriter>> DiskShardLog::Writer() {
  if (segments_.empty() || segments_.back()->meta.corrupt_at != kNoCorruption) {
    // Nothing to append to (or the last segment is damaged: never append
    // after damage): start a fresh segment.
    TRIBUTARY_RETURN_IF_ERROR(StartSegment(next_counter_));
  }
  if (std::shared_ptr<SegmentWriter> w = cache_->Lookup<SegmentWriter>(&writer_slot_)) return w;
  Segment& seg = *segments_.back();
  const std::string path = SegmentPath(seg.meta.first_counter);
  auto w = std::make_shared<SegmentWriter>();
  TRIBUTARY_ASSIGN_OR_RETURN(w->file, options_.env->NewAppendableFile(path));
  if (w->file->Size() != seg.meta.size) {
    return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                     fmt::format("segment {} is {} bytes, the log expected {} (changed behind its back)",
                                 path, w->file->Size(), seg.meta.size));
  }
  cache_->Insert(&writer_slot_, w);
  return w;
}

absl::Status DiskShardLog::StartSegment(uint64_t first_counter) {
  Env* env = options_.env;
  const bool first_of_log = segments_.empty();
  if (in_store() && first_of_log) {
    // The shard's first record: its directory is made now. Anything in it
    // was never acknowledged (a reshard that never committed, a crash
    // before the WAL held it).
    if (env->FileExists(options_.dir)) {
      TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(options_.dir));
      for (const std::string& n : names) {
        uint64_t first = 0;
        if (ParseSegmentName(n, ".seg", &first)) {
          absl::StatusOr<uint64_t> size = env->GetFileSize(options_.dir + "/" + n);
          if (size.ok() && *size > kSegmentHeaderSize) dropped_bytes_ += *size - kSegmentHeaderSize;
        }
        TRIBUTARY_RETURN_IF_ERROR(env->RemoveFile(options_.dir + "/" + n));
      }
    } else {
      TRIBUTARY_RETURN_IF_ERROR(env->CreateDirs(options_.dir));
      util::MutexLock l(&mu_);
      parents_dirty_ = true;
    }
  }
  auto seg = std::make_unique<Segment>();
  seg->meta.first_counter = first_counter;
  const std::string path = SegmentPath(first_counter);
  auto w = std::make_shared<SegmentWriter>();
  TRIBUTARY_ASSIGN_OR_RETURN(w->file, env->NewWritableFile(path));
  // Standalone: the header and the directory entry are made durable before
  // any record goes in, so a synced record is never in a segment recovery
  // cannot open. In a store the WAL holds the records until a checkpoint
  // syncs the segment; a roll still syncs the directory (the new segment's
  // entry), a shard's first segment waits for the checkpoint.
  absl::Status s = w->file->Append(SegmentHeader(options_.shard_index, first_counter));
  if (s.ok() && !in_store()) s = w->file->Sync();
  if (s.ok() && (!in_store() || !first_of_log)) s = env->SyncDir(options_.dir);
  if (!s.ok()) {
    w.reset();
    IgnoreError(env->RemoveFile(path));
    return s;
  }
  seg->meta.size = kSegmentHeaderSize;
  {
    util::MutexLock l(&mu_);
    segments_.push_back(std::move(seg));
    active_synced_ = 0;
    dir_dirty_ = true;
  }
  cache_->Insert(&writer_slot_, std::move(w));
  active_index_.clear();
  active_index_valid_ = true;
  last_indexed_offset_ = 0;
  return absl::OkStatus();
}

absl::Status DiskShardLog::RollIfFull(int64_t next_arrival_ms) {
  if (segments_.empty()) return absl::OkStatus();
  const Segment& cur = *segments_.back();
  // Roll by size, and by age so that retention can delete a slow shard's
  // data segment by segment instead of keeping it all in one active file.
  const bool too_old = cur.meta.records > 0 && options_.segment_max_age_ms > 0 &&
                       next_arrival_ms - cur.meta.first_arrival_ms >= options_.segment_max_age_ms;
  if (cur.meta.size < options_.segment_bytes && !too_old) return absl::OkStatus();
  if (cur.meta.corrupt_at != kNoCorruption) return absl::OkStatus();  // Writer() starts anew
  if (in_store()) {
    util::MutexLock l(&mu_);
    if (active_synced_ < cur.meta.size) unsynced_sealed_.push_back(cur.meta.first_counter);
    cache_->Erase(&writer_slot_);
  } else {
    Standalone& st = *standalone_;
    util::MutexLock l(&st.sync_mu);
    while (st.syncing) st.sync_cv.Wait(&st.sync_mu);
    // The old segment is synced before it is closed, so every byte before
    // the roll is durable and Sync() only ever needs the active file.
    std::shared_ptr<SegmentWriter> w = cache_->Lookup<SegmentWriter>(&writer_slot_);
    if (w != nullptr) {
      absl::Status s = w->file->Sync();
      if (!s.ok()) {
        Fail(s);
        return s;
      }
    }
    cache_->Erase(&writer_slot_);
    st.synced_bytes = st.appended_bytes.load(std::memory_order_acquire);
  }
  std::vector<IndexEntry> sealed_index = std::move(active_index_);
  const bool sealed_valid = active_index_valid_;
  if (absl::Status s = StartSegment(next_counter_); !s.ok()) {
    active_index_ = std::move(sealed_index);
    active_index_valid_ = sealed_valid;
    return s;
  }
  // The sealed segment's index goes to its file (and to its reader, if
  // open); without a complete one in memory, no stale file may remain.
  const Segment& sealed = *segments_[segments_.size() - 2];
  if (in_store()) {
    if (sealed_valid) {
      WriteIndexFile(sealed, sealed_index);
    } else {
      IgnoreError(options_.env->RemoveFile(IndexPath(sealed.meta.first_counter)));
    }
  }
  if (std::shared_ptr<SegmentReader> r = cache_->Lookup<SegmentReader>(&const_cast<Segment&>(sealed).reader)) {
    r->index = std::move(sealed_index);
    r->index_loaded = sealed_valid;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- appends

absl::Status DiskShardLog::WriteFrames(SegmentWriter* w, std::string_view bytes) {
  absl::Status s = w->file->Append(bytes);
  if (!s.ok()) {
    // The file may now end in a partial frame: refuse further appends until
    // the store is reopened, where recovery deals with it.
    FailLocked(s);
  }
  return s;
}

void DiskShardLog::CommitFrames(uint64_t bytes, const std::vector<Placed>& placed) {
  Segment& seg = *segments_.back();
  uint64_t off = seg.meta.size;
  {
    SegmentSummary& m = seg.meta;
    for (const Placed& p : placed) {
      if (m.records == 0) m.first_arrival_ms = p.arrival_ms;
      m.records++;
      m.data_bytes += p.data_bytes;
      m.last_counter = p.counter;
      m.last_arrival_ms = p.arrival_ms;
      if (active_index_valid_ && (active_index_.empty() || off - last_indexed_offset_ >= kIndexIntervalBytes)) {
        active_index_.push_back({p.counter, p.arrival_ms, off});
        last_indexed_offset_ = off;
      }
      off += p.frame_size;
    }
    m.size = off;
  }
  if (!placed.empty()) next_counter_ = std::max(next_counter_, placed.back().counter + 1);
  if (!in_store()) standalone_->appended_bytes.fetch_add(bytes, std::memory_order_release);
}

absl::Status DiskShardLog::Append(absl::Span<const AppendRecord> records) {
  TRIBUTARY_RETURN_IF_ERROR(error());
  if (records.empty()) return absl::OkStatus();
  if (in_store()) {
    TRIBUTARY_RETURN_IF_ERROR(options_.store->wal()->error());
    if (!reconciled_) {
      if (absl::Status s = Reconcile(); !s.ok()) {
        Fail(s);
        return s;
      }
      if (dropped_bytes_ > 0) {
        options_.store->AddProblem(fmt::format(
            "{}: torn tail: {} bytes past the recovery point that the write-ahead log does not hold "
            "(never acknowledged) dropped",
            options_.dir, dropped_bytes_));
        dropped_bytes_ = 0;
      }
    }
  }
  // Roll before appending, never after: an append that reached the file is
  // never reported as failed because the next segment could not start.
  if (absl::Status s = RollIfFull(records.front().arrival_ms); !s.ok()) {
    Fail(s);
    return s;
  }
  absl::StatusOr<std::shared_ptr<SegmentWriter>> w = Writer();
  if (!w.ok()) {
    Fail(w.status());
    return w.status();
  }
  // One buffer: the WAL frame (header, prefix) followed by the record
  // frames, which are also exactly what the segment gets.
  std::string& buf = EncodeBuffer();
  buf.clear();
  buf.resize(kWalFrameHeaderSize + kWalAppendPrefixSize);
  thread_local std::vector<Placed> placed;
  placed.clear();
  for (const AppendRecord& r : records) {
    const size_t frame = EncodeRecordFrame(r, &buf);
    placed.push_back({r.counter, r.arrival_ms, r.partition_key.size() + r.data.size(), frame});
  }
  const size_t prefix = kWalFrameHeaderSize + kWalAppendPrefixSize;
  const std::string_view frames = std::string_view(buf).substr(prefix);
  // From the segment write to the summary update under mu_: a checkpoint's
  // capture sees the append either whole (in the segment it syncs) or not
  // at all (then its WAL frame is in a file the checkpoint keeps).
  util::MutexLock l(&mu_);
  // The segment first, then the WAL, then the summary. A record becomes
  // visible (to reads, and to a checkpoint) only with the summary, after it
  // is in the WAL: what a reader was given survives kill -9. And an append
  // whose segment write fails leaves no WAL frame: a failed write never
  // comes back at the next open (a shard closed after it keeps its ending
  // number). If the WAL write fails, the segment's extra bytes lie past
  // the summary, unseen, and the next open drops them.
  TRIBUTARY_RETURN_IF_ERROR(WriteFrames(w->get(), frames));
  if (in_store()) {
    char* p = buf.data();
    SetU64(p + 16, options_.incarnation);
    for (int i = 0; i < 4; ++i) p[24 + i] = static_cast<char>(options_.shard_index >> (8 * i));
    const uint32_t count = static_cast<uint32_t>(records.size());
    for (int i = 0; i < 4; ++i) p[28 + i] = static_cast<char>(count >> (8 * i));
    const uint32_t payload = static_cast<uint32_t>(buf.size() - kWalFrameHeaderSize);
    for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<char>(payload >> (8 * i));
    p[12] = static_cast<char>(WalFrameType::kAppend);
    p[13] = p[14] = p[15] = 0;
    SetU64(p, XXH3_64bits(p + 8, buf.size() - 8));
    // Written under the shard's lock: a shard's frames are in the WAL in
    // counter order.
    absl::StatusOr<uint64_t> lsn = options_.store->wal()->Append(buf);
    if (!lsn.ok()) {
      FailLocked(lsn.status());
      return lsn.status();
    }
    last_lsn_ = *lsn;
  }
  CommitFrames(frames.size(), placed);
  if (in_store()) options_.store->NoteAppend(last_lsn_, records.back().arrival_ms);
  return absl::OkStatus();
}

absl::Status DiskShardLog::Replay(std::string_view frames, uint32_t count, bool after_damage,
                                  uint64_t* replayed) {
  if (!reconciled_) TRIBUTARY_RETURN_IF_ERROR(Reconcile());
  // What the log holds already (from the recovery point, or an earlier
  // frame): skipped.
  uint64_t held = 0;
  bool any = false;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if ((*it)->meta.records > 0) {
      held = (*it)->meta.last_counter;
      any = true;
      break;
    }
  }
  std::vector<Placed> placed;
  size_t skip = 0;
  std::string_view rest = frames;
  for (uint32_t i = 0; i < count; ++i) {
    DecodedFrame f;
    std::string why;
    if (DecodeRecordFrame(rest, &f, &why) != FrameResult::kRecord) {
      return Corruption(fmt::format("a WAL frame of shard {} holds a bad record ({})", options_.shard_index, why));
    }
    if (any && f.counter <= held) {
      skip += f.size;
    } else {
      if (!placed.empty() && f.counter <= placed.back().counter) {
        return Corruption(fmt::format("a WAL frame of shard {} holds counters out of order", options_.shard_index));
      }
      placed.push_back({f.counter, f.arrival_ms, f.key.size() + f.data.size(), f.size});
    }
    rest.remove_prefix(f.size);
  }
  if (placed.empty()) return absl::OkStatus();
  // Counters are dense unless SequenceNumberForOrdering made them jump: a
  // frame that continues right after what the log holds lost nothing.
  if (after_damage && placed.front().counter > (any ? held + 1 : options_.start_counter)) {
    // Records between what the log holds and this frame may have been in
    // the damaged part of the WAL: the range in between reads as damaged,
    // and these records start a new segment above it.
    if (segments_.empty() && placed.front().counter > options_.start_counter) {
      TRIBUTARY_RETURN_IF_ERROR(StartSegment(options_.start_counter));
    }
    if (!segments_.empty()) SetCorrupt(*segments_.back(), segments_.back()->meta.size);
  }
  if (!segments_.empty() && segments_.back()->meta.corrupt_at != kNoCorruption &&
      placed.front().counter <= segments_.back()->meta.first_counter) {
    return Corruption(fmt::format("shard {}: WAL records from counter {} fall in the damaged segment {}",
                                  options_.shard_index, placed.front().counter,
                                  SegmentPath(segments_.back()->meta.first_counter)));
  }
  if (segments_.empty() || segments_.back()->meta.corrupt_at != kNoCorruption) {
    TRIBUTARY_RETURN_IF_ERROR(StartSegment(placed.front().counter));
  } else {
    // Replayed records start new segments at their own counter (the log's
    // next counter may be the store's reservation, above them).
    const uint64_t saved = next_counter_;
    next_counter_ = placed.front().counter;
    absl::Status s = RollIfFull(placed.front().arrival_ms);
    next_counter_ = saved;
    TRIBUTARY_RETURN_IF_ERROR(s);
  }
  TRIBUTARY_ASSIGN_OR_RETURN(std::shared_ptr<SegmentWriter> w, Writer());
  {
    util::MutexLock l(&mu_);
    const std::string_view bytes = frames.substr(skip, frames.size() - skip);
    TRIBUTARY_RETURN_IF_ERROR(WriteFrames(w.get(), bytes));
    CommitFrames(bytes.size(), placed);
    replayed_bytes_ += bytes.size();
  }
  *replayed += placed.size();
  return absl::OkStatus();
}

uint64_t DiskShardLog::DurabilityToken() const {
  return in_store() ? last_lsn_ : standalone_->appended_bytes.load(std::memory_order_acquire);
}

absl::Status DiskShardLog::Sync(uint64_t token) {
  if (in_store()) {
    TRIBUTARY_RETURN_IF_ERROR(error());
    return options_.store->wal()->Sync(token);
  }
  Standalone& st = *standalone_;
  util::MutexLock l(&st.sync_mu);
  while (st.synced_bytes < token) {
    TRIBUTARY_RETURN_IF_ERROR(error());
    if (st.syncing) {
      st.sync_cv.Wait(&st.sync_mu);
      continue;
    }
    // Become the leader: one fdatasync covers every append made so far.
    st.syncing = true;
    const uint64_t target = st.appended_bytes.load(std::memory_order_acquire);
    // Stable: a roll waits for !syncing.
    std::shared_ptr<SegmentWriter> f = cache_->Lookup<SegmentWriter>(&writer_slot_);
    st.sync_mu.Unlock();
    absl::Status s = f != nullptr ? f->file->Sync() : absl::OkStatus();
    if (!s.ok()) Fail(s);
    st.sync_mu.Lock();
    st.syncing = false;
    if (s.ok()) st.synced_bytes = std::max(st.synced_bytes, target);
    st.sync_cv.SignalAll();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- reads

absl::Status DiskShardLog::CorruptionAt(const Segment& seg, uint64_t offset, std::string_view why) const {
  return Corruption(fmt::format("shard {}: {} at offset {}: {}", options_.shard_index,
                                SegmentPath(seg.meta.first_counter), offset, why));
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
                             return sp->meta.first_counter <= from_counter &&
                                    (sp->meta.records == 0 || sp->meta.first_arrival_ms <= min_arrival_ms);
                           }) -
      segments_.begin());
  if (first > 0) --first;
  for (size_t si = first; si < segments_.size(); ++si) {
    const Segment& seg = *segments_[si];
    const bool may_hold = seg.meta.records > 0 && seg.meta.last_counter >= from_counter &&
                          seg.meta.last_arrival_ms >= min_arrival_ms;
    std::shared_ptr<SegmentReader> r;
    if (may_hold) {
      // Opening checks the header and loads (or rebuilds) the index, which
      // may find damage.
      absl::StatusOr<std::shared_ptr<SegmentReader>> got = ReaderFor(si);
      if (!got.ok()) {
        if (taken > 0) return resume;
        return got.status();
      }
      r = std::move(*got);
    }
    if (seg.meta.corrupt_at != kNoCorruption) {
      // The damaged part of this segment covers counters up to the next
      // segment's first one: a read that needs any of them must fail, not
      // skip ahead. The damaged records have counters below the next
      // segment's first one and arrivals no later than its first record's.
      const Segment* next = si + 1 < segments_.size() ? segments_[si + 1].get() : nullptr;
      const uint64_t range_end = next ? next->meta.first_counter : ~uint64_t{0};
      const bool may_hold_target =
          from_counter < range_end &&
          (next == nullptr || next->meta.records == 0 || min_arrival_ms < next->meta.first_arrival_ms);
      const bool wanted = may_hold_target && (seg.meta.records == 0 || seg.meta.last_counter < from_counter ||
                                              seg.meta.last_arrival_ms < min_arrival_ms);
      if (wanted) {
        if (taken > 0) return resume;
        return CorruptionAt(seg, seg.meta.corrupt_at, "corrupt record");
      }
    }
    if (!may_hold) continue;
    // Start from the last index entry at or before the wanted position.
    // Counters and arrival times both increase within a segment, so the
    // entries at or before the first wanted record form a prefix.
    const bool active = si + 1 == segments_.size();
    const std::vector<IndexEntry>& index = active ? active_index_ : r->index;
    auto it = std::partition_point(index.begin(), index.end(), [&](const IndexEntry& e) {
      return !(e.counter > from_counter && e.arrival_ms >= min_arrival_ms);
    });
    const uint64_t start = it == index.begin() ? kSegmentHeaderSize : std::prev(it)->offset;
    const uint64_t limit = std::min(seg.meta.size, seg.meta.corrupt_at);
    Cursor cur(r->file.get(), start, limit);
    while (taken < limits.max_records) {
      TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
      if (fr.result == Cursor::Result::kEnd) {
        if (seg.meta.corrupt_at != kNoCorruption && taken == 0) {
          return CorruptionAt(seg, seg.meta.corrupt_at, "corrupt record");
        }
        break;
      }
      if (fr.result != Cursor::Result::kRecord) {
        // Damage found by this read: remembered, so that nothing later
        // mistakes the range for the shard's end.
        SetCorrupt(seg, fr.offset);
        if (in_store()) {
          options_.store->AddProblem(fmt::format("{}: corrupt record at offset {} ({}); reads past it fail",
                                                 SegmentPath(seg.meta.first_counter), fr.offset, fr.why));
        }
        if (taken > 0) return resume;  // hand out what was good; the next read reports it
        return CorruptionAt(seg, fr.offset, fr.why);
      }
      if (fr.f.counter < from_counter || fr.f.arrival_ms < min_arrival_ms) continue;
      const size_t n = fr.f.key.size() + fr.f.data.size();
      if (taken > 0 && bytes + n > limits.max_bytes) return fr.f.counter;
      Record rec;
      rec.sequence_number = SequenceNumber::FromParts(fr.f.counter, shard_index);
      rec.approximate_arrival_timestamp = absl::FromUnixMillis(fr.f.arrival_ms);
      rec.partition_key.assign(fr.f.key);
      rec.data.assign(fr.f.data);
      out->push_back(std::move(rec));
      bytes += n;
      ++taken;
      resume = fr.f.counter + 1;
    }
    if (taken >= limits.max_records) break;
    if (seg.meta.corrupt_at != kNoCorruption && cur.offset() >= seg.meta.corrupt_at) break;
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
    const SegmentSummary& s = (*it)->meta;
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
    if (s.meta.records > 0 && s.meta.last_arrival_ms >= cutoff_ms) break;
    cache_->Erase(&s.reader);
    absl::Status st = options_.env->RemoveFile(SegmentPath(s.meta.first_counter));
    // Gone already (a recovery point can name a segment removed after it).
    if (!st.ok() && st.code() != absl::StatusCode::kNotFound) break;
    if (in_store()) IgnoreError(options_.env->RemoveFile(IndexPath(s.meta.first_counter)));
    util::MutexLock l(&mu_);
    segments_.erase(segments_.begin());
    dir_dirty_ = true;
    removed = true;
  }
  if (removed && !in_store()) IgnoreError(options_.env->SyncDir(options_.dir));
}

std::optional<int64_t> DiskShardLog::oldest_arrival_ms() const {
  for (const auto& s : segments_) {
    if (s->meta.records > 0) return s->meta.first_arrival_ms;
  }
  return std::nullopt;
}

std::optional<int64_t> DiskShardLog::newest_arrival_ms() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if ((*it)->meta.records > 0) return (*it)->meta.last_arrival_ms;
  }
  return std::nullopt;
}

uint64_t DiskShardLog::record_count() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->meta.records;
  return n;
}

uint64_t DiskShardLog::byte_count() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->meta.data_bytes;
  return n;
}

absl::Status DiskShardLog::Destroy() {
  cache_->Erase(&writer_slot_);
  for (const auto& s : segments_) cache_->Erase(&s->reader);
  {
    util::MutexLock l(&mu_);
    segments_.clear();
    unsynced_sealed_.clear();
  }
  if (in_store()) options_.store->Unregister(this);
  Env* env = options_.env;
  if (!env->FileExists(options_.dir)) return absl::OkStatus();
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(options_.dir));
  for (const std::string& n : names) TRIBUTARY_RETURN_IF_ERROR(env->RemoveFile(options_.dir + "/" + n));
  return env->RemoveDir(options_.dir);
}

absl::Status DiskShardLog::Verify(RecoveryReport* report) const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& seg = *segments_[i];
    const uint64_t limit = i + 1 < segments_.size() ? segments_[i + 1]->meta.first_counter : ~uint64_t{0};
    report->segments++;
    const std::string path = SegmentPath(seg.meta.first_counter);
    TRIBUTARY_ASSIGN_OR_RETURN(uint64_t file_size, options_.env->GetFileSize(path));
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, options_.env->NewRandomAccessFile(path));
    Cursor cur(file.get(), kSegmentHeaderSize, file_size);
    SegmentSummary seen;  // what OutOfOrder needs: the counters so far
    seen.first_counter = seg.meta.first_counter;
    while (true) {
      TRIBUTARY_ASSIGN_OR_RETURN(Cursor::Frame fr, cur.Next());
      if (fr.result == Cursor::Result::kEnd) break;
      if (fr.result != Cursor::Result::kRecord) {
        report->problems.push_back(fmt::format("{}: offset {}: {}", path, fr.offset, fr.why));
        break;
      }
      if (std::string why = OutOfOrder(seen, fr.f.counter, limit); !why.empty()) {
        report->problems.push_back(fmt::format("{}: offset {}: {}", path, fr.offset, why));
        break;
      }
      seen.records++;
      seen.last_counter = fr.f.counter;
      report->records++;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- checkpoints

absl::StatusOr<bool> DiskShardLog::Capture(RecoveryPoint::Log* entry, SyncWork* work) {
  util::MutexLock l(&mu_);
  if (!error_.ok()) return error_;
  // Nothing to record for a log that never held a record (its empty first
  // segment needs no sync: a reopen starts it again if it is gone).
  if (segments_.empty() || (segments_.size() == 1 && segments_[0]->meta.records == 0)) return false;
  entry->incarnation = options_.incarnation;
  entry->shard_index = options_.shard_index;
  entry->segments.reserve(segments_.size());
  for (const auto& s : segments_) entry->segments.push_back(s->meta);
  const SegmentSummary& active = segments_.back()->meta;
  work->log = this;
  if (active.size > active_synced_) {
    work->active_writer = cache_->Lookup<FileCache::Value>(&writer_slot_);
    if (work->active_writer == nullptr) work->files.push_back(SegmentPath(active.first_counter));
    work->active_first = active.first_counter;
    work->active_size = active.size;
  }
  for (uint64_t f : unsynced_sealed_) work->files.push_back(SegmentPath(f));
  unsynced_sealed_.clear();
  if (dir_dirty_ || parents_dirty_) work->dirs->insert(options_.dir);
  if (parents_dirty_) {
    // The shard directory is new: its stream directory's entry for it, and
    // (for a new stream) streams/'s entry for that.
    std::string d = options_.dir;
    for (int up = 0; up < 2; ++up) {
      const size_t slash = d.rfind('/');
      if (slash == std::string::npos || slash == 0) break;
      d.resize(slash);
      work->dirs->insert(d);
    }
  }
  dir_dirty_ = parents_dirty_ = false;
  return true;
}

absl::Status DiskShardLog::SyncCaptured(Env* env, const SyncWork& work) {
  if (work.active_writer != nullptr) {
    TRIBUTARY_RETURN_IF_ERROR(static_cast<SegmentWriter*>(work.active_writer.get())->file->Sync());
  }
  for (const std::string& path : work.files) {
    // Reopened to sync (its handle was closed). A segment removed since
    // (retention) has nothing left to sync.
    if (!env->FileExists(path)) continue;
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env->NewAppendableFile(path));
    absl::Status s = f->Sync();
    IgnoreError(f->Close());
    TRIBUTARY_RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

uint64_t DiskShardLog::TakeUnreplayedBytes() {
  const uint64_t n = dropped_bytes_ > replayed_bytes_ ? dropped_bytes_ - replayed_bytes_ : 0;
  dropped_bytes_ = replayed_bytes_ = 0;
  return n;
}

void DiskShardLog::MarkSynced(uint64_t first, uint64_t size) {
  util::MutexLock l(&mu_);
  if (!segments_.empty() && segments_.back()->meta.first_counter == first) {
    active_synced_ = std::max(active_synced_, size);
  }
}

void DiskShardLog::WriteActiveIndex() {
  if (segments_.empty() || !active_index_valid_) return;
  const Segment& a = *segments_.back();
  if (a.meta.corrupt_at != kNoCorruption || a.meta.records == 0) return;
  if (active_index_file_size_ == a.meta.size) return;  // written already
  WriteIndexFile(a, active_index_);
  active_index_file_size_ = a.meta.size;
}

}  // namespace tributary::log
