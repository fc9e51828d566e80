#include "shard/kinesis_sequence.h"

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

namespace tributary::shard {
namespace {

// Hexadecimal digits of the 256-bit value, without leading zeros.
std::string Hex(absl::uint128 high, absl::uint128 low) {
  std::string s = fmt::format("{:016x}{:016x}{:016x}{:016x}", absl::Uint128High64(high),
                              absl::Uint128Low64(high), absl::Uint128High64(low), absl::Uint128Low64(low));
  const size_t first = s.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : s.substr(first);
}

bool HexField(const std::string& hex, size_t begin, size_t end, uint64_t* out) {
  if (end > hex.size() || begin >= end) return false;
  *out = std::strtoull(hex.substr(begin, end - begin).c_str(), nullptr, 16);
  return true;
}

constexpr uint64_t kMaxCreationSeconds = 16025175000ULL;

}  // namespace

std::optional<KinesisSequenceFields> ReadKinesisSequence(const SequenceNumber& n) {
  absl::uint128 high = n.high();
  absl::uint128 low = n.value();
  const absl::uint128 k2to124 = absl::uint128(1) << 124;
  if (high == 0 && low < k2to124) low += k2to124;
  const std::string hex = Hex(high, low);
  KinesisSequenceFields f;
  uint64_t v = 0;
  if (high == 0 || (high == 1)) {  // below 2^129: version 0
    f.version = 0;
    if (!HexField(hex, 1, 10, &v) || v >= kMaxCreationSeconds) return std::nullopt;
    f.shard_created_s = static_cast<int64_t>(v);
    if (!HexField(hex, 28, 32, &v)) return std::nullopt;
    f.shard_index = static_cast<int64_t>(v);
    return f;
  }
  // (2^185, 1.5 * 2^185): the bits above 128 lie in [2^57, 1.5 * 2^57).
  const absl::uint128 lo_bound = absl::uint128(1) << 57;
  const absl::uint128 hi_bound = lo_bound + (lo_bound >> 1);
  if (high < lo_bound || high >= hi_bound || (high == lo_bound && low == 0)) return std::nullopt;
  f.version = static_cast<int>(absl::Uint128Low64(low) & 0xF);
  if (f.version == 2) {
    if (!HexField(hex, 11, 27, &v) || hex[11] > '7') return std::nullopt;
    f.counter = v;
    if (!HexField(hex, 1, 10, &v) || v >= kMaxCreationSeconds) return std::nullopt;
    f.shard_created_s = static_cast<int64_t>(v);
    if (!HexField(hex, 29, 38, &v)) return std::nullopt;
    f.record_s = static_cast<int64_t>(v);
    if (!HexField(hex, 38, 46, &v)) return std::nullopt;
    f.shard_index = hex[38] >= '8' ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return f;
  }
  if (f.version == 1) {
    if (!HexField(hex, 1, 10, &v)) return std::nullopt;
    f.shard_created_s = static_cast<int64_t>(v);
    if (!HexField(hex, 13, 22, &v)) return std::nullopt;
    f.record_s = static_cast<int64_t>(v);
    if (!HexField(hex, 36, 38, &v)) return std::nullopt;
    f.counter = v;
    if (!HexField(hex, 38, 46, &v)) return std::nullopt;
    f.shard_index = static_cast<int64_t>(v);
    return f;
  }
  return std::nullopt;
}

std::string KinesisShardName(int64_t index) {
  if (index < 0) return fmt::format("shardId--{:011d}", -index);
  return fmt::format("shardId-{:012d}", index);
}

}  // namespace tributary::shard
