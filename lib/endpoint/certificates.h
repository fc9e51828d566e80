// Certificates for a local https endpoint: a private CA and a server
// certificate it signs for localhost, 127.0.0.1 and ::1, written as PEM
// files a user (or a test) points its clients at: AWS_CA_BUNDLE,
// NODE_EXTRA_CA_CERTS, curl --cacert, SSL_CERT_FILE for Go.
//
// Keys are ECDSA P-256, signatures SHA-256. The CA is valid 10 years and is
// kept: writing into a directory that already holds ca.pem and ca-key.pem
// reuses that CA and issues a new server certificate, so clients trust the
// CA once. Nothing here is for production: the CA's key sits beside it.
// docs/ENDPOINT.md "TLS" describes the files.
//
// Thread safety: no shared state; concurrent calls on different
// directories are safe.
#ifndef TRIBUTARY_LIB_ENDPOINT_CERTIFICATES_H_
#define TRIBUTARY_LIB_ENDPOINT_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tributary::endpoint {

struct CertificateFiles {
  std::string ca_cert;      // DIR/ca.pem: what clients trust
  std::string ca_key;       // DIR/ca-key.pem (mode 0600)
  std::string server_cert;  // DIR/server.pem: the server certificate, then the CA's
  std::string server_key;   // DIR/server-key.pem (mode 0600)
  bool reused_ca = false;   // the CA was already there
};

struct CertificateOptions {
  // Subject alternative names of the server certificate.
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
};

// Creates `directory` if missing and writes the four files (see above).
// Fails with the OS or OpenSSL error; a half-written set is never left
// under the final names (each file is written to a temporary and renamed).
absl::StatusOr<CertificateFiles> WriteSelfSignedCertificates(
    const std::string& directory, const CertificateOptions& options = CertificateOptions());

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_CERTIFICATES_H_
