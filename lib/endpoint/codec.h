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

#include <deque>
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
// string chunks). Addresses are stable: a deque never moves its elements.
class Scratch {
 public:
  std::string& NewString() { return strings_.emplace_back(); }

 private:
  std::deque<std::string> strings_;
};

// The body could not be decoded, or a member has the wrong type.
inline absl::Status SerializationError(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kSerialization, message);
}

// `member` (e.g. "PartitionKey" or "Records[3].Data") names where a value sits
// in the request, for messages.
std::string MemberPath(std::string_view parent, int index, std::string_view key);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_CODEC_H_
