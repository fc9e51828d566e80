#include "endpoint/http2_session.h"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "tributary/status.h"
#include "util/mutex.h"

namespace tributary::endpoint {

namespace {

constexpr uint32_t kMaxHeaderListBytes = 16 * 1024;
constexpr size_t kReadChunk = size_t{64} * 1024;
// Spare body buffers a connection keeps, and the largest it keeps.
constexpr size_t kMaxSpares = 4;
constexpr size_t kMaxSpareBytes = 4 << 20;
constexpr size_t kWriteChunk = size_t{256} * 1024;
constexpr auto kNoDeadline = SteadyClock::time_point::max();
// Rapid Reset (CVE-2023-44487): a burst of this many client RST_STREAMs,
// then this many per second; beyond, GOAWAY and close.
constexpr uint64_t kResetBurst = 1000;
constexpr uint64_t kResetRate = 33;
// CONTINUATION flood (CVE-2024-27316 and kin): frames per header block.
constexpr size_t kMaxContinuations = 8;

std::chrono::milliseconds Ms(absl::Duration d) { return absl::ToChronoMilliseconds(d); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

PrefaceMatch MatchHttp2Preface(std::string_view received) {
  const size_t n = std::min(received.size(), kHttp2Preface.size());
  if (received.substr(0, n) != kHttp2Preface.substr(0, n)) return PrefaceMatch::kNo;
  return n == kHttp2Preface.size() ? PrefaceMatch::kYes : PrefaceMatch::kPartial;
}

// ------------------------------------------------------------------ StreamFeed

ssize_t StreamFeed::Read(uint8_t* buf, size_t length, uint32_t* flags) {
  util::MutexLock l(&mu_);
  const size_t avail = queued_.size() - offset_;
  if (avail == 0) {
    if (eof_) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    return NGHTTP2_ERR_DEFERRED;
  }
  const size_t n = std::min(avail, length);
  std::memcpy(buf, queued_.data() + offset_, n);
  offset_ += n;
  if (offset_ == queued_.size()) {
    queued_.clear();
    offset_ = 0;
    if (eof_) *flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  if (queued_.size() - offset_ < kStreamQueueBytes) room_.SignalAll();
  return static_cast<ssize_t>(n);
}

void StreamFeed::Close() {
  {
    util::MutexLock l(&mu_);
    closed_ = true;
    room_.SignalAll();
  }
  body_->Cancel();
}

StreamFeed::Room StreamFeed::WaitForRoom(absl::Duration max_wait) {
  const absl::Time deadline = absl::Now() + max_wait;
  util::MutexLock l(&mu_);
  while (!closed_ && queued_.size() - offset_ >= kStreamQueueBytes) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return Room::kNotYet;
    room_.WaitFor(&mu_, left);
  }
  return closed_ ? Room::kClosed : Room::kYes;
}

bool StreamFeed::Push(std::string_view piece) {
  util::MutexLock l(&mu_);
  if (closed_) return false;
  queued_.append(piece);
  return true;
}

void StreamFeed::Finish() {
  util::MutexLock l(&mu_);
  eof_ = true;
}

// ------------------------------------------------------------------ Http2Connection

struct Http2Connection::Stream {
  explicit Stream(int32_t i) : id(i) {}
  int32_t id;
  // The request.
  std::string method, path, authority;
  std::vector<std::pair<std::string, std::string>> headers;  // regular ones, as received
  std::string body;
  size_t header_bytes = 0;
  bool header_too_large = false;
  bool body_too_large = false;
  bool refused = false;  // RST_STREAM REFUSED_STREAM sent: never answered
  bool dispatched = false;
  // The response.
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::string out_body;
  size_t out_offset = 0;
  std::shared_ptr<StreamFeed> feed;
};

struct Http2Callbacks {
  static Http2Connection* Self(void* user) { return static_cast<Http2Connection*>(user); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Connection* c = Self(user);
    auto s = std::make_unique<Http2Connection::Stream>(frame->hd.stream_id);
    s->body = c->TakeSpare();
    c->streams_[frame->hd.stream_id] = std::move(s);
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name_data,
                      size_t name_len, const uint8_t* value_data, size_t value_len, uint8_t,
                      void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Connection::Stream* s = Self(user)->Find(frame->hd.stream_id);
    if (s == nullptr || s->header_too_large) return 0;
    s->header_bytes += name_len + value_len + 32;  // RFC 9113's accounting
    if (s->header_bytes > kMaxHeaderListBytes) {
      s->header_too_large = true;
      s->headers.clear();
      return 0;
    }
    std::string_view name(reinterpret_cast<const char*>(name_data), name_len);
    std::string_view value(reinterpret_cast<const char*>(value_data), value_len);
    if (name == ":method") {
      s->method = value;
    } else if (name == ":path") {
      s->path = value;
    } else if (name == ":authority") {
      s->authority = value;
    } else if (!name.empty() && name[0] == ':') {
      // :scheme, :protocol: nothing to keep.
    } else {
      if (name == "content-length") {
        uint64_t n = 0;
        const size_t cap = Self(user)->host_->server_options().max_body_bytes;
        if (absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &n) && n <= cap) s->body.reserve(static_cast<size_t>(n) + 64);
      }
      s->headers.emplace_back(name, value);
    }
    return 0;
  }

  static int OnData(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                    size_t len, void* user) {
    Http2Connection* c = Self(user);
    Http2Connection::Stream* s = c->Find(stream_id);
    if (s == nullptr || s->body_too_large || s->header_too_large || s->refused) return 0;
    const size_t cap = c->host_->server_options().max_body_bytes;
    if (s->body.size() + len > cap) {
      c->buffered_body_bytes_ -= s->body.size();
      s->body_too_large = true;
      std::string().swap(s->body);
      return 0;
    }
    if (c->buffered_body_bytes_ + len > 4 * cap) {
      // Too much in flight on this connection: refuse this stream (the
      // client may retry it; nothing of it was processed).
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
      s->refused = true;
      return 0;
    }
    s->body.append(reinterpret_cast<const char*>(data), len);
    c->buffered_body_bytes_ += len;
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      Http2Connection* c = Self(user);
      Http2Connection::Stream* s = c->Find(frame->hd.stream_id);
      if (s != nullptr && !s->dispatched && !s->refused) {
        s->dispatched = true;
        c->ready_.push_back(frame->hd.stream_id);
      }
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
    Http2Connection* c = Self(user);
    auto it = c->streams_.find(stream_id);
    if (it == c->streams_.end()) return 0;
    if (it->second->feed != nullptr) it->second->feed->Close();
    c->buffered_body_bytes_ -= std::min(c->buffered_body_bytes_, it->second->body.size());
    c->Recycle(std::move(it->second->body));
    c->Recycle(std::move(it->second->out_body));
    c->streams_.erase(it);
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* s = static_cast<Http2Connection::Stream*>(source->ptr);
    if (s->feed != nullptr) return s->feed->Read(buf, length, flags);
    const size_t n = std::min(length, s->out_body.size() - s->out_offset);
    std::memcpy(buf, s->out_body.data() + s->out_offset, n);
    s->out_offset += n;
    if (s->out_offset == s->out_body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

Http2Connection::Http2Connection(Http2Host* host, StartPump start_pump)
    : host_(host), start_pump_(std::move(start_pump)) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Http2Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Http2Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Http2Callbacks::OnData);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Http2Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Http2Callbacks::OnStreamClose);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_stream_reset_rate_limit(opt, kResetBurst, kResetRate);
  nghttp2_option_set_max_continuations(opt, kMaxContinuations);
  nghttp2_session_server_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);

  const ServerOptions& o = host_->server_options();
  const uint32_t window =
      static_cast<uint32_t>(std::min<size_t>(o.max_body_bytes, NGHTTP2_MAX_WINDOW_SIZE));
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, o.http2_max_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, kMaxHeaderListBytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(window));
  if (host_->shutting_down()) Shutdown();
}

Http2Connection::~Http2Connection() {
  Abort();
  nghttp2_session_del(session_);
}

// Body buffers go from finished streams to new ones (request bodies and
// response bodies alike), so a connection does not allocate, and fault in,
// fresh memory for every request; HTTP/1.1 reuses its buffers the same way.
std::string Http2Connection::TakeSpare() {
  if (spare_.empty()) return {};
  std::string s = std::move(spare_.back());
  spare_.pop_back();
  s.clear();
  return s;
}

void Http2Connection::Recycle(std::string&& buffer) {
  if (buffer.capacity() < 4096 || buffer.capacity() > kMaxSpareBytes || spare_.size() >= kMaxSpares) return;
  spare_.push_back(std::move(buffer));
}

Http2Connection::Stream* Http2Connection::Find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool Http2Connection::Receive(std::string_view bytes) {
  if (failed_) return false;
  const ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                             bytes.size());
  if (n < 0) {
    // A protocol error nghttp2 did not already answer with GOAWAY (bad
    // preface, flood limits): say so, then the connection ends.
    const uint32_t code = n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS
                              ? NGHTTP2_ENHANCE_YOUR_CALM
                              : NGHTTP2_PROTOCOL_ERROR;
    nghttp2_session_terminate_session(session_, code);
    failed_ = true;
  }
  // Answer the requests that ended, in the order they ended.
  std::vector<int32_t> ready;
  ready.swap(ready_);
  for (int32_t id : ready) Dispatch(id);
  return !failed_;
}

void Http2Connection::Dispatch(int32_t id) {
  Stream* s = Find(id);
  if (s == nullptr) return;  // reset before it was answered
  Request in;
  in.method = s->method;
  std::string_view target = s->path;
  const size_t q = target.find('?');
  in.path = target.substr(0, q);
  if (q != std::string_view::npos) in.query = target.substr(q + 1);
  bool have_host = false;
  for (const auto& [name, value] : s->headers) {
    if (name == "host") {
      have_host = true;
      in.host = value;
    }
  }
  if (!have_host) in.host = s->authority;
  // :authority is HTTP/2's Host (RFC 9113 8.3.1): SigV4 signed it as "host".
  if (!have_host && !s->authority.empty()) in.headers.emplace_back("host", s->authority);
  for (const auto& [name, value] : s->headers) {
    in.headers.emplace_back(name, value);
    if (name == "x-amz-target") {
      in.amz_target = value;
    } else if (name == "content-type") {
      in.content_type = value;
    } else if (name == "authorization") {
      in.authorization = value;
    }
  }
  buffered_body_bytes_ -= std::min(buffered_body_bytes_, s->body.size());
  if (s->body.capacity() < s->body.size() + 64) s->body.reserve(s->body.size() + 64);
  in.body = &s->body;
  std::string response_storage = TakeSpare();
  in.response_storage = &response_storage;  // Handle() moves it into the body
  Response r;
  if (s->header_too_large) {
    r = Endpoint::ErrorResponse(
        {}, MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kSerialization,
                      fmt::format("The request header exceeds {} bytes", kMaxHeaderListBytes)));
    r.status = 431;
  } else if (s->body_too_large) {
    r = Endpoint::ErrorResponse(
        in.content_type,
        MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kSerialization,
                  fmt::format("The request body exceeds the server's limit of {} bytes "
                              "(--max-body-bytes)",
                              host_->server_options().max_body_bytes)));
    r.status = 413;
  } else {
    r = host_->Answer(in, target);
  }
  Recycle(std::move(response_storage));  // unused when the answer did not take it
  Submit(*s, in, std::move(r));
}

void Http2Connection::Submit(Stream& s, const Request& in, Response r) {
  const bool streamed = r.stream != nullptr;
  auto& h = s.response_headers;
  h.clear();
  h.emplace_back(":status", std::to_string(r.status));
  h.emplace_back("content-type", r.content_type);
  if (!streamed) h.emplace_back("content-length", std::to_string(r.body.size()));
  host_->AddResponseHeaders(in, r.status, r, [&h](std::string_view name, std::string_view value) {
    h.emplace_back(Lower(name), value);
  });
  std::vector<nghttp2_nv> nva;
  nva.reserve(h.size());
  for (auto& [name, value] : h) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  if (host_->server_options().log_requests) {
    fmt::print(stderr, "tributary-server: h2 {} {} {} -> {} {}\n", in.method, s.path, in.amz_target,
               r.status, streamed ? "(event stream)" : r.error_type);
  }
  // The request's memory is not needed any more: the next stream's.
  Recycle(std::move(s.body));
  s.body.clear();
  nghttp2_data_provider provider;
  provider.source.ptr = &s;
  provider.read_callback = &Http2Callbacks::ReadBody;
  if (streamed) {
    s.feed = std::make_shared<StreamFeed>(std::move(r.stream));
    nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), &provider);
    start_pump_(s.id, s.feed);
    return;
  }
  s.out_body = std::move(r.body);
  nghttp2_submit_response(session_, s.id, nva.data(), nva.size(),
                          s.out_body.empty() ? nullptr : &provider);
}

bool Http2Connection::TakeOutput(std::string* out, size_t max) {
  const size_t before = out->size();
  while (out->size() - before < max) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      failed_ = true;
      break;
    }
    if (n == 0) break;
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return out->size() > before;
}

void Http2Connection::Resume(int32_t stream_id) {
  if (Find(stream_id) != nullptr) nghttp2_session_resume_data(session_, stream_id);
}

void Http2Connection::Shutdown() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  // Subscriptions end as at their lifetime's end: END_STREAM, then the
  // client resubscribes (elsewhere) from its continuation.
  for (auto& [id, s] : streams_) {
    if (s->feed != nullptr) s->feed->body()->Cancel();
  }
}

void Http2Connection::Abort() {
  for (auto& [id, s] : streams_) {
    if (s->feed != nullptr) s->feed->Close();
  }
}

bool Http2Connection::wants_read() const { return !failed_ && nghttp2_session_want_read(session_) != 0; }

bool Http2Connection::done() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

// ------------------------------------------------------------------ Http2Session

std::shared_ptr<Http2Session> Http2Session::Start(Transport transport, Http2Host* host,
                                                  net::io_context* context, std::string_view received,
                                                  std::shared_ptr<void> owner) {
  std::shared_ptr<Http2Session> s(
      new Http2Session(std::move(transport), host, context, std::move(owner)));
  s->ArmWatchdog();
  s->OnBytes(received);
  return s;
}

Http2Session::Http2Session(Transport transport, Http2Host* host, net::io_context* context,
                           std::shared_ptr<void> owner)
    : transport_(std::move(transport)),
      host_(host),
      context_(context),
      owner_(std::move(owner)),
      watchdog_(context->get_executor()),
      connection_(host, [this](int32_t id, std::shared_ptr<StreamFeed> feed) {
        RunPump(id, std::move(feed));
      }) {
  in_.resize(kReadChunk);
  deadline_ = kNoDeadline;
}

Http2Session::~Http2Session() { connection_.Abort(); }

void Http2Session::Stop() {
  if (closed_) return;
  connection_.Shutdown();
  Flush();
}

void Http2Session::OnBytes(std::string_view bytes) {
  if (closed_) return;
  if (!bytes.empty()) connection_.Receive(bytes);
  Flush();
  DoRead();
}

void Http2Session::DoRead() {
  if (closed_ || reading_ || !connection_.wants_read()) return;
  reading_ = true;
  transport_.async_read_some(net::buffer(in_), [self = shared_from_this()](
                                                   boost::system::error_code ec, size_t n) {
    self->reading_ = false;
    if (ec) return self->Close();  // the client went away (or the watchdog closed it)
    self->OnBytes(std::string_view(self->in_.data(), n));
  });
}

void Http2Session::Flush() {
  if (closed_ || writing_) return;
  out_.clear();
  if (!connection_.TakeOutput(&out_, kWriteChunk)) {
    // Done, or failed with its GOAWAY already sent: nothing more will come.
    if (connection_.done() || connection_.failed()) return Close();
    UpdateDeadline();
    return;
  }
  writing_ = true;
  UpdateDeadline();
  net::async_write(transport_, net::buffer(out_),
                   [self = shared_from_this()](boost::system::error_code ec, size_t) {
                     self->writing_ = false;
                     if (ec) return self->Close();
                     self->Flush();
                     self->DoRead();  // a read may have waited for the output to go
                   });
}

// A write that does not finish within body_timeout (the client stopped
// reading), or a connection without open streams for idle_timeout, is
// closed. A stream that is open (a subscription) keeps it.
void Http2Session::UpdateDeadline() {
  const ServerOptions& o = host_->server_options();
  if (writing_) {
    deadline_ = SteadyClock::now() + Ms(o.body_timeout);
  } else if (connection_.open_streams() == 0) {
    deadline_ = SteadyClock::now() + Ms(o.idle_timeout);
  } else {
    deadline_ = kNoDeadline;
  }
}

void Http2Session::ArmWatchdog() {
  const ServerOptions& o = host_->server_options();
  const absl::Duration period =
      std::clamp(std::min(o.idle_timeout, o.body_timeout) / 4, absl::Milliseconds(10), absl::Seconds(1));
  watchdog_.expires_after(Ms(period));
  watchdog_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    if (SteadyClock::now() >= self->deadline_) return self->Close();
    self->ArmWatchdog();
  });
}

void Http2Session::Close() {
  if (closed_) return;
  closed_ = true;
  connection_.Abort();
  boost::system::error_code ec;
  transport_.close(ec);
  watchdog_.cancel();
}

void Http2Session::RunPump(int32_t stream_id, std::shared_ptr<StreamFeed> feed) {
  host_->PumpStarted();
  auto work = net::make_work_guard(*context_);  // run() goes on while the pump waits
  const Executor ex = transport_.get_executor();
  std::thread([self = shared_from_this(), stream_id, feed = std::move(feed), ex,
               work = std::move(work)]() mutable {
    Http2Host* host = self->host_;
    auto resume = [&] {
      net::post(ex, [self, stream_id] {
        self->connection_.Resume(stream_id);
        self->Flush();
      });
    };
    std::string piece;
    // Room, or the stream closed, or (a forced shutdown stopped the
    // io_context, so nothing will drain the queue) give up.
    auto room = [&] {
      while (true) {
        switch (feed->WaitForRoom(absl::Seconds(1))) {
          case StreamFeed::Room::kYes: return true;
          case StreamFeed::Room::kClosed: return false;
          case StreamFeed::Room::kNotYet:
            if (self->context_->stopped()) return false;
            break;
        }
      }
    };
    try {
      while (room()) {
        piece.clear();
        if (!feed->body()->Next(&piece)) {
          feed->Finish();
          resume();
          break;
        }
        if (piece.empty()) continue;
        if (!feed->Push(piece)) break;
        resume();
      }
    } catch (const std::exception& e) {
      fmt::print(stderr, "tributary-server: event stream failed: {}\n", e.what());
      feed->Finish();
      resume();
    }
    feed.reset();
    self.reset();
    work.reset();
    host->PumpEnded();
  }).detach();
}

}  // namespace tributary::endpoint
