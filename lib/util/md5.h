// MD5 of short strings via OpenSSL, the fast way: the EVP_MD is fetched once
// per process and each thread reuses one EVP_MD_CTX.
#ifndef TRIBUTARY_LIB_UTIL_MD5_H_
#define TRIBUTARY_LIB_UTIL_MD5_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace tributary::util {

using Md5Digest = std::array<uint8_t, 16>;

// Thread-safe. Aborts the process if OpenSSL cannot provide MD5 (a broken
// installation, never a runtime condition).
Md5Digest Md5(std::string_view data);

}  // namespace tributary::util

#endif  // TRIBUTARY_LIB_UTIL_MD5_H_
