#include "endpoint/http_server.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "endpoint/http2_session.h"
#include "endpoint/control.h"
#include "endpoint/status_page.h"
#include "endpoint/tls.h"
#include "endpoint/transport.h"
#include "util/mutex.h"

namespace tributary::endpoint {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = SteadyClock;  // transport.h: Executor, Socket, Timer

// After a response that closes the connection, read and drop what the
// client still sends for at most this long / this much, so closing does not
// reset the connection before the client has read the response.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 32 << 20;
constexpr uint32_t kHeaderLimit = 16 * 1024;
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::end_of_stream).category();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

std::chrono::milliseconds Ms(absl::Duration d) { return absl::ToChronoMilliseconds(d); }

// CORS for browser clients, over either protocol.
void AddCorsHeaders(std::string_view method, std::string_view origin,
                    std::string_view requested_headers, Http2Host::HeaderSink add) {
  if (origin.empty()) return;
  add("Access-Control-Allow-Origin", "*");
  add("Access-Control-Expose-Headers",
      "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,Date");
  if (method == "OPTIONS") {
    add("Access-Control-Allow-Methods", "POST, GET, OPTIONS");
    add("Access-Control-Allow-Headers", requested_headers);
    add("Access-Control-Max-Age", "172800");
  }
}

std::string_view FindHeader(const Request& in, std::string_view name) {
  for (const auto& [n, v] : in.headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

}  // namespace

class Session;

struct HttpServer::Impl final : Http2Host {
  Impl(const Endpoint* e, const ServerOptions& o) : endpoint(e), options(o) {
    const int n = o.threads > 0 ? o.threads
                                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      guards.emplace_back(net::make_work_guard(*contexts.back()));
    }
    acceptor.emplace(contexts[0]->get_executor());
    tls_acceptor.emplace(contexts[0]->get_executor());
    accept_retry.emplace(contexts[0]->get_executor());
    tls_accept_retry.emplace(contexts[0]->get_executor());
    std::random_device rd;
    id_prefix = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    // Timeouts are checked by a per-connection watchdog that wakes this
    // often, instead of a timer set and cancelled around every read and
    // write (which cost two timerfd_settime calls per operation).
    const absl::Duration shortest = std::min(o.idle_timeout, o.body_timeout);
    watchdog_period = Ms(std::clamp(shortest / 4, absl::Milliseconds(10), absl::Seconds(1)));
  }

  // After a forced shutdown, handlers still queued on a context own
  // connections, which unregister under `mu` when they go: destroy the
  // contexts while `mu` lives (members die in reverse order), after what is
  // bound to them.
  ~Impl() override {
    accept_retry.reset();
    tls_accept_retry.reset();
    acceptor.reset();
    tls_acceptor.reset();
    guards.clear();
    contexts.clear();
  }

  // `tls`: the https listener.
  void DoAccept(bool tls);
  void OnAcceptOn(beast::error_code ec, Socket socket, net::io_context* ctx, bool tls);

  // ---- what both protocols share (Http2Host)
  const ServerOptions& server_options() const override { return options; }
  bool shutting_down() const override { return stopping.load(std::memory_order_relaxed); }
  Response Answer(const Request& in, std::string_view target) override;
  void AddResponseHeaders(const Request& in, int status, const Response& r,
                          HeaderSink add) override;
  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx": a random prefix and a counter.
  void AppendRequestId(std::string* out) {
    const uint64_t n = request_counter.fetch_add(1, std::memory_order_relaxed);
    char buf[36];
    static constexpr char kHex[] = "0123456789abcdef";
    auto hex = [&](int pos, uint64_t v, int digits) {
      for (int i = digits - 1; i >= 0; --i, v >>= 4) buf[pos + i] = kHex[v & 15];
    };
    hex(0, id_prefix >> 32, 8);
    buf[8] = '-';
    hex(9, (id_prefix >> 16) & 0xffff, 4);
    buf[13] = '-';
    hex(14, id_prefix & 0xffff, 4);
    buf[18] = '-';
    hex(19, n >> 48, 4);
    buf[23] = '-';
    hex(24, n & 0xffffffffffffULL, 12);
    out->append(buf, sizeof(buf));
  }
  void Unregister(Session* s) {
    util::MutexLock l(&mu);
    sessions.erase(s);
  }
  // Stream pumps (threads that feed streamed responses) and io threads
  // report their end here; Wait() waits for both counts to reach zero.
  void PumpStarted() override {
    util::MutexLock l(&mu);
    ++running_pumps;
  }
  void PumpEnded() override {
    util::MutexLock l(&mu);
    --running_pumps;
    done_cv.SignalAll();
  }

  const Endpoint* endpoint;
  const ServerOptions options;
  std::chrono::milliseconds watchdog_period{1000};
  std::vector<std::unique_ptr<net::io_context>> contexts;  // one per io thread
  std::vector<net::executor_work_guard<Executor>> guards;  // until Shutdown()
  size_t next_context = 0;                                  // acceptor's thread only
  std::optional<net::basic_socket_acceptor<tcp, Executor>> acceptor;  // on contexts[0]
  std::optional<net::basic_socket_acceptor<tcp, Executor>> tls_acceptor;  // open with tls_port
  std::shared_ptr<net::ssl::context> tls_context;                        // with tls_port
  std::optional<Timer> accept_retry;
  std::optional<Timer> tls_accept_retry;
  tcp::endpoint local;
  tcp::endpoint tls_local;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> request_counter{0};
  uint64_t id_prefix = 0;

  util::Mutex mu;
  util::CondVar done_cv;  // running_threads or running_pumps went down
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
  int running_threads ABSL_GUARDED_BY(mu) = 0;
  int running_pumps ABSL_GUARDED_BY(mu) = 0;
};

// One connection. All its handlers run on the thread of its io_context.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Transport&& socket, HttpServer::Impl* server, net::io_context* ctx)
      : socket_(std::move(socket)), watchdog_(ctx->get_executor()), server_(server), ctx_(ctx) {}
  ~Session() { server_->Unregister(this); }

  void Run() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->ArmWatchdog();
      self->Begin();
    });
  }

  // Runs on the session's thread. A connection waiting for a request closes
  // now; one that is reading (part of its header arrived) or answering a
  // request finishes it, then closes. A streamed response ends.
  void Stop() {
    stopping_ = true;
    if (auto h2 = http2_.lock()) return h2->Stop();
    if (streaming_ != nullptr) streaming_->Cancel();
    if (state_ == State::kWaitingForHeader && buffer_.size() == 0) {
      beast::error_code ec;
      socket_.cancel(ec);
    }
  }

  // The connection's io_context (not the socket's: an HTTP/2 connection
  // has taken the socket over).
  Executor executor() { return ctx_->get_executor(); }

 private:
  enum class State { kWaitingForHeader, kReadingBody, kHandling, kWriting, kClosing, kClosed };

  const ServerOptions& options() const { return server_->options; }
  void SetDeadline(absl::Duration d) { deadline_ = Clock::now() + Ms(d); }

  // The watchdog closes the connection once its deadline passed; it holds
  // the session alive until Close() cancels it.
  void ArmWatchdog() {
    watchdog_.expires_after(server_->watchdog_period);
    watchdog_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ == State::kClosed) return;
      if (Clock::now() >= self->deadline_) return self->Close();  // pending I/O ends with an error
      self->ArmWatchdog();
    });
  }

  // ---- protocol detection (http2_session.h): TLS handshake and ALPN, then
  // the first bytes: the HTTP/2 preface makes an HTTP/2 connection.
  void Begin() {
    SetDeadline(options().idle_timeout);
    if (!socket_.is_tls()) return Sniff();
    socket_.AsyncHandshake([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Close();  // not TLS, or no common version/cipher
      std::string_view alpn = NegotiatedAlpn(self->socket_.native_handle());
      if (alpn == "h2") return self->HandOffToHttp2();
      if (alpn == "http/1.1") return self->DoRead();
      self->Sniff();  // no ALPN: older Java SDKs send the preface anyway
    });
  }

  void Sniff() {
    const std::string_view have(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    switch (MatchHttp2Preface(have)) {
      case PrefaceMatch::kYes: return HandOffToHttp2();
      case PrefaceMatch::kNo: return DoRead();
      case PrefaceMatch::kPartial: break;
    }
    if (stopping_ || server_->stopping.load(std::memory_order_relaxed)) return Close();
    state_ = State::kWaitingForHeader;
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec,
                                                                                size_t n) {
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->Sniff();
    });
  }

  // The connection becomes an Http2Session, which keeps this one (and so
  // its place in the server's list, for Shutdown) alive.
  void HandOffToHttp2() {
    const std::string received(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    state_ = State::kClosed;
    watchdog_.cancel();
    auto h2 = Http2Session::Start(std::move(socket_), server_, ctx_, received, shared_from_this());
    http2_ = h2;
    if (stopping_) h2->Stop();
  }

  void DoRead() {
    if (stopping_ || server_->stopping.load(std::memory_order_relaxed)) return Close();
    state_ = State::kWaitingForHeader;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(options().max_body_bytes);
    direct_body_ = false;
    SetDeadline(options().idle_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    state_ = State::kReadingBody;
    started_ = Clock::now();
    SetDeadline(options().body_timeout);
    auto& req = parser_->get();
    if (!parser_->is_done() && EqualsIgnoreCase(req[http::field::expect], "100-continue")) {
      head_.assign("HTTP/1.1 100 Continue\r\n\r\n");
      net::async_write(socket_, net::buffer(head_),
                       beast::bind_front_handler(&Session::OnContinueWritten, shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueWritten(beast::error_code ec, size_t) {
    if (ec) return Close();
    ReadBody();
  }

  // A body with a Content-Length goes straight into body_ (kept across
  // requests, so its memory is reused): what the header read already
  // buffered, then one read of the rest. Chunked bodies go through the
  // parser.
  void ReadBody() {
    if (parser_->is_done()) return OnBody({}, 0);
    boost::optional<uint64_t> len = parser_->content_length();
    if (parser_->chunked() || !len) {
      http::async_read(socket_, buffer_, *parser_,
                       beast::bind_front_handler(&Session::OnBody, shared_from_this()));
      return;
    }
    if (*len > options().max_body_bytes) return OnReadError(http::error::body_limit);
    direct_body_ = true;
    const size_t n = static_cast<size_t>(*len);
    body_.clear();
    body_.reserve(n + 64);  // simdjson's padding: the body is parsed in place
    const size_t have = std::min(buffer_.size(), n);
    body_.append(static_cast<const char*>(buffer_.data().data()), have);
    buffer_.consume(have);
    if (have == n) return OnBody({}, 0);
    body_.resize(n);
    net::async_read(socket_, net::buffer(body_.data() + have, n - have),
                    beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      return Reply(Endpoint::ErrorResponse(
                       ContentType(),
                       MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kSerialization,
                                 fmt::format("The request body exceeds the server's limit of {} "
                                             "bytes (--max-body-bytes)",
                                             options().max_body_bytes))),
                   413, /*keep_alive=*/false);
    }
    if (ec == http::error::header_limit) {
      return Reply(Endpoint::ErrorResponse(
                       ContentType(),
                       MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kSerialization,
                                 fmt::format("The request header exceeds {} bytes", kHeaderLimit))),
                   431, false);
    }
    if (IsHttpParseError(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      return Reply(Endpoint::ErrorResponse(
                       ContentType(),
                       MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kSerialization,
                                 fmt::format("Malformed HTTP request: {}", ec.message()))),
                   400, false);
    }
    // End of stream, timeout, reset, cancelled by Stop(): nothing to answer.
    Close();
  }

  std::string_view ContentType() const {
    if (!parser_.has_value() || !parser_->is_header_done()) return {};
    return parser_->get()[http::field::content_type];
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    state_ = State::kHandling;
    deadline_ = kNoDeadline;  // the Store call is ours, not the client's
    auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    const std::string& body = direct_body_ ? body_ : req.body();
    Request in;
    in.method = req.method_string();
    std::string_view target = req.target();
    size_t q = target.find('?');
    in.path = target.substr(0, q);
    if (q != std::string_view::npos) in.query = target.substr(q + 1);
    in.amz_target = req["X-Amz-Target"];
    in.content_type = req[http::field::content_type];
    in.authorization = req[http::field::authorization];
    in.host = req[http::field::host];
    if (server_->endpoint->wants_headers()) {
      for (const auto& f : req) in.headers.emplace_back(f.name_string(), f.value());
    }
    in.body = &body;
    in.response_storage = &spare_;
    return Reply(server_->Answer(in, target), 0, keep_alive);
  }

  void AddHeader(std::string_view name, std::string_view value) {
    head_.append(name);
    head_.append(": ");
    head_.append(value);
    head_.append("\r\n");
  }

  // The status line and the headers every response has, into head_.
  // Returns the request's HTTP version (11 when no request was parsed).
  unsigned StartHead(int status, std::string_view content_type) {
    const bool have_request = parser_.has_value() && parser_->is_header_done();
    const unsigned version = have_request ? parser_->get().version() : 11;
    head_.clear();
    head_.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    fmt::format_to(std::back_inserter(head_), "{} ", status);
    head_.append(http::obsolete_reason(static_cast<http::status>(status)));
    head_.append("\r\n");
    AddHeader("Content-Type", content_type);
    head_.append("x-amzn-RequestId: ");
    server_->AppendRequestId(&head_);
    head_.append("\r\n");
    if (have_request) {
      auto& req = parser_->get();
      AddCorsHeaders(req.method_string(), req[http::field::origin],
                     req[http::field::access_control_request_headers],
                     [this](std::string_view name, std::string_view value) { AddHeader(name, value); });
    }
    return version;
  }

  void LogRequest(int status, std::string_view error_type) {
    if (!options().log_requests || !parser_.has_value() || !parser_->is_header_done()) return;
    auto& req = parser_->get();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
    fmt::print(stderr, "tributary-server: {} {} {} -> {} {} ({} us)\n",
               std::string_view(req.method_string()), std::string_view(req.target()),
               std::string_view(req["X-Amz-Target"]), status, error_type, us);
  }

  // `status_override` replaces r.status when non-zero.
  void Reply(Response r, int status_override, bool keep_alive) {
    const bool have_request = parser_.has_value() && parser_->is_header_done();
    if (r.stream != nullptr && have_request) return ReplyStream(std::move(r), keep_alive);
    keep_alive = keep_alive && have_request && !stopping_ &&
                 !server_->stopping.load(std::memory_order_relaxed);
    const int status = status_override != 0 ? status_override : r.status;
    const unsigned version = StartHead(status, r.content_type);
    if (!r.error_type.empty()) AddHeader("x-amzn-ErrorType", r.error_type);
    if (status == 405) AddHeader("Allow", "POST, GET, OPTIONS");
    fmt::format_to(std::back_inserter(head_), "Content-Length: {}\r\n", r.body.size());
    if (version == 10) {
      if (keep_alive) AddHeader("Connection", "keep-alive");
    } else if (!keep_alive) {
      AddHeader("Connection", "close");
    }
    head_.append("\r\n");
    LogRequest(status, r.error_type);
    out_body_ = std::move(r.body);
    state_ = State::kWriting;
    SetDeadline(options().body_timeout);
    std::array<net::const_buffer, 2> bufs{net::buffer(head_), net::buffer(out_body_)};
    net::async_write(socket_, bufs,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, size_t) {
    // Keep the response's memory for the next response body.
    if (out_body_.capacity() > spare_.capacity()) spare_.swap(out_body_);
    out_body_.clear();
    if (ec) return Close();
    if (!keep_alive) return LingeringClose();
    DoRead();
  }

  // ---- streamed responses (Response::stream)
  // The header now, then the body piece by piece from a pump thread, as
  // HTTP/1.1 chunks (HTTP/1.0: raw, then close). The pump blocks in
  // ResponseStream::Next, never an io thread.
  void ReplyStream(Response r, bool keep_alive) {
    const unsigned version = StartHead(200, r.content_type);
    chunked_ = version >= 11;
    keep_alive = keep_alive && chunked_ && !stopping_ &&
                 !server_->stopping.load(std::memory_order_relaxed);
    if (chunked_) AddHeader("Transfer-Encoding", "chunked");
    if (chunked_ && !keep_alive) AddHeader("Connection", "close");
    head_.append("\r\n");
    streaming_ = std::move(r.stream);
    state_ = State::kWriting;
    if (options().log_requests) {
      auto& req = parser_->get();
      fmt::print(stderr, "tributary-server: {} {} {} -> 200 (event stream)\n",
                 std::string_view(req.method_string()), std::string_view(req.target()),
                 std::string_view(req["X-Amz-Target"]));
    }
    SetDeadline(options().body_timeout);
    net::async_write(socket_, net::buffer(head_),
                     beast::bind_front_handler(&Session::OnStreamHeader, shared_from_this(), keep_alive));
  }

  void OnStreamHeader(bool keep_alive, beast::error_code ec, size_t) {
    deadline_ = kNoDeadline;  // the pump sets one around each write
    if (ec) {
      streaming_->Cancel();
      streaming_.reset();
      return Close();
    }
    if (stopping_) streaming_->Cancel();  // Stop() came while the header was written
    server_->PumpStarted();
    auto work = net::make_work_guard(*ctx_);  // keeps run() going while the pump waits
    std::thread([self = shared_from_this(), body = streaming_, keep_alive,
                 work = std::move(work)]() mutable {
      HttpServer::Impl* server = self->server_;
      self->Pump(body.get(), keep_alive);
      body.reset();
      self.reset();
      work.reset();
      server->PumpEnded();
    }).detach();
  }

  // Runs on the pump thread.
  void Pump(ResponseStream* body, bool keep_alive) {
    std::string piece;
    bool ok = true;
    while (ok) {
      piece.clear();
      if (!body->Next(&piece)) break;
      if (!piece.empty()) ok = WriteFromPump(piece);
    }
    if (!ok) body->Cancel();
    net::post(socket_.get_executor(), [self = shared_from_this(), ok, keep_alive] {
      self->FinishStream(ok, keep_alive);
    });
  }

  // Runs on the pump thread: writes `piece` (one chunk) on the session's
  // thread and waits for the write. False if it failed or the server stopped.
  bool WriteFromPump(const std::string& piece) {
    struct Done {
      util::Mutex mu;
      util::CondVar cv;
      bool done ABSL_GUARDED_BY(mu) = false;
      bool failed ABSL_GUARDED_BY(mu) = false;
    };
    auto done = std::make_shared<Done>();
    auto finish = [done](beast::error_code ec, size_t) {
      util::MutexLock l(&done->mu);
      done->done = true;
      done->failed = static_cast<bool>(ec);
      done->cv.SignalAll();
    };
    net::post(socket_.get_executor(), [self = shared_from_this(), &piece, finish] {
      self->SetDeadline(self->options().body_timeout);
      if (self->chunked_) {
        self->chunk_head_ = fmt::format("{:x}\r\n", piece.size());
        std::array<net::const_buffer, 3> bufs{net::buffer(self->chunk_head_), net::buffer(piece),
                                              net::buffer("\r\n", 2)};
        net::async_write(self->socket_, bufs, [self, finish](beast::error_code ec, size_t n) {
          self->deadline_ = kNoDeadline;
          finish(ec, n);
        });
      } else {
        net::async_write(self->socket_, net::buffer(piece), [self, finish](beast::error_code ec, size_t n) {
          self->deadline_ = kNoDeadline;
          finish(ec, n);
        });
      }
    });
    util::MutexLock l(&done->mu);
    while (!done->done) {
      done->cv.WaitFor(&done->mu, absl::Seconds(1));
      if (!done->done && ctx_->stopped()) return false;
    }
    return !done->failed;
  }

  // On the session's thread, after the pump's last piece.
  void FinishStream(bool ok, bool keep_alive) {
    streaming_.reset();
    if (!ok) return Close();
    if (!chunked_) return LingeringClose();
    SetDeadline(options().body_timeout);
    net::async_write(socket_, net::buffer("0\r\n\r\n", 5),
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void LingeringClose() {
    state_ = State::kClosing;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    deadline_ = Clock::now() + kLingerTime;
    Drain();
  }

  void Drain() {
    socket_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    socket_.close(ec);
    watchdog_.cancel();
  }

  Transport socket_;
  std::weak_ptr<Http2Session> http2_;  // after HandOffToHttp2
  Timer watchdog_;
  Clock::time_point deadline_ = kNoDeadline;
  beast::flat_buffer buffer_;
  HttpServer::Impl* server_;
  net::io_context* ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string body_;        // a Content-Length body (direct_body_), reused
  bool direct_body_ = false;
  std::string head_;        // the response's status line and headers
  std::string out_body_;    // the response body being written
  std::string spare_;       // memory for the next response body
  std::string chunk_head_;  // a streamed chunk's size line
  std::shared_ptr<ResponseStream> streaming_;
  bool chunked_ = true;
  Clock::time_point started_;
  State state_ = State::kWaitingForHeader;
  bool stopping_ = false;
  size_t drained_ = 0;
  char drain_[8192] = {};  // what a closing connection still sends, discarded
};

// The routes, whatever the protocol: POST is a Kinesis action
// (Endpoint::Handle); GET serves the status page and /healthcheck; OPTIONS
// is a CORS preflight.
Response HttpServer::Impl::Answer(const Request& in, std::string_view target) {
  // POSTs, and the test control API's paths whatever the method (control.h),
  // are the Endpoint's.
  if (in.method == "POST" || IsControlPath(in.path)) {
    try {
      return endpoint->Handle(in);
    } catch (const std::exception& e) {
      return Endpoint::ErrorResponse(
          in.content_type, InternalFailureError(fmt::format("Unexpected exception: {}", e.what())));
    }
  }
  if (in.method == "OPTIONS") {  // CORS preflight (browser SDKs)
    Response r;
    r.content_type = "text/plain";
    return r;
  }
  if (in.method == "GET" && IsStatusPagePath(target)) {  // status_page.h
    return RenderStatusPage(*endpoint, target);
  }
  if (in.method == "GET" && target == "/healthcheck") {
    Response r;
    r.content_type = "text/plain";
    r.body = "ok\n";
    return r;
  }
  Response r = Endpoint::ErrorResponse(
      in.content_type,
      MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                fmt::format("{} is not served: send POST / with X-Amz-Target: "
                            "Kinesis_20131202.<Action> (GET /healthcheck answers 'ok')",
                            in.method)));
  r.status = 405;
  return r;
}

void HttpServer::Impl::AddResponseHeaders(const Request& in, int status, const Response& r,
                                          HeaderSink add) {
  std::string id;
  AppendRequestId(&id);
  add("x-amzn-RequestId", id);
  if (!r.error_type.empty()) add("x-amzn-ErrorType", r.error_type);
  if (status == 405) add("Allow", "POST, GET, OPTIONS");
  AddCorsHeaders(in.method, FindHeader(in, "origin"), FindHeader(in, "access-control-request-headers"),
                 add);
}

void HttpServer::Impl::DoAccept(bool tls) {
  net::io_context& ctx = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  (tls ? *tls_acceptor : *acceptor).async_accept(ctx, [this, &ctx, tls](beast::error_code ec, Socket socket) {
    OnAcceptOn(ec, std::move(socket), &ctx, tls);
  });
}

void HttpServer::Impl::OnAcceptOn(beast::error_code ec, Socket socket, net::io_context* ctx, bool tls) {
  if (stopping.load(std::memory_order_relaxed) || ec == net::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors or a transient error: back off, then go on.
    fmt::print(stderr, "tributary-server: accept: {}\n", ec.message());
    Timer& retry = tls ? *tls_accept_retry : *accept_retry;
    retry.expires_after(std::chrono::milliseconds(50));
    retry.async_wait([this, tls](beast::error_code e) {
      if (!e && !stopping.load(std::memory_order_relaxed)) DoAccept(tls);
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::optional<Transport> transport;
  if (tls) {
    transport.emplace(std::move(socket), *tls_context);
  } else {
    transport.emplace(std::move(socket));
  }
  auto session = std::make_shared<Session>(std::move(*transport), this, ctx);
  {
    util::MutexLock l(&mu);
    sessions.emplace(session.get(), session);
  }
  session->Run();
  DoAccept(tls);
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Shutdown();
  Wait();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const Endpoint* endpoint,
                                                              const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(endpoint, options);
  beast::error_code ec;
  tcp::resolver resolver(*impl->contexts[0]);
  auto results = resolver.resolve(options.host, std::to_string(options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("cannot resolve host '{}': {}", options.host, ec.message()));
  }
  tcp::endpoint ep = results.begin()->endpoint();
  auto listen = [&](net::basic_socket_acceptor<tcp, Executor>& a, tcp::endpoint* local) -> absl::Status {
    auto fail = [&](std::string_view what) {
      return absl::UnavailableError(fmt::format("{} {}:{}: {}", what, ep.address().to_string(),
                                                ep.port(), ec.message()));
    };
    if (a.open(ep.protocol(), ec); ec) return fail("open");
    if (a.set_option(net::socket_base::reuse_address(true), ec); ec) return fail("setsockopt");
    if (a.bind(ep, ec); ec) return fail("bind");
    if (a.listen(net::socket_base::max_listen_connections, ec); ec) return fail("listen");
    *local = a.local_endpoint(ec);
    if (ec) return fail("getsockname");
    return absl::OkStatus();
  };
  if (absl::Status st = listen(*impl->acceptor, &impl->local); !st.ok()) return st;
  if (options.tls_port.has_value()) {  // the https listener (tls.h)
    absl::StatusOr<std::shared_ptr<net::ssl::context>> ctx =
        MakeServerTlsContext(options.tls_cert_file, options.tls_key_file);
    if (!ctx.ok()) return ctx.status();
    impl->tls_context = std::move(*ctx);
    ep.port(*options.tls_port);
    if (absl::Status st = listen(*impl->tls_acceptor, &impl->tls_local); !st.ok()) return st;
    impl->DoAccept(/*tls=*/true);
  }
  impl->DoAccept(/*tls=*/false);

  Impl* p = impl.get();
  const int n = static_cast<int>(p->contexts.size());
  {
    util::MutexLock l(&p->mu);
    p->running_threads = n;
  }
  for (int i = 0; i < n; ++i) {
    p->threads.emplace_back([p, i] {
      while (true) {
        try {
          p->contexts[i]->run();
          break;
        } catch (const std::exception& e) {  // a handler threw: log, keep serving
          fmt::print(stderr, "tributary-server: unexpected exception: {}\n", e.what());
        }
      }
      util::MutexLock l(&p->mu);
      --p->running_threads;
      p->done_cv.SignalAll();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::string HttpServer::host() const { return impl_->local.address().to_string(); }
uint16_t HttpServer::port() const { return impl_->local.port(); }
std::string HttpServer::url() const {
  if (impl_->local.address().is_v6()) return fmt::format("http://[{}]:{}", host(), port());
  return fmt::format("http://{}:{}", host(), port());
}
uint16_t HttpServer::tls_port() const { return impl_->tls_context ? impl_->tls_local.port() : 0; }
std::string HttpServer::tls_url() const {
  if (!impl_->tls_context) return "";
  if (impl_->tls_local.address().is_v6()) return fmt::format("https://[{}]:{}", host(), tls_port());
  return fmt::format("https://{}:{}", host(), tls_port());
}

void HttpServer::Shutdown() {
  Impl* p = impl_.get();
  if (p->stopping.exchange(true)) return;
  net::post(p->contexts[0]->get_executor(), [p] {
    beast::error_code ec;
    p->acceptor->close(ec);
    p->tls_acceptor->close(ec);
    p->accept_retry->cancel();
    p->tls_accept_retry->cancel();
    // Each io thread ends once its connections are closed.
    for (auto& g : p->guards) g.reset();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    util::MutexLock l(&p->mu);
    for (auto& [ptr, weak] : p->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    net::post(s->executor(), [s] { s->Stop(); });
  }
}

void HttpServer::Wait() {
  Impl* p = impl_.get();
  auto finished = [p]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu) {
    return p->running_threads == 0 && p->running_pumps == 0;
  };
  bool done;
  {
    const absl::Time deadline = absl::Now() + p->options.shutdown_grace;
    util::MutexLock l(&p->mu);
    while (!finished() && absl::Now() < deadline) p->done_cv.WaitFor(&p->mu, deadline - absl::Now());
    done = finished();
  }
  if (!done) {
    fmt::print(stderr, "tributary-server: connections still open after {}; closing them\n",
               absl::FormatDuration(p->options.shutdown_grace));
    for (auto& ctx : p->contexts) ctx->stop();
    // Pumps notice the stopped io_context within a second and end.
    util::MutexLock l(&p->mu);
    while (p->running_pumps > 0) p->done_cv.WaitFor(&p->mu, absl::Seconds(1));
  }
  for (std::thread& t : p->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace tributary::endpoint
