// On-disk format of shard log segments. The spec is docs/FORMAT.md; this
// header holds exactly its constants. Values that reach disk are never
// renumbered; a change to any persisted byte bumps kSegmentFormatVersion.
#ifndef TRIBUTARY_LIB_LOG_FORMAT_H_
#define TRIBUTARY_LIB_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace tributary::log {

// Segment header (32 bytes, little-endian):
//   0  magic[8]            "TRBSEG\0\1"
//   8  format_version u32  kSegmentFormatVersion
//   12 shard_index u32
//   16 first_counter u64   the shard counter the segment starts at
//   24 checksum u64        XXH3-64 of bytes 0..23
inline constexpr char kSegmentMagic[8] = {'T', 'R', 'B', 'S', 'E', 'G', '\0', '\1'};
inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;

// Record frame:
//   0  checksum u64   XXH3-64 of bytes 8 .. 12+body_len (length and body)
//   8  body_len u32
//   12 body: type u8 | counter u64 | arrival_ms i64 | key_len u16 | key | data
inline constexpr size_t kRecordHeaderSize = 12;
inline constexpr size_t kRecordBodyFixedSize = 1 + 8 + 8 + 2;

// Record types. Persisted: never renumber.
enum class RecordType : uint8_t {
  kFull = 1,  // one whole Kinesis record
};

// A body larger than this is corruption, not a record (10 MiB record + key).
inline constexpr uint32_t kMaxBodyLen = (10u << 20) + 1024;

// A sparse index entry is kept every this many bytes of a segment.
inline constexpr uint64_t kIndexIntervalBytes = 4096;

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_FORMAT_H_
