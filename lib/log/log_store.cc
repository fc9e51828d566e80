#include "log/log_store.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <tuple>

#include "log/format.h"
#include "log/record_frame.h"
#include "util/status_macros.h"

namespace tributary::log {
namespace {

constexpr char kRecoveryFile[] = "RECOVERY";
constexpr char kRecoveryTmp[] = "RECOVERY.tmp";

bool ParseWalName(const std::string& n, uint64_t* number) {
  if (n.size() != 24 || n.compare(20, 4, ".wal") != 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (n[i] < '0' || n[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(n[i] - '0');
  }
  *number = v;
  return true;
}

// Fills *out rather than returning StatusOr<std::string>: GCC 12 at -O3 reports
// the string moved out of a StatusOr as maybe-uninitialized (a false positive
// that breaks the -Werror Release build).
absl::Status ReadWhole(Env* env, const std::string& path, std::string* out) {
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, env->NewRandomAccessFile(path));
  out->assign(size, '\0');
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view got, f->Read(0, size, out->data()));
  out->resize(got.size());
  return absl::OkStatus();
}

// One WAL frame as found in a file.
struct WalFrame {
  enum Kind { kFrame, kEnd, kTorn, kBad } kind = kEnd;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string_view payload;
  WalFrameType type = WalFrameType::kAppend;
  std::string why;
};

// Decodes the frame at `off` of `b`.
WalFrame DecodeWalFrame(std::string_view b, uint64_t off) {
  WalFrame f;
  f.offset = off;
  if (off >= b.size()) return f;
  const uint64_t left = b.size() - off;
  if (left < kWalFrameHeaderSize) {
    f.kind = WalFrame::kTorn;
    f.why = "partial frame header";
    return f;
  }
  const char* p = b.data() + off;
  const uint32_t len = static_cast<uint32_t>(GetLE(p + 8, 4));
  if (len > kMaxWalPayload || len < kWalAppendPrefixSize) {
    f.kind = kWalFrameHeaderSize + uint64_t{len} > left ? WalFrame::kTorn : WalFrame::kBad;
    f.why = fmt::format("impossible frame length {}", len);
    return f;
  }
  if (kWalFrameHeaderSize + uint64_t{len} > left) {
    f.kind = WalFrame::kTorn;
    f.why = "partial frame";
    return f;
  }
  f.size = kWalFrameHeaderSize + len;
  if (XXH3_64bits(p + 8, f.size - 8) != GetLE(p, 8)) {
    f.kind = WalFrame::kBad;
    f.why = "checksum mismatch";
    return f;
  }
  if (static_cast<WalFrameType>(p[12]) != WalFrameType::kAppend) {
    f.kind = WalFrame::kBad;
    f.why = fmt::format("unknown frame type {}", static_cast<int>(static_cast<uint8_t>(p[12])));
    return f;
  }
  f.kind = WalFrame::kFrame;
  f.type = WalFrameType::kAppend;
  f.payload = std::string_view(p + kWalFrameHeaderSize, len);
  return f;
}

// The offset of the first intact frame in b[from, end), or npos.
size_t NextValidFrame(std::string_view b, size_t from) {
  for (size_t off = from; off + kWalFrameHeaderSize + kWalAppendPrefixSize <= b.size(); ++off) {
    if (DecodeWalFrame(b, off).kind == WalFrame::kFrame) return off;
  }
  return std::string_view::npos;
}

// Runs fn(0..n-1) on up to kSyncThreads threads; the first error, if any.
constexpr size_t kSyncThreads = 16;
template <typename Fn>
absl::Status ParallelFor(size_t n, Fn&& fn) {
  if (n == 0) return absl::OkStatus();
  std::atomic<size_t> next{0};
  util::Mutex mu;
  absl::Status first;
  auto run = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      absl::Status s = fn(i);
      if (!s.ok()) {
        util::MutexLock l(&mu);
        if (first.ok()) first = s;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(n, kSyncThreads); ++t) threads.emplace_back(run);
  run();
  for (std::thread& t : threads) t.join();
  util::MutexLock l(&mu);
  return first;
}

}  // namespace

LogStore::LogStore(const Options& options) : options_(options), cache_(options.max_open_files) {}

LogStore::~LogStore() {
  {
    util::MutexLock l(&state_mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::Open(const Options& options, RecoveryReport* report) {
  std::unique_ptr<LogStore> s(new LogStore(options));
  Env* env = options.env;
  TRIBUTARY_RETURN_IF_ERROR(env->CreateDirs(s->WalDir()));
  const std::string rp_path = options.dir + "/" + kRecoveryFile;
  if (env->FileExists(rp_path)) {
    std::string data;
    TRIBUTARY_RETURN_IF_ERROR(ReadWhole(env, rp_path, &data));
    absl::StatusOr<RecoveryPoint> rp = DecodeRecoveryPoint(data);
    if (rp.ok()) {
      s->wal_start_ = rp->wal_start;
      if (!options.verify_on_open) {
        s->from_recovery_point_ = true;
        s->recovered_.reserve(rp->logs.size());
        for (RecoveryPoint::Log& l : rp->logs) {
          s->recovered_[{l.incarnation, l.shard_index}] = std::move(l.segments);
        }
      }
    } else {
      // Never trusted blindly: every segment is scanned instead, and every
      // WAL file still there is replayed.
      report->problems.push_back(fmt::format("{}: {}; every segment is scanned instead", rp_path,
                                             std::string(rp.status().message())));
    }
  }
  report->from_recovery_point = s->from_recovery_point_;
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(s->WalDir()));
  for (const std::string& n : names) {
    uint64_t number = 0;
    if (ParseWalName(n, &number)) s->wal_files_.push_back(number);
  }
  std::sort(s->wal_files_.begin(), s->wal_files_.end());
  return s;
}

std::vector<SegmentSummary> LogStore::TakeRecoveredSegments(uint64_t incarnation, uint32_t shard_index) {
  auto it = recovered_.find({incarnation, shard_index});
  if (it == recovered_.end()) return {};
  std::vector<SegmentSummary> out = std::move(it->second);
  recovered_.erase(it);
  return out;
}

void LogStore::Register(DiskShardLog* log) {
  util::MutexLock l(&registry_mu_);
  logs_[{log->incarnation(), log->shard_index()}] = log;
}

void LogStore::Unregister(DiskShardLog* log) {
  util::MutexLock l(&registry_mu_);
  auto it = logs_.find({log->incarnation(), log->shard_index()});
  if (it != logs_.end() && it->second == log) logs_.erase(it);
}

// ---------------------------------------------------------------- recovery

absl::Status LogStore::ReplayFile(uint64_t number, bool last, bool* damaged,
                                  std::set<std::pair<uint64_t, uint32_t>>* marked, RecoveryReport* report) {
  Env* env = options_.env;
  const std::string path = Wal::FileName(WalDir(), number);
  std::string data;
  TRIBUTARY_RETURN_IF_ERROR(ReadWhole(env, path, &data));
  std::string_view b = data;
  report->wal_files++;
  report->wal_bytes += b.size();
  const bool header_ok = b.size() >= kWalHeaderSize && std::memcmp(b.data(), kWalMagic, 8) == 0 &&
                         GetLE(b.data() + 24, 8) == XXH3_64bits(b.data(), 24) &&
                         GetLE(b.data() + 8, 4) == kWalFormatVersion && GetLE(b.data() + 16, 8) == number;
  if (!header_ok) {
    if (b.size() <= kWalHeaderSize) return absl::OkStatus();  // created, never written to
    *damaged = true;
    report->problems.push_back(fmt::format(
        "{}: bad WAL file header ({} bytes after it); its frames are checked one by one", path,
        b.size() - kWalHeaderSize));
  }
  size_t off = kWalHeaderSize;
  while (off < b.size()) {
    WalFrame f = DecodeWalFrame(b, off);
    if (f.kind != WalFrame::kFrame) {
      const size_t next = NextValidFrame(b, off + 1);
      if (next == std::string_view::npos && last) {
        // What a crash in the middle of a WAL write leaves: nothing after
        // it was acknowledged.
        report->problems.push_back(fmt::format("{}: torn tail at offset {} ({}), {} bytes dropped", path,
                                               off, f.why, b.size() - off));
        report->truncated_bytes += b.size() - off;
        break;
      }
      *damaged = true;
      report->problems.push_back(fmt::format(
          "{}: corrupt frame at offset {} ({}); the records it held are lost, reads of the shards "
          "written after it fail across the gap",
          path, off, f.why));
      if (next == std::string_view::npos) break;
      off = next;
      continue;
    }
    const char* p = f.payload.data();
    const uint64_t incarnation = GetLE(p, 8);
    const uint32_t shard = static_cast<uint32_t>(GetLE(p + 8, 4));
    const uint32_t count = static_cast<uint32_t>(GetLE(p + 12, 4));
    off += f.size;
    DiskShardLog* log = nullptr;
    {
      util::MutexLock l(&registry_mu_);
      auto it = logs_.find({incarnation, shard});
      if (it != logs_.end()) log = it->second;
    }
    // A log the catalog does not name: its stream was deleted (or its
    // shard expired) after these records were written.
    if (log == nullptr) continue;
    const bool after_damage = *damaged && marked->insert({incarnation, shard}).second;
    absl::Status s = log->Replay(f.payload.substr(kWalAppendPrefixSize), count, after_damage,
                                 &report->records_replayed);
    if (!s.ok()) {
      if (GetErrorType(s) != ErrorType::kCorruption) return s;
      report->problems.push_back(fmt::format("{}: frame at offset {}: {}", path, f.offset,
                                             std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status LogStore::Recover(RecoveryReport* report) {
  absl::Status s = DoRecover(report);
  // A failed open writes nothing more (no last checkpoint at Close).
  if (!s.ok()) ReportFailure(s);
  return s;
}

absl::Status LogStore::DoRecover(RecoveryReport* report) {
  Env* env = options_.env;
  bool damaged = false;
  // Logs seen after damage: their first frame after it marks a gap.
  std::set<std::pair<uint64_t, uint32_t>> marked;
  uint64_t replay_from = from_recovery_point_ || wal_start_ > 0 ? wal_start_ : 0;
  uint64_t next_number = std::max<uint64_t>(wal_start_, 1);
  const uint64_t replayed_before = report->records_replayed;
  bool any_wal = false;
  for (size_t i = 0; i < wal_files_.size(); ++i) {
    const uint64_t n = wal_files_[i];
    next_number = std::max(next_number, n + 1);
    if (n < replay_from) continue;  // applied before the recovery point; deleted below
    any_wal = true;
    TRIBUTARY_RETURN_IF_ERROR(ReplayFile(n, i + 1 == wal_files_.size(), &damaged, &marked, report));
  }
  {
    // Bytes past the recovery point that the WAL does not hold: a write that
    // tore (or failed) as the process died. Never acknowledged.
    util::MutexLock l(&registry_mu_);
    for (const auto& [key, log] : logs_) {
      if (uint64_t n = log->TakeUnreplayedBytes(); n > 0) {
        report->truncated_bytes += n;
        report->problems.push_back(fmt::format(
            "shard {} of stream incarnation {}: torn tail: {} bytes past the recovery point that "
            "the write-ahead log does not hold (never acknowledged) dropped",
            key.second, key.first, n));
      }
    }
  }
  TRIBUTARY_ASSIGN_OR_RETURN(wal_, Wal::Create(env, WalDir(), next_number));
  checkpoint_lsn_.store(0);
  const bool replayed = report->records_replayed > replayed_before;
  // The store holds what the recovery point (or the scan) counted plus what
  // the WAL put back.
  report->records += report->records_replayed - replayed_before;
  if (replayed || !from_recovery_point_ || damaged) {
    // Make what was replayed (or scanned) durable in the segments and
    // record it, so the WAL files can go.
    TRIBUTARY_RETURN_IF_ERROR(DoCheckpoint(false));
  } else if (any_wal || !wal_files_.empty()) {
    TRIBUTARY_RETURN_IF_ERROR(DeleteWalBelow(std::min(next_number, replay_from)));
  }
  recovered_.clear();
  recovered_done_ = true;
  thread_ = std::thread([this] { CheckpointLoop(); });
  return absl::OkStatus();
}

// ---------------------------------------------------------------- checkpoints

void LogStore::NoteAppendSlow(uint64_t lsn, int64_t arrival_ms) {
  int64_t due = checkpoint_due_ms_.load(std::memory_order_relaxed);
  if (due == INT64_MIN) {
    // The first append of this open: the interval starts now.
    const int64_t next = options_.checkpoint_interval_ms > 0 ? arrival_ms + options_.checkpoint_interval_ms
                                                             : INT64_MAX;
    checkpoint_due_ms_.compare_exchange_strong(due, next, std::memory_order_relaxed);
    if (lsn - checkpoint_lsn_.load(std::memory_order_relaxed) < options_.checkpoint_wal_bytes) return;
  }
  util::MutexLock l(&state_mu_);
  last_append_ms_ = std::max(last_append_ms_, arrival_ms);
  if (!requested_) {
    requested_ = true;
    // Not due again until this one is done (the loop sets the next time).
    checkpoint_due_ms_.store(INT64_MAX, std::memory_order_relaxed);
    cv_.SignalAll();
  }
}

void LogStore::CheckpointLoop() {
  while (true) {
    int64_t at_ms = 0;
    {
      util::MutexLock l(&state_mu_);
      while (!requested_ && !stop_) cv_.Wait(&state_mu_);
      if (stop_) return;
      at_ms = last_append_ms_;
    }
    absl::Status s = DoCheckpoint(false);
    if (!s.ok()) CheckpointFailed(s);
    {
      util::MutexLock l(&state_mu_);
      requested_ = false;
    }
    checkpoint_due_ms_.store(
        options_.checkpoint_interval_ms > 0 ? at_ms + options_.checkpoint_interval_ms : INT64_MAX,
        std::memory_order_relaxed);
  }
}

absl::Status LogStore::WriteRecoveryPoint(const RecoveryPoint& rp) {
  Env* env = options_.env;
  const std::string tmp = options_.dir + "/" + kRecoveryTmp;
  const std::string body = EncodeRecoveryPoint(rp);
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env->NewWritableFile(tmp));
  absl::Status s = f->Append(body);
  if (s.ok()) s = f->Sync();
  absl::Status c = f->Close();
  if (s.ok()) s = c;
  TRIBUTARY_RETURN_IF_ERROR(s);
  // The rename is the commit point; the directory sync makes it durable
  // before any WAL file it covers is deleted.
  TRIBUTARY_RETURN_IF_ERROR(env->RenameFile(tmp, options_.dir + "/" + kRecoveryFile));
  return env->SyncDir(options_.dir);
}

absl::Status LogStore::DeleteWalBelow(uint64_t number) {
  Env* env = options_.env;
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(WalDir()));
  for (const std::string& n : names) {
    uint64_t v = 0;
    if (ParseWalName(n, &v) && v < number) {
      absl::Status s = env->RemoveFile(WalDir() + "/" + n);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status LogStore::DoCheckpoint(bool clean) {
  util::MutexLock cl(&checkpoint_mu_);
  TRIBUTARY_RETURN_IF_ERROR(failure());
  TRIBUTARY_RETURN_IF_ERROR(wal_->error());
  Env* env = options_.env;
  // 1. Later appends go to a new WAL file; everything in the old ones is
  //    captured below (an append holds its log's mutex from its WAL write to
  //    its summary update, so it is either in the capture or in the new file).
  const uint64_t next = wal_->number() + 1;
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t at_lsn, wal_->Rotate(next));
  // 2. Capture every log.
  RecoveryPoint rp;
  rp.flags = clean ? kRecoveryFlagClean : 0;
  rp.wal_start = next;
  std::set<std::string> dirs;
  std::vector<DiskShardLog::SyncWork> work;
  std::vector<std::pair<uint64_t, uint32_t>> keys;
  {
    util::MutexLock l(&registry_mu_);
    rp.logs.reserve(logs_.size());
    for (const auto& [key, log] : logs_) {
      RecoveryPoint::Log entry;
      DiskShardLog::SyncWork w;
      w.dirs = &dirs;
      TRIBUTARY_ASSIGN_OR_RETURN(bool has, log->Capture(&entry, &w));
      if (!has) continue;
      rp.logs.push_back(std::move(entry));
      if (w.active_writer != nullptr || !w.files.empty()) {
        keys.push_back(key);
        work.push_back(std::move(w));
      }
    }
  }
  // Logs in a stable order (the file is compared in tests and diffs).
  std::sort(rp.logs.begin(), rp.logs.end(), [](const RecoveryPoint::Log& a, const RecoveryPoint::Log& b) {
    return std::tie(a.incarnation, a.shard_index) < std::tie(b.incarnation, b.shard_index);
  });
  // 3. Make the captured segments durable, then the directory entries.
  //    In parallel: concurrent fdatasyncs share the file system's journal
  //    commits (ext4's jbd2 batches them), so a checkpoint after writes to
  //    thousands of shards costs a few commits, not thousands.
  TRIBUTARY_RETURN_IF_ERROR(ParallelFor(work.size(), [&](size_t i) {
    return DiskShardLog::SyncCaptured(env, work[i]);
  }));
  std::vector<std::string> dir_list(dirs.begin(), dirs.end());
  TRIBUTARY_RETURN_IF_ERROR(ParallelFor(dir_list.size(), [&](size_t i) {
    absl::Status s = env->SyncDir(dir_list[i]);
    // A directory removed since (its stream deleted) needs nothing.
    if (!s.ok() && !env->FileExists(dir_list[i])) return absl::OkStatus();
    return s;
  }));
  {
    util::MutexLock l(&registry_mu_);
    for (size_t i = 0; i < work.size(); ++i) {
      auto it = logs_.find(keys[i]);
      if (it != logs_.end() && it->second == work[i].log && work[i].active_size > 0) {
        it->second->MarkSynced(work[i].active_first, work[i].active_size);
      }
    }
  }
  // 4. The commit point.
  TRIBUTARY_RETURN_IF_ERROR(WriteRecoveryPoint(rp));
  // 5. The WAL files it covers.
  TRIBUTARY_RETURN_IF_ERROR(DeleteWalBelow(next));
  checkpoint_lsn_.store(at_lsn, std::memory_order_relaxed);
  checkpoints_.fetch_add(1);
  return absl::OkStatus();
}

void LogStore::Close() {
  {
    util::MutexLock l(&state_mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
  if (wal_ == nullptr || !failure().ok() || !wal_->error().ok()) return;
  {
    // Active segments' indexes, so that the next open reads them instead
    // of scanning (no log call runs concurrently now).
    util::MutexLock l(&registry_mu_);
    for (const auto& [key, log] : logs_) log->WriteActiveIndex();
  }
  IgnoreError(DoCheckpoint(true));  // if it fails, the next open replays the WAL
}

void LogStore::ReportFailure(const absl::Status& s) {
  util::MutexLock l(&state_mu_);
  if (!failure_.ok()) return;
  failure_ = s;
  if (problems_.size() < 1000) {
    problems_.push_back(fmt::format("storage failure ({}): no checkpoint until the store is reopened",
                                    std::string(s.message())));
  }
}

void LogStore::CheckpointFailed(const absl::Status& s) {
  ReportFailure(s);
  std::function<void(const absl::Status&)> notify;
  {
    util::MutexLock l(&state_mu_);
    notify = on_failure_;
  }
  if (notify) notify(s);
}

absl::Status LogStore::failure() const {
  util::MutexLock l(&state_mu_);
  return failure_;
}

void LogStore::AddProblem(std::string problem) {
  util::MutexLock l(&state_mu_);
  if (problems_.size() < 1000) problems_.push_back(std::move(problem));
}

std::vector<std::string> LogStore::problems() const {
  util::MutexLock l(&state_mu_);
  return problems_;
}

uint64_t LogStore::wal_bytes_since_checkpoint() const {
  return wal_ == nullptr ? 0 : wal_->lsn() - checkpoint_lsn_.load();
}

}  // namespace tributary::log
