// JsonWriter: appends one JSON document to a std::string, fast on what the
// Kinesis JSON protocol is made of (base64 blobs, member names, sequence
// numbers). Built on RapidJSON's Writer, which keeps the separators and the
// nesting right; the bulk of the bytes (blobs, strings that need no escaping)
// bypass its per-character path and are appended whole.
//
// Used by the endpoint for responses (lib/endpoint/json_codec.h) and by the
// remote backend for requests (lib/remote/remote_backend.cc): one writer, so
// both ends of the wire encode the same way (docs/ENDPOINT.md "Encoding").
//
// Thread safety: one thread at a time.
#ifndef TRIBUTARY_LIB_UTIL_JSON_WRITER_H_
#define TRIBUTARY_LIB_UTIL_JSON_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace tributary::util {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out);
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void StartObject();
  void EndObject();
  void StartArray();
  void EndArray();
  // Member names of the Kinesis API: ASCII letters, copied as they are.
  void Key(std::string_view name);
  // Escaped as JSON needs (checked in one pass; most need nothing).
  void String(std::string_view s);
  // A string known to need no escaping (digits, ASCII letters, '-', ...):
  // copied as is. For sequence numbers, shard ids and other values the
  // caller formats itself.
  void SafeString(std::string_view s);
  void Int(int64_t v);
  void Bool(bool v);
  void Blob(std::string_view bytes);  // base64, standard alphabet, padded
  void Timestamp(absl::Time t);       // epoch seconds, millisecond precision

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::util

#endif  // TRIBUTARY_LIB_UTIL_JSON_WRITER_H_
