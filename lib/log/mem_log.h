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
#include <vector>

#include "util/mutex.h"

#include "log/shard_log.h"

namespace tributary::log {

// Free kChunkSize chunks shared by the logs of one store. Memory a trimmed or
// deleted log gives back is kept (up to a cap) and handed to the next append
// instead of going back to the kernel: on this class of VM a first-touch
// page fault costs ~2 us, i.e. ~45 ns per 100-byte record, more than the
// rest of Put. Thread-safe.
class ChunkPool {
 public:
  explicit ChunkPool(size_t max_bytes) : max_chunks_(max_bytes / (4 << 20)) {}
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  char* Get();            // a free chunk or nullptr
  void Put(char* chunk);  // keeps it, or frees it when the pool is full

 private:
  const size_t max_chunks_;
  util::Mutex mu_;
  std::vector<char*> free_ ABSL_GUARDED_BY(mu_);
};

class MemShardLog final : public ShardLog {
 public:
  // Chunk size for packing records; a record larger than this gets a chunk
  // of its own (never pooled).
  static constexpr size_t kChunkSize = 4 << 20;
  static constexpr size_t kFirstChunkSize = 256 << 10;
  static constexpr size_t kEntriesPerBlock = 4096;

  // `pool` (may be null) supplies and takes back chunks; it must outlive the log.
  explicit MemShardLog(ChunkPool* pool = nullptr) : pool_(pool) {}
  ~MemShardLog() override;

  absl::Status Append(absl::Span<const AppendRecord> records) override;
  absl::StatusOr<uint64_t> Read(uint64_t from_counter, int64_t min_arrival_ms,
                                ReadLimits limits, uint32_t shard_index,
                                std::vector<Record>* out) const override;
  std::optional<Position> FirstAtOrAfter(uint64_t from_counter,
                                         int64_t min_arrival_ms) const override;
  std::optional<uint64_t> SeekTimestamp(int64_t t_ms) const override;
  void TrimBefore(int64_t cutoff_ms) override;
  std::optional<int64_t> oldest_arrival_ms() const override;
  uint64_t record_count() const override { return count_; }
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
    char* buf = nullptr;  // owned; kChunkSize chunks go back to pool_
    size_t capacity = 0;
    size_t used = 0;
    uint64_t last_counter = 0;  // of the last record stored in it
  };

  char* Reserve(size_t n, uint64_t counter);
  void Release(Chunk& c);
  // Index of the first entry with counter >= c (entries_.size() if none).
  size_t LowerBound(uint64_t c) const;
  // Index of the first entry with arrival_ms >= t.
  size_t LowerBoundTime(int64_t t) const;

  // The index: a deque of fixed blocks of entries (std::deque would allocate
  // every 16 entries). Entry i lives at blocks_[(head_ + i) / kEntriesPerBlock].
  size_t size() const { return count_; }
  const Entry& at(size_t i) const {
    size_t j = head_ + i;
    return blocks_[j / kEntriesPerBlock][j % kEntriesPerBlock];
  }
  const Entry& front() const { return at(0); }
  const Entry& back() const { return at(count_ - 1); }
  void PushBack(const Entry& e);
  void PopFront();

  std::deque<std::unique_ptr<Entry[]>> blocks_;
  size_t head_ = 0;   // index of the first live entry in blocks_[0]
  size_t count_ = 0;  // live entries
  std::deque<Chunk> chunks_;
  uint64_t bytes_ = 0;
  ChunkPool* const pool_;
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_MEM_LOG_H_
