#include "store_scan.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
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

// "00000000000000000042.seg" -> 42.
std::optional<uint64_t> ParseSegmentName(std::string_view n) {
  if (n.size() != 24 || n.substr(20) != ".seg") return std::nullopt;
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
      ScanStream("streams/" + n, &s);
      out_.streams.push_back(std::move(s));
    }
    for (const auto& [name, inc] : live) {
      Add(Severity::kWarning, fmt::format("streams/{}.{}", name, inc),
          fmt::format("the catalog names stream '{}' but it has no directory (no shard files)", name));
    }
    std::sort(out_.streams.begin(), out_.streams.end(), [](const StreamScan& a, const StreamScan& b) {
      return std::tie(a.name, a.incarnation) < std::tie(b.name, b.incarnation);
    });
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
    for (const std::string& n : *names) {
      if (std::optional<uint64_t> first = ParseSegmentName(n)) {
        segs.emplace_back(*first, n);
      } else {
        Add(Severity::kWarning, rel + "/" + n, "not a segment file; ignored");
      }
    }
    std::sort(segs.begin(), segs.end());
    if (segs.empty()) {
      Add(Severity::kWarning, rel, "shard directory holds no segment");
    }
    ShardCursor cur;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (cur.last_counter && segs[i].first <= *cur.last_counter) {
        Add(Severity::kError, rel + "/" + segs[i].second,
            fmt::format("segment starts at counter {}, but the previous segment holds counter {}",
                        segs[i].first, *cur.last_counter));
      }
      ScanSegment(rel + "/" + segs[i].second, segs[i].first, i + 1 == segs.size(), sh, &cur);
    }
  }

  void ScanSegment(const std::string& rel, uint64_t first_counter, bool is_last, ShardScan* sh,
                   ShardCursor* cur) {
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
      if (is_last) {
        Add(Severity::kWarning, rel,
            header_problem + " (a torn header of the active segment; Store::Open drops the segment)");
      } else {
        Add(Severity::kError, rel, header_problem);
      }
      return;
    }

    // Frames.
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
};

}  // namespace

absl::StatusOr<StoreScan> ScanStore(Env* env, const std::string& dir) {
  return Scanner(env, dir).Run();
}

}  // namespace tributary::cli
