// Faults: an ordered rule list under one mutex. Calls are rare in tests and
// the injector is absent in production, so simplicity wins over speed here.
// Every rule keeps the FaultRule it was made from, so the C++ helpers and the
// wire API (lib/endpoint/control.cc) list and match rules the same way.
#include "tributary/testing/faults.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <random>
#include <utility>

#include "util/mutex.h"

namespace tributary::testing {

std::string_view ActionName(Call call) {
  switch (call) {
    case Call::kPut:
      return "PutRecord";
    case Call::kPutBatch:
      return "PutRecords";
    case Call::kGetShardIterator:
      return "GetShardIterator";
    case Call::kGetRecords:
      return "GetRecords";
  }
  return "?";
}

std::string_view ToString(Call call) {
  switch (call) {
    case Call::kPut:
      return "Put";
    case Call::kPutBatch:
      return "PutBatch";
    case Call::kGetShardIterator:
      return "GetShardIterator";
    case Call::kGetRecords:
      return "GetRecords";
  }
  return "?";
}

absl::Status InjectedError(ErrorType type, std::string_view what) {
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  switch (type) {
    case ErrorType::kProvisionedThroughputExceeded:
    case ErrorType::kLimitExceeded:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case ErrorType::kExpiredIterator:
    case ErrorType::kExpiredNextToken:
      code = absl::StatusCode::kOutOfRange;
      break;
    case ErrorType::kInternalFailure:
      code = absl::StatusCode::kInternal;
      break;
    case ErrorType::kResourceNotFound:
      code = absl::StatusCode::kNotFound;
      break;
    case ErrorType::kResourceInUse:
      code = absl::StatusCode::kFailedPrecondition;
      break;
    case ErrorType::kInvalidArgument:
    case ErrorType::kValidation:
      code = absl::StatusCode::kInvalidArgument;
      break;
    default:
      break;
  }
  std::string message;
  switch (type) {
    case ErrorType::kProvisionedThroughputExceeded:
      message = fmt::format("Rate exceeded for {}", what);
      break;
    case ErrorType::kExpiredIterator:
      message = fmt::format("Iterator expired for {}", what);
      break;
    case ErrorType::kInternalFailure:
      message = fmt::format("Internal service failure for {}", what);
      break;
    default:
      message = fmt::format("{} for {}", ErrorTypeName(type), what);
  }
  return MakeError(code, type, message + " (injected by tributary::testing::Faults)");
}

namespace {

struct Rule {
  std::string id;
  FaultRule data;  // call, target, fail_records, latency as given
  int left = 1;    // kAlways: never runs out
  int fired = 0;
  // Whole-call fault (unset for per-record and latency-only rules).
  std::optional<absl::Status> error;
  // Random rules: fire with this probability.
  std::optional<double> probability;
  std::mt19937_64 rng;
  // Per-record PutBatch rules.
  std::function<bool(size_t, const PutRecordInput&)> pick;
  bool custom_pick = false;  // FailBatchRecordsIf
  ErrorType record_error = ErrorType::kNone;

  const std::string& call() const { return data.call; }
  const Target& target() const { return data.target; }
  // A whole-call rule: an error, or latency alone.
  bool whole_call() const { return pick == nullptr; }
};

// The stream name in a stream or consumer ARN
// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME[/consumer/...]); a name as is.
std::string_view StreamNameOf(std::string_view s) {
  if (s.substr(0, 4) != "arn:") return s;
  size_t at = s.find(":stream/");
  if (at == std::string_view::npos) return s;
  s.remove_prefix(at + 8);
  return s.substr(0, s.find('/'));
}

bool Matches(const Rule& r, std::string_view stream, std::string_view shard_id,
             std::string_view partition_key, std::string_view application = {}) {
  const Target& t = r.target();
  if (!t.stream.empty() && StreamNameOf(t.stream) != StreamNameOf(stream)) return false;
  if (!t.shard_id.empty() && t.shard_id != shard_id) return false;
  if (!t.partition_key.empty() && r.pick == nullptr && t.partition_key != partition_key) {
    return false;
  }
  if (!t.application.empty() && t.application != application) return false;
  return true;
}

absl::Status BadRule(std::string_view message) {
  return ValidationError(fmt::format("Bad fault rule: {}", message));
}

}  // namespace

struct Faults::Impl {
  mutable util::Mutex mu;
  std::vector<Rule> rules ABSL_GUARDED_BY(mu);
  int next_id ABSL_GUARDED_BY(mu) = 1;
  std::map<std::string, int, std::less<>> injected ABSL_GUARDED_BY(mu);
  int injected_records ABSL_GUARDED_BY(mu) = 0;
  Clock* latency_clock = SystemClock();

  std::string Add(Rule r) ABSL_LOCKS_EXCLUDED(mu) {
    util::MutexLock l(&mu);
    r.id = fmt::format("fault-{}", next_id++);
    rules.push_back(std::move(r));
    return rules.back().id;
  }

  void Sleep(absl::Duration d) {
    if (d > absl::ZeroDuration()) latency_clock->SleepFor(d);
  }

  // The first whole-call rule for a call that fires: its error (OK for a
  // latency-only rule) and latency; nothing fired: OK, zero.
  std::pair<absl::Status, absl::Duration> FireLocked(std::string_view call, std::string_view stream,
                                                     std::string_view shard_id,
                                                     std::string_view partition_key,
                                                     std::string_view application)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (Rule& r : rules) {
      if (r.call() != call || !r.whole_call() || r.left == 0) continue;
      if (!Matches(r, stream, shard_id, partition_key, application)) continue;
      if (r.probability.has_value()) {
        if (std::uniform_real_distribution<double>(0, 1)(r.rng) >= *r.probability) continue;
      } else if (r.left > 0) {
        --r.left;
      }
      ++r.fired;
      if (!r.error.has_value()) return {absl::OkStatus(), r.data.latency};
      ++injected[std::string(call)];
      return {*r.error, r.data.latency};
    }
    return {absl::OkStatus(), absl::ZeroDuration()};
  }

  absl::Status Fire(std::string_view call, std::string_view stream, std::string_view shard_id,
                    std::string_view partition_key, std::string_view application = {})
      ABSL_LOCKS_EXCLUDED(mu) {
    std::pair<absl::Status, absl::Duration> fired;
    {
      util::MutexLock l(&mu);
      fired = FireLocked(call, stream, shard_id, partition_key, application);
    }
    Sleep(fired.second);  // outside the lock: other calls go on meanwhile
    return fired.first;
  }
};

Faults::Faults() : impl_(std::make_unique<Impl>()) {}
Faults::~Faults() = default;

absl::StatusOr<std::string> Faults::Add(FaultRule data) {
  if (data.call.empty()) return BadRule("\"call\" must name an action (e.g. PutRecord)");
  if (data.count <= 0 && data.count != kAlways) {
    return BadRule(fmt::format("count must be positive (or kAlways), got {}", data.count));
  }
  if (data.latency < absl::ZeroDuration()) return BadRule("latency must not be negative");
  for (ErrorType t : {data.error, data.record_error}) {
    if (t == ErrorType::kWaiterTimeout || t == ErrorType::kCorruption) {
      return BadRule(fmt::format("{} is not an error a call can answer", ErrorTypeName(t)));
    }
  }
  if (!data.fail_records.empty()) {
    if (data.call != ActionName(Call::kPutBatch)) {
      return BadRule(fmt::format("fail_records applies to PutRecords only, not {}", data.call));
    }
    if (data.error != ErrorType::kNone) {
      return BadRule("a rule fails either the whole call (error) or some records (fail_records)");
    }
    if (data.record_error != ErrorType::kProvisionedThroughputExceeded &&
        data.record_error != ErrorType::kInternalFailure) {
      return BadRule(fmt::format(
          "a record fails with ProvisionedThroughputExceededException or InternalFailure, not {}",
          ErrorTypeName(data.record_error)));
    }
  }
  if (data.error == ErrorType::kNone && data.fail_records.empty() &&
      data.latency <= absl::ZeroDuration()) {
    return BadRule("the rule injects nothing: give an error, fail_records or latency");
  }
  Rule r;
  r.left = data.count;
  if (data.error != ErrorType::kNone) {
    std::string what = data.call;
    if (!data.target.stream.empty()) what += " on stream " + data.target.stream;
    if (!data.target.application.empty()) what += " on application " + data.target.application;
    absl::Status e = InjectedError(data.error, what);
    if (!data.message.empty()) e = MakeError(e.code(), data.error, data.message);
    r.error = std::move(e);
  }
  if (!data.fail_records.empty()) {
    r.record_error = data.record_error;
    r.pick = [indexes = data.fail_records](size_t i, const PutRecordInput&) {
      for (size_t x : indexes) {
        if (x == i) return true;
      }
      return false;
    };
  }
  r.data = std::move(data);
  return impl_->Add(std::move(r));
}

std::vector<FaultRuleState> Faults::Rules() const {
  util::MutexLock l(&impl_->mu);
  std::vector<FaultRuleState> out;
  for (const Rule& r : impl_->rules) {
    FaultRuleState s;
    s.id = r.id;
    s.rule = r.data;
    s.remaining = r.left;
    s.fired = r.fired;
    s.predicate = r.custom_pick;
    s.probability = r.probability.value_or(1.0);
    out.push_back(std::move(s));
  }
  return out;
}

bool Faults::Remove(std::string_view id) {
  util::MutexLock l(&impl_->mu);
  for (auto it = impl_->rules.begin(); it != impl_->rules.end(); ++it) {
    if (it->id == id) {
      impl_->rules.erase(it);
      return true;
    }
  }
  return false;
}

void Faults::SetLatencyClock(Clock* clock) { impl_->latency_clock = clock != nullptr ? clock : SystemClock(); }

Faults& Faults::FailCalls(Call call, absl::Status error, int times, Target target) {
  Rule r;
  r.data.call = std::string(ActionName(call));
  r.data.error = GetErrorType(error);
  r.data.count = times;
  r.data.target = std::move(target);
  r.left = times;
  r.error = std::move(error);
  impl_->Add(std::move(r));
  return *this;
}

Faults& Faults::FailRandomly(Call call, double probability, absl::Status error, uint64_t seed,
                             Target target) {
  Rule r;
  r.data.call = std::string(ActionName(call));
  r.data.error = GetErrorType(error);
  r.data.count = kAlways;
  r.data.target = std::move(target);
  r.left = kAlways;
  r.error = std::move(error);
  r.probability = probability;
  r.rng.seed(seed);
  impl_->Add(std::move(r));
  return *this;
}

Faults& Faults::ThrottlePuts(int times, Target target) {
  std::string what = target.stream.empty() ? "stream (any)" : "stream " + target.stream;
  return FailCalls(Call::kPut, InjectedError(ErrorType::kProvisionedThroughputExceeded, what), times,
                   std::move(target));
}

Faults& Faults::FailPutsInternally(int times, Target target) {
  return FailCalls(Call::kPut, InjectedError(ErrorType::kInternalFailure, "PutRecord"), times,
                   std::move(target));
}

Faults& Faults::FailBatchRecords(std::vector<size_t> indexes, ErrorType type, int batches,
                                 Target target) {
  Rule r;
  r.data.call = std::string(ActionName(Call::kPutBatch));
  r.data.count = batches;
  r.data.record_error = type;
  r.data.target = std::move(target);
  r.data.fail_records = indexes;
  r.left = batches;
  r.record_error = type;
  r.pick = [indexes = std::move(indexes)](size_t i, const PutRecordInput&) {
    for (size_t x : indexes) {
      if (x == i) return true;
    }
    return false;
  };
  impl_->Add(std::move(r));
  return *this;
}

Faults& Faults::FailBatchRecordsIf(std::function<bool(size_t, const PutRecordInput&)> pick,
                                   ErrorType type, int batches, Target target) {
  Rule r;
  r.data.call = std::string(ActionName(Call::kPutBatch));
  r.data.count = batches;
  r.data.record_error = type;
  r.data.target = std::move(target);
  r.left = batches;
  r.pick = std::move(pick);
  r.custom_pick = true;
  r.record_error = type;
  impl_->Add(std::move(r));
  return *this;
}

Faults& Faults::ExpireIterators(int times, Target target) {
  return FailCalls(Call::kGetRecords, InjectedError(ErrorType::kExpiredIterator, "GetRecords"), times,
                   std::move(target));
}

Faults& Faults::ThrottleGetRecords(int times, Target target) {
  return FailCalls(Call::kGetRecords,
                   InjectedError(ErrorType::kProvisionedThroughputExceeded, "GetRecords"), times,
                   std::move(target));
}

Faults& Faults::FailGetRecordsInternally(int times, Target target) {
  return FailCalls(Call::kGetRecords, InjectedError(ErrorType::kInternalFailure, "GetRecords"), times,
                   std::move(target));
}

Faults& Faults::FailGetShardIterator(ErrorType type, int times, Target target) {
  return FailCalls(Call::kGetShardIterator, InjectedError(type, "GetShardIterator"), times,
                   std::move(target));
}

int Faults::injected(Call call) const { return injected(ActionName(call)); }

int Faults::injected(std::string_view call) const {
  util::MutexLock l(&impl_->mu);
  auto it = impl_->injected.find(call);
  return it == impl_->injected.end() ? 0 : it->second;
}

int Faults::injected_records() const {
  util::MutexLock l(&impl_->mu);
  return impl_->injected_records;
}

bool Faults::exhausted() const {
  util::MutexLock l(&impl_->mu);
  for (const Rule& r : impl_->rules) {
    if (r.left != 0) return false;
  }
  return true;
}

void Faults::Clear() {
  util::MutexLock l(&impl_->mu);
  impl_->rules.clear();
}

absl::Status Faults::OnPut(std::string_view stream, const PutRecordInput& record) {
  return impl_->Fire(ActionName(Call::kPut), stream, "", record.partition_key);
}

absl::Status Faults::OnPutBatch(std::string_view stream, absl::Span<const PutRecordInput> records,
                                std::vector<absl::Status>* record_errors) {
  const std::string_view call = ActionName(Call::kPutBatch);
  if (absl::Status s = impl_->Fire(call, stream, "", ""); !s.ok()) return s;
  absl::Duration latency;
  {
    util::MutexLock l(&impl_->mu);
    for (Rule& r : impl_->rules) {
      if (r.call() != call || r.pick == nullptr || r.left == 0) continue;
      if (!Matches(r, stream, "", "")) continue;
      int failed = 0;
      for (size_t i = 0; i < records.size(); ++i) {
        if (!r.target().partition_key.empty() && r.target().partition_key != records[i].partition_key) {
          continue;
        }
        if (!r.pick(i, records[i])) continue;
        (*record_errors)[i] =
            InjectedError(r.record_error, fmt::format("Records[{}] of stream {}", i, stream));
        ++failed;
      }
      if (r.left > 0) --r.left;
      ++r.fired;
      latency = r.data.latency;
      if (failed > 0) {
        impl_->injected_records += failed;
        ++impl_->injected[std::string(call)];
      }
      break;
    }
  }
  impl_->Sleep(latency);
  return absl::OkStatus();
}

absl::Status Faults::OnGetShardIterator(const GetShardIteratorRequest& request) {
  return impl_->Fire(ActionName(Call::kGetShardIterator), request.stream, request.shard_id, "");
}

absl::Status Faults::OnGetRecords(std::string_view stream, std::string_view shard_id) {
  return impl_->Fire(ActionName(Call::kGetRecords), stream, shard_id, "");
}

absl::Status Faults::OnCall(std::string_view action, std::string_view stream,
                            std::string_view application) {
  return impl_->Fire(action, stream, "", "", application);
}

}  // namespace tributary::testing
