#include "commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "lineage/lineage_graph.h"
#include "read_only_env.h"
#include "store_scan.h"
#include "tributary/tributary.h"

namespace tributary::cli {
namespace {

int Fail(std::string_view message) {
  fmt::print(stderr, "tributary: error: {}\n", message);
  return kExitFailure;
}
int Fail(const absl::Status& status) { return Fail(std::string(status.message())); }

std::string InUseMessage(const std::string& dir) {
  return fmt::format(
      "store {} is in use by another process ({}/LOCK is held); the tool can only inspect a "
      "store that no other program has open",
      dir, dir);
}

// Refuses anything that does not look like a store, so that a typo never
// creates an empty store (Store::Open creates missing directories).
absl::Status CheckStoreDir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(fmt::format("{} is not a directory", dir));
  }
  if (!std::filesystem::exists(dir + "/CATALOG", ec) &&
      !std::filesystem::is_directory(dir + "/streams", ec)) {
    return absl::NotFoundError(
        fmt::format("{} is not a tributary store (it has neither CATALOG nor streams/)", dir));
  }
  return absl::OkStatus();
}

// Opens the store without changing it (see read_only_env.h). Prints what
// recovery found to stderr, since the disk still holds it.
class OpenedStore {
 public:
  absl::Status Open(const std::string& dir) {
    if (absl::Status s = CheckStoreDir(dir); !s.ok()) return s;
    StoreOptions options;
    options.env = &env_;
    options.sync = Sync::kNo;
    // An inspection: every segment is checked as the store opens, so what
    // is damaged is reported up front (and the tool never writes).
    options.verify_on_open = true;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, options);
    if (!store.ok()) {
      if (GetErrorType(store.status()) == ErrorType::kResourceInUse) {
        return absl::FailedPreconditionError(InUseMessage(dir));
      }
      return absl::Status(store.status().code(),
                          fmt::format("cannot open store {}: {}", dir, std::string(store.status().message())));
    }
    store_ = std::move(*store);
    for (const std::string& p : store_->recovery().problems) {
      fmt::print(stderr, "tributary: warning: {} (not repaired: the tool never writes)\n", p);
    }
    return absl::OkStatus();
  }
  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }

 private:
  ReadOnlyEnv env_{DefaultEnv()};  // declared first: outlives store_
  std::unique_ptr<Store> store_;
};

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

// A hash key as a fraction of the hash space, in percent.
double Percent(absl::uint128 v, double add = 0) {
  double x = static_cast<double>(absl::Uint128High64(v)) * 18446744073709551616.0 +
             static_cast<double>(absl::Uint128Low64(v)) + add;
  return x / 3.4028236692093846e38 * 100.0;
}

// "0.00%-50.00%": where the closed key range [start, end] sits in [0, 2^128).
std::string RangePercent(const HashKeyRange& r) {
  return fmt::format("{:.2f}%-{:.2f}%", Percent(r.start.value()), Percent(r.end.value(), 1.0));
}

std::string SeqRange(const ShardDescription& s) {
  return fmt::format("{}..{}", s.starting_sequence_number.ToString(),
                     s.ending_sequence_number ? s.ending_sequence_number->ToString() : "");
}

absl::StatusOr<std::vector<ShardDescription>> AllShards(Store& store, const std::string& stream) {
  std::vector<ShardDescription> all;
  ListShardsRequest req;
  req.stream = stream;
  while (true) {
    absl::StatusOr<ListShardsResult> page = store.ListShards(req);
    if (!page.ok()) return page.status();
    for (ShardDescription& s : page->shards) all.push_back(std::move(s));
    if (!page->next_token) break;
    req = ListShardsRequest();
    req.next_token = page->next_token;
  }
  return all;
}

// Valid UTF-8 without control characters (C0, DEL, C1), so that it prints
// on one line and reads back the same.
bool IsPrintableUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    // Continuation bytes after the lead byte.
    size_t n = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    uint32_t cp = c & (0x3fu >> n);
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    // Overlong forms, surrogates, beyond U+10FFFF, C1 controls.
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string FormatCount(uint64_t n) { return fmt::format("{}", n); }

}  // namespace

std::string SafeText(std::string_view data, bool hex) {
  if (hex) return "hex:" + absl::BytesToHexString(absl::string_view(data.data(), data.size()));
  if (IsPrintableUtf8(data) && data.substr(0, 7) != "base64:" && data.substr(0, 4) != "hex:") {
    return std::string(data);
  }
  return "base64:" + absl::Base64Escape(absl::string_view(data.data(), data.size()));
}

// ---------------------------------------------------------------- streams

int Streams(const std::string& dir) {
  OpenedStore store;
  if (absl::Status s = store.Open(dir); !s.ok()) return Fail(s);
  std::vector<StreamSummary> all;
  ListStreamsRequest req;
  while (true) {
    absl::StatusOr<ListStreamsResult> page = store->ListStreams(req);
    if (!page.ok()) return Fail(page.status());
    for (StreamSummary& s : page->stream_summaries) all.push_back(std::move(s));
    if (!page->has_more_streams || !page->next_token) break;
    req = ListStreamsRequest();
    req.next_token = page->next_token;
  }
  if (all.empty()) return kExitOk;
  size_t w = 6;
  for (const StreamSummary& s : all) w = std::max(w, s.stream_name.size());
  fmt::print("{:<{}}  {:<8}  {:<11}  {:>11}  {}\n", "STREAM", w, "STATUS", "MODE", "OPEN SHARDS",
             "CREATED");
  for (const StreamSummary& s : all) {
    absl::StatusOr<StreamDescriptionSummary> d = store->DescribeStreamSummary(s.stream_name);
    std::string open = d.ok() ? FormatCount(static_cast<uint64_t>(d->open_shard_count)) : "?";
    fmt::print("{:<{}}  {:<8}  {:<11}  {:>11}  {}\n", s.stream_name, w, ToString(s.stream_status),
               ToString(s.stream_mode), open, IsoTime(s.stream_creation_timestamp));
  }
  return kExitOk;
}

// ---------------------------------------------------------------- describe

int Describe(const std::string& dir, const std::string& stream) {
  OpenedStore store;
  if (absl::Status s = store.Open(dir); !s.ok()) return Fail(s);
  absl::StatusOr<StreamDescriptionSummary> d = store->DescribeStreamSummary(stream);
  if (!d.ok()) return Fail(d.status());
  absl::StatusOr<std::vector<ShardDescription>> shards = AllShards(*store, stream);
  if (!shards.ok()) return Fail(shards.status());
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> after;
  while (true) {
    absl::StatusOr<ListTagsResult> t = store->ListTagsForStream(stream, after);
    if (!t.ok()) return Fail(t.status());
    for (auto& kv : t->tags) tags.push_back(std::move(kv));
    if (!t->has_more_tags || t->tags.empty()) break;
    after = tags.back().first;
  }
  int closed = 0;
  for (const ShardDescription& s : *shards) closed += s.state != ShardState::kOpen;
  fmt::print("name:             {}\n", d->stream_name);
  fmt::print("arn:              {}\n", d->stream_arn);
  fmt::print("status:           {}\n", ToString(d->stream_status));
  fmt::print("mode:             {}\n", ToString(d->stream_mode));
  fmt::print("created:          {}\n", IsoTime(d->stream_creation_timestamp));
  fmt::print("retention:        {} hours\n", d->retention_period_hours);
  fmt::print("max record size:  {} KiB\n", d->max_record_size_kib);
  fmt::print("open shards:      {}\n", d->open_shard_count);
  fmt::print("shards:           {} ({} closed or expired)\n", shards->size(), closed);
  fmt::print("consumers:        {}\n", d->consumer_count);
  std::string t;
  for (const auto& [k, v] : tags) t += fmt::format("{}{}={}", t.empty() ? "" : ", ", k, v);
  fmt::print("tags:             {}\n", t.empty() ? "(none)" : t);
  return kExitOk;
}

// ---------------------------------------------------------------- shards

int Shards(const std::string& dir, const std::string& stream, ShardsFormat format) {
  OpenedStore store;
  if (absl::Status s = store.Open(dir); !s.ok()) return Fail(s);
  absl::StatusOr<std::vector<ShardDescription>> shards = AllShards(*store, stream);
  if (!shards.ok()) return Fail(shards.status());

  std::map<std::string, const ShardDescription*> by_id;
  for (const ShardDescription& s : *shards) by_id[s.shard_id] = &s;
  auto listed = [&](const std::optional<std::string>& id) { return id && by_id.count(*id) > 0; };

  if (format == ShardsFormat::kDot || format == ShardsFormat::kSvg) {
    const std::string dot = lineage::LineageDot(stream, *shards);
    if (format == ShardsFormat::kDot) {
      fmt::print("{}", dot);
      return kExitOk;
    }
    absl::StatusOr<std::string> svg = lineage::RenderSvg(dot);
    if (!svg.ok()) return Fail(svg.status());
    fmt::print("{}", *svg);
    return kExitOk;
  }

  // Tree: roots are shards whose parents are not listed (none, or expired).
  // A merge child hangs fully under its parent and is referred to under its
  // adjacent parent.
  std::map<std::string, std::vector<std::pair<const ShardDescription*, bool>>> children;
  std::vector<const ShardDescription*> roots;
  for (const ShardDescription& s : *shards) {
    bool has_parent = listed(s.parent_shard_id);
    if (has_parent) children[*s.parent_shard_id].push_back({&s, true});
    if (listed(s.adjacent_parent_shard_id)) {
      children[*s.adjacent_parent_shard_id].push_back({&s, has_parent ? false : true});
    }
    if (!has_parent && !listed(s.adjacent_parent_shard_id)) roots.push_back(&s);
  }
  struct Line {
    std::string left;  // tree prefix + shard id (+ note)
    const ShardDescription* shard;  // null for a reference line
  };
  std::vector<Line> lines;
  std::set<std::string> drawn;
  auto draw = [&](auto&& self, const ShardDescription* s, const std::string& prefix,
                  const std::string& branch) -> void {
    lines.push_back({prefix + branch + s->shard_id, s});
    drawn.insert(s->shard_id);
    auto it = children.find(s->shard_id);
    if (it == children.end()) return;
    const std::string next = prefix + (branch.empty() ? "" : branch == "`-- " ? "    " : "|   ");
    for (size_t i = 0; i < it->second.size(); ++i) {
      const auto& [child, full] = it->second[i];
      const std::string b = i + 1 == it->second.size() ? "`-- " : "|-- ";
      if (full && !drawn.count(child->shard_id)) {
        self(self, child, next, b);
      } else {
        const std::string& other =
            *child->parent_shard_id == s->shard_id ? *child->adjacent_parent_shard_id : *child->parent_shard_id;
        lines.push_back({fmt::format("{}{}{} (merge child, drawn under {})", next, b, child->shard_id, other),
                         nullptr});
      }
    }
  };
  for (const ShardDescription* r : roots) draw(draw, r, "", "");

  int open = 0;
  for (const ShardDescription& s : *shards) open += s.state == ShardState::kOpen;
  fmt::print("{}: {} shards, {} open\n", stream, shards->size(), open);
  size_t w = 0;
  for (const Line& l : lines) {
    if (l.shard != nullptr) w = std::max(w, l.left.size());
  }
  for (const Line& l : lines) {
    if (l.shard == nullptr) {
      fmt::print("{}\n", l.left);
      continue;
    }
    const ShardDescription& s = *l.shard;
    std::string note;
    if (s.parent_shard_id && !listed(s.parent_shard_id)) note = "  parent " + *s.parent_shard_id + " expired";
    fmt::print("{:<{}}  {:>15}  {:<7}  {}{}\n", l.left, w, RangePercent(s.hash_key_range),
               ToString(s.state), SeqRange(s), note);
  }
  return kExitOk;
}

// ---------------------------------------------------------------- dump

int Dump(const std::string& dir, const std::string& stream, const std::string& shard,
         const DumpOptions& options) {
  OpenedStore store;
  if (absl::Status s = store.Open(dir); !s.ok()) return Fail(s);
  GetShardIteratorRequest req;
  req.stream = stream;
  req.shard_id = shard;
  if (options.from) {
    req.type = ShardIteratorType::kAtSequenceNumber;
    req.starting_sequence_number = *options.from;
  } else {
    req.type = ShardIteratorType::kTrimHorizon;
  }
  absl::StatusOr<std::string> it = store->GetShardIterator(req);
  if (!it.ok()) return Fail(it.status());
  int64_t left = options.limit.value_or(INT64_MAX);
  std::string iterator = std::move(*it);
  while (left > 0) {
    int want = static_cast<int>(std::min<int64_t>(left, limits::kMaxGetRecordsLimit));
    absl::StatusOr<GetRecordsResult> r = store->GetRecords(iterator, want);
    if (!r.ok()) {
      std::fflush(stdout);
      return Fail(fmt::format("reading {} {}: {}", stream, shard, std::string(r.status().message())));
    }
    for (const Record& rec : r->records) {
      fmt::print("{}\t{}\t{}\t{}\n", rec.sequence_number.ToString(),
                 IsoTime(rec.approximate_arrival_timestamp), SafeText(rec.partition_key, false),
                 SafeText(rec.data, options.hex));
    }
    left -= static_cast<int64_t>(r->records.size());
    if (r->records.empty() || !r->next_shard_iterator) break;
    iterator = std::move(*r->next_shard_iterator);
  }
  return kExitOk;
}

// ---------------------------------------------------------------- verify, stats

namespace {

// Takes the store's lock for a scan (a live writer would make a half-written
// record look like a torn tail) and scans it.
absl::StatusOr<StoreScan> LockedScan(const std::string& dir, std::unique_ptr<FileLock>* lock) {
  if (absl::Status s = CheckStoreDir(dir); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<FileLock>> l = DefaultEnv()->LockFile(dir + "/LOCK");
  if (!l.ok()) {
    if (GetErrorType(l.status()) == ErrorType::kResourceInUse) {
      return absl::FailedPreconditionError(InUseMessage(dir));
    }
    return l.status();
  }
  *lock = std::move(*l);
  return ScanStore(DefaultEnv(), dir);
}

}  // namespace

int Verify(const std::string& dir) {
  std::unique_ptr<FileLock> lock;
  absl::StatusOr<StoreScan> scan = LockedScan(dir, &lock);
  if (!scan.ok()) return Fail(scan.status());
  for (const Finding& f : scan->findings) {
    fmt::print("{:<7} {}: {}\n", f.severity == Severity::kError ? "ERROR" : "warning", f.where, f.what);
  }
  uint64_t shards = 0, segments = 0, records = 0;
  for (const StreamScan& s : scan->streams) {
    shards += s.shards.size();
    for (const ShardScan& sh : s.shards) {
      segments += sh.segments;
      records += sh.records;
    }
  }
  const int errors = scan->Count(Severity::kError);
  const int warnings = scan->Count(Severity::kWarning);
  fmt::print(
      "{}: {} stream directories, {} shards, {} segments, {} segment indexes, {} WAL files ({} frames), {} "
      "records checked: {} error{}, {} warning{}\n",
      errors == 0 ? "OK" : "CORRUPT", scan->streams.size(), shards, segments, scan->indexes, scan->wal_files,
      scan->wal_frames, records, errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
  return errors == 0 ? kExitOk : kExitFailure;
}

int Stats(const std::string& dir) {
  std::unique_ptr<FileLock> lock;
  absl::StatusOr<StoreScan> scan = LockedScan(dir, &lock);
  if (!scan.ok()) return Fail(scan.status());
  std::vector<std::pair<std::string, const ShardScan*>> rows;  // label, shard (null: stream total)
  std::vector<ShardScan> totals;
  totals.reserve(scan->streams.size());
  for (const StreamScan& s : scan->streams) {
    ShardScan t;
    for (const ShardScan& sh : s.shards) {
      t.segments += sh.segments;
      t.records += sh.records;
      t.data_bytes += sh.data_bytes;
      t.file_bytes += sh.file_bytes;
    }
    totals.push_back(t);
  }
  size_t w = 20;
  for (const StreamScan& s : scan->streams) w = std::max(w, s.name.size() + 24);
  fmt::print("{:<{}}  {:>8}  {:>10}  {:>14}  {:>14}\n", "STREAM / SHARD", w, "SEGMENTS", "RECORDS",
             "BYTES", "DISK BYTES");
  for (size_t i = 0; i < scan->streams.size(); ++i) {
    const StreamScan& s = scan->streams[i];
    const ShardScan& t = totals[i];
    std::string label = s.in_catalog ? s.name : fmt::format("{} (incarnation {}, not in catalog)", s.name, s.incarnation);
    fmt::print("{:<{}}  {:>8}  {:>10}  {:>14}  {:>14}\n", label, w, t.segments, t.records, t.data_bytes,
               t.file_bytes);
    for (const ShardScan& sh : s.shards) {
      fmt::print("{:<{}}  {:>8}  {:>10}  {:>14}  {:>14}\n", "  " + FormatShardId(sh.index), w,
                 sh.segments, sh.records, sh.data_bytes, sh.file_bytes);
    }
  }
  const int errors = scan->Count(Severity::kError);
  if (errors > 0) {
    fmt::print(stderr,
               "tributary: warning: the store has {} damaged place{}; counts stop at the damage "
               "(run `tributary verify {}`)\n",
               errors, errors == 1 ? "" : "s", dir);
  }
  return kExitOk;
}

}  // namespace tributary::cli
