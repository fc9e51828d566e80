// On-disk formats of the durable store's record storage: shard log segments,
// their persisted indexes, the store-wide write-ahead log and the recovery
// point. The spec is docs/FORMAT.md; this header holds exactly its constants.
// Values that reach disk are never renumbered; a change to any persisted
// byte bumps the format version of the file it is in.
#ifndef TRIBUTARY_LIB_LOG_FORMAT_H_
#define TRIBUTARY_LIB_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace tributary::log {

// ---- segments: <shard dir>/<first counter, 20 digits>.seg

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

// ---- segment indexes: <shard dir>/<first counter, 20 digits>.idx
//
// Header (64 bytes):
//   0  magic[8]            "TRBIDX\0\1"
//   8  format_version u32  kIndexFormatVersion
//   12 shard_index u32
//   16 first_counter u64   the segment's
//   24 segment_size u64    bytes of the segment the index covers (header + frames)
//   32 records u64
//   40 data_bytes u64      key + data bytes of those records
//   48 entry_count u32
//   52 reserved u32        0
//   56 header_checksum u64 XXH3-64 of bytes 0..55
// then entry_count entries of 24 bytes (counter u64, arrival_ms i64,
// offset u64), then checksum u64: XXH3-64 of everything before it.
inline constexpr char kIndexMagic[8] = {'T', 'R', 'B', 'I', 'D', 'X', '\0', '\1'};
inline constexpr uint32_t kIndexFormatVersion = 1;
inline constexpr size_t kIndexHeaderSize = 64;
inline constexpr size_t kIndexEntrySize = 24;

// ---- write-ahead log: <dir>/wal/<number, 20 digits>.wal
//
// File header (32 bytes):
//   0  magic[8]            "TRBWAL\0\1"
//   8  format_version u32  kWalFormatVersion
//   12 reserved u32        0
//   16 number u64          the file's number (its name)
//   24 checksum u64        XXH3-64 of bytes 0..23
// Frames follow, back to back:
//   0  checksum u64        XXH3-64 of bytes 8 .. end of frame
//   8  payload_len u32
//   12 type u8             WalFrameType
//   13 reserved[3]         0
//   16 payload
// An kAppend payload: incarnation u64 | shard_index u32 | record_count u32 |
// record_count segment record frames (exactly the bytes appended to the
// shard's segment).
inline constexpr char kWalMagic[8] = {'T', 'R', 'B', 'W', 'A', 'L', '\0', '\1'};
inline constexpr uint32_t kWalFormatVersion = 1;
inline constexpr size_t kWalHeaderSize = 32;
inline constexpr size_t kWalFrameHeaderSize = 16;
inline constexpr size_t kWalAppendPrefixSize = 8 + 4 + 4;
// A WAL frame payload larger than this is corruption (a frame holds the
// records one call appends to one shard: at most a 10 MiB PutBatch, or one
// record of at most 10 MiB, plus framing).
inline constexpr uint32_t kMaxWalPayload = 64u << 20;

// WAL frame types. Persisted: never renumber.
enum class WalFrameType : uint8_t {
  kAppend = 1,  // records appended to one shard log
};

// ---- recovery point: <dir>/RECOVERY (replaced atomically, via RECOVERY.tmp)
//
//   0  magic[8]            "TRBRCP\0\1"
//   8  format_version u32  kRecoveryFormatVersion
//   12 flags u32           bit 0: written by a clean shutdown
//   16 wal_start u64       WAL files numbered below this are fully applied
//   24 log_count u32
//   then per log: incarnation u64 | shard_index u32 | segment_count u32 |
//   per segment: first_counter u64 | size u64 | records u64 | data_bytes u64 |
//   last_counter u64 | first_arrival_ms i64 | last_arrival_ms i64 |
//   corrupt_at u64 (kNoCorruption: none)
//   then checksum u64: XXH3-64 of everything before it.
inline constexpr char kRecoveryMagic[8] = {'T', 'R', 'B', 'R', 'C', 'P', '\0', '\1'};
inline constexpr uint32_t kRecoveryFormatVersion = 1;
inline constexpr uint32_t kRecoveryFlagClean = 1;
inline constexpr uint64_t kNoCorruption = ~uint64_t{0};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_FORMAT_H_
