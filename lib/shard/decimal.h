// Decimal formatting of 128-bit values without iostreams: three base-10^19
// limbs, each printed with std::to_chars. ~20x faster than ostringstream +
// absl's operator<<, which was 21% of tributary-server's CPU under
// PutRecords (one sequence number per record in every response).
#ifndef TRIBUTARY_LIB_SHARD_DECIMAL_H_
#define TRIBUTARY_LIB_SHARD_DECIMAL_H_

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/numeric/int128.h"

namespace tributary::shard {

// Writes the decimal digits of `value` to `buf` (at least 40 bytes) and
// returns how many.
inline size_t Uint128ToDecimal(absl::uint128 value, char* buf) {
  constexpr uint64_t kTen19 = 10000000000000000000ULL;
  unsigned __int128 v = (static_cast<unsigned __int128>(absl::Uint128High64(value)) << 64) |
                        absl::Uint128Low64(value);
  const uint64_t lo = static_cast<uint64_t>(v % kTen19);
  v /= kTen19;
  const uint64_t mid = static_cast<uint64_t>(v % kTen19);
  const uint64_t hi = static_cast<uint64_t>(v / kTen19);
  char* p = buf;
  auto limb = [&p](uint64_t x, bool pad) {
    char tmp[20];
    char* end = std::to_chars(tmp, tmp + sizeof(tmp), x).ptr;
    size_t n = static_cast<size_t>(end - tmp);
    if (pad) {
      std::memset(p, '0', 19 - n);
      p += 19 - n;
    }
    std::memcpy(p, tmp, n);
    p += n;
  };
  if (hi != 0) {
    limb(hi, false);
    limb(mid, true);
    limb(lo, true);
  } else if (mid != 0) {
    limb(mid, false);
    limb(lo, true);
  } else {
    limb(lo, false);
  }
  return static_cast<size_t>(p - buf);
}

inline std::string Uint128ToDecimal(absl::uint128 value) {
  char buf[48];
  return std::string(buf, Uint128ToDecimal(value, buf));
}

// "shardId-%012u" into `buf` (at least 20 bytes); returns the length (20
// for every index below 10^12, i.e. every uint32_t).
inline size_t FormatShardIdTo(uint32_t index, char* buf) {
  std::memcpy(buf, "shardId-", 8);
  for (int i = 19; i >= 8; --i, index /= 10) buf[i] = static_cast<char>('0' + index % 10);
  return 20;
}

}  // namespace tributary::shard

#endif  // TRIBUTARY_LIB_SHARD_DECIMAL_H_
