// RecordSource: where a job's records come from, behind a small seam.
//
// A job asks for "the next batch of worker i", acknowledges what it processed,
// and, at a checkpoint, commits positions. Positions are per shard: the last
// processed sequence number and whether the shard was read to its end
// (SHARD_END). A snapshot stores the positions next to the processors' state;
// restoring seeks the source to them, so the job sees exactly the records
// after the cut.
//
// Invariants every implementation keeps:
//   * a shard's records are delivered in sequence order, each once per Seek;
//   * a shard belongs to exactly one worker for the life of a Seek;
//   * a child shard is delivered only after every parent that is still
//     retained was acknowledged to its end (Ack with finished = true), so
//     per-key order holds across reshards whatever worker owned the parent.
//
// Implementation: ConsumerSource (consumer_source.h), over the ordered
// consumer. (Until the consumer landed, StoreSource read the stream through
// GetShardIterator/GetRecords directly; see the git history.)
//
// One thread at a time per source (the job serializes calls).
#ifndef TRIBUTARY_LIB_APPS_SOURCE_H_
#define TRIBUTARY_LIB_APPS_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tributary/processor.h"

namespace tributary::apps {

struct ShardPosition {
  std::string sequence_number;  // last processed record; empty: none yet
  bool finished = false;        // read to its end (SHARD_END)

  friend bool operator==(const ShardPosition& a, const ShardPosition& b) {
    return a.sequence_number == b.sequence_number && a.finished == b.finished;
  }
};

// By shard id. A shard that is absent starts at TRIM_HORIZON.
using Positions = std::map<std::string, ShardPosition>;

// Merges `update` into `into` (later positions win, finished stays finished).
void MergePositions(Positions* into, const Positions& update);

struct SourceBatch {
  std::vector<InputRecord> records;
  // The position of every shard this batch advanced (including shards that
  // ended without records). Ack exactly this once the records are processed.
  Positions positions;
  int64_t millis_behind_latest = 0;  // largest lag of the shards read
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;

  // (Re)starts reading with `parallelism` workers from `positions`. Forgets
  // everything delivered before. ResourceNotFoundException if the stream
  // does not exist.
  virtual absl::Status Seek(int parallelism, const Positions& positions) = 0;

  // Up to about `max_records` records of worker `worker` (0 <= worker <
  // parallelism); an empty batch when nothing is available. The job asks
  // again only after it processed the previous batch of that worker.
  virtual absl::StatusOr<SourceBatch> Next(int worker, int max_records) = 0;

  // The records of a batch were processed: its positions are final.
  virtual void Ack(const Positions& processed) = 0;

  // A checkpoint completed at `positions` (all workers). A source with
  // durable checkpoints stores them; others may ignore it.
  virtual absl::Status Commit(const Positions& positions) = 0;
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_SOURCE_H_
