// Regression tests for what the fuzz targets found (tests/fuzz/README.md,
// docs/RELIABILITY.md). Each crashing input also lives in
// tests/fuzz/corpus/<target>/crash-<what>, which the fuzz.<target>.corpus
// tests replay through the target itself; the tests here pin the behaviour
// the fix promises, with inputs built in the test.
#include <catch2/catch.hpp>

#include <xxhash.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "log/disk_log.h"
#include "log/format.h"
#include "stream/iterator_token.h"
#include "testing/status_matchers.h"
#include "tributary/tributary.h"
#include "util/coding.h"

namespace tributary {
namespace {

// ---------------------------------------------------------------- catalog

constexpr char kCatalogMagic[8] = {'T', 'R', 'B', 'C', 'A', 'T', '\0', '\1'};

// A stream blob as docs/FORMAT.md "Stream blob (version 1)" describes it,
// with fields a test can change before Encode().
struct ShardRow {
  uint32_t index = 0;
  absl::uint128 start = 0, end = absl::Uint128Max();
  std::optional<uint32_t> parent, adjacent;
  bool closed = false;
};
struct Blob {
  uint8_t status = 2;  // ACTIVE
  uint8_t mode = 0;
  int32_t retention_hours = 24;
  int64_t transition_done_ms = 1704067200000;
  std::optional<int32_t> accounted_shards;  // default: the shard count
  std::optional<std::tuple<uint8_t, uint32_t, uint32_t, absl::uint128, int32_t>> pending;
  std::vector<ShardRow> shards = std::vector<ShardRow>(1);

  // What the store would account: open shards plus the pending reshard.
  int32_t DefaultAccounted() const {
    int32_t n = 0;
    for (const ShardRow& r : shards) n += r.closed ? 0 : 1;
    if (pending && std::get<0>(*pending) == 1) n += 1;
    if (pending && std::get<0>(*pending) == 2) n -= 1;
    if (pending && std::get<0>(*pending) == 3) n = std::get<4>(*pending);
    return n;
  }

  std::string Encode() const {
    util::Encoder e;
    e.U8(1);          // blob version
    e.U64(1);         // incarnation
    e.I64(1704067200000);  // created
    e.U8(status);
    e.I64(transition_done_ms);
    e.U8(pending.has_value());
    if (pending) {
      auto [kind, a, b, key, target] = *pending;
      e.U8(kind);
      e.U32(a);
      e.U32(b);
      e.U128(key);
      e.U32(static_cast<uint32_t>(target));
      e.U8(0);  // mode
    }
    e.U8(mode);
    e.U64(1 << 20);  // max record size
    e.U32(static_cast<uint32_t>(retention_hours));
    e.I64(0);        // trim floor
    e.U32(static_cast<uint32_t>(accounted_shards.value_or(DefaultAccounted())));
    e.U8(0);         // accounted on-demand
    e.U32(0);        // tags
    e.U32(0);        // rescale times
    e.U32(0);        // mode change times
    e.U32(static_cast<uint32_t>(shards.size()));
    for (const ShardRow& s : shards) {
      e.U32(s.index);
      e.U128(s.start);
      e.U128(s.end);
      e.U8(s.parent.has_value());
      e.U32(s.parent.value_or(0));
      e.U8(s.adjacent.has_value());
      e.U32(s.adjacent.value_or(0));
      e.U64(s.parent ? 100 : 1);  // start counter
      e.I64(1704067200000);       // created
      e.U8(s.closed);
      e.I64(s.closed ? 1704067200000 : 0);
      e.U8(0);  // has closed last counter
      e.U64(0);
      e.I64(std::numeric_limits<int64_t>::max());  // expires after
      e.U8(0);  // released
      e.U64(0);  // reserved counter
    }
    return std::move(e.buffer());
  }
};

std::string Catalog(const std::string& name, const std::string& blob) {
  util::Encoder e;
  e.Raw(std::string_view(kCatalogMagic, 8));
  e.U32(1);
  e.U64(100);
  e.U32(1);
  e.Str(name);
  e.Str(blob);
  e.U64(XXH3_64bits(e.buffer().data(), e.buffer().size()));
  return std::move(e.buffer());
}

absl::StatusOr<std::unique_ptr<Store>> OpenWithCatalog(Env* env, const std::string& catalog) {
  REQUIRE_OK(env->CreateDirs("/db"));
  auto f = env->NewWritableFile("/db/CATALOG");
  REQUIRE_OK(f);
  REQUIRE_OK((*f)->Append(catalog));
  REQUIRE_OK((*f)->Close());
  StoreOptions o;
  o.env = env;
  return Store::Open("/db", o);
}

void RequireRefused(const std::string& name, const Blob& blob, std::string_view why) {
  auto env = NewMemEnv();
  auto s = OpenWithCatalog(env.get(), Catalog(name, blob.Encode()));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kDataLoss);
  CHECK(GetErrorType(s.status()) == ErrorType::kCorruption);
  INFO(s.status().ToString());
  CHECK(std::string(s.status().message()).find(why) != std::string::npos);
}

TEST_CASE("the blob builder of these tests makes catalogs the store opens", "[fuzz][regress]") {
  Blob b;
  b.shards = {ShardRow{0, 0, absl::Uint128Max(), {}, {}, true},
              ShardRow{1, 0, absl::MakeUint128(1ull << 63, 0) - 1, 0, {}, false},
              ShardRow{2, absl::MakeUint128(1ull << 63, 0), absl::Uint128Max(), 0, {}, false}};
  auto env = NewMemEnv();
  auto s = OpenWithCatalog(env.get(), Catalog("s", b.Encode()));
  REQUIRE_OK(s);
  auto open = (*s)->ListShards([] {
    ListShardsRequest r;
    r.stream = "s";
    return r;
  }());
  REQUIRE_OK(open);
  CHECK(open->shards.size() == 3);
  CHECK_OK((*s)->Put("s", {"k", "v"}));
}

TEST_CASE("catalog crash: a shard whose parent index does not exist is refused, not followed",
          "[fuzz][regress][catalog]") {
  // corpus/catalog/crash-parent-out-of-range: Restore indexed shards_ with
  // the parent number from the blob (SEGV).
  Blob b;
  b.shards[0].parent = 4;
  RequireRefused("s", b, "has parent 4");
  b.shards[0].parent = 0;  // itself
  RequireRefused("s", b, "has parent 0");
  Blob adj;
  adj.shards = {ShardRow{0, 0, absl::Uint128Max(), {}, {}, true},
                ShardRow{1, 0, absl::Uint128Max(), 0, 7, false}};
  RequireRefused("s", adj, "adjacent parent 7");
}

TEST_CASE("a catalog whose open shards do not partition the hash-key space is refused",
          "[fuzz][regress][catalog]") {
  // Routing takes the open shard whose range starts at or below the key:
  // a gap at 0 made it step before the first route.
  Blob gap;
  gap.shards[0].start = 5;
  RequireRefused("s", gap, "do not cover");
  Blob overlap;
  overlap.shards = {ShardRow{0, 0, 100, {}, {}, false}, ShardRow{1, 50, absl::Uint128Max(), {}, {}, false}};
  RequireRefused("s", overlap, "overlap or leave a gap");
  Blob none;
  none.shards[0].closed = true;
  RequireRefused("s", none, "do not cover");
  Blob empty_range;
  empty_range.shards = {ShardRow{0, 10, 5, {}, {}, true}, ShardRow{1}};
  RequireRefused("s", empty_range, "empty range");
}

TEST_CASE("a catalog with out-of-range enums or a pending reshard of unknown shards is refused",
          "[fuzz][regress][catalog]") {
  Blob status;
  status.status = 9;
  RequireRefused("s", status, "status 9");
  Blob mode;
  mode.mode = 3;
  RequireRefused("s", mode, "mode 3");
  Blob split;
  split.status = 3;  // UPDATING
  split.pending = {{1, 5, 0, 100, 0}};
  RequireRefused("s", split, "pending split of shard 5");
  split.pending = {{1, 0, 0, 0, 0}};  // key at the shard's start: empty left child
  RequireRefused("s", split, "split key outside");
  Blob merge;
  merge.status = 3;
  merge.pending = {{2, 0, 3, 0, 0}};
  RequireRefused("s", merge, "pending merge");
  Blob scale;
  scale.status = 3;
  scale.pending = {{3, 0, 0, 0, 5000}};
  RequireRefused("s", scale, "UpdateShardCount to 5000");
}

TEST_CASE("catalog crash: a retention or transition time that overflows the clock arithmetic is refused",
          "[fuzz][regress][catalog]") {
  // corpus/catalog/crash-transition-time-overflow: an UPDATING stream whose
  // transition ended at -9223370332787515808 ms with a retention of 8388632
  // hours; applying the pending change computed now - retention (signed
  // overflow, UB).
  Blob retention;
  retention.retention_hours = 8388632;
  RequireRefused("s", retention, "retention of 8388632 hours");
  retention.retention_hours = 23;
  RequireRefused("s", retention, "retention of 23 hours");
  Blob time;
  time.status = 3;
  time.pending = {{4, 0, 0, 0, 0}};  // a mode change
  time.transition_done_ms = -9223370332787515808;
  RequireRefused("s", time, "implausible times");
}

TEST_CASE("catalog crash: a shard account that does not match the open shards is refused",
          "[fuzz][regress][catalog]") {
  // corpus/catalog/crash-accounted-shards-overflow: accounted_shards was
  // INT32_MIN; UpdateShardCount added target - current to it (signed
  // overflow, UB), and the store's open-shard total started from garbage.
  // corpus/catalog/crash-accounted-shards-negative: 0 accounted for open
  // shards let a scale-down write -1, and the store then refused to reopen
  // its own catalog.
  Blob b;
  b.accounted_shards = INT32_MIN;
  RequireRefused("s", b, "-2147483648 shards accounted for 1 open shards");
  b.accounted_shards = 0;
  RequireRefused("s", b, "0 shards accounted for 1 open shards");
  b.accounted_shards = 2;
  RequireRefused("s", b, "2 shards accounted for 1 open shards");
  // An accepted split holds one more; an accepted scale-down its target.
  Blob split;
  split.status = 3;
  split.pending = {{1, 0, 0, 100, 0}};
  split.accounted_shards = 2;
  auto env = NewMemEnv();
  CHECK_OK(OpenWithCatalog(env.get(), Catalog("s", split.Encode())));
  split.accounted_shards = 1;
  RequireRefused("s", split, "1 shards accounted for 1 open shards and a pending change");
}

TEST_CASE("catalog crash: a pending change of a stream that is not UPDATING is refused",
          "[fuzz][regress][catalog]") {
  // corpus/catalog/crash-pending-change-not-updating: an ACTIVE stream kept a
  // pending split of shard 1; SplitShard then split shard 1 at once, the
  // pending split named a closed shard, and the store wrote a catalog it
  // refused to reopen.
  for (uint8_t status : {uint8_t{0}, uint8_t{1}, uint8_t{2}}) {  // CREATING, DELETING, ACTIVE
    INFO("status " << int{status});
    Blob b;
    b.status = status;
    b.pending = {{1, 0, 0, 100, 0}};
    b.accounted_shards = 2;
    RequireRefused("s", b, "a pending change while the stream is not UPDATING");
  }
  Blob updating;
  updating.status = 3;
  updating.pending = {{1, 0, 0, 100, 0}};
  updating.accounted_shards = 2;
  auto env = NewMemEnv();
  CHECK_OK(OpenWithCatalog(env.get(), Catalog("s", updating.Encode())));
}

TEST_CASE("a catalog naming a stream that is not a valid stream name is refused",
          "[fuzz][regress][catalog]") {
  // The name becomes a directory: "../x" would reach outside the store.
  for (const std::string& name : std::vector<std::string>{"../escape", "a/b", "", std::string(200, 'x')}) {
    INFO("name '" << name << "'");
    auto env = NewMemEnv();
    auto s = OpenWithCatalog(env.get(), Catalog(name, Blob().Encode()));
    REQUIRE_FALSE(s.ok());
    CHECK(GetErrorType(s.status()) == ErrorType::kCorruption);
    CHECK_FALSE(env->FileExists("/escape"));
  }
}

// ---------------------------------------------------------------- tokens

TEST_CASE("token crash: a forged NextToken with MaxResults 0 is refused, not paged by",
          "[fuzz][regress][token]") {
  // corpus/token/crash-consumers-zero-page: ListStreamConsumers paged by the
  // token's max_results; with 0 it took back() of an empty page (UB).
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  auto store = *Store::OpenInMemory(o);
  REQUIRE_OK(store->CreateStream("s", 2));
  REQUIRE_OK(store->RegisterStreamConsumer("s", "c1"));
  REQUIRE_OK(store->RegisterStreamConsumer("s", "c2"));
  ListStreamConsumersRequest first;
  first.stream = "s";
  first.max_results = 1;
  auto page = store->ListStreamConsumers(first);
  REQUIRE_OK(page);
  REQUIRE(page->next_token.has_value());
  auto real = stream::DecodePageToken(*page->next_token, 'C');
  REQUIRE_OK(real);
  for (int32_t bad : {0, -1, 10001}) {
    INFO("max_results " << bad);
    stream::PageToken t = *real;
    t.max_results = bad;
    ListStreamConsumersRequest next;
    next.stream = "s";
    next.next_token = stream::EncodePageToken(t);
    REQUIRE_ERROR(store->ListStreamConsumers(next), ErrorType::kInvalidArgument);
    ListShardsRequest ls;
    t.kind = 'S';
    ls.next_token = stream::EncodePageToken(t);
    REQUIRE_ERROR(store->ListShards(ls), ErrorType::kInvalidArgument);
  }
  // A shard filter type the enum does not have.
  ListShardsRequest lr;
  lr.stream = "s";
  lr.max_results = 1;
  auto shards = store->ListShards(lr);
  REQUIRE_OK(shards);
  REQUIRE(shards->next_token.has_value());
  auto st = stream::DecodePageToken(*shards->next_token, 'S');
  REQUIRE_OK(st);
  st->filter_type = 200;
  ListShardsRequest bad;
  bad.next_token = stream::EncodePageToken(*st);
  REQUIRE_ERROR(store->ListShards(bad), ErrorType::kInvalidArgument);
  // The real tokens still work.
  ListStreamConsumersRequest next;
  next.stream = "s";
  next.next_token = *page->next_token;
  auto rest = store->ListStreamConsumers(next);
  REQUIRE_OK(rest);
  CHECK(rest->consumers.size() == 1);
}

// ---------------------------------------------------------------- segments

std::string SegmentHeader(uint64_t first_counter) {
  std::string h(log::kSegmentMagic, 8);
  util::Encoder e;
  e.Raw(h);
  e.U32(log::kSegmentFormatVersion);
  e.U32(0);
  e.U64(first_counter);
  e.U64(XXH3_64bits(e.buffer().data(), e.buffer().size()));
  return std::move(e.buffer());
}

std::string Frame(uint64_t counter, int64_t arrival, std::string_view key, std::string_view data) {
  util::Encoder body;
  body.U8(static_cast<uint8_t>(log::RecordType::kFull));
  body.U64(counter);
  body.I64(arrival);
  std::string k(key);
  body.Raw(std::string{static_cast<char>(k.size() & 0xff), static_cast<char>(k.size() >> 8)});
  body.Raw(k);
  body.Raw(data);
  util::Encoder len;
  len.U32(static_cast<uint32_t>(body.buffer().size()));
  std::string covered = len.buffer() + body.buffer();
  util::Encoder f;
  f.U64(XXH3_64bits(covered.data(), covered.size()));
  f.Raw(covered);
  return std::move(f.buffer());
}

TEST_CASE("segment crash: an intact record whose counter goes backwards is corruption, not data",
          "[fuzz][regress][segment]") {
  // corpus/segment/crash-counter-out-of-order: a checksum-valid frame with
  // counter 792633536296255493 between 4 and 6. The scan indexed it, reads
  // from counter 7 returned it, and the record appended after recovery was
  // not found at its counter.
  int64_t t0 = 1704067200000;
  for (bool counter_below_first : {false, true}) {
    INFO((counter_below_first ? "a counter below the segment's first counter"
                              : "a counter below the previous one"));
    auto env = NewMemEnv();
    const std::string dir = "/db/streams/s.1/0";
    REQUIRE_OK(env->CreateDirs(dir));
    // Counters may jump (1000000 is fine) but never go back, nor below the
    // segment's first counter.
    std::string seg = SegmentHeader(1);
    seg += counter_below_first ? Frame(0, t0, "k", "back") + Frame(4, t0 + 3, "k", "d")
                               : Frame(1, t0, "k", "a") + Frame(2, t0 + 1, "k", "b") +
                                     Frame(1000000, t0 + 2, "k", "jump") +
                                     Frame(4, t0 + 3, "k", "back");
    const size_t good = counter_below_first ? 0 : 3;
    {
      auto f = env->NewWritableFile(dir + "/00000000000000000001.seg");
      REQUIRE_OK(f);
      REQUIRE_OK((*f)->Append(seg));
      REQUIRE_OK((*f)->Close());
    }
    log::DiskShardLog::Options o;
    o.env = env.get();
    o.dir = dir;
    // As the Store does: counters below its persisted reservation may have
    // been handed out, so a segment started at open begins above them and
    // the damaged range keeps its numbers.
    o.min_next_counter = 100;
    log::RecoveryReport report;
    auto l = log::DiskShardLog::Open(o, &report);
    REQUIRE_OK(l);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].find("corrupt record") != std::string::npos);
    CHECK(report.truncated_bytes == 0);  // intact bytes are evidence, not a torn tail
    std::vector<Record> out;
    auto r = (*l)->Read(0, std::numeric_limits<int64_t>::min(), {100, 1 << 20}, 0, &out);
    if (good == 0) {
      // The damaged records sit between the segment's start and the new
      // segment (100): reading them fails.
      REQUIRE_ERROR(r, ErrorType::kCorruption);
    } else {
      REQUIRE_OK(r);
      REQUIRE(out.size() == good);  // the intact records before it
      for (const Record& rec : out) CHECK(rec.data != "back");
    }
    // Appends go to a new segment, above the reservation and every counter
    // read intact.
    const uint64_t next = (*l)->RecoveredNextCounter();
    CHECK(next == (counter_below_first ? 100 : 1000001));
    log::AppendRecord rec{next, t0 + 10, "k", "after"};
    REQUIRE_OK((*l)->Append({&rec, 1}));
    l->reset();
    log::RecoveryReport again;
    auto reopened = log::DiskShardLog::Open(o, &again);
    REQUIRE_OK(reopened);
    CHECK(again.truncated_bytes == 0);
    out.clear();
    REQUIRE_OK((*reopened)->Read(next, std::numeric_limits<int64_t>::min(), {1, 1 << 20}, 0, &out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].sequence_number.counter() == next);
    CHECK(out[0].data == "after");
    log::RecoveryReport verify;
    REQUIRE_OK((*reopened)->Verify(&verify));
    CHECK(verify.problems.size() == 1);
  }
}

TEST_CASE("segment crash: a counter not below the next segment's first counter is corruption",
          "[fuzz][regress][segment]") {
  // corpus/segment/crash-counter-past-next-segment: segment 1 held counters
  // 1..9, then 18446744073709551615, while the next segment started at 16.
  // Reads from a later counter started in segment 1 and returned that
  // record; last_counter + 1 also wrapped to 0.
  int64_t t0 = 1704067200000;
  auto env = NewMemEnv();
  const std::string dir = "/db/streams/s.1/0";
  REQUIRE_OK(env->CreateDirs(dir));
  auto write = [&](const std::string& name, const std::string& data) {
    auto f = env->NewWritableFile(dir + "/" + name);
    REQUIRE_OK(f);
    REQUIRE_OK((*f)->Append(data));
    REQUIRE_OK((*f)->Close());
  };
  write("00000000000000000001.seg", SegmentHeader(1) + Frame(1, t0, "k", "a") +
                                        Frame(~uint64_t{0}, t0 + 1, "k", "max") +
                                        Frame(3, t0 + 2, "k", "c"));
  write("00000000000000000016.seg", SegmentHeader(16) + Frame(16, t0 + 3, "k", "p") +
                                        Frame(17, t0 + 4, "k", "q"));
  log::DiskShardLog::Options o;
  o.env = env.get();
  o.dir = dir;
  log::RecoveryReport report;
  auto l = log::DiskShardLog::Open(o, &report);
  REQUIRE_OK(l);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].find("not below the next segment's first counter 16") != std::string::npos);
  CHECK((*l)->RecoveredNextCounter() == 18);
  std::vector<Record> out;
  REQUIRE_OK((*l)->Read(16, std::numeric_limits<int64_t>::min(), {10, 1 << 20}, 0, &out));
  REQUIRE(out.size() == 2);
  CHECK(out[0].data == "p");
  // The largest counter is never issued, so it is damage in the last
  // segment too (and last_counter + 1 would wrap).
  write("00000000000000000020.seg", SegmentHeader(20) + Frame(20, t0 + 5, "k", "r") +
                                        Frame(~uint64_t{0}, t0 + 6, "k", "max"));
  l->reset();
  log::RecoveryReport again;
  auto reopened = log::DiskShardLog::Open(o, &again);
  REQUIRE_OK(reopened);
  REQUIRE(again.problems.size() == 2);
  CHECK(again.problems[1].find("never issued") != std::string::npos);
  CHECK((*reopened)->RecoveredNextCounter() == 21);
}

}  // namespace
}  // namespace tributary
