#include "util/md5.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace tributary::util {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "tributary: OpenSSL MD5 unavailable: %s\n", what);
  std::abort();
}

const EVP_MD* FetchMd5() {
  // Fetched once: EVP_MD_fetch per call costs ~2.5x the digest itself.
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "MD5", nullptr);
    if (m == nullptr) Die("EVP_MD_fetch");
    return m;
  }();
  return md;
}

struct CtxHolder {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~CtxHolder() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Md5Digest Md5(std::string_view data) {
  thread_local CtxHolder holder;
  const EVP_MD* md = FetchMd5();
  Md5Digest out;
  unsigned int len = 0;
  if (holder.ctx == nullptr || EVP_DigestInit_ex2(holder.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(holder.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(holder.ctx, out.data(), &len) != 1 || len != out.size()) {
    Die("digest");
  }
  return out;
}

}  // namespace tributary::util
