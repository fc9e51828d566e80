#include "apps/consumer_source.h"

#include <fmt/format.h>

#include <map>

#include "util/status_macros.h"

namespace tributary::apps {
namespace {

// Longer than any job; absl::Time saturates instead of overflowing.
constexpr absl::Duration kForever = absl::Hours(24 * 365 * 100);

std::string_view StreamNameOf(std::string_view s) {
  size_t p = s.rfind(":stream/");
  return p == std::string_view::npos ? s : s.substr(p + 8);
}

}  // namespace

ConsumerSource::ConsumerSource(Store* input, Store* lease_store, std::string stream,
                               std::string consumer_name, int max_batch_records)
    : store_(input),
      lease_store_(lease_store),
      stream_(std::move(stream)),
      consumer_name_(std::move(consumer_name)),
      max_batch_records_(max_batch_records) {}

ConsumerSource::~ConsumerSource() = default;

std::string ConsumerSource::WorkerId(int worker) const {
  return fmt::format("{}/worker-{}", consumer_name_, worker);
}

absl::Status ConsumerSource::Seek(int parallelism, const Positions& positions) {
  workers_.clear();
  if (!table_) {
    TRIBUTARY_ASSIGN_OR_RETURN(table_, LeaseTableFor(*lease_store_));
  }
  for (int w = 0; w < parallelism; ++w) {
    ConsumerOptions o;
    o.stream = stream_;
    o.consumer_name = consumer_name_;
    o.worker_id = WorkerId(w);
    o.lease_table = table_;
    o.lease_duration = kForever;
    o.renew_interval = absl::Seconds(10);  // leases never expire; renewals carry out handoffs
    o.take_interval = absl::Seconds(1);
    o.idle_interval = absl::ZeroDuration();  // a caught-up shard is read again next round
    o.max_records_per_batch = max_batch_records_;
    o.checkpoint_on_handoff = true;
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> c, Consumer::Create(*store_, std::move(o)));
    workers_.push_back(std::move(c));
  }
  return ResetLeases(parallelism, positions);
}

absl::Status ConsumerSource::ResetLeases(int parallelism, const Positions& positions) {
  const LeaseScope scope = workers_.front()->scope();
  // The consumers' clock (Consumer::Create takes the input store's).
  const absl::Time now = store_->clock()->Now();
  // The listing, for parents of shards that need a lease created.
  std::map<std::string, ShardDescription> listed;
  ListShardsRequest req;
  req.stream = stream_;
  for (;;) {
    TRIBUTARY_ASSIGN_OR_RETURN(ListShardsResult page, store_->ListShards(req));
    for (ShardDescription& d : page.shards) {
      std::string id = d.shard_id;
      listed.emplace(std::move(id), std::move(d));
    }
    if (!page.next_token) break;
    req = ListShardsRequest();
    req.next_token = page.next_token;
  }
  auto checkpoint_of = [&](const std::string& shard) -> absl::StatusOr<CheckpointPosition> {
    auto p = positions.find(shard);
    if (p == positions.end()) return CheckpointPosition::TrimHorizon();
    if (p->second.finished) return CheckpointPosition::ShardEnd();
    if (p->second.sequence_number.empty()) return CheckpointPosition::TrimHorizon();
    // ParseAny: a remote input's numbers may be another implementation's.
    TRIBUTARY_ASSIGN_OR_RETURN(SequenceNumber s, SequenceNumber::ParseAny(p->second.sequence_number));
    return CheckpointPosition::After(s);
  };
  for (int attempt = 0;; ++attempt) {
    TRIBUTARY_ASSIGN_OR_RETURN(std::vector<Lease> leases, table_->ListLeases(scope));
    std::map<std::string, Lease> by_id;
    for (Lease& l : leases) {
      std::string id = l.shard_id;
      by_id.emplace(std::move(id), std::move(l));
    }
    // Shards the cut read that have no lease (the table was reset): create them.
    for (const auto& [shard, p] : positions) {
      if (by_id.count(shard) || !listed.count(shard)) continue;
      Lease l;
      l.shard_id = shard;
      TRIBUTARY_ASSIGN_OR_RETURN(l.checkpoint, checkpoint_of(shard));
      const ShardDescription& d = listed.at(shard);
      if (d.parent_shard_id) l.parent_shard_ids.push_back(*d.parent_shard_id);
      if (d.adjacent_parent_shard_id) l.parent_shard_ids.push_back(*d.adjacent_parent_shard_id);
      absl::StatusOr<Lease> made = table_->CreateLease(scope, l);
      if (!made.ok() && made.status().code() != absl::StatusCode::kAlreadyExists) return made.status();
      if (made.ok()) by_id[shard] = *std::move(made);
    }
    bool conflict = false;
    for (auto& [id, l] : by_id) {
      Lease next = l;
      TRIBUTARY_ASSIGN_OR_RETURN(next.checkpoint, checkpoint_of(id));
      next.pending_checkpoint.reset();
      next.handoff_to.clear();
      next.owner.clear();
      next.expires_at = absl::InfinitePast();
      // Done: finished in the cut, or gone from the listing (expired) with
      // no lease left to wait for.
      bool parents_done = true;
      for (const std::string& p : next.parent_shard_ids) {
        auto pos = positions.find(p);
        const bool finished = pos != positions.end() && pos->second.finished;
        const bool gone = !by_id.count(p) && !listed.count(p);
        parents_done = parents_done && (finished || gone);
      }
      if (!next.checkpoint.is_shard_end() && parents_done) {
        absl::StatusOr<uint32_t> index = ParseShardId(id);
        next.owner = WorkerId(static_cast<int>((index.ok() ? *index : 0) % static_cast<uint32_t>(parallelism)));
        next.expires_at = now + kForever;
      }
      absl::StatusOr<Lease> w = table_->UpdateLease(scope, next);
      if (!w.ok()) {
        if (w.status().code() != absl::StatusCode::kAborted &&
            w.status().code() != absl::StatusCode::kNotFound) {
          return w.status();
        }
        conflict = true;  // changed since it was listed (nothing else should write it): again
      }
    }
    if (!conflict) return absl::OkStatus();
    if (attempt >= 3) {
      return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                       fmt::format("the leases of consumer {} keep changing while the job restores them",
                                   consumer_name_));
    }
  }
}

absl::StatusOr<SourceBatch> ConsumerSource::Next(int worker, int /*max_records*/) {
  SourceBatch out;
  TRIBUTARY_ASSIGN_OR_RETURN(std::optional<RecordBatch> b,
                             workers_[static_cast<size_t>(worker)]->Poll());
  if (!b) return out;
  ShardPosition& p = out.positions[b->shard_id];
  p.sequence_number = b->last_sequence_number().ToString();
  p.finished = b->shard_end;
  out.millis_behind_latest = b->millis_behind_latest;
  out.records.reserve(b->records.size());
  for (Record& r : b->records) out.records.push_back(InputRecord{b->shard_id, std::move(r)});
  return out;
}

absl::Status ConsumerSource::Commit(const Positions& /*positions*/) {
  // At a round boundary every delivered record was processed, so each
  // worker's last delivered records are exactly the cut's positions.
  for (auto& w : workers_) TRIBUTARY_RETURN_IF_ERROR(w->CheckpointAll());
  return absl::OkStatus();
}

absl::Status ConsumerSource::Forget(Store& lease_store, std::string_view stream,
                                    std::string_view consumer_name) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::shared_ptr<LeaseTable> table, LeaseTableFor(lease_store));
  return table->DeleteScope(LeaseScope{std::string(consumer_name), std::string(StreamNameOf(stream))});
}

}  // namespace tributary::apps
