// DiskShardLog: a ShardLog in segment files on an Env (format: docs/FORMAT.md).
//
// A shard's directory holds segments named <first_counter, 20 digits>.seg
// and, beside each sealed one, its persisted index <first_counter>.idx.
// Appends go to the last (active) segment, which rolls once it reaches
// Options::segment_bytes or its first record is Options::segment_max_age_ms
// old. Each segment has a sparse index (an entry every ~4 KiB: counter,
// arrival time, offset); record bytes are read back with positional reads,
// never kept on the heap.
//
// Two modes:
//
// * In a store (Options::store set: log_store.h). Every append is written
//   to the store's write-ahead log, then to the segment; Sync() waits for
//   the WAL (one fdatasync for every shard's appends). Segment files are
//   synced by the store's checkpoints, which also record every segment's
//   summary in the recovery point. Open reads nothing: the log's segments
//   come from the recovery point (or from a scan of its files when the
//   store has none, or with StoreOptions::verify_on_open). A segment's file
//   is opened, its header checked and its index loaded (from the .idx file,
//   rebuilt by a scan when missing or damaged) on first read; files are
//   held in the store's FileCache, so descriptors stay bounded. A shard
//   that never held a record has no files at all. After a crash the store
//   replays the WAL into its logs (Replay*).
//
// * Standalone (no store; tools and tests): as segment format 1 always
//   worked. Open scans every segment; Sync() fdatasyncs the active segment
//   (group commit per log).
//
// Recovery by scan: every segment is scanned and checksummed. A torn tail
// of the last segment (a partial or mismatching final record, as a crash
// leaves it) is truncated and reported. A bad record anywhere else is
// corruption: it is reported, the segment is readable up to it, and reads
// of the range after it fail with DataLoss (ErrorType::kCorruption); it is
// never returned as data.
//
// Thread safety: like every ShardLog, calls are serialized by the owning
// shard's mutex, except Sync(), which is called without it and is safe
// concurrently with everything (group commit). In a store, the
// checkpointer reads the log's summary concurrently (under the log's own
// mutex).
#ifndef TRIBUTARY_LIB_LOG_DISK_LOG_H_
#define TRIBUTARY_LIB_LOG_DISK_LOG_H_

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "log/file_cache.h"
#include "log/metadata.h"
#include "log/shard_log.h"
#include "tributary/env.h"
#include "util/mutex.h"

namespace tributary::log {

class LogStore;

struct RecoveryReport {
  uint64_t segments = 0;  // segments the logs hold after open
  uint64_t records = 0;   // records they hold
  uint64_t truncated_bytes = 0;  // torn tails removed (segments, or the WAL's)
  std::vector<std::string> problems;  // human-readable, one per finding
  // How the open went: from a recovery point (reading metadata only) or by
  // scanning segments; what it read to get there.
  bool from_recovery_point = false;
  uint64_t segments_scanned = 0;
  uint64_t bytes_scanned = 0;
  uint64_t wal_files = 0;          // write-ahead log files replayed
  uint64_t wal_bytes = 0;          // their bytes
  uint64_t records_replayed = 0;   // records applied from them to segments
};

class DiskShardLog final : public ShardLog {
 public:
  struct Options {
    Env* env = nullptr;
    std::string dir;  // the shard's directory (created when the first record is appended)
    uint32_t shard_index = 0;
    uint64_t start_counter = 0;  // first counter of a brand-new log
    // Counters below this may have been handed out (the store's persisted
    // reservation): a segment started at open begins at or above it, so a
    // damaged range keeps its counters.
    uint64_t min_next_counter = 0;
    uint64_t segment_bytes = 64 << 20;
    // Also roll once the active segment's first record is this old (by the
    // arrival time of the record being appended). 0: size only.
    int64_t segment_max_age_ms = 0;
    // The store this log belongs to (WAL, file cache, recovery point), or
    // null for a standalone log. Not owned; outlives the log.
    LogStore* store = nullptr;
    // With `store`: the log's identity in the WAL and the recovery point is
    // (incarnation, shard_index); unique over the store's life.
    uint64_t incarnation = 0;
    // With `store`: a brand-new shard's log. Its directory and first
    // (empty) segment are created now, without a sync (nothing in them
    // needs one until a record arrives); anything already there was never
    // acknowledged (a reshard that never committed) and is removed.
    bool create = false;
  };

  // Opens (recovering) or creates the log (see the modes above). `report`
  // may be null.
  static absl::StatusOr<std::unique_ptr<DiskShardLog>> Open(const Options& options,
                                                            RecoveryReport* report);
  ~DiskShardLog() override;

  absl::Status Append(absl::Span<const AppendRecord> records) override;
  absl::StatusOr<uint64_t> Read(uint64_t from_counter, int64_t min_arrival_ms,
                                ReadLimits limits, uint32_t shard_index,
                                std::vector<Record>* out) const override;
  absl::StatusOr<std::optional<Position>> FirstAtOrAfter(uint64_t from_counter,
                                                         int64_t min_arrival_ms) const override;
  absl::StatusOr<std::optional<uint64_t>> SeekTimestamp(int64_t t_ms) const override;
  uint64_t CountAtOrAfter(uint64_t from_counter, int64_t min_arrival_ms) const override;
  void TrimBefore(int64_t cutoff_ms) override;
  std::optional<int64_t> oldest_arrival_ms() const override;
  std::optional<int64_t> newest_arrival_ms() const override;
  uint64_t record_count() const override;
  uint64_t byte_count() const override;
  uint64_t DurabilityToken() const override;
  absl::Status Sync(uint64_t token) override;
  uint64_t RecoveredNextCounter() const override { return next_counter_; }
  absl::Status Destroy() override;

  // Checks every record's checksum and framing; appends findings to `report`.
  absl::Status Verify(RecoveryReport* report) const;
  uint64_t segment_count() const { return segments_.size(); }

  // ---- for the LogStore (log_store.cc)

  uint64_t incarnation() const { return options_.incarnation; }
  uint32_t shard_index() const { return options_.shard_index; }
  // What a checkpoint must make durable for this log, captured atomically
  // with its summary (under the log's mutex).
  struct SyncWork {
    DiskShardLog* log = nullptr;
    // Segment files to fdatasync: the active one (through its cached handle
    // when it has one) and segments sealed since the last checkpoint.
    std::shared_ptr<FileCache::Value> active_writer;  // may be null
    std::vector<std::string> files;
    std::set<std::string>* dirs = nullptr;  // directories to fsync (shared)
    uint64_t active_first = 0, active_size = 0;  // to record once synced
  };
  // Appends this log's entry to the recovery point being built and what
  // must be synced before it is written. Returns false if the log has no
  // segment (nothing to record). An error if the log failed (the
  // checkpoint must not record it).
  absl::StatusOr<bool> Capture(RecoveryPoint::Log* entry, SyncWork* work);
  // Makes a capture's files durable (any thread; the log may be gone).
  static absl::Status SyncCaptured(Env* env, const SyncWork& work);
  // The capture's files were synced: the active segment is durable up to
  // `size` (if it is still segment `first`).
  void MarkSynced(uint64_t first, uint64_t size);
  // Replays records from a WAL frame (the frames exactly as appended):
  // those with counters above what the log holds are appended to its
  // segments. `after_damage`: the WAL was damaged before this frame, so
  // records between the log's last one and this frame's may be lost: the
  // range in between is marked damaged (reads of it fail) and the records
  // go to a new segment.
  absl::Status Replay(std::string_view frames, uint32_t count, bool after_damage,
                      uint64_t* replayed);
  // After replay: frame bytes that were past the recovery point but are not
  // in the WAL (a torn or failed write, never acknowledged), dropped; and
  // the counts reset.
  uint64_t TakeUnreplayedBytes();
  // Writes the active segment's index file (at a clean shutdown, so the
  // next open finds it). REQUIRES: no concurrent call on the log.
  void WriteActiveIndex();

 private:
  struct Segment {
    SegmentSummary meta;
    FileCache::Slot reader;  // its SegmentReader, while open
  };
  struct SegmentReader;  // disk_log.cc
  struct SegmentWriter;

  explicit DiskShardLog(const Options& options);
  bool in_store() const { return options_.store != nullptr; }
  absl::Status Load(RecoveryReport* report);
  absl::Status LoadFromSummaries(const std::vector<SegmentSummary>& segments,
                                 RecoveryReport* report);
  // Scans segment `seg` (all of it), filling its summary and `index`. Every
  // record's counter must be below `counter_limit` (the next segment's
  // first counter; ~0 for the last segment). `drop`: a torn, empty header.
  absl::Status ScanSegment(Segment* seg, const RandomAccessFile& file, bool is_last,
                           uint64_t counter_limit, std::vector<IndexEntry>* index, bool* drop,
                           RecoveryReport* report);
  // Why a checksum-valid record cannot follow what `seg` holds so far (its
  // counter is not above the previous one, is below the segment's first
  // counter, or is not below `limit`: the next segment's first counter, or
  // ~0, which is never issued), or "" if it can. Arrival times are not
  // checked: appends only promise they do not decrease, and reads tolerate
  // it if they do.
  static std::string OutOfOrder(const SegmentSummary& seg, uint64_t counter, uint64_t limit);

  // The open file and index of segment `i` (opened, header checked and
  // index loaded or rebuilt as needed). A segment whose header is bad, or
  // whose rebuild found damage, gets corrupt_at set.
  absl::StatusOr<std::shared_ptr<SegmentReader>> ReaderFor(size_t i) const;
  absl::Status LoadIndex(size_t i, SegmentReader* r) const;
  // The active segment's appendable handle, opening (and, the first time,
  // reconciling the directory with what the log knows) as needed; starts
  // the first segment of an empty log.
  absl::StatusOr<std::shared_ptr<SegmentWriter>> Writer();
  absl::Status Reconcile();
  absl::Status StartSegment(uint64_t first_counter);
  absl::Status RollIfFull(int64_t next_arrival_ms);
  // Appends encoded frames (`bytes`, described by `placed`) to the active
  // segment.
  struct Placed {
    uint64_t counter;
    int64_t arrival_ms;
    uint64_t data_bytes;
    uint64_t frame_size;
  };
  absl::Status WriteFrames(SegmentWriter* w, std::string_view bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records them in the summary and index: visible from now on.
  void CommitFrames(uint64_t bytes, const std::vector<Placed>& placed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteIndexFile(const Segment& seg, const std::vector<IndexEntry>& index) const;
  void SetCorrupt(const Segment& seg, uint64_t offset) const;
  void Fail(const absl::Status& s) ABSL_LOCKS_EXCLUDED(mu_);
  void FailLocked(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status error() const;

  std::string SegmentPath(uint64_t first_counter) const;
  std::string IndexPath(uint64_t first_counter) const;
  absl::Status CorruptionAt(const Segment& seg, uint64_t offset, std::string_view why) const;

  // Standalone logs only: their own (unbounded) file cache and their group
  // commit. Kept apart so that a store's many logs do not carry them.
  struct Standalone {
    FileCache cache;
    // Total bytes appended by this instance: the sync token.
    std::atomic<uint64_t> appended_bytes{0};
    // One thread syncs the active file, the others wait for it.
    util::Mutex sync_mu;
    util::CondVar sync_cv;
    bool syncing ABSL_GUARDED_BY(sync_mu) = false;
    uint64_t synced_bytes ABSL_GUARDED_BY(sync_mu) = 0;
    Standalone();
  };

  const Options options_;
  const std::unique_ptr<Standalone> standalone_;
  FileCache* const cache_;

  // Written with the owning shard's mutex and mu_ both held; read with
  // either (the checkpointer holds only mu_, reads only the summaries).
  std::vector<std::unique_ptr<Segment>> segments_;  // by first_counter
  // Owned by the shard's mutex.
  mutable FileCache::Slot writer_slot_;       // the active segment's appendable file
  mutable std::vector<IndexEntry> active_index_;  // valid when active_index_valid_
  mutable bool active_index_valid_ = false;
  mutable uint64_t last_indexed_offset_ = 0;
  uint64_t next_counter_ = 0;
  bool reconciled_ = false;
  uint64_t active_index_file_size_ = 0;  // the active segment's size when its .idx was written
  uint64_t last_lsn_ = 0;  // in a store: the WAL position after our last append
  // Recovery's accounting: frame bytes found past the recovery point and
  // dropped (Reconcile, or emptying a directory), and frame bytes replayed.
  uint64_t dropped_bytes_ = 0;
  uint64_t replayed_bytes_ = 0;

  // The checkpointer's view (see Capture), and the sticky failure.
  mutable util::Mutex mu_;
  uint64_t active_synced_ ABSL_GUARDED_BY(mu_) = 0;  // bytes of the active segment known durable
  std::vector<uint64_t> unsynced_sealed_ ABSL_GUARDED_BY(mu_);
  bool dir_dirty_ ABSL_GUARDED_BY(mu_) = false;      // entries created or removed in dir
  bool parents_dirty_ ABSL_GUARDED_BY(mu_) = false;  // the dir itself is new
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> failed_{false};

};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_DISK_LOG_H_
