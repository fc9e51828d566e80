#include "store_scan.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "log/format.h"

namespace tributary::cli {
namespace {

uint64_t GetLE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

// "00000000000000000042.seg" -> 42 (or .idx, .wal with `ext`).
std::optional<uint64_t> ParseSegmentName(std::string_view n, std::string_view ext = ".seg") {
  if (n.size() != 24 || n.substr(20) != ext) return std::nullopt;
  uint64_t v = 0;
  for (char c : n.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Sequential reads of one file through a 1 MiB window.
class Reader {
 public:
  Reader(const RandomAccessFile* file, uint64_t size) : file_(file), size_(size) {}
  uint64_t size() const { return size_; }

  // Bytes [off, off + n), or an error; REQUIRES off + n <= size().
  absl::StatusOr<std::string_view> Read(uint64_t off, size_t n) {
    if (off < win_off_ || off + n > win_off_ + win_.size()) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(n, 1 << 20), size_ - off));
      buf_.resize(want);
      absl::StatusOr<std::string_view> got = file_->Read(off, want, buf_.data());
      if (!got.ok()) return got.status();
      if (got->size() < n) return absl::DataLossError("file shorter than its size");
      win_ = *got;
      win_off_ = off;
    }
    return win_.substr(off - win_off_, n);
  }

  // True if every byte from `off` to the end is zero (or unreadable: then
  // the caller's finding stands on its own).
  bool ZeroFrom(uint64_t off) {
    while (off < size_) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(size_ - off, 1 << 20));
      absl::StatusOr<std::string_view> b = Read(off, n);
      if (!b.ok()) return false;
      if (std::any_of(b->begin(), b->end(), [](char c) { return c != 0; })) return false;
      off += n;
    }
    return true;
  }

 private:
  const RandomAccessFile* file_;
  uint64_t size_;
  std::string buf_;
  std::string_view win_;
  uint64_t win_off_ = 0;
};

// What the previous segments of a shard ended with.
struct ShardCursor {
  std::optional<uint64_t> last_counter;
  std::optional<int64_t> last_arrival_ms;
};

// What the scan found in one segment (for its index and the recovery point).
struct SegmentInfo {
  uint64_t first_counter = 0;
  bool exists = true;
  bool header_ok = false;
  uint64_t file_size = 0;
  uint64_t valid_end = 0;  // end of the last intact frame (header size if none)
  uint64_t records = 0;
  uint64_t data_bytes = 0;
  bool damaged = false;    // a bad frame that is not a torn tail
  // Every intact frame: offset -> (counter, arrival), in offset order.
  std::vector<std::tuple<uint64_t, uint64_t, int64_t>> frames;
};

class Scanner {
 public:
  Scanner(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  absl::StatusOr<StoreScan> Run() {
    std::map<std::string, uint64_t> live = ReadCatalog();
    const std::string streams_dir = dir_ + "/streams";
    std::vector<std::string> names;
    if (env_->FileExists(streams_dir)) {
      absl::StatusOr<std::vector<std::string>> n = env_->GetChildren(streams_dir);
      if (!n.ok()) return n.status();
      names = std::move(*n);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      size_t dot = n.rfind('.');
      std::optional<uint64_t> inc =
          dot == std::string::npos ? std::nullopt : ParseDecimal(std::string_view(n).substr(dot + 1));
      if (!inc || dot == 0) {
        Add(Severity::kWarning, "streams/" + n, "not a stream directory (<name>.<incarnation>); ignored");
        continue;
      }
      StreamScan s;
      s.name = n.substr(0, dot);
      s.incarnation = *inc;
      auto it = live.find(s.name);
      s.in_catalog = catalog_ok_ && it != live.end() && it->second == s.incarnation;
      if (catalog_ok_ && !s.in_catalog) {
        Add(Severity::kWarning, "streams/" + n,
            "stream directory the catalog does not name (deleted, or never committed, before a "
            "crash); Store::Open removes it");
      }
      if (s.in_catalog) live.erase(it);
      current_incarnation_ = s.in_catalog ? std::optional<uint64_t>(s.incarnation) : std::nullopt;
      ScanStream("streams/" + n, &s);
      out_.streams.push_back(std::move(s));
    }
    for (const auto& [name, inc] : live) {
      Add(Severity::kWarning, fmt::format("streams/{}.{}", name, inc),
          fmt::format("the catalog names stream '{}' but it has no directory (no shard files)", name));
    }
    ScanRecoveryPoint();
    ScanWal();
    std::sort(out_.streams.begin(), out_.streams.end(), [](const StreamScan& a, const StreamScan& b) {
      return std::tie(a.name, a.incarnation) < std::tie(b.name, b.incarnation);
    });
    out_.indexes = indexes_checked_;
    out_.wal_files = wal_files_;
    out_.wal_frames = wal_frames_;
    return std::move(out_);
  }

 private:
  void Add(Severity s, std::string where, std::string what) {
    out_.findings.push_back(Finding{s, std::move(where), std::move(what)});
  }

  // Checks CATALOG (docs/FORMAT.md "Catalog") and returns name -> incarnation.
  std::map<std::string, uint64_t> ReadCatalog() {
    std::map<std::string, uint64_t> live;
    const std::string path = dir_ + "/CATALOG";
    if (!env_->FileExists(path)) {
      catalog_ok_ = true;  // a store that never had a stream
      return live;
    }
    auto bad = [&](std::string_view why) {
      Add(Severity::kError, "CATALOG", fmt::format("{}; Store::Open refuses this store", why));
      return std::map<std::string, uint64_t>();
    };
    absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
    if (!size.ok()) return bad(std::string(size.status().message()));
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> f = env_->NewRandomAccessFile(path);
    if (!f.ok()) return bad(std::string(f.status().message()));
    std::string buf(*size, '\0');
    absl::StatusOr<std::string_view> data = (*f)->Read(0, *size, buf.data());
    if (!data.ok()) return bad(std::string(data.status().message()));
    std::string_view d = *data;
    if (d.size() != *size || d.size() < 8 + 4 + 8 + 4 + 8) return bad("truncated");
    if (XXH3_64bits(d.data(), d.size() - 8) != GetLE(d.data() + d.size() - 8, 8)) {
      return bad("checksum mismatch");
    }
    if (d.substr(0, 8) != std::string_view("TRBCAT\0\1", 8)) return bad("bad magic");
    if (GetLE(d.data() + 8, 4) != 1) return bad(fmt::format("unknown version {}", GetLE(d.data() + 8, 4)));
    uint64_t count = GetLE(d.data() + 20, 4);
    size_t pos = 24;
    const size_t end = d.size() - 8;
    auto str = [&](std::string_view* out) {
      if (end - pos < 4) return false;
      uint64_t n = GetLE(d.data() + pos, 4);
      if (end - pos - 4 < n) return false;
      *out = d.substr(pos + 4, n);
      pos += 4 + n;
      return true;
    };
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view name, blob;
      if (!str(&name) || !str(&blob)) return bad("truncated stream entry");
      if (blob.size() < 9 || blob[0] != 1) {
        return bad(fmt::format("stream '{}': unknown stream blob version", name));
      }
      live[std::string(name)] = GetLE(blob.data() + 1, 8);
      live_incarnations_.insert(GetLE(blob.data() + 1, 8));
    }
    if (pos != end) return bad("trailing bytes");
    catalog_ok_ = true;
    return live;
  }

  void ScanStream(const std::string& rel, StreamScan* s) {
    absl::StatusOr<std::vector<std::string>> names = env_->GetChildren(dir_ + "/" + rel);
    if (!names.ok()) {
      Add(Severity::kError, rel, std::string(names.status().message()));
      return;
    }
    for (const std::string& n : *names) {
      std::optional<uint64_t> index = ParseDecimal(n);
      if (!index || *index > UINT32_MAX) {
        Add(Severity::kWarning, rel + "/" + n, "not a shard directory; ignored");
        continue;
      }
      ShardScan sh;
      sh.index = static_cast<uint32_t>(*index);
      ScanShard(rel + "/" + n, &sh);
      s->shards.push_back(sh);
    }
    std::sort(s->shards.begin(), s->shards.end(),
              [](const ShardScan& a, const ShardScan& b) { return a.index < b.index; });
  }

  void ScanShard(const std::string& rel, ShardScan* sh) {
    absl::StatusOr<std::vector<std::string>> names = env_->GetChildren(dir_ + "/" + rel);
    if (!names.ok()) {
      Add(Severity::kError, rel, std::string(names.status().message()));
      return;
    }
    std::vector<std::pair<uint64_t, std::string>> segs;
    std::map<uint64_t, std::string> indexes;
    for (const std::string& n : *names) {
      if (std::optional<uint64_t> first = ParseSegmentName(n)) {
        segs.emplace_back(*first, n);
      } else if (std::optional<uint64_t> ifirst = ParseSegmentName(n, ".idx")) {
        indexes[*ifirst] = n;
      } else {
        Add(Severity::kWarning, rel + "/" + n, "not a segment file; ignored");
      }
    }
    std::sort(segs.begin(), segs.end());
    if (segs.empty()) {
      Add(Severity::kWarning, rel, "shard directory holds no segment");
    }
    std::vector<SegmentInfo> infos;
    ShardCursor cur;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (cur.last_counter && segs[i].first <= *cur.last_counter) {
        Add(Severity::kError, rel + "/" + segs[i].second,
            fmt::format("segment starts at counter {}, but the previous segment holds counter {}",
                        segs[i].first, *cur.last_counter));
      }
      const bool is_last = i + 1 == segs.size();
      SegmentInfo info;
      info.first_counter = segs[i].first;
      ScanSegment(rel + "/" + segs[i].second, segs[i].first, is_last, sh, &cur, &info);
      if (auto it = indexes.find(segs[i].first); it != indexes.end()) {
        CheckIndex(rel + "/" + it->second, sh->index, is_last, info);
        indexes.erase(it);
      }
      info.frames.clear();
      info.frames.shrink_to_fit();
      infos.push_back(std::move(info));
    }
    for (const auto& [first, n] : indexes) {
      Add(Severity::kWarning, rel + "/" + n, "index of a segment that is not there (removed); ignored");
    }
    if (current_incarnation_) shards_[{*current_incarnation_, sh->index}] = std::move(infos);
  }

  // A segment index file (docs/FORMAT.md "Segment indexes") against the
  // segment it describes. Damage (a torn or garbled file) is a warning: the
  // store detects it by its checksums and rebuilds the index from the
  // segment. An index that passes its checksums but disagrees with the
  // segment is an error.
  void CheckIndex(const std::string& rel, uint32_t shard_index, bool is_last, const SegmentInfo& seg) {
    indexes_checked_++;
    const std::string path = dir_ + "/" + rel;
    absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> f =
        size.ok() ? env_->NewRandomAccessFile(path) : absl::StatusOr<std::unique_ptr<RandomAccessFile>>(size.status());
    if (!f.ok()) {
      Add(Severity::kError, rel, std::string(f.status().message()));
      return;
    }
    std::string buf(*size, '\0');
    absl::StatusOr<std::string_view> got = (*f)->Read(0, buf.size(), buf.data());
    if (!got.ok()) {
      Add(Severity::kError, rel, std::string(got.status().message()));
      return;
    }
    std::string_view d = *got;
    auto damaged = [&](std::string_view why) {
      Add(Severity::kWarning, rel,
          fmt::format("damaged index ({}); the store rebuilds it from its segment", why));
    };
    if (d.size() < log::kIndexHeaderSize + 8) return damaged(fmt::format("{} bytes: torn", d.size()));
    if (std::memcmp(d.data(), log::kIndexMagic, 8) != 0) return damaged("bad magic");
    if (GetLE(d.data() + 56, 8) != XXH3_64bits(d.data(), 56)) return damaged("header checksum mismatch");
    if (GetLE(d.data() + 8, 4) != log::kIndexFormatVersion) {
      return damaged(fmt::format("unknown format version {}", GetLE(d.data() + 8, 4)));
    }
    const uint64_t count = GetLE(d.data() + 48, 4);
    if (d.size() != log::kIndexHeaderSize + count * log::kIndexEntrySize + 8) {
      return damaged(fmt::format("{} bytes for {} entries: torn", d.size(), count));
    }
    if (GetLE(d.data() + d.size() - 8, 8) != XXH3_64bits(d.data(), d.size() - 8)) return damaged("checksum mismatch");
    const uint64_t shard = GetLE(d.data() + 12, 4), first = GetLE(d.data() + 16, 8);
    const uint64_t covers = GetLE(d.data() + 24, 8), records = GetLE(d.data() + 32, 8);
    const uint64_t data_bytes = GetLE(d.data() + 40, 8);
    if (shard != shard_index || first != seg.first_counter) {
      Add(Severity::kError, rel, fmt::format("index names shard {} segment {}", shard, first));
      return;
    }
    if (!seg.header_ok || seg.damaged) return;  // the segment's own finding says it
    if (covers != seg.valid_end) {
      if (is_last && covers < seg.valid_end) {
        Add(Severity::kWarning, rel,
            fmt::format("index of an older state of the active segment ({} of its {} bytes); the "
                        "store rebuilds it when needed",
                        covers, seg.valid_end));
      } else {
        Add(Severity::kError, rel, fmt::format("index covers {} bytes, the segment has {}", covers, seg.valid_end));
      }
      return;
    }
    if (records != seg.records || data_bytes != seg.data_bytes) {
      Add(Severity::kError, rel,
          fmt::format("index says {} records ({} bytes), the segment has {} ({} bytes)", records, data_bytes,
                      seg.records, seg.data_bytes));
      return;
    }
    size_t fi = 0;
    for (uint64_t i = 0; i < count; ++i) {
      const char* e = d.data() + log::kIndexHeaderSize + i * log::kIndexEntrySize;
      const uint64_t counter = GetLE(e, 8), off = GetLE(e + 16, 8);
      const int64_t arrival = static_cast<int64_t>(GetLE(e + 8, 8));
      while (fi < seg.frames.size() && std::get<0>(seg.frames[fi]) < off) ++fi;
      if (fi == seg.frames.size() || std::get<0>(seg.frames[fi]) != off || std::get<1>(seg.frames[fi]) != counter ||
          std::get<2>(seg.frames[fi]) != arrival || (i == 0 && off != log::kSegmentHeaderSize)) {
        Add(Severity::kError, rel,
            fmt::format("entry {} (counter {}, offset {}) does not point at that record", i, counter, off));
        return;
      }
    }
  }

  // RECOVERY (docs/FORMAT.md "Recovery point") against the segments.
  void ScanRecoveryPoint() {
    const std::string path = dir_ + "/RECOVERY";
    if (!env_->FileExists(path)) return;  // a store from before recovery points
    absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> f =
        size.ok() ? env_->NewRandomAccessFile(path) : absl::StatusOr<std::unique_ptr<RandomAccessFile>>(size.status());
    if (!f.ok()) {
      Add(Severity::kError, "RECOVERY", std::string(f.status().message()));
      return;
    }
    std::string buf(*size, '\0');
    absl::StatusOr<std::string_view> got = (*f)->Read(0, buf.size(), buf.data());
    if (!got.ok()) {
      Add(Severity::kError, "RECOVERY", std::string(got.status().message()));
      return;
    }
    std::string_view d = *got;
    auto damaged = [&](std::string_view why) {
      Add(Severity::kWarning, "RECOVERY",
          fmt::format("damaged recovery point ({}); Store::Open scans every segment instead", why));
    };
    if (d.size() < 8 + 4 + 4 + 8 + 4 + 8) return damaged("truncated");
    if (GetLE(d.data() + d.size() - 8, 8) != XXH3_64bits(d.data(), d.size() - 8)) return damaged("checksum mismatch");
    if (std::memcmp(d.data(), log::kRecoveryMagic, 8) != 0) return damaged("bad magic");
    if (GetLE(d.data() + 8, 4) != log::kRecoveryFormatVersion) {
      return damaged(fmt::format("unknown format version {}", GetLE(d.data() + 8, 4)));
    }
    wal_start_ = GetLE(d.data() + 16, 8);
    const uint64_t logs = GetLE(d.data() + 24, 4);
    size_t pos = 28;
    const size_t end = d.size() - 8;
    for (uint64_t l = 0; l < logs; ++l) {
      if (end - pos < 16) return damaged("truncated log entry");
      const uint64_t inc = GetLE(d.data() + pos, 8);
      const uint32_t shard = static_cast<uint32_t>(GetLE(d.data() + pos + 8, 4));
      const uint64_t nseg = GetLE(d.data() + pos + 12, 4);
      pos += 16;
      if ((end - pos) / 64 < nseg) return damaged("truncated segment entry");
      auto it = shards_.find({inc, shard});
      bool prefix_missing = true;  // retention removes the oldest segments first
      for (uint64_t k = 0; k < nseg; ++k, pos += 64) {
        const char* e = d.data() + pos;
        const uint64_t first = GetLE(e, 8), seg_size = GetLE(e + 8, 8), records = GetLE(e + 16, 8);
        const uint64_t corrupt_at = GetLE(e + 56, 8);
        // A stream no longer in the catalog was deleted after this point.
        if (!live_incarnations_.count(inc)) continue;
        const std::string where = fmt::format("shard {} of incarnation {}, segment {:020d}.seg", shard, inc, first);
        const SegmentInfo* si = nullptr;
        if (it != shards_.end()) {
          for (const SegmentInfo& x : it->second) {
            if (x.first_counter == first) si = &x;
          }
        }
        if (si == nullptr) {
          if (prefix_missing && k + 1 < nseg) {
            Add(Severity::kWarning, "RECOVERY",
                fmt::format("{}: the file is gone (retention removed it after the recovery point)", where));
          } else {
            Add(Severity::kError, "RECOVERY",
                fmt::format("{}: recorded as durable ({} bytes, {} records) but the file is missing", where,
                            seg_size, records));
          }
          continue;
        }
        prefix_missing = false;
        // Known damage, or damage the segment's own finding reports.
        if (corrupt_at != log::kNoCorruption || !si->header_ok || si->damaged) continue;
        if (seg_size > si->valid_end) {
          Add(Severity::kError, "RECOVERY",
              fmt::format("{}: recorded {} bytes as durable, the file has {} valid bytes", where, seg_size,
                          si->valid_end));
        }
      }
    }
    if (pos != end) damaged("trailing bytes");
  }

  // The write-ahead log (docs/FORMAT.md "Write-ahead log").
  void ScanWal() {
    const std::string wal = dir_ + "/wal";
    if (!env_->FileExists(wal)) return;
    absl::StatusOr<std::vector<std::string>> names = env_->GetChildren(wal);
    if (!names.ok()) {
      Add(Severity::kError, "wal", std::string(names.status().message()));
      return;
    }
    std::vector<std::pair<uint64_t, std::string>> files;
    for (const std::string& n : *names) {
      if (std::optional<uint64_t> num = ParseSegmentName(n, ".wal")) {
        files.emplace_back(*num, n);
      } else {
        Add(Severity::kWarning, "wal/" + n, "not a WAL file; ignored");
      }
    }
    std::sort(files.begin(), files.end());
    for (size_t i = 0; i < files.size(); ++i) {
      const std::string rel = "wal/" + files[i].second;
      if (files[i].first < wal_start_) {
        Add(Severity::kWarning, rel, "applied before the recovery point; Store::Open deletes it");
        continue;
      }
      wal_files_++;
      const std::string path = dir_ + "/" + rel;
      absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
      absl::StatusOr<std::unique_ptr<RandomAccessFile>> f =
          size.ok() ? env_->NewRandomAccessFile(path) : absl::StatusOr<std::unique_ptr<RandomAccessFile>>(size.status());
      if (!f.ok()) {
        Add(Severity::kError, rel, std::string(f.status().message()));
        continue;
      }
      std::string buf(*size, '\0');
      absl::StatusOr<std::string_view> got = (*f)->Read(0, buf.size(), buf.data());
      if (!got.ok()) {
        Add(Severity::kError, rel, std::string(got.status().message()));
        continue;
      }
      std::string_view d = *got;
      const bool last = i + 1 == files.size();
      if (d.size() < log::kWalHeaderSize || std::memcmp(d.data(), log::kWalMagic, 8) != 0 ||
          GetLE(d.data() + 24, 8) != XXH3_64bits(d.data(), 24) ||
          GetLE(d.data() + 8, 4) != log::kWalFormatVersion || GetLE(d.data() + 16, 8) != files[i].first) {
        if (d.size() <= log::kWalHeaderSize) {
          Add(Severity::kWarning, rel, "WAL file with a torn header and no frames (a crash as it was created)");
        } else {
          Add(Severity::kError, rel, "bad WAL file header");
        }
        continue;
      }
      size_t off = log::kWalHeaderSize;
      while (off < d.size()) {
        std::string why;
        bool torn = false;
        const uint64_t left = d.size() - off;
        uint64_t len = 0;
        if (left < log::kWalFrameHeaderSize) {
          why = "partial frame header";
          torn = true;
        } else {
          len = GetLE(d.data() + off + 8, 4);
          if (log::kWalFrameHeaderSize + len > left) {
            why = "partial frame";
            torn = true;
          } else if (len < log::kWalAppendPrefixSize || len > log::kMaxWalPayload) {
            why = fmt::format("impossible frame length {}", len);
          } else if (XXH3_64bits(d.data() + off + 8, log::kWalFrameHeaderSize + len - 8) != GetLE(d.data() + off, 8)) {
            why = "checksum mismatch";
          } else if (static_cast<uint8_t>(d[off + 12]) != static_cast<uint8_t>(log::WalFrameType::kAppend)) {
            why = fmt::format("unknown frame type {}", static_cast<uint8_t>(d[off + 12]));
          }
        }
        if (why.empty()) {
          wal_frames_++;
          off += log::kWalFrameHeaderSize + len;
          continue;
        }
        if (last && (torn || off + log::kWalFrameHeaderSize + len >= d.size())) {
          Add(Severity::kWarning, rel,
              fmt::format("torn tail at offset {} ({}): {} bytes never acknowledged as synced; "
                          "Store::Open drops them",
                          off, why, d.size() - off));
        } else {
          Add(Severity::kError, rel,
              fmt::format("corrupt frame at offset {} ({}); the records in it cannot be replayed", off, why));
        }
        break;
      }
    }
  }

  void ScanSegment(const std::string& rel, uint64_t first_counter, bool is_last, ShardScan* sh,
                   ShardCursor* cur, SegmentInfo* info) {
    const std::string path = dir_ + "/" + rel;
    sh->segments++;
    absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
        size.ok() ? env_->NewRandomAccessFile(path) : size.status();
    if (!file.ok()) {
      Add(Severity::kError, rel, std::string(file.status().message()));
      return;
    }
    sh->file_bytes += *size;
    info->file_size = *size;
    Reader r(file->get(), *size);

    // Header.
    std::string header_problem;
    if (*size < log::kSegmentHeaderSize) {
      header_problem = fmt::format("file of {} bytes is shorter than a segment header", *size);
    } else {
      absl::StatusOr<std::string_view> h = r.Read(0, log::kSegmentHeaderSize);
      if (!h.ok()) {
        Add(Severity::kError, rel, std::string(h.status().message()));
        return;
      }
      const char* p = h->data();
      if (std::memcmp(p, log::kSegmentMagic, 8) != 0) {
        header_problem = "bad segment magic";
      } else if (GetLE(p + 24, 8) != XXH3_64bits(p, 24)) {
        header_problem = "segment header checksum mismatch";
      } else if (GetLE(p + 8, 4) != log::kSegmentFormatVersion) {
        header_problem = fmt::format("unknown segment format version {}", GetLE(p + 8, 4));
      } else if (GetLE(p + 12, 4) != sh->index) {
        header_problem = fmt::format("header says shard {}, directory says {}", GetLE(p + 12, 4), sh->index);
      } else if (GetLE(p + 16, 8) != first_counter) {
        header_problem = fmt::format("header says first counter {}, file name says {}", GetLE(p + 16, 8),
                                     first_counter);
      }
    }
    if (!header_problem.empty()) {
      info->damaged = !is_last;
      if (is_last) {
        Add(Severity::kWarning, rel,
            header_problem + " (a torn header of the active segment; Store::Open drops the segment)");
      } else {
        Add(Severity::kError, rel, header_problem);
      }
      return;
    }

    // Frames.
    info->header_ok = true;
    info->valid_end = log::kSegmentHeaderSize;
    uint64_t off = log::kSegmentHeaderSize;
    while (off < *size) {
      std::string why;
      bool torn = false;  // the frame runs past the end of the file
      uint64_t frame = 0;
      if (*size - off < log::kRecordHeaderSize) {
        why = "partial record header";
        torn = true;
      } else {
        absl::StatusOr<std::string_view> head = r.Read(off, log::kRecordHeaderSize);
        if (!head.ok()) {
          Add(Severity::kError, rel, fmt::format("offset {}: {}", off, std::string(head.status().message())));
          return;
        }
        uint64_t sum = GetLE(head->data(), 8);
        uint32_t body_len = static_cast<uint32_t>(GetLE(head->data() + 8, 4));
        frame = log::kRecordHeaderSize + uint64_t{body_len};
        if (*size - off < frame) {
          why = body_len > log::kMaxBodyLen ? fmt::format("impossible record length {}", body_len)
                                            : "partial record";
          torn = true;
        } else if (body_len < log::kRecordBodyFixedSize || body_len > log::kMaxBodyLen) {
          why = fmt::format("impossible record length {}", body_len);
        } else {
          absl::StatusOr<std::string_view> f = r.Read(off, frame);
          if (!f.ok()) {
            Add(Severity::kError, rel, fmt::format("offset {}: {}", off, std::string(f.status().message())));
            return;
          }
          const char* b = f->data() + log::kRecordHeaderSize;
          uint64_t counter = GetLE(b + 1, 8);
          int64_t arrival = static_cast<int64_t>(GetLE(b + 9, 8));
          uint64_t key_len = GetLE(b + 17, 2);  // u16
          if (XXH3_64bits(f->data() + 8, frame - 8) != sum) {
            why = "checksum mismatch";
          } else if (static_cast<uint8_t>(b[0]) != static_cast<uint8_t>(log::RecordType::kFull)) {
            why = fmt::format("unknown record type {}", static_cast<uint8_t>(b[0]));
          } else if (log::kRecordBodyFixedSize + key_len > body_len) {
            why = "key longer than record";
          } else {
            // A well-formed frame: check its place in the shard.
            if (counter < first_counter) {
              Add(Severity::kError, rel,
                  fmt::format("offset {}: counter {} below the segment's first counter {}", off,
                              counter, first_counter));
            }
            if (cur->last_counter && counter <= *cur->last_counter) {
              Add(Severity::kError, rel,
                  fmt::format("offset {}: counter {} does not increase (previous {})", off, counter,
                              *cur->last_counter));
            }
            if (cur->last_arrival_ms && arrival < *cur->last_arrival_ms) {
              Add(Severity::kError, rel,
                  fmt::format("offset {}: arrival time {} ms goes back (previous {} ms)", off, arrival,
                              *cur->last_arrival_ms));
            }
            cur->last_counter = counter;
            cur->last_arrival_ms = arrival;
            info->frames.emplace_back(off, counter, arrival);
            info->records++;
            info->data_bytes += body_len - log::kRecordBodyFixedSize;
            info->valid_end = off + frame;
            if (!sh->first_counter) sh->first_counter = counter;
            sh->last_counter = counter;
            sh->records++;
            sh->data_bytes += body_len - log::kRecordBodyFixedSize;
            off += frame;
            continue;
          }
        }
      }
      // A bad frame. At the end of the active segment it is what a crash in
      // the middle of an append leaves: the frame runs past the end, is the
      // last thing in the file, or is followed only by zeros.
      const uint64_t rest = *size - off;
      if (is_last && (torn || off + frame == *size || r.ZeroFrom(off))) {
        Add(Severity::kWarning, rel,
            fmt::format("torn tail at offset {} ({}): {} bytes never acknowledged as synced; "
                        "Store::Open truncates them",
                        off, why, rest));
      } else {
        info->damaged = true;
        Add(Severity::kError, rel,
            fmt::format("corrupt record at offset {} ({}); {} bytes from there on are unreadable{}",
                        off, why, rest, is_last ? "" : " (not the active segment)"));
      }
      return;
    }
  }

  Env* const env_;
  const std::string dir_;
  bool catalog_ok_ = false;
  StoreScan out_;
  // The stream being scanned, if the catalog names it.
  std::optional<uint64_t> current_incarnation_;
  std::set<uint64_t> live_incarnations_;
  // What the scan found per (incarnation, shard), for the recovery point.
  std::map<std::pair<uint64_t, uint32_t>, std::vector<SegmentInfo>> shards_;
  uint64_t wal_start_ = 0;

 public:
  uint64_t indexes_checked_ = 0;
  uint64_t wal_files_ = 0;
  uint64_t wal_frames_ = 0;
};

}  // namespace

absl::StatusOr<StoreScan> ScanStore(Env* env, const std::string& dir) {
  return Scanner(env, dir).Run();
}

}  // namespace tributary::cli
