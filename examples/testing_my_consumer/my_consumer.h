// The code under test: what a user of Tributary (or of Kinesis, through the
// same semantics) writes. A producer that retries what PutBatch could not
// write, and a consumer that follows the shard lineage parents-first and
// survives throttling and expired iterators. Nothing here knows about tests.
#ifndef MY_CONSUMER_H_
#define MY_CONSUMER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tributary/tributary.h"

namespace my {

struct Event {
  std::string key;
  std::string value;
};

// Writes `events` with PutBatch, resending the records that failed (throttled
// or internal errors) until all are in, at most `max_attempts` calls.
inline absl::Status Publish(tributary::Store& store, const std::string& stream,
                            const std::vector<Event>& events, int max_attempts = 10) {
  std::vector<Event> pending = events;
  for (int attempt = 0; attempt < max_attempts && !pending.empty(); ++attempt) {
    std::vector<tributary::PutRecordInput> batch;
    batch.reserve(pending.size());
    for (const Event& e : pending) batch.push_back({e.key, e.value});
    absl::StatusOr<tributary::PutBatchResult> r = store.PutBatch(stream, batch);
    if (!r.ok()) {
      tributary::ErrorType t = tributary::GetErrorType(r.status());
      if (t == tributary::ErrorType::kInternalFailure ||
          t == tributary::ErrorType::kProvisionedThroughputExceeded) {
        continue;  // retry the whole batch
      }
      return r.status();
    }
    std::vector<Event> failed;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!r->records[i].ok()) failed.push_back(pending[i]);
    }
    pending = std::move(failed);
  }
  return pending.empty() ? absl::OkStatus() : absl::UnavailableError("gave up publishing");
}

// Reads every record of `stream`, parents before children, and returns the
// values per key in the order they were read.
class Consumer {
 public:
  Consumer(tributary::Store& store, std::string stream) : store_(store), stream_(std::move(stream)) {}

  absl::StatusOr<std::map<std::string, std::vector<std::string>>> ReadAll() {
    std::map<std::string, std::vector<std::string>> out;
    tributary::ListShardsRequest req;
    req.stream = stream_;
    tributary::ShardFilter roots;
    roots.type = tributary::ShardFilterType::kAtTrimHorizon;
    req.shard_filter = roots;
    absl::StatusOr<tributary::ListShardsResult> shards = store_.ListShards(req);
    if (!shards.ok()) return shards.status();
    std::vector<std::string> todo;
    for (const auto& s : shards->shards) todo.push_back(s.shard_id);
    std::set<std::string> done;
    std::map<std::string, int> parents_left;  // merge children wait for both parents
    while (!todo.empty()) {
      std::string shard = todo.front();
      todo.erase(todo.begin());
      if (!done.insert(shard).second) continue;
      absl::StatusOr<std::vector<tributary::ChildShard>> children = ReadShard(shard, out);
      if (!children.ok()) return children.status();
      for (const tributary::ChildShard& c : *children) {
        int& left = parents_left.try_emplace(c.shard_id, static_cast<int>(c.parent_shards.size())).first->second;
        if (--left == 0) todo.push_back(c.shard_id);
      }
    }
    return out;
  }

  int retries() const { return retries_; }

 private:
  absl::StatusOr<std::vector<tributary::ChildShard>> ReadShard(
      const std::string& shard, std::map<std::string, std::vector<std::string>>& out) {
    std::optional<std::string> last_seq;
    absl::StatusOr<std::string> it = Iterator(shard, last_seq);
    while (true) {
      if (!it.ok()) return it.status();
      absl::StatusOr<tributary::GetRecordsResult> r = store_.GetRecords(*it);
      if (!r.ok()) {
        ++retries_;
        if (retries_ > 100) return r.status();
        switch (tributary::GetErrorType(r.status())) {
          case tributary::ErrorType::kExpiredIterator:  // resume after the last record
            it = Iterator(shard, last_seq);
            continue;
          case tributary::ErrorType::kProvisionedThroughputExceeded:
          case tributary::ErrorType::kInternalFailure:
            continue;  // a real consumer would back off here
          default:
            return r.status();
        }
      }
      for (const tributary::Record& rec : r->records) {
        out[rec.partition_key].push_back(rec.data);
        last_seq = rec.sequence_number.ToString();
      }
      if (!r->next_shard_iterator.has_value()) return r->child_shards;  // closed and drained
      if (r->records.empty()) return std::vector<tributary::ChildShard>{};  // open shard: caught up
      it = *r->next_shard_iterator;
    }
  }

  absl::StatusOr<std::string> Iterator(const std::string& shard, const std::optional<std::string>& after) {
    tributary::GetShardIteratorRequest req{stream_, shard, tributary::ShardIteratorType::kTrimHorizon};
    if (after.has_value()) {
      req.type = tributary::ShardIteratorType::kAfterSequenceNumber;
      req.starting_sequence_number = after;
    }
    return store_.GetShardIterator(req);
  }

  tributary::Store& store_;
  std::string stream_;
  int retries_ = 0;
};

}  // namespace my

#endif  // MY_CONSUMER_H_
