// MD5 of short strings via OpenSSL (see md5.cc for why the one-shot call).
#ifndef TRIBUTARY_LIB_UTIL_MD5_H_
#define TRIBUTARY_LIB_UTIL_MD5_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace tributary::util {

using Md5Digest = std::array<uint8_t, 16>;

// Thread-safe.
Md5Digest Md5(std::string_view data);

}  // namespace tributary::util

#endif  // TRIBUTARY_LIB_UTIL_MD5_H_
