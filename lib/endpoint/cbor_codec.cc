#include "endpoint/cbor_codec.h"

#include <cbor.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"

namespace tributary::endpoint {

bool CborIsBool(const cbor_item_t* item) {
  return cbor_isa_float_ctrl(item) && cbor_float_ctrl_is_ctrl(item) && cbor_is_bool(item);
}

bool CborIsNullOrUndefined(const cbor_item_t* item) {
  return cbor_isa_float_ctrl(item) && cbor_float_ctrl_is_ctrl(item) &&
         (cbor_is_null(item) || cbor_is_undef(item));
}

namespace {

std::string_view TypeName(const cbor_item_t* item) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
    case CBOR_TYPE_NEGINT: return "an integer";
    case CBOR_TYPE_BYTESTRING: return "a byte string";
    case CBOR_TYPE_STRING: return "a text string";
    case CBOR_TYPE_ARRAY: return "an array";
    case CBOR_TYPE_MAP: return "a map";
    case CBOR_TYPE_TAG: return "a tagged item";
    case CBOR_TYPE_FLOAT_CTRL:
      if (CborIsBool(item)) return "a boolean";
      if (CborIsNullOrUndefined(item)) return "null";
      if (cbor_is_float(item)) return "a float";
      return "a simple value";
  }
  return "a value";
}

// Removes tags; the innermost tag number goes to *tag (untouched if none).
cbor_item_t* Untag(cbor_item_t* item, uint64_t* tag) {
  while (cbor_isa_tag(item)) {
    if (tag != nullptr) *tag = cbor_tag_value(item);
    cbor_item_t* inner = cbor_tag_item(item);  // +1 reference ...
    cbor_intermediate_decref(inner);           // ... given back: the tag still holds one
    item = inner;
  }
  return item;
}

// Joins a definite or chunked string/byte string into a view; chunked ones
// are copied into `scratch`.
std::string_view Bytes(cbor_item_t* item, bool text, Scratch* scratch) {
  bool definite = text ? cbor_string_is_definite(item) : cbor_bytestring_is_definite(item);
  if (definite) {
    const unsigned char* p = text ? cbor_string_handle(item) : cbor_bytestring_handle(item);
    size_t n = text ? cbor_string_length(item) : cbor_bytestring_length(item);
    return n == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(p), n);
  }
  std::string& joined = scratch->NewString();
  size_t count = text ? cbor_string_chunk_count(item) : cbor_bytestring_chunk_count(item);
  cbor_item_t** chunks = text ? cbor_string_chunks_handle(item) : cbor_bytestring_chunks_handle(item);
  for (size_t i = 0; i < count; ++i) {
    std::string_view c = Bytes(chunks[i], text, scratch);
    joined.append(c.data(), c.size());
  }
  return joined;
}

bool IsNumber(const cbor_item_t* item) { return cbor_is_int(item) || cbor_is_float(item); }

// Integer or integral float as int64; false if it does not fit.
bool ToInt64(cbor_item_t* item, int64_t* out) {
  if (cbor_isa_uint(item)) {
    uint64_t v = cbor_get_int(item);
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (cbor_isa_negint(item)) {
    uint64_t v = cbor_get_int(item);  // the value is -1 - v
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = -1 - static_cast<int64_t>(v);
    return true;
  }
  if (cbor_is_float(item)) {
    double d = cbor_float_get_float(item);
    if (std::trunc(d) != d || !(std::fabs(d) < 9.2233720368547758e18)) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

// Pre-pass over the encoded item with libcbor's streaming decoder: rejects a
// definite array or map that declares more members than bytes remain. (The
// tree builder allocates the declared size up front, so a 9-byte header
// could otherwise ask for gigabytes.)
struct SizeCheck {
  size_t remaining = 0;
  bool too_large = false;
};

void CheckArray(void* ctx, size_t size) {
  auto* c = static_cast<SizeCheck*>(ctx);
  if (size > c->remaining) c->too_large = true;
}
void CheckMap(void* ctx, size_t size) {
  auto* c = static_cast<SizeCheck*>(ctx);
  if (size > c->remaining / 2) c->too_large = true;
}

absl::Status CheckDeclaredSizes(std::string_view body) {
  cbor_callbacks callbacks = cbor_empty_callbacks;
  callbacks.array_start = &CheckArray;
  callbacks.map_start = &CheckMap;
  SizeCheck check;
  size_t pos = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(body.data());
  while (pos < body.size()) {
    check.remaining = body.size() - pos;
    cbor_decoder_result r = cbor_stream_decode(data + pos, body.size() - pos, &callbacks, &check);
    if (r.status != CBOR_DECODER_FINISHED) {
      return SerializationError(fmt::format(
          "The request body is not valid CBOR: {} at byte {}",
          r.status == CBOR_DECODER_NEDATA ? "truncated item" : "malformed item", pos));
    }
    if (check.too_large) {
      return SerializationError(fmt::format(
          "The request body is not valid CBOR: a collection at byte {} declares more members "
          "than the body holds",
          pos));
    }
    pos += r.read;
  }
  return absl::OkStatus();
}

std::string_view LoadError(cbor_error_code code) {
  switch (code) {
    case CBOR_ERR_NOTENOUGHDATA: return "truncated item";
    case CBOR_ERR_NODATA: return "empty body";
    case CBOR_ERR_MALFORMATED: return "malformed item";
    case CBOR_ERR_MEMERROR: return "nesting too deep or out of memory";
    case CBOR_ERR_SYNTAXERROR: return "syntax error";
    default: return "decoding error";
  }
}

}  // namespace

// ---------------------------------------------------------------- reader

cbor_item_t* CborObject::Find(std::string_view key, uint64_t* tag) const {
  const size_t n = cbor_map_size(map_);
  cbor_pair* pairs = cbor_map_handle(map_);
  for (size_t i = 0; i < n; ++i) {
    cbor_item_t* k = Untag(pairs[i].key, nullptr);
    if (!cbor_isa_string(k) || Bytes(k, true, scratch_) != key) continue;
    cbor_item_t* v = Untag(pairs[i].value, tag);
    if (CborIsNullOrUndefined(v)) return nullptr;
    return v;
  }
  return nullptr;
}

absl::Status CborObject::TypeError(std::string_view key, std::string_view expected,
                                   const cbor_item_t* value) const {
  return SerializationError(fmt::format("Member '{}' must be {}, got {}", Path(key), expected,
                                        TypeName(value)));
}

absl::Status CborObject::Get(std::string_view key, std::optional<std::string_view>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!cbor_isa_string(v)) return TypeError(key, "a text string", v);
  std::string_view s = Bytes(v, true, scratch_);
  if (!simdjson::validate_utf8(s.data(), s.size())) {
    return SerializationError(fmt::format("Member '{}' is not valid UTF-8", Path(key)));
  }
  out = s;
  return absl::OkStatus();
}

absl::Status CborObject::Get(std::string_view key, std::optional<int64_t>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!IsNumber(v)) return TypeError(key, "an integer", v);
  // As AWS reads a Long: a fraction dropped (towards negative infinity), a
  // value beyond the range saturated (validation/validator.h).
  if (cbor_is_float(v)) {
    const double d = std::floor(cbor_float_get_float(v));
    if (!(d > -9.2233720368547758e18)) {
      out = INT64_MIN;
    } else if (d >= 9.2233720368547758e18) {
      out = INT64_MAX;
    } else {
      out = static_cast<int64_t>(d);
    }
    return absl::OkStatus();
  }
  int64_t i = 0;
  if (!ToInt64(v, &i)) i = cbor_isa_uint(v) ? INT64_MAX : INT64_MIN;
  out = i;
  return absl::OkStatus();
}

absl::Status CborObject::Get(std::string_view key, std::optional<bool>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (CborIsBool(v)) {
    out = cbor_get_bool(v);
    return absl::OkStatus();
  }
  // What AWS also takes for a Boolean (validation/validator.h): a number
  // with a fraction part (non-zero is true) and the texts true/yes/1 and
  // false/no/0.
  if (cbor_is_float(v)) {
    out = cbor_float_get_float(v) != 0;
    return absl::OkStatus();
  }
  if (cbor_isa_string(v)) {
    std::string_view t = Bytes(v, true, scratch_);
    if (std::optional<bool> b = BooleanText(t)) {
      out = *b;
      return absl::OkStatus();
    }
  }
  return TypeError(key, "a boolean", v);
}

absl::Status CborObject::Get(std::string_view key, std::optional<absl::Time>& out) const {
  out.reset();
  uint64_t tag = UINT64_MAX;
  cbor_item_t* v = Find(key, &tag);
  if (v == nullptr) return absl::OkStatus();
  if (cbor_isa_string(v)) {  // tag 0: RFC 3339 date-time text
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, std::string(Bytes(v, true, scratch_)), &t, &err)) {
      out = t;
      return absl::OkStatus();
    }
    return SerializationError(
        fmt::format("Member '{}' is not an RFC 3339 date-time: {}", Path(key), err));
  }
  if (!IsNumber(v)) return TypeError(key, "a timestamp (epoch milliseconds)", v);
  // Epoch milliseconds, tagged 1 or not (the AWS SDK for Java's convention).
  double ms = cbor_is_float(v) ? cbor_float_get_float(v) : 0;
  int64_t ims = 0;
  if (cbor_is_int(v)) {
    if (!ToInt64(v, &ims)) return SerializationError(fmt::format("Member '{}' is out of range", Path(key)));
    ms = static_cast<double>(ims);
  }
  if (!std::isfinite(ms) || std::fabs(ms) > 1e17) {
    return SerializationError(fmt::format("Member '{}' is out of range", Path(key)));
  }
  out = absl::FromUnixMicros(static_cast<int64_t>(std::llround(ms * 1000)));
  return absl::OkStatus();
}

absl::Status CborObject::Get(std::string_view key, std::optional<Blob>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (cbor_isa_bytestring(v)) {
    out = Blob{Bytes(v, false, scratch_)};
    return absl::OkStatus();
  }
  if (cbor_isa_string(v)) {  // tolerated: base64 text, as in JSON
    std::string_view b64 = Bytes(v, true, scratch_);
    std::string_view bytes;
    if (!DecodeBase64(b64, scratch_, &bytes)) {
      return SerializationError(fmt::format("Member '{}' is not valid base64", Path(key)));
    }
    out = Blob{bytes};
    return absl::OkStatus();
  }
  return TypeError(key, "a byte string", v);
}

absl::Status CborObject::Get(std::string_view key, std::optional<CborObject>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!cbor_isa_map(v)) return TypeError(key, "a map", v);
  out.emplace(v, scratch_, key);
  return absl::OkStatus();
}

absl::Status CborObject::Get(std::string_view key,
                             std::optional<std::vector<CborObject>>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!cbor_isa_array(v)) return TypeError(key, "an array", v);
  const size_t n = cbor_array_size(v);
  cbor_item_t** items = cbor_array_handle(v);
  std::vector<CborObject> objs;
  objs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    cbor_item_t* e = Untag(items[i], nullptr);
    if (!cbor_isa_map(e)) {
      return SerializationError(fmt::format("Member '{}[{}]' must be a map, got {}", Path(key), i,
                                            TypeName(e)));
    }
    objs.emplace_back(e, scratch_, key, static_cast<int>(i));
  }
  out = std::move(objs);
  return absl::OkStatus();
}

absl::Status CborObject::Get(std::string_view key,
                             std::optional<std::vector<std::string_view>>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!cbor_isa_array(v)) return TypeError(key, "an array", v);
  const size_t n = cbor_array_size(v);
  cbor_item_t** items = cbor_array_handle(v);
  std::vector<std::string_view> strings;
  strings.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    cbor_item_t* e = Untag(items[i], nullptr);
    if (!cbor_isa_string(e)) {
      return SerializationError(fmt::format("Member '{}[{}]' must be a text string, got {}",
                                            Path(key), i, TypeName(e)));
    }
    std::string_view s = Bytes(e, true, scratch_);
    if (!simdjson::validate_utf8(s.data(), s.size())) {
      return SerializationError(fmt::format("Member '{}[{}]' is not valid UTF-8", Path(key), i));
    }
    strings.push_back(s);
  }
  out = std::move(strings);
  return absl::OkStatus();
}

absl::Status CborObject::Get(std::string_view key, std::optional<StringPairs>& out) const {
  out.reset();
  cbor_item_t* v = Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!cbor_isa_map(v)) return TypeError(key, "a map", v);
  const size_t n = cbor_map_size(v);
  cbor_pair* pairs = cbor_map_handle(v);
  StringPairs result;
  result.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    cbor_item_t* k = Untag(pairs[i].key, nullptr);
    cbor_item_t* val = Untag(pairs[i].value, nullptr);
    if (!cbor_isa_string(k) || !cbor_isa_string(val)) {
      return SerializationError(fmt::format(
          "Member '{}' must map text strings to text strings, got {} -> {}", Path(key),
          TypeName(k), TypeName(val)));
    }
    std::string_view ks = Bytes(k, true, scratch_);
    std::string_view vs = Bytes(val, true, scratch_);
    if (!simdjson::validate_utf8(ks.data(), ks.size()) ||
        !simdjson::validate_utf8(vs.data(), vs.size())) {
      return SerializationError(fmt::format("Member '{}' holds a string that is not valid UTF-8",
                                            Path(key)));
    }
    result.emplace_back(ks, vs);
  }
  out = std::move(result);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- document

absl::StatusOr<CborDocument> CborDocument::Parse(std::string_view body, Scratch* scratch) {
  if (body.empty()) return SerializationError("The request body is empty");
  if (absl::Status s = CheckDeclaredSizes(body); !s.ok()) return s;
  cbor_load_result result;
  cbor_item_t* item =
      cbor_load(reinterpret_cast<const unsigned char*>(body.data()), body.size(), &result);
  if (item == nullptr || result.error.code != CBOR_ERR_NONE) {
    if (item != nullptr) cbor_decref(&item);
    return SerializationError(fmt::format("The request body is not valid CBOR: {} at byte {}",
                                          LoadError(result.error.code), result.error.position));
  }
  CborDocument doc(item, scratch);
  if (result.read != body.size()) {
    return SerializationError(fmt::format(
        "The request body holds {} bytes after its CBOR item", body.size() - result.read));
  }
  cbor_item_t* root = Untag(item, nullptr);
  if (!cbor_isa_map(root)) {
    return SerializationError(
        fmt::format("The request body must be a CBOR map, got {}", TypeName(root)));
  }
  doc.root_ = root;
  return doc;
}

CborDocument::CborDocument(CborDocument&& o) noexcept
    : root_(std::exchange(o.root_, nullptr)),
      owned_(std::exchange(o.owned_, nullptr)),
      scratch_(o.scratch_) {}

CborDocument& CborDocument::operator=(CborDocument&& o) noexcept {
  if (this != &o) {
    if (owned_ != nullptr) cbor_decref(&owned_);
    root_ = std::exchange(o.root_, nullptr);
    owned_ = std::exchange(o.owned_, nullptr);
    scratch_ = o.scratch_;
  }
  return *this;
}

CborDocument::~CborDocument() {
  if (owned_ != nullptr) cbor_decref(&owned_);
}

// ---------------------------------------------------------------- writer

namespace {

// Runs one libcbor encoder into the tail of `out` (headers are <= 9 bytes).
template <typename F>
void Encode(std::string* out, F&& encode) {
  const size_t old = out->size();
  out->resize(old + 16);
  size_t n = encode(reinterpret_cast<unsigned char*>(out->data() + old), 16);
  out->resize(old + n);
}

}  // namespace

void CborWriter::StartObject() {
  Encode(out_, [](unsigned char* b, size_t n) { return cbor_encode_indef_map_start(b, n); });
}
void CborWriter::EndObject() {
  Encode(out_, [](unsigned char* b, size_t n) { return cbor_encode_break(b, n); });
}
void CborWriter::StartArray() {
  Encode(out_, [](unsigned char* b, size_t n) { return cbor_encode_indef_array_start(b, n); });
}
void CborWriter::EndArray() { EndObject(); }

void CborWriter::String(std::string_view s) {
  Encode(out_, [&](unsigned char* b, size_t n) { return cbor_encode_string_start(s.size(), b, n); });
  out_->append(s.data(), s.size());
}

void CborWriter::Int(int64_t v) {
  Encode(out_, [v](unsigned char* b, size_t n) {
    return v >= 0 ? cbor_encode_uint(static_cast<uint64_t>(v), b, n)
                  : cbor_encode_negint(static_cast<uint64_t>(-1 - v), b, n);
  });
}

void CborWriter::Bool(bool v) {
  Encode(out_, [v](unsigned char* b, size_t n) { return cbor_encode_bool(v, b, n); });
}

void CborWriter::Blob(std::string_view bytes) {
  Encode(out_, [&](unsigned char* b, size_t n) {
    return cbor_encode_bytestring_start(bytes.size(), b, n);
  });
  out_->append(bytes.data(), bytes.size());
}

void CborWriter::Timestamp(absl::Time t) {
  Encode(out_, [](unsigned char* b, size_t n) { return cbor_encode_tag(1, b, n); });
  Int(absl::ToUnixMillis(t));
}

}  // namespace tributary::endpoint
