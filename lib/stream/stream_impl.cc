#include "stream/stream_impl.h"

#include <fmt/format.h>

#include <algorithm>

#include "log/mem_log.h"
#include "shard/kinesis_sequence.h"
#include "shard/uniform.h"
#include "stream/store_impl.h"
#include "util/coding.h"
#include "util/status_macros.h"

namespace tributary::stream {
namespace {

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

// Shard counters stay below this, so counter + 1 never wraps. A shard would
// need 2^62 appends (or a SequenceNumberForOrdering this large) to reach it.
constexpr uint64_t kMaxCounter = uint64_t{1} << 62;
// Durable stores reserve counters in the catalog this many at a time.
constexpr uint64_t kReserveStep = uint64_t{1} << 20;
int64_t HoursMs(int hours) { return int64_t{hours} * 3600 * 1000; }

// Shard::seq_created_s of `s`, given the shards before it.
int64_t SeqCreatedSeconds(const Shard& s, const std::vector<std::unique_ptr<Shard>>& shards) {
  int64_t t = s.created_ms / 1000;
  for (const std::optional<uint32_t>& p : {s.parent, s.adjacent_parent}) {
    if (p && *p < shards.size()) t = std::max(t, shards[*p]->seq_created_s + 1);
  }
  return t;
}

}  // namespace

// ------------------------------------------------------------ construction

StreamImpl::StreamImpl(StoreImpl* store, std::string name, uint64_t incarnation, absl::Time now,
                       absl::Time active_at, const CreateStreamOptions& options, int shard_count)
    : store_(store),
      name_(std::move(name)),
      arn_(store->Arn(name_)),
      incarnation_(incarnation),
      // Milliseconds, as the catalog keeps it (docs/FORMAT.md): the creation
      // time a stream reports is the same before and after a reopen.
      created_(absl::FromUnixMillis(Ms(now))),
      throughput_(store->options().throughput) {
  util::WriterLock l(&mu_);
  seq_format_ = options.sequence_format.value_or(store->options().sequence_format);
  mode_ = options.mode;
  max_record_size_ = static_cast<size_t>(options.max_record_size_kib) * 1024;
  retention_hours_ = limits::kDefaultRetentionHours;
  tags_ = options.tags;
  constructing_ = true;
  for (const HashKeyRange& r : shard::UniformRanges(shard_count)) {
    NewShard(r, std::nullopt, std::nullopt, /*start_counter=*/1, Ms(now));
  }
  constructing_ = false;
  RebuildRoutes();
  accounted_shards_ = shard_count;
  accounted_on_demand_ = mode_ == StreamMode::kOnDemand;
  if (active_at > now) {
    status_ = StreamStatus::kCreating;
    transition_done_ = active_at;
    transition_pending_.store(true, std::memory_order_release);
  } else {
    status_ = StreamStatus::kActive;
    transition_done_ = now;
  }
}

StreamImpl::StreamImpl(StoreImpl* store, std::string name, uint64_t incarnation, absl::Time created)
    : store_(store),
      name_(std::move(name)),
      arn_(store->Arn(name_)),
      incarnation_(incarnation),
      created_(created),
      throughput_(store->options().throughput) {}

// ------------------------------------------------------------ persistence
//
// Catalog blob, version 1 (docs/FORMAT.md "Catalog"): little-endian, see
// util/coding.h. Field order is the format; append new fields at the end
// and bump kBlobVersion.

namespace {
constexpr uint8_t kBlobVersion = 1;
}  // namespace

std::string StreamImpl::SerializeLocked() const {
  util::Encoder e;
  e.U8(kBlobVersion);
  e.U64(incarnation_);
  e.I64(Ms(created_));
  e.U8(static_cast<uint8_t>(status_));
  e.I64(Ms(transition_done_));
  e.U8(pending_.has_value());
  if (pending_) {
    e.U8(static_cast<uint8_t>(pending_->kind));
    e.U32(pending_->a);
    e.U32(pending_->b);
    e.U128(pending_->key.value());
    e.U32(static_cast<uint32_t>(pending_->target));
    e.U8(static_cast<uint8_t>(pending_->mode));
  }
  e.U8(static_cast<uint8_t>(mode_));
  e.U64(max_record_size_);
  e.U32(static_cast<uint32_t>(retention_hours_));
  e.I64(trim_floor_ms_);
  e.U32(static_cast<uint32_t>(accounted_shards_));
  e.U8(accounted_on_demand_);
  e.U32(static_cast<uint32_t>(tags_.size()));
  for (const auto& [k, v] : tags_) {
    e.Str(k);
    e.Str(v);
  }
  e.U32(static_cast<uint32_t>(rescales_.size()));
  for (absl::Time t : rescales_) e.I64(Ms(t));
  e.U32(static_cast<uint32_t>(mode_changes_.size()));
  for (absl::Time t : mode_changes_) e.I64(Ms(t));
  e.U32(static_cast<uint32_t>(shards_.size()));
  for (const auto& sp : shards_) {
    const Shard& sh = *sp;
    e.U32(sh.index);
    e.U128(sh.range.start.value());
    e.U128(sh.range.end.value());
    e.U8(sh.parent.has_value());
    e.U32(sh.parent.value_or(0));
    e.U8(sh.adjacent_parent.has_value());
    e.U32(sh.adjacent_parent.value_or(0));
    e.U64(sh.start_counter);
    e.I64(sh.created_ms);
    e.U8(sh.closed);
    e.I64(sh.closed_ms);
    e.U8(sh.closed_last_counter.has_value());
    e.U64(sh.closed_last_counter.value_or(0));
    e.I64(sh.expires_after_ms);
    e.U8(sh.released);
    e.U64(sh.reserved_counter.load(std::memory_order_relaxed));
  }
  // Trailing section (consumers and state-only settings). Blobs written
  // before it existed end here; Restore reads them as "none".
  e.U32(static_cast<uint32_t>(consumers_.size()));
  for (const auto& [n, c] : consumers_) {
    e.Str(c.name);
    e.I64(c.created_ms);
    e.I64(c.active_at_ms);
    e.I64(c.gone_at_ms);
    e.U32(static_cast<uint32_t>(c.tags.size()));
    for (const auto& [k, v] : c.tags) {
      e.Str(k);
      e.Str(v);
    }
    e.U8(c.policy.has_value());
    e.Str(c.policy.value_or(""));
  }
  e.U8(static_cast<uint8_t>(encryption_));
  e.Str(key_id_);
  e.U32(static_cast<uint32_t>(key_changes_.size()));
  for (absl::Time t : key_changes_) e.I64(Ms(t));
  e.U32(static_cast<uint32_t>(metrics_.size()));
  for (const std::string& m : metrics_) e.Str(m);
  e.U8(policy_.has_value());
  e.Str(policy_.value_or(""));
  e.U8(warm_.has_value());
  e.U32(static_cast<uint32_t>(warm_ ? warm_->target_mibps : 0));
  e.U32(static_cast<uint32_t>(warm_ ? warm_->current_mibps : 0));
  // Trailing field: the sequence-number layout (types.h SequenceFormat).
  // Blobs written before it existed end here; Restore reads them as
  // kTributary, the only layout there was.
  e.U8(static_cast<uint8_t>(seq_format_));
  return std::move(e.buffer());
}

absl::Status StreamImpl::PersistLocked() {
  if (!store_->durable()) return absl::OkStatus();
  return store_->PersistStream(name_, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return SerializeLocked();
  });
}

int StreamImpl::AccountedShards() {
  util::ReaderLock l(&mu_);
  return accounted_shards_;
}

bool StreamImpl::AccountedOnDemand() {
  util::ReaderLock l(&mu_);
  return accounted_on_demand_;
}

absl::Status StreamImpl::ReserveCounter(Shard* s, uint64_t counter) {
  if (!store_->durable() || counter < s->reserved_counter.load(std::memory_order_relaxed)) {
    return absl::OkStatus();
  }
  s->reserved_counter.store(counter + kReserveStep, std::memory_order_relaxed);
  return PersistLocked();
}

std::string StreamImpl::Serialize() {
  util::ReaderLock l(&mu_);
  return SerializeLocked();
}

absl::Status StreamImpl::Persist() {
  util::ReaderLock l(&mu_);
  return PersistLocked();
}

void StreamImpl::AfterRecovery() {
  util::ReaderLock l(&mu_);
  for (auto& sp : shards_) {
    util::MutexLock dl(&sp->data_mu);
    if (sp->released) continue;
    sp->next_counter = std::max(sp->next_counter, sp->log->RecoveredNextCounter());
    if (std::optional<int64_t> t = sp->log->newest_arrival_ms()) {
      sp->last_arrival_ms = std::max(sp->last_arrival_ms, *t);
      if (!sp->closed && sp->next_counter > sp->start_counter) sp->last_counter = sp->next_counter - 1;
    }
  }
}

void StreamImpl::DestroyStorage() {
  util::WriterLock l(&mu_);
  for (auto& sp : shards_) {
    util::MutexLock dl(&sp->data_mu);
    IgnoreError(sp->log->Destroy());
  }
  store_->RemoveStreamDir(name_, incarnation_);
}

namespace {

// What is wrong with a decoded stream blob, or "" (see Restore): enum values
// in range; shards numbered in creation order, so a parent's index is below
// its child's; ranges well-formed; the open shards partition the hash-key
// space (routing relies on it); a pending change only while UPDATING; a
// pending reshard names open shards, a
// split key strictly inside its shard, adjacent shards for a merge, and a
// shard count UpdateShardCount would accept.
struct RestoredScalars {
  uint8_t status, mode;
  int32_t retention_hours;
  int64_t created_ms, transition_done_ms, trim_floor_ms;
  int32_t accounted_shards;
};

// Times the stream does arithmetic with (retention windows, transitions)
// must be plausible: from 1970 to the year 9999.
bool PlausibleMs(int64_t ms) { return ms >= 0 && ms <= 253402300799999; }

// What is wrong with a pending change of a restored stream, or "".
std::string CheckPending(const std::optional<PendingChange>& pending,
                         const std::vector<std::unique_ptr<Shard>>& shards, size_t open_count) {
  if (!pending) return "";
  auto open_shard = [&](uint32_t i) { return i < shards.size() && !shards[i]->closed; };
  switch (pending->kind) {
    case PendingChange::Kind::kSplit: {
      if (!open_shard(pending->a)) return fmt::format("pending split of shard {}", pending->a);
      const HashKeyRange& r = shards[pending->a]->range;
      if (!(r.start < pending->key && pending->key <= r.end)) return "pending split key outside its shard";
      return "";
    }
    case PendingChange::Kind::kMerge:
      if (!open_shard(pending->a) || !open_shard(pending->b) ||
          !(shards[pending->a]->range.IsFollowedBy(shards[pending->b]->range) ||
            shards[pending->b]->range.IsFollowedBy(shards[pending->a]->range))) {
        return fmt::format("pending merge of shards {} and {}", pending->a, pending->b);
      }
      return "";
    case PendingChange::Kind::kScale: {
      const int64_t n = static_cast<int64_t>(open_count);
      if (pending->target < 1 || pending->target > limits::kMaxShardsPerStream ||
          pending->target > 2 * n || 2 * int64_t{pending->target} < n) {
        return fmt::format("pending UpdateShardCount to {} from {} shards", pending->target, n);
      }
      return "";
    }
    case PendingChange::Kind::kMode:
      if (static_cast<uint8_t>(pending->mode) > static_cast<uint8_t>(StreamMode::kOnDemand)) {
        return "pending mode change to an unknown mode";
      }
      return "";
    case PendingChange::Kind::kState:
    case PendingChange::Kind::kWarm:
      return "";
  }
  return "unknown pending change";
}

std::string CheckRestored(const RestoredScalars& v, const std::optional<PendingChange>& pending,
                          const std::vector<std::unique_ptr<Shard>>& shards) {
  if (v.status > static_cast<uint8_t>(StreamStatus::kUpdating)) return fmt::format("status {}", v.status);
  if (v.mode > static_cast<uint8_t>(StreamMode::kOnDemand)) return fmt::format("mode {}", v.mode);
  if (v.retention_hours < limits::kMinRetentionHours || v.retention_hours > limits::kMaxRetentionHours) {
    return fmt::format("retention of {} hours", v.retention_hours);
  }
  if (!PlausibleMs(v.created_ms) || !PlausibleMs(v.transition_done_ms) ||
      (v.trim_floor_ms != INT64_MIN && !PlausibleMs(v.trim_floor_ms))) {
    return fmt::format("implausible times (created {}, transition {}, trim floor {} ms)", v.created_ms,
                       v.transition_done_ms, v.trim_floor_ms);
  }
  if (shards.empty()) return "no shards";
  std::vector<HashKeyRange> open;
  for (const auto& sp : shards) {
    const Shard& sh = *sp;
    if (sh.range.end < sh.range.start) return fmt::format("shard {} has an empty range", sh.index);
    if (!PlausibleMs(sh.created_ms) || (sh.closed && !PlausibleMs(sh.closed_ms))) {
      return fmt::format("shard {} has implausible times", sh.index);
    }
    if (sh.parent && *sh.parent >= sh.index) {
      return fmt::format("shard {} has parent {}", sh.index, *sh.parent);
    }
    if (sh.adjacent_parent && (!sh.parent || *sh.adjacent_parent >= sh.index)) {
      return fmt::format("shard {} has adjacent parent {}", sh.index, *sh.adjacent_parent);
    }
    if (!sh.closed) open.push_back(sh.range);
  }
  std::sort(open.begin(), open.end(),
            [](const HashKeyRange& a, const HashKeyRange& b) { return a.start < b.start; });
  if (open.empty() || open.front().start != HashKey::Min() || open.back().end != HashKey::Max()) {
    return "the open shards do not cover the hash-key space";
  }
  for (size_t i = 1; i < open.size(); ++i) {
    if (!open[i - 1].IsFollowedBy(open[i])) return "the open shards overlap or leave a gap";
  }
  // A change is pending only while UPDATING (BeginUpdate); one kept beside
  // another status would outlive the shards it names (an ACTIVE stream
  // splits the shard at once) and be written back unreadable.
  if (pending && v.status != static_cast<uint8_t>(StreamStatus::kUpdating)) {
    return fmt::format("a pending change while the stream is not UPDATING (status {})", v.status);
  }
  if (std::string why = CheckPending(pending, shards, open.size()); !why.empty()) return why;
  // What the stream holds against the account's shard limit is its open
  // shards plus what an accepted reshard adds (Split +1, Merge -1,
  // UpdateShardCount target - open); anything else drifts (a negative count
  // after the next scale-down, say) and the store would refuse to reopen.
  int64_t accounted = static_cast<int64_t>(open.size());
  if (pending && pending->kind == PendingChange::Kind::kSplit) accounted += 1;
  if (pending && pending->kind == PendingChange::Kind::kMerge) accounted -= 1;
  if (pending && pending->kind == PendingChange::Kind::kScale) accounted = pending->target;
  if (v.accounted_shards != accounted) {
    return fmt::format("{} shards accounted for {} open shards{}", v.accounted_shards, open.size(),
                       pending ? " and a pending change" : "");
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<StreamImpl>> StreamImpl::Restore(StoreImpl* store,
                                                                const std::string& name,
                                                                std::string_view blob) {
  util::Decoder d(blob);
  auto bad = [] {
    return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                     "catalog entry of a stream does not decode");
  };
  uint8_t version = 0, status = 0, has_pending = 0, mode = 0, on_demand = 0;
  uint64_t incarnation = 0, max_record = 0;
  int64_t created_ms = 0, done_ms = 0;
  if (!d.U8(&version) || version != kBlobVersion || !d.U64(&incarnation) || !d.I64(&created_ms) ||
      !d.U8(&status) || !d.I64(&done_ms) || !d.U8(&has_pending)) {
    return bad();
  }
  std::optional<PendingChange> pending;
  if (has_pending) {
    PendingChange c;
    uint8_t kind = 0, pmode = 0;
    absl::uint128 key = 0;
    int32_t target = 0;
    if (!d.U8(&kind) || !d.U32(&c.a) || !d.U32(&c.b) || !d.U128(&key) || !d.I32(&target) ||
        !d.U8(&pmode) || kind < 1 || kind > 6) {
      return bad();
    }
    c.kind = static_cast<PendingChange::Kind>(kind);
    c.key = HashKey(key);
    c.target = target;
    c.mode = static_cast<StreamMode>(pmode);
    pending = c;
  }
  int32_t retention = 0, accounted = 0;
  int64_t trim_floor = 0;
  uint32_t ntags = 0;
  if (!d.U8(&mode) || !d.U64(&max_record) || !d.I32(&retention) || !d.I64(&trim_floor) ||
      !d.I32(&accounted) || !d.U8(&on_demand) || !d.U32(&ntags)) {
    return bad();
  }
  std::map<std::string, std::string> tags;
  for (uint32_t i = 0; i < ntags; ++i) {
    std::string k, v;
    if (!d.Str(&k) || !d.Str(&v)) return bad();
    tags[k] = v;
  }
  std::deque<absl::Time> rescales, mode_changes;
  for (std::deque<absl::Time>* q : {&rescales, &mode_changes}) {
    uint32_t n = 0;
    if (!d.U32(&n)) return bad();
    for (uint32_t i = 0; i < n; ++i) {
      int64_t t = 0;
      if (!d.I64(&t)) return bad();
      q->push_back(absl::FromUnixMillis(t));
    }
  }
  uint32_t nshards = 0;
  if (!d.U32(&nshards)) return bad();
  std::vector<std::unique_ptr<Shard>> shards;
  for (uint32_t i = 0; i < nshards; ++i) {
    auto sh = std::make_unique<Shard>();
    absl::uint128 start = 0, end = 0;
    uint8_t has_parent = 0, has_adj = 0, closed = 0, has_last = 0, released = 0;
    uint32_t parent = 0, adj = 0;
    uint64_t last = 0, reserved = 0;
    if (!d.U32(&sh->index) || sh->index != i || !d.U128(&start) || !d.U128(&end) ||
        !d.U8(&has_parent) || !d.U32(&parent) || !d.U8(&has_adj) || !d.U32(&adj) ||
        !d.U64(&sh->start_counter) || !d.I64(&sh->created_ms) || !d.U8(&closed) ||
        !d.I64(&sh->closed_ms) || !d.U8(&has_last) || !d.U64(&last) ||
        !d.I64(&sh->expires_after_ms) || !d.U8(&released) || !d.U64(&reserved)) {
      return bad();
    }
    sh->reserved_counter.store(reserved, std::memory_order_relaxed);
    sh->id = FormatShardId(sh->index);
    sh->range = {HashKey(start), HashKey(end)};
    if (has_parent) sh->parent = parent;
    if (has_adj) sh->adjacent_parent = adj;
    sh->closed = closed;
    if (has_last) sh->closed_last_counter = last;
    sh->released = released;
    shards.push_back(std::move(sh));
  }
  // Trailing section; absent in blobs written before consumers existed.
  std::map<std::string, ConsumerState> consumers;
  uint8_t encryption = 0, has_policy = 0, has_warm = 0;
  std::string key_id;
  std::deque<absl::Time> key_changes;
  std::set<std::string> metrics;
  std::optional<std::string> policy;
  std::optional<WarmThroughput> warm;
  if (!d.done()) {
    uint32_t n = 0;
    if (!d.U32(&n)) return bad();
    for (uint32_t i = 0; i < n; ++i) {
      ConsumerState c;
      uint32_t nt = 0;
      uint8_t hp = 0;
      std::string p;
      if (!d.Str(&c.name) || !d.I64(&c.created_ms) || !d.I64(&c.active_at_ms) ||
          !d.I64(&c.gone_at_ms) || !d.U32(&nt)) {
        return bad();
      }
      for (uint32_t j = 0; j < nt; ++j) {
        std::string k, v;
        if (!d.Str(&k) || !d.Str(&v)) return bad();
        c.tags[k] = v;
      }
      if (!d.U8(&hp) || !d.Str(&p)) return bad();
      if (hp) c.policy = std::move(p);
      std::string key = c.name;
      consumers[key] = std::move(c);
    }
    uint32_t nk = 0, nm = 0;
    if (!d.U8(&encryption) || encryption > 1 || !d.Str(&key_id) || !d.U32(&nk)) return bad();
    for (uint32_t i = 0; i < nk; ++i) {
      int64_t t = 0;
      if (!d.I64(&t)) return bad();
      key_changes.push_back(absl::FromUnixMillis(t));
    }
    if (!d.U32(&nm)) return bad();
    for (uint32_t i = 0; i < nm; ++i) {
      std::string m;
      if (!d.Str(&m)) return bad();
      metrics.insert(std::move(m));
    }
    std::string p;
    int32_t target = 0, current = 0;
    if (!d.U8(&has_policy) || !d.Str(&p) || !d.U8(&has_warm) || !d.I32(&target) ||
        !d.I32(&current)) {
      return bad();
    }
    if (has_policy) policy = std::move(p);
    if (has_warm) warm = WarmThroughput{target, current};
  }
  uint8_t seq_format = static_cast<uint8_t>(SequenceFormat::kTributary);
  if (!d.done() && (!d.U8(&seq_format) || seq_format > static_cast<uint8_t>(SequenceFormat::kKinesis))) {
    return bad();
  }
  if (!d.done()) return bad();
  // A blob that decodes can still be inconsistent (a bug, or bytes edited
  // behind the checksum): the rest of the stream trusts these fields, so
  // check them here and refuse to open rather than index out of bounds.
  if (std::string why = CheckRestored({status, mode, retention, created_ms, done_ms, trim_floor, accounted},
                                      pending, shards);
      !why.empty()) {
    return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                     fmt::format("catalog entry of stream {} is inconsistent: {}", name, why));
  }

  std::unique_ptr<StreamImpl> st(
      new StreamImpl(store, name, incarnation, absl::FromUnixMillis(created_ms)));
  {
    util::WriterLock l(&st->mu_);
    st->status_ = static_cast<StreamStatus>(status);
    st->transition_done_ = absl::FromUnixMillis(done_ms);
    st->pending_ = pending;
    st->mode_ = static_cast<StreamMode>(mode);
    st->max_record_size_ = max_record;
    st->retention_hours_ = retention;
    st->trim_floor_ms_ = trim_floor;
    st->accounted_shards_ = accounted;
    st->accounted_on_demand_ = on_demand;
    st->tags_ = std::move(tags);
    st->rescales_ = std::move(rescales);
    st->mode_changes_ = std::move(mode_changes);
    st->consumers_ = std::move(consumers);
    st->encryption_ = static_cast<EncryptionType>(encryption);
    st->key_id_ = std::move(key_id);
    st->key_changes_ = std::move(key_changes);
    st->metrics_ = std::move(metrics);
    st->policy_ = std::move(policy);
    st->warm_ = warm;
    st->seq_format_ = static_cast<SequenceFormat>(seq_format);
    st->shards_ = std::move(shards);
    for (auto& sp : st->shards_) {
      Shard& sh = *sp;
      // Parents have lower indexes: theirs are set already.
      sh.seq_created_s = SeqCreatedSeconds(sh, st->shards_);
      if (sh.parent) st->shards_[*sh.parent]->children.push_back(sh.index);
      if (sh.adjacent_parent) st->shards_[*sh.adjacent_parent]->children.push_back(sh.index);
      util::MutexLock dl(&sh.data_mu);
      st->InitBuckets(&sh, store->Now());
      if (sh.released) {
        sh.log = std::make_unique<log::MemShardLog>(store->chunk_pool());
        sh.next_counter = sh.start_counter;
        continue;
      }
      TRIBUTARY_ASSIGN_OR_RETURN(
          sh.log, store->OpenLog(name, incarnation, sh.index, sh.start_counter,
                                 sh.reserved_counter.load(std::memory_order_relaxed), /*create=*/false));
      // Above everything the log holds and everything ever reserved: records
      // acknowledged without sync and lost, or hidden behind damage, keep
      // their numbers.
      sh.next_counter = std::max({sh.start_counter, sh.log->RecoveredNextCounter(),
                                  sh.reserved_counter.load(std::memory_order_relaxed)});
      // A shard that ever issued a number: its last is at most next - 1 (a
      // shard's first reservation comes with it, so only records or a
      // later reservation tell).
      const bool issued = sh.log->newest_arrival_ms().has_value() ||
                          sh.reserved_counter.load(std::memory_order_relaxed) > sh.start_counter + kReserveStep;
      if (sh.next_counter > sh.start_counter && issued) sh.last_counter = sh.next_counter - 1;
      sh.last_arrival_ms = sh.log->newest_arrival_ms().value_or(sh.created_ms);
    }
    st->RebuildRoutes();
    bool in_transition = st->status_ == StreamStatus::kCreating || st->status_ == StreamStatus::kUpdating;
    st->transition_pending_.store(in_transition, std::memory_order_release);
  }
  return st;
}

StreamImpl::~StreamImpl() {
  util::WriterLock l(&mu_);
  store_->ReleaseShards(accounted_shards_);
  if (accounted_on_demand_) store_->ReleaseOnDemand();
}

void StreamImpl::MarkDeleting(absl::Time now, absl::Time gone_at) {
  util::WriterLock l(&mu_);
  status_ = StreamStatus::kDeleting;
  transition_done_ = gone_at;
  pending_.reset();
  transition_pending_.store(false, std::memory_order_release);
  gone_at_ns_.store(absl::ToUnixNanos(std::max(now, gone_at)), std::memory_order_release);
}

// ------------------------------------------------------------ status machine

void StreamImpl::FinishTransitionIfDue(absl::Time now) {
  if (!transition_pending_.load(std::memory_order_acquire)) return;
  util::WriterLock l(&mu_);
  FinishTransitionLocked(now);
}

void StreamImpl::FinishTransitionLocked(absl::Time now) {
  if (status_ != StreamStatus::kCreating && status_ != StreamStatus::kUpdating) return;
  if (now < transition_done_) return;
  if (pending_) {
    PendingChange change = *pending_;
    pending_.reset();
    // The change happened when UPDATING ended, not when it was observed.
    ApplyChange(change, Ms(transition_done_));
  }
  status_ = StreamStatus::kActive;
  transition_pending_.store(false, std::memory_order_release);
  // A failure marks the store unhealthy (writes then fail); the catalog on
  // disk still holds the pending change, so a reopen applies it again.
  IgnoreError(PersistLocked());
}

absl::Status StreamImpl::BeginUpdate(absl::Time now, const PendingChange& change) {
  absl::Duration delay = store_->options().update_delay;
  if (delay <= absl::ZeroDuration()) {
    ApplyChange(change, Ms(now));
    return PersistLocked();
  }
  status_ = StreamStatus::kUpdating;
  transition_done_ = now + delay;
  pending_ = change;
  transition_pending_.store(true, std::memory_order_release);
  return PersistLocked();
}

void StreamImpl::ApplyChange(const PendingChange& c, int64_t at_ms) {
  switch (c.kind) {
    case PendingChange::Kind::kSplit:
      DoSplit(shards_[c.a].get(), c.key, at_ms);
      RebuildRoutes();
      break;
    case PendingChange::Kind::kMerge:
      DoMerge(shards_[c.a].get(), shards_[c.b].get(), at_ms);
      RebuildRoutes();
      break;
    case PendingChange::Kind::kScale:
      DoUniformScale(c.target, at_ms);
      break;
    case PendingChange::Kind::kMode:
      mode_ = c.mode;
      break;
    case PendingChange::Kind::kState:
      break;
    case PendingChange::Kind::kWarm:
      if (warm_) warm_->current_mibps = c.target;
      break;
  }
  ReleaseExpired(at_ms);
}

StreamStatus StreamImpl::StatusLocked() const { return status_; }

StreamStatus StreamImpl::Status(absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  return status_;
}

absl::Time StreamImpl::TransitionDone() {
  util::ReaderLock l(&mu_);
  return transition_done_;
}

absl::Status StreamImpl::CheckReadable() const {
  if (status_ == StreamStatus::kActive || status_ == StreamStatus::kUpdating) {
    return absl::OkStatus();
  }
  return ResourceNotFoundError(fmt::format("Stream {} under account {} not found (it is {}).",
                                           name_, store_->options().account_id,
                                           ToString(status_)));
}

absl::Status StreamImpl::CheckActiveForChange(std::string_view action) const {
  if (status_ == StreamStatus::kActive) return absl::OkStatus();
  return ResourceInUseError(fmt::format(
      "Stream {} under account {} is {}, not ACTIVE: {} must wait until it is ACTIVE "
      "(one change at a time).",
      name_, store_->options().account_id, ToString(status_), action));
}

// ------------------------------------------------------------ shards

int64_t StreamImpl::VisibleFromMs(int64_t now_ms) const {
  return std::max(trim_floor_ms_, now_ms - HoursMs(retention_hours_) + 1);
}

bool StreamImpl::Expired(const Shard& s, int64_t now_ms) const {
  return s.released || (s.closed && s.expires_after_ms < VisibleFromMs(now_ms));
}

ShardState StreamImpl::StateOf(const Shard& s, int64_t now_ms) const {
  if (!s.closed) return ShardState::kOpen;
  return Expired(s, now_ms) ? ShardState::kExpired : ShardState::kClosed;
}

ShardDescription StreamImpl::DescribeShard(const Shard& s, int64_t now_ms) const {
  ShardDescription d;
  d.shard_id = s.id;
  if (s.parent) d.parent_shard_id = FormatShardId(*s.parent);
  if (s.adjacent_parent) d.adjacent_parent_shard_id = FormatShardId(*s.adjacent_parent);
  d.hash_key_range = s.range;
  // The advertised starting number sits just below the first record's, so
  // AT_ and AFTER_SEQUENCE_NUMBER of it are both valid and read the shard
  // from its first record (docs/CONCEPTS.md "Sequence numbers").
  d.starting_sequence_number = MakeSeq(s, s.start_counter - 1, s.created_ms);
  if (s.closed) {
    // The last record's number (its arrival is expires_after_ms, which is
    // persisted), so a reader can tell it has read the shard to its end.
    d.ending_sequence_number = s.closed_last_counter ? MakeSeq(s, *s.closed_last_counter, s.expires_after_ms)
                                                     : d.starting_sequence_number;
  }
  d.state = StateOf(s, now_ms);
  return d;
}

std::string StreamImpl::ShardNotFound(std::string_view id) const {
  // Kinesis names the shard by its canonical id ("shard-5" is reported as
  // shardId-000000000005).
  absl::StatusOr<uint32_t> idx = ParseShardId(id);
  return fmt::format("Shard {} in stream {} under account {} does not exist",
                     idx.ok() ? FormatShardId(*idx) : std::string(id.substr(0, 128)), name_,
                     store_->options().account_id);
}

absl::StatusOr<Shard*> StreamImpl::FindShard(std::string_view id) const {
  absl::StatusOr<uint32_t> idx = ParseShardId(id);
  if (!idx.ok() || *idx >= shards_.size()) return ResourceNotFoundError(ShardNotFound(id));
  return shards_[*idx].get();
}

absl::StatusOr<Shard*> StreamImpl::FindOpenShardForReshard(std::string_view id) const {
  absl::StatusOr<uint32_t> idx = ParseShardId(id);
  if (!idx.ok() || *idx >= shards_.size()) {
    // SplitShard's and MergeShards' wording (observed).
    return ResourceNotFoundError(fmt::format(
        "Could not find shard {} in stream {} under account {}.",
        idx.ok() ? FormatShardId(*idx) : std::string(id.substr(0, 128)), name_, store_->options().account_id));
  }
  Shard* s = shards_[*idx].get();
  if (s->closed) {
    return ResourceInUseError(fmt::format(
        "Shard {} in stream {} under account {} has already been merged or split, and thus "
        "is not eligible for merging or splitting.",
        s->id, name_, store_->options().account_id));
  }
  return s;
}

Shard* StreamImpl::Route(HashKey k) const {
  // routes_ partitions the hash space, sorted by start: the owner is the last
  // entry whose start <= k.
  auto it = std::upper_bound(routes_.begin(), routes_.end(), k,
                             [](HashKey v, const std::pair<HashKey, Shard*>& r) {
                               return v < r.first;
                             });
  return std::prev(it)->second;
}

std::vector<Shard*> StreamImpl::OpenShardsByRange() const {
  std::vector<Shard*> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.second);
  return out;
}

void StreamImpl::InitBuckets(Shard* s, absl::Time now) {
  s->write_bytes.Reset(throughput_.write_bytes_per_second, now);
  s->write_records.Reset(throughput_.write_records_per_second, now);
  s->read_bytes.Reset(throughput_.read_bytes_per_second, now);
  s->read_calls.Reset(throughput_.read_calls_per_second, now);
}

SequenceNumber StreamImpl::MakeSeq(const Shard& s, uint64_t counter, int64_t arrival_ms) const {
  if (seq_format_ == SequenceFormat::kTributary) return SequenceNumber::FromParts(counter, s.index);
  return SequenceNumber::FromKinesisParts(s.seq_created_s, s.index, counter,
                                          std::max<int64_t>(arrival_ms, 0) / 1000);
}

absl::StatusOr<SequenceNumber> StreamImpl::ParseSequenceFor(const Shard& s, std::string_view text,
                                                            std::string_view what,
                                                            std::string_view operation) const {
  const std::string& account = store_->options().account_id;
  if (seq_format_ == SequenceFormat::kTributary) {
    TRIBUTARY_ASSIGN_OR_RETURN(SequenceNumber seq, SequenceNumber::Parse(text, what));
    if (seq.shard_index() != s.index) {
      return InvalidArgumentError(fmt::format("Invalid {}. It encodes {}, while it was used in a call to a shard with {}",
                                              what, FormatShardId(seq.shard_index()), s.id));
    }
    return seq;
  }
  // Kinesis' layout: read the number as Kinesis does, with its messages.
  TRIBUTARY_ASSIGN_OR_RETURN(SequenceNumber seq, SequenceNumber::ParseAny(text, what));
  const std::optional<shard::KinesisSequenceFields> f = shard::ReadKinesisSequence(seq);
  if (!f.has_value()) {
    return InvalidArgumentError(fmt::format("{} {} used in {} on shard {} in stream {} under account {} is invalid.",
                                            what, text, operation, s.id, name_, account));
  }
  if (f->shard_index != static_cast<int64_t>(s.index)) {
    return InvalidArgumentError(fmt::format("Invalid {}. It encodes {}, while it was used in a call to a shard with {}",
                                            what, shard::KinesisShardName(f->shard_index), s.id));
  }
  if (f->version != 2 || f->shard_created_s != s.seq_created_s) {
    // Observed: Kinesis fails on its old (version 0) numbers of the right
    // shard rather than saying so.
    if (f->version == 0) return InternalFailureError(fmt::format("{} {} is of an unsupported layout", what, text));
    return InvalidArgumentError(fmt::format(
        "{} {} used in {} on shard {} in stream {} under account {} is invalid because it did not come "
        "from this stream.",
        what, text, operation, s.id, name_, account));
  }
  return seq;
}

Shard* StreamImpl::NewShard(HashKeyRange range, std::optional<uint32_t> parent,
                            std::optional<uint32_t> adjacent, uint64_t start_counter,
                            int64_t now_ms) {
  auto s = std::make_unique<Shard>();
  s->index = static_cast<uint32_t>(shards_.size());
  s->id = FormatShardId(s->index);
  s->range = range;
  s->parent = parent;
  s->adjacent_parent = adjacent;
  s->start_counter = start_counter;
  s->created_ms = now_ms;
  s->seq_created_s = SeqCreatedSeconds(*s, shards_);
  {
    util::MutexLock dl(&s->data_mu);
    if (constructing_) {
      absl::StatusOr<std::unique_ptr<log::ShardLog>> l =
          store_->OpenLog(name_, incarnation_, s->index, start_counter, 0, /*create=*/true);
      if (l.ok()) {
        s->log = std::move(*l);
      } else {
        if (init_status_.ok()) init_status_ = l.status();
        s->log = std::make_unique<log::MemShardLog>(store_->chunk_pool());
      }
    } else {
      s->log = store_->NewLog(name_, incarnation_, s->index, start_counter);
    }
    s->next_counter = start_counter;
    s->last_arrival_ms = now_ms;
    // The first counters are reserved with the shard itself (the catalog
    // write that commits it), so a shard's first record does not rewrite
    // the catalog.
    if (store_->durable()) s->reserved_counter.store(start_counter + kReserveStep, std::memory_order_relaxed);
    InitBuckets(s.get(), absl::FromUnixMillis(now_ms));
  }
  Shard* raw = s.get();
  shards_.push_back(std::move(s));
  if (parent) shards_[*parent]->children.push_back(raw->index);
  if (adjacent) shards_[*adjacent]->children.push_back(raw->index);
  return raw;
}

uint64_t StreamImpl::CloseShard(Shard* s, int64_t now_ms) {
  util::MutexLock dl(&s->data_mu);
  s->closed = true;
  s->closed_ms = std::max(now_ms, s->last_arrival_ms);
  s->closed_last_counter = s->last_counter;
  s->expires_after_ms = s->last_counter ? s->last_arrival_ms : s->closed_ms;
  // A child's first counter exceeds every counter of this shard by at least
  // two, so the child's advertised starting number (first counter - 1) is
  // still above this shard's ending number.
  return std::max(s->next_counter, s->start_counter) + 1;
}

void StreamImpl::DoSplit(Shard* s, HashKey k, int64_t now_ms) {
  uint64_t next = CloseShard(s, now_ms);
  NewShard({s->range.start, HashKey(k.value() - 1)}, s->index, std::nullopt, next, now_ms);
  NewShard({k, s->range.end}, s->index, std::nullopt, next, now_ms);
}

Shard* StreamImpl::DoMerge(Shard* a, Shard* b, int64_t now_ms) {
  uint64_t next = std::max(CloseShard(a, now_ms), CloseShard(b, now_ms));
  HashKeyRange r{std::min(a->range.start, b->range.start), std::max(a->range.end, b->range.end)};
  return NewShard(r, a->index, b->index, next, now_ms);
}

void StreamImpl::RebuildRoutes() {
  routes_.clear();
  for (const auto& s : shards_) {
    if (!s->closed) routes_.emplace_back(s->range.start, s.get());
  }
  std::sort(routes_.begin(), routes_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

// UNIFORM_SCALING (docs/CONCEPTS.md): split every open shard at each target
// boundary strictly inside it, then merge, left to right, the shards that now
// lie inside each target range. Every step is a real split or merge, so the
// lineage stays a proper split/merge DAG (each child has at most two
// parents); short-lived intermediate shards are closed and empty.
// UNIFORM_SCALING as Kinesis does it (observed: the totals of shards, open
// and closed, that AWS leaves; moto's tests record them: 2 -> 4 leaves 6,
// 4 -> 5 leaves 15, 10 -> 13 leaves 37, 4 -> 2 leaves 6, 5 -> 3 leaves 7):
//   * up: every open shard is split at the middle of its range (current
//     splits), then adjacent shards are merged down to the target as below
//     (2 * current - target merges);
//   * down: adjacent open shards are merged in pairs, lowest hash keys
//     first (the 1st with the 2nd, the 3rd with the 4th, ...), pass after
//     pass, until `target` remain (current - target merges).
// The result is as uniform as those counts allow: every open shard covers
// 1/current or 1/(2 * current) of the key space when scaling up.
void StreamImpl::DoUniformScale(int target, int64_t now_ms) {
  std::vector<Shard*> open = OpenShardsByRange();
  if (static_cast<size_t>(target) > open.size()) {
    for (Shard* s : open) {
      const HashKey k = s->range.Midpoint();
      if (s->range.start.value() + 1 < k.value() && k < s->range.end) DoSplit(s, k, now_ms);
    }
    RebuildRoutes();
    open = OpenShardsByRange();
  }
  while (open.size() > static_cast<size_t>(target)) {
    const size_t merges = std::min(open.size() - static_cast<size_t>(target), open.size() / 2);
    for (size_t i = 0; i < merges; ++i) DoMerge(open[2 * i], open[2 * i + 1], now_ms);
    RebuildRoutes();
    open = OpenShardsByRange();
  }
}

void StreamImpl::ReleaseExpired(int64_t now_ms) {
  for (auto& s : shards_) {
    if (!s->released && s->closed && s->expires_after_ms < VisibleFromMs(now_ms)) {
      util::MutexLock dl(&s->data_mu);
      s->released = true;
      IgnoreError(s->log->Destroy());
      s->log = std::make_unique<log::MemShardLog>(store_->chunk_pool());
    }
  }
}

// ------------------------------------------------------------ writes

void StreamImpl::MaybeTrim(Shard* s, int64_t now_ms) {
  if (now_ms < s->next_trim_check_ms) return;
  s->next_trim_check_ms = now_ms + 1000;
  std::optional<int64_t> oldest = s->log->oldest_arrival_ms();
  int64_t visible_from = VisibleFromMs(now_ms);
  if (oldest && *oldest < visible_from) s->log->TrimBefore(visible_from);
}

absl::Status StreamImpl::ThrottleWrite(Shard* s, size_t bytes, absl::Time now) {
  if (!throughput_.enabled) return absl::OkStatus();
  if (!s->write_records.CanTake(1, now) || !s->write_bytes.CanTake(static_cast<double>(bytes), now)) {
    return ThroughputExceededError(fmt::format(
        "Rate exceeded for shard {} in stream {} under account {}.", s->id, name_,
        store_->options().account_id));
  }
  s->write_records.Take(1);
  s->write_bytes.Take(static_cast<double>(bytes));
  return absl::OkStatus();
}

absl::StatusOr<PutRecordResult> StreamImpl::Put(const PutRecordInput& record, HashKey hash,
                                                std::optional<std::string_view> ordering_text,
                                                absl::Time now, bool sync) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  TRIBUTARY_RETURN_IF_ERROR(store_->CheckHealthy());
  // SequenceNumberForOrdering: the new record's number exceeds it. In
  // Kinesis' layout, any number Kinesis reads is accepted (another shard's
  // or stream's too, where it cannot matter: theirs sort apart), unless it
  // names a record time in the future; invalid ones get Kinesis' message.
  std::optional<SequenceNumber> ordering;
  std::optional<shard::KinesisSequenceFields> ordering_fields;
  if (ordering_text.has_value()) {
    if (seq_format_ == SequenceFormat::kTributary) {
      TRIBUTARY_ASSIGN_OR_RETURN(ordering, SequenceNumber::Parse(*ordering_text, "SequenceNumberForOrdering"));
    } else {
      TRIBUTARY_ASSIGN_OR_RETURN(ordering, SequenceNumber::ParseAny(*ordering_text, "SequenceNumberForOrdering"));
      ordering_fields = shard::ReadKinesisSequence(*ordering);
      if (!ordering_fields || ordering_fields->record_s * 1000 > Ms(now)) {
        return InvalidArgumentError(fmt::format(
            "ExclusiveMinimumSequenceNumber {} used in PutRecord on stream {} under account {} is invalid.",
            *ordering_text, name_, store_->options().account_id));
      }
    }
  }
  size_t size = record.data.size() + record.partition_key.size();
  if (size > max_record_size_) {
    return InvalidArgumentError(fmt::format(
        "Record size {} bytes (data + partition key) exceeds the maximum record size {} bytes "
        "of stream {}",
        size, max_record_size_, name_));
  }
  Shard* s = Route(hash);
  const int64_t now_ms = Ms(now);
  PutRecordResult result;
  uint64_t token = 0;
  log::ShardLog* shard_log = nullptr;  // replaced only under mu_ held exclusively
  {
  util::MutexLock dl(&s->data_mu);
  TRIBUTARY_RETURN_IF_ERROR(ThrottleWrite(s, size, now));
  uint64_t counter = s->next_counter;
  if (ordering_fields.has_value() &&
      !(ordering_fields->version == 2 && ordering_fields->shard_index == static_cast<int64_t>(s->index) &&
        ordering_fields->shard_created_s == s->seq_created_s)) {
    ordering.reset();  // another shard's number: ours are apart from it already
  }
  if (ordering.has_value() && ordering->counter() >= counter) {
    if (ordering->counter() >= kMaxCounter - 1) {
      return InvalidArgumentError(fmt::format(
          "SequenceNumberForOrdering {} is beyond any sequence number shard {} can issue",
          ordering->ToString(), s->id));
    }
    counter = ordering->counter() + 1;
  }
  int64_t arrival = std::max(now_ms, s->last_arrival_ms);
  TRIBUTARY_RETURN_IF_ERROR(ReserveCounter(s, counter));
  log::AppendRecord rec{counter, arrival, record.partition_key, record.data};
  TRIBUTARY_RETURN_IF_ERROR(s->log->Append(absl::MakeConstSpan(&rec, 1)));
  s->next_counter = counter + 1;
  s->last_counter = counter;
  s->last_arrival_ms = arrival;
  MaybeTrim(s, now_ms);
  if (sync) {
    token = s->log->DurabilityToken();
    shard_log = s->log.get();
  }
  result = PutRecordResult{ShardId(s->index), MakeSeq(*s, counter, arrival)};
  }
  // Outside the shard lock, so concurrent writers of the shard share one
  // sync; the stream lock (shared) keeps the log alive.
  if (sync) TRIBUTARY_RETURN_IF_ERROR(shard_log->Sync(token));
  return result;
}

absl::StatusOr<PutBatchResult> StreamImpl::PutBatch(absl::Span<const PutRecordInput> records,
                                                    absl::Span<const HashKey> hashes,
                                                    absl::Time now, bool sync) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  TRIBUTARY_RETURN_IF_ERROR(store_->CheckHealthy());
  for (size_t i = 0; i < records.size(); ++i) {
    size_t size = records[i].data.size() + records[i].partition_key.size();
    if (size > max_record_size_) {
      return InvalidArgumentError(fmt::format(
          "Record {} size {} bytes (data + partition key) exceeds the maximum record size {} "
          "bytes of stream {}",
          i, size, max_record_size_, name_));
    }
  }
  const int64_t now_ms = Ms(now);
  PutBatchResult result;
  result.records.resize(records.size());

  // Group by shard, keeping request order inside each group, so each shard
  // is locked once and the records of one key keep their request order.
  std::vector<std::pair<Shard*, uint32_t>> order(records.size());
  for (size_t i = 0; i < records.size(); ++i) order[i] = {Route(hashes[i]), static_cast<uint32_t>(i)};
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first->index < b.first->index; });

  std::vector<log::AppendRecord> batch;
  batch.reserve(records.size());
  // Shards appended to, their durability tokens, and their group's range.
  struct ToSync {
    log::ShardLog* log;  // replaced only under mu_ held exclusively
    uint64_t token;
    size_t begin, end;
  };
  std::vector<ToSync> to_sync;
  size_t g = 0;
  while (g < order.size()) {
    Shard* s = order[g].first;
    size_t end = g;
    while (end < order.size() && order[end].first == s) ++end;
    util::MutexLock dl(&s->data_mu);
    batch.clear();
    uint64_t counter = s->next_counter;
    int64_t arrival = std::max(now_ms, s->last_arrival_ms);
    bool throttled = false;
    for (size_t k = g; k < end; ++k) {
      uint32_t i = order[k].second;
      const PutRecordInput& r = records[i];
      PutBatchEntryResult& out = result.records[i];
      // Once one record of a shard is throttled, the later ones in this batch
      // are too: a retry then cannot land before a record that followed it.
      absl::Status st = throttled ? ThroughputExceededError(fmt::format(
                                        "Rate exceeded for shard {} in stream {} under account {}.",
                                        s->id, name_, store_->options().account_id))
                                  : ThrottleWrite(s, r.data.size() + r.partition_key.size(), now);
      if (!st.ok()) {
        throttled = true;
        out.error_code = std::string(ErrorTypeName(GetErrorType(st)));
        out.error_message = std::string(st.message());
        ++result.failed_record_count;
        continue;
      }
      batch.push_back({counter, arrival, r.partition_key, r.data});
      out.sequence_number = MakeSeq(*s, counter, arrival);
      out.shard_id = ShardId(s->index);
      ++counter;
    }
    if (!batch.empty()) {
      absl::Status st = ReserveCounter(s, counter - 1);
      if (st.ok()) st = s->log->Append(batch);
      if (!st.ok()) {
        for (size_t k = g; k < end; ++k) {
          PutBatchEntryResult& out = result.records[order[k].second];
          if (!out.ok()) continue;
          out = PutBatchEntryResult{};
          out.error_code = "InternalFailure";
          out.error_message = std::string(st.message());
          ++result.failed_record_count;
        }
      } else {
        s->next_counter = counter;
        s->last_counter = counter - 1;
        s->last_arrival_ms = arrival;
        MaybeTrim(s, now_ms);
        to_sync.push_back({s->log.get(), s->log->DurabilityToken(), g, end});
      }
    }
    g = end;
  }
  if (sync) {
    for (const ToSync& t : to_sync) {
      absl::Status st = t.log->Sync(t.token);
      if (st.ok()) continue;
      // Not acknowledged as durable: report those entries as failed.
      for (size_t k = t.begin; k < t.end; ++k) {
        PutBatchEntryResult& out = result.records[order[k].second];
        if (!out.ok()) continue;
        out = PutBatchEntryResult{};
        out.error_code = "InternalFailure";
        out.error_message = std::string(st.message());
        ++result.failed_record_count;
      }
    }
  }
  return result;
}

// ------------------------------------------------------------ reads

void StreamImpl::ChildShardsOf(const Shard& s, std::vector<ChildShard>* out) const {
  for (uint32_t c : s.children) {
    const Shard& child = *shards_[c];
    ChildShard cs;
    cs.shard_id = child.id;
    if (child.parent) cs.parent_shards.push_back(FormatShardId(*child.parent));
    if (child.adjacent_parent) cs.parent_shards.push_back(FormatShardId(*child.adjacent_parent));
    cs.hash_key_range = child.range;
    out->push_back(std::move(cs));
  }
}

absl::StatusOr<std::string> StreamImpl::GetShardIterator(const GetShardIteratorRequest& req,
                                                         absl::Time now) {
  FinishTransitionIfDue(now);
  const bool by_seq = req.type == ShardIteratorType::kAtSequenceNumber ||
                      req.type == ShardIteratorType::kAfterSequenceNumber;
  const bool by_time = req.type == ShardIteratorType::kAtTimestamp;
  util::ReaderLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  // Kinesis' order (observed): the shard, then the iterator type's
  // arguments, then the sequence number.
  TRIBUTARY_ASSIGN_OR_RETURN(Shard * s, FindShard(req.shard_id));
  const int64_t now_ms = Ms(now);
  if (Expired(*s, now_ms)) return ResourceNotFoundError(ShardNotFound(req.shard_id) + " (expired)");
  if (by_seq != req.starting_sequence_number.has_value() && !by_time) {
    return InvalidArgumentError(fmt::format(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
        "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified {} and {}.",
        ToString(req.type), by_seq ? "no StartingSequenceNumber" : "also a StartingSequenceNumber"));
  }
  if (by_time) {
    if (!req.timestamp.has_value()) {
      return InvalidArgumentError(
          "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current "
          "request has no timestamp parameter.");
    }
    if (*req.timestamp > now) {
      return InvalidArgumentError(fmt::format(
          "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
          "timestampInMillis: {}, currentTimestampInMillis: {}",
          absl::ToUnixMillis(*req.timestamp), now_ms));
    }
  }
  std::optional<SequenceNumber> seq;
  if (by_seq) {
    TRIBUTARY_ASSIGN_OR_RETURN(seq, ParseSequenceFor(*s, *req.starting_sequence_number,
                                                     "StartingSequenceNumber", "GetShardIterator"));
  }
  IteratorToken t;
  t.stream_name = name_;
  t.stream_incarnation = incarnation_;
  t.shard_index = s->index;
  t.issued_ms = now_ms;
  util::MutexLock dl(&s->data_mu);
  if (seq && seq->counter() >= s->next_counter) {
    return InvalidArgumentError(fmt::format(
        "StartingSequenceNumber {} used in GetShardIterator on shard {} in stream {} under "
        "account {} is beyond the last sequence number this shard has issued.",
        seq->ToString(), s->id, name_, store_->options().account_id));
  }
  switch (req.type) {
    case ShardIteratorType::kTrimHorizon:
      t.position = 0;
      break;
    case ShardIteratorType::kLatest:
      t.position = s->next_counter;
      break;
    case ShardIteratorType::kAtSequenceNumber:
      t.position = seq->counter();
      break;
    case ShardIteratorType::kAfterSequenceNumber:
      t.position = seq->counter() + 1;
      break;
    case ShardIteratorType::kAtTimestamp: {
      TRIBUTARY_ASSIGN_OR_RETURN(std::optional<uint64_t> c, s->log->SeekTimestamp(Ms(*req.timestamp)));
      t.position = c ? *c : s->next_counter;
      break;
    }
  }
  return EncodeIterator(t);
}

absl::StatusOr<GetRecordsResult> StreamImpl::GetRecords(const IteratorToken& token, int limit,
                                                        absl::Time now, bool metered,
                                                        std::optional<SequenceNumber>* continuation) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  if (token.shard_index >= shards_.size()) {
    return InvalidArgumentError("Invalid ShardIterator: unknown shard");
  }
  Shard* s = shards_[token.shard_index].get();
  const int64_t now_ms = Ms(now);
  GetRecordsResult result;
  if (Expired(*s, now_ms)) {
    // Every record is gone: the shard reads as empty and finished.
    ChildShardsOf(*s, &result.child_shards);
    result.records_behind_latest = 0;
    return result;
  }
  const int64_t visible_from = VisibleFromMs(now_ms);
  util::MutexLock dl(&s->data_mu);
  if (throughput_.enabled && metered) {
    if (!s->read_calls.CanTake(1, now) || !s->read_bytes.Positive(now)) {
      return ThroughputExceededError(fmt::format(
          "Rate exceeded for shard {} in stream {} under account {}.", s->id, name_,
          store_->options().account_id));
    }
    s->read_calls.Take(1);
  }
  log::ReadLimits lim{static_cast<size_t>(limit), limits::kMaxGetRecordsBytes};
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t next, s->log->Read(token.position, visible_from, lim,
                                                         s->index, &result.records));
  if (seq_format_ != SequenceFormat::kTributary) {
    // The log numbers records in Tributary's layout; this stream hands out
    // Kinesis'.
    for (Record& r : result.records) {
      r.sequence_number = MakeSeq(*s, r.sequence_number.counter(),
                                  absl::ToUnixMillis(r.approximate_arrival_timestamp));
    }
  }
  if (throughput_.enabled && metered) {
    size_t bytes = 0;
    for (const Record& r : result.records) bytes += r.data.size() + r.partition_key.size();
    s->read_bytes.Take(static_cast<double>(bytes));
  }
  // An error here (a damaged range ahead) must not read as the shard's end.
  absl::StatusOr<std::optional<log::ShardLog::Position>> ahead_or =
      s->log->FirstAtOrAfter(next, visible_from);
  if (!ahead_or.ok() && result.records.empty()) return ahead_or.status();
  std::optional<log::ShardLog::Position> ahead;
  if (ahead_or.ok()) {
    ahead = *ahead_or;
  } else {
    // Hand out the good records; the next call reports the damage.
    ahead = log::ShardLog::Position{next, now_ms};
  }
  // Zero means caught up (Kinesis: "no new records to process at this
  // moment"); otherwise the age of the newest record handed out, at least 1.
  if (ahead) {
    int64_t ref = result.records.empty() ? ahead->arrival_ms
                                         : absl::ToUnixMillis(result.records.back().approximate_arrival_timestamp);
    result.millis_behind_latest = std::max<int64_t>(1, now_ms - ref);
    result.records_behind_latest =
        static_cast<int64_t>(s->log->CountAtOrAfter(ahead->counter, visible_from));
  } else {
    result.records_behind_latest = 0;
  }
  if (s->closed && !ahead) {
    ChildShardsOf(*s, &result.child_shards);
  } else {
    IteratorToken t = token;
    t.position = next;
    t.issued_ms = now_ms;
    result.next_shard_iterator = EncodeIterator(t);
    if (continuation != nullptr) {
      *continuation = result.records.empty()
                          ? MakeSeq(*s, std::max(next, s->start_counter) - 1,
                                    std::max(s->created_ms, s->last_arrival_ms))
                          : result.records.back().sequence_number;
    }
  }
  return result;
}

// ------------------------------------------------------------ describe / list

absl::StatusOr<StreamDescription> StreamImpl::Describe(int limit, std::optional<uint32_t> after,
                                                       absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  const int64_t now_ms = Ms(now);
  StreamDescription d;
  d.stream_name = name_;
  d.stream_arn = arn_;
  d.stream_status = status_;
  d.stream_mode = mode_;
  d.retention_period_hours = retention_hours_;
  d.stream_creation_timestamp = created_;
  d.max_record_size_kib = static_cast<int>(max_record_size_ / 1024);
  d.encryption_type = encryption_;
  if (encryption_ == EncryptionType::kKms) d.key_id = key_id_;
  d.shard_level_metrics.assign(metrics_.begin(), metrics_.end());
  for (const auto& s : shards_) {
    if (after && s->index <= *after) continue;
    if (Expired(*s, now_ms)) continue;
    if (static_cast<int>(d.shards.size()) == limit) {
      d.has_more_shards = true;
      break;
    }
    d.shards.push_back(DescribeShard(*s, now_ms));
  }
  return d;
}

std::vector<ShardStatistics> StreamImpl::Statistics(absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  const int64_t now_ms = Ms(now);
  std::vector<ShardStatistics> out;
  for (const auto& sp : shards_) {
    Shard& s = *sp;
    if (Expired(s, now_ms)) continue;
    ShardStatistics st;
    st.shard_id = s.id;
    util::MutexLock dl(&s.data_mu);
    if (s.log != nullptr) {
      st.records = s.log->record_count();
      st.bytes = s.log->byte_count();
      if (auto t = s.log->oldest_arrival_ms()) st.oldest_arrival = absl::FromUnixMillis(*t);
      if (auto t = s.log->newest_arrival_ms()) st.newest_arrival = absl::FromUnixMillis(*t);
    }
    if (s.last_counter) st.last_sequence_number = MakeSeq(s, *s.last_counter, s.last_arrival_ms);
    out.push_back(std::move(st));
  }
  return out;
}

absl::StatusOr<StreamDescriptionSummary> StreamImpl::DescribeSummary(absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  StreamDescriptionSummary d;
  d.stream_name = name_;
  d.stream_arn = arn_;
  d.stream_status = status_;
  d.stream_mode = mode_;
  d.retention_period_hours = retention_hours_;
  d.stream_creation_timestamp = created_;
  d.open_shard_count = static_cast<int>(routes_.size());
  d.max_record_size_kib = static_cast<int>(max_record_size_ / 1024);
  const int64_t now_ms = Ms(now);
  for (const auto& [n, c] : consumers_) d.consumer_count += c.gone_at_ms > now_ms;
  d.encryption_type = encryption_;
  if (encryption_ == EncryptionType::kKms) d.key_id = key_id_;
  d.shard_level_metrics.assign(metrics_.begin(), metrics_.end());
  d.warm_throughput = warm_;
  return d;
}

StreamSummary StreamImpl::Summary(absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  return StreamSummary{name_, arn_, status_, mode_, created_};
}

int StreamImpl::OpenShardCount() {
  util::ReaderLock l(&mu_);
  return static_cast<int>(routes_.size());
}

StreamMode StreamImpl::Mode() {
  util::ReaderLock l(&mu_);
  return mode_;
}

absl::StatusOr<ListShardsResult> StreamImpl::ListShards(const ShardFilter& filter,
                                                        std::optional<uint32_t> exclusive_start,
                                                        int max_results, absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  if (status_ == StreamStatus::kCreating) {
    return ResourceInUseError(fmt::format("Stream {} under account {} is CREATING; ListShards "
                                          "needs it ACTIVE or UPDATING.",
                                          name_, store_->options().account_id));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  const int64_t now_ms = Ms(now);
  // The oldest instant that still has data: the trim horizon, or the stream's
  // birth if it is younger than its retention period.
  const int64_t horizon = std::max(VisibleFromMs(now_ms), Ms(created_));
  std::optional<uint32_t> after = exclusive_start;
  if (filter.type == ShardFilterType::kAfterShardId) {
    absl::StatusOr<uint32_t> idx = ParseShardId(filter.shard_id.value_or(""));
    if (!idx.ok()) return InvalidArgumentError(fmt::format("ShardFilter.ShardId '{}' is not a shard id",
                                                           filter.shard_id.value_or("")));
    after = after ? std::max(*after, *idx) : *idx;
  }
  const int64_t ts = filter.timestamp ? Ms(*filter.timestamp) : 0;
  auto open_at = [](const Shard& s, int64_t t) {
    return s.created_ms <= t && (!s.closed || s.closed_ms >= t);
  };
  // The shards a reader starting at the trim horizon begins with: retained
  // shards none of whose parents is retained. While nothing has expired these
  // are exactly the shards open at the horizon; once a parent expires, its
  // children take its place.
  auto is_root = [&](const Shard& s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (std::optional<uint32_t> p : {s.parent, s.adjacent_parent}) {
      if (p && !Expired(*shards_[*p], now_ms)) return false;
    }
    return true;
  };
  ListShardsResult out;
  uint32_t last_idx = 0;
  for (const auto& sp : shards_) {
    const Shard& s = *sp;
    if (after && s.index <= *after) continue;
    if (Expired(s, now_ms)) continue;
    bool keep = true;
    switch (filter.type) {
      case ShardFilterType::kAfterShardId:
      case ShardFilterType::kFromTrimHorizon:
        break;
      case ShardFilterType::kAtTrimHorizon:
        keep = is_root(s);
        break;
      case ShardFilterType::kAtLatest:
        keep = !s.closed;
        break;
      case ShardFilterType::kAtTimestamp:
        // Like FROM_TIMESTAMP, a time at or before the horizon means the horizon.
        keep = ts <= horizon ? is_root(s) : open_at(s, ts);
        break;
      case ShardFilterType::kFromTimestamp:
        keep = !s.closed || s.closed_ms >= std::max(ts, horizon);
        break;
    }
    if (!keep) continue;
    if (static_cast<int>(out.shards.size()) == max_results) {
      PageToken t;
      t.kind = 'S';
      t.stream_name = name_;
      t.stream_incarnation = incarnation_;
      t.issued_ms = now_ms;
      t.after_index = last_idx;
      t.filter_type = static_cast<uint8_t>(filter.type);
      t.filter_arg = ts;
      t.max_results = max_results;
      out.next_token = EncodePageToken(t);
      break;
    }
    out.shards.push_back(DescribeShard(s, now_ms));
    last_idx = s.index;
  }
  return out;
}

// ------------------------------------------------------------ resharding

absl::Status StreamImpl::Split(std::string_view shard_id, std::string_view new_start,
                               absl::Time now) {
  // A key of 2^128 or more is past every shard's end: the range message
  // below, as Kinesis answers (not a parse error).
  absl::StatusOr<HashKey> parsed = HashKey::Parse(new_start, "NewStartingHashKey");
  bool beyond = false;
  if (!parsed.ok()) {
    beyond = !new_start.empty() && new_start.size() <= 129 &&
             new_start.find_first_not_of("0123456789") == std::string_view::npos &&
             (new_start.size() == 1 || new_start[0] != '0');
    if (!beyond) return parsed.status();
  }
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange("SplitShard"));
  if (mode_ == StreamMode::kOnDemand) {
    return ValidationError(fmt::format("SplitShard is not supported for ON_DEMAND stream {}", name_));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(Shard * s, FindOpenShardForReshard(shard_id));
  // Kinesis' rule: start + 1 < k < end, so both children hold >= 2 keys.
  if (beyond || !(s->range.start.value() + 1 < parsed->value() && *parsed < s->range.end)) {
    return InvalidArgumentError(fmt::format(
        "NewStartingHashKey {} used in SplitShard() on shard {} in stream {} under account {} "
        "is not both greater than one plus the shard's StartingHashKey {} and less than the "
        "shard's EndingHashKey {}.",
        new_start, s->id, name_, store_->options().account_id, s->range.start.ToString(),
        s->range.end.ToString()));
  }
  const HashKey k = *parsed;
  if (routes_.size() + 1 > static_cast<size_t>(limits::kMaxShardsPerStream)) {
    return LimitExceededError(fmt::format("Stream {} would exceed {} open shards", name_,
                                          limits::kMaxShardsPerStream));
  }
  TRIBUTARY_RETURN_IF_ERROR(store_->ReserveShards(1, "SplitShard"));
  accounted_shards_ += 1;
  PendingChange c;
  c.kind = PendingChange::Kind::kSplit;
  c.a = s->index;
  c.key = k;
  return BeginUpdate(now, c);
}

absl::Status StreamImpl::Merge(std::string_view shard_id, std::string_view adjacent_id,
                               absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange("MergeShards"));
  if (mode_ == StreamMode::kOnDemand) {
    return ValidationError(fmt::format("MergeShards is not supported for ON_DEMAND stream {}", name_));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(Shard * a, FindOpenShardForReshard(shard_id));
  TRIBUTARY_ASSIGN_OR_RETURN(Shard * b, FindOpenShardForReshard(adjacent_id));
  // Kinesis merges a shard with the one right after it (observed: the pair
  // given the other way round is not adjacent).
  if (a == b || !a->range.IsFollowedBy(b->range)) {
    return InvalidArgumentError(fmt::format(
        "Shards {} and {} in stream {} under account {} are not an adjacent pair of shards "
        "eligible for merging",
        a->id, b->id, name_, store_->options().account_id));
  }
  store_->ReleaseShards(1);
  accounted_shards_ -= 1;
  PendingChange c;
  c.kind = PendingChange::Kind::kMerge;
  c.a = a->index;
  c.b = b->index;
  return BeginUpdate(now, c);
}

absl::StatusOr<UpdateShardCountResult> StreamImpl::UpdateShardCount(int target, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange("UpdateShardCount"));
  if (mode_ == StreamMode::kOnDemand) {
    return ValidationError(fmt::format(
        "UpdateShardCount is only supported for PROVISIONED streams; {} is ON_DEMAND", name_));
  }
  const int current = static_cast<int>(routes_.size());
  const std::string& acct = store_->options().account_id;
  if (target > 2 * current) {
    return LimitExceededError(fmt::format(
        "UpdateShardCount of stream {} under account {}: target {} is more than double the "
        "current shard count {}",
        name_, acct, target, current));
  }
  if (2 * target < current) {
    return LimitExceededError(fmt::format(
        "UpdateShardCount of stream {} under account {}: target {} is less than half the "
        "current shard count {}",
        name_, acct, target, current));
  }
  if (target > limits::kMaxShardsPerStream) {
    return LimitExceededError(fmt::format("UpdateShardCount of stream {}: target {} exceeds {} "
                                          "shards per stream",
                                          name_, target, limits::kMaxShardsPerStream));
  }
  while (!rescales_.empty() && rescales_.front() <= now - absl::Hours(24)) rescales_.pop_front();
  if (static_cast<int>(rescales_.size()) >= limits::kMaxRescalingsPer24h) {
    return LimitExceededError(fmt::format(
        "UpdateShardCount of stream {} under account {}: at most {} rescalings per rolling "
        "24 hours; the next is allowed at {}",
        name_, acct, limits::kMaxRescalingsPer24h,
        absl::FormatTime(rescales_.front() + absl::Hours(24))));
  }
  if (target > current) TRIBUTARY_RETURN_IF_ERROR(store_->ReserveShards(target - current, "UpdateShardCount"));
  if (target < current) store_->ReleaseShards(current - target);
  accounted_shards_ += target - current;
  rescales_.push_back(now);
  PendingChange c;
  c.kind = PendingChange::Kind::kScale;
  c.target = target;
  TRIBUTARY_RETURN_IF_ERROR(BeginUpdate(now, c));
  return UpdateShardCountResult{name_, arn_, current, target};
}

absl::Status StreamImpl::UpdateMode(StreamMode mode, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange("UpdateStreamMode"));
  if (mode == mode_) {
    return InvalidArgumentError(fmt::format("Stream {} is already in {} mode", name_, ToString(mode)));
  }
  while (!mode_changes_.empty() && mode_changes_.front() <= now - absl::Hours(24)) {
    mode_changes_.pop_front();
  }
  if (mode_changes_.size() >= 2) {
    return LimitExceededError(fmt::format(
        "Stream {} may switch capacity mode at most twice per rolling 24 hours", name_));
  }
  if (mode == StreamMode::kOnDemand) {
    TRIBUTARY_RETURN_IF_ERROR(store_->ReserveOnDemand(name_));
    accounted_on_demand_ = true;
  } else if (accounted_on_demand_) {
    store_->ReleaseOnDemand();
    accounted_on_demand_ = false;
  }
  mode_changes_.push_back(now);
  PendingChange c;
  c.kind = PendingChange::Kind::kMode;
  c.mode = mode;
  return BeginUpdate(now, c);
}

absl::Status StreamImpl::UpdateMaxRecordSize(int kib, absl::Time now) {
  if (kib < 1024 || kib > 10240) {
    return ValidationError(fmt::format("MaxRecordSizeInKiB {} is outside [1024, 10240]", kib));
  }
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange("UpdateMaxRecordSize"));
  max_record_size_ = static_cast<size_t>(kib) * 1024;
  return PersistLocked();
}

absl::Status StreamImpl::ChangeRetention(int hours, bool increase, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange(increase ? "IncreaseStreamRetentionPeriod"
                                                          : "DecreaseStreamRetentionPeriod"));
  if (hours < limits::kMinRetentionHours) {
    return InvalidArgumentError(fmt::format(
        "Minimum allowed retention period is {} hours. Requested retention period ({} hours) "
        "is too short.", limits::kMinRetentionHours, hours));
  }
  if (hours > limits::kMaxRetentionHours) {
    return InvalidArgumentError(fmt::format(
        "Maximum allowed retention period is {} hours. Requested retention period ({} hours) "
        "is too long.", limits::kMaxRetentionHours, hours));
  }
  if (increase && hours < retention_hours_) {
    return InvalidArgumentError(fmt::format(
        "Requested retention period ({} hours) for stream {} can not be shorter than existing "
        "retention period ({} hours). Use DecreaseRetentionPeriod API.",
        hours, name_, retention_hours_));
  }
  if (!increase && hours > retention_hours_) {
    return InvalidArgumentError(fmt::format(
        "Requested retention period ({} hours) for stream {} can not be longer than existing "
        "retention period ({} hours). Use IncreaseRetentionPeriod API.",
        hours, name_, retention_hours_));
  }
  const int64_t now_ms = Ms(now);
  // Records that already expired stay expired when retention grows.
  trim_floor_ms_ = VisibleFromMs(now_ms);
  retention_hours_ = hours;
  ReleaseExpired(now_ms);
  return PersistLocked();
}

// ------------------------------------------------------------ tags

absl::Status CheckTagCharacters(const std::vector<std::string_view>& texts, std::string_view failed) {
  auto allowed = [](unsigned char c) {
    // Non-ASCII bytes belong to letters, digits and white space as far as
    // this check goes (Kinesis' \p{L}, \p{N}, \p{Z}); ASCII control
    // characters (tab, newline) are not white space here.
    return c >= 0x80 || std::isalnum(c) || c == ' ' || c == '_' || c == '.' || c == '/' || c == '=' ||
           c == '+' || c == '-' || c == '%' || c == '@' || c == ':';
  };
  for (std::string_view t : texts) {
    for (unsigned char c : t) {
      if (!allowed(c)) {
        return InvalidArgumentError(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, "
            "_ . / = + - % @.");
      }
    }
  }
  for (std::string_view t : texts) {
    if (t.find('%') != std::string_view::npos) {
      return InvalidArgumentError(fmt::format(
          "Failed to {} because some tags contained illegal characters. The allowed characters are Unicode "
          "letters, white-spaces, '_',',','/','=','+','-','@'.",
          failed));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTags(const std::map<std::string, std::string>& tags, std::string_view failed) {
  std::vector<std::string_view> texts;
  texts.reserve(2 * tags.size());
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > limits::kMaxTagKeyLength) {
      return ValidationError(fmt::format("Tag key '{}' must be 1..{} characters", k.substr(0, 140),
                                         limits::kMaxTagKeyLength));
    }
    if (v.size() > limits::kMaxTagValueLength) {
      return ValidationError(fmt::format("Value of tag '{}' must be at most {} characters", k,
                                         limits::kMaxTagValueLength));
    }
    if (k.rfind("aws:", 0) == 0) {
      return InvalidArgumentError(fmt::format("Tag key '{}' uses the reserved prefix aws:", k));
    }
    texts.push_back(k);
    texts.push_back(v);
  }
  return CheckTagCharacters(texts, failed);
}

absl::Status StreamImpl::AddTags(const std::optional<ConsumerKey>& consumer,
                                 const std::map<std::string, std::string>& tags, absl::Time now) {
  if (tags.empty() || tags.size() > limits::kMaxTagsPerCall) {
    return ValidationError(fmt::format("{} takes 1..{} tags, got {}",
                                       consumer ? "TagResource" : "AddTagsToStream",
                                       limits::kMaxTagsPerCall, tags.size()));
  }
  std::string what = fmt::format("stream {}", name_);
  TRIBUTARY_RETURN_IF_ERROR(
      ValidateTags(tags, fmt::format("add tags to {} under account {}", what, store_->options().account_id)));
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  std::map<std::string, std::string>* target = &tags_;
  if (consumer) {
    TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(*consumer, Ms(now)));
    target = &c->tags;
    what = fmt::format("consumer {} of stream {}", c->name, name_);
  }
  size_t total = target->size();
  for (const auto& [k, v] : tags) total += target->count(k) ? 0 : 1;
  if (total > limits::kMaxTagsPerStream) {
    // Kinesis' message, as observed: it says 10 although the limit is 50.
    return InvalidArgumentError(fmt::format(
        "Failed to add tags to {} under account {} because a given {} cannot have more than 10 tags "
        "associated with it.",
        what, store_->options().account_id, consumer ? "resource" : "stream"));
  }
  const std::map<std::string, std::string> before = *target;
  for (const auto& [k, v] : tags) (*target)[k] = v;
  if (absl::Status st = PersistLocked(); !st.ok()) {
    *target = before;
    return st;
  }
  return absl::OkStatus();
}

absl::Status StreamImpl::RemoveTags(const std::optional<ConsumerKey>& consumer,
                                    const std::vector<std::string>& keys, absl::Time now) {
  if (keys.empty() || keys.size() > limits::kMaxTagsPerCall) {
    return ValidationError(fmt::format("{} takes 1..{} tag keys, got {}",
                                       consumer ? "UntagResource" : "RemoveTagsFromStream",
                                       limits::kMaxTagsPerCall, keys.size()));
  }
  for (const std::string& k : keys) {
    if (k.empty() || k.size() > limits::kMaxTagKeyLength) {
      return ValidationError(fmt::format("Tag key '{}' must be 1..{} characters", k.substr(0, 140),
                                         limits::kMaxTagKeyLength));
    }
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckTagCharacters(
      std::vector<std::string_view>(keys.begin(), keys.end()),
      fmt::format("remove tags from stream {} under account {}", name_, store_->options().account_id)));
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckReadable());
  std::map<std::string, std::string>* target = &tags_;
  if (consumer) {
    TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(*consumer, Ms(now)));
    target = &c->tags;
  }
  const std::map<std::string, std::string> before = *target;
  for (const std::string& k : keys) target->erase(k);
  if (absl::Status st = PersistLocked(); !st.ok()) {
    *target = before;
    return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<ListTagsResult> StreamImpl::ListTags(const std::optional<ConsumerKey>& consumer,
                                                    const std::optional<std::string>& after,
                                                    int limit, absl::Time now) {
  if (limit < 1 || limit > limits::kMaxListTagsLimit) {
    return ValidationError(fmt::format("Limit {} is outside [1, {}]", limit, limits::kMaxListTagsLimit));
  }
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  const std::map<std::string, std::string>* source = &tags_;
  if (consumer) {
    TRIBUTARY_RETURN_IF_ERROR(CheckExists("ListTagsForResource"));
    TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(*consumer, Ms(now)));
    source = &c->tags;
  }
  ListTagsResult r;
  auto it = after ? source->upper_bound(*after) : source->begin();
  for (; it != source->end(); ++it) {
    if (static_cast<int>(r.tags.size()) == limit) {
      r.has_more_tags = true;
      break;
    }
    r.tags.emplace_back(it->first, it->second);
  }
  return r;
}

// ------------------------------------------------------------ consumers

std::string StreamImpl::ConsumerArn(const ConsumerState& c) const {
  return fmt::format("{}/consumer/{}:{}", arn_, c.name, c.created_ms / 1000);
}

ConsumerStatus StreamImpl::ConsumerStatusAt(const ConsumerState& c, int64_t now_ms) const {
  // A DELETING stream takes its consumers with it.
  if (status_ == StreamStatus::kDeleting || c.gone_at_ms != INT64_MAX) return ConsumerStatus::kDeleting;
  return now_ms < c.active_at_ms ? ConsumerStatus::kCreating : ConsumerStatus::kActive;
}

ConsumerDescription StreamImpl::DescribeConsumerLocked(const ConsumerState& c, int64_t now_ms) const {
  return ConsumerDescription{c.name, ConsumerArn(c), ConsumerStatusAt(c, now_ms),
                             absl::FromUnixMillis(c.created_ms), arn_};
}

absl::StatusOr<ConsumerState*> StreamImpl::FindConsumer(const ConsumerKey& key, int64_t now_ms) const {
  auto it = consumers_.find(key.name);
  if (it == consumers_.end() || it->second.gone_at_ms <= now_ms ||
      (key.created_s && *key.created_s != it->second.created_ms / 1000)) {
    return ResourceNotFoundError(fmt::format("Consumer {} under stream {} under account {} not found.",
                                             key.name, name_, store_->options().account_id));
  }
  return &it->second;
}

void StreamImpl::ReapConsumersLocked(int64_t now_ms) {
  for (auto it = consumers_.begin(); it != consumers_.end();) {
    if (it->second.gone_at_ms <= now_ms) {
      it = consumers_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::Status StreamImpl::CheckExists(std::string_view action) const {
  if (status_ == StreamStatus::kCreating) {
    return ResourceInUseError(fmt::format("Stream {} under account {} is CREATING: {} must wait "
                                          "until it is ACTIVE.",
                                          name_, store_->options().account_id, action));
  }
  if (status_ == StreamStatus::kDeleting) {
    return ResourceNotFoundError(fmt::format("Stream {} under account {} not found (it is DELETING).",
                                             name_, store_->options().account_id));
  }
  return absl::OkStatus();
}

int StreamImpl::ConsumerCount(absl::Time now) {
  util::ReaderLock l(&mu_);
  int n = 0;
  for (const auto& [k, c] : consumers_) n += c.gone_at_ms > Ms(now);
  return n;
}

int StreamImpl::CreatingConsumers(absl::Time now) {
  util::ReaderLock l(&mu_);
  int n = 0;
  for (const auto& [k, c] : consumers_) n += ConsumerStatusAt(c, Ms(now)) == ConsumerStatus::kCreating;
  return n;
}

absl::StatusOr<ConsumerDescription> StreamImpl::RegisterConsumer(
    std::string_view name, const std::map<std::string, std::string>& tags, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckExists("RegisterStreamConsumer"));
  const int64_t now_ms = Ms(now);
  ReapConsumersLocked(now_ms);
  std::string key(name);
  if (consumers_.count(key)) {
    return ResourceInUseError(fmt::format("Consumer {} under stream {} under account {} already exists.",
                                          name, name_, store_->options().account_id));
  }
  if (static_cast<int>(consumers_.size()) >= limits::kMaxConsumersPerStream) {
    return LimitExceededError(fmt::format(
        "Stream {} under account {} already has {} registered consumers (limit {}).", name_,
        store_->options().account_id, consumers_.size(), limits::kMaxConsumersPerStream));
  }
  ConsumerState c;
  c.name = key;
  c.created_ms = now_ms;
  c.active_at_ms = Ms(now + store_->options().create_delay);
  c.tags = tags;
  auto [it, inserted] = consumers_.emplace(key, std::move(c));
  if (absl::Status st = PersistLocked(); !st.ok()) {
    consumers_.erase(it);
    return st;
  }
  return DescribeConsumerLocked(it->second, now_ms);
}

absl::StatusOr<ConsumerDescription> StreamImpl::DescribeConsumer(const ConsumerKey& key, absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(key, Ms(now)));
  return DescribeConsumerLocked(*c, Ms(now));
}

absl::StatusOr<std::vector<ConsumerDescription>> StreamImpl::ListConsumers(const std::string& after,
                                                                           int limit, bool* more,
                                                                           absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  if (status_ == StreamStatus::kCreating) TRIBUTARY_RETURN_IF_ERROR(CheckExists("ListStreamConsumers"));
  const int64_t now_ms = Ms(now);
  std::vector<ConsumerDescription> out;
  *more = false;
  for (auto it = consumers_.upper_bound(after); it != consumers_.end(); ++it) {
    if (it->second.gone_at_ms <= now_ms) continue;
    if (static_cast<int>(out.size()) == limit) {
      *more = true;
      break;
    }
    out.push_back(DescribeConsumerLocked(it->second, now_ms));
  }
  return out;
}

absl::Status StreamImpl::DeregisterConsumer(const ConsumerKey& key, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  const int64_t now_ms = Ms(now);
  TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(key, now_ms));
  if (c->gone_at_ms != INT64_MAX) {
    return ResourceNotFoundError(fmt::format(
        "Consumer {} under stream {} under account {} is already DELETING.", key.name, name_,
        store_->options().account_id));
  }
  const ConsumerState before = *c;
  absl::Duration delay = store_->options().delete_delay;
  if (delay <= absl::ZeroDuration()) {
    consumers_.erase(key.name);
  } else {
    c->gone_at_ms = Ms(now + delay);
  }
  if (absl::Status st = PersistLocked(); !st.ok()) {
    consumers_[key.name] = before;
    return st;
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------ state-only settings

absl::Status StreamImpl::SetEncryption(EncryptionType type, std::string_view key_id, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  const bool start = type == EncryptionType::kKms;
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange(start ? "StartStreamEncryption" : "StopStreamEncryption"));
  if (start && (encryption_ != EncryptionType::kKms || key_id_ != key_id)) {
    while (!key_changes_.empty() && key_changes_.front() <= now - absl::Hours(24)) {
      key_changes_.pop_front();
    }
    if (static_cast<int>(key_changes_.size()) >= limits::kMaxEncryptionKeyChangesPer24h) {
      return LimitExceededError(fmt::format(
          "Stream {} under account {}: at most {} new encryption keys per rolling 24 hours; the "
          "next is allowed at {}",
          name_, store_->options().account_id, limits::kMaxEncryptionKeyChangesPer24h,
          absl::FormatTime(key_changes_.front() + absl::Hours(24))));
    }
    key_changes_.push_back(now);
  }
  encryption_ = type;
  key_id_ = start ? std::string(key_id) : std::string();
  PendingChange c;
  c.kind = PendingChange::Kind::kState;
  return BeginUpdate(now, c);
}

namespace {
constexpr std::string_view kMetricNames[] = {
    "IncomingBytes",         "IncomingRecords",
    "IteratorAgeMilliseconds", "OutgoingBytes",
    "OutgoingRecords",       "ReadProvisionedThroughputExceeded",
    "WriteProvisionedThroughputExceeded",
};
}  // namespace

absl::StatusOr<EnhancedMonitoringResult> StreamImpl::ChangeMonitoring(
    const std::vector<std::string>& metrics, bool enable, absl::Time now) {
  if (metrics.empty() || metrics.size() > 7) {
    return ValidationError(fmt::format("ShardLevelMetrics takes 1..7 metric names, got {}", metrics.size()));
  }
  std::set<std::string> names;
  for (const std::string& m : metrics) {
    if (m == "ALL") {
      for (std::string_view n : kMetricNames) names.insert(std::string(n));
      continue;
    }
    if (std::find(std::begin(kMetricNames), std::end(kMetricNames), m) == std::end(kMetricNames)) {
      return ValidationError(fmt::format(
          "1 validation error detected: Value '{}' at 'shardLevelMetrics' failed to satisfy "
          "constraint: Member must satisfy enum value set: [IncomingBytes, IncomingRecords, "
          "OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, "
          "ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]",
          m.substr(0, 64)));
    }
    names.insert(m);
  }
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(
      CheckActiveForChange(enable ? "EnableEnhancedMonitoring" : "DisableEnhancedMonitoring"));
  EnhancedMonitoringResult r;
  r.stream_name = name_;
  r.stream_arn = arn_;
  r.current_shard_level_metrics.assign(metrics_.begin(), metrics_.end());
  std::set<std::string> before = metrics_;
  for (const std::string& n : names) {
    if (enable) {
      metrics_.insert(n);
    } else {
      metrics_.erase(n);
    }
  }
  r.desired_shard_level_metrics.assign(metrics_.begin(), metrics_.end());
  if (absl::Status st = PersistLocked(); !st.ok()) {
    metrics_ = std::move(before);
    return st;
  }
  return r;
}

absl::Status StreamImpl::PutPolicy(const std::optional<ConsumerKey>& consumer, std::string_view policy,
                                   absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckExists("PutResourcePolicy"));
  std::optional<std::string>* slot = &policy_;
  if (consumer) {
    TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(*consumer, Ms(now)));
    slot = &c->policy;
  }
  std::optional<std::string> before = *slot;
  *slot = std::string(policy);
  if (absl::Status st = PersistLocked(); !st.ok()) {
    *slot = std::move(before);
    return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> StreamImpl::GetPolicy(
    const std::optional<ConsumerKey>& consumer, absl::Time now) {
  FinishTransitionIfDue(now);
  util::ReaderLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckExists("GetResourcePolicy"));
  if (!consumer) return policy_;
  TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(*consumer, Ms(now)));
  return c->policy;
}

absl::Status StreamImpl::DeletePolicy(const std::optional<ConsumerKey>& consumer, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  TRIBUTARY_RETURN_IF_ERROR(CheckExists("DeleteResourcePolicy"));
  std::optional<std::string>* slot = &policy_;
  std::string what = fmt::format("stream {}", name_);
  if (consumer) {
    TRIBUTARY_ASSIGN_OR_RETURN(ConsumerState * c, FindConsumer(*consumer, Ms(now)));
    slot = &c->policy;
    what = fmt::format("consumer {} of stream {}", consumer->name, name_);
  }
  if (!slot->has_value()) {
    return ResourceNotFoundError(fmt::format("No resource policy found for {} under account {}.", what,
                                             store_->options().account_id));
  }
  std::optional<std::string> before = *slot;
  slot->reset();
  if (absl::Status st = PersistLocked(); !st.ok()) {
    *slot = std::move(before);
    return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<UpdateWarmThroughputResult> StreamImpl::UpdateWarmThroughput(int mibps, absl::Time now) {
  FinishTransitionIfDue(now);
  util::WriterLock l(&mu_);
  if (mode_ != StreamMode::kOnDemand) {
    return InvalidArgumentError(fmt::format(
        "Warm throughput is only supported for ON_DEMAND streams; {} is {}", name_, ToString(mode_)));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckActiveForChange("UpdateStreamWarmThroughput"));
  UpdateWarmThroughputResult r;
  r.stream_name = name_;
  r.stream_arn = arn_;
  r.warm_throughput.target_mibps = mibps;
  r.warm_throughput.current_mibps = warm_ ? warm_->current_mibps : 0;
  warm_ = r.warm_throughput;
  PendingChange c;
  c.kind = PendingChange::Kind::kWarm;
  c.target = mibps;
  TRIBUTARY_RETURN_IF_ERROR(BeginUpdate(now, c));
  return r;
}

}  // namespace tributary::stream
