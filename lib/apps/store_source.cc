#include "apps/store_source.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/status_macros.h"

namespace tributary::apps {

void MergePositions(Positions* into, const Positions& update) {
  for (const auto& [shard, p] : update) {
    ShardPosition& q = (*into)[shard];
    if (!p.sequence_number.empty()) q.sequence_number = p.sequence_number;
    q.finished = q.finished || p.finished;
  }
}

StoreSource::StoreSource(Store* store, std::string stream)
    : store_(store), stream_(std::move(stream)) {}

absl::Status StoreSource::Seek(int parallelism, const Positions& positions) {
  parallelism_ = std::max(1, parallelism);
  seek_positions_ = positions;
  shards_.clear();
  need_refresh_ = true;
  return Refresh();
}

absl::Status StoreSource::Refresh() {
  std::map<std::string, Shard> listed;
  ListShardsRequest req;
  req.stream = stream_;
  for (;;) {
    TRIBUTARY_ASSIGN_OR_RETURN(ListShardsResult page, store_->ListShards(req));
    for (ShardDescription& d : page.shards) {
      Shard s;
      s.id = d.shard_id;
      absl::StatusOr<uint32_t> idx = ParseShardId(d.shard_id);
      s.index = idx.ok() ? *idx : 0;
      if (d.parent_shard_id) s.parents.push_back(*d.parent_shard_id);
      if (d.adjacent_parent_shard_id) s.parents.push_back(*d.adjacent_parent_shard_id);
      listed.emplace(s.id, std::move(s));
    }
    if (!page.next_token) break;
    req = ListShardsRequest();
    req.next_token = page.next_token;
  }
  // Keep what we know about shards we already track; a tracked shard that is
  // no longer listed has expired: nothing is left to read in it.
  for (auto& [id, s] : shards_) {
    auto it = listed.find(id);
    if (it == listed.end()) {
      s.delivered_end = s.acked_end = true;
      s.iterator.reset();
      listed.emplace(id, std::move(s));
    } else {
      it->second.delivered = std::move(s.delivered);
      it->second.delivered_end = s.delivered_end;
      it->second.acked_end = s.acked_end;
      it->second.iterator = std::move(s.iterator);
    }
  }
  for (auto& [id, s] : listed) {
    if (shards_.count(id)) continue;
    auto p = seek_positions_.find(id);
    if (p != seek_positions_.end()) {
      s.delivered = p->second.sequence_number;
      s.delivered_end = s.acked_end = p->second.finished;
    }
  }
  shards_ = std::move(listed);
  need_refresh_ = false;
  last_refresh_ = store_->clock()->Now();
  return absl::OkStatus();
}

bool StoreSource::Eligible(const Shard& s) const {
  if (s.delivered_end) return false;
  for (const std::string& p : s.parents) {
    auto it = shards_.find(p);
    if (it != shards_.end() && !it->second.acked_end) return false;
  }
  return true;
}

absl::Status StoreSource::OpenIterator(Shard* s) {
  GetShardIteratorRequest req;
  req.stream = stream_;
  req.shard_id = s->id;
  if (s->delivered.empty()) {
    req.type = ShardIteratorType::kTrimHorizon;
  } else {
    req.type = ShardIteratorType::kAfterSequenceNumber;
    req.starting_sequence_number = s->delivered;
  }
  TRIBUTARY_ASSIGN_OR_RETURN(s->iterator, store_->GetShardIterator(req));
  return absl::OkStatus();
}

absl::StatusOr<SourceBatch> StoreSource::Next(int worker, int max_records) {
  if (need_refresh_ || store_->clock()->Now() - last_refresh_ >= absl::Seconds(1)) {
    TRIBUTARY_RETURN_IF_ERROR(Refresh());
  }
  SourceBatch batch;
  int remaining = std::max(1, max_records);
  for (auto& [id, s] : shards_) {
    if (remaining <= 0) break;
    if (static_cast<int>(s.index % static_cast<uint32_t>(parallelism_)) != worker) continue;
    if (!Eligible(s)) continue;
    bool expired = false;
    absl::StatusOr<GetRecordsResult> r;
    for (int attempt = 0;; ++attempt) {
      if (!s.iterator) {
        absl::Status st = OpenIterator(&s);
        if (GetErrorType(st) == ErrorType::kResourceNotFound) {
          // Either the shard expired or the stream is gone; only the latter
          // is an error.
          TRIBUTARY_RETURN_IF_ERROR(store_->DescribeStreamSummary(stream_).status());
          expired = true;
          break;
        }
        TRIBUTARY_RETURN_IF_ERROR(st);
      }
      r = store_->GetRecords(*s.iterator, std::min(remaining, limits::kMaxGetRecordsLimit));
      if (attempt == 0 && GetErrorType(r.status()) == ErrorType::kExpiredIterator) {
        s.iterator.reset();  // reopen after the last delivered record
        continue;
      }
      break;
    }
    if (expired) {
      s.delivered_end = s.acked_end = true;
      need_refresh_ = true;
      continue;
    }
    TRIBUTARY_RETURN_IF_ERROR(r.status());
    ShardPosition* pos = nullptr;
    if (!r->records.empty() || !r->next_shard_iterator) pos = &batch.positions[id];
    for (Record& rec : r->records) {
      s.delivered = rec.sequence_number.ToString();
      batch.records.push_back(InputRecord{id, std::move(rec)});
      --remaining;
    }
    if (pos != nullptr) pos->sequence_number = s.delivered;
    batch.millis_behind_latest = std::max(batch.millis_behind_latest, r->millis_behind_latest);
    if (r->next_shard_iterator) {
      s.iterator = std::move(r->next_shard_iterator);
    } else {
      s.iterator.reset();
      s.delivered_end = true;
      pos->finished = true;
      need_refresh_ = true;  // its children may be new to us
    }
  }
  return batch;
}

void StoreSource::Ack(const Positions& processed) {
  for (const auto& [id, p] : processed) {
    if (!p.finished) continue;
    auto it = shards_.find(id);
    if (it != shards_.end()) it->second.acked_end = true;
  }
}

}  // namespace tributary::apps
