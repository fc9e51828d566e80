// Accounts: the Store of each AWS account the endpoint serves.
//
// Without account selection every request goes to one Store (the default
// account, --account-id). With it (tributary-server
// --account-from-access-key), the access key id of a request's Authorization
// header selects a 12-digit account id (AccountIdForAccessKey), and each
// account has a Store of its own, created on first use: its ARNs carry that
// account id and its streams, consumers and limits are separate from every
// other account's. The default account keeps the Store given to the
// constructor (with --data-dir: the directory itself); another account's
// Store is in memory, or durable in <data dir>/accounts/<account id>/.
//
// Thread safety: safe for concurrent use. Stores live as long as the
// Accounts object.
#ifndef TRIBUTARY_LIB_ENDPOINT_ACCOUNTS_H_
#define TRIBUTARY_LIB_ENDPOINT_ACCOUNTS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "tributary/store.h"
#include "util/mutex.h"

namespace tributary::endpoint {

// The 12-digit account id an access key id selects:
//   * a key of exactly 12 decimal digits is the account id itself
//     ("123456789012" -> 123456789012), so tests can pick accounts;
//   * a key in the AWS format (AKIA, ASIA or another 4-letter prefix, then 16
//     base32 characters [A-Z2-7]) carries the account id of the key's owner:
//     bits 7..46 of the big-endian integer whose bytes are the base32 decoding
//     of characters 5..16 (as AWS encodes it; AKIAIOSFODNN7EXAMPLE ->
//     581039954779);
//   * any other key maps to the first 8 bytes of SHA-256(key), big-endian,
//     modulo 10^12, zero-padded to 12 digits: stable, and different keys get
//     different accounts with overwhelming probability;
//   * an empty key (no Authorization header) is `default_account`.
std::string AccountIdForAccessKey(std::string_view access_key_id, std::string_view default_account);

class Accounts {
 public:
  struct Options {
    bool by_access_key = false;        // select the account by access key id
    StoreOptions store_options;        // for new accounts; account_id is replaced
    std::optional<std::string> data_dir;  // durable stores under <data_dir>/accounts/<id>
  };

  // `default_store` (the account store_options.account_id) is not owned and
  // must outlive this object.
  Accounts(Store* default_store, Options options);
  ~Accounts();

  // The Store of the account the access key id selects (the default store
  // unless by_access_key). Opening a new account's durable store can fail
  // (the status of Store::Open).
  absl::StatusOr<Store*> ForAccessKey(std::string_view access_key_id);
  absl::StatusOr<Store*> ForAccount(const std::string& account_id);

  // The default store, then every account store opened so far.
  std::vector<Store*> All();

  bool by_access_key() const { return options_.by_access_key; }
  const std::string& default_account() const { return options_.store_options.account_id; }

 private:
  Store* const default_store_;
  const Options options_;
  util::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Store>> stores_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_ACCOUNTS_H_
