// MemShardLog: a ShardLog in memory.
//
// Record bytes (partition key then data) are packed into chunks, so an
// append costs a memcpy and a 32-byte index entry, not an allocation per
// record. A log's chunks grow geometrically (64 KiB, 256 KiB, 1 MiB, then
// 4 MiB), so a stream with many nearly empty shards stays small. Trimming
// pops expired index entries from the front and gives back the chunks no
// live record points into.
#ifndef TRIBUTARY_LIB_LOG_MEM_LOG_H_
#define TRIBUTARY_LIB_LOG_MEM_LOG_H_

#include <array>
#include <deque>
#include <memory>
#include <vector>

#include "log/shard_log.h"
#include "util/mutex.h"

namespace tributary::log {

// Free memory blocks shared by the logs of one store, in a few size classes
// (powers of two from 64 KiB to 4 MiB). Memory that a trimmed or deleted log
// gives back is kept, up to a byte cap, and handed to the next append instead
// of going back to the kernel: on this class of VM a first-touch page fault
// costs ~2 us, about 45 ns per 100-byte record, more than the rest of Put.
// Blocks of other sizes bypass the pool. Thread-safe.
class ChunkPool {
 public:
  explicit ChunkPool(size_t max_bytes) : max_bytes_(max_bytes) {}
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // A block of exactly `size` bytes (pooled or new). Never null.
  char* Get(size_t size) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes back a block from Get(size); keeps it or frees it.
  void Put(char* block, size_t size) ABSL_LOCKS_EXCLUDED(mu_);

  static constexpr size_t kMinClass = 64 << 10;
  static constexpr size_t kMaxClass = 4 << 20;

 private:
  static int ClassOf(size_t size);  // -1 if not a pooled size
  static constexpr int kClasses = 7;  // 64K .. 4M

  const size_t max_bytes_;
  util::Mutex mu_;
  size_t pooled_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::array<std::vector<char*>, kClasses> free_ ABSL_GUARDED_BY(mu_);
};

// Cache-line aligned: the state an append touches is the object's first
// line (with the vtable pointer), so appends spread over many shards cost
// one line of log state per shard.
class alignas(64) MemShardLog final : public ShardLog {
 public:
  static constexpr size_t kFirstChunkSize = 64 << 10;
  static constexpr size_t kMaxChunkSize = 4 << 20;
  static constexpr size_t kEntriesPerBlock = 4096;  // 128 KiB index blocks

  // `pool` supplies and takes back memory; it must outlive the log.
  // REQUIRES: pool != nullptr.
  explicit MemShardLog(ChunkPool* pool) : pool_(pool) {}
  ~MemShardLog() override;
  MemShardLog(const MemShardLog&) = delete;
  MemShardLog& operator=(const MemShardLog&) = delete;

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
  std::optional<int64_t> newest_arrival_ms() const override {
    if (count_ == 0) return std::nullopt;
    return back().arrival_ms;
  }
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
    char* buf = nullptr;  // owned (from pool_)
    size_t capacity = 0;
    uint64_t last_counter = 0;  // of the last record stored in it
  };

  // Room for n bytes in the tail chunk, starting a new chunk if needed.
  char* Reserve(size_t n, uint64_t counter);
  void PushBack(const Entry& e);
  void PopFront();
  size_t size() const { return count_; }
  const Entry& at(size_t i) const {
    size_t j = head_ + i;
    return blocks_[j / kEntriesPerBlock][j % kEntriesPerBlock];
  }
  const Entry& front() const { return at(0); }
  const Entry& back() const { return at(count_ - 1); }
  // First index with counter >= c / arrival_ms >= t (size() if none).
  size_t LowerBound(uint64_t c) const;
  size_t LowerBoundTime(int64_t t) const;

  // Hot append state, first (one cache line with the vtable pointer): the
  // free tail of chunks_.back(), the next free index slot in blocks_.back()
  // and the end of that block, the tail chunk itself, the counts.
  char* tail_ = nullptr;
  size_t tail_left_ = 0;
  Entry* next_slot_ = nullptr;  // == block_end_: the next entry needs a new block
  Entry* block_end_ = nullptr;
  Chunk* tail_chunk_ = nullptr;  // &chunks_.back() (deque: stable)
  size_t count_ = 0;  // live entries
  uint64_t bytes_ = 0;

  ChunkPool* const pool_;
  // The index: a deque of fixed blocks of entries. Entry i is at
  // blocks_[(head_ + i) / kEntriesPerBlock][(head_ + i) % kEntriesPerBlock].
  std::deque<Entry*> blocks_;
  size_t head_ = 0;   // index of the first live entry in blocks_[0]
  std::deque<Chunk> chunks_;
  size_t next_chunk_size_ = kFirstChunkSize;
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_MEM_LOG_H_
