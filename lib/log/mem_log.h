// MemShardLog: a ShardLog in memory.
//
// Record bytes (partition key then data) are packed into large chunks, so an
// append costs a memcpy and a 32-byte index entry, not an allocation per
// record. Trimming pops expired index entries from the front and frees the
// chunks that no live record points into.
#ifndef TRIBUTARY_LIB_LOG_MEM_LOG_H_
#define TRIBUTARY_LIB_LOG_MEM_LOG_H_

#include <deque>
#include <memory>

#include "log/shard_log.h"

namespace tributary::log {

class MemShardLog final : public ShardLog {
 public:
  // Chunk size for packing records; a record larger than this gets a chunk
  // of its own.
  static constexpr size_t kChunkSize = 4 << 20;

  MemShardLog() = default;

  absl::Status Append(absl::Span<const AppendRecord> records) override;
  absl::StatusOr<uint64_t> Read(uint64_t from_counter, int64_t min_arrival_ms,
                                ReadLimits limits, uint32_t shard_index,
                                std::vector<Record>* out) const override;
  std::optional<Position> FirstAtOrAfter(uint64_t from_counter,
                                         int64_t min_arrival_ms) const override;
  std::optional<uint64_t> SeekTimestamp(int64_t t_ms) const override;
  void TrimBefore(int64_t cutoff_ms) override;
  std::optional<int64_t> oldest_arrival_ms() const override;
  uint64_t record_count() const override { return entries_.size(); }
  uint64_t byte_count() const override { return bytes_; }

 private:
  struct Entry {
    uint64_t counter;
    int64_t arrival_ms;
    const char* bytes;  // partition key, then data
    uint32_t key_len;
    uint32_t data_len;
  };
  struct Chunk {
    std::unique_ptr<char[]> buf;
    size_t capacity = 0;
    size_t used = 0;
    uint64_t last_counter = 0;  // of the last record stored in it
  };

  char* Reserve(size_t n, uint64_t counter);
  // Index of the first entry with counter >= c (entries_.size() if none).
  size_t LowerBound(uint64_t c) const;
  // Index of the first entry with arrival_ms >= t.
  size_t LowerBoundTime(int64_t t) const;

  std::deque<Entry> entries_;
  std::deque<Chunk> chunks_;
  uint64_t bytes_ = 0;
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_MEM_LOG_H_
