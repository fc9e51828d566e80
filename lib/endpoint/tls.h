// TLS for tributary-server's https listener: the server's OpenSSL context
// (through Boost.Asio's ssl::context), built from PEM files.
//
// Policy (docs/ENDPOINT.md "TLS"): TLS 1.2 or later; ALPN offers "h2" and
// "http/1.1" and picks "h2" whenever the client offers it; a client that
// offers neither (or sends no ALPN at all) still connects, and the server
// tells HTTP/2 from HTTP/1.1 by the first bytes it sends (older AWS SDKs for
// Java send the HTTP/2 preface inside TLS without ALPN).
//
// Thread safety: the context is read-only once made and is shared by every
// TLS connection.
#ifndef TRIBUTARY_LIB_ENDPOINT_TLS_H_
#define TRIBUTARY_LIB_ENDPOINT_TLS_H_

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tributary::endpoint {

// A server context from `cert_file` (PEM: the leaf certificate, then any
// intermediates) and `key_file` (PEM private key). InvalidArgument naming
// the file and OpenSSL's reason when either does not load or they do not
// match.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

// The protocol ALPN selected on a finished handshake: "h2", "http/1.1", or
// "" (no ALPN). The view lives as long as `ssl`.
std::string_view NegotiatedAlpn(SSL* ssl);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_TLS_H_
