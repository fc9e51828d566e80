#include "endpoint/http_server.h"

#include <fmt/format.h>

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
#include "util/mutex.h"

namespace tributary::endpoint {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// After a response that closes the connection, read and drop what the
// client still sends for at most this long / this much, so closing does not
// reset the connection before the client has read the response.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 32 << 20;
constexpr uint32_t kHeaderLimit = 16 * 1024;

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::end_of_stream).category();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

}  // namespace

class Session;

struct HttpServer::Impl {
  Impl(const Endpoint* e, const ServerOptions& o)
      : endpoint(e), options(o), acceptor(net::make_strand(ioc)), accept_retry(acceptor.get_executor()) {
    std::random_device rd;
    id_prefix = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  std::string NextRequestId() {
    uint64_t n = request_counter.fetch_add(1, std::memory_order_relaxed);
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", static_cast<uint32_t>(id_prefix >> 32),
                       static_cast<uint16_t>(id_prefix >> 16), static_cast<uint16_t>(id_prefix),
                       static_cast<uint16_t>(n >> 48), n & 0xffffffffffffULL);
  }
  void Unregister(Session* s) {
    util::MutexLock l(&mu);
    sessions.erase(s);
  }
  // Stream pumps (threads that feed streamed responses) and io threads
  // report their end here; Wait() waits for both counts to reach zero.
  void PumpStarted() {
    util::MutexLock l(&mu);
    ++running_pumps;
  }
  void PumpEnded() {
    util::MutexLock l(&mu);
    --running_pumps;
    done_cv.SignalAll();
  }

  const Endpoint* endpoint;
  const ServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor;  // runs on its own strand
  net::steady_timer accept_retry;
  tcp::endpoint local;
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

// One connection. All its handlers run on its strand (the stream's executor).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_->Unregister(this); }

  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

  // Runs on the strand. A connection waiting for a request closes now; one
  // that is reading (part of its header arrived) or answering a request
  // finishes it, then closes.
  void Stop() {
    stopping_ = true;
    if (streaming_ != nullptr) streaming_->Cancel();
    if (state_ == State::kWaitingForHeader && buffer_.size() == 0) {
      beast::error_code ec;
      stream_.socket().cancel(ec);
    }
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class State { kWaitingForHeader, kReadingBody, kWriting, kClosing };

  const ServerOptions& options() const { return server_->options; }

  void DoRead() {
    if (stopping_ || server_->stopping.load(std::memory_order_relaxed)) return Close();
    state_ = State::kWaitingForHeader;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(absl::ToChronoMilliseconds(options().idle_timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    state_ = State::kReadingBody;
    started_ = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    if (auto len = parser_->content_length(); len.has_value()) {
      // Room for simdjson's padding, so the body is parsed where it lies.
      req.body().reserve(static_cast<size_t>(*len) + 64);
    }
    stream_.expires_after(absl::ToChronoMilliseconds(options().body_timeout));
    if (!parser_->is_done() && EqualsIgnoreCase(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Session::OnContinueWritten, shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueWritten(beast::error_code ec, size_t) {
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnBody({}, 0);
    http::async_read(stream_, buffer_, *parser_,
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
    stream_.expires_never();
    auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    if (req.method() == http::verb::post) {
      Response r;
      try {
        Request in;
        in.method = req.method_string();
        std::string_view target = req.target();
        size_t q = target.find('?');
        in.path = target.substr(0, q);
        if (q != std::string_view::npos) in.query = target.substr(q + 1);
        in.amz_target = req["X-Amz-Target"];
        in.content_type = req[http::field::content_type];
        in.authorization = req[http::field::authorization];
        if (server_->endpoint->wants_headers()) {
          for (const auto& f : req) in.headers.emplace_back(f.name_string(), f.value());
        }
        in.body = &req.body();
        r = server_->endpoint->Handle(in);
      } catch (const std::exception& e) {
        r = Endpoint::ErrorResponse(req[http::field::content_type],
                                    InternalFailureError(fmt::format("Unexpected exception: {}", e.what())));
      }
      return Reply(std::move(r), 0, keep_alive);
    }
    return ReplyNonPost(keep_alive);
  }

  void ReplyNonPost(bool keep_alive) {
    auto& req = parser_->get();
    if (req.method() == http::verb::options) {  // CORS preflight (browser SDKs)
      Response r;
      r.content_type = "text/plain";
      return Reply(std::move(r), 200, keep_alive);
    }
    if (req.method() == http::verb::get && req.target() == "/healthcheck") {
      Response r;
      r.content_type = "text/plain";
      r.body = "ok\n";
      return Reply(std::move(r), 200, keep_alive);
    }
    Response r = Endpoint::ErrorResponse(
        req[http::field::content_type],
        MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                  fmt::format("{} is not served: send POST / with X-Amz-Target: "
                              "Kinesis_20131202.<Action> (GET /healthcheck answers 'ok')",
                              std::string_view(req.method_string()))));
    return Reply(std::move(r), 405, keep_alive);
  }

  // A streamed response (Response::stream): the header now, then the body
  // piece by piece from a pump thread, as HTTP/1.1 chunks (HTTP/1.0: raw,
  // then close). The pump blocks in ResponseStream::Next, never an io thread.
  void ReplyStream(Response r, bool keep_alive) {
    auto& req = parser_->get();
    chunked_ = req.version() >= 11;
    keep_alive = keep_alive && chunked_ && !stopping_ &&
                 !server_->stopping.load(std::memory_order_relaxed);
    stream_res_.emplace();
    stream_res_->version(req.version());
    stream_res_->result(http::status::ok);
    stream_res_->set(http::field::content_type, r.content_type);
    stream_res_->set("x-amzn-RequestId", server_->NextRequestId());
    if (std::string_view origin = req[http::field::origin]; !origin.empty()) {
      stream_res_->set(http::field::access_control_allow_origin, "*");
    }
    stream_res_->keep_alive(keep_alive);
    if (chunked_) stream_res_->chunked(true);
    stream_sr_.emplace(*stream_res_);
    streaming_ = std::move(r.stream);
    state_ = State::kWriting;
    if (options().log_requests) {
      fmt::print(stderr, "tributary-server: {} {} {} -> 200 (event stream)\n",
                 std::string_view(req.method_string()), std::string_view(req.target()),
                 std::string_view(req["X-Amz-Target"]));
    }
    stream_.expires_after(absl::ToChronoMilliseconds(options().body_timeout));
    http::async_write_header(
        stream_, *stream_sr_,
        beast::bind_front_handler(&Session::OnStreamHeader, shared_from_this(), keep_alive));
  }

  void OnStreamHeader(bool keep_alive, beast::error_code ec, size_t) {
    if (ec) {
      streaming_->Cancel();
      streaming_.reset();
      return Close();
    }
    if (stopping_) streaming_->Cancel();  // Stop() came while the header was written
    server_->PumpStarted();
    auto work = net::make_work_guard(server_->ioc);  // keeps run() going while the pump waits
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
    net::post(stream_.get_executor(), [self = shared_from_this(), ok, keep_alive] {
      self->FinishStream(ok, keep_alive);
    });
  }

  // Runs on the pump thread: writes `piece` (one chunk) on the strand and
  // waits for the write. False if it failed or the server was stopped.
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
    net::post(stream_.get_executor(), [self = shared_from_this(), &piece, finish] {
      self->stream_.expires_after(absl::ToChronoMilliseconds(self->options().body_timeout));
      if (self->chunked_) {
        net::async_write(self->stream_, http::make_chunk(net::buffer(piece)), finish);
      } else {
        net::async_write(self->stream_, net::buffer(piece), finish);
      }
    });
    util::MutexLock l(&done->mu);
    while (!done->done) {
      done->cv.WaitFor(&done->mu, absl::Seconds(1));
      if (!done->done && server_->ioc.stopped()) return false;
    }
    return !done->failed;
  }

  // On the strand, after the pump's last piece.
  void FinishStream(bool ok, bool keep_alive) {
    streaming_.reset();
    stream_sr_.reset();
    stream_res_.reset();
    if (!ok) return Close();
    if (!chunked_) return LingeringClose();
    stream_.expires_after(absl::ToChronoMilliseconds(options().body_timeout));
    net::async_write(stream_, http::make_chunk_last(),
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  // `status_override` replaces r.status when non-zero.
  void Reply(Response r, int status_override, bool keep_alive) {
    if (r.stream != nullptr && parser_.has_value() && parser_->is_header_done()) {
      return ReplyStream(std::move(r), keep_alive);
    }
    const bool have_request = parser_.has_value() && parser_->is_header_done();
    keep_alive = keep_alive && have_request && !stopping_ &&
                 !server_->stopping.load(std::memory_order_relaxed);
    const int status = status_override != 0 ? status_override : r.status;
    res_.emplace();
    res_->version(have_request ? parser_->get().version() : 11);
    res_->result(static_cast<unsigned>(status));
    res_->set(http::field::content_type, r.content_type);
    res_->set("x-amzn-RequestId", server_->NextRequestId());
    if (!r.error_type.empty()) res_->set("x-amzn-ErrorType", r.error_type);
    if (have_request) {
      auto& req = parser_->get();
      if (std::string_view origin = req[http::field::origin]; !origin.empty()) {
        res_->set(http::field::access_control_allow_origin, "*");
        res_->set(http::field::access_control_expose_headers,
                  "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,Date");
        if (req.method() == http::verb::options) {
          res_->set(http::field::access_control_allow_methods, "POST, GET, OPTIONS");
          res_->set(http::field::access_control_allow_headers,
                    req[http::field::access_control_request_headers]);
          res_->set(http::field::access_control_max_age, "172800");
        }
      }
      if (status == 405) res_->set(http::field::allow, "POST, GET, OPTIONS");
      if (options().log_requests) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started_)
                      .count();
        fmt::print(stderr, "tributary-server: {} {} {} -> {} {} ({} us)\n",
                   std::string_view(req.method_string()), std::string_view(req.target()),
                   std::string_view(req["X-Amz-Target"]), status, r.error_type, us);
      }
    }
    res_->body() = std::move(r.body);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    state_ = State::kWriting;
    stream_.expires_after(absl::ToChronoMilliseconds(options().body_timeout));
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, size_t) {
    res_.reset();
    if (ec) return Close();
    if (!keep_alive) return LingeringClose();
    DoRead();
  }

  void LingeringClose() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  HttpServer::Impl* server_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::optional<http::response<http::empty_body>> continue_;
  // A streamed response's header and serializer, and its body while the
  // pump runs (set and reset on the strand).
  std::optional<http::response<http::empty_body>> stream_res_;
  std::optional<http::response_serializer<http::empty_body>> stream_sr_;
  std::shared_ptr<ResponseStream> streaming_;
  bool chunked_ = true;
  std::chrono::steady_clock::time_point started_;
  State state_ = State::kWaitingForHeader;
  bool stopping_ = false;
  size_t drained_ = 0;
  char drain_[8192];
};

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc),
                        beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load(std::memory_order_relaxed) || ec == net::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors or a transient error: back off, then go on.
    fmt::print(stderr, "tributary-server: accept: {}\n", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e && !stopping.load(std::memory_order_relaxed)) DoAccept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto session = std::make_shared<Session>(std::move(socket), this);
  {
    util::MutexLock l(&mu);
    sessions.emplace(session.get(), session);
  }
  session->Run();
  DoAccept();
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
  tcp::resolver resolver(impl->ioc);
  auto results = resolver.resolve(options.host, std::to_string(options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("cannot resolve host '{}': {}", options.host, ec.message()));
  }
  tcp::endpoint ep = results.begin()->endpoint();
  tcp::acceptor& a = impl->acceptor;
  auto fail = [&](std::string_view what) {
    return absl::UnavailableError(fmt::format("{} {}:{}: {}", what, ep.address().to_string(),
                                              ep.port(), ec.message()));
  };
  if (a.open(ep.protocol(), ec); ec) return fail("open");
  if (a.set_option(net::socket_base::reuse_address(true), ec); ec) return fail("setsockopt");
  if (a.bind(ep, ec); ec) return fail("bind");
  if (a.listen(net::socket_base::max_listen_connections, ec); ec) return fail("listen");
  impl->local = a.local_endpoint(ec);
  if (ec) return fail("getsockname");
  impl->DoAccept();

  int n = options.threads > 0 ? options.threads
                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  Impl* p = impl.get();
  {
    util::MutexLock l(&p->mu);
    p->running_threads = n;
  }
  for (int i = 0; i < n; ++i) {
    p->threads.emplace_back([p] {
      while (true) {
        try {
          p->ioc.run();
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

void HttpServer::Shutdown() {
  Impl* p = impl_.get();
  if (p->stopping.exchange(true)) return;
  net::post(p->acceptor.get_executor(), [p] {
    beast::error_code ec;
    p->acceptor.close(ec);
    p->accept_retry.cancel();
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
    p->ioc.stop();
    // Pumps notice the stopped io_context within a second and end.
    util::MutexLock l(&p->mu);
    while (p->running_pumps > 0) p->done_cv.WaitFor(&p->mu, absl::Seconds(1));
  }
  for (std::thread& t : p->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace tributary::endpoint
