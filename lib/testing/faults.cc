// Faults: an ordered rule list under one mutex. Calls are rare in tests and
// the injector is absent in production, so simplicity wins over speed here.
#include "tributary/testing/faults.h"

#include <fmt/format.h>

#include <optional>
#include <random>
#include <utility>

#include "util/mutex.h"

namespace tributary::testing {

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
  Call call = Call::kPut;
  Target target;
  int left = 1;  // kAlways: never runs out
  // Whole-call fault (unset for per-record rules).
  std::optional<absl::Status> error;
  // Random rules: fire with this probability.
  std::optional<double> probability;
  std::mt19937_64 rng;
  // Per-record PutBatch rules.
  std::function<bool(size_t, const PutRecordInput&)> pick;
  ErrorType record_error = ErrorType::kNone;
};

bool Matches(const Rule& r, std::string_view stream, std::string_view shard_id,
             std::string_view partition_key) {
  if (!r.target.stream.empty() && r.target.stream != stream) return false;
  if (!r.target.shard_id.empty() && r.target.shard_id != shard_id) return false;
  if (!r.target.partition_key.empty() && r.pick == nullptr && r.target.partition_key != partition_key) {
    return false;
  }
  return true;
}

}  // namespace

struct Faults::Impl {
  mutable util::Mutex mu;
  std::vector<Rule> rules ABSL_GUARDED_BY(mu);
  int injected[4] ABSL_GUARDED_BY(mu) = {0, 0, 0, 0};
  int injected_records ABSL_GUARDED_BY(mu) = 0;

  Faults& Add(Faults& self, Rule r) ABSL_LOCKS_EXCLUDED(mu) {
    util::MutexLock l(&mu);
    rules.push_back(std::move(r));
    return self;
  }

  // The whole-call fault for a call, if a rule fires.
  absl::Status Fire(Call call, std::string_view stream, std::string_view shard_id,
                    std::string_view partition_key) ABSL_LOCKS_EXCLUDED(mu) {
    util::MutexLock l(&mu);
    for (Rule& r : rules) {
      if (r.call != call || !r.error.has_value() || r.left == 0) continue;
      if (!Matches(r, stream, shard_id, partition_key)) continue;
      if (r.probability.has_value()) {
        if (std::uniform_real_distribution<double>(0, 1)(r.rng) >= *r.probability) continue;
      } else if (r.left > 0) {
        --r.left;
      }
      ++injected[static_cast<int>(call)];
      return *r.error;
    }
    return absl::OkStatus();
  }
};

Faults::Faults() : impl_(std::make_unique<Impl>()) {}
Faults::~Faults() = default;

Faults& Faults::FailCalls(Call call, absl::Status error, int times, Target target) {
  Rule r;
  r.call = call;
  r.target = std::move(target);
  r.left = times;
  r.error = std::move(error);
  return impl_->Add(*this, std::move(r));
}

Faults& Faults::FailRandomly(Call call, double probability, absl::Status error, uint64_t seed,
                             Target target) {
  Rule r;
  r.call = call;
  r.target = std::move(target);
  r.left = kAlways;
  r.error = std::move(error);
  r.probability = probability;
  r.rng.seed(seed);
  return impl_->Add(*this, std::move(r));
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
  return FailBatchRecordsIf(
      [indexes = std::move(indexes)](size_t i, const PutRecordInput&) {
        for (size_t x : indexes) {
          if (x == i) return true;
        }
        return false;
      },
      type, batches, std::move(target));
}

Faults& Faults::FailBatchRecordsIf(std::function<bool(size_t, const PutRecordInput&)> pick,
                                   ErrorType type, int batches, Target target) {
  Rule r;
  r.call = Call::kPutBatch;
  r.target = std::move(target);
  r.left = batches;
  r.pick = std::move(pick);
  r.record_error = type;
  return impl_->Add(*this, std::move(r));
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

int Faults::injected(Call call) const {
  util::MutexLock l(&impl_->mu);
  return impl_->injected[static_cast<int>(call)];
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
  return impl_->Fire(Call::kPut, stream, "", record.partition_key);
}

absl::Status Faults::OnPutBatch(std::string_view stream, absl::Span<const PutRecordInput> records,
                                std::vector<absl::Status>* record_errors) {
  if (absl::Status s = impl_->Fire(Call::kPutBatch, stream, "", ""); !s.ok()) return s;
  util::MutexLock l(&impl_->mu);
  for (Rule& r : impl_->rules) {
    if (r.call != Call::kPutBatch || r.pick == nullptr || r.left == 0) continue;
    if (!Matches(r, stream, "", "")) continue;
    int failed = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      if (!r.target.partition_key.empty() && r.target.partition_key != records[i].partition_key) continue;
      if (!r.pick(i, records[i])) continue;
      (*record_errors)[i] = InjectedError(
          r.record_error, fmt::format("Records[{}] of stream {}", i, stream));
      ++failed;
    }
    if (r.left > 0) --r.left;
    if (failed > 0) {
      impl_->injected_records += failed;
      ++impl_->injected[static_cast<int>(Call::kPutBatch)];
    }
    break;
  }
  return absl::OkStatus();
}

absl::Status Faults::OnGetShardIterator(const GetShardIteratorRequest& request) {
  return impl_->Fire(Call::kGetShardIterator, request.stream, request.shard_id, "");
}

absl::Status Faults::OnGetRecords(std::string_view stream, std::string_view shard_id) {
  return impl_->Fire(Call::kGetRecords, stream, shard_id, "");
}

}  // namespace tributary::testing
