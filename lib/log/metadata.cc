#include "log/metadata.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cstring>

#include "log/record_frame.h"
#include "tributary/status.h"
#include "util/coding.h"

namespace tributary::log {
namespace {

absl::Status Bad(std::string_view what, std::string_view why) {
  return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption, fmt::format("{}: {}", what, why));
}

}  // namespace

std::string EncodeSegmentIndex(uint32_t shard_index, const SegmentSummary& seg,
                               const std::vector<IndexEntry>& entries) {
  std::string b(kIndexMagic, 8);
  b.reserve(kIndexHeaderSize + entries.size() * kIndexEntrySize + 8);
  PutU32(&b, kIndexFormatVersion);
  PutU32(&b, shard_index);
  PutU64(&b, seg.first_counter);
  PutU64(&b, seg.size);
  PutU64(&b, seg.records);
  PutU64(&b, seg.data_bytes);
  PutU32(&b, static_cast<uint32_t>(entries.size()));
  PutU32(&b, 0);
  PutU64(&b, XXH3_64bits(b.data(), b.size()));
  for (const IndexEntry& e : entries) {
    PutU64(&b, e.counter);
    PutU64(&b, static_cast<uint64_t>(e.arrival_ms));
    PutU64(&b, e.offset);
  }
  PutU64(&b, XXH3_64bits(b.data(), b.size()));
  return b;
}

absl::StatusOr<std::vector<IndexEntry>> DecodeSegmentIndex(std::string_view f, uint32_t shard_index,
                                                           const SegmentSummary& seg) {
  constexpr std::string_view kWhat = "segment index";
  if (f.size() < kIndexHeaderSize + 8) return Bad(kWhat, "truncated");
  const char* p = f.data();
  if (std::memcmp(p, kIndexMagic, 8) != 0) return Bad(kWhat, "bad magic");
  if (GetLE(p + 56, 8) != XXH3_64bits(p, 56)) return Bad(kWhat, "header checksum mismatch");
  if (GetLE(p + 8, 4) != kIndexFormatVersion) {
    return Bad(kWhat, fmt::format("unknown format version {}", GetLE(p + 8, 4)));
  }
  const uint64_t count = GetLE(p + 48, 4);
  if (f.size() != kIndexHeaderSize + count * kIndexEntrySize + 8) return Bad(kWhat, "truncated");
  if (GetLE(f.data() + f.size() - 8, 8) != XXH3_64bits(p, f.size() - 8)) {
    return Bad(kWhat, "checksum mismatch");
  }
  if (GetLE(p + 12, 4) != shard_index || GetLE(p + 16, 8) != seg.first_counter ||
      GetLE(p + 24, 8) != seg.size || GetLE(p + 32, 8) != seg.records ||
      GetLE(p + 40, 8) != seg.data_bytes) {
    return Bad(kWhat, fmt::format("describes another segment state (size {}, {} records; the "
                                  "segment has {} bytes, {} records)",
                                  GetLE(p + 24, 8), GetLE(p + 32, 8), seg.size, seg.records));
  }
  if ((count == 0) != (seg.records == 0)) return Bad(kWhat, "entry count does not fit the records");
  std::vector<IndexEntry> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const char* e = p + kIndexHeaderSize + i * kIndexEntrySize;
    IndexEntry x{GetLE(e, 8), static_cast<int64_t>(GetLE(e + 8, 8)), GetLE(e + 16, 8)};
    const bool first_ok = i > 0 || (x.offset == kSegmentHeaderSize && x.counter >= seg.first_counter);
    const bool order_ok = i == 0 || (x.offset > out.back().offset && x.counter > out.back().counter);
    if (!first_ok || !order_ok || x.offset >= seg.size ||
        x.offset + kRecordHeaderSize + kRecordBodyFixedSize > seg.size || x.counter > seg.last_counter) {
      return Bad(kWhat, fmt::format("entry {} (counter {}, offset {}) is out of order or outside the segment",
                                    i, x.counter, x.offset));
    }
    out.push_back(x);
  }
  return out;
}

std::string EncodeRecoveryPoint(const RecoveryPoint& rp) {
  util::Encoder e;
  e.Raw(std::string_view(kRecoveryMagic, 8));
  e.U32(kRecoveryFormatVersion);
  e.U32(rp.flags);
  e.U64(rp.wal_start);
  e.U32(static_cast<uint32_t>(rp.logs.size()));
  for (const RecoveryPoint::Log& l : rp.logs) {
    e.U64(l.incarnation);
    e.U32(l.shard_index);
    e.U32(static_cast<uint32_t>(l.segments.size()));
    for (const SegmentSummary& s : l.segments) {
      e.U64(s.first_counter);
      e.U64(s.size);
      e.U64(s.records);
      e.U64(s.data_bytes);
      e.U64(s.last_counter);
      e.I64(s.first_arrival_ms);
      e.I64(s.last_arrival_ms);
      e.U64(s.corrupt_at);
    }
  }
  e.U64(XXH3_64bits(e.buffer().data(), e.buffer().size()));
  return std::move(e.buffer());
}

absl::StatusOr<RecoveryPoint> DecodeRecoveryPoint(std::string_view f) {
  constexpr std::string_view kWhat = "recovery point";
  if (f.size() < 8 + 4 + 4 + 8 + 4 + 8) return Bad(kWhat, "truncated");
  if (GetLE(f.data() + f.size() - 8, 8) != XXH3_64bits(f.data(), f.size() - 8)) {
    return Bad(kWhat, "checksum mismatch");
  }
  if (std::memcmp(f.data(), kRecoveryMagic, 8) != 0) return Bad(kWhat, "bad magic");
  util::Decoder d(f.substr(8, f.size() - 16));
  RecoveryPoint rp;
  uint32_t version = 0, count = 0;
  if (!d.U32(&version) || version != kRecoveryFormatVersion) {
    return Bad(kWhat, fmt::format("unknown format version {}", version));
  }
  if (!d.U32(&rp.flags) || !d.U64(&rp.wal_start) || !d.U32(&count)) return Bad(kWhat, "truncated header");
  constexpr size_t kLogBytes = 8 + 4 + 4, kSegmentBytes = size_t{8} * 8;
  if (count > d.remaining() / kLogBytes) return Bad(kWhat, "log count larger than the file");
  rp.logs.resize(count);
  for (RecoveryPoint::Log& l : rp.logs) {
    uint32_t n = 0;
    if (!d.U64(&l.incarnation) || !d.U32(&l.shard_index) || !d.U32(&n)) return Bad(kWhat, "truncated log");
    if (n > d.remaining() / kSegmentBytes) return Bad(kWhat, "segment count larger than the file");
    l.segments.resize(n);
    for (SegmentSummary& s : l.segments) {
      if (!d.U64(&s.first_counter) || !d.U64(&s.size) || !d.U64(&s.records) || !d.U64(&s.data_bytes) ||
          !d.U64(&s.last_counter) || !d.I64(&s.first_arrival_ms) || !d.I64(&s.last_arrival_ms) ||
          !d.U64(&s.corrupt_at)) {
        return Bad(kWhat, "truncated segment");
      }
      // The invariants reads rely on (a checksum catches damage, not a bug
      // behind it): sizes and counters that fit together, segments in order.
      const bool ok = s.size >= kSegmentHeaderSize && s.data_bytes <= s.size &&
                      (s.records == 0 || (s.last_counter >= s.first_counter &&
                                          s.records <= s.last_counter - s.first_counter + 1)) &&
                      (s.corrupt_at == kNoCorruption || s.corrupt_at <= s.size) &&
                      (&s == l.segments.data() || s.first_counter > (&s - 1)->first_counter) &&
                      (&s == l.segments.data() || (&s - 1)->records == 0 ||
                       (&s - 1)->last_counter < s.first_counter);
      if (!ok) {
        return Bad(kWhat, fmt::format("log {}.{}: segment {} is inconsistent", l.incarnation,
                                      l.shard_index, s.first_counter));
      }
    }
  }
  if (!d.done()) return Bad(kWhat, "trailing bytes");
  return rp;
}

}  // namespace tributary::log
