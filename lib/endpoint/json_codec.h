// The JSON 1.1 encoding (application/x-amz-json-1.1): requests are parsed with
// simdjson's DOM parser, responses written with RapidJSON's Writer. Blobs are
// base64 (standard alphabet, padded); timestamps are epoch seconds as a JSON
// number with millisecond precision, which is what boto3, the AWS CLI and the
// AWS SDK for JavaScript send and expect.
//
// Thread safety: parsing uses a thread-local simdjson parser, so a JsonObject
// is valid only on the thread that parsed it and until that thread parses the
// next body. JsonWriter is one-thread-at-a-time.
#ifndef TRIBUTARY_LIB_ENDPOINT_JSON_CODEC_H_
#define TRIBUTARY_LIB_ENDPOINT_JSON_CODEC_H_

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "endpoint/codec.h"
#include "util/json_writer.h"

namespace tributary::endpoint {

// A view of one JSON object of the request (see codec.h for the interface).
class JsonObject {
 public:
  JsonObject(simdjson::dom::object obj, Scratch* scratch, std::string_view parent = {},
             int index = -1)
      : obj_(obj), scratch_(scratch), parent_(parent), index_(index) {}

  absl::Status Get(std::string_view key, std::optional<std::string_view>& out) const;
  absl::Status Get(std::string_view key, std::optional<int64_t>& out) const;
  absl::Status Get(std::string_view key, std::optional<bool>& out) const;
  absl::Status Get(std::string_view key, std::optional<absl::Time>& out) const;
  absl::Status Get(std::string_view key, std::optional<Blob>& out) const;
  absl::Status Get(std::string_view key, std::optional<JsonObject>& out) const;
  absl::Status Get(std::string_view key, std::optional<std::vector<JsonObject>>& out) const;
  absl::Status Get(std::string_view key, std::optional<std::vector<std::string_view>>& out) const;
  absl::Status Get(std::string_view key, std::optional<StringPairs>& out) const;

  // Where this object sits in the request ("" for the top level).
  std::string Path(std::string_view key) const { return MemberPath(parent_, index_, key); }

  // The parsed object and the request's scratch memory (the validator walks them).
  simdjson::dom::object raw() const { return obj_; }
  Scratch* scratch() const { return scratch_; }

 private:
  // The member's value; nullopt if it is missing or null.
  std::optional<simdjson::dom::element> Find(std::string_view key) const;
  absl::Status TypeError(std::string_view key, std::string_view expected,
                         simdjson::dom::element value) const;

  simdjson::dom::object obj_;
  Scratch* scratch_;
  std::string_view parent_;
  int index_;
};

// Parses `body` as one JSON object on this thread's parser. Malformed JSON,
// invalid UTF-8 or a top-level value that is not an object is
// SerializationException. Uses the spare capacity of `body` as simdjson's
// padding when there is enough; copies otherwise.
absl::StatusOr<JsonObject> ParseJsonRequest(const std::string& body, Scratch* scratch);

// Appends one JSON document to a std::string (the writer the remote
// backend uses too: lib/util/json_writer.h).
class JsonWriter : public util::JsonWriter {
 public:
  using util::JsonWriter::JsonWriter;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_JSON_CODEC_H_
