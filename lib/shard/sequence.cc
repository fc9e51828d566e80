#include <fmt/format.h>

#include "shard/decimal.h"
#include "tributary/status.h"
#include "tributary/types.h"

namespace tributary {
namespace {

// 10^38: every issued sequence number is >= this, so all have 39 digits.
constexpr absl::uint128 kOffset =
    absl::MakeUint128(0x4B3B4CA85A86C47AULL, 0x098A224000000000ULL);

}  // namespace

SequenceNumber SequenceNumber::FromParts(uint64_t counter, uint32_t shard_index) {
  absl::uint128 body = (absl::uint128(counter) << 32) | shard_index;
  return SequenceNumber(kOffset + body);
}

bool SequenceNumber::has_counter() const {
  return high_ == 0 && value_ >= kOffset && ((value_ - kOffset) >> 96) == 0;
}

uint64_t SequenceNumber::counter() const {
  return absl::Uint128Low64((value_ - kOffset) >> 32);
}

uint32_t SequenceNumber::shard_index() const {
  return static_cast<uint32_t>(absl::Uint128Low64(value_ - kOffset) & 0xffffffffu);
}

namespace {

// Kinesis pattern: 0|([1-9]\d{0,128}).
absl::Status CheckPattern(std::string_view decimal, std::string_view what) {
  bool digits = !decimal.empty() && decimal.size() <= 129 &&
                (decimal.size() == 1 || decimal[0] != '0');
  for (char c : decimal) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    return ValidationError(fmt::format("{} '{}' is not a valid sequence number "
                                       "(pattern 0|([1-9]\\d{{0,128}}))",
                                       what, decimal.substr(0, 64)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SequenceNumber> SequenceNumber::ParseAny(std::string_view decimal,
                                                        std::string_view what) {
  if (absl::Status s = CheckPattern(decimal, what); !s.ok()) return s;
  uint64_t limbs[4];
  // 2^256 has 78 digits: anything longer cannot fit, and the parse checks
  // the 78-digit ones exactly.
  if (decimal.size() > 78 || !shard::DecimalToUint256(decimal, limbs)) {
    return InvalidArgumentError(fmt::format(
        "{} '{}...' ({} digits) is larger than the 2^256-1 a SequenceNumber holds", what,
        decimal.substr(0, 64), decimal.size()));
  }
  return SequenceNumber(absl::MakeUint128(limbs[1], limbs[0]), absl::MakeUint128(limbs[3], limbs[2]));
}

absl::StatusOr<SequenceNumber> SequenceNumber::Parse(std::string_view decimal,
                                                     std::string_view what) {
  if (absl::Status s = CheckPattern(decimal, what); !s.ok()) return s;
  auto not_ours = [&] {
    return InvalidArgumentError(fmt::format(
        "{} '{}' was not issued by this store (Tributary sequence numbers have 39 digits)",
        what, decimal.substr(0, 64)));
  };
  uint64_t limbs[4];
  // 39 digits can exceed 2^128-1: then the upper limbs are not zero.
  if (decimal.size() != 39 || !shard::DecimalToUint256(decimal, limbs) || limbs[2] != 0 ||
      limbs[3] != 0) {
    return not_ours();
  }
  const absl::uint128 v = absl::MakeUint128(limbs[1], limbs[0]);
  if (v < kOffset || ((v - kOffset) >> 96) != 0) return not_ours();
  return SequenceNumber(v);
}

std::string SequenceNumber::ToString() const {
  if (high_ == 0) return shard::Uint128ToDecimal(value_);
  const uint64_t limbs[4] = {absl::Uint128Low64(value_), absl::Uint128High64(value_),
                             absl::Uint128Low64(high_), absl::Uint128High64(high_)};
  char buf[80];
  return std::string(buf, shard::Uint256ToDecimal(limbs, buf));
}

}  // namespace tributary
