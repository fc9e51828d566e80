// Golden stores: a store written by an earlier Tributary keeps opening
// (docs/FORMAT.md "Versions and upgrade"). tests/golden/store_v1 was written
// by the release before the write-ahead log (tests/golden/make_store_v1.cc
// says how and what it holds): segment format 1, catalog format 1, no
// RECOVERY, no wal/, no index files. It opens by a scan, every record is
// there, and the open upgrades it: the next open reads the recovery point.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "durable/durable_util.h"

#ifndef TRIBUTARY_GOLDEN_DIR
#error "TRIBUTARY_GOLDEN_DIR must name tests/golden"
#endif

namespace tributary::durable_test {
namespace {

std::string Padded(const std::string& tag) {
  std::string d = tag;
  d.resize(150, 'x');
  return d;
}

TEST_CASE("a store written before the write-ahead log opens, holds every record, and is upgraded",
          "[durable][golden]") {
  ScratchDir scratch;
  const std::string dir = scratch.path + "/store";
  std::filesystem::copy(std::string(TRIBUTARY_GOLDEN_DIR) + "/store_v1", dir,
                        std::filesystem::copy_options::recursive);
  REQUIRE_FALSE(std::filesystem::exists(dir + "/RECOVERY"));
  // What make_store_v1 wrote.
  std::set<std::string> want;
  for (int i = 0; i < 60; ++i) want.insert(Padded("golden-" + std::to_string(i) + "-"));
  for (int i = 0; i < 10; ++i) want.insert(Padded("after-" + std::to_string(i) + "-"));

  auto check = [&](Store& s) {
    std::set<std::string> got;
    std::map<std::string, std::string> last_seq_by_key;
    for (const auto& [id, recs] : AllRecords(s, "golden")) {
      CheckStrictlyIncreasing(recs);
      for (const Record& r : recs) {
        INFO(id << " " << r.sequence_number.ToString());
        CHECK(got.insert(r.data).second);
      }
    }
    CHECK(got == want);
    CHECK(testing::OpenShards(s, "golden").size() == 3);
    CHECK(testing::OpenShards(s, "idle").size() == 1);
    CHECK(testing::ReadShard(s, "idle", FormatShardId(0)).records.empty());
  };
  // The store's records were written on a ManualClock at its default start
  // (2024-01-01): read them within their retention period.
  ManualClock clock;
  clock.Advance(absl::Minutes(5));
  StoreOptions options;
  options.clock = &clock;
  {
    auto s = Store::Open(dir, options);
    REQUIRE_OK(s);
    RecoveryReport rep = (*s)->recovery();
    CHECK_FALSE(rep.from_recovery_point);
    CHECK(rep.segments_scanned > 3);
    CHECK(rep.problems.empty());
    CHECK(rep.records == want.size());
    check(**s);
    // Writes go on, above every old number.
    auto r = (*s)->Put("golden", testing::Input("k0", "new"));
    REQUIRE_OK(r);
    want.insert("new");
  }
  CHECK(std::filesystem::exists(dir + "/RECOVERY"));
  auto s = Store::Open(dir, options);
  REQUIRE_OK(s);
  CHECK((*s)->recovery().from_recovery_point);
  CHECK((*s)->recovery().segments_scanned == 0);
  CHECK((*s)->recovery().problems.empty());
  check(**s);
}


// tests/golden/store_v2 and store_v2_crash: the first formats with a
// write-ahead log (segment index, WAL and recovery point format 1), written
// by tests/golden/make_store_v2.cc with the same records as store_v1. A
// change that stops these from opening as written breaks files users have.
std::set<std::string> GoldenRecords() {
  std::set<std::string> want;
  for (int i = 0; i < 60; ++i) want.insert(Padded("golden-" + std::to_string(i) + "-"));
  for (int i = 0; i < 10; ++i) want.insert(Padded("after-" + std::to_string(i) + "-"));
  return want;
}

void CheckGolden(Store& s, const std::set<std::string>& want) {
  std::set<std::string> got;
  for (const auto& [id, recs] : AllRecords(s, "golden")) {
    CheckStrictlyIncreasing(recs);
    for (const Record& r : recs) {
      INFO(id << " " << r.sequence_number.ToString());
      CHECK(got.insert(r.data).second);
    }
  }
  CHECK(got == want);
  CHECK(testing::OpenShards(s, "golden").size() == 3);
  CHECK(testing::OpenShards(s, "idle").size() == 1);
  CHECK(testing::ReadShard(s, "idle", FormatShardId(0)).records.empty());
}

std::string CopyGolden(const ScratchDir& scratch, const std::string& name) {
  const std::string dir = scratch.path + "/store";
  std::filesystem::copy(std::string(TRIBUTARY_GOLDEN_DIR) + "/" + name, dir,
                        std::filesystem::copy_options::recursive);
  return dir;
}

TEST_CASE("a store closed cleanly by the first WAL version opens from its recovery point",
          "[durable][golden]") {
  ScratchDir scratch;
  const std::string dir = CopyGolden(scratch, "store_v2");
  REQUIRE(std::filesystem::exists(dir + "/RECOVERY"));
  ManualClock clock;
  clock.Advance(absl::Minutes(5));
  StoreOptions options;
  options.clock = &clock;
  std::set<std::string> want = GoldenRecords();
  {
    auto s = Store::Open(dir, options);
    REQUIRE_OK(s);
    RecoveryReport rep = (*s)->recovery();
    CHECK(rep.from_recovery_point);
    CHECK(rep.segments_scanned == 0);
    CHECK(rep.records_replayed == 0);
    CHECK(rep.problems.empty());
    CHECK(rep.records == want.size());
    CheckGolden(**s, want);
    auto r = (*s)->Put("golden", testing::Input("k0", "new"));
    REQUIRE_OK(r);
    want.insert("new");
  }
  // The same files checked the slow way: every segment against its index.
  options.verify_on_open = true;
  auto s = Store::Open(dir, options);
  REQUIRE_OK(s);
  CHECK((*s)->recovery().problems.empty());
  CheckGolden(**s, want);
}

TEST_CASE("a store of the first WAL version left by a crash replays its WAL", "[durable][golden]") {
  ScratchDir scratch;
  const std::string dir = CopyGolden(scratch, "store_v2_crash");
  REQUIRE(std::filesystem::exists(dir + "/wal"));
  ManualClock clock;
  clock.Advance(absl::Minutes(5));
  StoreOptions options;
  options.clock = &clock;
  const std::set<std::string> want = GoldenRecords();
  {
    auto s = Store::Open(dir, options);
    REQUIRE_OK(s);
    RecoveryReport rep = (*s)->recovery();
    CHECK(rep.wal_files > 0);
    CHECK(rep.records_replayed > 0);
    CHECK(rep.records == want.size());
    CheckGolden(**s, want);
  }
  auto s = Store::Open(dir, options);
  REQUIRE_OK(s);
  CHECK((*s)->recovery().from_recovery_point);
  CHECK((*s)->recovery().records_replayed == 0);
  CheckGolden(**s, want);
}

}  // namespace
}  // namespace tributary::durable_test
