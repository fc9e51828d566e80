// Shared setup for the Env tests: runs a test body against the POSIX Env (in a
// fresh directory under the build tree, removed afterwards) and against a
// MemEnv.
//
//   TEST_CASE("...", "[env]") {
//     TRIBUTARY_FOR_EACH_ENV(t);          // GENERATEs kPosix, kMem
//     REQUIRE_OK(WriteFile(t.env(), t.Path("f"), "abc"));
//   }
#ifndef TRIBUTARY_TESTS_ENV_ENV_TEST_UTIL_H_
#define TRIBUTARY_TESTS_ENV_ENV_TEST_UTIL_H_

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "testing/status_matchers.h"
#include "tributary/env.h"

#ifndef TRIBUTARY_ENV_TEST_TMPDIR
#error "TRIBUTARY_ENV_TEST_TMPDIR must name a scratch directory under the build tree"
#endif

namespace tributary::testing {

enum class EnvKind { kPosix, kMem };

inline const char* EnvKindName(EnvKind k) { return k == EnvKind::kPosix ? "posix" : "mem"; }

// An Env plus a private, empty root directory in it.
class TestEnv {
 public:
  explicit TestEnv(EnvKind kind) : kind_(kind) {
    if (kind == EnvKind::kPosix) {
      static std::atomic<int> counter{0};
      env_ = DefaultEnv();
      root_ = std::string(TRIBUTARY_ENV_TEST_TMPDIR) + "/" + std::to_string(::getpid()) + "-" +
              std::to_string(counter++);
      std::error_code ec;
      std::filesystem::remove_all(root_, ec);
    } else {
      mem_ = NewMemEnv();
      env_ = mem_.get();
      root_ = "/mem/root";
    }
    REQUIRE_OK(env_->CreateDirs(root_));
  }
  ~TestEnv() {
    if (kind_ == EnvKind::kPosix) {
      std::error_code ec;
      std::filesystem::remove_all(root_, ec);
    }
  }
  TestEnv(const TestEnv&) = delete;
  TestEnv& operator=(const TestEnv&) = delete;

  EnvKind kind() const { return kind_; }
  Env* env() const { return env_; }
  const std::string& root() const { return root_; }
  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }

 private:
  EnvKind kind_;
  std::unique_ptr<Env> mem_;
  Env* env_ = nullptr;
  std::string root_;
};

#define TRIBUTARY_FOR_EACH_ENV(var)                                                         \
  const ::tributary::testing::EnvKind var##_kind =                                          \
      GENERATE(::tributary::testing::EnvKind::kPosix, ::tributary::testing::EnvKind::kMem); \
  INFO("env: " << ::tributary::testing::EnvKindName(var##_kind));                           \
  ::tributary::testing::TestEnv var(var##_kind)

// Creates or replaces `path` with `content` (synced and closed).
inline absl::Status WriteFile(Env* env, const std::string& path, std::string_view content) {
  auto f = env->NewWritableFile(path);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Append(content); !s.ok()) return s;
  if (absl::Status s = (*f)->Sync(); !s.ok()) return s;
  return (*f)->Close();
}

// The whole content of `path`.
inline absl::StatusOr<std::string> ReadFile(Env* env, const std::string& path) {
  auto size = env->GetFileSize(path);
  if (!size.ok()) return size.status();
  auto f = env->NewRandomAccessFile(path);
  if (!f.ok()) return f.status();
  std::string buf(*size + 1, '\0');
  auto got = (*f)->Read(0, buf.size(), buf.data());
  if (!got.ok()) return got.status();
  return std::string(*got);
}

// GetChildren, sorted.
inline absl::StatusOr<std::vector<std::string>> SortedChildren(Env* env, const std::string& dir) {
  auto c = env->GetChildren(dir);
  if (c.ok()) std::sort(c->begin(), c->end());
  return c;
}

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_ENV_ENV_TEST_UTIL_H_
