// Fuzz target: the endpoint's request handling (lib/endpoint), in process:
// Endpoint::Handle(Request), the function the HTTP server calls for every
// POST, with JSON 1.1 and CBOR 1.1 bodies, headers, SigV4 Authorization
// headers and account selection.
//
// Input: an optional first line "#signed" (the endpoint verifies SigV4
// signatures for access key AKIDFUZZ / secret "fuzz-secret") or "#accounts"
// (the access key id selects the account and its store), then up to 8
// requests separated by a line "--next--". Each request is
//   line 1: the action ("PutRecord" -> X-Amz-Target Kinesis_20131202.PutRecord;
//           a line starting with '!' is the raw X-Amz-Target after the '!');
//   line 2: the content type ("json" and "cbor" stand for
//           application/x-amz-json-1.1 and application/x-amz-cbor-1.1;
//           anything else is sent as is);
//   then any number of lines "H <name>: <value>" (headers; Authorization
//           also becomes Request::authorization), "M <method>" and
//           "P <path>[?<query>]";
//   the rest: the body.
// Every input starts from a fresh EndpointFixture (fixtures.h: ManualClock
// at 2024-01-01, stream "s" with 2 shards and 10 records, stream "t"), so a
// crash reproduces from its input alone. In a body, "@ITER0@" or "@ITER1@"
// padded with '@' to the length of an iterator (60 characters) stands for a
// TRIM_HORIZON iterator of shard 0 or 1 of "s", so GetRecords gets past the
// iterator check. A streamed answer (SubscribeToShard) is read for its first
// two pieces, then cancelled and drained.
//
// What must hold: every request gets an answer; it is 200, or 400/403/404
// with a Kinesis error type (a malformed or unsigned request is the
// client's fault; 403 and 404 are AWS's answers in the XML and deprecated
// JSON protocols), never 500 but for the one InternalFailure Kinesis
// answers for bad input (an old, version-0 StartingSequenceNumber of the
// right shard, docs/CONCEPTS.md); an error answer names its type in its body.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "endpoint/endpoint.h"
#include "fuzz/fixtures.h"
#include "fuzz/fuzz_util.h"
#include "tributary/tributary.h"

namespace tributary::fuzz {
namespace {

constexpr std::string_view kSeparator = "\n--next--\n";

std::vector<std::string_view> SplitRequests(std::string_view all) {
  std::vector<std::string_view> out;
  while (out.size() < 8) {
    size_t p = all.find(kSeparator);
    out.push_back(all.substr(0, p));
    if (p == std::string_view::npos) break;
    all.remove_prefix(p + kSeparator.size());
  }
  return out;
}

}  // namespace
}  // namespace tributary::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tributary;
  using namespace tributary::fuzz;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  EndpointFixture fx;
  endpoint::EndpointOptions eo;
  eo.store_options = SmallStoreOptions(&fx.clock);
  if (all.substr(0, 8) == "#signed\n") {
    eo.credentials["AKIDFUZZ"] = "fuzz-secret";
    all.remove_prefix(8);
  } else if (all.substr(0, 10) == "#accounts\n") {
    eo.account_from_access_key = true;
    all.remove_prefix(10);
  }
  endpoint::Endpoint ep(fx.store.get(), eo);
  // Placeholders for valid iterators: "@ITER0@" / "@ITER1@" padded with '@'
  // to an iterator's length are replaced in place (same length, so CBOR
  // framing survives) by TRIM_HORIZON iterators of shard 0 / 1 of "s".
  std::string iters[2] = {fx.Iterator(0), fx.Iterator(1)};
  // TRIBUTARY_FUZZ_VERBOSE=1: print each request's answer (for checking seeds).
  static const bool verbose = std::getenv("TRIBUTARY_FUZZ_VERBOSE") != nullptr;

  int n = 0;
  for (std::string_view req : SplitRequests(all)) {
    Input in(req);
    std::string_view action = in.Line();
    std::string target = !action.empty() && action[0] == '!'
                             ? std::string(action.substr(1))
                             : std::string(endpoint::kTargetPrefix) + std::string(action);
    std::string_view ct = in.Line();
    if (ct == "json") ct = endpoint::kJsonContentType;
    if (ct == "cbor") ct = endpoint::kCborContentType;
    endpoint::Request r;
    r.amz_target = target;
    r.content_type = ct;
    r.headers.emplace_back("X-Amz-Target", r.amz_target);
    r.headers.emplace_back("Content-Type", r.content_type);
    std::string_view rest = in.Rest();
    while (rest.size() >= 2 && (rest.substr(0, 2) == "H " || rest.substr(0, 2) == "M " ||
                                rest.substr(0, 2) == "P ")) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(2, nl == std::string_view::npos ? nl : nl - 2);
      const char kind = rest[0];
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      if (kind == 'M') {
        r.method = line;
      } else if (kind == 'P') {
        size_t q = line.find('?');
        r.path = line.substr(0, q);
        if (q != std::string_view::npos) r.query = line.substr(q + 1);
      } else {
        size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        std::string_view value =
            colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers.emplace_back(name, value);
        if (name.size() == 13 && (name[0] == 'A' || name[0] == 'a') &&
            name.substr(1) == "uthorization") {
          r.authorization = value;
        }
      }
    }
    // simdjson parses in place when the body has 64 bytes of spare capacity
    // (the server reserves them) and copies otherwise: both paths run.
    std::string body;
    if (n++ % 2 == 1) body.reserve(rest.size() + 64);
    body.assign(rest);
    for (int i = 0; i < 2; ++i) {
      std::string ph = "@ITER" + std::to_string(i) + "@";
      ph.resize(iters[i].size(), '@');
      for (size_t p = body.find(ph); p != std::string::npos; p = body.find(ph, p + ph.size())) {
        body.replace(p, ph.size(), iters[i]);
      }
    }
    r.body = &body;
    endpoint::Response res = ep.Handle(r);
    if (verbose) {
      std::fprintf(stderr, "  %s -> %d %s\n", target.c_str(), res.status,
                   std::string(res.error_type).c_str());
    }
    const bool kinesis_500 =
        res.status == 500 && res.error_message.find("is of an unsupported layout") != std::string::npos;
    FUZZ_CHECK(res.status == 200 || res.status == 400 || res.status == 403 || res.status == 404 || kinesis_500,
               "HTTP " + std::to_string(res.status) + " " + std::string(res.error_type) + " for " +
                   target + ": " + res.body.substr(0, 300) + " " + res.error_message);
    if (res.status != 200) {
      FUZZ_CHECK(!res.error_type.empty(), "an error without a type");
      FUZZ_CHECK(res.body.find(res.error_type) != std::string::npos, "an error body that does not name its type");
    }
    if (res.stream) {
      std::string piece;
      for (int i = 0; i < 2 && res.stream->Next(&piece); ++i) {
      }
      res.stream->Cancel();
      for (int i = 0; i < 4 && res.stream->Next(&piece); ++i) {
      }
    }
    fx.clock.Advance(absl::Seconds(1));
  }
  return 0;
}
