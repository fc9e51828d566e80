// FaultEnv (tests/testing/fault_env.h): simulated power loss and injected
// I/O errors, over both the POSIX Env and a MemEnv.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "env/env_test_util.h"
#include "testing/fault_env.h"
#include "testing/status_matchers.h"
#include "tributary/env.h"
#include "tributary/status.h"

namespace tributary {
namespace {

using testing::FaultEnv;
using testing::HasCode;
using testing::ReadFile;
using testing::SortedChildren;
using testing::WriteFile;
using Names = std::vector<std::string>;
using Op = FaultEnv::Op;

// Creates `path` through `env`, makes its creation durable, and returns the
// open file.
std::unique_ptr<WritableFile> CreateDurable(FaultEnv& env, const std::string& dir,
                                            const std::string& path) {
  ASSIGN_OR_REQUIRE(auto f, env.NewWritableFile(path));
  REQUIRE_OK(env.SyncDir(dir));
  return f;
}

TEST_CASE("after DropUnsyncedData only synced bytes remain", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string a = t.Path("a.log");
  const std::string b = t.Path("b.log");
  auto fa = CreateDurable(fenv, t.root(), a);
  auto fb = CreateDurable(fenv, t.root(), b);
  REQUIRE_OK(fa->Append("synced|"));
  REQUIRE_OK(fa->Append("also synced|"));
  REQUIRE_OK(fa->Sync());
  REQUIRE_OK(fa->Append("lost"));
  REQUIRE_OK(fb->Append("never synced"));
  CHECK(fenv.SyncedSize(a) == 19u);
  CHECK(fenv.SyncedSize(b) == 0u);

  REQUIRE_OK(fenv.DropUnsyncedData());
  {
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(&fenv, a));
    CHECK(content == "synced|also synced|");
  }
  {
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(&fenv, b));
    CHECK(content.empty());
  }
  // What is left is durable: a second crash changes nothing, and files
  // reopened for append continue from there.
  fa.reset();
  fb.reset();
  REQUIRE_OK(fenv.DropUnsyncedData());
  ASSIGN_OR_REQUIRE(auto again, fenv.NewAppendableFile(a));
  CHECK(again->Size() == 19);
  REQUIRE_OK(again->Append("tail"));
  REQUIRE_OK(fenv.DropUnsyncedData());
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(&fenv, a));
  CHECK(content == "synced|also synced|");
}

TEST_CASE("a file that existed before the FaultEnv only loses what is appended unsynced",
          "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("old");
  REQUIRE_OK(WriteFile(t.env(), path, "durable|"));
  FaultEnv fenv(t.env());
  ASSIGN_OR_REQUIRE(auto f, fenv.NewAppendableFile(path));
  REQUIRE_OK(f->Append("unsynced"));
  REQUIRE_OK(fenv.DropUnsyncedData());
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(&fenv, path));
  CHECK(content == "durable|");
}

TEST_CASE("a file whose creation was not made durable by SyncDir is gone after a crash",
          "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("seg");
  ASSIGN_OR_REQUIRE(auto f, fenv.NewWritableFile(path));
  REQUIRE_OK(f->Append("data"));
  REQUIRE_OK(f->Sync());  // data synced, directory entry not
  REQUIRE_OK(fenv.DropUnsyncedData());
  CHECK_FALSE(fenv.FileExists(path));
  ASSIGN_OR_REQUIRE(auto names, SortedChildren(&fenv, t.root()));
  CHECK(names.empty());
}

TEST_CASE("a rename is undone by a crash unless its directory was synced", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string tmp = t.Path("CURRENT.tmp");
  const std::string cur = t.Path("CURRENT");
  REQUIRE_OK(WriteFile(&fenv, cur, "v1"));
  REQUIRE_OK(WriteFile(&fenv, tmp, "v2"));
  REQUIRE_OK(fenv.SyncDir(t.root()));
  REQUIRE_OK(fenv.RenameFile(tmp, cur));

  SECTION("no SyncDir: both names come back with their synced bytes") {
    REQUIRE_OK(fenv.DropUnsyncedData());
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, cur));
    CHECK(c == "v1");
    ASSIGN_OR_REQUIRE(std::string tmp_content, ReadFile(&fenv, tmp));
    CHECK(tmp_content == "v2");
  }
  SECTION("SyncDir: the rename survives and carries the synced bytes") {
    REQUIRE_OK(fenv.SyncDir(t.root()));
    REQUIRE_OK(fenv.DropUnsyncedData());
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, cur));
    CHECK(c == "v2");
    CHECK_FALSE(fenv.FileExists(tmp));
  }
}

TEST_CASE("a rename carries the synced size of an open file", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string from = t.Path("seg.open");
  const std::string to = t.Path("seg.done");
  auto f = CreateDurable(fenv, t.root(), from);
  REQUIRE_OK(f->Append("abc"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fenv.RenameFile(from, to));
  REQUIRE_OK(fenv.SyncDir(t.root()));
  REQUIRE_OK(f->Append("def"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Append("ghi"));
  CHECK(fenv.SyncedSize(to) == 6u);
  CHECK_FALSE(fenv.SyncedSize(from).has_value());
  REQUIRE_OK(fenv.DropUnsyncedData());
  ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, to));
  CHECK(c == "abcdef");
  CHECK_FALSE(fenv.FileExists(from));
}

TEST_CASE("a removal is undone by a crash unless its directory was synced", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("old.seg");
  auto f = CreateDurable(fenv, t.root(), path);
  REQUIRE_OK(f->Append("kept"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Append("lost"));
  REQUIRE_OK(f->Close());
  REQUIRE_OK(fenv.RemoveFile(path));
  CHECK_FALSE(fenv.FileExists(path));

  SECTION("no SyncDir: the file comes back with its synced bytes") {
    REQUIRE_OK(fenv.DropUnsyncedData());
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
    CHECK(c == "kept");
  }
  SECTION("SyncDir: the file stays removed") {
    REQUIRE_OK(fenv.SyncDir(t.root()));
    REQUIRE_OK(fenv.DropUnsyncedData());
    CHECK_FALSE(fenv.FileExists(path));
  }
}

TEST_CASE("SyncDir of one directory does not make another's entries durable", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  REQUIRE_OK(fenv.CreateDirs(t.Path("s1")));
  REQUIRE_OK(fenv.CreateDirs(t.Path("s2")));
  REQUIRE_OK(WriteFile(&fenv, t.Path("s1/x"), "1"));
  REQUIRE_OK(WriteFile(&fenv, t.Path("s2/x"), "2"));
  REQUIRE_OK(fenv.SyncDir(t.Path("s1")));
  REQUIRE_OK(fenv.DropUnsyncedData());
  CHECK(fenv.FileExists(t.Path("s1/x")));
  CHECK_FALSE(fenv.FileExists(t.Path("s2/x")));
}

TEST_CASE("handles opened before a crash cannot write after it", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("f");
  auto f = CreateDurable(fenv, t.root(), path);
  REQUIRE_OK(f->Append("a"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fenv.DropUnsyncedData());
  CHECK_ERROR(f->Append("b"), ErrorType::kInternalFailure);
  CHECK_ERROR(f->Sync(), ErrorType::kInternalFailure);
  CHECK_OK(f->Close());
  ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
  CHECK(c == "a");
}

TEST_CASE("TruncateFile lowers the synced size", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("f");
  auto f = CreateDurable(fenv, t.root(), path);
  REQUIRE_OK(f->Append("0123456789"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Close());
  REQUIRE_OK(fenv.TruncateFile(path, 4));
  CHECK(fenv.SyncedSize(path) == 4u);
  ASSIGN_OR_REQUIRE(auto g, fenv.NewAppendableFile(path));
  REQUIRE_OK(g->Append("xy"));
  REQUIRE_OK(fenv.DropUnsyncedData());
  ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
  CHECK(c == "0123");
}

TEST_CASE("FailNth fails exactly the n-th call of its kind", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("f");
  auto f = CreateDurable(fenv, t.root(), path);

  SECTION("append: the failed append writes nothing") {
    fenv.FailNth(Op::kAppend, 3);
    REQUIRE_OK(f->Append("1"));
    REQUIRE_OK(f->Append("2"));
    CHECK_ERROR(f->Append("3"), ErrorType::kInternalFailure);
    REQUIRE_OK(f->Append("4"));
    REQUIRE_OK(f->Append("5"));
    REQUIRE_OK(f->Close());
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
    CHECK(c == "1245");
    CHECK(fenv.CallCount(Op::kAppend) == 5);
  }
  SECTION("a custom status is returned as given") {
    fenv.FailNth(Op::kAppend, 1,
                 MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption, "custom"));
    absl::Status s = f->Append("x");
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(GetErrorType(s) == ErrorType::kCorruption);
    CHECK(s.message() == "custom");
    REQUIRE_OK(f->Append("x"));
  }
  SECTION("the default status is an Internal I/O error") {
    fenv.FailNth(Op::kAppend, 1);
    absl::Status s = f->Append("x");
    CHECK_THAT(s, HasCode(absl::StatusCode::kInternal));
    CHECK(GetErrorType(s) == ErrorType::kInternalFailure);
    CHECK_THAT(std::string(s.message()), Catch::Contains(path));
  }
  SECTION("sync: a failed sync does not advance the synced size") {
    fenv.FailNth(Op::kSync, 2);
    REQUIRE_OK(f->Append("a"));
    REQUIRE_OK(f->Sync());
    REQUIRE_OK(f->Append("b"));
    CHECK_ERROR(f->Sync(), ErrorType::kInternalFailure);
    CHECK(fenv.SyncedSize(path) == 1u);
    REQUIRE_OK(fenv.DropUnsyncedData());
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
    CHECK(c == "a");
  }
  SECTION("two pending failures of one kind count from when each was set") {
    fenv.FailNth(Op::kAppend, 2);
    REQUIRE_OK(f->Append("1"));
    fenv.FailNth(Op::kAppend, 2);
    CHECK_FALSE(f->Append("2").ok());
    CHECK_FALSE(f->Append("3").ok());
    REQUIRE_OK(f->Append("4"));
  }
  SECTION("open, rename, remove, syncdir, truncate, open-for-read and read") {
    REQUIRE_OK(f->Close());
    fenv.FailNth(Op::kOpen, 2);
    REQUIRE_OK(fenv.NewWritableFile(t.Path("g")));
    CHECK_ERROR(fenv.NewAppendableFile(t.Path("h")), ErrorType::kInternalFailure);
    CHECK_FALSE(fenv.FileExists(t.Path("h")));
    REQUIRE_OK(fenv.NewAppendableFile(t.Path("h")));

    fenv.FailNth(Op::kRename, 1);
    CHECK_ERROR(fenv.RenameFile(t.Path("g"), t.Path("g2")), ErrorType::kInternalFailure);
    CHECK(fenv.FileExists(t.Path("g")));
    REQUIRE_OK(fenv.RenameFile(t.Path("g"), t.Path("g2")));

    fenv.FailNth(Op::kRemove, 1);
    CHECK_ERROR(fenv.RemoveFile(t.Path("h")), ErrorType::kInternalFailure);
    CHECK(fenv.FileExists(t.Path("h")));
    REQUIRE_OK(fenv.RemoveFile(t.Path("h")));

    fenv.FailNth(Op::kSyncDir, 1);
    CHECK_ERROR(fenv.SyncDir(t.root()), ErrorType::kInternalFailure);
    REQUIRE_OK(fenv.SyncDir(t.root()));

    fenv.FailNth(Op::kTruncate, 1);
    CHECK_ERROR(fenv.TruncateFile(t.Path("g2"), 0), ErrorType::kInternalFailure);
    REQUIRE_OK(fenv.TruncateFile(t.Path("g2"), 0));

    fenv.FailNth(Op::kOpenRead, 1);
    CHECK_ERROR(fenv.NewRandomAccessFile(path), ErrorType::kInternalFailure);
    ASSIGN_OR_REQUIRE(auto r, fenv.NewRandomAccessFile(path));
    fenv.FailNth(Op::kRead, 2);
    char scratch[4];
    REQUIRE_OK(r->Read(0, 1, scratch));
    CHECK_ERROR(r->Read(0, 1, scratch), ErrorType::kInternalFailure);
    REQUIRE_OK(r->Read(0, 1, scratch));
  }
  SECTION("ClearFailures drops pending failures") {
    fenv.FailNth(Op::kAppend, 1);
    fenv.ClearFailures();
    REQUIRE_OK(f->Append("x"));
  }
}

TEST_CASE("no space makes every Append fail with ResourceExhausted", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("f");
  auto f = CreateDurable(fenv, t.root(), path);
  REQUIRE_OK(f->Append("ok"));
  fenv.SetNoSpace(true);
  for (int i = 0; i < 3; ++i) {
    absl::Status s = f->Append("more");
    CHECK_THAT(s, HasCode(absl::StatusCode::kResourceExhausted));
    CHECK(GetErrorType(s) == ErrorType::kInternalFailure);
    CHECK_THAT(std::string(s.message()), Catch::Contains("No space left on device"));
  }
  CHECK(f->Size() == 2);
  REQUIRE_OK(f->Sync());  // only appends run out of space
  fenv.SetNoSpace(false);
  REQUIRE_OK(f->Append("!"));
  REQUIRE_OK(f->Close());
  ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
  CHECK(c == "ok!");
}

TEST_CASE("read-only refuses every write and still serves reads", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("f");
  auto f = CreateDurable(fenv, t.root(), path);
  REQUIRE_OK(f->Append("abc"));
  fenv.SetReadOnly(true);
  CHECK_ERROR(f->Append("d"), ErrorType::kInternalFailure);
  CHECK_ERROR(f->Sync(), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.NewWritableFile(t.Path("g")), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.NewAppendableFile(path), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.RenameFile(path, t.Path("g")), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.RemoveFile(path), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.TruncateFile(path, 0), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.SyncDir(t.root()), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.CreateDirs(t.Path("d")), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.RemoveDir(t.root()), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.LockFile(t.Path("LOCK")), ErrorType::kInternalFailure);
  CHECK_FALSE(fenv.FileExists(t.Path("g")));
  ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
  CHECK(c == "abc");
  ASSIGN_OR_REQUIRE(auto names, SortedChildren(&fenv, t.root()));
  CHECK(names == Names{"f"});
  fenv.SetReadOnly(false);
  REQUIRE_OK(f->Append("d"));
  REQUIRE_OK(f->Close());
}

TEST_CASE("CorruptByte flips one byte in place and TruncateTo cuts the file", "[env][fault]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("f");
  auto f = CreateDurable(fenv, t.root(), path);
  REQUIRE_OK(f->Append("abcdef"));
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(fenv.CorruptByte(path, 2));
  {
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
    REQUIRE(c.size() == 6);
    CHECK(c.substr(0, 2) == "ab");
    CHECK(static_cast<unsigned char>(c[2]) == static_cast<unsigned char>(~'c' & 0xff));
    CHECK(c.substr(3) == "def");
  }
  // The open writer still appends to the same file.
  REQUIRE_OK(f->Append("gh"));
  REQUIRE_OK(f->Close());
  CHECK_ERROR(fenv.CorruptByte(path, 100), ErrorType::kInternalFailure);
  CHECK_ERROR(fenv.CorruptByte(t.Path("missing"), 0), ErrorType::kInternalFailure);

  REQUIRE_OK(fenv.TruncateTo(path, 3));
  ASSIGN_OR_REQUIRE(uint64_t size, fenv.GetFileSize(path));
  CHECK(size == 3);
  CHECK(fenv.SyncedSize(path) == 3u);
}

TEST_CASE("FaultEnv is safe to use from several threads", "[env][fault]") {
  auto mem = NewMemEnv();
  FaultEnv fenv(mem.get());
  REQUIRE_OK(fenv.CreateDirs("/d"));
  fenv.FailNth(Op::kAppend, 50);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&fenv, &failures, i] {
      auto f = fenv.NewWritableFile("/d/f" + std::to_string(i));
      if (!f.ok()) return;
      for (int k = 0; k < 100; ++k) {
        if (!(*f)->Append("x").ok()) ++failures;
        if (k % 10 == 0 && !(*f)->Sync().ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 1);
  CHECK(fenv.CallCount(Op::kAppend) == 400);
  uint64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    ASSIGN_OR_REQUIRE(uint64_t size, fenv.GetFileSize("/d/f" + std::to_string(i)));
    total += size;
  }
  CHECK(total == 399);
}

TEST_CASE("crash loop: synced records survive in order, unsynced ones vanish whole",
          "[env][fault]") {
  // A miniature of the log crash-recovery test: records are fixed-size, each
  // batch is synced or not, and after the crash the file must hold exactly
  // the synced prefix.
  TRIBUTARY_FOR_EACH_ENV(t);
  FaultEnv fenv(t.env());
  const std::string path = t.Path("log");
  auto record = [](int i) {
    std::string r = std::to_string(1000 + i);
    return r + "|";
  };
  int synced_records = 0;
  int written = 0;
  for (int round = 0; round < 5; ++round) {
    {
      ASSIGN_OR_REQUIRE(auto f, fenv.NewAppendableFile(path));
      if (round == 0) REQUIRE_OK(fenv.SyncDir(t.root()));
      REQUIRE(f->Size() == static_cast<uint64_t>(synced_records) * 5);
      written = synced_records;
      for (int batch = 0; batch < 4; ++batch) {
        for (int k = 0; k < 3; ++k) REQUIRE_OK(f->Append(record(written++)));
        if ((round + batch) % 2 == 0) {
          REQUIRE_OK(f->Sync());
          synced_records = written;
        }
      }
      REQUIRE_OK(fenv.DropUnsyncedData());
    }
    ASSIGN_OR_REQUIRE(std::string c, ReadFile(&fenv, path));
    std::string want;
    for (int i = 0; i < synced_records; ++i) want += record(i);
    CHECK(c == want);
  }
}

}  // namespace
}  // namespace tributary
