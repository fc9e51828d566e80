// Behaviour of the Env implementations (tributary/env.h): every test runs
// against the POSIX Env (in a scratch directory under the build tree) and
// against a MemEnv, so the two stay interchangeable.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "env/env_test_util.h"
#include "testing/status_matchers.h"
#include "tributary/env.h"
#include "tributary/status.h"

namespace tributary {
namespace {

using testing::HasCode;
using testing::ReadFile;
using testing::SortedChildren;
using testing::WriteFile;
using Names = std::vector<std::string>;

TEST_CASE("a written file holds the appended bytes and reports its size", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  ASSIGN_OR_REQUIRE(auto f, t.env()->NewWritableFile(path));
  CHECK(f->Size() == 0);
  REQUIRE_OK(f->Append("hello"));
  CHECK(f->Size() == 5);
  REQUIRE_OK(f->Append(""));
  REQUIRE_OK(f->Append(std::string("\0 world", 7)));
  CHECK(f->Size() == 12);
  REQUIRE_OK(f->Sync());
  REQUIRE_OK(f->Close());
  CHECK(t.env()->FileExists(path));
  ASSIGN_OR_REQUIRE(uint64_t size, t.env()->GetFileSize(path));
  CHECK(size == 12);
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
  CHECK(content == std::string("hello\0 world", 12));
}

TEST_CASE("NewWritableFile truncates an existing file", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "old content"));
  ASSIGN_OR_REQUIRE(auto f, t.env()->NewWritableFile(path));
  CHECK(f->Size() == 0);
  REQUIRE_OK(f->Append("new"));
  REQUIRE_OK(f->Close());
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
  CHECK(content == "new");
}

TEST_CASE("an appendable reopen keeps the content and appends after it", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "first|"));
  {
    ASSIGN_OR_REQUIRE(auto f, t.env()->NewAppendableFile(path));
    CHECK(f->Size() == 6);
    REQUIRE_OK(f->Append("second|"));
    CHECK(f->Size() == 13);
    REQUIRE_OK(f->Sync());
    REQUIRE_OK(f->Close());
  }
  {
    ASSIGN_OR_REQUIRE(auto f, t.env()->NewAppendableFile(path));
    CHECK(f->Size() == 13);
    REQUIRE_OK(f->Append("third"));
    REQUIRE_OK(f->Close());
  }
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
  CHECK(content == "first|second|third");
}

TEST_CASE("NewAppendableFile creates a missing file", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("new");
  CHECK_FALSE(t.env()->FileExists(path));
  ASSIGN_OR_REQUIRE(auto f, t.env()->NewAppendableFile(path));
  CHECK(f->Size() == 0);
  CHECK(t.env()->FileExists(path));
  REQUIRE_OK(f->Append("x"));
  REQUIRE_OK(f->Close());
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
  CHECK(content == "x");
}

TEST_CASE("random-access reads return the bytes at an offset and a short read at end of file",
          "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "0123456789"));
  ASSIGN_OR_REQUIRE(auto r, t.env()->NewRandomAccessFile(path));
  char scratch[32];
  {
    ASSIGN_OR_REQUIRE(std::string_view got, r->Read(2, 3, scratch));
    CHECK(got == "234");
  }
  {
    ASSIGN_OR_REQUIRE(std::string_view got, r->Read(0, 10, scratch));
    CHECK(got == "0123456789");
  }
  {
    ASSIGN_OR_REQUIRE(std::string_view got, r->Read(7, 20, scratch));
    CHECK(got == "789");
  }
  {
    ASSIGN_OR_REQUIRE(std::string_view got, r->Read(10, 5, scratch));
    CHECK(got.empty());
  }
  {
    ASSIGN_OR_REQUIRE(std::string_view got, r->Read(1000, 5, scratch));
    CHECK(got.empty());
  }
  {
    ASSIGN_OR_REQUIRE(std::string_view got, r->Read(4, 0, scratch));
    CHECK(got.empty());
  }
}

TEST_CASE("a reader sees bytes appended after it was opened", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  ASSIGN_OR_REQUIRE(auto w, t.env()->NewWritableFile(path));
  REQUIRE_OK(w->Append("abc"));
  ASSIGN_OR_REQUIRE(auto r, t.env()->NewRandomAccessFile(path));
  REQUIRE_OK(w->Append("def"));
  char scratch[16];
  ASSIGN_OR_REQUIRE(std::string_view got, r->Read(0, sizeof scratch, scratch));
  CHECK(got == "abcdef");
  REQUIRE_OK(w->Close());
}

TEST_CASE("GetChildren lists entry names, files and directories, not paths", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  {
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.root()));
    CHECK(names.empty());
  }
  REQUIRE_OK(WriteFile(t.env(), t.Path("b.log"), "x"));
  REQUIRE_OK(WriteFile(t.env(), t.Path("a.log"), ""));
  REQUIRE_OK(t.env()->CreateDirs(t.Path("sub")));
  REQUIRE_OK(WriteFile(t.env(), t.Path("sub/inner"), "y"));
  {
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.root()));
    CHECK(names == Names{"a.log", "b.log", "sub"});
  }
  {
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.Path("sub")));
    CHECK(names == Names{"inner"});
  }
  REQUIRE_OK(t.env()->RemoveFile(t.Path("b.log")));
  {
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.root()));
    CHECK(names == Names{"a.log", "sub"});
  }
}

TEST_CASE("RenameFile moves a file and atomically replaces the target", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string from = t.Path("CURRENT.tmp");
  const std::string to = t.Path("CURRENT");

  SECTION("to a new name") {
    REQUIRE_OK(WriteFile(t.env(), from, "v1"));
    REQUIRE_OK(t.env()->RenameFile(from, to));
    CHECK_FALSE(t.env()->FileExists(from));
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), to));
    CHECK(content == "v1");
  }
  SECTION("over an existing file, which an open reader still sees") {
    REQUIRE_OK(WriteFile(t.env(), to, "old"));
    ASSIGN_OR_REQUIRE(auto old_reader, t.env()->NewRandomAccessFile(to));
    REQUIRE_OK(WriteFile(t.env(), from, "newer"));
    REQUIRE_OK(t.env()->RenameFile(from, to));
    CHECK_FALSE(t.env()->FileExists(from));
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), to));
    CHECK(content == "newer");
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.root()));
    CHECK(names == Names{"CURRENT"});
    char scratch[16];
    ASSIGN_OR_REQUIRE(std::string_view got, old_reader->Read(0, sizeof scratch, scratch));
    CHECK(got == "old");
  }
  SECTION("while a writer is open: later appends land in the renamed file") {
    ASSIGN_OR_REQUIRE(auto w, t.env()->NewWritableFile(from));
    REQUIRE_OK(w->Append("ab"));
    REQUIRE_OK(t.env()->RenameFile(from, to));
    REQUIRE_OK(w->Append("cd"));
    REQUIRE_OK(w->Close());
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), to));
    CHECK(content == "abcd");
  }
}

TEST_CASE("TruncateFile shrinks a file and extends it with zeros", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "0123456789"));
  REQUIRE_OK(t.env()->TruncateFile(path, 4));
  {
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
    CHECK(content == "0123");
  }
  REQUIRE_OK(t.env()->TruncateFile(path, 6));
  {
    ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
    CHECK(content == std::string("0123\0\0", 6));
  }
  REQUIRE_OK(t.env()->TruncateFile(path, 0));
  ASSIGN_OR_REQUIRE(uint64_t size, t.env()->GetFileSize(path));
  CHECK(size == 0);
}

TEST_CASE("an appendable file truncated then reopened appends at the new end", "[env]") {
  // The recovery pattern of a log: cut a torn tail, then keep appending.
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("seg");
  REQUIRE_OK(WriteFile(t.env(), path, "good|torn"));
  REQUIRE_OK(t.env()->TruncateFile(path, 5));
  ASSIGN_OR_REQUIRE(auto f, t.env()->NewAppendableFile(path));
  CHECK(f->Size() == 5);
  REQUIRE_OK(f->Append("more"));
  REQUIRE_OK(f->Close());
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
  CHECK(content == "good|more");
}

TEST_CASE("RemoveFile removes the file, a reader opened before keeps reading", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "data"));
  ASSIGN_OR_REQUIRE(auto r, t.env()->NewRandomAccessFile(path));
  REQUIRE_OK(t.env()->RemoveFile(path));
  CHECK_FALSE(t.env()->FileExists(path));
  CHECK_ERROR(t.env()->GetFileSize(path), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->RemoveFile(path), ErrorType::kInternalFailure);
  char scratch[8];
  ASSIGN_OR_REQUIRE(std::string_view got, r->Read(0, sizeof scratch, scratch));
  CHECK(got == "data");
}

TEST_CASE("CreateDirs creates nested directories and is idempotent", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string deep = t.Path("a/b/c");
  REQUIRE_OK(t.env()->CreateDirs(deep));
  CHECK(t.env()->FileExists(t.Path("a")));
  CHECK(t.env()->FileExists(t.Path("a/b")));
  CHECK(t.env()->FileExists(deep));
  REQUIRE_OK(t.env()->CreateDirs(deep));
  REQUIRE_OK(t.env()->CreateDirs(t.Path("a/b")));
  REQUIRE_OK(t.env()->CreateDirs(t.Path("a/b/c/d")));
  REQUIRE_OK(WriteFile(t.env(), deep + "/f", "x"));
  {
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.Path("a")));
    CHECK(names == Names{"b"});
  }
  {
    ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), deep));
    CHECK(names == Names{"d", "f"});
  }
  ASSIGN_OR_REQUIRE(auto empty, SortedChildren(t.env(), t.Path("a/b/c/d")));
  CHECK(empty.empty());
}

TEST_CASE("RemoveDir removes an empty directory", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  REQUIRE_OK(t.env()->CreateDirs(t.Path("d")));
  REQUIRE_OK(t.env()->RemoveDir(t.Path("d")));
  CHECK_FALSE(t.env()->FileExists(t.Path("d")));
  ASSIGN_OR_REQUIRE(auto names, SortedChildren(t.env(), t.root()));
  CHECK(names.empty());
}

TEST_CASE("SyncDir succeeds on an existing directory", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  REQUIRE_OK(WriteFile(t.env(), t.Path("f"), "x"));
  REQUIRE_OK(t.env()->SyncDir(t.root()));
}

TEST_CASE("LockFile is exclusive until the lock is destroyed", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("LOCK");
  ASSIGN_OR_REQUIRE(std::unique_ptr<FileLock> first, t.env()->LockFile(path));
  CHECK(t.env()->FileExists(path));
  CHECK_ERROR(t.env()->LockFile(path), ErrorType::kResourceInUse);
  CHECK_ERROR(t.env()->LockFile(path), ErrorType::kResourceInUse);
  // Another path is independent.
  ASSIGN_OR_REQUIRE(auto other, t.env()->LockFile(t.Path("LOCK2")));
  first.reset();
  ASSIGN_OR_REQUIRE(auto again, t.env()->LockFile(path));
  CHECK_ERROR(t.env()->LockFile(path), ErrorType::kResourceInUse);
}

TEST_CASE("calls on a missing file fail with InternalFailure", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string missing = t.Path("missing");
  CHECK_FALSE(t.env()->FileExists(missing));
  CHECK_ERROR(t.env()->NewRandomAccessFile(missing), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->GetFileSize(missing), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->RemoveFile(missing), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->RenameFile(missing, t.Path("to")), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->TruncateFile(missing, 0), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->GetChildren(t.Path("nodir")), ErrorType::kInternalFailure);
  // Both Envs say NotFound for these.
  CHECK_THAT(testing::ToStatus(t.env()->NewRandomAccessFile(missing)),
             HasCode(absl::StatusCode::kNotFound));
  CHECK_THAT(testing::ToStatus(t.env()->GetFileSize(missing)), HasCode(absl::StatusCode::kNotFound));
  CHECK_THAT(testing::ToStatus(t.env()->RemoveFile(missing)), HasCode(absl::StatusCode::kNotFound));
  CHECK_FALSE(t.env()->FileExists(t.Path("to")));
}

// ---- Behaviours where MemEnv once diverged from POSIX --------------------
// Regression tests for MemEnv bugs found by the first run of this file (all
// fixed): rename onto itself, missing parent dirs, RemoveDir of a non-empty
// dir, truncation visible to open handles, CreateDirs over a file.

TEST_CASE("RenameFile of a file onto itself leaves it in place", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "keep me"));
  REQUIRE_OK(t.env()->RenameFile(path, path));
  CHECK(t.env()->FileExists(path));
  ASSIGN_OR_REQUIRE(std::string content, ReadFile(t.env(), path));
  CHECK(content == "keep me");
}

TEST_CASE("creating a file in a missing directory fails", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  CHECK_ERROR(t.env()->NewWritableFile(t.Path("nodir/f")), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->NewAppendableFile(t.Path("nodir/f")), ErrorType::kInternalFailure);
  REQUIRE_OK(WriteFile(t.env(), t.Path("f"), "x"));
  CHECK_ERROR(t.env()->RenameFile(t.Path("f"), t.Path("nodir/f")), ErrorType::kInternalFailure);
}

TEST_CASE("RemoveDir fails on a non-empty or missing directory", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  REQUIRE_OK(t.env()->CreateDirs(t.Path("d")));
  REQUIRE_OK(WriteFile(t.env(), t.Path("d/f"), "x"));
  CHECK_ERROR(t.env()->RemoveDir(t.Path("d")), ErrorType::kInternalFailure);
  CHECK(t.env()->FileExists(t.Path("d/f")));
  CHECK_ERROR(t.env()->RemoveDir(t.Path("never")), ErrorType::kInternalFailure);
}

TEST_CASE("NewWritableFile truncates the file that open handles see", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  const std::string path = t.Path("f");
  REQUIRE_OK(WriteFile(t.env(), path, "old content"));
  ASSIGN_OR_REQUIRE(auto reader, t.env()->NewRandomAccessFile(path));
  REQUIRE_OK(WriteFile(t.env(), path, "new"));
  char scratch[32];
  ASSIGN_OR_REQUIRE(std::string_view got, reader->Read(0, sizeof scratch, scratch));
  CHECK(got == "new");
}

// Both Envs return OK here (mkdir's EEXIST is taken as "already a directory").
TEST_CASE("CreateDirs fails when the path is an existing file", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  REQUIRE_OK(WriteFile(t.env(), t.Path("f"), "x"));
  CHECK_ERROR(t.env()->CreateDirs(t.Path("f")), ErrorType::kInternalFailure);
}

TEST_CASE("CreateDirs below a file fails, and a trailing slash names the same directory", "[env]") {
  TRIBUTARY_FOR_EACH_ENV(t);
  REQUIRE_OK(WriteFile(t.env(), t.Path("f"), "x"));
  CHECK_ERROR(t.env()->CreateDirs(t.Path("f/sub")), ErrorType::kInternalFailure);
  CHECK_ERROR(t.env()->CreateDirs(t.Path("f/sub/deeper")), ErrorType::kInternalFailure);
  CHECK_FALSE(t.env()->FileExists(t.Path("f/sub")));
  REQUIRE_OK(t.env()->CreateDirs(t.Path("x/y/")));
  CHECK(t.env()->FileExists(t.Path("x/y")));
  REQUIRE_OK(t.env()->CreateDirs(t.Path("x/y/")));
}

}  // namespace
}  // namespace tributary
