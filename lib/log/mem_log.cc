#include "log/mem_log.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tributary::log {

ChunkPool::~ChunkPool() {
  for (char* c : free_) std::free(c);
}

char* ChunkPool::Get() {
  util::MutexLock l(&mu_);
  if (free_.empty()) return nullptr;
  char* c = free_.back();
  free_.pop_back();
  return c;
}

void ChunkPool::Put(char* chunk) {
  if (chunk == nullptr) return;
  {
    util::MutexLock l(&mu_);
    if (free_.size() < max_chunks_) {
      free_.push_back(chunk);
      return;
    }
  }
  std::free(chunk);
}

MemShardLog::~MemShardLog() {
  while (!chunks_.empty()) {
    Release(chunks_.front());
    chunks_.pop_front();
  }
}

void MemShardLog::Release(Chunk& c) {
  if (c.buf == nullptr) return;
  if (pool_ != nullptr && c.capacity == kChunkSize) {
    pool_->Put(c.buf);
  } else {
    std::free(c.buf);
  }
  c.buf = nullptr;
}

void MemShardLog::PushBack(const Entry& e) {
  size_t j = head_ + count_;
  if (j / kEntriesPerBlock >= blocks_.size()) {
    blocks_.push_back(std::unique_ptr<Entry[]>(new Entry[kEntriesPerBlock]));
  }
  blocks_[j / kEntriesPerBlock][j % kEntriesPerBlock] = e;
  ++count_;
}

void MemShardLog::PopFront() {
  ++head_;
  --count_;
  if (head_ == kEntriesPerBlock) {
    blocks_.pop_front();
    head_ = 0;
  }
  if (count_ == 0 && blocks_.size() > 1) {
    blocks_.erase(blocks_.begin() + 1, blocks_.end());
  }
}

char* MemShardLog::Reserve(size_t n, uint64_t counter) {
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().used < n) {
    Chunk c;
    // A log starts with a small chunk so that many small shards do not each
    // pin 4 MiB; from the second chunk on it uses (pooled) full chunks.
    c.capacity = std::max(n, chunks_.empty() ? kFirstChunkSize : kChunkSize);
    c.buf = c.capacity == kChunkSize && pool_ != nullptr ? pool_->Get() : nullptr;
    if (c.buf == nullptr) c.buf = static_cast<char*>(std::malloc(c.capacity));
    if (c.buf == nullptr) std::abort();
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  char* p = c.buf + c.used;
  c.used += n;
  c.last_counter = counter;
  return p;
}

absl::Status MemShardLog::Append(absl::Span<const AppendRecord> records) {
  for (const AppendRecord& r : records) {
    size_t n = r.partition_key.size() + r.data.size();
    char* p = Reserve(n, r.counter);
    if (!r.partition_key.empty()) std::memcpy(p, r.partition_key.data(), r.partition_key.size());
    if (!r.data.empty()) std::memcpy(p + r.partition_key.size(), r.data.data(), r.data.size());
    PushBack(Entry{r.counter, r.arrival_ms, p,
                             static_cast<uint32_t>(r.partition_key.size()),
                             static_cast<uint32_t>(r.data.size())});
    bytes_ += n;
  }
  return absl::OkStatus();
}

size_t MemShardLog::LowerBound(uint64_t c) const {
  size_t lo = 0, hi = count_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).counter < c) lo = mid + 1; else hi = mid;
  }
  return lo;
}

size_t MemShardLog::LowerBoundTime(int64_t t) const {
  size_t lo = 0, hi = count_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).arrival_ms < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

absl::StatusOr<uint64_t> MemShardLog::Read(uint64_t from_counter, int64_t min_arrival_ms,
                                           ReadLimits limits, uint32_t shard_index,
                                           std::vector<Record>* out) const {
  size_t i = std::max(LowerBound(from_counter), LowerBoundTime(min_arrival_ms));
  size_t bytes = 0;
  size_t taken = 0;
  for (; i < size() && taken < limits.max_records; ++i) {
    const Entry& e = at(i);
    size_t n = e.key_len + e.data_len;
    if (taken > 0 && bytes + n > limits.max_bytes) break;
    Record r;
    r.sequence_number = SequenceNumber::FromParts(e.counter, shard_index);
    r.approximate_arrival_timestamp = absl::FromUnixMillis(e.arrival_ms);
    r.partition_key.assign(e.bytes, e.key_len);
    r.data.assign(e.bytes + e.key_len, e.data_len);
    out->push_back(std::move(r));
    bytes += n;
    ++taken;
  }
  if (i < size()) return at(i).counter;
  // Past the last record: continue after it (or where the caller was).
  if (!(count_ == 0)) return std::max(from_counter, back().counter + 1);
  return from_counter;
}

std::optional<ShardLog::Position> MemShardLog::FirstAtOrAfter(uint64_t from_counter,
                                                              int64_t min_arrival_ms) const {
  size_t i = std::max(LowerBound(from_counter), LowerBoundTime(min_arrival_ms));
  if (i >= size()) return std::nullopt;
  return Position{at(i).counter, at(i).arrival_ms};
}

std::optional<uint64_t> MemShardLog::SeekTimestamp(int64_t t_ms) const {
  size_t i = LowerBoundTime(t_ms);
  if (i >= size()) return std::nullopt;
  return at(i).counter;
}

void MemShardLog::TrimBefore(int64_t cutoff_ms) {
  while (!(count_ == 0) && front().arrival_ms < cutoff_ms) {
    bytes_ -= front().key_len + front().data_len;
    PopFront();
  }
  // A chunk can go once every record in it is gone; the last chunk stays for
  // appends unless the log is empty.
  while (!chunks_.empty() &&
         ((count_ == 0) ? chunks_.size() > 0 : chunks_.front().last_counter < front().counter)) {
    if ((count_ == 0) && chunks_.size() == 1) {
      chunks_.front().used = 0;  // reuse the last chunk
      break;
    }
    Release(chunks_.front());
    chunks_.pop_front();
  }
}

std::optional<int64_t> MemShardLog::oldest_arrival_ms() const {
  if ((count_ == 0)) return std::nullopt;
  return front().arrival_ms;
}

}  // namespace tributary::log
