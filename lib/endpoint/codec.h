// What the two wire encodings (JSON 1.1 and CBOR 1.1) share: the errors a
// decoder raises, the scratch memory a request owns, and the interface every
// codec implements (documented here, implemented by json_codec.h and
// cbor_codec.h, consumed as template parameters by actions.cc).
//
// Reader interface (JsonObject, CborObject): a view of one request object.
//   Get<T>(key, std::optional<T>& out) -> absl::Status for
//     std::string_view (string), int64_t (integer), bool, absl::Time
//     (timestamp), Blob (bytes), Obj (nested object), std::vector<Obj>,
//     std::vector<std::string_view>, StringPairs (string -> string map).
//   A missing member and an explicit null both leave `out` empty (Kinesis
//   treats them alike). A member of the wrong type is SerializationException.
//   Views point into the request body, the parsed document or the request's
//   Scratch, and stay valid until the request is answered.
//
// Writer interface (JsonWriter, CborWriter): appends one response document.
//   StartObject/EndObject/StartArray/EndArray, Key(name), String(s), Int(i),
//   Bool(b), Blob(bytes), Timestamp(t).
#ifndef TRIBUTARY_LIB_ENDPOINT_CODEC_H_
#define TRIBUTARY_LIB_ENDPOINT_CODEC_H_

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tributary/status.h"

namespace tributary::endpoint {

// Bytes of a blob member (PutRecord Data): raw bytes, base64-decoded for JSON.
struct Blob {
  std::string_view bytes;
};

// A string -> string map member (Tags), in wire order.
using StringPairs = std::vector<std::pair<std::string_view, std::string_view>>;

// Memory a request's decoded values live in (decoded base64, joined CBOR
// string chunks). Addresses are stable until Reset(): a deque never moves
// its elements, and arena blocks are never moved or freed before the
// Scratch is destroyed. Reset() keeps the blocks, so a Scratch reused for
// request after request (Endpoint keeps one per thread) stops allocating.
class Scratch {
 public:
  std::string& NewString() { return strings_.emplace_back(); }

  // `n` bytes valid until Reset() or destruction.
  char* Allocate(size_t n) {
    while (block_ < blocks_.size() && blocks_[block_].size - used_ < n) {
      ++block_;
      used_ = 0;
    }
    if (block_ == blocks_.size()) {
      const size_t size = std::max(n, kBlockBytes);
      blocks_.push_back(Block{std::make_unique<char[]>(size), size});
      used_ = 0;
    }
    char* p = blocks_[block_].data.get() + used_;
    used_ += n;
    return p;
  }

  void Reset() {
    strings_.clear();
    block_ = 0;
    used_ = 0;
  }

 private:
  static constexpr size_t kBlockBytes = 256 << 10;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  std::deque<std::string> strings_;
  std::vector<Block> blocks_;
  size_t block_ = 0;  // the block Allocate takes from
  size_t used_ = 0;   // bytes of it in use
};

// Decodes base64 `b64` into `scratch`; false if it is not valid base64.
bool DecodeBase64(std::string_view b64, Scratch* scratch, std::string_view* out);

// The body could not be decoded, or a member has the wrong type.
inline absl::Status SerializationError(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kSerialization, message);
}

// The texts a Boolean member accepts, as AWS's deserializer does: true, yes
// and 1, false, no and 0, in any case; nullopt for any other.
std::optional<bool> BooleanText(std::string_view s);

// `member` (e.g. "PartitionKey" or "Records[3].Data") names where a value sits
// in the request, for messages.
std::string MemberPath(std::string_view parent, int index, std::string_view key);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_CODEC_H_
