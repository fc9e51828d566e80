#include "endpoint/wire_errors.h"

#include <fmt/format.h>

#include <cctype>

#include "endpoint/cbor_codec.h"
#include "endpoint/json_codec.h"

namespace tributary::endpoint {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class Writer>
void WriteError(std::string* out, std::string_view type, std::string_view message) {
  Writer w(out);
  w.StartObject();
  w.Key("__type");
  w.String(type);
  if (!message.empty()) {
    w.Key(MessageKey(type));
    w.String(message);
  }
  w.EndObject();
}

void AppendXmlEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '&': out->append("&amp;"); break;
      case '"': out->append("&quot;"); break;
      default: out->push_back(c);
    }
  }
}

}  // namespace

Protocol ProtocolOf(std::string_view method, std::string_view content_type, bool body_empty) {
  if (method != "POST") return Protocol::kXml;
  const std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
  if (EqualsIgnoreCase(media, kJsonContentType)) return Protocol::kJson;
  if (EqualsIgnoreCase(media, kCborContentType)) return Protocol::kCbor;
  if (EqualsIgnoreCase(media, "application/json")) {
    return body_empty ? Protocol::kCbor : Protocol::kDeprecatedJson;
  }
  if (EqualsIgnoreCase(media, "application/x-www-form-urlencoded")) return Protocol::kXml;
  return Protocol::kCbor;
}

std::string_view MessageKey(std::string_view type) {
  return type == ErrorTypeName(ErrorType::kSerialization) ? "Message" : "message";
}

Response WireErrorResponse(Protocol protocol, const absl::Status& status, BodyMessage body_message) {
  const WireError wire = WireErrorOf(status);
  const ErrorType type = GetErrorType(status);
  Response r;
  r.status = wire.http_status;
  r.error_type = wire.type;
  std::string_view message(status.message().data(), status.message().size());
  if (body_message == BodyMessage::kOmit || wire.type == ErrorTypeName(ErrorType::kInternalFailure) ||
      type == ErrorType::kUnknownOperation) {
    r.error_message.assign(message.substr(0, 1024));
    for (char& c : r.error_message) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    message = {};
  }
  switch (protocol) {
    case Protocol::kJson:
      r.content_type = kJsonContentType;
      WriteError<JsonWriter>(&r.body, wire.type, message);
      break;
    case Protocol::kCbor:
      r.content_type = kCborContentType;
      WriteError<CborWriter>(&r.body, wire.type, message);
      break;
    case Protocol::kDeprecatedJson:
      r.content_type = "application/json";
      if (type == ErrorType::kUnknownOperation) r.status = 404;
      r.body = fmt::format(R"({{"Output":{{"__type":"com.amazon.coral.service#{}"}},"Version":"1.0"}})",
                           wire.type);
      break;
    case Protocol::kXml:
      r.content_type = {};
      r.status = type == ErrorType::kUnknownOperation ? 404 : wire.http_status == 500 ? 500 : 403;
      if (message.empty()) {
        r.body = fmt::format("<{}/>\n", wire.type);
      } else {
        r.body = fmt::format("<{}>\n  <Message>", wire.type);
        AppendXmlEscaped(&r.body, message);
        fmt::format_to(std::back_inserter(r.body), "</Message>\n</{}>\n", wire.type);
      }
      break;
  }
  return r;
}

}  // namespace tributary::endpoint
