// A fresh scratch directory for tests that need a real file system: a new
// directory under `base` (a build-tree directory the test's CMake target
// names), removed with everything in it when the ScratchDir goes away.
#ifndef TRIBUTARY_TESTS_TESTING_SCRATCH_DIR_H_
#define TRIBUTARY_TESTS_TESTING_SCRATCH_DIR_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace tributary::testing {

struct ScratchDir {
  // `<base>/t-<pid>-<n>`: unique per process and per ScratchDir.
  explicit ScratchDir(const std::string& base) {
    static std::atomic<int> n{0};
    path = base + "/t-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_TESTING_SCRATCH_DIR_H_
