// Helpers shared by the libFuzzer targets in tests/fuzz (see README.md there).
//
// Every target defines LLVMFuzzerTestOneInput. Built with clang and
// -fsanitize=fuzzer (scripts/fuzz) it is a fuzzer; built with any compiler
// and replay_main.cc it replays a corpus (the ctest "fuzz.<target>.corpus"
// tests), so every seed and every input that once crashed runs in the normal
// suite and in the sanitizer runs.
//
// A target checks invariants of its own with FUZZ_CHECK: a violation prints
// what failed and aborts, which libFuzzer reports as a crash like any other.
#ifndef TRIBUTARY_TESTS_FUZZ_FUZZ_UTIL_H_
#define TRIBUTARY_TESTS_FUZZ_FUZZ_UTIL_H_

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"

#define FUZZ_CHECK(cond, what)                                                            \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                            \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace tributary::fuzz {

// Consumes an input front to back; every read past the end yields zeros / an
// empty string, so a target never has to check lengths.
class Input {
 public:
  Input(const uint8_t* data, size_t size)
      : s_(reinterpret_cast<const char*>(data), size) {}
  explicit Input(std::string_view s) : s_(s) {}

  uint8_t U8() {
    if (s_.empty()) return 0;
    uint8_t v = static_cast<uint8_t>(s_[0]);
    s_.remove_prefix(1);
    return v;
  }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{U8()} << (8 * i);
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{U8()} << (8 * i);
    return v;
  }
  // Up to `n` bytes.
  std::string_view Bytes(size_t n) {
    std::string_view v = s_.substr(0, n);
    s_.remove_prefix(v.size());
    return v;
  }
  std::string_view Rest() { return Bytes(s_.size()); }
  // Up to (not including) the next '\n', which is consumed.
  std::string_view Line() {
    size_t nl = s_.find('\n');
    std::string_view v = s_.substr(0, nl);
    s_.remove_prefix(nl == std::string_view::npos ? s_.size() : nl + 1);
    return v;
  }
  bool empty() const { return s_.empty(); }

 private:
  std::string_view s_;
};

inline void PutLE(std::string* b, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) (*b)[at + i] = static_cast<char>(v >> (8 * i));
}
inline uint64_t GetLE(std::string_view b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(b[at + i])} << (8 * i);
  return v;
}
inline uint64_t Xxh3(std::string_view b) { return XXH3_64bits(b.data(), b.size()); }

// A status that is not OK must carry a message: the errors a user sees say
// what went wrong.
inline void CheckClearError(const absl::Status& s, std::string_view where) {
  if (s.ok()) return;
  FUZZ_CHECK(!s.message().empty(), std::string(where) + ": error without a message");
}

}  // namespace tributary::fuzz

#endif  // TRIBUTARY_TESTS_FUZZ_FUZZ_UTIL_H_
