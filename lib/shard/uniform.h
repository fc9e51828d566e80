// Equal-width partitions of the hash-key space, as Kinesis lays out the
// shards of CreateStream and the end state of UpdateShardCount(UNIFORM_SCALING).
#ifndef TRIBUTARY_LIB_SHARD_UNIFORM_H_
#define TRIBUTARY_LIB_SHARD_UNIFORM_H_

#include <vector>

#include "tributary/types.h"

namespace tributary::shard {

// The n ranges [floor(i*2^128/n), floor((i+1)*2^128/n) - 1] for i in [0, n).
// They partition [0, 2^128-1] exactly; widths differ by at most one key.
// REQUIRES: n >= 1.
std::vector<HashKeyRange> UniformRanges(int n);

}  // namespace tributary::shard

#endif  // TRIBUTARY_LIB_SHARD_UNIFORM_H_
