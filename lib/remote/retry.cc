#include "remote/retry.h"

#include <algorithm>
#include <cmath>

#include "tributary/status.h"

namespace tributary::remote {

bool IsRetryable(const RetryPolicy& policy, const absl::Status& failure, int http_status) {
  if (failure.ok()) return false;
  if (http_status == 0) {  // transport
    return policy.retry_transport_errors && (failure.code() == absl::StatusCode::kUnavailable ||
                                             failure.code() == absl::StatusCode::kDeadlineExceeded);
  }
  ErrorType t = GetErrorType(failure);
  if (t == ErrorType::kProvisionedThroughputExceeded || t == ErrorType::kLimitExceeded ||
      failure.code() == absl::StatusCode::kResourceExhausted) {
    return policy.retry_throttling;
  }
  if (http_status >= 500) return policy.retry_server_errors;
  return false;
}

Backoff::Backoff(const RetryPolicy& policy)
    : policy_(policy), rng_(policy.jitter_seed != 0 ? policy.jitter_seed : std::random_device()()) {}

absl::Duration Backoff::Cap(int retry) const {
  double factor = std::pow(policy_.multiplier, std::max(0, retry - 1));
  absl::Duration d = policy_.initial_backoff * std::min(factor, 1e9);
  return std::min(d, policy_.max_backoff);
}

absl::Duration Backoff::Next(int retry) {
  const int64_t cap_us = absl::ToInt64Microseconds(Cap(retry));
  if (cap_us <= 0) return absl::ZeroDuration();
  util::MutexLock l(&mu_);
  std::uniform_int_distribution<int64_t> dist(0, cap_us);
  return absl::Microseconds(dist(rng_));
}

}  // namespace tributary::remote
