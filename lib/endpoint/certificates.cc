#include "endpoint/certificates.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

namespace tributary::endpoint {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string OpenSslError(std::string_view what) {
  std::string out(what);
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += ": ";
    out += buf;
  }
  return out;
}

constexpr long kDay = long{24} * 3600;

absl::StatusOr<PKey> NewKey() {
  PKey key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError(OpenSslError("EC key generation failed"));
  return key;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key`, named `cn`, signed by `issuer_key` (issuer
// certificate `issuer`, or itself when null).
absl::StatusOr<Cert> MakeCertificate(EVP_PKEY* key, const std::string& cn, X509* issuer,
                                     EVP_PKEY* issuer_key, long days, bool is_ca,
                                     const std::string& san) {
  Cert cert(X509_new());
  if (cert == nullptr) return absl::InternalError("X509_new failed");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // clocks a little behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * kDay);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tributary (local test)"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = true;
  if (is_ca) {
    ok = ok && AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    ok = ok && AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    ok = ok && AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    ok = ok && AddExtension(cert.get(), signer, NID_subject_alt_name, san);
  }
  ok = ok && AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  ok = ok && AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (!ok) return absl::InternalError(OpenSslError("adding a certificate extension failed"));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return absl::InternalError(OpenSslError("signing the certificate failed"));
  }
  return cert;
}

// Writes `pem` to `path` through a temporary file and a rename.
absl::Status WriteFile(const std::string& path, const std::string& pem, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::UnavailableError(fmt::format("cannot write '{}': {}", tmp, std::strerror(errno)));
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < pem.size()) {
    ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return absl::UnavailableError(fmt::format("cannot write '{}': {}", tmp, std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::UnavailableError(fmt::format("cannot write '{}': {}", tmp, std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(fmt::format("cannot rename '{}': {}", tmp, std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string Pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// The CA already in `files`, if both of its files load and match.
bool LoadCa(const CertificateFiles& files, Cert* cert, PKey* key) {
  FILE* c = std::fopen(files.ca_cert.c_str(), "r");
  if (c == nullptr) return false;
  cert->reset(PEM_read_X509(c, nullptr, nullptr, nullptr));
  std::fclose(c);
  FILE* k = std::fopen(files.ca_key.c_str(), "r");
  if (k == nullptr) return false;
  key->reset(PEM_read_PrivateKey(k, nullptr, nullptr, nullptr));
  std::fclose(k);
  ERR_clear_error();
  return *cert != nullptr && *key != nullptr && X509_check_private_key(cert->get(), key->get()) == 1;
}

}  // namespace

absl::StatusOr<CertificateFiles> WriteSelfSignedCertificates(const std::string& directory,
                                                             const CertificateOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return absl::UnavailableError(fmt::format("cannot create '{}': {}", directory, ec.message()));
  CertificateFiles files;
  files.ca_cert = directory + "/ca.pem";
  files.ca_key = directory + "/ca-key.pem";
  files.server_cert = directory + "/server.pem";
  files.server_key = directory + "/server-key.pem";
  ERR_clear_error();

  Cert ca;
  PKey ca_key;
  files.reused_ca = LoadCa(files, &ca, &ca_key);
  if (!files.reused_ca) {
    absl::StatusOr<PKey> k = NewKey();
    if (!k.ok()) return k.status();
    ca_key = std::move(*k);
    absl::StatusOr<Cert> c =
        MakeCertificate(ca_key.get(), "Tributary local CA", nullptr, ca_key.get(), 3650, true, "");
    if (!c.ok()) return c.status();
    ca = std::move(*c);
    if (absl::Status st = WriteFile(files.ca_key, Pem(ca_key.get()), 0600); !st.ok()) return st;
    if (absl::Status st = WriteFile(files.ca_cert, Pem(ca.get()), 0644); !st.ok()) return st;
  }

  std::string san;
  for (const std::string& d : options.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const std::string& ip : options.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (san.empty()) return absl::InvalidArgumentError("a server certificate needs at least one name");
  absl::StatusOr<PKey> key = NewKey();
  if (!key.ok()) return key.status();
  const std::string cn = !options.dns_names.empty() ? options.dns_names[0] : options.ip_addresses[0];
  absl::StatusOr<Cert> leaf = MakeCertificate(key->get(), cn, ca.get(), ca_key.get(), 825, false, san);
  if (!leaf.ok()) return leaf.status();
  if (absl::Status st = WriteFile(files.server_key, Pem(key->get()), 0600); !st.ok()) return st;
  if (absl::Status st = WriteFile(files.server_cert, Pem(leaf->get()) + Pem(ca.get()), 0644); !st.ok()) {
    return st;
  }
  return files;
}

}  // namespace tributary::endpoint
