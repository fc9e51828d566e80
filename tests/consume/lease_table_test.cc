// LeaseTable implementations: the in-memory table and the durable file
// (<dir>/LEASES) on MemEnv and on the POSIX Env run the same contract tests;
// the durable one also survives reopen and power loss, reports damage, and
// serializes read-modify-write across processes with its file lock.
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "testing/fault_env.h"
#include "testing/scratch_dir.h"
#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::FaultEnv;

// A scratch directory under this executable's part of the build tree.
struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir(TRIBUTARY_CONSUMER_TEST_TMPDIR) {}
};

// One of the three tables, chosen by name.
struct TableUnderTest {
  explicit TableUnderTest(const std::string& kind) {
    if (kind == "memory") {
      table = NewInMemoryLeaseTable();
      return;
    }
    if (kind == "durable-memenv") {
      mem = NewMemEnv();
      env = mem.get();
      dir = "/data";
    } else {
      scratch = std::make_unique<ScratchDir>();
      env = DefaultEnv();
      dir = scratch->path + "/leases";
    }
    Reopen();
  }
  void Reopen() {
    auto t = OpenDurableLeaseTable(env, dir);
    REQUIRE_OK(t);
    table = std::move(t).value();
  }
  std::unique_ptr<Env> mem;
  std::unique_ptr<ScratchDir> scratch;
  Env* env = nullptr;
  std::string dir;
  std::unique_ptr<LeaseTable> table;
};

Lease FullLease(const std::string& shard) {
  Lease l;
  l.shard_id = shard;
  l.owner = "worker-1";
  l.expires_at = absl::FromUnixMicros(1704067200123456);
  l.checkpoint = CheckpointPosition::After(SequenceNumber::FromParts(42, 3));
  l.pending_checkpoint = PendingCheckpoint{SequenceNumber::FromParts(45, 3), std::string("st\0ate", 6)};
  l.parent_shard_ids = {"shardId-000000000001", "shardId-000000000002"};
  l.owner_switches = 7;
  l.handoff_to = "worker-2";
  return l;
}

void CheckSame(const Lease& a, const Lease& b) {
  CHECK(a.shard_id == b.shard_id);
  CHECK(a.owner == b.owner);
  CHECK(a.expires_at == b.expires_at);
  CHECK(a.checkpoint == b.checkpoint);
  CHECK(a.pending_checkpoint.has_value() == b.pending_checkpoint.has_value());
  if (a.pending_checkpoint && b.pending_checkpoint) CHECK(*a.pending_checkpoint == *b.pending_checkpoint);
  CHECK(a.parent_shard_ids == b.parent_shard_ids);
  CHECK(a.owner_switches == b.owner_switches);
  CHECK(a.handoff_to == b.handoff_to);
}

TEST_CASE("lease tables: conditional create, update and delete", "[consume][lease_table]") {
  const std::string kind = GENERATE("memory", "durable-memenv", "durable-posix");
  INFO(kind);
  TableUnderTest t(kind);
  LeaseTable& table = *t.table;
  const LeaseScope scope{"app", "orders"};
  const LeaseScope other{"app", "payments"};

  auto none = table.ListLeases(scope);
  REQUIRE_OK(none);
  CHECK(none->empty());

  Lease l = FullLease("shardId-000000000005");
  l.version = 99;  // ignored: a new lease starts at version 1
  auto created = table.CreateLease(scope, l);
  REQUIRE_OK(created);
  CHECK(created->version == 1);
  CheckSame(*created, l);
  CHECK_THAT(table.CreateLease(scope, l).status(), testing::HasCode(absl::StatusCode::kAlreadyExists));
  CHECK_ERROR(table.CreateLease(scope, l), ErrorType::kResourceInUse);

  // Compare-and-set: the writer that read version 1 wins once.
  Lease a = *created, b = *created;
  a.owner = "a";
  b.owner = "b";
  auto wa = table.UpdateLease(scope, a);
  REQUIRE_OK(wa);
  CHECK(wa->version == 2);
  auto wb = table.UpdateLease(scope, b);
  CHECK_THAT(wb.status(), testing::HasCode(absl::StatusCode::kAborted));
  CHECK_ERROR(wb, ErrorType::kResourceInUse);
  auto got = table.GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  REQUIRE(got->has_value());
  CHECK((*got)->owner == "a");
  CHECK((*got)->version == 2);

  Lease missing = l;
  missing.shard_id = "shardId-000000000009";
  CHECK_ERROR(table.UpdateLease(scope, missing), ErrorType::kResourceNotFound);
  CHECK_ERROR(table.UpdateLease(other, *wa), ErrorType::kResourceNotFound);  // scopes are separate

  // Special times and positions round-trip.
  Lease c = *wa;
  c.expires_at = absl::InfinitePast();
  c.checkpoint = CheckpointPosition::AtTimestamp(absl::FromUnixMillis(1700000000000));
  c.pending_checkpoint.reset();
  c.parent_shard_ids.clear();
  auto wc = table.UpdateLease(scope, c);
  REQUIRE_OK(wc);
  got = table.GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  CheckSame(**got, c);
  c = **got;
  c.checkpoint = CheckpointPosition::ShardEnd();
  REQUIRE_OK(table.UpdateLease(scope, c));

  // Listing is by shard id; deleting needs the current version.
  REQUIRE_OK(table.CreateLease(scope, FullLease("shardId-000000000001")));
  auto list = table.ListLeases(scope);
  REQUIRE_OK(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].shard_id == "shardId-000000000001");
  CHECK((*list)[1].shard_id == "shardId-000000000005");
  CHECK((*list)[1].checkpoint.is_shard_end());
  CHECK_ERROR(table.DeleteLease(scope, "shardId-000000000005", 1), ErrorType::kResourceInUse);
  REQUIRE_OK(table.DeleteLease(scope, "shardId-000000000005", (*list)[1].version));
  REQUIRE_OK(table.DeleteLease(scope, "shardId-000000000005", 123));  // already gone: fine
  list = table.ListLeases(scope);
  REQUIRE_OK(list);
  CHECK(list->size() == 1);

  // Scope records: the first writer wins; DeleteScope drops the leases too.
  ScopeRecord r1;
  r1.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  r1.stream_creation_timestamp = absl::FromUnixSeconds(1704067200);
  r1.initial_position = InitialPosition::AtTimestamp(absl::FromUnixSeconds(1704067300));
  r1.created_at = absl::FromUnixSeconds(1704067400);
  r1.initial_shard_ids = {"shardId-000000000000", "shardId-000000000001"};
  ScopeRecord r2 = r1;
  r2.initial_shard_ids = {"shardId-000000000007"};
  auto s1 = table.CreateScope(scope, r1);
  REQUIRE_OK(s1);
  auto s2 = table.CreateScope(scope, r2);
  REQUIRE_OK(s2);
  CHECK(s2->initial_shard_ids == r1.initial_shard_ids);
  auto gs = table.GetScope(scope);
  REQUIRE_OK(gs);
  REQUIRE(gs->has_value());
  CHECK((*gs)->stream_arn == r1.stream_arn);
  CHECK((*gs)->stream_creation_timestamp == r1.stream_creation_timestamp);
  CHECK((*gs)->initial_position.type == InitialPosition::Type::kAtTimestamp);
  CHECK((*gs)->initial_position.timestamp == r1.initial_position.timestamp);
  CHECK((*gs)->created_at == r1.created_at);
  auto no_scope = table.GetScope(other);
  REQUIRE_OK(no_scope);
  CHECK_FALSE(no_scope->has_value());
  REQUIRE_OK(table.DeleteScope(scope));
  list = table.ListLeases(scope);
  REQUIRE_OK(list);
  CHECK(list->empty());
  gs = table.GetScope(scope);
  REQUIRE_OK(gs);
  CHECK_FALSE(gs->has_value());

  CHECK_ERROR(table.ListLeases(LeaseScope{"", "orders"}), ErrorType::kInvalidArgument);
  Lease unnamed;
  CHECK_ERROR(table.CreateLease(scope, unnamed), ErrorType::kInvalidArgument);
  Lease big = FullLease("shardId-000000000003");
  big.pending_checkpoint->state.assign(kMaxPendingStateBytes + 1, 'x');
  CHECK_ERROR(table.CreateLease(scope, big), ErrorType::kInvalidArgument);
}

TEST_CASE("lease tables: positions inside a KPL aggregate round-trip", "[consume][lease_table][kpl]") {
  const std::string kind = GENERATE("memory", "durable-memenv", "durable-posix");
  INFO(kind);
  TableUnderTest t(kind);
  const LeaseScope scope{"app", "orders"};
  Lease l = FullLease("shardId-000000000003");
  l.checkpoint = CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(42, 3), 0);
  l.pending_checkpoint->sub_sequence_number = 17;
  REQUIRE_OK(t.table->CreateLease(scope, l));
  if (t.env) t.Reopen();
  auto got = t.table->GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  REQUIRE(got->has_value());
  CheckSame(**got, l);
  CHECK((*got)->checkpoint.sub_sequence_number == 0);  // 0 is a user record, not "whole"
  CHECK((*got)->checkpoint.is_within_aggregate());
  CHECK((*got)->pending_checkpoint->position() ==
        CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(45, 3), 17));
  CHECK((*got)->checkpoint.ToString() == SequenceNumber::FromParts(42, 3).ToString() + "/0");

  // Back to a whole record: the sub-sequence number is gone, not kept.
  Lease whole = **got;
  whole.checkpoint = CheckpointPosition::After(SequenceNumber::FromParts(42, 3));
  whole.pending_checkpoint.reset();
  REQUIRE_OK(t.table->UpdateLease(scope, whole));
  if (t.env) t.Reopen();
  got = t.table->GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  CHECK_FALSE((*got)->checkpoint.sub_sequence_number.has_value());
  CHECK_FALSE((*got)->checkpoint.is_within_aggregate());

  // A sub-sequence number needs a sequence number, and is never negative.
  Lease bad = FullLease("shardId-000000000004");
  bad.checkpoint = CheckpointPosition::TrimHorizon();
  bad.checkpoint.sub_sequence_number = 2;
  CHECK_ERROR(t.table->CreateLease(scope, bad), ErrorType::kInvalidArgument);
  bad.checkpoint = CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(1, 4), -1);
  CHECK_ERROR(t.table->CreateLease(scope, bad), ErrorType::kInvalidArgument);
  bad = FullLease("shardId-000000000004");
  bad.pending_checkpoint->sub_sequence_number = -3;
  CHECK_ERROR(t.table->CreateLease(scope, bad), ErrorType::kInvalidArgument);
}

void WriteWholeFile(Env* env, const std::string& path, std::string_view data) {
  auto f = env->NewWritableFile(path);
  REQUIRE_OK(f);
  REQUIRE_OK((*f)->Append(data));
  REQUIRE_OK((*f)->Close());
}

std::string ReadWholeFile(Env* env, const std::string& path) {
  auto size = env->GetFileSize(path);
  REQUIRE_OK(size);
  auto f = env->NewRandomAccessFile(path);
  REQUIRE_OK(f);
  std::string scratch(*size, '\0');
  auto got = (*f)->Read(0, *size, scratch.data());
  REQUIRE_OK(got);
  return std::string(*got);
}

// A version 1 LEASES file (before sub-sequence numbers), written byte by byte
// from docs/FORMAT.md, as a Tributary of that time left it.
std::string VersionOneImage() {
  std::string out("TRBLEAS\1", 8);
  auto u8 = [&](uint8_t v) { out.push_back(static_cast<char>(v)); };
  auto le = [&](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto str = [&](std::string_view s) {
    le(s.size(), 4);
    out.append(s);
  };
  le(1, 4);   // version
  le(9, 8);   // generation
  le(1, 4);   // scopes
  str("app");
  str("orders");
  u8(0);      // no scope record
  le(1, 4);   // leases
  str("shardId-000000000003");
  le(5, 8);   // version
  str("worker-1");
  le(static_cast<uint64_t>(int64_t{1704067200123456}), 8);
  u8(4);      // checkpoint: a sequence number
  str(SequenceNumber::FromParts(42, 3).ToString());
  le(0, 8);   // timestamp
  u8(1);      // pending
  str(SequenceNumber::FromParts(45, 3).ToString());
  str("state");
  le(0, 4);   // parents
  le(2, 8);   // owner switches
  str("");    // handoff_to
  le(XXH3_64bits(out.data(), out.size()), 8);
  return out;
}

TEST_CASE("durable lease table: a version 1 file is read, and rewritten as version 2",
          "[consume][lease_table][durable]") {
  auto mem = NewMemEnv();
  REQUIRE_OK(mem->CreateDirs("/data"));
  const std::string v1 = VersionOneImage();
  WriteWholeFile(mem.get(), "/data/LEASES", v1);
  auto t = OpenDurableLeaseTable(mem.get(), "/data");
  REQUIRE_OK(t);
  const LeaseScope scope{"app", "orders"};
  auto got = (*t)->GetLease(scope, "shardId-000000000003");
  REQUIRE_OK(got);
  REQUIRE(got->has_value());
  const Lease& l = **got;
  CHECK(l.version == 5);
  CHECK(l.owner == "worker-1");
  CHECK(l.checkpoint == CheckpointPosition::After(SequenceNumber::FromParts(42, 3)));
  REQUIRE(l.pending_checkpoint.has_value());
  CHECK(l.pending_checkpoint->position() == CheckpointPosition::After(SequenceNumber::FromParts(45, 3)));
  CHECK(l.pending_checkpoint->state == "state");
  CHECK(l.owner_switches == 2);

  Lease next = l;
  next.checkpoint = CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(45, 3), 1);
  REQUIRE_OK((*t)->UpdateLease(scope, next));
  const std::string image = ReadWholeFile(mem.get(), "/data/LEASES");
  REQUIRE(image.size() > 12);
  CHECK(image.substr(8, 4) == std::string("\2\0\0\0", 4));
  auto reopened = OpenDurableLeaseTable(mem.get(), "/data");
  REQUIRE_OK(reopened);
  got = (*reopened)->GetLease(scope, "shardId-000000000003");
  REQUIRE_OK(got);
  CHECK((*got)->checkpoint == next.checkpoint);

  // A version from the future is refused, not guessed at.
  std::string v3 = v1;
  v3[8] = 3;
  const uint64_t sum = XXH3_64bits(v3.data(), v3.size() - 8);
  for (int i = 0; i < 8; ++i) v3[v3.size() - 8 + i] = static_cast<char>((sum >> (8 * i)) & 0xFF);
  WriteWholeFile(mem.get(), "/data/LEASES", v3);
  CHECK_ERROR((*reopened)->ListLeases(scope), ErrorType::kCorruption);
}

TEST_CASE("durable lease table: reopened, it holds what was written", "[consume][lease_table][durable]") {
  const std::string kind = GENERATE("durable-memenv", "durable-posix");
  INFO(kind);
  TableUnderTest t(kind);
  const LeaseScope scope{"app", "orders"};
  REQUIRE_OK(t.table->CreateLease(scope, FullLease("shardId-000000000000")));
  auto l = t.table->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(l);
  Lease next = **l;
  next.owner = "worker-9";
  REQUIRE_OK(t.table->UpdateLease(scope, next));
  t.Reopen();
  auto again = t.table->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(again);
  REQUIRE(again->has_value());
  CHECK((*again)->version == 2);
  CHECK((*again)->owner == "worker-9");
  CHECK(t.env->FileExists(t.dir + "/LEASES"));
  CHECK_FALSE(t.env->FileExists(t.dir + "/LEASES.tmp"));
}

TEST_CASE("durable lease table: a damaged file fails the operations that read it",
          "[consume][lease_table][corruption]") {
  auto mem = NewMemEnv();
  FaultEnv env(mem.get());
  auto t = OpenDurableLeaseTable(&env, "/data");
  REQUIRE_OK(t);
  const LeaseScope scope{"app", "orders"};
  REQUIRE_OK((*t)->CreateLease(scope, FullLease("shardId-000000000000")));
  auto size = env.GetFileSize("/data/LEASES");
  REQUIRE_OK(size);
  SECTION("a flipped byte") { REQUIRE_OK(env.CorruptByte("/data/LEASES", *size / 2)); }
  SECTION("a truncated file") { REQUIRE_OK(env.TruncateTo("/data/LEASES", *size - 3)); }
  SECTION("a flipped checksum byte") { REQUIRE_OK(env.CorruptByte("/data/LEASES", *size - 1)); }
  auto list = (*t)->ListLeases(scope);
  CHECK_THAT(list.status(), testing::HasCode(absl::StatusCode::kDataLoss));
  CHECK_ERROR(list, ErrorType::kCorruption);
  // Writes refuse too: they would have to guess the rest of the table.
  CHECK_ERROR((*t)->CreateLease(scope, FullLease("shardId-000000000001")), ErrorType::kCorruption);
}

TEST_CASE(
    "durable lease table: a failed write leaves the committed state, a committed one survives power loss",
    "[consume][lease_table][fault]") {
  auto mem = NewMemEnv();
  FaultEnv env(mem.get());
  auto t = OpenDurableLeaseTable(&env, "/data");
  REQUIRE_OK(t);
  const LeaseScope scope{"app", "orders"};
  auto created = (*t)->CreateLease(scope, FullLease("shardId-000000000000"));
  REQUIRE_OK(created);
  Lease next = *created;
  next.owner = "lost-update";
  const auto op =
      GENERATE(FaultEnv::Op::kAppend, FaultEnv::Op::kSync, FaultEnv::Op::kRename, FaultEnv::Op::kSyncDir);
  env.FailNth(op, 1);
  auto failed = (*t)->UpdateLease(scope, next);
  REQUIRE_FALSE(failed.ok());
  if (op != FaultEnv::Op::kSyncDir) {
    // The rename (the commit point) did not happen: the old lease stands.
    auto l = (*t)->GetLease(scope, "shardId-000000000000");
    REQUIRE_OK(l);
    CHECK((*l)->version == 1);
    CHECK((*l)->owner == "worker-1");
  }
  // A write that completes is durable: power loss keeps it.
  auto l = (*t)->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(l);
  next = **l;
  next.owner = "kept";
  REQUIRE_OK((*t)->UpdateLease(scope, next));
  REQUIRE_OK(env.DropUnsyncedData());
  auto reopened = OpenDurableLeaseTable(&env, "/data");
  REQUIRE_OK(reopened);
  auto after = (*reopened)->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(after);
  REQUIRE(after->has_value());
  CHECK((*after)->owner == "kept");
}

// Two processes increment one lease's counter by compare-and-set, retrying
// on conflicts. The file lock serializes their read-modify-write cycles, so
// no increment is lost.
TEST_CASE("durable lease table: processes sharing the directory never lose an update",
          "[consume][lease_table][process]") {
  ScratchDir scratch;
  const std::string dir = scratch.path + "/shared";
  const LeaseScope scope{"app", "orders"};
  {
    auto t = OpenDurableLeaseTable(DefaultEnv(), dir);
    REQUIRE_OK(t);
    Lease l;
    l.shard_id = "shardId-000000000000";
    REQUIRE_OK((*t)->CreateLease(scope, l));
  }
  constexpr int kIncrements = 60;
  auto bump = [&](const std::string& who) -> bool {
    auto t = OpenDurableLeaseTable(DefaultEnv(), dir);
    if (!t.ok()) return false;
    for (int i = 0; i < kIncrements;) {
      auto l = (*t)->GetLease(scope, "shardId-000000000000");
      if (!l.ok() || !l->has_value()) return false;
      Lease next = **l;
      next.owner_switches++;
      next.owner = who;
      auto w = (*t)->UpdateLease(scope, next);
      if (w.ok()) {
        ++i;
      } else if (w.status().code() != absl::StatusCode::kAborted) {
        return false;
      }
    }
    return true;
  };
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(bump("child") ? 0 : 1);
  const bool parent_ok = bump("parent");
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(parent_ok);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto t = OpenDurableLeaseTable(DefaultEnv(), dir);
  REQUIRE_OK(t);
  auto l = (*t)->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(l);
  // The counters are uint64_t: multiply in that type, not in int.
  CHECK((*l)->owner_switches == uint64_t{2} * kIncrements);
  CHECK((*l)->version == 1 + uint64_t{2} * kIncrements);
}

TEST_CASE("LeaseTableFor: the store's own table", "[consume][lease_table]") {
  SECTION("an in-memory store owns one in-memory table") {
    auto store = Store::OpenInMemory();
    REQUIRE_OK(store);
    auto a = LeaseTableFor(**store);
    auto b = LeaseTableFor(**store);
    REQUIRE_OK(a);
    REQUIRE_OK(b);
    CHECK(a->get() == b->get());
    auto other = Store::OpenInMemory();
    REQUIRE_OK(other);
    auto c = LeaseTableFor(**other);
    REQUIRE_OK(c);
    CHECK(c->get() != a->get());
  }
  SECTION("a durable store keeps LEASES in its directory and reopens over it") {
    auto mem = NewMemEnv();
    StoreOptions o;
    o.env = mem.get();
    const LeaseScope scope{"app", "orders"};
    {
      auto store = Store::Open("/db", o);
      REQUIRE_OK(store);
      CHECK((*store)->directory() == "/db");
      CHECK((*store)->env() == mem.get());
      auto t = LeaseTableFor(**store);
      REQUIRE_OK(t);
      REQUIRE_OK((*t)->CreateLease(scope, FullLease("shardId-000000000000")));
    }
    CHECK(mem->FileExists("/db/LEASES"));
    auto store = Store::Open("/db", o);
    REQUIRE_OK(store);
    auto t = LeaseTableFor(**store);
    REQUIRE_OK(t);
    auto l = (*t)->GetLease(scope, "shardId-000000000000");
    REQUIRE_OK(l);
    CHECK(l->has_value());
  }
}

}  // namespace
}  // namespace tributary
