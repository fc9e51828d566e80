// Fuzz target: the shard-iterator and NextToken parser
// (lib/stream/iterator_token.cc) and every Store call that takes a token.
//
// Input: a mode byte, then
//   mode % 2 == 0: the token string as a caller would send it;
//   mode % 2 == 1: the token's body before its checksum; the target appends
//                  the XXH3 checksum and base64-encodes it, which is how
//                  anyone can forge a token (the checksum catches damage,
//                  it is not a security boundary, docs/CONCEPTS.md), so the
//                  Store must treat every field of a decodable token as
//                  untrusted.
//
// What must hold: decoding never crashes; a token that decodes re-encodes to
// one that decodes to the same fields; every Store call fed the token
// answers with data or a clear error, never InternalFailure.
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "fuzz/fixtures.h"
#include "fuzz/fuzz_util.h"
#include "stream/iterator_token.h"
#include "tributary/tributary.h"

namespace tributary::fuzz {
namespace {

void CheckAnswer(const absl::Status& s, std::string_view call) {
  CheckClearError(s, call);
  FUZZ_CHECK(s.ok() || GetErrorType(s) != ErrorType::kInternalFailure,
             std::string(call) + " with a bad token: " + s.ToString());
}

}  // namespace
}  // namespace tributary::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tributary;
  using namespace tributary::fuzz;
  // One store for every input: GetRecords and the listings change nothing,
  // so inputs stay independent.
  static TokenFixture* fx = new TokenFixture();
  Input in(data, size);
  const uint8_t mode = in.U8();
  std::string token;
  if (mode % 2 == 0) {
    token = std::string(in.Rest());
  } else {
    std::string body(in.Rest());
    std::string sum(8, '\0');
    PutLE(&sum, 0, Xxh3(body), 8);
    body += sum;
    token = absl::Base64Escape(body);
  }

  if (auto it = stream::DecodeIterator(token); it.ok()) {
    auto again = stream::DecodeIterator(stream::EncodeIterator(*it));
    FUZZ_CHECK(again.ok() && again->stream_name == it->stream_name &&
                   again->stream_incarnation == it->stream_incarnation &&
                   again->shard_index == it->shard_index && again->position == it->position &&
                   again->issued_ms == it->issued_ms,
               "iterator token round trip");
  } else {
    CheckClearError(it.status(), "DecodeIterator");
  }
  for (uint8_t kind : {'S', 'L', 'C'}) {
    if (auto t = stream::DecodePageToken(token, kind); t.ok()) {
      auto again = stream::DecodePageToken(stream::EncodePageToken(*t), kind);
      FUZZ_CHECK(again.ok() && again->stream_name == t->stream_name &&
                     again->after_index == t->after_index && again->after_name == t->after_name &&
                     again->filter_type == t->filter_type && again->filter_arg == t->filter_arg &&
                     again->max_results == t->max_results,
                 "page token round trip");
    }
  }

  Store& store = *fx->store;
  for (int limit : {1, 10000}) CheckAnswer(store.GetRecords(token, limit).status(), "GetRecords");
  ListShardsRequest ls;
  ls.next_token = token;
  CheckAnswer(store.ListShards(ls).status(), "ListShards");
  ls.max_results = 1;
  CheckAnswer(store.ListShards(ls).status(), "ListShards");
  ListStreamsRequest lst;
  lst.next_token = token;
  CheckAnswer(store.ListStreams(lst).status(), "ListStreams");
  lst.limit = 1;
  CheckAnswer(store.ListStreams(lst).status(), "ListStreams");
  ListStreamConsumersRequest lc;
  lc.stream = "s";
  lc.next_token = token;
  CheckAnswer(store.ListStreamConsumers(lc).status(), "ListStreamConsumers");
  lc.max_results = 1;
  CheckAnswer(store.ListStreamConsumers(lc).status(), "ListStreamConsumers");
  return 0;
}
