#include "endpoint/json_codec.h"

#include <fmt/format.h>
#include <rapidjson/writer.h>

#include <openssl/evp.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"

namespace tributary::endpoint {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "a list";
    case element_type::OBJECT: return "a structure";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// Seconds since the epoch, as a JSON number or a numeric/RFC 3339 string.
bool TimeFromSeconds(double seconds, absl::Time* out) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e14) return false;
  *out = absl::FromUnixMicros(static_cast<int64_t>(std::llround(seconds * 1e6)));
  return true;
}

// RapidJSON output stream that appends to a std::string. PutReserve and
// PutUnsafe (found by ADL) let the Writer reserve once per value instead of
// growing per character.
struct StringStream {
  using Ch = char;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};
inline void PutReserve(StringStream& s, size_t n) { s.out->reserve(s.out->size() + n); }
inline void PutUnsafe(StringStream& s, char c) { s.out->push_back(c); }

}  // namespace

bool DecodeBase64(std::string_view b64, Scratch* scratch, std::string_view* out) {
  // absl decodes into a std::string: a per-thread one, reused, then one copy
  // into the request's arena (no allocation per record).
  thread_local std::string decoded;
  if (!absl::Base64Unescape(absl::string_view(b64.data(), b64.size()), &decoded)) return false;
  char* p = scratch->Allocate(decoded.size());
  if (!decoded.empty()) std::memcpy(p, decoded.data(), decoded.size());
  *out = std::string_view(p, decoded.size());
  return true;
}

std::string MemberPath(std::string_view parent, int index, std::string_view key) {
  if (parent.empty()) return std::string(key);
  if (index >= 0) return fmt::format("{}[{}].{}", parent, index, key);
  return fmt::format("{}.{}", parent, key);
}

std::optional<element> JsonObject::Find(std::string_view key) const {
  element v;
  if (obj_.at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) return std::nullopt;
  return v;
}

absl::Status JsonObject::TypeError(std::string_view key, std::string_view expected,
                                   element value) const {
  return SerializationError(fmt::format("Member '{}' must be {}, got {}", Path(key), expected,
                                        TypeName(value.type())));
}

absl::Status JsonObject::Get(std::string_view key, std::optional<std::string_view>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS) return TypeError(key, "a string", *v);
  out = s;
  return absl::OkStatus();
}

absl::Status JsonObject::Get(std::string_view key, std::optional<int64_t>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  switch (v->type()) {
    case element_type::INT64: out = v->get_int64().value_unsafe(); return absl::OkStatus();
    case element_type::DOUBLE: {
      double d = v->get_double().value_unsafe();
      // 2^63 is exactly representable; anything at or beyond it does not fit.
      if (std::trunc(d) == d && std::fabs(d) < 9.2233720368547758e18) {
        out = static_cast<int64_t>(d);
        return absl::OkStatus();
      }
      return SerializationError(
          fmt::format("Member '{}' must be an integer, got {}", Path(key), d));
    }
    case element_type::UINT64:
      return SerializationError(fmt::format("Member '{}' is too large for an integer", Path(key)));
    default: return TypeError(key, "an integer", *v);
  }
}

absl::Status JsonObject::Get(std::string_view key, std::optional<bool>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  bool b = false;
  if (v->get_bool().get(b) != simdjson::SUCCESS) return TypeError(key, "a boolean", *v);
  out = b;
  return absl::OkStatus();
}

absl::Status JsonObject::Get(std::string_view key, std::optional<absl::Time>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  absl::Time t;
  double seconds = 0;
  if (v->is_number()) {
    seconds = v->get_double().value_unsafe();
    if (TimeFromSeconds(seconds, &t)) {
      out = t;
      return absl::OkStatus();
    }
  } else if (v->is_string()) {
    std::string_view s = v->get_string().value_unsafe();
    std::string err;
    if (absl::SimpleAtod(absl::string_view(s.data(), s.size()), &seconds) &&
        TimeFromSeconds(seconds, &t)) {
      out = t;
      return absl::OkStatus();
    }
    if (absl::ParseTime(absl::RFC3339_full, std::string(s), &t, &err)) {
      out = t;
      return absl::OkStatus();
    }
  } else {
    return TypeError(key, "a timestamp (epoch seconds)", *v);
  }
  return SerializationError(
      fmt::format("Member '{}' is not a timestamp (epoch seconds or RFC 3339)", Path(key)));
}

absl::Status JsonObject::Get(std::string_view key, std::optional<Blob>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  std::string_view b64;
  if (v->get_string().get(b64) != simdjson::SUCCESS) {
    return TypeError(key, "a base64 string", *v);
  }
  std::string_view bytes;
  if (!DecodeBase64(b64, scratch_, &bytes)) {
    return SerializationError(fmt::format("Member '{}' is not valid base64", Path(key)));
  }
  out = Blob{bytes};
  return absl::OkStatus();
}

absl::Status JsonObject::Get(std::string_view key, std::optional<JsonObject>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  simdjson::dom::object o;
  if (v->get_object().get(o) != simdjson::SUCCESS) return TypeError(key, "a structure", *v);
  out.emplace(o, scratch_, key);
  return absl::OkStatus();
}

absl::Status JsonObject::Get(std::string_view key,
                             std::optional<std::vector<JsonObject>>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  simdjson::dom::array a;
  if (v->get_array().get(a) != simdjson::SUCCESS) return TypeError(key, "a list", *v);
  std::vector<JsonObject> items;
  items.reserve(a.size());
  int i = 0;
  for (element e : a) {
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      return SerializationError(fmt::format("Member '{}[{}]' must be a structure, got {}",
                                            Path(key), i, TypeName(e.type())));
    }
    items.emplace_back(o, scratch_, key, i++);
  }
  out = std::move(items);
  return absl::OkStatus();
}

absl::Status JsonObject::Get(std::string_view key,
                             std::optional<std::vector<std::string_view>>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  simdjson::dom::array a;
  if (v->get_array().get(a) != simdjson::SUCCESS) return TypeError(key, "a list", *v);
  std::vector<std::string_view> items;
  items.reserve(a.size());
  int i = 0;
  for (element e : a) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
      return SerializationError(fmt::format("Member '{}[{}]' must be a string, got {}",
                                            Path(key), i, TypeName(e.type())));
    }
    items.push_back(s);
    ++i;
  }
  out = std::move(items);
  return absl::OkStatus();
}

absl::Status JsonObject::Get(std::string_view key, std::optional<StringPairs>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  simdjson::dom::object o;
  if (v->get_object().get(o) != simdjson::SUCCESS) return TypeError(key, "a map", *v);
  StringPairs pairs;
  for (simdjson::dom::key_value_pair kv : o) {
    std::string_view s;
    if (kv.value.get_string().get(s) != simdjson::SUCCESS) {
      return SerializationError(fmt::format("Member '{}.{}' must be a string, got {}", Path(key),
                                            kv.key, TypeName(kv.value.type())));
    }
    pairs.emplace_back(kv.key, s);
  }
  out = std::move(pairs);
  return absl::OkStatus();
}

absl::StatusOr<JsonObject> ParseJsonRequest(const std::string& body, Scratch* scratch) {
  // One parser per thread: it keeps its buffers between requests.
  thread_local simdjson::dom::parser parser;
  element root;
  if (simdjson::error_code err = parser.parse(body).get(root); err != simdjson::SUCCESS) {
    return SerializationError(
        fmt::format("The request body is not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return SerializationError(
        fmt::format("The request body must be a JSON object, got {}", TypeName(root.type())));
  }
  return JsonObject(obj, scratch);
}

// ---------------------------------------------------------------- writer

struct JsonWriter::Impl {
  explicit Impl(std::string* out) : stream{out}, writer(stream) {}
  StringStream stream;
  rapidjson::Writer<StringStream> writer;
};

JsonWriter::JsonWriter(std::string* out) : impl_(std::make_unique<Impl>(out)) {}
JsonWriter::~JsonWriter() = default;

void JsonWriter::StartObject() { impl_->writer.StartObject(); }
void JsonWriter::EndObject() { impl_->writer.EndObject(); }
void JsonWriter::StartArray() { impl_->writer.StartArray(); }
void JsonWriter::EndArray() { impl_->writer.EndArray(); }
namespace {
// `"s"` without RapidJSON scanning (or even copying byte by byte) the text:
// it emits the separator and the opening quote as a raw value, so its
// comma/colon and nesting state stay right, and the text and the closing
// quote are appended to the output directly. Only for text known to need no
// escaping.
void RawQuoted(rapidjson::Writer<StringStream>& w, std::string* out, std::string_view s) {
  w.RawValue("\"", 1, rapidjson::kStringType);
  out->append(s);
  out->push_back('"');
}
}  // namespace

// Keys are member names of the Kinesis API: ASCII letters only.
void JsonWriter::Key(std::string_view name) { RawQuoted(impl_->writer, impl_->stream.out, name); }
void JsonWriter::SafeString(std::string_view s) { RawQuoted(impl_->writer, impl_->stream.out, s); }
void JsonWriter::String(std::string_view s) {
  // Most strings (partition keys, names) need no escaping: check in one
  // pass and append them whole; RapidJSON escapes the others.
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
      impl_->writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      return;
    }
  }
  RawQuoted(impl_->writer, impl_->stream.out, s);
}
void JsonWriter::Int(int64_t v) { impl_->writer.Int64(v); }
void JsonWriter::Bool(bool v) { impl_->writer.Bool(v); }
void JsonWriter::Blob(std::string_view bytes) {
  // Base64 needs no JSON escaping. Let the Writer emit the separator and the
  // opening quote (so its comma/nesting state stays right), then encode
  // straight into the output (OpenSSL's encoder; it also writes a NUL,
  // hence the extra byte) and close the quote.
  impl_->writer.RawValue("\"", 1, rapidjson::kStringType);
  std::string* out = impl_->stream.out;
  const size_t at = out->size();
  const size_t encoded = 4 * ((bytes.size() + 2) / 3);
  out->resize(at + encoded + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out->data() + at),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out->resize(at + static_cast<size_t>(n));
  out->push_back('"');
}
void JsonWriter::Timestamp(absl::Time t) {
  // Epoch seconds with millisecond precision, "1704067200.123": formatted
  // here rather than through double-to-shortest-string (Grisu), which was 6%
  // of a GetRecords drain.
  const int64_t ms = absl::ToUnixMillis(t);
  if (ms < 0) {
    impl_->writer.Double(static_cast<double>(ms) / 1000.0);
    return;
  }
  char buf[32];
  char* p = std::to_chars(buf, buf + 24, ms / 1000).ptr;
  const int frac = static_cast<int>(ms % 1000);
  *p++ = '.';
  *p++ = static_cast<char>('0' + frac / 100);
  *p++ = static_cast<char>('0' + frac / 10 % 10);
  *p++ = static_cast<char>('0' + frac % 10);
  impl_->writer.RawValue(buf, static_cast<size_t>(p - buf), rapidjson::kNumberType);
}

}  // namespace tributary::endpoint
