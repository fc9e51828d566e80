#include "util/json_writer.h"

#include <openssl/evp.h>
#include <rapidjson/writer.h>

#include <charconv>

namespace tributary::util {
namespace {

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

}  // namespace tributary::util
