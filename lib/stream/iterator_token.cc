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

// Shard iterators (version 2) have the outward shape of Kinesis' own
// (observed): 8 bytes 00 00 00 00 00 00 00 01, then a body whose total
// length is 152 plus a multiple of 16. Ours is the fields and their
// checksum, zero-padded to that length. Version 1 tokens (no header, no
// padding) still decode.
constexpr uint8_t kIteratorVersion2 = 2;
constexpr char kIteratorHeader[8] = {0, 0, 0, 0, 0, 0, 0, 1};

std::string EncodeIterator(const IteratorToken& t) {
  util::Encoder e;
  e.buffer().append(kIteratorHeader, sizeof(kIteratorHeader));
  e.U8(kIteratorKind);
  e.U8(kIteratorVersion2);
  e.U64(t.stream_incarnation);
  e.U32(t.shard_index);
  e.U64(t.position);
  e.I64(t.issued_ms);
  e.Str(t.stream_name);
  e.U64(XXH3_64bits(e.buffer().data(), e.buffer().size()));
  std::string& raw = e.buffer();
  size_t size = 152;
  while (size < raw.size()) size += 16;
  raw.resize(size, '\0');
  return absl::Base64Escape(absl::string_view(raw.data(), raw.size()));
}

absl::StatusOr<IteratorToken> DecodeIterator(std::string_view token) {
  IteratorToken t;
  uint8_t kind = 0, version = 0;
  bool ok = false;
  std::string raw;
  if (!token.empty() && token.size() <= 4096 &&
      absl::Base64Unescape(absl::string_view(token.data(), token.size()), &raw) && raw.size() >= 152 &&
      (raw.size() - 152) % 16 == 0 &&
      std::memcmp(raw.data(), kIteratorHeader, sizeof(kIteratorHeader)) == 0) {
    Reader r(std::string_view(raw).substr(sizeof(kIteratorHeader)));
    uint64_t sum = 0;
    ok = r.U8(&kind) && kind == kIteratorKind && r.U8(&version) && version == kIteratorVersion2 &&
         r.U64(&t.stream_incarnation) && r.U32(&t.shard_index) && r.U64(&t.position) &&
         r.I64(&t.issued_ms) && r.Str(&t.stream_name);
    const size_t body = raw.size() - sizeof(kIteratorHeader) - r.remaining();
    ok = ok && r.U64(&sum) && sum == XXH3_64bits(raw.data(), sizeof(kIteratorHeader) + body);
    // The padding is zeros and less than 16 bytes past 152.
    const size_t end = raw.size() - r.remaining();
    ok = ok && (raw.size() == 152 || raw.size() - end < 16);
    for (size_t i = end; ok && i < raw.size(); ++i) ok = raw[i] == '\0';
  } else {
    std::string body;
    if (Open(token, &body)) {
      Reader r(body);
      ok = r.U8(&kind) && kind == kIteratorKind && r.U8(&version) && version == kVersion &&
           r.U64(&t.stream_incarnation) && r.U32(&t.shard_index) && r.U64(&t.position) &&
           r.I64(&t.issued_ms) && r.Str(&t.stream_name) && r.done();
    }
  }
  // Kinesis' message for a token that is not one of its iterators.
  if (!ok) return InvalidArgumentError("Invalid ShardIterator.");
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
