#include "tributary/testing/ordering_verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "util/mutex.h"

namespace tributary::testing {

struct OrderingVerifier::State {
  util::Mutex mu;
  struct Acked {
    SequenceNumber seq;
    std::string key;
  };
  // Acknowledged records, by sequence number (all 256 bits: numbers read
  // from a remote store may be wide).
  using Id = std::pair<absl::uint128, absl::uint128>;
  absl::flat_hash_map<Id, Acked> acked ABSL_GUARDED_BY(mu);
  // Delivered records (first delivery): what Check() needs to judge them
  // against the acknowledgements, which may arrive after the delivery when
  // producers and consumers run concurrently.
  struct Seen {
    SequenceNumber seq;
    std::string key;
    std::string shard;
  };
  absl::flat_hash_map<Id, Seen> seen ABSL_GUARDED_BY(mu);
  struct KeyState {
    SequenceNumber highest;
    std::string shard;  // where `highest` came from
  };
  absl::flat_hash_map<std::string, KeyState> keys ABSL_GUARDED_BY(mu);
  uint64_t delivered ABSL_GUARDED_BY(mu) = 0;
  uint64_t duplicates ABSL_GUARDED_BY(mu) = 0;
  uint64_t out_of_order ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::string> problems ABSL_GUARDED_BY(mu);

  void Problem(size_t max, std::string text) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (problems.size() < max) problems.push_back(std::move(text));
  }
};

OrderingVerifier::OrderingVerifier() : OrderingVerifier(Options()) {}
OrderingVerifier::OrderingVerifier(Options options) : options_(options), state_(std::make_unique<State>()) {}
OrderingVerifier::~OrderingVerifier() = default;

void OrderingVerifier::Acknowledged(std::string_view partition_key, SequenceNumber sequence_number) {
  util::MutexLock l(&state_->mu);
  state_->acked.emplace(State::Id(sequence_number.high(), sequence_number.value()), State::Acked{sequence_number, std::string(partition_key)});
}

void OrderingVerifier::Delivered(std::string_view shard_id, const Record& record) {
  Delivered(shard_id, absl::Span<const Record>(&record, 1));
}

void OrderingVerifier::Delivered(const RecordBatch& batch) { Delivered(batch.shard_id, batch.records); }

void OrderingVerifier::Delivered(std::string_view shard_id, absl::Span<const Record> records) {
  State& s = *state_;
  util::MutexLock l(&s.mu);
  for (const Record& r : records) {
    ++s.delivered;
    const State::Id id(r.sequence_number.high(), r.sequence_number.value());
    auto [seen, first] = s.seen.try_emplace(id);
    if (!first) {
      ++s.duplicates;
      if (options_.guarantee == DeliveryGuarantee::kExactlyOnce) {
        s.Problem(options_.max_problems,
                  fmt::format("duplicate: key '{}' record {} delivered again (shard {})", r.partition_key,
                              r.sequence_number.ToString(), shard_id));
      }
      continue;  // a re-delivery is never an order violation
    }
    seen->second = State::Seen{r.sequence_number, r.partition_key, std::string(shard_id)};
    auto [it, inserted] = s.keys.try_emplace(r.partition_key);
    State::KeyState& k = it->second;
    if (!inserted && r.sequence_number < k.highest) {
      ++s.out_of_order;
      s.Problem(options_.max_problems,
                fmt::format(
                    "out of order: key '{}' record {} (shard {}) delivered after record {} (shard {})",
                    r.partition_key, r.sequence_number.ToString(), shard_id, k.highest.ToString(), k.shard));
      continue;
    }
    k.highest = r.sequence_number;
    k.shard = std::string(shard_id);
  }
}

OrderingVerifier::Report OrderingVerifier::Check() const {
  State& s = *state_;
  util::MutexLock l(&s.mu);
  Report rep;
  rep.exactly_once = options_.guarantee == DeliveryGuarantee::kExactlyOnce;
  rep.require_acknowledged = options_.require_acknowledged;
  rep.acknowledged = s.acked.size();
  rep.delivered = s.delivered;
  rep.distinct = s.seen.size();
  rep.duplicates = s.duplicates;
  rep.out_of_order = s.out_of_order;
  rep.keys = s.keys.size();
  rep.problems = s.problems;
  // Judged now, not at delivery: an acknowledgement may come after it.
  std::vector<const State::Seen*> unacked;
  for (const auto& [id, d] : s.seen) {
    auto a = s.acked.find(id);
    if (a == s.acked.end()) {
      unacked.push_back(&d);
    } else if (a->second.key != d.key) {
      if (rep.problems.size() < options_.max_problems) {
        rep.problems.push_back(fmt::format("record {} (shard {}) has key '{}', acknowledged with key '{}'",
                                           d.seq.ToString(), d.shard, d.key, a->second.key));
      }
      ++rep.key_mismatches;
    }
  }
  rep.unacknowledged = unacked.size();
  if (options_.require_acknowledged) {
    std::sort(unacked.begin(), unacked.end(),
              [](const State::Seen* a, const State::Seen* b) { return a->seq < b->seq; });
    for (const State::Seen* d : unacked) {
      if (rep.problems.size() >= options_.max_problems) break;
      rep.problems.push_back(
          fmt::format("unacknowledged: key '{}' record {} (shard {}) was never acknowledged", d->key,
                      d->seq.ToString(), d->shard));
    }
  }
  std::vector<std::pair<SequenceNumber, const std::string*>> missing;
  for (const auto& [id, a] : s.acked) {
    if (!s.seen.contains(id)) {
      ++rep.missing;
      missing.emplace_back(a.seq, &a.key);
    }
  }
  std::sort(missing.begin(), missing.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [seq, key] : missing) {
    if (rep.problems.size() >= options_.max_problems) break;
    rep.problems.push_back(fmt::format("missing: key '{}' record {}{} was never delivered", *key, seq.ToString(),
                                       seq.has_counter() ? fmt::format(" (shard index {})", seq.shard_index())
                                                         : std::string()));
  }
  return rep;
}

std::string OrderingVerifier::Report::ToString() const {
  std::string out = fmt::format(
      "{}: {} acknowledged, {} delivered ({} distinct, {} duplicates) over {} keys; {} out of order, {} "
      "missing, {} unacknowledged",
      ok() ? "OK" : "FAILED", acknowledged, delivered, distinct, duplicates, keys, out_of_order, missing,
      unacknowledged);
  for (const std::string& p : problems) {
    out += "\n  ";
    out += p;
  }
  return out;
}

}  // namespace tributary::testing
