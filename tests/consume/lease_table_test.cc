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
  bool reopenable() const { return env != nullptr; }
  std::unique_ptr<LeaseTable> table;
};

}  // namespace
}  // namespace tributary

#define TRIBUTARY_LEASE_TABLE_KINDS "memory", "durable-memenv", "durable-posix"
#include "consume/lease_table_conformance.h"

namespace tributary {
namespace {

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
