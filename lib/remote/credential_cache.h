// CredentialCache: the caching every provider of temporary credentials
// shares (CredentialsProviderOptions in tributary/remote.h):
//   * now < expiration - refresh_ahead: the cached set, no other work;
//   * up to expiration - stale_before: the cached set, and one background
//     refresh (a thread of the cache's own) if none runs;
//   * later, or nothing cached: callers wait for one shared fetch; if it
//     fails while the cached set has not expired, they get the cached set.
// Credentials without an expiration (InfiniteFuture) are fetched once.
//
// Thread safety: Get() from any number of threads. The destructor waits for
// a background refresh; declare the cache after everything Fetch uses.
#ifndef TRIBUTARY_LIB_REMOTE_CREDENTIAL_CACHE_H_
#define TRIBUTARY_LIB_REMOTE_CREDENTIAL_CACHE_H_

#include <functional>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/clock.h"
#include "tributary/remote.h"
#include "util/mutex.h"

namespace tributary::remote {

class CredentialCache {
 public:
  using Fetch = std::function<absl::StatusOr<AwsCredentials>()>;
  CredentialCache(Fetch fetch, const CredentialsProviderOptions& options);
  ~CredentialCache();
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  absl::StatusOr<AwsCredentials> Get() ABSL_LOCKS_EXCLUDED(mu_);

  // Fetches done so far (blocking and background), for tests.
  int64_t fetches() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no background refresh runs (tests).
  void WaitForRefresh() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::StatusOr<AwsCredentials> FetchAndStore() ABSL_LOCKS_EXCLUDED(mu_);

  const Fetch fetch_;
  Clock* const clock_;
  const absl::Duration refresh_ahead_;
  const absl::Duration stale_before_;
  // pthread-based, so ThreadSanitizer sees it (Debian's abseil is not
  // instrumented: an absl::Mutex hand-off looks like a race to TSan).
  mutable util::Mutex mu_;
  util::CondVar fetched_;  // signalled when fetching_ turns false
  std::optional<AwsCredentials> cached_ ABSL_GUARDED_BY(mu_);
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;  // a blocking or background fetch runs
  int64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread refresher_ ABSL_GUARDED_BY(mu_);
};

// RFC 3339 ("2024-01-01T00:00:00Z", with or without fractions).
std::optional<absl::Time> ParseRfc3339(std::string_view text);

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_CREDENTIAL_CACHE_H_
