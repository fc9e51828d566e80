#include "endpoint/json_codec.h"

#include <fmt/format.h>

#include <cctype>
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

std::optional<bool> BooleanText(std::string_view s) {
  auto is = [s](std::string_view word) {
    if (s.size() != word.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(s[i])) != word[i]) return false;
    }
    return true;
  };
  if (is("true") || is("yes") || is("1")) return true;
  if (is("false") || is("no") || is("0")) return false;
  return std::nullopt;
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
      // As AWS reads a Long: the fraction dropped (towards negative
      // infinity), a value beyond the range saturated (validation/validator.h).
      const double d = std::floor(v->get_double().value_unsafe());
      if (!(d > -9.2233720368547758e18)) {
        out = std::numeric_limits<int64_t>::min();
      } else if (d >= 9.2233720368547758e18) {  // 2^63 is exact
        out = std::numeric_limits<int64_t>::max();
      } else {
        out = static_cast<int64_t>(d);
      }
      return absl::OkStatus();
    }
    case element_type::UINT64: out = std::numeric_limits<int64_t>::max(); return absl::OkStatus();
    default: return TypeError(key, "an integer", *v);
  }
}

absl::Status JsonObject::Get(std::string_view key, std::optional<bool>& out) const {
  out.reset();
  std::optional<element> v = Find(key);
  if (!v) return absl::OkStatus();
  bool b = false;
  if (v->get_bool().get(b) == simdjson::SUCCESS) {
    out = b;
    return absl::OkStatus();
  }
  // What AWS also takes for a Boolean (validation/validator.h): a number
  // with a fraction part (non-zero is true) and the texts true/yes/1 and
  // false/no/0.
  if (v->type() == element_type::DOUBLE) {
    out = v->get_double().value_unsafe() != 0;
    return absl::OkStatus();
  }
  if (v->is_string()) {
    if (std::optional<bool> t = BooleanText(v->get_string().value_unsafe())) {
      out = *t;
      return absl::OkStatus();
    }
  }
  return TypeError(key, "a boolean", *v);
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

}  // namespace tributary::endpoint
