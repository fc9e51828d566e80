// Fuzz target: the endpoint's HTTP/2 layer (lib/endpoint/http2_session.h),
// in process: the bytes a client sends after the connection preface go
// into an Http2Connection (libnghttp2's server session and our callbacks:
// header collection and limits, bodies, stream bookkeeping, responses,
// streamed SubscribeToShard bodies) whose requests reach a real Endpoint
// over the EndpointFixture store (fixtures.h), as tributary-server's would.
//
// Input: raw HTTP/2 frames (SETTINGS, HEADERS with HPACK blocks, DATA,
// CONTINUATION, RST_STREAM, WINDOW_UPDATE, PING, GOAWAY, ...); the target
// sends the 24-byte preface before them. The input is fed in pieces whose
// sizes come from its own bytes, so frames split at every offset are tried;
// the server's output is drained after each piece. A streamed answer
// (SubscribeToShard) is pumped synchronously for its first pieces, then
// cancelled and finished.
//
// What must hold: the server's first bytes are its SETTINGS frame; a
// connection that Receive() ends has a GOAWAY in its output; the output is
// a sequence of whole frames; nothing crashes, leaks or trips a sanitizer.
// Seeds: make_http2_seeds.py (python3-h2).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "endpoint/endpoint.h"
#include "endpoint/http2_session.h"
#include "fuzz/fixtures.h"
#include "fuzz/fuzz_util.h"

namespace tributary::fuzz {
namespace {

class FuzzHost final : public endpoint::Http2Host {
 public:
  explicit FuzzHost(const endpoint::Endpoint* ep) : ep_(ep) {
    options_.max_body_bytes = 1 << 20;  // small, so the 413 path is reachable
    options_.http2_max_streams = 16;
  }
  const endpoint::ServerOptions& server_options() const override { return options_; }
  bool shutting_down() const override { return false; }
  endpoint::Response Answer(const endpoint::Request& in, std::string_view) override {
    if (in.method == "POST") return ep_->Handle(in);
    endpoint::Response r;
    r.status = 405;
    return r;
  }
  void AddResponseHeaders(const endpoint::Request&, int, const endpoint::Response& r,
                          HeaderSink add) override {
    add("x-amzn-RequestId", "fuzz");
    if (!r.error_type.empty()) add("x-amzn-ErrorType", r.error_type);
  }
  void PumpStarted() override {}
  void PumpEnded() override {}

 private:
  const endpoint::Endpoint* ep_;
  endpoint::ServerOptions options_;
};

// Whole frames from the front of `out`; false if a frame is cut or its
// length is beyond any SETTINGS_MAX_FRAME_SIZE the client could have set.
bool WholeFrames(std::string_view out, bool* goaway) {
  while (!out.empty()) {
    if (out.size() < 9) return false;
    const size_t len = (size_t{static_cast<uint8_t>(out[0])} << 16) |
                       (size_t{static_cast<uint8_t>(out[1])} << 8) | static_cast<uint8_t>(out[2]);
    if (len > (1 << 24) - 1 || out.size() < 9 + len) return false;
    if (out[3] == 7) *goaway = true;
    out.remove_prefix(9 + len);
  }
  return true;
}

}  // namespace
}  // namespace tributary::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tributary;
  using namespace tributary::fuzz;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  EndpointFixture fx;
  endpoint::EndpointOptions eo;
  eo.store_options = SmallStoreOptions(&fx.clock);
  endpoint::Endpoint ep(fx.store.get(), eo);
  FuzzHost host(&ep);
  std::vector<std::pair<int32_t, std::shared_ptr<endpoint::StreamFeed>>> pumps;
  endpoint::Http2Connection conn(&host, [&](int32_t id, std::shared_ptr<endpoint::StreamFeed> feed) {
    pumps.emplace_back(id, std::move(feed));
  });
  std::string out;
  bool goaway = false;
  // The server speaks first: its SETTINGS frame.
  conn.TakeOutput(&out, 1 << 20);
  FUZZ_CHECK(out.size() >= 9 && out[3] == 4, "the server's first frame is not SETTINGS");

  std::string bytes(endpoint::kHttp2Preface);
  bytes.append(input);
  std::string_view rest(bytes);
  bool alive = true;
  size_t step = 0;
  while (!rest.empty() && alive) {
    // Piece sizes from the input itself: 1..4096 bytes.
    const size_t n = std::min(rest.size(), size_t{1} + (static_cast<uint8_t>(rest[0]) * 16 + step++ * 7) % 4096);
    alive = conn.Receive(rest.substr(0, n));
    rest.remove_prefix(n);
    // Pump streamed answers synchronously: a few pieces, then cancel.
    for (auto& [id, feed] : pumps) {
      feed->body()->Cancel();
      std::string piece;
      for (int i = 0; i < 4 && feed->WaitForRoom(absl::ZeroDuration()) == endpoint::StreamFeed::Room::kYes &&
                      feed->body()->Next(&piece); ++i) {
        if (!feed->Push(piece)) break;
        piece.clear();
      }
      feed->Finish();
      conn.Resume(id);
    }
    pumps.clear();
    while (conn.TakeOutput(&out, 1 << 20)) {
    }
    fx.clock.Advance(absl::Milliseconds(100));
  }
  FUZZ_CHECK(WholeFrames(out, &goaway), "the server's output is not a sequence of whole frames");
  if (!alive) FUZZ_CHECK(goaway, "a connection ended by Receive() without a GOAWAY");
  return 0;
}
