#include "stream/iterator_token.h"

#include <xxhash.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "tributary/options.h"
#include "tributary/status.h"
#include "tributary/types.h"
#include "util/coding.h"

namespace tributary::stream {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kIteratorKind = 'I';

// Encoder plus the trailing checksum and base64 of every token.
class Writer : public util::Encoder {
 public:
  std::string Finish() {
    U64(XXH3_64bits(buffer().data(), buffer().size()));
    return absl::Base64Escape(absl::string_view(buffer().data(), buffer().size()));
  }
};

using Reader = util::Decoder;

// Base64-decodes and verifies the trailing checksum; returns the body.
bool Open(std::string_view token, std::string* body) {
  if (token.empty() || token.size() > 4096) return false;
  std::string raw;
  if (!absl::Base64Unescape(absl::string_view(token.data(), token.size()), &raw)) return false;
  if (raw.size() < 10) return false;
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) {
    want |= uint64_t{static_cast<uint8_t>(raw[raw.size() - 8 + i])} << (8 * i);
  }
  raw.resize(raw.size() - 8);
  if (XXH3_64bits(raw.data(), raw.size()) != want) return false;
  *body = std::move(raw);
  return true;
}

}  // namespace

std::string EncodeIterator(const IteratorToken& t) {
  Writer w;
  w.U8(kIteratorKind);
  w.U8(kVersion);
  w.U64(t.stream_incarnation);
  w.U32(t.shard_index);
  w.U64(t.position);
  w.I64(t.issued_ms);
  w.Str(t.stream_name);
  return w.Finish();
}

absl::StatusOr<IteratorToken> DecodeIterator(std::string_view token) {
  std::string body;
  IteratorToken t;
  uint8_t kind = 0, version = 0;
  bool ok = Open(token, &body);
  if (ok) {
    Reader r(body);
    ok = r.U8(&kind) && kind == kIteratorKind && r.U8(&version) && version == kVersion &&
         r.U64(&t.stream_incarnation) && r.U32(&t.shard_index) && r.U64(&t.position) &&
         r.I64(&t.issued_ms) && r.Str(&t.stream_name) && r.done();
  }
  if (!ok) return InvalidArgumentError("Invalid ShardIterator: not a shard iterator issued by this store");
  return t;
}

std::string EncodePageToken(const PageToken& t) {
  Writer w;
  w.U8(t.kind);
  w.U8(kVersion);
  w.U64(t.stream_incarnation);
  w.I64(t.issued_ms);
  w.U32(t.after_index);
  w.U8(t.filter_type);
  w.I64(t.filter_arg);
  w.U32(static_cast<uint32_t>(t.max_results));
  w.Str(t.stream_name);
  w.Str(t.after_name);
  return w.Finish();
}

absl::StatusOr<PageToken> DecodePageToken(std::string_view token, uint8_t expected_kind) {
  std::string body;
  PageToken t;
  uint8_t version = 0;
  uint32_t max_results = 0;
  bool ok = Open(token, &body);
  if (ok) {
    Reader r(body);
    ok = r.U8(&t.kind) && t.kind == expected_kind && r.U8(&version) && version == kVersion &&
         r.U64(&t.stream_incarnation) && r.I64(&t.issued_ms) && r.U32(&t.after_index) &&
         r.U8(&t.filter_type) && r.I64(&t.filter_arg) && r.U32(&max_results) &&
         r.Str(&t.stream_name) && r.Str(&t.after_name) && r.done();
    t.max_results = static_cast<int32_t>(max_results);
    // The checksum only catches damage: anyone can build a token that
    // passes it, so what the Store trusts is checked here. ListShards and
    // ListStreamConsumers page by max_results (a page of 0 would end with a
    // NextToken after no element); ListShards casts filter_type to its enum.
    if (ok && (expected_kind == 'S' || expected_kind == 'C')) {
      ok = t.max_results >= 1 && t.max_results <= limits::kMaxListLimit;
    }
    if (ok && expected_kind == 'S') {
      ok = t.filter_type <= static_cast<uint8_t>(ShardFilterType::kFromTimestamp);
    }
  }
  if (!ok) return InvalidArgumentError("Invalid NextToken: not a pagination token issued by this store");
  return t;
}

}  // namespace tributary::stream
