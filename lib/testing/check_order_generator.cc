// The generator of CheckOrder: writers that put probes over partition keys.
//
// Each key belongs to one writer and has at most one record in flight, so
// the stream holds a key's records in counter order whatever the endpoint
// does with the order of entries inside one PutRecords request (Kinesis
// does not promise it): a batch holds distinct keys, and a key's next record
// is created only once the previous one is acknowledged. A record that
// fails is retried with the same data (same counter, same put time).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "check_order_internal.h"
#include "tributary/status.h"

namespace tributary::testing::check_order {

WriteOutcome ClassifyWriteError(const absl::Status& status) {
  switch (GetErrorType(status)) {
    case ErrorType::kProvisionedThroughputExceeded:
    case ErrorType::kLimitExceeded:
    case ErrorType::kValidation:
    case ErrorType::kInvalidArgument:
    case ErrorType::kResourceNotFound:
    case ErrorType::kAccessDenied:
    case ErrorType::kUnrecognizedClient:
    case ErrorType::kInvalidSignature:
    case ErrorType::kMissingAuthenticationToken:
    case ErrorType::kIncompleteSignature:
      return WriteOutcome::kNotWritten;  // refused before anything was stored
    default:
      return WriteOutcome::kUnknown;  // InternalFailure (5xx), transport errors, timeouts
  }
}

Generator::Generator(Run& run)
    : run_(run),
      budget_(run.options.max_records == 0
                  ? std::numeric_limits<int64_t>::max()
                  : static_cast<int64_t>(std::min<uint64_t>(run.options.max_records,
                                                            std::numeric_limits<int64_t>::max()))) {}

Generator::~Generator() { Join(); }

void Generator::Start() {
  const int n = run_.options.writers;
  stats_.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { Writer(i); });
}

void Generator::Join() {
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Generator::Stats Generator::stats() const {
  Stats all;
  for (const Stats& s : stats_) {
    all.put_records_calls += s.put_records_calls;
    all.put_record_calls += s.put_record_calls;
    all.failed_calls += s.failed_calls;
    all.throttled_records += s.throttled_records;
    all.ambiguous_records += s.ambiguous_records;
    all.unacknowledged += s.unacknowledged;
    for (const auto& [shard, n] : s.records_per_shard) all.records_per_shard[shard] += n;
  }
  return all;
}

void Generator::Writer(int index) {
  const CheckOrderOptions& o = run_.options;
  Stats& stats = stats_[static_cast<size_t>(index)];
  struct Slot {
    uint32_t key = 0;
    std::string partition_key;
    uint64_t next = 0;       // the counter of the key's next new record
    bool pending = false;    // `counter` / `data` wait for an acknowledgement
    bool ambiguous = false;  // an attempt of it had an unknown outcome
    bool sent = false;       // at least one attempt was made
    uint64_t counter = 0;
    std::string data;
  };
  std::vector<Slot> slots;
  for (int k = index; k < o.keys; k += o.writers) {
    Slot s;
    s.key = static_cast<uint32_t>(k);
    s.partition_key = ProbePartitionKey(s.key);
    slots.push_back(std::move(s));
  }
  const size_t batch = static_cast<size_t>(std::max(1, o.batch_size));
  // Every `single_every`-th call is a PutRecord (0: never).
  const uint64_t single_every =
      o.put_record_ratio <= 0 ? 0 : static_cast<uint64_t>(std::max(1.0, std::round(1.0 / o.put_record_ratio)));
  const double rate = o.rate > 0 ? o.rate / o.writers : 0;
  absl::Time next_send = absl::Now();
  int failures_in_a_row = 0;
  std::minstd_rand jitter(static_cast<uint32_t>(run_.run_id) + static_cast<uint32_t>(index));

  std::vector<Slot*> chosen;
  std::vector<PutRecordInput> inputs;
  std::vector<OrderChecker::Ack> acks;
  size_t cursor = 0;
  uint64_t call = 0;
  while (!run_.stop_writing.load(std::memory_order_relaxed) && !slots.empty()) {
    ++call;
    const bool single = single_every != 0 && call % single_every == 0;
    const size_t want = single ? 1 : std::min(batch, slots.size());
    chosen.clear();
    size_t examined = 0;
    for (; examined < slots.size() && chosen.size() < want; ++examined) {
      Slot& s = slots[(cursor + examined) % slots.size()];
      if (!s.pending) {
        if (budget_.fetch_sub(1, std::memory_order_relaxed) <= 0) continue;
        s.counter = s.next++;
        s.pending = true;
        s.ambiguous = false;
        s.sent = false;
        s.data.clear();  // made when it is sent, so its put time is the send time
      }
      chosen.push_back(&s);
    }
    cursor = (cursor + examined) % slots.size();
    if (chosen.empty()) break;  // the budget is spent and everything acknowledged

    if (rate > 0) {
      next_send += absl::Seconds(static_cast<double>(chosen.size()) / rate);
      const absl::Time now = absl::Now();
      if (now > next_send + absl::Seconds(1)) next_send = now;  // no burst to catch up
      if (!Run::SleepUntil(next_send, run_.stop_writing)) break;
    }
    const int64_t now_micros = absl::ToUnixMicros(absl::Now());
    for (Slot* s : chosen) {
      if (s->data.empty()) {
        s->data = EncodeProbe({run_.run_id, static_cast<uint32_t>(index), s->key, s->counter, now_micros},
                              o.record_bytes);
      }
      s->sent = true;
    }

    acks.clear();
    bool whole_call_failed = false;
    absl::Status error;
    if (single) {
      ++stats.put_record_calls;
      Slot& s = *chosen.front();
      absl::StatusOr<PutRecordResult> r =
          run_.writer_store.Put(o.stream, PutRecordInput{s.partition_key, s.data, std::nullopt});
      if (r.ok()) {
        acks.push_back({s.key, s.counter, r->shard_id});
      } else {
        whole_call_failed = true;
        error = r.status();
      }
    } else {
      ++stats.put_records_calls;
      inputs.clear();
      for (Slot* s : chosen) inputs.push_back(PutRecordInput{s->partition_key, s->data, std::nullopt});
      absl::StatusOr<PutBatchResult> r = run_.writer_store.PutBatch(o.stream, inputs);
      if (r.ok() && r->records.size() == chosen.size()) {
        for (size_t i = 0; i < chosen.size(); ++i) {
          const PutBatchEntryResult& e = r->records[i];
          if (e.ok() && e.shard_id.has_value()) {
            acks.push_back({chosen[i]->key, chosen[i]->counter, *e.shard_id});
          } else {
            ++stats.throttled_records;  // per-entry failures are never stored
          }
        }
      } else {
        whole_call_failed = true;
        error = r.ok() ? absl::InternalError(fmt::format("PutRecords answered {} entries for {}",
                                                         r->records.size(), chosen.size()))
                       : r.status();
      }
    }

    if (whole_call_failed) {
      ++stats.failed_calls;
      if (ClassifyWriteError(error) == WriteOutcome::kNotWritten) {
        if (GetErrorType(error) == ErrorType::kProvisionedThroughputExceeded ||
            GetErrorType(error) == ErrorType::kLimitExceeded) {
          stats.throttled_records += chosen.size();
        } else {
          run_.Problem(fmt::format("writer {}: {}", index, error.ToString()));
        }
      } else {
        for (Slot* s : chosen) {
          if (!s->ambiguous) ++stats.ambiguous_records;
          s->ambiguous = true;
        }
        run_.Problem(fmt::format("writer {}: {} (retried; the records may be stored twice)", index,
                                 error.ToString()));
      }
      // Full-jitter backoff, 10 ms doubling up to 1 s.
      const int64_t cap_ms = std::min<int64_t>(1000, int64_t{10} << std::min(failures_in_a_row, 7));
      ++failures_in_a_row;
      const int64_t wait_ms = static_cast<int64_t>(jitter() % static_cast<uint32_t>(cap_ms + 1));
      if (!Run::SleepUntil(absl::Now() + absl::Milliseconds(wait_ms), run_.stop_writing)) break;
      continue;
    }
    failures_in_a_row = 0;
    // Acknowledge: the slots of acked records take new records next time.
    size_t a = 0;
    for (Slot* s : chosen) {
      if (a < acks.size() && acks[a].key == s->key && acks[a].counter == s->counter) {
        ++stats.records_per_shard[acks[a].shard.index()];
        if (s->ambiguous) run_.checker.MaybeWrittenTwice(s->key, s->counter);
        s->pending = false;
        s->data.clear();
        ++a;
      }
    }
    run_.checker.Acknowledged(acks);
  }
  for (const Slot& s : slots) stats.unacknowledged += s.pending && s.sent ? 1 : 0;
  finished_writers_.fetch_add(1);
}

}  // namespace tributary::testing::check_order
