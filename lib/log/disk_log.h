// DiskShardLog: a ShardLog in segment files on an Env (format: docs/FORMAT.md).
//
// A shard's directory holds segments named <first_counter, 20 digits>.seg.
// Appends go to the last (active) segment, which rolls once it reaches
// Options::segment_bytes or its first record is Options::segment_max_age_ms old. Each segment keeps a sparse in-memory index
// (an entry every ~4 KiB: counter, arrival time, offset) rebuilt by scanning
// the segment when the log is opened, so memory stays small as data grows:
// record bytes are read back with positional reads, never kept on the heap.
//
// Recovery (Open): every segment is scanned and checksummed. A torn tail of
// the last segment (a partial or mismatching final record, as a crash leaves
// it) is truncated and reported. A bad record anywhere else is corruption:
// it is reported, the segment is readable up to it, and reads of the range
// after it fail with DataLoss (ErrorType::kCorruption); it is never returned
// as data.
//
// Thread safety: like every ShardLog, calls are serialized by the owning
// shard's mutex, except Sync(), which is called without it and is safe
// concurrently with everything (group commit).
#ifndef TRIBUTARY_LIB_LOG_DISK_LOG_H_
#define TRIBUTARY_LIB_LOG_DISK_LOG_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "util/mutex.h"
#include "log/shard_log.h"
#include "tributary/env.h"

namespace tributary::log {

struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t truncated_bytes = 0;  // torn tail removed from the last segment
  std::vector<std::string> problems;  // human-readable, one per finding
};

class DiskShardLog final : public ShardLog {
 public:
  struct Options {
    Env* env = nullptr;
    std::string dir;  // the shard's directory (created if missing)
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
  };

  // Opens (recovering) or creates the log in options.dir. `report` may be null.
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
  uint64_t DurabilityToken() const override {
    return appended_bytes_.load(std::memory_order_acquire);
  }
  absl::Status Sync(uint64_t token) override;
  uint64_t RecoveredNextCounter() const override { return next_counter_; }
  absl::Status Destroy() override;

  // Checks every record's checksum and framing; appends findings to `report`.
  absl::Status Verify(RecoveryReport* report) const;
  uint64_t segment_count() const { return segments_.size(); }

 private:
  struct IndexEntry {
    uint64_t counter;
    int64_t arrival_ms;
    uint64_t offset;
  };
  struct Segment {
    uint64_t first_counter = 0;
    std::string path;
    std::unique_ptr<RandomAccessFile> file;
    uint64_t size = 0;          // bytes of valid data (header + whole records)
    uint64_t records = 0;
    uint64_t data_bytes = 0;    // key + data bytes
    uint64_t last_counter = 0;  // valid when records > 0
    int64_t first_arrival_ms = 0;
    int64_t last_arrival_ms = 0;
    std::vector<IndexEntry> index;
    // Set when a bad record was found before `size`'s natural end: reads
    // past `corrupt_at` fail.
    std::optional<uint64_t> corrupt_at;
    uint64_t last_indexed_offset = 0;
    bool drop = false;  // torn and empty: removed at open
  };
  // One decoded record (views into a read buffer).
  struct Decoded {
    uint64_t counter;
    int64_t arrival_ms;
    std::string_view key;
    std::string_view data;
    uint64_t frame_size;
  };

  explicit DiskShardLog(const Options& options) : options_(options) {}
  absl::Status Load(RecoveryReport* report);
  // Every record's counter must be below `counter_limit` (the next
  // segment's first counter; ~0 for the last segment).
  absl::Status ScanSegment(Segment* seg, bool is_last, uint64_t counter_limit,
                           RecoveryReport* report);
  // Why a checksum-valid record cannot follow what `seg` holds so far (its
  // counter is not above the previous one, is below the segment's first
  // counter, or is not below `limit`: the next segment's first counter, or
  // ~0, which is never issued), or "" if it can. Arrival times are not
  // checked: appends only promise they do not decrease, and reads tolerate
  // it if they do.
  static std::string OutOfOrder(const Segment& seg, uint64_t counter, uint64_t limit);
  // Whether an intact record frame starts anywhere in [from, file_size).
  bool ValidFrameAfter(const Segment& seg, uint64_t from, uint64_t file_size) const;
  absl::Status StartSegment(uint64_t first_counter);
  absl::Status RollIfFull(int64_t next_arrival_ms);
  void IndexRecord(Segment* seg, const Decoded& r, uint64_t offset);
  std::string SegmentPath(uint64_t first_counter) const;
  // Decodes the record at `offset` of `seg`, reading into `buf`. NotFound-ish
  // (nullopt with OK) at the end of valid data.
  absl::StatusOr<std::optional<Decoded>> DecodeAt(const Segment& seg, uint64_t offset,
                                                  std::string* buf) const;
  absl::Status CorruptionAt(const Segment& seg, uint64_t offset, std::string_view why) const;

  const Options options_;
  std::vector<std::unique_ptr<Segment>> segments_;  // by first_counter
  std::unique_ptr<WritableFile> active_;            // appends go here (segments_.back())
  uint64_t next_counter_ = 0;
  std::string encode_buf_;
  // Total bytes appended by this instance: the sync token. Written under
  // the shard's lock, read by Sync() under sync_mu_.
  std::atomic<uint64_t> appended_bytes_{0};

  // Group commit: one thread syncs, the others wait for it.
  util::Mutex sync_mu_;
  util::CondVar sync_cv_;
  bool syncing_ ABSL_GUARDED_BY(sync_mu_) = false;
  uint64_t synced_bytes_ ABSL_GUARDED_BY(sync_mu_) = 0;
  absl::Status sync_error_ ABSL_GUARDED_BY(sync_mu_);
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_DISK_LOG_H_
