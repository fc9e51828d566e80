#include "tributary/testing/order_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "util/mutex.h"

namespace tributary::testing {

// ---------------------------------------------------------------- probes

namespace {
constexpr std::string_view kProbeMagic = "tco1 ";
}  // namespace

// std::to_chars / std::from_chars: the generator and the consumer run these
// once per record, on the hot path of a 200,000 records/s run.
std::string EncodeProbe(const OrderProbe& p, size_t pad_to) {
  char buf[128];
  char* const end = buf + sizeof buf;
  char* at = std::copy(kProbeMagic.begin(), kProbeMagic.end(), buf);
  for (int shift = 60; shift >= 0; shift -= 4) *at++ = "0123456789abcdef"[(p.run >> shift) & 0xf];
  auto field = [&](auto v) {  // at most 1 + 20 characters each: 5 + 16 + 4 * 21 < sizeof buf
    if (at == end) return;
    *at++ = ' ';
    at = std::to_chars(at, end, v).ptr;
  };
  field(p.writer);
  field(p.key);
  field(p.counter);
  field(p.put_unix_micros);
  std::string out(buf, at);
  if (out.size() < pad_to) {
    out += ' ';
    out.append(pad_to > out.size() ? pad_to - out.size() : 0, 'x');
  }
  return out;
}

std::optional<OrderProbe> DecodeProbe(std::string_view data) {
  if (data.substr(0, kProbeMagic.size()) != kProbeMagic) return std::nullopt;
  const char* at = data.data() + kProbeMagic.size();
  const char* const end = data.data() + data.size();
  OrderProbe p;
  // Each field: digits, then a space or the end; nothing else.
  auto field = [&](auto* v, int base) {
    const auto [ptr, ec] = std::from_chars(at, end, *v, base);
    if (ec != std::errc() || ptr == at || (ptr != end && *ptr != ' ')) return false;
    at = ptr == end ? ptr : ptr + 1;
    return true;
  };
  if (end - at < 17 || at[16] != ' ') return std::nullopt;  // the run id: exactly 16 hex digits
  if (!field(&p.run, 16) || !field(&p.writer, 10) || !field(&p.key, 10) || !field(&p.counter, 10) || !field(&p.put_unix_micros, 10)) {
    return std::nullopt;
  }
  return p;
}

std::string ProbePartitionKey(uint32_t key) { return fmt::format("key-{}", key); }

std::string_view ToString(NemesisKind kind) {
  switch (kind) {
    case NemesisKind::kSplitShard: return "SplitShard";
    case NemesisKind::kMergeShards: return "MergeShards";
    case NemesisKind::kUpdateShardCount: return "UpdateShardCount";
    case NemesisKind::kServerRestart: return "server restart";
    case NemesisKind::kConsumerRestart: return "consumer restart";
  }
  return "?";
}

std::string_view ToString(DuplicateKind kind) {
  switch (kind) {
    case DuplicateKind::kRedeliveredAfterRestart: return "redelivered after restart";
    case DuplicateKind::kWrittenTwice: return "written twice";
    case DuplicateKind::kTrueDuplicate: return "true duplicate";
  }
  return "?";
}

// ---------------------------------------------------------------- checker

namespace {

// A set of counters kept as a prefix [0, prefix) plus the members above it:
// a consumer that keeps order leaves `extra` empty, so the set costs a few
// words however many counters it holds.
class CounterSet {
 public:
  // False if `c` was already in.
  bool Insert(uint64_t c) {
    if (c < prefix_) return false;
    if (c != prefix_) return extra_.insert(c).second;
    ++prefix_;
    while (!extra_.empty() && *extra_.begin() == prefix_) {
      extra_.erase(extra_.begin());
      ++prefix_;
    }
    return true;
  }
  bool Contains(uint64_t c) const { return c < prefix_ || extra_.contains(c); }
  uint64_t size() const { return prefix_ + extra_.size(); }
  uint64_t prefix() const { return prefix_; }
  const absl::btree_set<uint64_t>& extra() const { return extra_; }

  // |this ∩ other|, from the prefixes and the extras only.
  uint64_t IntersectionSize(const CounterSet& other) const {
    uint64_t n = std::min(prefix_, other.prefix_);
    for (uint64_t x : extra_) n += other.Contains(x) ? 1 : 0;  // x > prefix_
    for (uint64_t x : other.extra_) n += x < prefix_ ? 1 : 0;  // in our prefix, not counted above
    return n;
  }
  // The members of this set not in `other`, smallest first, at most `limit`.
  std::vector<uint64_t> FirstNotIn(const CounterSet& other, size_t limit) const {
    std::vector<uint64_t> out;
    for (uint64_t x = other.prefix_; x < prefix_ && out.size() < limit; ++x) {
      if (!other.extra_.contains(x)) out.push_back(x);
    }
    for (uint64_t x : extra_) {
      if (out.size() >= limit) break;
      if (!other.Contains(x)) out.push_back(x);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  uint64_t prefix_ = 0;
  absl::btree_set<uint64_t> extra_;
};

// Latencies in microseconds, in buckets of 1/16 of a power of two (within
// about 6%), so the histogram's size does not grow with the records.
class Histogram {
 public:
  void Add(int64_t micros) {
    const uint64_t v = micros < 0 ? 0 : static_cast<uint64_t>(micros);
    ++buckets_[Bucket(v)];
    ++count_;
    max_ = std::max(max_, v);
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The upper edge of the bucket holding the q-quantile (capped at max).
  uint64_t Quantile(double q) const {
    if (count_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min(Upper(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSub = 16;
  static size_t Bucket(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const uint64_t sub = (v >> (msb - 4)) & (kSub - 1);
    return static_cast<size_t>((msb - 3) * kSub) + sub;
  }
  static uint64_t Upper(size_t i) {
    if (i < kSub) return i;
    const int msb = static_cast<int>(i / kSub) + 3;
    const uint64_t sub = i % kSub;
    return ((kSub + sub + 1) << (msb - 4)) - 1;
  }
  std::array<uint64_t, (64 - 3) * kSub> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

constexpr uint32_t kNoShard = UINT32_MAX;

}  // namespace

struct OrderChecker::State {
  util::Mutex mu;

  struct Key {
    bool used = false;
    CounterSet acked;
    CounterSet delivered;
    // Where the key's records were written: (first counter, shard index),
    // one entry per change of shard, in counter order.
    std::vector<std::pair<uint64_t, uint32_t>> shards;
    // The highest counter delivered (valid if any_delivered).
    bool any_delivered = false;
    uint64_t highest = 0;
    // The epoch of this key's latest delivery, and `highest` when that
    // epoch's first delivery came (valid if any_at_epoch_start).
    uint64_t epoch = 0;
    bool any_at_epoch_start = false;
    uint64_t highest_at_epoch_start = 0;
    // The last delivery of the key, to tell two stored copies of one record
    // (different sequence numbers) from one record delivered twice.
    bool has_last = false;
    uint64_t last_counter = 0;
    SequenceNumber last_sequence_number;
    // Counters the generator may have stored twice, not yet seen twice.
    std::vector<uint64_t> maybe_twice;

    uint32_t ShardOf(uint64_t counter) const {
      auto it = std::upper_bound(shards.begin(), shards.end(), std::make_pair(counter, UINT32_MAX));
      return it == shards.begin() ? kNoShard : std::prev(it)->second;
    }
  };
  std::vector<Key> keys ABSL_GUARDED_BY(mu);

  uint64_t epoch ABSL_GUARDED_BY(mu) = 0;
  uint64_t acknowledged ABSL_GUARDED_BY(mu) = 0;
  uint64_t acked_and_delivered ABSL_GUARDED_BY(mu) = 0;
  uint64_t deliveries ABSL_GUARDED_BY(mu) = 0;
  uint64_t distinct ABSL_GUARDED_BY(mu) = 0;
  uint64_t out_of_order ABSL_GUARDED_BY(mu) = 0;
  uint64_t dup[3] ABSL_GUARDED_BY(mu) = {0, 0, 0};
  uint64_t foreign ABSL_GUARDED_BY(mu) = 0;
  absl::Time last_delivery ABSL_GUARDED_BY(mu);
  Histogram latency ABSL_GUARDED_BY(mu);
  std::vector<OrderViolation> violation_examples ABSL_GUARDED_BY(mu);
  std::vector<DuplicateExample> duplicate_examples ABSL_GUARDED_BY(mu);
  // Violations by (shard written to, shard of the higher record written
  // to): attributed to reshards at Finish(). Bounded by shards squared.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> violation_pairs ABSL_GUARDED_BY(mu);
  std::vector<NemesisEvent> events ABSL_GUARDED_BY(mu);

  Key* GetKey(uint32_t key, uint32_t max_keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (key >= max_keys) return nullptr;
    if (key >= keys.size()) keys.resize(std::max<size_t>(key + 1, keys.size() * 2));
    keys[key].used = true;
    return &keys[key];
  }

  void Ack(uint32_t key, uint64_t counter, ShardId shard, uint32_t max_keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Key* k = GetKey(key, max_keys);
    if (k == nullptr || !k->acked.Insert(counter)) return;
    ++acknowledged;
    if (k->delivered.Contains(counter)) ++acked_and_delivered;
    const uint32_t s = shard.index();
    // Keep `shards` sorted by counter with one entry per change of shard.
    auto it = std::upper_bound(k->shards.begin(), k->shards.end(), std::make_pair(counter, UINT32_MAX));
    if (it != k->shards.begin() && std::prev(it)->second == s) return;
    if (it != k->shards.end() && it->second == s) {
      it->first = counter;  // acknowledged out of order: extend the next run down
      return;
    }
    k->shards.insert(it, {counter, s});
  }
};

OrderChecker::OrderChecker() : OrderChecker(Options()) {}
OrderChecker::OrderChecker(Options options) : options_(options), state_(std::make_unique<State>()) {}
OrderChecker::~OrderChecker() = default;

void OrderChecker::Acknowledged(uint32_t key, uint64_t counter, ShardId shard) {
  util::MutexLock l(&state_->mu);
  state_->Ack(key, counter, shard, options_.max_keys);
}

void OrderChecker::Acknowledged(absl::Span<const Ack> acks) {
  util::MutexLock l(&state_->mu);
  for (const Ack& a : acks) state_->Ack(a.key, a.counter, a.shard, options_.max_keys);
}

void OrderChecker::MaybeWrittenTwice(uint32_t key, uint64_t counter) {
  util::MutexLock l(&state_->mu);
  State::Key* k = state_->GetKey(key, options_.max_keys);
  if (k != nullptr) k->maybe_twice.push_back(counter);
}

void OrderChecker::Restarted() {
  util::MutexLock l(&state_->mu);
  ++state_->epoch;
}

void OrderChecker::Event(NemesisEvent event) {
  util::MutexLock l(&state_->mu);
  state_->events.push_back(std::move(event));
}

void OrderChecker::Foreign(uint64_t n) {
  util::MutexLock l(&state_->mu);
  state_->foreign += n;
}

void OrderChecker::Delivered(absl::Span<const Delivery> batch, absl::Time at) {
  State& s = *state_;
  const int64_t at_micros = absl::ToUnixMicros(at);
  util::MutexLock l(&s.mu);
  if (!batch.empty()) s.last_delivery = std::max(s.last_delivery, at);
  for (const Delivery& d : batch) {
    State::Key* k = s.GetKey(d.key, options_.max_keys);
    if (k == nullptr) {
      ++s.foreign;
      continue;
    }
    ++s.deliveries;
    if (k->epoch != s.epoch) {
      k->epoch = s.epoch;
      k->any_at_epoch_start = k->any_delivered;
      k->highest_at_epoch_start = k->highest;
    }
    const bool same_counter_as_last = k->has_last && k->last_counter == d.counter;
    const bool other_copy = same_counter_as_last && d.sequence_number.has_value() &&
                            *d.sequence_number != k->last_sequence_number;
    k->has_last = true;
    k->last_counter = d.counter;
    k->last_sequence_number = d.sequence_number.value_or(SequenceNumber());

    if (!k->delivered.Insert(d.counter)) {
      DuplicateKind kind = DuplicateKind::kTrueDuplicate;
      auto maybe = std::find(k->maybe_twice.begin(), k->maybe_twice.end(), d.counter);
      if (other_copy) {
        kind = DuplicateKind::kWrittenTwice;
        if (maybe != k->maybe_twice.end()) k->maybe_twice.erase(maybe);
      } else if (k->any_at_epoch_start && d.counter <= k->highest_at_epoch_start) {
        kind = DuplicateKind::kRedeliveredAfterRestart;
      } else if (maybe != k->maybe_twice.end() && !(same_counter_as_last && d.sequence_number.has_value())) {
        // Declared by the generator, and not refuted by a sequence number
        // equal to the last copy's.
        kind = DuplicateKind::kWrittenTwice;
        k->maybe_twice.erase(maybe);
      }
      ++s.dup[static_cast<int>(kind)];
      if (s.duplicate_examples.size() < options_.max_examples) {
        s.duplicate_examples.push_back({d.key, d.counter, kind, std::string(d.shard_id)});
      }
      continue;  // a duplicate is never an order violation
    }
    ++s.distinct;
    const bool acked = k->acked.Contains(d.counter);
    if (acked) {
      ++s.acked_and_delivered;
      if (d.put_unix_micros != 0) s.latency.Add(at_micros - d.put_unix_micros);
    }
    if (k->any_delivered && d.counter < k->highest) {
      ++s.out_of_order;
      const uint32_t late = k->ShardOf(d.counter), high = k->ShardOf(k->highest);
      ++s.violation_pairs[{late, high}];
      if (s.violation_examples.size() < options_.max_examples) {
        OrderViolation v;
        v.key = d.key;
        v.counter = d.counter;
        v.after_counter = k->highest;
        v.shard = late == kNoShard ? "" : FormatShardId(late);
        v.after_shard = high == kNoShard ? "" : FormatShardId(high);
        v.read_from = std::string(d.shard_id);
        v.at = at - options_.start;
        s.violation_examples.push_back(std::move(v));
      }
      continue;
    }
    k->any_delivered = true;
    k->highest = d.counter;
  }
}

uint64_t OrderChecker::acknowledged() const {
  util::MutexLock l(&state_->mu);
  return state_->acknowledged;
}

uint64_t OrderChecker::outstanding() const {
  util::MutexLock l(&state_->mu);
  return state_->acknowledged - state_->acked_and_delivered;
}

uint64_t OrderChecker::out_of_order() const {
  util::MutexLock l(&state_->mu);
  return state_->out_of_order;
}

uint64_t OrderChecker::deliveries() const {
  util::MutexLock l(&state_->mu);
  return state_->deliveries;
}

uint64_t OrderChecker::held_counters() const {
  util::MutexLock l(&state_->mu);
  uint64_t n = 0;
  for (const State::Key& k : state_->keys) n += k.acked.extra().size() + k.delivered.extra().size();
  return n;
}

OrderReport OrderChecker::Finish() const {
  State& s = *state_;
  util::MutexLock l(&s.mu);
  OrderReport r;
  r.acknowledged = s.acknowledged;
  r.deliveries = s.deliveries;
  r.distinct = s.distinct;
  r.out_of_order = s.out_of_order;
  r.redelivered_after_restart = s.dup[static_cast<int>(DuplicateKind::kRedeliveredAfterRestart)];
  r.written_twice = s.dup[static_cast<int>(DuplicateKind::kWrittenTwice)];
  r.true_duplicates = s.dup[static_cast<int>(DuplicateKind::kTrueDuplicate)];
  r.duplicates = r.redelivered_after_restart + r.written_twice + r.true_duplicates;
  r.foreign = s.foreign;
  r.restarts = s.epoch;
  r.violations = s.violation_examples;
  r.duplicate_examples = s.duplicate_examples;
  r.last_delivery = s.last_delivery == absl::Time() ? absl::ZeroDuration() : s.last_delivery - options_.start;
  r.latency.count = s.latency.count();
  r.latency.p50 = absl::Microseconds(s.latency.Quantile(0.50));
  r.latency.p99 = absl::Microseconds(s.latency.Quantile(0.99));
  r.latency.max = absl::Microseconds(s.latency.max());

  for (uint32_t key = 0; key < s.keys.size(); ++key) {
    const State::Key& k = s.keys[key];
    if (!k.used) continue;
    ++r.keys;
    const uint64_t both = k.acked.IntersectionSize(k.delivered);
    r.lost += k.acked.size() - both;
    r.unacknowledged_delivered += k.delivered.size() - both;
    if (r.lost_examples.size() < options_.max_examples && k.acked.size() > both) {
      for (uint64_t c : k.acked.FirstNotIn(k.delivered, options_.max_examples - r.lost_examples.size())) {
        const uint32_t shard = k.ShardOf(c);
        r.lost_examples.push_back({key, c, shard == kNoShard ? "" : FormatShardId(shard)});
      }
    }
  }

  // Attribution: the reshard that closed the shard the late record was
  // written to (the first reshard between it and the higher record's shard).
  r.events = s.events;
  absl::flat_hash_map<uint32_t, size_t> closed_by;  // shard index -> position in r.events
  for (size_t i = 0; i < r.events.size(); ++i) {
    if (!r.events[i].ok) continue;
    for (const std::string& id : r.events[i].closed) {
      absl::StatusOr<uint32_t> index = ParseShardId(id);
      if (index.ok()) closed_by.try_emplace(*index, i);
    }
  }
  for (const auto& [pair, n] : s.violation_pairs) {
    const auto [late, high] = pair;
    if (late != kNoShard && late == high) {
      r.violations_within_shard += n;
      continue;
    }
    auto it = late == kNoShard ? closed_by.end() : closed_by.find(late);
    if (it == closed_by.end()) {
      r.violations_unattributed += n;
      continue;
    }
    r.events[it->second].violations += n;
  }
  for (OrderViolation& v : r.violations) {
    if (v.shard.empty() || v.shard == v.after_shard) continue;
    absl::StatusOr<uint32_t> index = ParseShardId(v.shard);
    if (!index.ok()) continue;
    auto it = closed_by.find(*index);
    if (it != closed_by.end()) v.event = r.events[it->second].index;
  }
  return r;
}

}  // namespace tributary::testing
