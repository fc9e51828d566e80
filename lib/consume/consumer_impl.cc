#include "consume/consumer_impl.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <utility>

#include "tributary/status.h"
#include "util/status_macros.h"

namespace tributary::consume {
namespace {

bool IsType(const absl::Status& s, ErrorType t) { return !s.ok() && GetErrorType(s) == t; }

absl::Status NotHeldError(std::string_view worker, std::string_view shard_id) {
  return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kResourceInUse,
                   fmt::format("worker {} does not hold the lease of shard {} (not taken, finished, "
                               "or taken over by another worker)",
                               worker, shard_id));
}

std::string NewWorkerId() {
  static std::atomic<uint64_t> n{0};
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return fmt::format("{}-{}-{}", host[0] ? host : "worker", ::getpid(), n.fetch_add(1));
}

// Shard ids sort by length, then text ("shardId-" and zero-padded digits).
bool IdLess(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// Whether a number's counter counts the shard's records one by one: a
// Tributary store's numbers in either layout. Through a remote store a
// number in Kinesis' layout may be Amazon Kinesis' or kinesalite's, whose
// counters are not per shard (kinesalite shares one among five shards),
// so there only Tributary's 39-digit layout counts.
bool Counted(SequenceNumber s, bool remote) {
  return s.has_counter() && !(remote && s.is_kinesis_layout());
}

// Counter distance b - a of two numbers of one shard (0 if b <= a).
uint64_t CounterGap(SequenceNumber a, SequenceNumber b, bool remote) {
  // Another implementation's numbers (read through a remote store) carry no counter.
  if (!Counted(a, remote) || !Counted(b, remote)) return 0;
  return b.counter() > a.counter() ? b.counter() - a.counter() : 0;
}

// Orders two kSequenceNumber positions of one shard: by sequence number,
// then sub-sequence number, a whole record after each of its user records.
bool PositionLess(const CheckpointPosition& a, const CheckpointPosition& b) {
  if (a.sequence_number != b.sequence_number) return a.sequence_number < b.sequence_number;
  constexpr int64_t kWhole = std::numeric_limits<int64_t>::max();
  return a.sub_sequence_number.value_or(kWhole) < b.sub_sequence_number.value_or(kWhole);
}

// True if `c` is before `p` (a position): a checkpoint that is not a
// sequence number yet is before any.
bool CheckpointBefore(const CheckpointPosition& c, const CheckpointPosition& p) {
  return !c.has_sequence_number() || PositionLess(c, p);
}

// The user records of the aggregate at `through`'s sequence number up to
// its sub-sequence number were processed: true for such a record.
bool AlreadyProcessed(const Record& r, const CheckpointPosition& through) {
  if (r.sequence_number != through.sequence_number) return r.sequence_number < through.sequence_number;
  return r.aggregated && r.sub_sequence_number <= *through.sub_sequence_number;
}

}  // namespace

ConsumerImpl::ConsumerImpl(Store& store, ConsumerOptions options, ConsumerListener* listener)
    : store_(store),
      options_(std::move(options)),
      listener_(listener),
      clock_(store.options().clock != nullptr ? store.options().clock : SystemClock()) {}

absl::StatusOr<std::unique_ptr<ConsumerImpl>> ConsumerImpl::Create(Store& store, ConsumerOptions options,
                                                                   ConsumerListener* listener) {
  if (options.stream.empty()) return InvalidArgumentError("ConsumerOptions::stream is required");
  if (options.consumer_name.empty()) {
    return InvalidArgumentError("ConsumerOptions::consumer_name is required");
  }
  if (options.max_records_per_batch < 1 || options.max_records_per_batch > limits::kMaxGetRecordsLimit) {
    return InvalidArgumentError(fmt::format("ConsumerOptions::max_records_per_batch {} is outside [1, {}]",
                                            options.max_records_per_batch, limits::kMaxGetRecordsLimit));
  }
  if (options.lease_duration <= absl::ZeroDuration()) {
    return InvalidArgumentError("ConsumerOptions::lease_duration must be positive");
  }
  if (options.max_leases < 0) return InvalidArgumentError("ConsumerOptions::max_leases must be >= 0");
  std::unique_ptr<ConsumerImpl> c(new ConsumerImpl(store, std::move(options), listener));
  TRIBUTARY_RETURN_IF_ERROR(c->Start());
  return c;
}

absl::Status ConsumerImpl::Start() {
  worker_id_ = options_.worker_id.empty() ? NewWorkerId() : options_.worker_id;
  renew_interval_ =
      options_.renew_interval > absl::ZeroDuration() ? options_.renew_interval : options_.lease_duration / 3;
  take_interval_ =
      options_.take_interval > absl::ZeroDuration() ? options_.take_interval : options_.lease_duration / 2;
  if (options_.lease_table) {
    table_ = options_.lease_table;
  } else {
    TRIBUTARY_ASSIGN_OR_RETURN(table_, LeaseTableFor(store_));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(StreamDescriptionSummary summary, store_.DescribeStreamSummary(options_.stream));
  stream_ = summary.stream_name;
  scope_ = LeaseScope{options_.consumer_name, stream_};
  TRIBUTARY_ASSIGN_OR_RETURN(std::optional<ScopeRecord> existing, table_->GetScope(scope_));
  if (!existing) {
    // The very first start: the shards the consumer starts at are the roots
    // of everything it will read.
    const absl::Time now = clock_->Now();
    ShardFilter filter;
    switch (options_.initial_position.type) {
      case InitialPosition::Type::kTrimHorizon:
        filter.type = ShardFilterType::kAtTrimHorizon;
        break;
      case InitialPosition::Type::kLatest:
        filter.type = ShardFilterType::kAtLatest;
        break;
      case InitialPosition::Type::kAtTimestamp:
        filter.type = ShardFilterType::kAtTimestamp;
        filter.timestamp = options_.initial_position.timestamp;
        break;
    }
    ScopeRecord rec;
    rec.stream_arn = summary.stream_arn;
    rec.stream_creation_timestamp = summary.stream_creation_timestamp;
    rec.initial_position = options_.initial_position;
    // Millisecond precision, like arrival times: AT_TIMESTAMP(created_at)
    // then includes every record that arrived in the same millisecond.
    rec.created_at = absl::FromUnixMillis(absl::ToUnixMillis(now));
    ListShardsRequest req;
    req.stream = stream_;
    req.shard_filter = filter;
    for (;;) {
      TRIBUTARY_ASSIGN_OR_RETURN(ListShardsResult page, store_.ListShards(req));
      for (ShardDescription& d : page.shards) {
        rec.initial_shard_ids.push_back(d.shard_id);
        Know(std::move(d));
      }
      if (!page.next_token) break;
      req = ListShardsRequest();
      req.next_token = page.next_token;
    }
    TRIBUTARY_ASSIGN_OR_RETURN(existing, table_->CreateScope(scope_, rec));
  }
  // Compared in milliseconds, the precision the store keeps (and Kinesis
  // reports); a remote endpoint may send finer or coarser digits.
  if (existing->stream_arn != summary.stream_arn ||
      absl::ToUnixMillis(existing->stream_creation_timestamp) !=
          absl::ToUnixMillis(summary.stream_creation_timestamp)) {
    return MakeError(
        absl::StatusCode::kFailedPrecondition, ErrorType::kInvalidArgument,
        fmt::format("the lease table holds checkpoints of consumer '{}' for an earlier stream named '{}' "
                    "(created {}, this one {}); delete them (LeaseTable::DeleteScope) to start over",
                    options_.consumer_name, stream_, absl::FormatTime(existing->stream_creation_timestamp),
                    absl::FormatTime(summary.stream_creation_timestamp)));
  }
  scope_record_ = *std::move(existing);
  return absl::OkStatus();
}

CheckpointPosition ConsumerImpl::InitialCheckpoint() const {
  switch (scope_record_.initial_position.type) {
    case InitialPosition::Type::kTrimHorizon:
      return CheckpointPosition::TrimHorizon();
    case InitialPosition::Type::kLatest:
      return CheckpointPosition::AtTimestamp(scope_record_.created_at);
    case InitialPosition::Type::kAtTimestamp:
      return CheckpointPosition::AtTimestamp(scope_record_.initial_position.timestamp);
  }
  return CheckpointPosition::TrimHorizon();
}

std::vector<std::string> ConsumerImpl::ParentsOf(const ShardDescription& d) const {
  std::vector<std::string> p;
  if (d.parent_shard_id) p.push_back(*d.parent_shard_id);
  if (d.adjacent_parent_shard_id) p.push_back(*d.adjacent_parent_shard_id);
  return p;
}

// ------------------------------------------------------------------ Poll

absl::StatusOr<std::optional<RecordBatch>> ConsumerImpl::Poll() {
  listed_this_poll_ = false;
  TRIBUTARY_RETURN_IF_ERROR(ConfirmProcessed());
  const absl::Time now = clock_->Now();
  if (now >= next_renew_) TRIBUTARY_RETURN_IF_ERROR(Renew(now));
  // A shard that ends while reading makes its children takeable at once:
  // take them and read on, so "nothing" means nothing to read right now.
  for (int pass = 0; pass < 64; ++pass) {
    if (now >= next_sync_) TRIBUTARY_RETURN_IF_ERROR(Sync(now));
    if (now >= next_take_) TRIBUTARY_RETURN_IF_ERROR(Take(now));
    const uint64_t acquired_before = acquired_;
    // Round robin from the shard after the one read last.
    std::vector<std::string> order;
    order.reserve(held_.size());
    for (auto it = held_.upper_bound(cursor_); it != held_.end(); ++it) order.push_back(it->first);
    for (auto it = held_.begin(); it != held_.end() && it->first <= cursor_; ++it) order.push_back(it->first);
    for (const std::string& id : order) {
      auto it = held_.find(id);
      if (it == held_.end() || it->second.end_pending || it->second.rest_until > now) continue;
      TRIBUTARY_ASSIGN_OR_RETURN(std::optional<RecordBatch> batch, Read(id, now));
      if (batch) {
        cursor_ = id;
        return batch;
      }
    }
    // Again only if something may have become readable: leases acquired
    // while reading (the children of a shard that ended), or a take pass due.
    if (acquired_ == acquired_before && next_take_ > now && next_sync_ > now) break;
  }
  return std::optional<RecordBatch>();
}

absl::Status ConsumerImpl::ConfirmProcessed() {
  std::vector<std::string> ended;
  for (const auto& [id, h] : held_) {
    if (h.end_pending) ended.push_back(id);
  }
  for (const std::string& id : ended) TRIBUTARY_RETURN_IF_ERROR(FinishShard(id));
  return absl::OkStatus();
}

// ------------------------------------------------------------------ renew

absl::Status ConsumerImpl::Renew(absl::Time now) {
  std::vector<std::string> ids;
  for (const auto& [id, h] : held_) ids.push_back(id);
  for (const std::string& id : ids) {
    auto it = held_.find(id);
    if (it == held_.end()) continue;
    absl::Status s = UpdateHeld(id, [&](Lease& l) { l.expires_at = now + options_.lease_duration; });
    if (IsType(s, ErrorType::kResourceInUse) && s.code() == absl::StatusCode::kFailedPrecondition) {
      continue;  // lost (already dropped)
    }
    TRIBUTARY_RETURN_IF_ERROR(s);
    it = held_.find(id);
    if (it != held_.end() && !it->second.lease.handoff_to.empty() &&
        it->second.lease.handoff_to != worker_id_) {
      TRIBUTARY_RETURN_IF_ERROR(HandOver(id, it->second.lease.handoff_to, now));
    }
  }
  next_renew_ = now + renew_interval_;
  return absl::OkStatus();
}

template <typename Fn>
absl::Status ConsumerImpl::UpdateHeld(const std::string& shard_id, Fn&& mutate) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto it = held_.find(shard_id);
    if (it == held_.end()) return NotHeldError(worker_id_, shard_id);
    Lease next = it->second.lease;
    mutate(next);
    absl::StatusOr<Lease> written = table_->UpdateLease(scope_, next);
    if (written.ok()) {
      it->second.lease = *std::move(written);
      return absl::OkStatus();
    }
    if (written.status().code() != absl::StatusCode::kAborted &&
        written.status().code() != absl::StatusCode::kNotFound) {
      return written.status();
    }
    // Someone wrote the lease: still ours (e.g. a handoff request), or lost?
    TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Lease> fresh, table_->GetLease(scope_, shard_id));
    if (!fresh || fresh->owner != worker_id_ || fresh->checkpoint.is_shard_end()) {
      Lose(shard_id);
      return NotHeldError(worker_id_, shard_id);
    }
    it->second.lease = *std::move(fresh);
  }
  return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                   fmt::format("the lease of shard {} keeps changing under worker {}", shard_id, worker_id_));
}

void ConsumerImpl::Lose(const std::string& shard_id) {
  if (held_.erase(shard_id) == 0) return;
  DropLag(shard_id);
  Count([](ConsumerStats& s) { ++s.leases_lost; });
  if (listener_) listener_->OnLeaseLost(shard_id);
}

absl::Status ConsumerImpl::HandOver(const std::string& shard_id, const std::string& to, absl::Time now) {
  if (listener_) listener_->OnShutdownRequested(shard_id);
  auto it = held_.find(shard_id);
  if (it == held_.end()) return absl::OkStatus();  // lost meanwhile
  const std::optional<SequenceNumber> last = it->second.last_delivered;
  absl::Status s = UpdateHeld(shard_id, [&](Lease& l) {
    if (options_.checkpoint_on_handoff && last &&
        CheckpointBefore(l.checkpoint, CheckpointPosition::After(*last))) {
      l.checkpoint = CheckpointPosition::After(*last);
    }
    // The latest requester wins if several asked.
    l.owner = l.handoff_to.empty() ? to : l.handoff_to;
    l.handoff_to.clear();
    l.expires_at = now + options_.lease_duration;
    ++l.owner_switches;
  });
  if (s.code() == absl::StatusCode::kFailedPrecondition) return absl::OkStatus();  // lost
  TRIBUTARY_RETURN_IF_ERROR(s);
  held_.erase(shard_id);
  DropLag(shard_id);
  Count([](ConsumerStats& st) { ++st.handoffs_given; });
  return absl::OkStatus();
}

absl::Status ConsumerImpl::Release(const std::string& shard_id) {
  if (listener_) listener_->OnShutdownRequested(shard_id);
  auto it = held_.find(shard_id);
  if (it == held_.end()) return absl::OkStatus();
  const std::optional<SequenceNumber> last = it->second.last_delivered;
  absl::Status s = UpdateHeld(shard_id, [&](Lease& l) {
    if (options_.checkpoint_on_handoff && last &&
        CheckpointBefore(l.checkpoint, CheckpointPosition::After(*last))) {
      l.checkpoint = CheckpointPosition::After(*last);
    }
    l.owner.clear();
    l.handoff_to.clear();
    l.expires_at = absl::InfinitePast();
  });
  if (s.code() == absl::StatusCode::kFailedPrecondition) return absl::OkStatus();  // lost
  TRIBUTARY_RETURN_IF_ERROR(s);
  held_.erase(shard_id);
  DropLag(shard_id);
  return absl::OkStatus();
}

// ------------------------------------------------------------------ sync

void ConsumerImpl::Know(ShardDescription d) {
  if (IdLess(newest_known_, d.shard_id)) newest_known_ = d.shard_id;
  listed_.insert(d.shard_id);
  std::string id = d.shard_id;
  known_[std::move(id)] = std::move(d);
}

absl::Status ConsumerImpl::ListAll() {
  ListShardsRequest req;
  req.stream = stream_;
  std::vector<ShardDescription> all;
  for (;;) {
    TRIBUTARY_ASSIGN_OR_RETURN(ListShardsResult page, store_.ListShards(req));
    for (ShardDescription& d : page.shards) all.push_back(std::move(d));
    if (!page.next_token) break;
    req = ListShardsRequest();
    req.next_token = page.next_token;
  }
  // listed_: this listing, plus what later partial listings add. A known
  // shard missing from it was known before it and has expired since.
  listed_.clear();
  for (ShardDescription& d : all) Know(std::move(d));
  listed_this_poll_ = true;
  return absl::OkStatus();
}

absl::Status ConsumerImpl::ListNew() {
  if (newest_known_.empty()) return ListAll();
  ListShardsRequest req;
  req.stream = stream_;
  req.exclusive_start_shard_id = newest_known_;
  for (;;) {
    TRIBUTARY_ASSIGN_OR_RETURN(ListShardsResult page, store_.ListShards(req));
    for (ShardDescription& d : page.shards) Know(std::move(d));
    if (!page.next_token) break;
    req = ListShardsRequest();
    req.next_token = page.next_token;
  }
  return absl::OkStatus();
}

absl::Status ConsumerImpl::CreateChildLease(const std::string& shard_id,
                                            const std::vector<std::string>& parents) {
  Lease l;
  l.shard_id = shard_id;
  l.checkpoint = CheckpointPosition::TrimHorizon();
  l.parent_shard_ids = parents;
  absl::StatusOr<Lease> created = table_->CreateLease(scope_, l);
  if (!created.ok() && created.status().code() != absl::StatusCode::kAlreadyExists) {
    return created.status();
  }
  return absl::OkStatus();
}

absl::Status ConsumerImpl::Sync(absl::Time now) {
  Count([](ConsumerStats& s) { ++s.shard_syncs; });
  TRIBUTARY_RETURN_IF_ERROR(ListAll());
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<Lease> all, table_->ListLeases(scope_));
  std::map<std::string, Lease> leases;
  for (Lease& l : all) {
    if (l.checkpoint.is_shard_end()) finished_.insert(l.shard_id);
    std::string id = l.shard_id;
    leases.emplace(std::move(id), std::move(l));
  }
  auto create = [&](const std::string& id, const CheckpointPosition& cp,
                    std::vector<std::string> parents) -> absl::Status {
    Lease l;
    l.shard_id = id;
    l.checkpoint = cp;
    l.parent_shard_ids = std::move(parents);
    absl::StatusOr<Lease> created = table_->CreateLease(scope_, l);
    if (created.ok()) {
      leases[id] = *std::move(created);
      return absl::OkStatus();
    }
    if (created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
    TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Lease> there, table_->GetLease(scope_, id));
    if (there) leases[id] = *std::move(there);
    return absl::OkStatus();
  };

  // 1. The shards the consumer started at (created even if they expired
  // since: step 3 then reports what was lost).
  for (const std::string& id : scope_record_.initial_shard_ids) {
    if (!leases.count(id)) TRIBUTARY_RETURN_IF_ERROR(create(id, InitialCheckpoint(), {}));
  }
  // 2. Down the lineage (a listed shard with a leased parent) and up it (a
  // listed shard some unfinished lease names as its parent: a child must
  // never run while a parent goes unread), until nothing changes. Shard ids
  // grow along the lineage, so one pass in id order usually suffices.
  std::vector<const ShardDescription*> listed;
  for (const std::string& id : listed_) listed.push_back(&known_.at(id));
  std::sort(listed.begin(), listed.end(), [](const ShardDescription* a, const ShardDescription* b) {
    return IdLess(a->shard_id, b->shard_id);
  });
  for (bool changed = true; changed;) {
    changed = false;
    std::set<std::string> wanted_parents;
    for (const auto& [id, l] : leases) {
      if (l.checkpoint.is_shard_end()) continue;
      for (const std::string& p : l.parent_shard_ids) {
        if (!leases.count(p)) wanted_parents.insert(p);
      }
    }
    for (const ShardDescription* d : listed) {
      if (leases.count(d->shard_id)) continue;
      std::vector<std::string> parents = ParentsOf(*d);
      bool leased_parent = false;
      for (const std::string& p : parents) leased_parent = leased_parent || leases.count(p) > 0;
      if (leased_parent || wanted_parents.count(d->shard_id)) {
        TRIBUTARY_RETURN_IF_ERROR(create(d->shard_id, CheckpointPosition::TrimHorizon(), parents));
        changed = true;
      }
    }
  }
  // 3. Unfinished leases of shards that left the listing: confirm they
  // expired (a shard can be newer than the listing), then report the gap
  // and finish them. Leases held by another live worker are its business.
  for (const auto& [id, l] : leases) {
    if (l.checkpoint.is_shard_end() || listed_.count(id)) continue;
    const bool mine = held_.count(id) > 0;
    if (!mine && !l.available(now)) continue;
    GetShardIteratorRequest req;
    req.stream = stream_;
    req.shard_id = id;
    absl::StatusOr<std::string> it = store_.GetShardIterator(req);
    if (it.ok() || !IsType(it.status(), ErrorType::kResourceNotFound)) continue;
    std::optional<SequenceNumber> last;
    if (mine) last = held_.at(id).expect_after;
    TRIBUTARY_RETURN_IF_ERROR(ShardGone(mine ? held_.at(id).lease : l, last));
  }
  // 4. Finished leases of expired shards go once every listed child has its
  // own lease (the children no longer need them to be unblocked).
  TRIBUTARY_ASSIGN_OR_RETURN(all, table_->ListLeases(scope_));
  std::set<std::string> have;
  for (const Lease& l : all) have.insert(l.shard_id);
  for (const Lease& l : all) {
    if (!l.checkpoint.is_shard_end() || listed_.count(l.shard_id)) continue;
    // Step 1 would create an initial shard's lease again: keep those.
    if (std::find(scope_record_.initial_shard_ids.begin(), scope_record_.initial_shard_ids.end(),
                  l.shard_id) != scope_record_.initial_shard_ids.end()) {
      continue;
    }
    bool children_leased = true;
    for (const ShardDescription* d : listed) {
      std::vector<std::string> parents = ParentsOf(*d);
      if (std::find(parents.begin(), parents.end(), l.shard_id) != parents.end() &&
          !have.count(d->shard_id)) {
        children_leased = false;
      }
    }
    if (!children_leased) continue;
    absl::Status s = table_->DeleteLease(scope_, l.shard_id, l.version);
    if (!s.ok() && s.code() != absl::StatusCode::kAborted) return s;
  }
  next_sync_ = now + options_.shard_sync_interval;
  next_take_ = std::min(next_take_, now);  // new leases may be takeable now
  return absl::OkStatus();
}

// ------------------------------------------------------------------ take

bool ConsumerImpl::ParentsDone(const Lease& lease, const std::map<std::string_view, const Lease*>& unfinished,
                               const std::map<std::string, std::optional<Lease>>& others, bool fresh_listing,
                               bool* unknown) const {
  bool done = true;
  for (const std::string& p : lease.parent_shard_ids) {
    if (unfinished.count(p)) {
      done = false;
      continue;
    }
    if (finished_.count(p)) continue;
    auto o = others.find(p);
    if (o != others.end() && o->second) {
      // Created after the unfinished leases were read: not finished yet.
      if (!o->second->checkpoint.is_shard_end()) done = false;
      continue;
    }
    // No lease. A parent that was listed once and no longer is has expired
    // (shards never come back): nothing of it can be read. A listed parent
    // is waiting for its lease (the shard sync creates it). A parent this
    // worker never saw may be newer than its listing: only a listing taken
    // after the leases were read can say it is gone.
    if (listed_.count(p)) {
      *unknown = !fresh_listing;  // a sync creates its lease
      done = false;
    } else if (known_.count(p) || fresh_listing) {
      continue;
    } else {
      *unknown = true;
      done = false;
    }
  }
  return done;
}

absl::Status ConsumerImpl::Take(absl::Time now) {
  // Only unfinished leases are listed (finished ones pile up with history);
  // a parent outside them is finished if finished_ says so, else asked for.
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<Lease> leases, table_->ListUnfinishedLeases(scope_));
  std::map<std::string_view, const Lease*> index;
  for (const Lease& l : leases) index[l.shard_id] = &l;
  std::map<std::string, std::optional<Lease>> others;
  for (const Lease& l : leases) {
    for (const std::string& p : l.parent_shard_ids) {
      if (index.count(p) || finished_.count(p) || others.count(p)) continue;
      TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Lease> got, table_->GetLease(scope_, p));
      if (got && got->checkpoint.is_shard_end()) finished_.insert(p);
      others.emplace(p, std::move(got));
    }
  }
  std::vector<const Lease*> eligible;
  bool unknown = false;
  for (const Lease& l : leases) {
    if (ParentsDone(l, index, others, false, &unknown)) eligible.push_back(&l);
  }
  bool take_again = false;
  if (unknown) {
    // A parent without a lease: sync (a listing taken after the leases were
    // read, and the missing leases created), then decide on the same
    // snapshot; leases created by the sync are taken at the next Poll.
    TRIBUTARY_RETURN_IF_ERROR(Sync(now));
    eligible.clear();
    for (const Lease& l : leases) {
      if (ParentsDone(l, index, others, true, &unknown)) eligible.push_back(&l);
    }
    take_again = true;
  }

  std::map<std::string, int> load;  // live holders of eligible leases
  for (const Lease* l : eligible) {
    if (!l->owner.empty() && l->expires_at > now) ++load[l->owner];
  }
  load.emplace(worker_id_, 0);
  const int workers = static_cast<int>(load.size());
  int target = (static_cast<int>(eligible.size()) + workers - 1) / workers;
  if (options_.max_leases > 0) target = std::min(target, options_.max_leases);

  // Own leases first: handed over to this worker, or held by an earlier run
  // with the same worker id.
  for (const Lease* l : eligible) {
    if (l->owner == worker_id_ && !held_.count(l->shard_id)) TRIBUTARY_RETURN_IF_ERROR(Acquire(*l, now));
  }
  // Handoffs this worker asked for and not yet received count as taken, so
  // a second take pass before the holders renew does not ask for more.
  int need = target - static_cast<int>(held_.size());
  for (const Lease* l : eligible) {
    if (l->handoff_to == worker_id_ && l->owner != worker_id_ && l->expires_at > now) --need;
  }
  for (const Lease* l : eligible) {
    if (need <= 0) break;
    if (held_.count(l->shard_id) || !l->available(now)) continue;
    const size_t before = held_.size();
    TRIBUTARY_RETURN_IF_ERROR(Acquire(*l, now));
    if (held_.size() > before) --need;
  }
  if (need > 0) {
    // Short of a fair share with nothing free: ask the most loaded worker to
    // hand one lease over. It checkpoints and passes it at its next renewal,
    // so nothing is processed twice (unlike stealing).
    std::string richest;
    int most = 0;
    for (const auto& [w, n] : load) {
      if (w != worker_id_ && n > most) {
        richest = w;
        most = n;
      }
    }
    if (!richest.empty() && most > target) {
      for (auto it = eligible.rbegin(); it != eligible.rend(); ++it) {
        const Lease* l = *it;
        if (l->owner != richest || l->expires_at <= now || !l->handoff_to.empty()) continue;
        Lease ask = *l;
        ask.handoff_to = worker_id_;
        absl::StatusOr<Lease> w = table_->UpdateLease(scope_, ask);
        if (!w.ok() && w.status().code() != absl::StatusCode::kAborted) return w.status();
        break;
      }
    }
  }
  next_take_ = take_again ? now : now + take_interval_;
  return absl::OkStatus();
}

absl::Status ConsumerImpl::Acquire(const Lease& lease, absl::Time now) {
  Lease next = lease;
  const bool handed_to_me = lease.owner == worker_id_;
  next.owner = worker_id_;
  next.expires_at = now + options_.lease_duration;
  next.handoff_to.clear();
  if (!handed_to_me) ++next.owner_switches;
  absl::StatusOr<Lease> written = table_->UpdateLease(scope_, next);
  if (!written.ok()) {
    if (written.status().code() == absl::StatusCode::kAborted ||
        written.status().code() == absl::StatusCode::kNotFound) {
      return absl::OkStatus();  // another worker was faster
    }
    return written.status();
  }
  Held h;
  h.lease = *std::move(written);
  h.pending_to_report = h.lease.pending_checkpoint;
  if (h.lease.checkpoint.has_sequence_number()) {
    h.expect_after = h.lease.checkpoint.sequence_number;
  } else if (h.lease.checkpoint.kind == CheckpointPosition::Kind::kTrimHorizon &&
             !h.lease.parent_shard_ids.empty()) {
    // A child read from its start: its first record follows its starting
    // sequence number, unless retention took some.
    if (!known_.count(lease.shard_id)) TRIBUTARY_RETURN_IF_ERROR(ListNew());
    auto k = known_.find(lease.shard_id);
    if (k != known_.end()) h.expect_after = k->second.starting_sequence_number;
  }
  ShardStart start{lease.shard_id, h.lease.checkpoint, h.lease.pending_checkpoint};
  held_[lease.shard_id] = std::move(h);
  ++acquired_;
  Count([&](ConsumerStats& s) { ++(handed_to_me ? s.handoffs_received : s.leases_taken); });
  if (listener_) listener_->OnLeaseAcquired(start);
  return absl::OkStatus();
}

// ------------------------------------------------------------------ read

absl::StatusOr<std::string> ConsumerImpl::OpenIterator(const std::string& shard_id, Held& h) {
  GetShardIteratorRequest req;
  req.stream = stream_;
  req.shard_id = shard_id;
  h.skip_through.reset();
  if (h.last_delivered) {
    req.type = ShardIteratorType::kAfterSequenceNumber;
    req.starting_sequence_number = h.last_delivered->ToString();
  } else {
    const CheckpointPosition& c = h.lease.checkpoint;
    switch (c.kind) {
      case CheckpointPosition::Kind::kSequenceNumber:
        if (c.sub_sequence_number) {
          // Inside an aggregate: read it again and skip the user records
          // already processed (the KCL's rule).
          req.type = ShardIteratorType::kAtSequenceNumber;
          h.skip_through = c;
        } else {
          req.type = ShardIteratorType::kAfterSequenceNumber;
        }
        req.starting_sequence_number = c.sequence_number.ToString();
        break;
      case CheckpointPosition::Kind::kAtTimestamp:
        req.type = ShardIteratorType::kAtTimestamp;
        req.timestamp = c.timestamp;
        // Kinesis refuses a timestamp in the future (InvalidArgument); no
        // record has arrived after now yet, so reading from the latest
        // position is the same.
        if (c.timestamp > clock_->Now()) {
          req.type = ShardIteratorType::kLatest;
          req.timestamp.reset();
        }
        break;
      case CheckpointPosition::Kind::kTrimHorizon:
      case CheckpointPosition::Kind::kShardEnd:
        req.type = ShardIteratorType::kTrimHorizon;
        break;
    }
  }
  return store_.GetShardIterator(req);
}

absl::StatusOr<std::optional<RecordBatch>> ConsumerImpl::Read(const std::string& shard_id, absl::Time now) {
  Held* h = &held_.at(shard_id);
  absl::StatusOr<GetRecordsResult> got;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (h->iterator.empty()) {
      absl::StatusOr<std::string> it = OpenIterator(shard_id, *h);
      if (IsType(it.status(), ErrorType::kResourceNotFound)) {
        // The shard expired (or the stream is gone: ShardGone's own calls
        // then fail with the same error).
        TRIBUTARY_RETURN_IF_ERROR(store_.DescribeStreamSummary(stream_).status());
        TRIBUTARY_RETURN_IF_ERROR(ShardGone(h->lease, h->expect_after));
        return std::optional<RecordBatch>();
      }
      if (IsType(it.status(), ErrorType::kProvisionedThroughputExceeded)) {
        Count([](ConsumerStats& s) { ++s.throttled; });
        h->rest_until = now + options_.throttle_backoff;
        return std::optional<RecordBatch>();
      }
      TRIBUTARY_RETURN_IF_ERROR(it.status());
      h->iterator = *std::move(it);
    }
    got = store_.GetRecords(h->iterator, options_.max_records_per_batch);
    if (!IsType(got.status(), ErrorType::kExpiredIterator)) break;
    // The iterator outlived its 5 minutes (the shard rested, or the host
    // was slow): resume after the last record delivered instead of stalling.
    Count([](ConsumerStats& s) { ++s.expired_iterators; });
    h->iterator.clear();
  }
  if (IsType(got.status(), ErrorType::kProvisionedThroughputExceeded)) {
    Count([](ConsumerStats& s) { ++s.throttled; });
    h->rest_until = now + options_.throttle_backoff;
    return std::optional<RecordBatch>();
  }
  TRIBUTARY_RETURN_IF_ERROR(got.status());
  GetRecordsResult& r = *got;
  SetLag(shard_id, r);
  Count([](ConsumerStats& s) { ++s.get_records_calls; });

  const bool remote = store_.backend() == BackendKind::kRemote;
  if (!r.records.empty() && h->expect_after && Counted(*h->expect_after, remote) &&
      Counted(r.records.front().sequence_number, remote) &&
      r.records.front().sequence_number.counter() > h->expect_after->counter() + 1) {
    TRIBUTARY_RETURN_IF_ERROR(ProbeGap(*h, shard_id, r.records.front()));
  }
  // Resumed inside an aggregate: drop its user records already processed.
  // The first records returned are that aggregate (whole: GetRecords returns
  // whole Kinesis records), so one non-empty result settles it.
  bool skipped_all = false;
  if (h->skip_through && !r.records.empty()) {
    const CheckpointPosition through = *h->skip_through;
    h->skip_through.reset();
    auto keep = std::find_if(r.records.begin(), r.records.end(),
                             [&](const Record& rec) { return !AlreadyProcessed(rec, through); });
    r.records.erase(r.records.begin(), keep);
    skipped_all = r.records.empty();
  }
  if (!r.next_shard_iterator) {
    // The shard is closed and read to its end.
    h->children = std::move(r.child_shards);
    if (r.records.empty()) {
      TRIBUTARY_RETURN_IF_ERROR(CheckEndGap(*h, shard_id));
      TRIBUTARY_RETURN_IF_ERROR(FinishShard(shard_id));
      return std::optional<RecordBatch>();
    }
    h->end_pending = true;
  } else {
    h->iterator = *std::move(r.next_shard_iterator);
    if (r.records.empty()) {
      // Not caught up if everything returned was skipped: read on at once.
      if (!skipped_all) h->rest_until = now + options_.idle_interval;
      return std::optional<RecordBatch>();
    }
  }
  RecordBatch batch;
  batch.shard_id = shard_id;
  batch.shard_end = h->end_pending;
  batch.millis_behind_latest = r.millis_behind_latest;
  batch.records_behind_latest = r.records_behind_latest;
  batch.pending_checkpoint = std::move(h->pending_to_report);
  h->pending_to_report.reset();
  h->last_delivered = r.records.back().sequence_number;
  h->expect_after = h->last_delivered;
  const uint64_t n = r.records.size();
  batch.records = std::move(r.records);
  Count([&](ConsumerStats& s) {
    ++s.batches;
    s.records += n;
  });
  return std::optional<RecordBatch>(std::move(batch));
}

// ------------------------------------------------------------------ gaps

void ConsumerImpl::ReportGap(const std::string& shard_id, std::optional<SequenceNumber> after,
                             std::optional<SequenceNumber> resumed_at, std::optional<uint64_t> lost) {
  GapReport g;
  g.shard_id = shard_id;
  g.after = after;
  g.resumed_at = resumed_at;
  g.records_lost = lost;
  g.detected_at = clock_->Now();
  Count([&](ConsumerStats& s) {
    ++s.gaps;
    s.records_lost += lost.value_or(0);
  });
  if (options_.on_gap) options_.on_gap(g);
}

absl::Status ConsumerImpl::ProbeGap(Held& h, const std::string& shard_id, const Record& first) {
  // Records expire oldest first, so the skipped ones were removed by
  // retention exactly when `first` is now the oldest record of the shard.
  // Otherwise the numbers merely jumped (SequenceNumberForOrdering).
  GetShardIteratorRequest req;
  req.stream = stream_;
  req.shard_id = shard_id;
  absl::StatusOr<std::string> it = store_.GetShardIterator(req);
  if (!it.ok()) return absl::OkStatus();  // cannot tell; the read goes on
  absl::StatusOr<GetRecordsResult> oldest = store_.GetRecords(*it, 1);
  if (!oldest.ok()) return absl::OkStatus();
  if (oldest->records.empty() || oldest->records.front().sequence_number >= first.sequence_number) {
    ReportGap(shard_id, h.expect_after, first.sequence_number,
              first.sequence_number.counter() - h.expect_after->counter() - 1);
  }
  return absl::OkStatus();
}

absl::Status ConsumerImpl::CheckEndGap(Held& h, const std::string& shard_id) {
  auto k = known_.find(shard_id);
  if (k == known_.end() || !k->second.ending_sequence_number) {
    TRIBUTARY_RETURN_IF_ERROR(ListAll());
    k = known_.find(shard_id);
  }
  std::optional<SequenceNumber> end;
  std::optional<SequenceNumber> start;
  if (k != known_.end()) {
    end = k->second.ending_sequence_number;
    start = k->second.starting_sequence_number;
  }
  std::optional<SequenceNumber> last = h.expect_after;
  if (!last && h.lease.checkpoint.kind == CheckpointPosition::Kind::kTrimHorizon) last = start;
  if (end && last) {
    if (*last < *end) {
      ReportGap(shard_id, last, std::nullopt, CounterGap(*last, *end, store_.backend() == BackendKind::kRemote));
    }
  } else if (!end && listed_this_poll_ && !listed_.count(shard_id) && h.expect_after) {
    // Expired before its end was ever seen: something may be lost, how much
    // cannot be known.
    ReportGap(shard_id, last, std::nullopt, std::nullopt);
  }
  return absl::OkStatus();
}

absl::Status ConsumerImpl::ShardGone(const Lease& lease, std::optional<SequenceNumber> last_seen) {
  const std::string id = lease.shard_id;
  // What was lost: from the last record seen to the shard's ending number.
  auto k = known_.find(id);
  std::optional<SequenceNumber> end;
  std::optional<SequenceNumber> start;
  if (k != known_.end()) {
    end = k->second.ending_sequence_number;
    start = k->second.starting_sequence_number;
  }
  std::optional<SequenceNumber> last = last_seen;
  if (!last && lease.checkpoint.has_sequence_number()) last = lease.checkpoint.sequence_number;
  if (!last && lease.checkpoint.kind == CheckpointPosition::Kind::kTrimHorizon) last = start;
  bool gap = true;
  std::optional<uint64_t> lost;
  if (end && start && *end == *start) {
    gap = false;  // it never held a record
  } else if (end && last) {
    lost = CounterGap(*last, *end, store_.backend() == BackendKind::kRemote);
    gap = *lost > 0;
  }
  // Its children: from the listing (GetRecords can no longer say). Their
  // leases exist before SHARD_END is written, as for a shard read to its end.
  if (!listed_this_poll_) TRIBUTARY_RETURN_IF_ERROR(ListAll());
  for (const std::string& cid : listed_) {
    std::vector<std::string> parents = ParentsOf(known_.at(cid));
    if (std::find(parents.begin(), parents.end(), id) != parents.end()) {
      TRIBUTARY_RETURN_IF_ERROR(CreateChildLease(cid, parents));
    }
  }
  auto finish = [](Lease& l) {
    l.checkpoint = CheckpointPosition::ShardEnd();
    l.pending_checkpoint.reset();
    l.owner.clear();
    l.handoff_to.clear();
    l.expires_at = absl::InfinitePast();
  };
  if (held_.count(id)) {
    if (listener_) listener_->OnShardEnded(id);
    absl::Status s = UpdateHeld(id, finish);
    if (s.code() == absl::StatusCode::kFailedPrecondition) return absl::OkStatus();  // lost
    TRIBUTARY_RETURN_IF_ERROR(s);
    held_.erase(id);
    DropLag(id);
  } else {
    Lease next = lease;
    finish(next);
    absl::StatusOr<Lease> w = table_->UpdateLease(scope_, next);
    if (!w.ok() && w.status().code() == absl::StatusCode::kAborted) return absl::OkStatus();  // raced
    TRIBUTARY_RETURN_IF_ERROR(w.status());
  }
  finished_.insert(id);
  // Reported by the worker whose write finished the shard: exactly once.
  if (gap) ReportGap(id, last, std::nullopt, lost);
  Count([](ConsumerStats& s) { ++s.shards_finished; });
  next_take_ = std::min(next_take_, clock_->Now());
  return absl::OkStatus();
}

absl::Status ConsumerImpl::FinishShard(const std::string& shard_id) {
  if (listener_) listener_->OnShardEnded(shard_id);
  auto it = held_.find(shard_id);
  if (it == held_.end()) return absl::OkStatus();  // lost meanwhile
  // Children's leases first: SHARD_END is written only once they exist, so
  // a crash in between cannot leave children nobody knows about.
  for (const ChildShard& c : it->second.children) {
    TRIBUTARY_RETURN_IF_ERROR(CreateChildLease(c.shard_id, c.parent_shards));
  }
  absl::Status s = UpdateHeld(shard_id, [](Lease& l) {
    l.checkpoint = CheckpointPosition::ShardEnd();
    l.pending_checkpoint.reset();
    l.owner.clear();
    l.handoff_to.clear();
    l.expires_at = absl::InfinitePast();
  });
  if (s.code() == absl::StatusCode::kFailedPrecondition) return absl::OkStatus();  // lost
  TRIBUTARY_RETURN_IF_ERROR(s);
  std::vector<ChildShard> children = std::move(held_.at(shard_id).children);
  held_.erase(shard_id);
  DropLag(shard_id);
  finished_.insert(shard_id);
  Count([](ConsumerStats& st) { ++st.shards_finished; });
  // Take the children now if nothing else holds them back: they continue
  // this shard's keys, and picking them here costs a few lease reads where
  // a take pass would list every unfinished lease. Balancing stays with the
  // periodic take pass (other workers ask for handoffs).
  const absl::Time now = clock_->Now();
  for (const ChildShard& c : children) {
    if (options_.max_leases > 0 && static_cast<int>(held_.size()) >= options_.max_leases) break;
    if (held_.count(c.shard_id)) continue;
    TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Lease> cl, table_->GetLease(scope_, c.shard_id));
    if (!cl || cl->checkpoint.is_shard_end() || !cl->available(now)) continue;
    bool parents_done = true;
    for (const std::string& p : cl->parent_shard_ids) {
      if (finished_.count(p)) continue;
      TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Lease> pl, table_->GetLease(scope_, p));
      if (pl && pl->checkpoint.is_shard_end()) {
        finished_.insert(p);
      } else {
        parents_done = false;  // left to a take pass (e.g. its other parent's finisher)
      }
    }
    if (parents_done) TRIBUTARY_RETURN_IF_ERROR(Acquire(*cl, now));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------ checkpoints

absl::Status ConsumerImpl::CheckPosition(std::string_view what, std::string_view shard_id, const Held& h,
                                         const CheckpointPosition& pos) const {
  const SequenceNumber seq = pos.sequence_number;
  absl::StatusOr<uint32_t> index = ParseShardId(shard_id);
  if (index.ok() && seq.has_counter() && seq.shard_index() != *index) {
    return InvalidArgumentError(
        fmt::format("sequence number {} is not from shard {}", seq.ToString(), shard_id));
  }
  if (pos.sub_sequence_number && *pos.sub_sequence_number < 0) {
    return InvalidArgumentError(fmt::format("cannot {} shard {} at {}: negative sub-sequence number", what,
                                            shard_id, pos.ToString()));
  }
  // Batches end on whole Kinesis records, so the last delivered one is whole.
  if (!h.last_delivered || seq > *h.last_delivered) {
    return InvalidArgumentError(fmt::format(
        "cannot {} shard {} at {}: beyond the last record delivered ({})", what, shard_id, pos.ToString(),
        h.last_delivered ? h.last_delivered->ToString() : std::string("none yet")));
  }
  if (h.lease.checkpoint.has_sequence_number() && PositionLess(pos, h.lease.checkpoint)) {
    return InvalidArgumentError(fmt::format("cannot {} shard {} at {}: before its checkpoint {}", what,
                                            shard_id, pos.ToString(), h.lease.checkpoint.ToString()));
  }
  return absl::OkStatus();
}

absl::Status ConsumerImpl::Checkpoint(std::string_view shard_id, SequenceNumber seq) {
  return Checkpoint(shard_id, CheckpointPosition::After(seq));
}

absl::Status ConsumerImpl::Checkpoint(std::string_view shard_id, const CheckpointPosition& pos) {
  auto it = held_.find(std::string(shard_id));
  if (it == held_.end()) return NotHeldError(worker_id_, shard_id);
  if (!pos.has_sequence_number()) {
    return InvalidArgumentError(fmt::format("cannot checkpoint shard {} at {}: not a record", shard_id,
                                            pos.ToString()));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckPosition("checkpoint", shard_id, it->second, pos));
  return UpdateHeld(std::string(shard_id), [&](Lease& l) {
    l.checkpoint = pos;
    l.pending_checkpoint.reset();
  });
}

absl::Status ConsumerImpl::CheckpointLast(std::string_view shard_id) {
  auto it = held_.find(std::string(shard_id));
  if (it == held_.end()) return NotHeldError(worker_id_, shard_id);
  if (!it->second.last_delivered) return absl::OkStatus();  // nothing to checkpoint
  return Checkpoint(shard_id, *it->second.last_delivered);
}

absl::Status ConsumerImpl::CheckpointAll() {
  std::vector<std::pair<std::string, SequenceNumber>> todo;
  for (const auto& [id, h] : held_) {
    if (h.last_delivered && h.lease.checkpoint != CheckpointPosition::After(*h.last_delivered)) {
      todo.emplace_back(id, *h.last_delivered);
    }
  }
  for (const auto& [id, seq] : todo) TRIBUTARY_RETURN_IF_ERROR(Checkpoint(id, seq));
  return absl::OkStatus();
}

absl::Status ConsumerImpl::PrepareCheckpoint(std::string_view shard_id, SequenceNumber seq,
                                             std::string_view state) {
  return PrepareCheckpoint(shard_id, CheckpointPosition::After(seq), state);
}

absl::Status ConsumerImpl::PrepareCheckpoint(std::string_view shard_id, const CheckpointPosition& pos,
                                             std::string_view state) {
  auto it = held_.find(std::string(shard_id));
  if (it == held_.end()) return NotHeldError(worker_id_, shard_id);
  if (state.size() > kMaxPendingStateBytes) {
    return InvalidArgumentError(
        fmt::format("pending checkpoint state of {} bytes exceeds {}", state.size(), kMaxPendingStateBytes));
  }
  if (!pos.has_sequence_number()) {
    return InvalidArgumentError(fmt::format("cannot prepare a checkpoint of shard {} at {}: not a record",
                                            shard_id, pos.ToString()));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckPosition("prepare a checkpoint of", shard_id, it->second, pos));
  return UpdateHeld(std::string(shard_id), [&](Lease& l) {
    l.pending_checkpoint =
        PendingCheckpoint{pos.sequence_number, std::string(state), pos.sub_sequence_number};
  });
}

absl::Status ConsumerImpl::CommitCheckpoint(std::string_view shard_id) {
  auto it = held_.find(std::string(shard_id));
  if (it == held_.end()) return NotHeldError(worker_id_, shard_id);
  if (!it->second.lease.pending_checkpoint) {
    return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kInvalidArgument,
                     fmt::format("shard {} has no prepared checkpoint to commit", shard_id));
  }
  return UpdateHeld(std::string(shard_id), [&](Lease& l) {
    if (!l.pending_checkpoint) return;  // someone else's write removed it: nothing to commit
    if (CheckpointBefore(l.checkpoint, l.pending_checkpoint->position())) {
      l.checkpoint = l.pending_checkpoint->position();
    }
    l.pending_checkpoint.reset();
  });
}

absl::Status ConsumerImpl::Shutdown() {
  TRIBUTARY_RETURN_IF_ERROR(ConfirmProcessed());
  std::vector<std::string> ids;
  for (const auto& [id, h] : held_) ids.push_back(id);
  for (const std::string& id : ids) TRIBUTARY_RETURN_IF_ERROR(Release(id));
  next_take_ = absl::InfinitePast();
  return absl::OkStatus();
}

// ------------------------------------------------------------------ introspection

std::vector<HeldShard> ConsumerImpl::held() const {
  std::vector<HeldShard> out;
  for (const auto& [id, h] : held_) {
    out.push_back(
        HeldShard{id, h.lease.checkpoint, h.lease.pending_checkpoint, h.last_delivered, h.lease.expires_at});
  }
  return out;
}

void ConsumerImpl::SetLag(const std::string& shard_id, const GetRecordsResult& r) {
  util::MutexLock l(&stats_mu_);
  ShardLag& lag = lag_[shard_id];
  lag.shard_id = shard_id;
  lag.millis_behind_latest = r.millis_behind_latest;
  lag.records_behind = r.records_behind_latest;
}

void ConsumerImpl::DropLag(const std::string& shard_id) {
  util::MutexLock l(&stats_mu_);
  lag_.erase(shard_id);
}

ConsumerLag ConsumerImpl::lag() const {
  util::MutexLock l(&stats_mu_);
  ConsumerLag out;
  for (const auto& [id, s] : lag_) {
    out.shards.push_back(s);
    out.millis_behind_latest = std::max(out.millis_behind_latest, s.millis_behind_latest);
    if (s.records_behind) {
      out.records_behind += *s.records_behind;
    } else {
      out.records_behind_known = false;
    }
  }
  return out;
}

ConsumerStats ConsumerImpl::stats() const {
  util::MutexLock l(&stats_mu_);
  return stats_;
}

}  // namespace tributary::consume
