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

// Kinesis' version 2 layout (types.h), as bit offsets of the 188-bit value:
// version 0..3, shard index 4..35, record seconds 36..71, zero byte 72..79,
// counter 80..143, the index's low nibble 144..147, shard creation seconds
// 148..183, the leading 2 at 184..187. In SequenceNumber's halves: the low
// 128 bits hold everything up to the counter's low 48 bits; the high half
// the counter's top 16 bits and the rest.
SequenceNumber SequenceNumber::FromKinesisParts(int64_t shard_created_s, uint32_t shard_index,
                                                uint64_t counter, int64_t record_s) {
  constexpr uint64_t k36 = (uint64_t{1} << 36) - 1;
  const absl::uint128 low = absl::uint128(2) | (absl::uint128(shard_index) << 4) |
                            (absl::uint128(static_cast<uint64_t>(record_s) & k36) << 36) |
                            (absl::uint128(counter & ((uint64_t{1} << 48) - 1)) << 80);
  const absl::uint128 high = absl::uint128(counter >> 48) | (absl::uint128(shard_index & 0xF) << 16) |
                             (absl::uint128(static_cast<uint64_t>(shard_created_s) & k36) << 20) |
                             (absl::uint128(2) << 56);
  return SequenceNumber(low, high);
}

bool SequenceNumber::is_kinesis_layout() const {
  // Leading nibble 2 at bit 184 (so high_ is in [2^57, 1.5 * 2^57)), version
  // 2 in the last nibble, the counter's top bit clear, the zero byte zero.
  return (high_ >> 56) == 2 && (absl::Uint128Low64(value_) & 0xF) == 2 &&
         (absl::Uint128Low64(high_) & 0x8000) == 0 &&
         ((absl::Uint128High64(value_) >> 8) & 0xFF) == 0;
}

bool SequenceNumber::has_counter() const {
  if (high_ == 0) return value_ >= kOffset && ((value_ - kOffset) >> 96) == 0;
  return is_kinesis_layout() && ((absl::Uint128Low64(value_) >> 4) & 0xffffffffu) < 0x80000000u;
}

uint64_t SequenceNumber::counter() const {
  if (high_ != 0) {
    return (absl::Uint128Low64(high_) & 0xFFFF) << 48 | absl::Uint128High64(value_) >> 16;
  }
  return absl::Uint128Low64((value_ - kOffset) >> 32);
}

uint32_t SequenceNumber::shard_index() const {
  if (high_ != 0) return static_cast<uint32_t>((absl::Uint128Low64(value_) >> 4) & 0xffffffffu);
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
  char buf[80];
  return std::string(buf, ToChars(buf));
}

size_t SequenceNumber::ToChars(char* buf) const { return shard::Uint256ToDecimal(high_, value_, buf); }

}  // namespace tributary
