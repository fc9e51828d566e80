#include "shard/uniform.h"

namespace tributary::shard {

std::vector<HashKeyRange> UniformRanges(int n) {
  std::vector<HashKeyRange> out;
  if (n <= 1) {
    out.push_back(HashKeyRange::All());
    return out;
  }
  const absl::uint128 max = absl::Uint128Max();
  const absl::uint128 nn = static_cast<uint64_t>(n);
  // 2^128 = q*n + r, computed without overflowing 128 bits.
  absl::uint128 q = max / nn;
  absl::uint128 r = max % nn + 1;
  if (r == nn) {
    q += 1;
    r = 0;
  }
  auto start = [&](int i) -> absl::uint128 {
    absl::uint128 ii = static_cast<uint64_t>(i);
    return ii * q + (ii * r) / nn;
  };
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    HashKey s(start(i));
    HashKey e = i + 1 == n ? HashKey::Max() : HashKey(start(i + 1) - 1);
    out.push_back({s, e});
  }
  return out;
}

}  // namespace tributary::shard
