// A durable store of 100,000 shards in a process limited to 1,024 file
// descriptors (the usual soft limit): the store's open files are bounded by
// StoreOptions::max_open_files, not by shards or segments (docs/
// DURABILITY.md "Open files"). POSIX Env, in a scratch directory.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#include "durable/durable_util.h"

namespace tributary::durable_test {
namespace {

using testing::Input;
using testing::InputWithHash;

int OpenDescriptors() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the one opendir holds
}

// Lowers RLIMIT_NOFILE's soft limit for the test's duration.
class FileLimit {
 public:
  explicit FileLimit(rlim_t soft) {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit l = saved_;
    l.rlim_cur = std::min<rlim_t>(soft, saved_.rlim_max);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &l) == 0);
  }
  ~FileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

TEST_CASE("100,000 shards under ulimit -n 1024: descriptors stay bounded, records survive a reopen",
          "[durable][slow]") {
  FileLimit limit(1024);
  Disk d(/*posix=*/true);
  d.options.env = DefaultEnv();  // real descriptors
  d.options.shard_limit = 200000;
  d.options.max_open_files = 200;
  d.options.sync = Sync::kNo;  // what is measured here is descriptors, not syncs
  d.Open();
  const int baseline = OpenDescriptors();
  // Thousands of shards in small streams, most in streams of 9,000 to
  // 10,000 shards (Kinesis' largest): 100 x 100 + 9 x 10,000 shards.
  std::vector<std::pair<std::string, int>> streams;
  for (int i = 0; i < 100; ++i) streams.push_back({"small-" + std::to_string(i), 100});
  for (int i = 0; i < 9; ++i) streams.push_back({"big-" + std::to_string(i), 10000});
  int total = 0;
  for (const auto& [name, shards] : streams) {
    REQUIRE_OK(d->CreateStream(name, shards));
    total += shards;
  }
  REQUIRE(total == 100000);
  int peak = OpenDescriptors();
  // One record in every 100th shard of each stream (1,000 shards), through
  // explicit hash keys: each lands in a different shard.
  struct Written {
    std::string stream, shard, seq, data;
  };
  std::vector<Written> written;
  for (const auto& [name, shards] : streams) {
    for (int i = 0; i < shards; i += 100) {
      const std::string hash = testing::KinesisShardStart(i, shards).ToString();
      const std::string data = name + "/" + std::to_string(i);
      auto r = d->Put(name, InputWithHash("k", hash, data));
      REQUIRE_OK(r);
      CHECK(r->shard_id.ToString() == FormatShardId(static_cast<uint32_t>(i)));
      written.push_back({name, r->shard_id.ToString(), r->sequence_number.ToString(), data});
    }
    peak = std::max(peak, OpenDescriptors());
  }
  INFO("descriptors: " << baseline << " after open, peak " << peak);
  CHECK(peak <= baseline + static_cast<int>(d.options.max_open_files) + 16);

  auto read_back = [&] {
    for (size_t i = 0; i < written.size(); i += 7) {
      const Written& w = written[i];
      auto recs = testing::ReadShard(*d, w.stream, w.shard).records;
      REQUIRE(recs.size() == 1);
      CHECK(recs[0].data == w.data);
      CHECK(recs[0].sequence_number.ToString() == w.seq);
    }
  };
  read_back();
  CHECK(OpenDescriptors() <= baseline + static_cast<int>(d.options.max_open_files) + 16);

  // A clean reopen reads metadata, not 100,000 shard directories.
  d.Reopen();
  CHECK(d->recovery().from_recovery_point);
  CHECK(d->recovery().segments_scanned == 0);
  CHECK(d->recovery().problems.empty());
  CHECK(d->recovery().records == written.size());
  const int reopened = OpenDescriptors();
  read_back();
  // Writes go on: the active segments of hundreds of shards, through 200
  // open files.
  for (size_t i = 0; i < written.size(); i += 3) {
    const Written& w = written[i];
    auto r = d->Put(w.stream, InputWithHash("k", testing::KinesisShardStart(
                                                    static_cast<int>(*ParseShardId(w.shard)),
                                                    w.stream.rfind("big", 0) == 0 ? 10000 : 100)
                                                    .ToString(),
                                            "again"));
    REQUIRE_OK(r);
  }
  CHECK(OpenDescriptors() <= reopened + static_cast<int>(d.options.max_open_files) + 16);
  auto sum = d->DescribeStreamSummary("big-8");
  REQUIRE_OK(sum);
  CHECK(sum->open_shard_count == 10000);
}

}  // namespace
}  // namespace tributary::durable_test
