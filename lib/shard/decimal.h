// Decimal formatting of 128-bit values without iostreams: three base-10^19
// limbs, each printed with std::to_chars. And the reverse, for up to 256
// bits (DecimalToUint256), which sequence numbers of every implementation
// go through. ~20x faster than ostringstream +
// absl's operator<<, which was 21% of tributary-server's CPU under
// PutRecords (one sequence number per record in every response).
#ifndef TRIBUTARY_LIB_SHARD_DECIMAL_H_
#define TRIBUTARY_LIB_SHARD_DECIMAL_H_

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"

namespace tributary::shard {

// Appends the decimal digits of one base-10^19 limb (`x` < 10^19, so at most
// 19 digits) at `p`, zero-padded to 19 digits if `pad`; returns the end.
// The digits are written in place (a padded limb with fewer digits is moved
// up and zero-filled), so no temporary is copied.
inline char* AppendDecimalLimb(char* p, uint64_t x, bool pad) {
  char* end = std::to_chars(p, p + 19, x).ptr;
  if (!pad) return end;
  const size_t n = static_cast<size_t>(end - p);
  if (n < 19) {
    std::memmove(p + (19 - n), p, n);
    std::memset(p, '0', 19 - n);
  }
  return p + 19;
}

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
  if (hi != 0) {
    p = AppendDecimalLimb(p, hi, false);
    p = AppendDecimalLimb(p, mid, true);
    p = AppendDecimalLimb(p, lo, true);
  } else if (mid != 0) {
    p = AppendDecimalLimb(p, mid, false);
    p = AppendDecimalLimb(p, lo, true);
  } else {
    p = AppendDecimalLimb(p, lo, false);
  }
  return static_cast<size_t>(p - buf);
}

// Writes the decimal digits of the 256-bit value `limbs` (least significant
// 64-bit limb first, as DecimalToUint256 gives it) to `buf` (at least 80
// bytes: 2^256 has 78 digits) and returns how many. Long division by 10^19,
// one 128-by-64-bit step per limb in use, at most five times.
inline size_t Uint256ToDecimal(const uint64_t limbs[4], char* buf) {
  constexpr uint64_t kTen19 = 10000000000000000000ULL;
  uint64_t q[4] = {limbs[0], limbs[1], limbs[2], limbs[3]};
  size_t used = 4;  // q[used..3] are zero
  while (used > 0 && q[used - 1] == 0) --used;
  uint64_t chunks[5];  // base-10^19 digits, least significant first (10^95 > 2^256)
  size_t n = 0;
  do {
    unsigned __int128 rem = 0;
    for (size_t j = used; j-- > 0;) {
      const unsigned __int128 cur = (rem << 64) | q[j];
      q[j] = static_cast<uint64_t>(cur / kTen19);
      rem = cur % kTen19;
    }
    chunks[n++] = static_cast<uint64_t>(rem);
    while (used > 0 && q[used - 1] == 0) --used;
  } while (used > 0);
  char* p = AppendDecimalLimb(buf, chunks[n - 1], false);
  for (size_t i = n - 1; i-- > 0;) p = AppendDecimalLimb(p, chunks[i], true);
  return static_cast<size_t>(p - buf);
}

// Parses decimal digits (only '0'..'9'; the caller checked them) into a
// 256-bit value, least significant 64-bit limb first. Returns false, with
// `limbs` unspecified, if the value is 2^256 or more. Digits are taken in
// chunks of up to 19 (10^19 < 2^64), each a 64-bit multiply-add per limb in
// use, so a 39-digit number (Tributary's) costs three chunks and at most
// six multiplies, a 56-digit one (Kinesis's) three chunks too. Exact at
// every length: a carry out of the top limb is the overflow.
inline bool DecimalToUint256(std::string_view digits, uint64_t limbs[4]) {
  static constexpr uint64_t kPow10[20] = {1ULL,
                                          10ULL,
                                          100ULL,
                                          1000ULL,
                                          10000ULL,
                                          100000ULL,
                                          1000000ULL,
                                          10000000ULL,
                                          100000000ULL,
                                          1000000000ULL,
                                          10000000000ULL,
                                          100000000000ULL,
                                          1000000000000ULL,
                                          10000000000000ULL,
                                          100000000000000ULL,
                                          1000000000000000ULL,
                                          10000000000000000ULL,
                                          100000000000000000ULL,
                                          1000000000000000000ULL,
                                          10000000000000000000ULL};
  limbs[0] = limbs[1] = limbs[2] = limbs[3] = 0;
  size_t used = 0;  // limbs[used..3] are zero
  const char* p = digits.data();
  const char* const end = p + digits.size();
  // The first chunk takes the odd digits, so every later one has 19.
  size_t len = digits.size() % 19;
  if (len == 0) len = 19;
  while (p < end) {
    uint64_t chunk = 0;
    for (size_t k = 0; k < len; ++k) chunk = chunk * 10 + static_cast<uint64_t>(p[k] - '0');
    p += len;
    const uint64_t mul = kPow10[len];
    // (2^64-1) * (2^64-1) + (2^64-1) < 2^128: the carry always fits a limb.
    unsigned __int128 carry = chunk;
    for (size_t j = 0; j < used; ++j) {
      const unsigned __int128 t = static_cast<unsigned __int128>(limbs[j]) * mul + carry;
      limbs[j] = static_cast<uint64_t>(t);
      carry = t >> 64;
    }
    if (carry != 0) {
      if (used == 4) return false;
      limbs[used++] = static_cast<uint64_t>(carry);
    }
    len = 19;
  }
  return true;
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
