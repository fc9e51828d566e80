// Retry decisions and jittered exponential backoff for the remote backend
// (RetryPolicy in tributary/remote.h).
#ifndef TRIBUTARY_LIB_REMOTE_RETRY_H_
#define TRIBUTARY_LIB_REMOTE_RETRY_H_

#include <random>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tributary/remote.h"
#include "util/mutex.h"

namespace tributary::remote {

// Whether a failed attempt may be retried under `policy`: throttling
// (ProvisionedThroughputExceeded, LimitExceeded), server errors (HTTP 5xx:
// InternalFailure, ServiceUnavailable) and transport failures
// (Unavailable, DeadlineExceeded). `http_status` is 0 for a transport failure.
bool IsRetryable(const RetryPolicy& policy, const absl::Status& failure, int http_status);

// "Full jitter" backoff: the wait before retry n (1, 2, ...) is uniform in
// [0, min(max_backoff, initial_backoff * multiplier^(n-1))]. Thread-safe.
class Backoff {
 public:
  explicit Backoff(const RetryPolicy& policy);
  // The cap for retry n, before jitter.
  absl::Duration Cap(int retry) const;
  absl::Duration Next(int retry);

 private:
  const RetryPolicy policy_;
  util::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_RETRY_H_
