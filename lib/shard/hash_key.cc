#include <fmt/format.h>


#include "absl/strings/numbers.h"
#include "shard/decimal.h"
#include "tributary/status.h"
#include "tributary/types.h"
#include "util/md5.h"

namespace tributary {

HashKey HashKey::FromPartitionKey(std::string_view partition_key) {
  util::Md5Digest d = util::Md5(partition_key);
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | d[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | d[i];
  return HashKey(absl::MakeUint128(hi, lo));
}

namespace {

// Parses an unsigned decimal with Kinesis' pattern 0|([1-9]\d{0,38}) into a
// uint128, rejecting overflow.
bool ParseDecimal128(std::string_view s, absl::uint128* out) {
  if (s.empty() || s.size() > 39) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  absl::uint128 v = 0;
  const absl::uint128 kMaxDiv10 = absl::Uint128Max() / 10;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned digit = static_cast<unsigned>(c - '0');
    if (v > kMaxDiv10) return false;
    v *= 10;
    if (v > absl::Uint128Max() - digit) return false;
    v += digit;
  }
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<HashKey> HashKey::Parse(std::string_view decimal, std::string_view what) {
  absl::uint128 v;
  if (!ParseDecimal128(decimal, &v)) {
    return ValidationError(fmt::format(
        "{} '{}' is not a decimal integer in [0, 2^128-1] (pattern 0|([1-9]\\d{{0,38}}))",
        what, decimal.substr(0, 64)));
  }
  return HashKey(v);
}

std::string HashKey::ToString() const { return shard::Uint128ToDecimal(value_); }

}  // namespace tributary
