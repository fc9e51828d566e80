#include "endpoint/validation/validator.h"

#include <cbor.h>
#include <fmt/format.h>
#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "endpoint/cbor_codec.h"
#include "endpoint/codec.h"
#include "endpoint/json_codec.h"
#include "tributary/status.h"

namespace tributary::endpoint::validation {
namespace {

// What a request value is, as far as type checks care.
enum class Kind {
  kNull,
  kBool,
  kInteger,  // a number without a fraction part (JSON int, CBOR int)
  kDouble,   // a number with one (JSON with '.' or exponent, CBOR float)
  kString,
  kBytes,  // CBOR byte string
  kArray,
  kObject,
  kOther,  // CBOR simple values other than the above
};

// AWS's limit on the failures one ValidationException lists.
constexpr int kMaxErrors = 10;

// ---------------------------------------------------------------- adapters
// Each gives the walker the same view of a decoded value: its Kind, its
// scalar contents, and iteration over arrays and objects (in body order).

struct JsonAdapter {
  using Value = simdjson::dom::element;
  using Object = simdjson::dom::object;
  static Object AsObject(Value v) { return v.get_object().value_unsafe(); }

  static Kind KindOf(Value v) {
    switch (v.type()) {
      case simdjson::dom::element_type::NULL_VALUE: return Kind::kNull;
      case simdjson::dom::element_type::BOOL: return Kind::kBool;
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64: return Kind::kInteger;
      case simdjson::dom::element_type::DOUBLE: return Kind::kDouble;
      case simdjson::dom::element_type::STRING: return Kind::kString;
      case simdjson::dom::element_type::ARRAY: return Kind::kArray;
      case simdjson::dom::element_type::OBJECT: return Kind::kObject;
    }
    return Kind::kOther;
  }
  static bool Bool(Value v) { return v.get_bool().value_unsafe(); }
  // kInteger: the value, saturated to int64.
  static int64_t Integer(Value v) {
    if (v.type() == simdjson::dom::element_type::UINT64) return std::numeric_limits<int64_t>::max();
    return v.get_int64().value_unsafe();
  }
  static double Double(Value v) { return v.get_double().value_unsafe(); }
  static std::string_view String(Value v, Scratch*) { return v.get_string().value_unsafe(); }
  static std::string_view Bytes(Value, Scratch*) { return {}; }
  // Only strings count as timestamps' text in JSON when AWS says so: never.
  static bool IsRfc3339Tagged(Value) { return false; }
  static bool Lookup(Object object, std::string_view key, Value* out) {
    Value v;
    if (object.at_key(key).get(v) != simdjson::SUCCESS) return false;
    if (v.is_null()) return false;
    *out = v;
    return true;
  }
  static size_t Size(Value v) {
    if (v.type() == simdjson::dom::element_type::ARRAY) return v.get_array().value_unsafe().size();
    return v.get_object().value_unsafe().size();
  }
  template <class F>
  static void ForEachElement(Value array, F&& f) {
    const simdjson::dom::array a = array.get_array().value_unsafe();
    for (Value e : a) f(e);
  }
  // f(key, value): JSON keys are always strings.
  template <class F>
  static void ForEachEntry(Value object, Scratch*, F&& f) {
    const simdjson::dom::object o = object.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair kv : o) f(kv.key, kv.value);
  }
};

cbor_item_t* Untag(cbor_item_t* item, uint64_t* tag) {
  while (cbor_isa_tag(item)) {
    if (tag != nullptr) *tag = cbor_tag_value(item);
    cbor_item_t* inner = cbor_tag_item(item);  // +1 reference ...
    cbor_intermediate_decref(inner);           // ... given back: the tag still holds one
    item = inner;
  }
  return item;
}

std::string_view CborBytes(cbor_item_t* item, bool text, Scratch* scratch) {
  const bool definite = text ? cbor_string_is_definite(item) : cbor_bytestring_is_definite(item);
  if (definite) {
    const unsigned char* p = text ? cbor_string_handle(item) : cbor_bytestring_handle(item);
    const size_t n = text ? cbor_string_length(item) : cbor_bytestring_length(item);
    return n == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(p), n);
  }
  std::string& joined = scratch->NewString();
  const size_t count = text ? cbor_string_chunk_count(item) : cbor_bytestring_chunk_count(item);
  cbor_item_t** chunks = text ? cbor_string_chunks_handle(item) : cbor_bytestring_chunks_handle(item);
  for (size_t i = 0; i < count; ++i) {
    std::string_view c = CborBytes(chunks[i], text, scratch);
    joined.append(c.data(), c.size());
  }
  return joined;
}

struct CborAdapter {
  // A value with its tags removed; `tag` is the innermost tag (or none).
  struct Value {
    cbor_item_t* item = nullptr;
    uint64_t tag = UINT64_MAX;
  };
  using Object = Value;
  static Object AsObject(Value v) { return v; }
  static Value Make(cbor_item_t* raw) {
    Value v;
    v.item = Untag(raw, &v.tag);
    return v;
  }

  static Kind KindOf(Value v) {
    cbor_item_t* i = v.item;
    switch (cbor_typeof(i)) {
      case CBOR_TYPE_UINT:
      case CBOR_TYPE_NEGINT: return Kind::kInteger;
      case CBOR_TYPE_BYTESTRING: return Kind::kBytes;
      case CBOR_TYPE_STRING: return Kind::kString;
      case CBOR_TYPE_ARRAY: return Kind::kArray;
      case CBOR_TYPE_MAP: return Kind::kObject;
      case CBOR_TYPE_TAG: return Kind::kOther;  // not after Untag
      case CBOR_TYPE_FLOAT_CTRL:
        if (CborIsBool(i)) return Kind::kBool;
        if (CborIsNullOrUndefined(i)) return Kind::kNull;
        if (cbor_is_float(i)) return Kind::kDouble;
        return Kind::kOther;
    }
    return Kind::kOther;
  }
  static bool Bool(Value v) { return cbor_get_bool(v.item); }
  static int64_t Integer(Value v) {
    const uint64_t u = cbor_get_int(v.item);
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (cbor_isa_uint(v.item)) return u > kMax ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(u);
    // A negative integer is -1 - u.
    return u > kMax ? std::numeric_limits<int64_t>::min() : -1 - static_cast<int64_t>(u);
  }
  static double Double(Value v) { return cbor_float_get_float(v.item); }
  static std::string_view String(Value v, Scratch* s) { return CborBytes(v.item, true, s); }
  static std::string_view Bytes(Value v, Scratch* s) { return CborBytes(v.item, false, s); }
  // Tag 0: an RFC 3339 date-time string, which CBOR allows for a timestamp.
  static bool IsRfc3339Tagged(Value v) { return v.tag == 0; }
  static bool Lookup(Object object, std::string_view key, Value* out) {
    const size_t n = cbor_map_size(object.item);
    cbor_pair* pairs = cbor_map_handle(object.item);
    for (size_t i = 0; i < n; ++i) {
      cbor_item_t* k = Untag(pairs[i].key, nullptr);
      if (!cbor_isa_string(k) || !cbor_string_is_definite(k)) continue;
      if (std::string_view(reinterpret_cast<const char*>(cbor_string_handle(k)),
                           cbor_string_length(k)) != key) {
        continue;
      }
      Value v = Make(pairs[i].value);
      if (CborIsNullOrUndefined(v.item)) return false;
      *out = v;
      return true;
    }
    return false;
  }
  static size_t Size(Value v) {
    return cbor_isa_array(v.item) ? cbor_array_size(v.item) : cbor_map_size(v.item);
  }
  template <class F>
  static void ForEachElement(Value array, F&& f) {
    const size_t n = cbor_array_size(array.item);
    cbor_item_t** items = cbor_array_handle(array.item);
    for (size_t i = 0; i < n; ++i) f(Make(items[i]));
  }
  template <class F>
  static void ForEachEntry(Value object, Scratch* scratch, F&& f) {
    const size_t n = cbor_map_size(object.item);
    cbor_pair* pairs = cbor_map_handle(object.item);
    for (size_t i = 0; i < n; ++i) {
      cbor_item_t* k = Untag(pairs[i].key, nullptr);
      std::string_view key = cbor_isa_string(k) ? CborBytes(k, true, scratch) : std::string_view();
      f(key, Make(pairs[i].value));
    }
  }
};

// ---------------------------------------------------------------- messages

bool IsScalar(ShapeType t) {
  return t != ShapeType::kStructure && t != ShapeType::kList && t != ShapeType::kMap;
}

// How AWS names the expected type in "... can not be converted to <it>".
std::string_view TypeNoun(ShapeType t) {
  switch (t) {
    case ShapeType::kString: return "an String";
    case ShapeType::kInteger: return "an Integer";
    case ShapeType::kLong: return "an Long";
    case ShapeType::kDouble: return "an Double";
    case ShapeType::kBoolean: return "an Boolean";
    case ShapeType::kBlob: return "a Blob";
    case ShapeType::kTimestamp: return "milliseconds since epoch";
    default: return "a value";
  }
}

// The Java class AWS names for a JSON/CBOR value of this kind.
std::string_view JavaClassOf(Kind k) {
  switch (k) {
    case Kind::kBool: return "java.lang.Boolean";
    case Kind::kInteger:
    case Kind::kDouble: return "com.amazon.coral.value.json.numbers.TruncatingBigNumber";
    case Kind::kString: return "java.lang.String";
    case Kind::kBytes: return "java.nio.HeapByteBuffer";
    default: return "java.lang.Object";
  }
}

// Java's Double.toString for the values a message may quote.
std::string JavaDouble(double d) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e7) return fmt::format("{:.1f}", d);
  return fmt::format("{}", d);
}

// A string's length as Java counts it: UTF-16 code units.
int64_t Utf16Length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;  // a lead byte (or ASCII) starts a code point
    if (c >= 0xF0) ++n;           // four-byte sequences are surrogate pairs
  }
  return n;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Strings a Boolean member accepts, as AWS's deserializer does.
bool IsBooleanText(std::string_view s) {
  for (std::string_view ok : {"true", "false", "yes", "no", "1", "0"}) {
    if (EqualsIgnoreCase(s, ok)) return true;
  }
  return false;
}

std::string Upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// The value of each base64 character, -1 for the others: one table lookup
// per byte (blobs are most of a PutRecords body).
constexpr std::array<int8_t, 256> MakeBase64Values() {
  std::array<int8_t, 256> t{};
  for (size_t i = 0; i < 256; ++i) t[i] = -1;
  for (size_t i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<int8_t>(i);
    t['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (size_t i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
  t['+'] = 62;
  t['/'] = 63;
  return t;
}
constexpr std::array<int8_t, 256> kBase64Values = MakeBase64Values();

int Base64Value(unsigned char c) { return kBase64Values[c]; }

// The constraints of a scalar shape, as AWS words them, in the order it
// lists them inside "Member must satisfy constraint: [...]".
std::string ConstraintList(const Shape& s) {
  std::string out = "[";
  auto add = [&out](std::string_view piece) {
    if (out.size() > 1) out += ", ";
    out += piece;
  };
  const bool numeric = s.type == ShapeType::kInteger || s.type == ShapeType::kLong ||
                       s.type == ShapeType::kDouble;
  if (numeric) {
    if (s.has_max) add(fmt::format("Member must have value less than or equal to {}", s.max));
    if (s.has_min) add(fmt::format("Member must have value greater than or equal to {}", s.min));
  } else {
    if (s.has_max) add(fmt::format("Member must have length less than or equal to {}", s.max));
    if (s.has_min) add(fmt::format("Member must have length greater than or equal to {}", s.min));
  }
  if (s.pattern_index >= 0) add(fmt::format("Member must satisfy regular expression pattern: {}", s.pattern));
  if (!s.enum_values.empty()) {
    add(fmt::format("Member must satisfy enum value set: [{}]", fmt::join(s.enum_values, ", ")));
  }
  out += "]";
  return out;
}

bool HasConstraints(const Shape& s) {
  return s.has_min || s.has_max || s.pattern_index >= 0 || !s.enum_values.empty();
}

// ---------------------------------------------------------------- walker

template <class A>
class Walker {
 public:
  using Value = typename A::Value;
  using Object = typename A::Object;

  Walker(const RequestValidator& validator, Scratch* scratch)
      : v_(validator), model_(validator.model()), scratch_(scratch) {}

  absl::Status Run(const Shape& input, Object root) {
    Structure(input, root);
    if (!type_error_.empty()) return SerializationError(type_error_);
    if (count_ == 0) return absl::OkStatus();
    return ValidationError(fmt::format("{} validation error{} detected: {}", count_,
                                       count_ == 1 ? "" : "s", fmt::join(errors_, "; ")));
  }

 private:
  const Shape& ShapeAt(ShapeIndex i) const { return model_.shapes[static_cast<size_t>(i)]; }

  bool Failed() const { return !type_error_.empty(); }

  void TypeError(std::string message) {
    if (type_error_.empty()) type_error_ = std::move(message);
  }

  // Records "Value <value> at '<path>' failed to satisfy constraint: <what>".
  // `value` is rendered only when the failure is listed.
  template <class Render>
  void Fail(Render&& render, std::string_view what) {
    if (count_ >= kMaxErrors) return;
    ++count_;
    std::string value = render();
    errors_.push_back(fmt::format("Value {} at '{}' failed to satisfy constraint: {}", value, path_, what));
  }

  void FailNull() {
    Fail([] { return std::string("null"); }, "Member must not be null");
  }

  // The message for a value of kind `got` where `want` goes; "" if AWS
  // accepts it.
  std::string TypeMismatch(const Shape& want, Kind got, Value value) {
    if (got == Kind::kArray) {
      return want.type == ShapeType::kList ? std::string() : "Start of list found where not expected";
    }
    if (got == Kind::kObject) {
      return want.type == ShapeType::kStructure || want.type == ShapeType::kMap
                 ? std::string()
                 : "Start of structure or map found where not expected.";
    }
    switch (want.type) {
      case ShapeType::kStructure: return "Expected null";
      case ShapeType::kList: return "Expected list or null";
      case ShapeType::kMap: return "Expected map or null";
      case ShapeType::kString:
        if (got == Kind::kString) return {};
        break;
      case ShapeType::kInteger:
      case ShapeType::kLong:
      case ShapeType::kDouble:
        if (got == Kind::kInteger || got == Kind::kDouble) return {};
        break;
      case ShapeType::kBoolean:
        // Observed: a Boolean takes true/false, the texts IsBooleanText
        // lists and numbers with a fraction part; other text is quoted in
        // capitals.
        if (got == Kind::kBool || got == Kind::kDouble) return {};
        if (got == Kind::kString) {
          std::string_view s = A::String(value, scratch_);
          if (IsBooleanText(s)) return {};
          return fmt::format("'{}' can not be converted to an Boolean", Upper(s));
        }
        break;
      case ShapeType::kBlob:
        if (got == Kind::kBytes) return {};
        if (got == Kind::kString) {
          size_t n = 0;
          return Base64Error(A::String(value, scratch_), &n);
        }
        break;
      case ShapeType::kTimestamp:
        if (got == Kind::kInteger || got == Kind::kDouble) return {};
        if (got == Kind::kString && A::IsRfc3339Tagged(value)) return {};
        break;
    }
    return fmt::format("class {} can not be converted to {}", JavaClassOf(got), TypeNoun(want.type));
  }

  // Checks one present (non-null) value against `shape`, at path_.
  void Check(const Shape& shape, Value value) {
    const Kind kind = A::KindOf(value);
    if (std::string mismatch = TypeMismatch(shape, kind, value); !mismatch.empty()) {
      TypeError(std::move(mismatch));
      return;
    }
    switch (shape.type) {
      case ShapeType::kStructure: Structure(shape, A::AsObject(value)); return;
      case ShapeType::kList: List(shape, value); return;
      case ShapeType::kMap: Map(shape, value); return;
      default: ScalarOk(shape, value, kind); return;
    }
  }

  // For a scalar: checks its constraints, reporting each failure at path_.
  // Returns false if a failure was found. With `report` false nothing is
  // recorded (the bundled check of list elements and map entries).
  bool ScalarOk(const Shape& s, Value value, Kind kind, bool report = true) {
    bool ok = true;
    switch (s.type) {
      case ShapeType::kInteger:
      case ShapeType::kLong: {
        const int64_t n = IntegerOf(s.type, value, kind);
        auto render = [n] { return fmt::format("'{}'", n); };
        if (s.has_min && n < s.min) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must have value greater than or equal to {}", s.min));
        }
        if (s.has_max && n > s.max) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must have value less than or equal to {}", s.max));
        }
        return ok;
      }
      case ShapeType::kDouble: {
        const double d = kind == Kind::kInteger ? static_cast<double>(A::Integer(value)) : A::Double(value);
        auto render = [d] { return fmt::format("'{}'", JavaDouble(d)); };
        if (s.has_min && d < static_cast<double>(s.min)) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must have value greater than or equal to {}", s.min));
        }
        if (s.has_max && d > static_cast<double>(s.max)) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must have value less than or equal to {}", s.max));
        }
        return ok;
      }
      case ShapeType::kString: {
        if (!HasConstraints(s)) return true;
        const std::string_view str = A::String(value, scratch_);
        auto render = [str] { return fmt::format("'{}'", str); };
        if (s.pattern_index >= 0 &&
            !re2::RE2::FullMatch(re2::StringPiece(str.data(), str.size()), v_.pattern(s.pattern_index))) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must satisfy regular expression pattern: {}", s.pattern));
        }
        if (s.has_min || s.has_max) {
          const int64_t len = Utf16Length(str);
          if (s.has_min && len < s.min) {
            ok = false;
            if (report) Fail(render, fmt::format("Member must have length greater than or equal to {}", s.min));
          }
          if (s.has_max && len > s.max) {
            ok = false;
            if (report) Fail(render, fmt::format("Member must have length less than or equal to {}", s.max));
          }
        }
        if (!s.enum_values.empty() &&
            std::find(s.enum_values.begin(), s.enum_values.end(), str) == s.enum_values.end()) {
          ok = false;
          if (report) {
            Fail(render, fmt::format("Member must satisfy enum value set: [{}]", fmt::join(s.enum_values, ", ")));
          }
        }
        return ok;
      }
      case ShapeType::kBlob: {
        if (!s.has_min && !s.has_max) return true;
        const int64_t len = static_cast<int64_t>(BlobSize(value, kind));
        auto render = [len] { return fmt::format("'java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]'", len); };
        if (s.has_min && len < s.min) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must have length greater than or equal to {}", s.min));
        }
        if (s.has_max && len > s.max) {
          ok = false;
          if (report) Fail(render, fmt::format("Member must have length less than or equal to {}", s.max));
        }
        return ok;
      }
      default: return true;  // booleans and timestamps have no constraints
    }
  }

  int64_t IntegerOf(ShapeType t, Value value, Kind kind) {
    // AWS truncates towards negative infinity and saturates at the type's range.
    const int64_t lo = t == ShapeType::kInteger ? std::numeric_limits<int32_t>::min()
                                                : std::numeric_limits<int64_t>::min();
    const int64_t hi = t == ShapeType::kInteger ? std::numeric_limits<int32_t>::max()
                                                : std::numeric_limits<int64_t>::max();
    if (kind == Kind::kInteger) return std::clamp(A::Integer(value), lo, hi);
    const double d = std::floor(A::Double(value));
    if (!(d > static_cast<double>(lo))) return lo;  // also NaN
    if (d >= static_cast<double>(hi)) return hi;
    return static_cast<int64_t>(d);
  }

  size_t BlobSize(Value value, Kind kind) {
    if (kind == Kind::kBytes) return A::Bytes(value, scratch_).size();
    size_t n = 0;
    (void)Base64Error(A::String(value, scratch_), &n);
    return n;
  }

  // How a value is quoted inside a list or map rendering.
  std::string Render(const Shape& s, Value value) {
    const Kind kind = A::KindOf(value);
    switch (s.type) {
      case ShapeType::kString: return std::string(A::String(value, scratch_));
      case ShapeType::kInteger:
      case ShapeType::kLong: return fmt::format("{}", IntegerOf(s.type, value, kind));
      case ShapeType::kDouble:
        return JavaDouble(kind == Kind::kInteger ? static_cast<double>(A::Integer(value)) : A::Double(value));
      case ShapeType::kBoolean: return kind == Kind::kBool && A::Bool(value) ? "true" : "false";
      case ShapeType::kBlob: {
        const size_t n = BlobSize(value, kind);
        return fmt::format("java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]", n);
      }
      case ShapeType::kStructure:
        // Java's Object.toString: the class name and hashCode() (JavaHash).
        return fmt::format("{}.{}@{:x}", model_.java_package, s.name, JavaHash(s, value));
      case ShapeType::kList: return RenderList(s, value);
      case ShapeType::kMap: return RenderMap(s, value);
      default: return "";
    }
  }

  // The hashCode() AWS's Java request classes have (observed: Kinesis
  // prints PutRecordsRequestEntry@c965e310 for an entry with empty Data and
  // PartitionKey, which is this formula): Arrays.hashCode over the class
  // name's hash (31 + String.hashCode of the qualified name) and the
  // members in model order; String.hashCode, ByteBuffer.hashCode,
  // Integer/Long/Boolean.hashCode, List.hashCode and Map.hashCode for them,
  // 0 for an absent member.
  uint32_t JavaHash(const Shape& s, Value value) {
    const Kind kind = A::KindOf(value);
    uint32_t h = 0;
    switch (s.type) {
      case ShapeType::kString: return JavaStringHash(A::String(value, scratch_));
      case ShapeType::kInteger:
      case ShapeType::kLong: {
        const auto n = static_cast<uint64_t>(IntegerOf(s.type, value, kind));
        return s.type == ShapeType::kInteger ? static_cast<uint32_t>(n) : static_cast<uint32_t>(n ^ (n >> 32));
      }
      case ShapeType::kBoolean: return kind == Kind::kBool && A::Bool(value) ? 1231 : 1237;
      case ShapeType::kBlob: {
        std::string decoded;
        std::string_view b;
        if (kind == Kind::kBytes) {
          b = A::Bytes(value, scratch_);
        } else {
          std::string_view text = A::String(value, scratch_);
          (void)absl::Base64Unescape(absl::string_view(text.data(), text.size()), &decoded);
          b = decoded;
        }
        h = 1;
        for (size_t i = b.size(); i-- > 0;) h = 31 * h + static_cast<uint32_t>(static_cast<int8_t>(b[i]));
        return h;
      }
      case ShapeType::kStructure: {
        const std::string qualified = fmt::format("{}.{}", model_.java_package, s.name);
        h = 31 * 1 + (31 + JavaStringHash(qualified));
        for (const Member& m : s.members) {
          Value v;
          const bool present = A::Lookup(A::AsObject(value), m.name, &v);
          h = 31 * h + (present ? JavaHash(ShapeAt(m.shape), v) : 0);
        }
        return h;
      }
      case ShapeType::kList: {
        h = 1;
        A::ForEachElement(value, [&](Value e) {
          h = 31 * h + (A::KindOf(e) == Kind::kNull ? 0 : JavaHash(ShapeAt(s.element), e));
        });
        return h;
      }
      case ShapeType::kMap: {
        A::ForEachEntry(value, scratch_, [&](std::string_view key, Value v) {
          h += JavaStringHash(key) ^ (A::KindOf(v) == Kind::kNull ? 0 : JavaHash(ShapeAt(s.value), v));
        });
        return h;
      }
      default: return 0;
    }
  }

  // Java's String.hashCode: over UTF-16 code units.
  static uint32_t JavaStringHash(std::string_view utf8) {
    uint32_t h = 0;
    for (size_t i = 0; i < utf8.size();) {
      const auto c = static_cast<unsigned char>(utf8[i]);
      uint32_t cp = c;
      size_t n = 1;
      if (c >= 0xF0) {
        cp = c & 0x07;
        n = 4;
      } else if (c >= 0xE0) {
        cp = c & 0x0F;
        n = 3;
      } else if (c >= 0xC0) {
        cp = c & 0x1F;
        n = 2;
      }
      for (size_t k = 1; k < n && i + k < utf8.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
      }
      i += n;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        h = 31 * h + (0xD800 + (cp >> 10));
        h = 31 * h + (0xDC00 + (cp & 0x3FF));
      } else {
        h = 31 * h + cp;
      }
    }
    return h;
  }

  std::string RenderList(const Shape& s, Value list) {
    std::string out = "[";
    bool first = true;
    const Shape& element = ShapeAt(s.element);
    A::ForEachElement(list, [&](Value e) {
      if (!first) out += ", ";
      first = false;
      out += A::KindOf(e) == Kind::kNull ? "null" : Render(element, e);
    });
    out += "]";
    return out;
  }

  std::string RenderMap(const Shape& s, Value map) {
    std::string out = "{";
    bool first = true;
    const Shape& value_shape = ShapeAt(s.value);
    A::ForEachEntry(map, scratch_, [&](std::string_view key, Value v) {
      if (!first) out += ", ";
      first = false;
      out += key;
      out += '=';
      out += A::KindOf(v) == Kind::kNull ? "null" : Render(value_shape, v);
    });
    out += "}";
    return out;
  }

  // Appends ".name" (or "name" at the top) to path_; returns the old size.
  size_t Push(std::string_view name) {
    const size_t old = path_.size();
    if (!path_.empty()) path_ += '.';
    path_ += name;
    return old;
  }

  void Structure(const Shape& s, Object object) {
    for (const Member& m : s.members) {
      Value v;
      const size_t old = Push(m.path);
      if (A::Lookup(object, m.name, &v)) {
        Check(ShapeAt(m.shape), v);
      } else if (m.required) {
        Value other;
        const bool excused =
            m.required_unless >= 0 &&
            A::Lookup(object, s.members[static_cast<size_t>(m.required_unless)].name, &other);
        if (!excused) FailNull();
      }
      path_.resize(old);
      if (Failed()) return;
    }
  }

  template <class R>
  void Lengths(const Shape& s, int64_t n, R&& render) {
    if (s.has_min && n < s.min) {
      Fail(render, fmt::format("Member must have length greater than or equal to {}", s.min));
    }
    if (s.has_max && n > s.max) {
      Fail(render, fmt::format("Member must have length less than or equal to {}", s.max));
    }
  }

  void List(const Shape& s, Value list) {
    const Shape& element = ShapeAt(s.element);
    Lengths(s, static_cast<int64_t>(A::Size(list)), [&] { return fmt::format("'{}'", RenderList(s, list)); });
    if (IsScalar(element.type)) {
      // Element constraints are reported once, at the list, listing them all.
      bool all_ok = true;
      A::ForEachElement(list, [&](Value e) {
        if (Failed()) return;
        const Kind kind = A::KindOf(e);
        if (kind == Kind::kNull) return;
        if (std::string mismatch = TypeMismatch(element, kind, e); !mismatch.empty()) {
          TypeError(std::move(mismatch));
          return;
        }
        if (all_ok && HasConstraints(element) && !ScalarOk(element, e, kind, false)) all_ok = false;
      });
      if (!all_ok && !Failed()) {
        Fail([&] { return fmt::format("'{}'", RenderList(s, list)); },
             fmt::format("Member must satisfy constraint: {}", ConstraintList(element)));
      }
      return;
    }
    size_t i = 0;
    A::ForEachElement(list, [&](Value e) {
      if (Failed()) return;
      ++i;
      const size_t old = path_.size();
      fmt::format_to(std::back_inserter(path_), ".{}.member", i);
      if (A::KindOf(e) == Kind::kNull) {
        FailNull();
      } else {
        Check(element, e);
      }
      path_.resize(old);
    });
  }

  void Map(const Shape& s, Value map) {
    const Shape& key_shape = ShapeAt(s.element);
    const Shape& value_shape = ShapeAt(s.value);
    auto render = [&] { return fmt::format("'{}'", RenderMap(s, map)); };
    Lengths(s, static_cast<int64_t>(A::Size(map)), render);
    bool keys_ok = true;
    bool values_ok = true;
    A::ForEachEntry(map, scratch_, [&](std::string_view key, Value v) {
      if (Failed()) return;
      if (keys_ok && HasConstraints(key_shape) && !KeyOk(key_shape, key)) keys_ok = false;
      const Kind kind = A::KindOf(v);
      if (kind == Kind::kNull) return;
      if (std::string mismatch = TypeMismatch(value_shape, kind, v); !mismatch.empty()) {
        TypeError(std::move(mismatch));
        return;
      }
      if (IsScalar(value_shape.type)) {
        if (values_ok && HasConstraints(value_shape) && !ScalarOk(value_shape, v, kind, false)) {
          values_ok = false;
        }
      } else {
        const size_t old = path_.size();
        fmt::format_to(std::back_inserter(path_), ".{}.member", key);
        Check(value_shape, v);
        path_.resize(old);
      }
    });
    if (Failed()) return;
    if (!keys_ok) {
      Fail(render, fmt::format("Map keys must satisfy constraint: {}", ConstraintList(key_shape)));
    }
    if (!values_ok) {
      Fail(render, fmt::format("Map value must satisfy constraint: {}", ConstraintList(value_shape)));
    }
  }

  bool KeyOk(const Shape& s, std::string_view key) const {
    if (s.pattern_index >= 0 &&
        !re2::RE2::FullMatch(re2::StringPiece(key.data(), key.size()), v_.pattern(s.pattern_index))) {
      return false;
    }
    const int64_t len = Utf16Length(key);
    if ((s.has_min && len < s.min) || (s.has_max && len > s.max)) return false;
    return s.enum_values.empty() ||
           std::find(s.enum_values.begin(), s.enum_values.end(), key) != s.enum_values.end();
  }

  const RequestValidator& v_;
  const ServiceModel& model_;
  Scratch* scratch_;
  std::string path_;
  std::vector<std::string> errors_;
  int count_ = 0;
  std::string type_error_;
};

}  // namespace

std::string Base64Error(std::string_view value, size_t* decoded_size) {
  *decoded_size = 0;
  auto fail = [value](std::string_view why) {
    return fmt::format("'{}' can not be converted to a Blob: {}", value, why);
  };
  if (value.size() % 4 != 0) {
    return fail(fmt::format("Base64 encoded length is expected a multiple of 4 bytes but found: {}",
                            value.size()));
  }
  // Padding: at most two '=' and only at the end.
  size_t pad = 0;
  while (pad < 2 && pad < value.size() && value[value.size() - 1 - pad] == '=') ++pad;
  const size_t data = value.size() - pad;
  // OR of every value: negative iff some character is not base64.
  int8_t any = 0;
  for (size_t i = 0; i < data; ++i) any |= kBase64Values[static_cast<unsigned char>(value[i])];
  if (any < 0) {
    for (size_t i = 0; i < data; ++i) {
      if (Base64Value(static_cast<unsigned char>(value[i])) < 0) {
        return fail(fmt::format("Invalid Base64 character: '{}'", value[i]));
      }
    }
  }
  if (pad > 0) {
    // The bits of the last character that the padding leaves unused must be 0.
    const int last = Base64Value(static_cast<unsigned char>(value[data - 1]));
    const int unused_mask = pad == 2 ? 0x0F : 0x03;
    if (data == 0 || (last & unused_mask) != 0) {
      return fail("Invalid last non-pad Base64 character dectected");  // sic: AWS's spelling
    }
  }
  *decoded_size = value.size() / 4 * 3 - pad;
  return {};
}

RequestValidator::RequestValidator(const ServiceModel& model) : model_(model) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  patterns_.reserve(model.patterns.size());
  for (std::string_view p : model.patterns) {
    // Patterns that do not compile (a bug in the overlay; the model test
    // catches it) match nothing.
    patterns_.push_back(std::make_unique<re2::RE2>(re2::StringPiece(p.data(), p.size()), options));
  }
}

RequestValidator::~RequestValidator() = default;

bool RequestValidator::patterns_ok() const {
  return std::all_of(patterns_.begin(), patterns_.end(), [](const auto& p) { return p->ok(); });
}

const RequestValidator& RequestValidator::Kinesis() {
  static const auto* v = new RequestValidator(kKinesisModel);
  return *v;
}

const RequestValidator& RequestValidator::KinesisAnalyticsV2() {
  static const auto* v = new RequestValidator(kKinesisAnalyticsV2Model);
  return *v;
}

const Operation* RequestValidator::Find(std::string_view action) const {
  auto it = std::lower_bound(model_.operations.begin(), model_.operations.end(), action,
                             [](const Operation& op, std::string_view n) { return op.name < n; });
  return it != model_.operations.end() && it->name == action ? &*it : nullptr;
}

absl::Status RequestValidator::Validate(const Operation& op, const JsonObject& request) const {
  if (op.input == kNoShape) return absl::OkStatus();
  Walker<JsonAdapter> w(*this, request.scratch());
  return w.Run(model_.shapes[static_cast<size_t>(op.input)], request.raw());
}

absl::Status RequestValidator::Validate(const Operation& op, const CborObject& request) const {
  if (op.input == kNoShape) return absl::OkStatus();
  Walker<CborAdapter> w(*this, request.scratch());
  CborAdapter::Value root;
  root.item = request.raw();
  return w.Run(model_.shapes[static_cast<size_t>(op.input)], root);
}

}  // namespace tributary::endpoint::validation
