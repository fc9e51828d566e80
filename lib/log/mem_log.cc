#include "log/mem_log.h"

#include <algorithm>
#include <cstring>

namespace tributary::log {

char* MemShardLog::Reserve(size_t n, uint64_t counter) {
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().used < n) {
    Chunk c;
    c.capacity = std::max(n, kChunkSize);
    c.buf.reset(new char[c.capacity]);
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  char* p = c.buf.get() + c.used;
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
    entries_.push_back(Entry{r.counter, r.arrival_ms, p,
                             static_cast<uint32_t>(r.partition_key.size()),
                             static_cast<uint32_t>(r.data.size())});
    bytes_ += n;
  }
  return absl::OkStatus();
}

size_t MemShardLog::LowerBound(uint64_t c) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), c,
                             [](const Entry& e, uint64_t v) { return e.counter < v; });
  return static_cast<size_t>(it - entries_.begin());
}

size_t MemShardLog::LowerBoundTime(int64_t t) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), t,
                             [](const Entry& e, int64_t v) { return e.arrival_ms < v; });
  return static_cast<size_t>(it - entries_.begin());
}

absl::StatusOr<uint64_t> MemShardLog::Read(uint64_t from_counter, int64_t min_arrival_ms,
                                           ReadLimits limits, uint32_t shard_index,
                                           std::vector<Record>* out) const {
  size_t i = std::max(LowerBound(from_counter), LowerBoundTime(min_arrival_ms));
  size_t bytes = 0;
  size_t taken = 0;
  for (; i < entries_.size() && taken < limits.max_records; ++i) {
    const Entry& e = entries_[i];
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
  if (i < entries_.size()) return entries_[i].counter;
  // Past the last record: continue after it (or where the caller was).
  if (!entries_.empty()) return std::max(from_counter, entries_.back().counter + 1);
  return from_counter;
}

std::optional<ShardLog::Position> MemShardLog::FirstAtOrAfter(uint64_t from_counter,
                                                              int64_t min_arrival_ms) const {
  size_t i = std::max(LowerBound(from_counter), LowerBoundTime(min_arrival_ms));
  if (i >= entries_.size()) return std::nullopt;
  return Position{entries_[i].counter, entries_[i].arrival_ms};
}

std::optional<uint64_t> MemShardLog::SeekTimestamp(int64_t t_ms) const {
  size_t i = LowerBoundTime(t_ms);
  if (i >= entries_.size()) return std::nullopt;
  return entries_[i].counter;
}

void MemShardLog::TrimBefore(int64_t cutoff_ms) {
  while (!entries_.empty() && entries_.front().arrival_ms < cutoff_ms) {
    bytes_ -= entries_.front().key_len + entries_.front().data_len;
    entries_.pop_front();
  }
  // A chunk can go once every record in it is gone; the last chunk stays for
  // appends unless the log is empty.
  while (!chunks_.empty() &&
         (entries_.empty() ? chunks_.size() > 0 : chunks_.front().last_counter < entries_.front().counter)) {
    if (entries_.empty() && chunks_.size() == 1) {
      chunks_.front().used = 0;  // reuse the last chunk
      break;
    }
    chunks_.pop_front();
  }
}

std::optional<int64_t> MemShardLog::oldest_arrival_ms() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front().arrival_ms;
}

}  // namespace tributary::log
