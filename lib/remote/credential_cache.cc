#include "remote/credential_cache.h"

#include <utility>

namespace tributary::remote {

CredentialCache::CredentialCache(Fetch fetch, const CredentialsProviderOptions& options)
    : fetch_(std::move(fetch)),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      refresh_ahead_(options.refresh_ahead),
      stale_before_(options.stale_before) {}

CredentialCache::~CredentialCache() {
  std::thread t;
  {
    util::MutexLock l(&mu_);
    t = std::move(refresher_);
  }
  if (t.joinable()) t.join();
}

int64_t CredentialCache::fetches() const {
  util::MutexLock l(&mu_);
  return fetches_;
}

void CredentialCache::WaitForRefresh() {
  util::MutexLock l(&mu_);
  while (fetching_) fetched_.Wait(&mu_);
}

absl::StatusOr<AwsCredentials> CredentialCache::FetchAndStore() {
  absl::StatusOr<AwsCredentials> got = fetch_();
  util::MutexLock l(&mu_);
  ++fetches_;
  fetching_ = false;
  if (got.ok()) cached_ = *got;
  fetched_.SignalAll();
  return got;
}

absl::StatusOr<AwsCredentials> CredentialCache::Get() {
  std::thread finished;  // a refresher that ended, joined outside the lock
  absl::StatusOr<AwsCredentials> result;
  mu_.Lock();
  for (;;) {
    const absl::Time now = clock_->Now();
    if (cached_.has_value()) {
      const absl::Time expires = cached_->expiration;
      if (expires == absl::InfiniteFuture() || now < expires - refresh_ahead_) {
        result = *cached_;
        break;
      }
      if (now < expires - stale_before_) {
        if (!fetching_) {
          // One background refresh; callers keep the cached set meanwhile.
          fetching_ = true;
          finished = std::move(refresher_);
          refresher_ = std::thread([this] { (void)FetchAndStore(); });
        }
        result = *cached_;
        break;
      }
    }
    if (fetching_) {
      // Someone fetches: wait for it, then look again (its failure leaves
      // the cached set, if any, to the checks above and below).
      const int64_t seen = fetches_;
      while (fetching_) fetched_.Wait(&mu_);
      if (fetches_ != seen && cached_.has_value() && clock_->Now() < cached_->expiration) {
        result = *cached_;
        break;
      }
      continue;
    }
    fetching_ = true;
    mu_.Unlock();
    result = FetchAndStore();
    mu_.Lock();
    // A failed fetch keeps serving a set that has not expired yet.
    if (!result.ok() && cached_.has_value() && clock_->Now() < cached_->expiration) result = *cached_;
    break;
  }
  mu_.Unlock();
  if (finished.joinable()) finished.join();
  return result;
}

std::optional<absl::Time> ParseRfc3339(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) return std::nullopt;
  return t;
}

}  // namespace tributary::remote
