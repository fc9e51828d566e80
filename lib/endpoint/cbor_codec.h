// The CBOR 1.1 encoding (application/x-amz-cbor-1.1), which the AWS SDK for
// Java uses for Kinesis by default. Requests are decoded and responses
// encoded with libcbor. Blobs are CBOR byte strings (a base64 text string is
// accepted too); timestamps follow the Java SDK's convention: tag 1 wrapping
// an integer of epoch *milliseconds* (not RFC 8949's seconds). Requests may
// also send the timestamp untagged, or as a tag-0 RFC 3339 string. Responses
// use indefinite-length maps and arrays, as the Java SDK's encoder does.
//
// Thread safety: a CborDocument and its CborObjects are one-thread-at-a-time;
// CborWriter is one-thread-at-a-time.
#ifndef TRIBUTARY_LIB_ENDPOINT_CBOR_CODEC_H_
#define TRIBUTARY_LIB_ENDPOINT_CBOR_CODEC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "endpoint/codec.h"

struct cbor_item_t;  // libcbor

namespace tributary::endpoint {

// libcbor's cbor_is_bool, cbor_is_null and cbor_is_undef assert (abort, in
// Debian's build) when given a float: they read the simple value of any
// major-type-7 item. A request body holding a float where a Boolean or a
// null may be must be an error answer, not a crash, so every test of a
// request item goes through these, which check the width first.
bool CborIsBool(const cbor_item_t* item);
bool CborIsNullOrUndefined(const cbor_item_t* item);

// A view of one CBOR map of the request (see codec.h for the interface).
class CborObject {
 public:
  CborObject(cbor_item_t* map, Scratch* scratch, std::string_view parent = {}, int index = -1)
      : map_(map), scratch_(scratch), parent_(parent), index_(index) {}

  absl::Status Get(std::string_view key, std::optional<std::string_view>& out) const;
  absl::Status Get(std::string_view key, std::optional<int64_t>& out) const;
  absl::Status Get(std::string_view key, std::optional<bool>& out) const;
  absl::Status Get(std::string_view key, std::optional<absl::Time>& out) const;
  absl::Status Get(std::string_view key, std::optional<Blob>& out) const;
  absl::Status Get(std::string_view key, std::optional<CborObject>& out) const;
  absl::Status Get(std::string_view key, std::optional<std::vector<CborObject>>& out) const;
  absl::Status Get(std::string_view key, std::optional<std::vector<std::string_view>>& out) const;
  absl::Status Get(std::string_view key, std::optional<StringPairs>& out) const;

  std::string Path(std::string_view key) const { return MemberPath(parent_, index_, key); }

  // The decoded map and the request's scratch memory (the validator walks them).
  cbor_item_t* raw() const { return map_; }
  Scratch* scratch() const { return scratch_; }

 private:
  // The member's value with any tags removed (the innermost tag, if any, in
  // *tag); nullptr if the member is missing, null or undefined.
  cbor_item_t* Find(std::string_view key, uint64_t* tag = nullptr) const;
  absl::Status TypeError(std::string_view key, std::string_view expected,
                         const cbor_item_t* value) const;

  cbor_item_t* map_;  // borrowed from the CborDocument
  Scratch* scratch_;
  std::string_view parent_;
  int index_;
};

// A decoded request body; owns the libcbor item tree.
class CborDocument {
 public:
  // Decodes exactly one CBOR data item that must be a map. Malformed or
  // truncated input, trailing bytes, nesting deeper than libcbor's limit, or
  // a declared length larger than the body is SerializationException.
  static absl::StatusOr<CborDocument> Parse(std::string_view body, Scratch* scratch);

  CborDocument(CborDocument&&) noexcept;
  CborDocument& operator=(CborDocument&&) noexcept;
  ~CborDocument();

  CborObject root() const { return CborObject(root_, scratch_); }

 private:
  CborDocument(cbor_item_t* owned, Scratch* scratch)
      : root_(owned), owned_(owned), scratch_(scratch) {}
  cbor_item_t* root_;   // the top-level map (inside any tags of `owned_`)
  cbor_item_t* owned_;  // the decoded item; this object holds one reference
  Scratch* scratch_;
};

// Appends one CBOR data item to a std::string.
class CborWriter {
 public:
  explicit CborWriter(std::string* out) : out_(out) {}

  void StartObject();  // indefinite-length map
  void EndObject();
  void StartArray();  // indefinite-length array
  void EndArray();
  void Key(std::string_view name) { String(name); }
  void String(std::string_view s);
  void SafeString(std::string_view s) { String(s); }
  void Int(int64_t v);
  void Bool(bool v);
  void Blob(std::string_view bytes);  // byte string
  void Timestamp(absl::Time t);       // tag 1, integer epoch milliseconds

 private:
  std::string* out_;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_CBOR_CODEC_H_
