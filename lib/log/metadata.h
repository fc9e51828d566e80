// The durable store's metadata files about segments (docs/FORMAT.md):
// persisted segment indexes (<first counter>.idx beside each sealed
// segment) and the recovery point (RECOVERY), with their encoders and
// checked decoders. Both are derived data: a damaged index is rebuilt from
// its segment, a damaged recovery point makes the next open scan every
// segment; neither is ever trusted without its checksum.
#ifndef TRIBUTARY_LIB_LOG_METADATA_H_
#define TRIBUTARY_LIB_LOG_METADATA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "log/format.h"

namespace tributary::log {

// One sparse index entry: the record at `offset` of its segment.
struct IndexEntry {
  uint64_t counter;
  int64_t arrival_ms;
  uint64_t offset;
};

// What a reopen needs to know about a segment without reading it.
struct SegmentSummary {
  uint64_t first_counter = 0;
  uint64_t size = 0;        // bytes of valid data (header + whole records)
  uint64_t records = 0;
  uint64_t data_bytes = 0;  // key + data bytes
  uint64_t last_counter = 0;  // valid when records > 0
  int64_t first_arrival_ms = 0;
  int64_t last_arrival_ms = 0;
  uint64_t corrupt_at = kNoCorruption;  // reads at or past this offset fail
};

// ---- segment index files

std::string EncodeSegmentIndex(uint32_t shard_index, const SegmentSummary& segment,
                               const std::vector<IndexEntry>& entries);
// The entries of an index file, if its checksums hold and it describes
// exactly `segment` (shard, first counter, size, records, data bytes) with
// entries that are in order and inside the segment. Otherwise DataLoss
// saying why (the caller rebuilds the index from the segment).
absl::StatusOr<std::vector<IndexEntry>> DecodeSegmentIndex(std::string_view file,
                                                           uint32_t shard_index,
                                                           const SegmentSummary& segment);

// ---- the recovery point

struct RecoveryPoint {
  uint32_t flags = 0;      // kRecoveryFlagClean
  uint64_t wal_start = 0;  // WAL files numbered below this are applied
  struct Log {
    uint64_t incarnation = 0;
    uint32_t shard_index = 0;
    std::vector<SegmentSummary> segments;  // in counter order
  };
  std::vector<Log> logs;
};

std::string EncodeRecoveryPoint(const RecoveryPoint& rp);
// DataLoss (saying why) unless the file is whole, checksummed and sane.
absl::StatusOr<RecoveryPoint> DecodeRecoveryPoint(std::string_view file);

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_METADATA_H_
