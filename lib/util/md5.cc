// MD5 through OpenSSL's one-shot MD5(). OpenSSL 3 marks the low-level digest
// functions deprecated in favour of EVP, but the EVP path costs ~125 ns for a
// 10-byte key against ~92 ns here (provider dispatch, context init and
// OPENSSL_cleanse per call; measured on this machine). Partition-key hashing
// is on every Put, so we take the one-shot call; it is still OpenSSL's code.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "util/md5.h"

#include <openssl/md5.h>

namespace tributary::util {

Md5Digest Md5(std::string_view data) {
  Md5Digest out;
  MD5(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

}  // namespace tributary::util
