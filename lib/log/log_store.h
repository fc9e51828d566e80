// LogStore: the store-wide part of a durable store's record storage
// (docs/DURABILITY.md, docs/FORMAT.md): the write-ahead log every shard log
// appends to, the cache of open segment files, the recovery point, crash
// recovery and checkpoints.
//
// Lifecycle (StoreImpl::OpenDurable):
//   1. Open(): reads the recovery point, if there is a valid one.
//   2. The shard logs open (DiskShardLog with Options::store set): each
//      takes its segments' summaries from the recovery point and reads
//      nothing, or scans its files when the store has no valid recovery
//      point (a store written before write-ahead logging, a damaged
//      recovery point, StoreOptions::verify_on_open).
//   3. Recover(): replays the WAL files the recovery point does not cover
//      into the logs (only what was written after the last checkpoint), starts a
//      new WAL file, writes a recovery point if anything changed, and starts
//      the checkpoint thread.
//   4. Checkpoints, in the background, once checkpoint_wal_bytes of WAL were
//      written or checkpoint_interval passed (store clock, judged on
//      append): the WAL moves to a new file, every log's summary is captured,
//      the segments written since the last checkpoint are fdatasync'ed (and
//      their directories), the recovery point is replaced, and the WAL files
//      it covers are deleted.
//   5. Close(): stops the thread and writes a last recovery point (a clean
//      shutdown), unless a storage failure happened; then the next open
//      replays the WAL.
//
// After any storage failure (a WAL write or sync, a segment write, a
// checkpoint) no further checkpoint is written: the last recovery point and
// the WAL since it stay the truth until the store is reopened.
//
// Thread-safe. Lock order: a log's mutex -> registry_mu_; checkpoint_mu_ ->
// (Wal's locks), registry_mu_ -> a log's mutex is never taken (the
// registry is copied first).
#ifndef TRIBUTARY_LIB_LOG_LOG_STORE_H_
#define TRIBUTARY_LIB_LOG_LOG_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "log/disk_log.h"
#include "log/file_cache.h"
#include "log/metadata.h"
#include "log/wal.h"
#include "tributary/env.h"
#include "util/mutex.h"

namespace tributary::log {

class LogStore {
 public:
  struct Options {
    Env* env = nullptr;
    std::string dir;  // the store's directory
    size_t max_open_files = 400;
    uint64_t checkpoint_wal_bytes = 64 << 20;
    int64_t checkpoint_interval_ms = int64_t{5} * 60 * 1000;  // 0: by WAL bytes only
    // Scan every segment at open even if a recovery point is valid.
    bool verify_on_open = false;
  };

  static absl::StatusOr<std::unique_ptr<LogStore>> Open(const Options& options,
                                                        RecoveryReport* report);
  // Stops the checkpoint thread (without a last checkpoint: Close() does
  // that). REQUIRES: every log of the store destroyed first or Close() called.
  ~LogStore();

  // Whether a log opening now scans its files (the store has no usable
  // recovery point and is recovering). Else it takes its segments from
  // TakeRecoveredSegments (none for a log created after recovery).
  bool scan_logs() const { return !from_recovery_point_ && !recovered_done_; }
  // The recovery point's segments of log (incarnation, shard_index), moved
  // out; empty if it has none.
  std::vector<SegmentSummary> TakeRecoveredSegments(uint64_t incarnation, uint32_t shard_index);

  // Step 3 above. REQUIRES: every log of the store open.
  absl::Status Recover(RecoveryReport* report);
  // Writes a recovery point now (the checkpoint thread does this on its
  // own; tests and benchmarks call it to get one at a known moment).
  absl::Status Checkpoint() { return DoCheckpoint(false); }
  // Step 5 above. No calls on the store's logs may run concurrently.
  void Close();

  Wal* wal() const { return wal_.get(); }
  FileCache* cache() { return &cache_; }
  Env* env() const { return options_.env; }

  void Register(DiskShardLog* log);
  void Unregister(DiskShardLog* log);
  // After an append: wakes the checkpointer when one is due.
  void NoteAppend(uint64_t lsn, int64_t arrival_ms) {
    if (lsn - checkpoint_lsn_.load(std::memory_order_relaxed) >= options_.checkpoint_wal_bytes ||
        arrival_ms >= checkpoint_due_ms_.load(std::memory_order_relaxed)) {
      NoteAppendSlow(lsn, arrival_ms);
    }
  }
  // A storage failure (a shard log's write or roll, a checkpoint): no
  // checkpoint from now on (the last recovery point and the WAL after it
  // stay the truth until the store is reopened). A failed checkpoint also
  // tells `on_failure` (the store then refuses writes: the WAL could only
  // grow).
  void ReportFailure(const absl::Status& s);
  absl::Status failure() const;
  void set_on_failure(std::function<void(const absl::Status&)> f) ABSL_LOCKS_EXCLUDED(state_mu_) {
    util::MutexLock l(&state_mu_);
    on_failure_ = std::move(f);
  }
  // A problem found after open (a damaged index rebuilt, say): listed with
  // the recovery report's problems.
  void AddProblem(std::string problem);
  std::vector<std::string> problems() const;

  uint64_t checkpoints() const { return checkpoints_.load(); }
  uint64_t wal_bytes_since_checkpoint() const;

 private:
  explicit LogStore(const Options& options);
  void NoteAppendSlow(uint64_t lsn, int64_t arrival_ms);
  absl::Status DoCheckpoint(bool clean);
  absl::Status DoRecover(RecoveryReport* report);
  void CheckpointFailed(const absl::Status& s);
  absl::Status ReplayFile(uint64_t number, bool last, bool* damaged,
                          std::set<std::pair<uint64_t, uint32_t>>* marked, RecoveryReport* report);
  absl::Status WriteRecoveryPoint(const RecoveryPoint& rp);
  absl::Status DeleteWalBelow(uint64_t number);
  void CheckpointLoop();
  std::string WalDir() const { return options_.dir + "/wal"; }

  const Options options_;
  FileCache cache_;
  std::unique_ptr<Wal> wal_;
  bool from_recovery_point_ = false;
  bool recovered_done_ = false;  // Recover() finished
  uint64_t wal_start_ = 0;           // first WAL file to replay
  std::vector<uint64_t> wal_files_;  // found at open, sorted
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, std::vector<SegmentSummary>> recovered_;

  util::Mutex registry_mu_;
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, DiskShardLog*> logs_ ABSL_GUARDED_BY(registry_mu_);

  util::Mutex checkpoint_mu_;  // one checkpoint at a time
  std::atomic<uint64_t> checkpoint_lsn_{0};  // WAL position of the last checkpoint
  // Store time (ms) at which a checkpoint is due by the interval: INT64_MIN
  // until the first append sets it (the clock is the store's, seen through
  // record arrival times).
  std::atomic<int64_t> checkpoint_due_ms_{INT64_MIN};
  int64_t last_append_ms_ ABSL_GUARDED_BY(state_mu_) = 0;
  std::atomic<uint64_t> checkpoints_{0};

  mutable util::Mutex state_mu_;
  absl::Status failure_ ABSL_GUARDED_BY(state_mu_);
  std::vector<std::string> problems_ ABSL_GUARDED_BY(state_mu_);
  std::function<void(const absl::Status&)> on_failure_ ABSL_GUARDED_BY(state_mu_);
  bool requested_ ABSL_GUARDED_BY(state_mu_) = false;
  bool stop_ ABSL_GUARDED_BY(state_mu_) = false;
  util::CondVar cv_;
  std::thread thread_;
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_LOG_STORE_H_
