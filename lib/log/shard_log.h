// ShardLog: the storage seam under a shard.
//
// A shard's records live in a ShardLog. The in-memory store uses MemShardLog
// (mem_log.h); the durable store (docs/FORMAT.md, issue "durable storage")
// provides a segmented on-disk implementation of the same interface, so the
// stream layer and the public API do not change with the backend.
//
// Records are addressed by their shard-local `counter` (the sequence number's
// counter part): strictly increasing in append order, not necessarily dense.
// Arrival times are milliseconds since the Unix epoch and never decrease
// within a log.
//
// Thread safety: none. The owning shard serializes every call with its mutex.
#ifndef TRIBUTARY_LIB_LOG_SHARD_LOG_H_
#define TRIBUTARY_LIB_LOG_SHARD_LOG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "tributary/store.h"

namespace tributary::log {

struct AppendRecord {
  uint64_t counter = 0;
  int64_t arrival_ms = 0;
  std::string_view partition_key;
  std::string_view data;
};

struct ReadLimits {
  size_t max_records = 0;
  size_t max_bytes = 0;  // data + partition key; at least one record is returned
};

class ShardLog {
 public:
  virtual ~ShardLog() = default;

  // Appends `records` in order.
  // REQUIRES: counters strictly increase and exceed every counter appended
  // before; arrival_ms does not decrease.
  virtual absl::Status Append(absl::Span<const AppendRecord> records) = 0;

  // Appends to `out` the records with counter >= `from_counter` and
  // arrival_ms >= `min_arrival_ms` (older ones are expired and skipped), in
  // order, within `limits`. Sequence numbers are built with `shard_index`.
  // Returns the counter a following read should start from.
  virtual absl::StatusOr<uint64_t> Read(uint64_t from_counter, int64_t min_arrival_ms,
                                        ReadLimits limits, uint32_t shard_index,
                                        std::vector<Record>* out) const = 0;

  // The first record with counter >= from_counter and arrival_ms >= min_arrival_ms:
  // its counter and arrival time, or nullopt if there is none.
  struct Position {
    uint64_t counter;
    int64_t arrival_ms;
  };
  // An error (e.g. kCorruption) when the answer lies in a damaged range: a
  // caller must not take that for "no more records".
  virtual absl::StatusOr<std::optional<Position>> FirstAtOrAfter(uint64_t from_counter,
                                                                 int64_t min_arrival_ms) const = 0;

  // How many records have counter >= from_counter and arrival_ms >=
  // min_arrival_ms: what a reader at from_counter has still to read. Exact
  // in memory; a disk log counts whole segments exactly and estimates the
  // segment it starts in from counters (exact unless counters jump inside
  // it, e.g. after SequenceNumberForOrdering).
  virtual uint64_t CountAtOrAfter(uint64_t from_counter, int64_t min_arrival_ms) const = 0;

  // The counter of the first record with arrival_ms >= t, or nullopt if none.
  virtual absl::StatusOr<std::optional<uint64_t>> SeekTimestamp(int64_t t_ms) const = 0;

  // Releases records with arrival_ms < cutoff_ms. Reads already skip them;
  // this only gives the space back.
  virtual void TrimBefore(int64_t cutoff_ms) = 0;

  // Durability. Call DurabilityToken() (under the shard's lock) right after
  // an Append; Sync(token) (without the lock) returns once everything
  // appended up to that point is durable. Concurrent callers share one sync
  // (group commit). Logs that are not on disk return OK at once.
  virtual uint64_t DurabilityToken() const { return 0; }
  virtual absl::Status Sync(uint64_t /*token*/) { return absl::OkStatus(); }

  // The counter the next record must exceed-or-equal, as recovered from
  // storage (0 for a new or in-memory log).
  virtual uint64_t RecoveredNextCounter() const { return 0; }

  // Deletes the log's storage (stream deleted, shard expired).
  virtual absl::Status Destroy() { return absl::OkStatus(); }

  // Arrival time of the newest record held, or nullopt if empty.
  virtual std::optional<int64_t> newest_arrival_ms() const = 0;

  // Arrival time of the oldest record held, or nullopt if empty.
  virtual std::optional<int64_t> oldest_arrival_ms() const = 0;
  virtual uint64_t record_count() const = 0;  // records held (not yet trimmed)
  virtual uint64_t byte_count() const = 0;    // data + key bytes held
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_SHARD_LOG_H_
