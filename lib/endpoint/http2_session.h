// HTTP/2 for tributary-server (libnghttp2's server session, under the same
// Asio io threads as HTTP/1.1): cleartext with prior knowledge (h2c) on the
// http port, and h2 on the https port (ALPN, or the preface inside TLS
// without ALPN). docs/ENDPOINT.md "HTTP/2" is the user-facing description.
//
// HttpServer accepts a connection, finishes TLS if any, and sniffs its first
// bytes (MatchHttp2Preface): the preface hands the connection to an
// Http2Session; anything else stays HTTP/1.1. Every request, whatever its
// transport, becomes the same endpoint::Request and is answered by the same
// Http2Host::Answer (HttpServer's routes, Endpoint::Handle for POST), so a
// route added there works over both protocols.
//
// Two layers:
//   * Http2Connection: the protocol, no I/O. Bytes in (Receive), bytes out
//     (TakeOutput); requests are answered inside Receive. Used by the
//     session below and by the fuzz target (tests/fuzz/http2_fuzz.cc).
//   * Http2Session: a Connection on a Transport (socket or TLS), with its
//     read and write loops, timeouts and the pump threads of streamed
//     responses.
//
// Limits (SETTINGS and checks; ServerOptions holds the numbers):
//   * SETTINGS_MAX_CONCURRENT_STREAMS http2_max_streams (one
//     SubscribeToShard per shard on one connection), no server push;
//   * stream and connection windows of max_body_bytes, so a 10 MiB
//     PutRecords (13.4 MiB of JSON) never waits for a WINDOW_UPDATE;
//   * SETTINGS_MAX_HEADER_LIST_SIZE 16 KiB (a larger header block is answered
//     431), at most 8 CONTINUATION frames per header block, RST_STREAM from
//     the client at most 1000 at once and 33/s after that (Rapid Reset):
//     beyond these the connection gets GOAWAY ENHANCE_YOUR_CALM / PROTOCOL_ERROR
//     and is closed;
//   * request bodies above max_body_bytes are answered 413; the bodies being
//     received on one connection hold at most 4 x max_body_bytes, streams
//     beyond that are refused (RST_STREAM REFUSED_STREAM, safe to retry);
//   * a streamed response (SubscribeToShard) buffers at most
//     kStreamQueueBytes beyond the event being sent: a client that does not
//     open its window stops the pump, which stops reading the shard.
//
// Thread safety: an Http2Connection is used by one thread at a time; an
// Http2Session runs on its io_context's thread, except its pump threads,
// which touch only their StreamFeed.
#ifndef TRIBUTARY_LIB_ENDPOINT_HTTP2_SESSION_H_
#define TRIBUTARY_LIB_ENDPOINT_HTTP2_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "endpoint/endpoint.h"
#include "endpoint/http_server.h"
#include "endpoint/transport.h"
#include "util/mutex.h"

struct nghttp2_session;

namespace tributary::endpoint {

inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class PrefaceMatch {
  kNo,       // not HTTP/2: serve HTTP/1.1
  kPartial,  // a proper prefix of the preface: read more
  kYes,      // starts with the whole preface
};
// Classifies the first bytes a client sent.
PrefaceMatch MatchHttp2Preface(std::string_view received);

// Bytes of a streamed response buffered beyond the piece being sent.
inline constexpr size_t kStreamQueueBytes = 256 << 10;

// What HttpServer lends its HTTP/2 connections. Called on the connection's
// thread, except PumpStarted/PumpEnded (any thread).
class Http2Host {
 public:
  using HeaderSink = absl::FunctionRef<void(std::string_view name, std::string_view value)>;

  virtual ~Http2Host() = default;
  virtual const ServerOptions& server_options() const = 0;
  virtual bool shutting_down() const = 0;
  // The answer to one request: the routes both protocols share. `target` is
  // the request target (path and query).
  virtual Response Answer(const Request& request, std::string_view target) = 0;
  // The headers of a response besides :status, content-type and
  // content-length (request id, error type, CORS, Allow); names as HTTP/1.1
  // spells them (the HTTP/2 layer lower-cases them).
  virtual void AddResponseHeaders(const Request& request, int status, const Response& response,
                                  HeaderSink add) = 0;
  virtual void PumpStarted() = 0;
  virtual void PumpEnded() = 0;
};

// A streamed response's body between its pump thread (which fills it from
// ResponseStream::Next) and the connection (which drains it into DATA
// frames as the client's window allows). Thread safety: Read and Close on
// the connection's thread, WaitForRoom/Push/Finish on the pump's.
class StreamFeed {
 public:
  explicit StreamFeed(std::shared_ptr<ResponseStream> body) : body_(std::move(body)) {}

  ResponseStream* body() { return body_.get(); }

  // Connection side: copies what is queued into a DATA frame (an
  // nghttp2_data_source_read_callback result: bytes, or
  // NGHTTP2_ERR_DEFERRED when nothing is queued yet).
  ssize_t Read(uint8_t* buf, size_t length, uint32_t* flags);
  // The stream or the connection is gone: the pump stops.
  void Close();

  // Pump side. Waits up to `max_wait` while kStreamQueueBytes are queued.
  enum class Room { kYes, kClosed, kNotYet };
  Room WaitForRoom(absl::Duration max_wait);
  // Queues a piece; false once closed.
  bool Push(std::string_view piece);
  // The body ended: END_STREAM after what is queued.
  void Finish();

 private:
  std::shared_ptr<ResponseStream> body_;
  util::Mutex mu_;
  util::CondVar room_;
  std::string queued_ ABSL_GUARDED_BY(mu_);
  size_t offset_ ABSL_GUARDED_BY(mu_) = 0;
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// The HTTP/2 protocol state of one connection, without I/O.
class Http2Connection {
 public:
  // Called when a stream answers with a Response::stream: the owner starts
  // a pump that fills `feed` and calls Resume(stream_id) when it added data.
  using StartPump = std::function<void(int32_t stream_id, std::shared_ptr<StreamFeed> feed)>;

  Http2Connection(Http2Host* host, StartPump start_pump);
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Feeds bytes the client sent (the preface first) and answers the
  // requests they complete. False when the connection must end (a protocol
  // error or a limit): the GOAWAY that says why is in TakeOutput().
  bool Receive(std::string_view bytes);
  // Appends frames to send, up to about `max` bytes; false if none.
  bool TakeOutput(std::string* out, size_t max);
  // A pump added data to (or finished) the stream's feed.
  void Resume(int32_t stream_id);
  // Graceful shutdown: GOAWAY now, streamed responses end (END_STREAM);
  // done() once every open stream finished and the output was taken.
  void Shutdown();
  // The connection is gone: every feed is closed, every pump stops.
  void Abort();

  bool wants_read() const;
  bool done() const;  // neither wants to read nor has anything to send
  bool failed() const { return failed_; }  // a protocol error or a limit ended it
  size_t open_streams() const { return streams_.size(); }

 private:
  struct Stream;
  friend struct Http2Callbacks;

  void Dispatch(int32_t stream_id);
  std::string TakeSpare();
  void Recycle(std::string&& buffer);
  void Submit(Stream& s, const Request& in, Response r);
  Stream* Find(int32_t id);

  Http2Host* host_;
  StartPump start_pump_;
  nghttp2_session* session_ = nullptr;
  absl::flat_hash_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<int32_t> ready_;  // streams whose request ended, in order
  size_t buffered_body_bytes_ = 0;
  std::vector<std::string> spare_;  // body buffers for new streams
  bool failed_ = false;
};

// An Http2Connection on a transport. Created by HttpServer after the
// preface (or ALPN h2) was seen.
class Http2Session : public std::enable_shared_from_this<Http2Session> {
 public:
  // Takes over `transport`; `received` are the bytes already read from it
  // (all or part of the preface, or more). `owner` is kept alive as long as
  // the session (HttpServer's connection record).
  static std::shared_ptr<Http2Session> Start(Transport transport, Http2Host* host,
                                             net::io_context* context, std::string_view received,
                                             std::shared_ptr<void> owner);
  ~Http2Session();

  // On the connection's thread: GOAWAY, streamed responses end, the
  // connection closes once its streams finished.
  void Stop();

 private:
  Http2Session(Transport transport, Http2Host* host, net::io_context* context,
               std::shared_ptr<void> owner);
  void OnBytes(std::string_view bytes);
  void DoRead();
  void Flush();
  void ArmWatchdog();
  void UpdateDeadline();
  void Close();
  void RunPump(int32_t stream_id, std::shared_ptr<StreamFeed> feed);

  Transport transport_;
  Http2Host* host_;
  net::io_context* context_;
  std::shared_ptr<void> owner_;
  Timer watchdog_;
  SteadyClock::time_point deadline_;
  Http2Connection connection_;
  std::string in_;
  std::string out_;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_HTTP2_SESSION_H_
