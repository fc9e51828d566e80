// Transport: one accepted connection, plain TCP or TLS (Boost.Asio's ssl
// stream over the same socket type), behind one AsyncStream interface, so
// the HTTP/1.1 session (http_server.cc) and the HTTP/2 session
// (http2_session.cc) are written once for both listeners.
//
// It models Asio's AsyncReadStream and AsyncWriteStream (async_read_some,
// async_write_some, get_executor), so beast::http::async_read and
// net::async_write take it as they take a socket. A TLS transport must
// finish AsyncHandshake() before the first read.
//
// Thread safety: one thread at a time, the thread of its io_context (as for
// a socket); one read and one write may be outstanding at once.
#ifndef TRIBUTARY_LIB_ENDPOINT_TRANSPORT_H_
#define TRIBUTARY_LIB_ENDPOINT_TRANSPORT_H_

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace tributary::endpoint {

namespace net = boost::asio;

// Every connection lives on one io_context, run by one thread: its handlers
// never run concurrently, so no strand, and the concrete executor type
// avoids any_io_executor's type erasure on every operation.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<net::ip::tcp, Executor>;
using SteadyClock = std::chrono::steady_clock;
using Timer = net::basic_waitable_timer<SteadyClock, net::wait_traits<SteadyClock>, Executor>;

class Transport {
 public:
  using executor_type = Executor;
  using TlsStream = net::ssl::stream<Socket>;

  // Plain TCP.
  explicit Transport(Socket socket) : plain_(std::move(socket)) {}
  // TLS with `context` (not owned; must outlive the transport).
  Transport(Socket socket, net::ssl::context& context)
      : tls_(std::make_unique<TlsStream>(std::move(socket), context)) {}

  Transport(Transport&&) = default;
  Transport& operator=(Transport&&) = default;

  bool is_tls() const { return tls_ != nullptr; }
  Executor get_executor() { return socket().get_executor(); }
  Socket& socket() { return tls_ != nullptr ? tls_->next_layer() : *plain_; }
  // The TLS session (REQUIRES: is_tls()).
  SSL* native_handle() { return tls_->native_handle(); }

  template <class Handler>
  void AsyncHandshake(Handler&& handler) {
    tls_->async_handshake(net::ssl::stream_base::server, std::forward<Handler>(handler));
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_ != nullptr) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_ != nullptr) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // On the TCP socket underneath (TLS: without a close_notify, which would
  // wait for the peer's; an HTTP response is delimited without it).
  void cancel(boost::system::error_code& ec) { socket().cancel(ec); }
  void shutdown(net::socket_base::shutdown_type what, boost::system::error_code& ec) {
    socket().shutdown(what, ec);
  }
  void close(boost::system::error_code& ec) { socket().close(ec); }

 private:
  std::optional<Socket> plain_;     // set for plain TCP
  std::unique_ptr<TlsStream> tls_;  // set for TLS
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_TRANSPORT_H_
