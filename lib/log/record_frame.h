// Encoding and decoding of segment record frames (docs/FORMAT.md "Record
// frame"), shared by the segment code (disk_log.cc), the write-ahead log's
// replay (log_store.cc) and the segment index rebuild.
#ifndef TRIBUTARY_LIB_LOG_RECORD_FRAME_H_
#define TRIBUTARY_LIB_LOG_RECORD_FRAME_H_

#include <fmt/format.h>
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "log/format.h"
#include "log/shard_log.h"

namespace tributary::log {

inline void PutFixed(std::string* b, uint64_t v, int n) {
  char tmp[8];
  for (int i = 0; i < n; ++i) tmp[i] = static_cast<char>(v >> (8 * i));
  b->append(tmp, static_cast<size_t>(n));
}
inline void PutU16(std::string* b, uint16_t v) { PutFixed(b, v, 2); }
inline void PutU32(std::string* b, uint32_t v) { PutFixed(b, v, 4); }
inline void PutU64(std::string* b, uint64_t v) { PutFixed(b, v, 8); }
inline void SetU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline uint64_t GetLE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

// Appends the frame of `r` to `out`; returns the frame's size.
inline size_t EncodeRecordFrame(const AppendRecord& r, std::string* out) {
  const size_t start = out->size();
  const uint32_t body_len =
      static_cast<uint32_t>(kRecordBodyFixedSize + r.partition_key.size() + r.data.size());
  out->resize(start + kRecordHeaderSize + kRecordBodyFixedSize);
  char* p = out->data() + start;
  SetU64(p, 0);  // checksum, below
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<char>(body_len >> (8 * i));
  p[12] = static_cast<char>(RecordType::kFull);
  SetU64(p + 13, r.counter);
  SetU64(p + 21, static_cast<uint64_t>(r.arrival_ms));
  const uint16_t key_len = static_cast<uint16_t>(r.partition_key.size());
  p[29] = static_cast<char>(key_len);
  p[30] = static_cast<char>(key_len >> 8);
  out->append(r.partition_key.data(), r.partition_key.size());
  out->append(r.data.data(), r.data.size());
  const size_t frame = out->size() - start;
  SetU64(out->data() + start, XXH3_64bits(out->data() + start + 8, frame - 8));
  return frame;
}

// One decoded frame: views into the buffer it was decoded from.
struct DecodedFrame {
  uint64_t counter = 0;
  int64_t arrival_ms = 0;
  std::string_view key;
  std::string_view data;
  uint64_t size = 0;  // the whole frame
};

enum class FrameResult {
  kRecord,  // a whole, intact frame
  kTorn,    // the frame runs past the end of `buf`
  kBad,     // a checksum or framing mismatch
};

// Decodes the frame at the start of `buf` (which ends where valid data
// ends). `why` says what was wrong for kTorn / kBad.
inline FrameResult DecodeRecordFrame(std::string_view buf, DecodedFrame* f, std::string* why) {
  if (buf.size() < kRecordHeaderSize) {
    *why = "partial record header";
    return FrameResult::kTorn;
  }
  const uint64_t sum = GetLE(buf.data(), 8);
  const uint32_t body_len = static_cast<uint32_t>(GetLE(buf.data() + 8, 4));
  if (body_len < kRecordBodyFixedSize || body_len > kMaxBodyLen) {
    *why = fmt::format("impossible record length {}", body_len);
    // A zeroed or garbage tail looks like this too.
    return kRecordHeaderSize + uint64_t{body_len} > buf.size() ? FrameResult::kTorn : FrameResult::kBad;
  }
  const uint64_t frame = kRecordHeaderSize + uint64_t{body_len};
  if (buf.size() < frame) {
    *why = "partial record";
    return FrameResult::kTorn;
  }
  if (XXH3_64bits(buf.data() + 8, frame - 8) != sum) {
    *why = "checksum mismatch";
    return FrameResult::kBad;
  }
  const char* b = buf.data() + kRecordHeaderSize;
  if (static_cast<RecordType>(b[0]) != RecordType::kFull) {
    *why = fmt::format("unknown record type {}", static_cast<int>(static_cast<uint8_t>(b[0])));
    return FrameResult::kBad;
  }
  const uint16_t key_len = static_cast<uint16_t>(GetLE(b + 17, 2));
  if (kRecordBodyFixedSize + key_len > body_len) {
    *why = "key longer than record";
    return FrameResult::kBad;
  }
  f->counter = GetLE(b + 1, 8);
  f->arrival_ms = static_cast<int64_t>(GetLE(b + 9, 8));
  f->key = std::string_view(b + kRecordBodyFixedSize, key_len);
  f->data = std::string_view(b + kRecordBodyFixedSize + key_len, body_len - kRecordBodyFixedSize - key_len);
  f->size = frame;
  return FrameResult::kRecord;
}

// Whether an intact record frame starts anywhere in `buf` (only on damaged
// paths: tests every offset for a plausible length and a matching checksum).
inline bool AnyValidFrame(std::string_view b) {
  for (size_t off = 0; off + kRecordHeaderSize + kRecordBodyFixedSize <= b.size(); ++off) {
    const uint32_t body_len = static_cast<uint32_t>(GetLE(b.data() + off + 8, 4));
    if (body_len < kRecordBodyFixedSize || body_len > kMaxBodyLen) continue;
    if (off + kRecordHeaderSize + body_len > b.size()) continue;
    if (static_cast<uint8_t>(b[off + kRecordHeaderSize]) != static_cast<uint8_t>(RecordType::kFull)) continue;
    if (XXH3_64bits(b.data() + off + 8, 4 + body_len) == GetLE(b.data() + off, 8)) return true;
  }
  return false;
}

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_RECORD_FRAME_H_
