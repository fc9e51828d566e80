// A token bucket on an injected clock, for the optional per-shard throughput
// limits. Not thread-safe: the owning shard's mutex guards it.
#ifndef TRIBUTARY_LIB_STREAM_TOKEN_BUCKET_H_
#define TRIBUTARY_LIB_STREAM_TOKEN_BUCKET_H_

#include <algorithm>

#include "absl/time/time.h"

namespace tributary::stream {

class TokenBucket {
 public:
  TokenBucket() = default;
  // Full bucket holding one second of `rate`.
  void Reset(double rate, absl::Time now) {
    rate_ = rate;
    tokens_ = rate;
    last_ = now;
  }
  // True if `n` tokens may be taken now. A request larger than the whole
  // bucket is allowed when the bucket is full (it then runs into debt), so
  // no request is refused forever.
  bool CanTake(double n, absl::Time now) {
    Refill(now);
    return tokens_ >= std::min(n, rate_);
  }
  // True if the bucket is not in debt.
  bool Positive(absl::Time now) {
    Refill(now);
    return tokens_ > 0;
  }
  void Take(double n) { tokens_ -= n; }

 private:
  void Refill(absl::Time now) {
    if (now > last_) {
      tokens_ = std::min(rate_, tokens_ + rate_ * absl::ToDoubleSeconds(now - last_));
      last_ = now;
    }
  }
  double rate_ = 0;
  double tokens_ = 0;
  absl::Time last_;
};

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_TOKEN_BUCKET_H_
