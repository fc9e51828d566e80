// Opaque tokens handed to callers: shard iterators and NextTokens.
//
// Wire form (docs/CONCEPTS.md "Iterator tokens"): standard base64 of
//   kind(1) | version(1) | fields (little-endian fixed ints, length-prefixed
//   strings) | XXH3-64 of everything before it (8)
// The checksum detects truncated or edited tokens, which are rejected as
// InvalidArgumentException; it is not a security boundary.
#ifndef TRIBUTARY_LIB_STREAM_ITERATOR_TOKEN_H_
#define TRIBUTARY_LIB_STREAM_ITERATOR_TOKEN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tributary::stream {

struct IteratorToken {
  std::string stream_name;
  uint64_t stream_incarnation = 0;  // differs for a re-created stream of the same name
  uint32_t shard_index = 0;
  uint64_t position = 0;  // read records with counter >= position
  int64_t issued_ms = 0;
};

struct PageToken {
  uint8_t kind = 0;  // 'S' ListShards, 'L' ListStreams
  std::string stream_name;
  uint64_t stream_incarnation = 0;
  int64_t issued_ms = 0;
  // ListShards: last shard index returned, filter type and argument.
  uint32_t after_index = 0;
  uint8_t filter_type = 0;
  int64_t filter_arg = 0;
  int32_t max_results = 0;
  // ListStreams: last stream name returned.
  std::string after_name;
};

std::string EncodeIterator(const IteratorToken& t);
absl::StatusOr<IteratorToken> DecodeIterator(std::string_view token);

std::string EncodePageToken(const PageToken& t);
absl::StatusOr<PageToken> DecodePageToken(std::string_view token, uint8_t expected_kind);

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_ITERATOR_TOKEN_H_
