#include <fmt/format.h>

#include <boost/multiprecision/cpp_int.hpp>

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

using Uint256 = boost::multiprecision::uint256_t;

}  // namespace

absl::StatusOr<SequenceNumber> SequenceNumber::ParseAny(std::string_view decimal,
                                                        std::string_view what) {
  if (absl::Status s = CheckPattern(decimal, what); !s.ok()) return s;
  if (decimal.size() <= 38) {  // < 10^38 < 2^128
    absl::uint128 v = 0;
    for (char c : decimal) v = v * 10 + static_cast<unsigned>(c - '0');
    return SequenceNumber(v);
  }
  // 2^256 has 78 digits; anything longer cannot fit.
  auto too_big = [&] {
    return InvalidArgumentError(fmt::format(
        "{} '{}...' ({} digits) is larger than the 2^256-1 a SequenceNumber holds", what,
        decimal.substr(0, 64), decimal.size()));
  };
  if (decimal.size() > 78) return too_big();
  boost::multiprecision::uint512_t v = 0;
  for (char c : decimal) v = v * 10 + static_cast<unsigned>(c - '0');
  if (v >> 256 != 0) return too_big();
  const Uint256 w = static_cast<Uint256>(v);
  auto limb = [&w](int i) { return static_cast<uint64_t>((w >> (64 * i)) & 0xFFFFFFFFFFFFFFFFULL); };
  return SequenceNumber(absl::MakeUint128(limb(1), limb(0)), absl::MakeUint128(limb(3), limb(2)));
}

absl::StatusOr<SequenceNumber> SequenceNumber::Parse(std::string_view decimal,
                                                     std::string_view what) {
  if (absl::Status s = CheckPattern(decimal, what); !s.ok()) return s;
  auto not_ours = [&] {
    return InvalidArgumentError(fmt::format(
        "{} '{}' was not issued by this store (Tributary sequence numbers have 39 digits)",
        what, decimal.substr(0, 64)));
  };
  if (decimal.size() != 39) return not_ours();
  absl::uint128 v = 0;
  for (char c : decimal) {
    // 39 digits can exceed 2^128-1; detect overflow.
    absl::uint128 next = v * 10 + static_cast<unsigned>(c - '0');
    if (v > absl::Uint128Max() / 10 || next < v) return not_ours();
    v = next;
  }
  if (v < kOffset || ((v - kOffset) >> 96) != 0) return not_ours();
  return SequenceNumber(v);
}

std::string SequenceNumber::ToString() const {
  if (high_ == 0) return shard::Uint128ToDecimal(value_);
  Uint256 w = (Uint256(absl::Uint128High64(high_)) << 192) | (Uint256(absl::Uint128Low64(high_)) << 128) |
              (Uint256(absl::Uint128High64(value_)) << 64) | Uint256(absl::Uint128Low64(value_));
  return w.str();
}

}  // namespace tributary
