// Little-endian fixed-width encoding for the small binary structures the
// library persists or hands out (catalog, tokens). Strings are u32-length
// prefixed. Reader methods return false on truncated input.
#ifndef TRIBUTARY_LIB_UTIL_CODING_H_
#define TRIBUTARY_LIB_UTIL_CODING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"

namespace tributary::util {

class Encoder {
 public:
  void U8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Fixed(v, 4); }
  void U64(uint64_t v) { Fixed(v, 8); }
  void I64(int64_t v) { Fixed(static_cast<uint64_t>(v), 8); }
  void U128(absl::uint128 v) {
    U64(absl::Uint128Low64(v));
    U64(absl::Uint128High64(v));
  }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    buf_.append(s.data(), s.size());
  }
  void Raw(std::string_view s) { buf_.append(s.data(), s.size()); }
  std::string& buffer() { return buf_; }

 private:
  void Fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string buf_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view s) : s_(s) {}
  bool U8(uint8_t* v) {
    uint64_t x;
    if (!Fixed(&x, 1)) return false;
    *v = static_cast<uint8_t>(x);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Fixed(&x, 4)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool I32(int32_t* v) {
    uint32_t x;
    if (!U32(&x)) return false;
    *v = static_cast<int32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Fixed(v, 8); }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!Fixed(&x, 8)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  bool U128(absl::uint128* v) {
    uint64_t lo, hi;
    if (!U64(&lo) || !U64(&hi)) return false;
    *v = absl::MakeUint128(hi, lo);
    return true;
  }
  bool Str(std::string* out) {
    uint32_t n;
    if (!U32(&n) || n > s_.size()) return false;
    out->assign(s_.data(), n);
    s_.remove_prefix(n);
    return true;
  }
  bool done() const { return s_.empty(); }
  size_t remaining() const { return s_.size(); }

 private:
  bool Fixed(uint64_t* v, int n) {
    if (s_.size() < static_cast<size_t>(n)) return false;
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) x |= uint64_t{static_cast<uint8_t>(s_[i])} << (8 * i);
    s_.remove_prefix(n);
    *v = x;
    return true;
  }
  std::string_view s_;
};

}  // namespace tributary::util

#endif  // TRIBUTARY_LIB_UTIL_CODING_H_
