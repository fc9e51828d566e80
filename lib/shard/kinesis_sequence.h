// How Kinesis reads a sequence number a client hands it (GetShardIterator's
// StartingSequenceNumber, PutRecord's SequenceNumberForOrdering): the
// layouts below, as kinesalite reverse-engineered them from Kinesis'
// answers (docs/CONCEPTS.md "Sequence numbers"). Streams in Kinesis' layout
// (SequenceFormat::kKinesis) validate numbers with it, so a number of
// another shard or stream gets Kinesis' own message.
//
// As hexadecimal digits (no leading zeros), after adding 2^124 to a number
// below 2^124:
//   version 0, below 2^129: [1,10) shard creation seconds, [28,32) shard index;
//   version 2, in (2^185, 1.5 * 2^185) with last digit 2: [1,10) shard
//     creation seconds, [11,27) counter (first digit at most 7), [29,38)
//     record seconds, [38,46) shard index (first digit 8 or more: negative);
//   version 1, the same range with last digit 1: [1,10) creation seconds,
//     [13,22) record seconds, [36,38) counter, [38,46) shard index.
// Creation seconds of 16025175000 or more, or anything else, is invalid.
//
// Thread safety: pure functions.
#ifndef TRIBUTARY_LIB_SHARD_KINESIS_SEQUENCE_H_
#define TRIBUTARY_LIB_SHARD_KINESIS_SEQUENCE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "tributary/types.h"

namespace tributary::shard {

struct KinesisSequenceFields {
  int version = 0;  // 0, 1 or 2
  int64_t shard_created_s = 0;
  int64_t shard_index = 0;  // negative when the field's top bit is set
  uint64_t counter = 0;     // versions 1 and 2
  int64_t record_s = 0;     // versions 1 and 2
};

// The fields Kinesis reads from `n`; nullopt if Kinesis calls it invalid.
std::optional<KinesisSequenceFields> ReadKinesisSequence(const SequenceNumber& n);

// The shard id Kinesis names in its messages for an index read from a
// number: "shardId-000000000005", or "shardId--02147483648" when negative.
std::string KinesisShardName(int64_t index);

}  // namespace tributary::shard

#endif  // TRIBUTARY_LIB_SHARD_KINESIS_SEQUENCE_H_
