// HttpServer: serves an Endpoint over HTTP/1.1 (Boost.Beast on Asio) and
// HTTP/2 (libnghttp2, http2_session.h), in cleartext and, with a TLS port,
// over TLS (tls.h). A connection whose first bytes are the HTTP/2 preface,
// or whose TLS handshake chose "h2" by ALPN, is HTTP/2; any other is
// HTTP/1.1. Both protocols answer through the same routes.
//
// A fixed pool of io threads, each running its own io_context; every
// connection is assigned to one of them (round robin) and all its handlers
// run on that thread, so no thread is created per request or per connection
// and no strand is needed. Connections are kept alive between requests
// (HTTP/1.1 keep-alive; HTTP/1.0 clients close), requests on one connection
// are answered in order, and any number of connections are served at once.
// Requests are handled on the io thread that read them: every Store call is
// short and never blocks on the network. A streamed response
// (Response::stream) is fed by a thread of its own.
//
// Limits: a request body above max_body_bytes is answered 413 and the
// connection closed; a connection that sends no complete header within
// idle_timeout, or no complete body within body_timeout after its header, is
// closed. Timeouts are checked by a per-connection watchdog every quarter of
// the shorter timeout (at most every second), so a connection is closed up
// to that much later than its deadline. Malformed HTTP is answered 400 and the connection closed.
//
// Shutdown: Shutdown() stops accepting, closes connections that are waiting
// for a request, and lets requests already being read or answered finish
// (their response says Connection: close). Wait() returns when every
// connection is closed, or after shutdown_grace, when it forces the rest
// closed. Every response written before Wait() returns was acknowledged by
// the Store before it was written.
//
// Thread safety: Shutdown() and Wait() may be called from any thread (a
// signal-waiting thread, typically); the accessors are safe at any time.
#ifndef TRIBUTARY_LIB_ENDPOINT_HTTP_SERVER_H_
#define TRIBUTARY_LIB_ENDPOINT_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "endpoint/endpoint.h"

namespace tributary::endpoint {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an address or a name that resolves to one
  uint16_t port = 4567;            // 0: let the kernel pick a free port
  int threads = 0;                 // io threads; 0: one per hardware thread
  // A PutRecords of 10 MiB (the Kinesis maximum) is about 13.4 MiB of base64
  // JSON, so the cap leaves room for that and a little more.
  size_t max_body_bytes = 16 << 20;
  absl::Duration idle_timeout = absl::Seconds(60);  // wait for + read one header
  absl::Duration body_timeout = absl::Seconds(30);  // read one body after its header
  absl::Duration shutdown_grace = absl::Seconds(10);
  bool log_requests = false;  // one line per request on stderr
  // HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS per connection (the KCL opens
  // one SubscribeToShard stream per shard it leases).
  uint32_t http2_max_streams = 1000;
  // The https listener (on `host`): off unless tls_port is set. PEM files:
  // the certificate chain and its private key (certificates.h makes a
  // self-signed pair). 0 picks a free port.
  std::optional<uint16_t> tls_port;
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  // Binds, listens and starts the io threads. Fails (with the OS error) if
  // the host does not resolve or the address cannot be bound, and with
  // InvalidArgument if the TLS certificate or key does not load.
  // `endpoint` is not owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const Endpoint* endpoint,
                                                           const ServerOptions& options);

  // Shutdown() and Wait().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string host() const;  // the bound address, e.g. "127.0.0.1" or "::1"
  uint16_t port() const;     // the bound port (the picked one for port 0)
  std::string url() const;   // "http://127.0.0.1:4567" ("http://[::1]:4567" for IPv6)
  // The https listener's bound port and URL ("https://127.0.0.1:4443");
  // 0 and "" without one.
  uint16_t tls_port() const;
  std::string tls_url() const;

  // Begins a graceful shutdown; returns at once. Idempotent.
  void Shutdown();
  // Blocks until the shutdown finished and the io threads are joined.
  // REQUIRES: Shutdown() was called (or is called from another thread).
  void Wait();

 private:
  struct Impl;
  friend class Session;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_HTTP_SERVER_H_
