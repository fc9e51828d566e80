#include "endpoint/accounts.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>

#include "util/status_macros.h"

namespace tributary::endpoint {
namespace {

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string AccountIdForAccessKey(std::string_view key, std::string_view default_account) {
  if (key.empty()) return std::string(default_account);
  if (key.size() == 12 && AllDigits(key)) return std::string(key);
  if (key.size() == 20 && std::all_of(key.begin(), key.begin() + 4, [](char c) { return c >= 'A' && c <= 'Z'; }) &&
      std::all_of(key.begin() + 4, key.end(), [](char c) { return Base32Value(c) >= 0; })) {
    // Characters 5..16 hold 60 bits; the first 48 of them (bytes 0..5 of the
    // decoding) carry the account id in bits 7..46.
    uint64_t bits = 0;
    for (size_t i = 4; i < 16; ++i) bits = (bits << 5) | static_cast<uint64_t>(Base32Value(key[i]));
    uint64_t first48 = bits >> 12;
    uint64_t account = (first48 & 0x7fffffffff80ULL) >> 7;
    return fmt::format("{:012d}", account);
  }
  uint8_t md[32];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | md[i];
  return fmt::format("{:012d}", v % 1000000000000ULL);
}

Accounts::Accounts(Store* default_store, Options options)
    : default_store_(default_store), options_(std::move(options)) {}

Accounts::~Accounts() = default;

absl::StatusOr<Store*> Accounts::ForAccessKey(std::string_view access_key_id) {
  if (!options_.by_access_key) return default_store_;
  return ForAccount(AccountIdForAccessKey(access_key_id, default_account()));
}

std::vector<Store*> Accounts::All() {
  std::vector<Store*> out = {default_store_};
  util::MutexLock l(&mu_);
  for (auto& [id, store] : stores_) out.push_back(store.get());
  return out;
}

absl::StatusOr<Store*> Accounts::ForAccount(const std::string& account_id) {
  if (account_id == default_account()) return default_store_;
  util::MutexLock l(&mu_);
  auto it = stores_.find(account_id);
  if (it != stores_.end()) return it->second.get();
  StoreOptions o = options_.store_options;
  o.account_id = account_id;
  absl::StatusOr<std::unique_ptr<Store>> store =
      options_.data_dir.has_value()
          ? Store::Open(fmt::format("{}/accounts/{}", *options_.data_dir, account_id), o)
          : Store::OpenInMemory(o);
  if (!store.ok()) {
    return InternalFailureError(fmt::format("Cannot open the store of account {}: {}", account_id,
                                            std::string(store.status().message())));
  }
  Store* s = store->get();
  stores_.emplace(account_id, std::move(*store));
  return s;
}

}  // namespace tributary::endpoint
