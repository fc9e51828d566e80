// Helpers for the durable-store tests (Store::Open): a fixture with a
// ManualClock and a FaultEnv over a MemEnv (or the POSIX Env in a scratch
// directory under the build tree), whole-stream snapshots that can be
// compared across a reopen, and file-system listings.
//
// Everything here REQUIREs success of the calls it makes, so a helper failure
// is reported at the helper's line with the status printed.
#ifndef TRIBUTARY_TESTS_DURABLE_DURABLE_UTIL_H_
#define TRIBUTARY_TESTS_DURABLE_DURABLE_UTIL_H_

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "testing/fault_env.h"
#include "testing/scratch_dir.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary::durable_test {

using testing::FaultEnv;

// A scratch directory under this executable's part of the build tree.
struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir(TRIBUTARY_DURABLE_TEST_TMPDIR) {}
};

// A store directory on a FaultEnv (over a MemEnv by default, or over the
// POSIX Env in a scratch directory), with a ManualClock.
struct Disk {
  explicit Disk(bool posix = false) {
    if (posix) {
      scratch = std::make_unique<ScratchDir>();
      base = DefaultEnv();
      dir = scratch->path + "/store";
    } else {
      mem = NewMemEnv();
      base = mem.get();
      dir = "/db";
    }
    fault = std::make_unique<FaultEnv>(base);
    options.clock = &clock;
    options.env = fault.get();
  }
  ~Disk() { store.reset(); }

  absl::StatusOr<std::unique_ptr<Store>> TryOpen() { return Store::Open(dir, options); }

  // Closes the current store (if any) and opens the directory again.
  Store& Open() {
    store.reset();
    auto s = TryOpen();
    REQUIRE_OK(s);
    store = std::move(s).value();
    return *store;
  }
  Store& Reopen() { return Open(); }

  // Power loss: everything not synced is gone; the old store is torn down
  // afterwards (its writes fail harmlessly).
  //
  // FaultEnv models directories as always durable but a file removal as
  // durable only after SyncDir: when the store removed files and then their
  // (now empty) directory, as DeleteStream does, FaultEnv cannot put the
  // files back and reports NotFound. The library never syncs a directory
  // after removing files, so such removals are simply undone-if-possible;
  // every other error fails the test.
  //
  // The machine stays down (every write fails) until the old store is torn
  // down: a thread of it that is still running (a background checkpoint)
  // must not write after the crash, as it could not on a real machine.
  void PowerLoss() {
    absl::Status s = fault->DropUnsyncedData(/*down=*/true);
    store.reset();
    fault->SetDown(false);
    if (!s.ok() && s.code() != absl::StatusCode::kNotFound) REQUIRE_OK(s);
  }

  Store& operator*() { return *store; }
  Store* operator->() { return store.get(); }

  std::unique_ptr<ScratchDir> scratch;
  std::unique_ptr<Env> mem;
  Env* base = nullptr;
  std::unique_ptr<FaultEnv> fault;
  std::string dir;
  ManualClock clock;
  StoreOptions options;
  std::unique_ptr<Store> store;
};

// Every file under `path` (recursively), as paths relative to it.
inline std::vector<std::string> FilesUnder(Env* env, const std::string& path) {
  std::vector<std::string> out;
  auto kids = env->GetChildren(path);
  if (!kids.ok()) return out;
  for (const std::string& k : *kids) {
    std::string p = path + "/" + k;
    auto sub = env->GetChildren(p);
    if (sub.ok() && !env->GetFileSize(p).ok()) {
      for (const std::string& s : FilesUnder(env, p)) out.push_back(k + "/" + s);
      if (sub->empty()) out.push_back(k + "/");  // an empty directory
    } else {
      out.push_back(k);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The directory of `stream`'s files (<dir>/streams/<name>.<incarnation>),
// or "" if there is none. REQUIRES at most one incarnation on disk.
inline std::string StreamDirOf(Env* env, const std::string& dir, const std::string& stream) {
  auto kids = env->GetChildren(dir + "/streams");
  if (!kids.ok()) return "";
  std::string found;
  for (const std::string& k : *kids) {
    if (k.rfind(stream + ".", 0) == 0 && k.find('.', stream.size() + 1) == std::string::npos) {
      REQUIRE(found.empty());
      found = dir + "/streams/" + k;
    }
  }
  return found;
}

// Segment files of one shard, in counter order (full paths).
inline std::vector<std::string> SegmentsOf(Env* env, const std::string& dir,
                                           const std::string& stream, uint32_t shard_index) {
  std::string sd = StreamDirOf(env, dir, stream);
  REQUIRE(!sd.empty());
  std::string shard_dir = sd + "/" + std::to_string(shard_index);
  auto kids = env->GetChildren(shard_dir);
  REQUIRE_OK(kids);
  std::vector<std::string> out;
  for (const std::string& k : *kids) {
    if (k.size() > 4 && k.substr(k.size() - 4) == ".seg") out.push_back(shard_dir + "/" + k);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline uint32_t ShardIndex(const std::string& shard_id) {
  auto i = ParseShardId(shard_id);
  REQUIRE_OK(i);
  return *i;
}

// ---- snapshots ------------------------------------------------------------

struct StreamSnapshot {
  StreamDescription description;  // every non-expired shard
  StreamDescriptionSummary summary;
  std::vector<std::pair<std::string, std::string>> tags;
  std::map<std::string, std::vector<Record>> records;  // by shard id
};

inline StreamSnapshot Snapshot(Store& store, const std::string& stream) {
  StreamSnapshot s;
  DescribeStreamRequest req;
  req.stream = stream;
  req.limit = 10000;
  auto d = store.DescribeStream(req);
  REQUIRE_OK(d);
  s.description = *d;
  auto sum = store.DescribeStreamSummary(stream);
  REQUIRE_OK(sum);
  s.summary = *sum;
  auto tags = store.ListTagsForStream(stream);
  REQUIRE_OK(tags);
  s.tags = tags->tags;
  for (const ShardDescription& sh : s.description.shards) {
    s.records[sh.shard_id] = testing::ReadShard(store, stream, sh.shard_id).records;
  }
  return s;
}

inline std::string Show(const Record& r) {
  return r.sequence_number.ToString() + " key=" + r.partition_key + " data=" +
         r.data.substr(0, 40) + " t=" + absl::FormatTime(r.approximate_arrival_timestamp);
}

inline void CheckSameRecords(const std::vector<Record>& a, const std::vector<Record>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("record " << i << ": " << Show(a[i]) << " vs " << Show(b[i]));
    CHECK(a[i].sequence_number == b[i].sequence_number);
    CHECK(a[i].partition_key == b[i].partition_key);
    CHECK(a[i].data == b[i].data);
    CHECK(a[i].approximate_arrival_timestamp == b[i].approximate_arrival_timestamp);
  }
}

inline void CheckSameShard(const ShardDescription& a, const ShardDescription& b) {
  INFO("shard " << a.shard_id);
  CHECK(a.shard_id == b.shard_id);
  CHECK(a.parent_shard_id == b.parent_shard_id);
  CHECK(a.adjacent_parent_shard_id == b.adjacent_parent_shard_id);
  CHECK(a.hash_key_range == b.hash_key_range);
  CHECK(a.starting_sequence_number == b.starting_sequence_number);
  CHECK(a.ending_sequence_number == b.ending_sequence_number);
  CHECK(a.state == b.state);
}

inline void CheckSameStream(const StreamSnapshot& a, const StreamSnapshot& b) {
  INFO("stream " << a.description.stream_name);
  CHECK(a.description.stream_name == b.description.stream_name);
  CHECK(a.description.stream_arn == b.description.stream_arn);
  CHECK(a.description.stream_status == b.description.stream_status);
  CHECK(a.description.stream_mode == b.description.stream_mode);
  CHECK(a.description.retention_period_hours == b.description.retention_period_hours);
  CHECK(a.description.stream_creation_timestamp == b.description.stream_creation_timestamp);
  CHECK(a.description.max_record_size_kib == b.description.max_record_size_kib);
  CHECK(a.summary.open_shard_count == b.summary.open_shard_count);
  CHECK(a.tags == b.tags);
  REQUIRE(a.description.shards.size() == b.description.shards.size());
  for (size_t i = 0; i < a.description.shards.size(); ++i) {
    CheckSameShard(a.description.shards[i], b.description.shards[i]);
  }
  REQUIRE(a.records.size() == b.records.size());
  for (const auto& [id, recs] : a.records) {
    INFO("records of " << id);
    REQUIRE(b.records.count(id) == 1);
    CheckSameRecords(recs, b.records.at(id));
  }
}

// Every record of every non-expired shard, by shard id.
inline std::map<std::string, std::vector<Record>> AllRecords(Store& store,
                                                             const std::string& stream) {
  std::map<std::string, std::vector<Record>> out;
  for (const ShardDescription& sh : testing::AllShards(store, stream)) {
    out[sh.shard_id] = testing::ReadShard(store, stream, sh.shard_id).records;
  }
  return out;
}

// The largest sequence number among `records` (or none).
inline std::optional<SequenceNumber> MaxSeq(const std::vector<Record>& records) {
  std::optional<SequenceNumber> m;
  for (const Record& r : records) {
    if (!m || r.sequence_number > *m) m = r.sequence_number;
  }
  return m;
}

inline void CheckStrictlyIncreasing(const std::vector<Record>& records) {
  for (size_t i = 1; i < records.size(); ++i) {
    INFO("records " << i - 1 << " and " << i << ": " << Show(records[i - 1]) << " / "
                    << Show(records[i]));
    CHECK(records[i - 1].sequence_number < records[i].sequence_number);
  }
}

// A payload of `n` bytes that encodes `tag` (so a mix-up is visible).
inline std::string Payload(const std::string& tag, size_t n) {
  std::string s = tag + ":";
  while (s.size() < n) s += static_cast<char>('a' + (s.size() * 7 + tag.size()) % 26);
  s.resize(std::max(n, tag.size() + 1));
  return s;
}

}  // namespace tributary::durable_test

#endif  // TRIBUTARY_TESTS_DURABLE_DURABLE_UTIL_H_
