#include "endpoint/endpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <random>

#include "endpoint/actions.h"
#include "endpoint/cbor_codec.h"
#include "endpoint/control.h"
#include "endpoint/event_stream.h"
#include "endpoint/flink_actions.h"
#include "endpoint/json_codec.h"
#include "endpoint/signature_form.h"
#include "endpoint/validation/validator.h"
#include "endpoint/wire_errors.h"
#include "util/status_macros.h"

namespace tributary::endpoint {
namespace {

absl::Status UnknownOperation() {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation, "");
}

// The CORS headers AWS sends with every response to a request with an Origin.
constexpr std::string_view kExposeHeaders =
    "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date";

// The answer to a CORS preflight (observed: 200, no body, no Content-Type,
// no x-amz-id-2; the requested headers and method echoed; two days' max age).
Response Preflight(const Request& request) {
  Response r;
  r.content_type = {};
  r.amz_id_2 = false;
  if (!request.access_control_request_headers.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Headers", request.access_control_request_headers);
  }
  if (!request.access_control_request_method.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Methods", request.access_control_request_method);
  }
  r.headers.emplace_back("Access-Control-Max-Age", "172800");
  return r;
}

// A thread's generator for x-amz-id-2: xoshiro256** seeded from the OS.
uint64_t NextRandom() {
  thread_local uint64_t s[4] = {0, 0, 0, 0};
  if ((s[0] | s[1] | s[2] | s[3]) == 0) {
    std::random_device rd;
    for (uint64_t& x : s) x = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ 0x9e3779b97f4a7c15ULL;
  }
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

// The value of query parameter `name` (compared without case),
// percent-decoded; "" if absent.
std::string HoistedHeader(std::string_view query, std::string_view name) {
  size_t i = 0;
  while (i < query.size()) {
    size_t end = query.find('&', i);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(i, end - i);
    const size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (eq != std::string_view::npos && key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string out;
      std::string_view v = pair.substr(eq + 1);
      for (size_t k = 0; k < v.size(); ++k) {
        if (v[k] == '%' && k + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[k + 1])) &&
            std::isxdigit(static_cast<unsigned char>(v[k + 2]))) {
          out.push_back(static_cast<char>(std::stoi(std::string(v.substr(k + 1, 2)), nullptr, 16)));
          k += 2;
        } else {
          out.push_back(v[k] == '+' ? ' ' : v[k]);
        }
      }
      return out;
    }
    i = end + 1;
  }
  return {};
}

// StoreOptions::fault_injector's say on an action the Store does not ask
// it about (control.h CheckActionFault), with the stream the request names.
template <class Object>
absl::Status ActionFault(const Store& store, std::string_view action, const Object& in) {
  if (store.options().fault_injector == nullptr) return absl::OkStatus();
  std::optional<std::string_view> stream;
  for (std::string_view key : {"StreamName", "StreamARN", "ConsumerARN", "ResourceARN"}) {
    if (!in.Get(key, stream).ok()) stream.reset();  // the action reports a bad type
    if (stream.has_value()) break;
  }
  return CheckActionFault(store, action, stream.value_or(""), "");
}

}  // namespace

void AppendAmzId2(std::string* out) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // 64 random bytes in base64: 21 groups of 3 bytes (4 characters), and one
  // byte left over ("xx==").
  uint8_t bytes[66];
  for (int i = 0; i < 64; i += 8) {
    const uint64_t v = NextRandom();
    std::memcpy(bytes + i, &v, 8);
  }
  char buf[88];
  int o = 0;
  for (int i = 0; i < 63; i += 3) {
    const uint32_t n = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    buf[o++] = kB64[(n >> 18) & 63];
    buf[o++] = kB64[(n >> 12) & 63];
    buf[o++] = kB64[(n >> 6) & 63];
    buf[o++] = kB64[n & 63];
  }
  buf[o++] = kB64[bytes[63] >> 2];
  buf[o++] = kB64[(bytes[63] & 3) << 4];
  buf[o++] = '=';
  buf[o++] = '=';
  out->append(buf, static_cast<size_t>(o));
}

WireError WireErrorOf(const absl::Status& status) {
  switch (ErrorType type = GetErrorType(status)) {
    case ErrorType::kNone:  // not an error: a bug in the caller
    case ErrorType::kInternalFailure:
    case ErrorType::kCorruption:
    case ErrorType::kWaiterTimeout:
      return {500, ErrorTypeName(ErrorType::kInternalFailure)};
    default:
      return {400, ErrorTypeName(type)};
  }
}

Response Endpoint::ErrorResponse(std::string_view content_type, const absl::Status& status) {
  // A transport error (body too large, malformed HTTP): in CBOR for a CBOR
  // request, else in JSON.
  const bool cbor = ProtocolOf("POST", content_type, /*body_empty=*/false) == Protocol::kCbor &&
                    ProtocolOf("POST", content_type, /*body_empty=*/true) == Protocol::kCbor &&
                    content_type.find("cbor") != std::string_view::npos;
  return WireErrorResponse(cbor ? Protocol::kCbor : Protocol::kJson, status);
}

Endpoint::Endpoint(Store* store, EndpointOptions options)
    : store_(store),
      options_(std::move(options)),
      clock_(options_.signature_clock != nullptr ? options_.signature_clock
             : store->options().clock != nullptr  ? store->options().clock
                                                  : SystemClock()) {
  Accounts::Options a;
  a.by_access_key = options_.account_from_access_key;
  a.store_options = options_.store_options;
  a.store_options.account_id = store->options().account_id;
  a.data_dir = options_.data_dir;
  accounts_ = std::make_unique<Accounts>(store, std::move(a));
}

Endpoint::~Endpoint() = default;

absl::StatusOr<Store*> Endpoint::Authenticate(const Request& request) const {
  if (options_.require_signatures || !options_.credentials.empty()) {
    TRIBUTARY_RETURN_IF_ERROR(CheckSignatureForm(request.query, request.authorization, request.headers));
  }
  std::string key(sigv4::AccessKeyIdOf(request.authorization));
  if (bool presigned = false; key.empty()) {
    // A presigned request: the key starts X-Amz-Credential (<key>%2F<date>...).
    std::string_view credential = QueryParam(request.query, "X-Amz-Credential", &presigned);
    key = std::string(credential.substr(0, std::min(credential.find('/'), credential.find("%2F"))));
  }
  if (!options_.credentials.empty()) {
    sigv4::Request r;
    r.method = request.method;
    r.path = request.path;
    r.query = request.query;
    r.headers = request.headers;
    r.payload = *request.body;
    sigv4::VerifyOptions vo;
    // kinesisanalyticsv2 signs with its endpoint prefix, kinesisanalytics.
    vo.service = IsFlinkTarget(request.amz_target) ? "kinesisanalytics" : "kinesis";
    auto lookup = [this](std::string_view id) -> std::optional<sigv4::Credentials> {
      auto it = options_.credentials.find(std::string(id));
      if (it == options_.credentials.end()) return std::nullopt;
      return sigv4::Credentials{it->first, it->second, ""};
    };
    TRIBUTARY_RETURN_IF_ERROR(sigv4::Verify(r, lookup, clock_->Now(), vo).status());
  }
  if (!accounts_->by_access_key()) return store_;
  return accounts_->ForAccessKey(key);
}

Response Endpoint::Handle(std::string_view target, std::string_view content_type,
                          const std::string& body) const {
  Request r;
  r.amz_target = target;
  r.content_type = content_type;
  r.body = &body;
  return Handle(r);
}

absl::Status Endpoint::DeleteAllStreams() const {
  absl::Status first;
  for (Store* s : accounts_->All()) {
    if (absl::Status st = s->DeleteAllStreams(); !st.ok() && first.ok()) first = st;
  }
  return first;
}

Response Endpoint::Handle(const Request& request) const {
  Response r = Dispatch(request);
  if (!request.origin.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
    if (r.amz_id_2) r.headers.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
  }
  return r;
}

Response Endpoint::Dispatch(const Request& request) const {
  static const std::string kNoBody;
  const std::string& body = request.body != nullptr ? *request.body : kNoBody;
  // The test control API (control.h): by method and path, before anything
  // Kinesis; signed like any request when signatures are verified.
  if (IsControlPath(request.path)) {
    if (options_.control == nullptr) return Control::Disabled(request);
    if (absl::StatusOr<Store*> s = Authenticate(request); !s.ok()) {
      return options_.control->Refuse(request, s.status());
    }
    return options_.control->Handle(request, *this);
  }
  if (request.method == "OPTIONS" && !request.origin.empty()) return Preflight(request);
  switch (ProtocolOf(request.method, request.content_type, body.empty())) {
    case Protocol::kJson: return HandleAction(request, /*cbor=*/false);
    case Protocol::kCbor: return HandleAction(request, /*cbor=*/true);
    case Protocol::kDeprecatedJson: {
      // Kinesis does not serve plain application/json: a body that parses
      // is an unknown operation (404), one that does not a serialization
      // error, both in the deprecated envelope (observed).
      thread_local Scratch scratch;
      scratch.Reset();
      if (!ParseJsonRequest(body, &scratch).ok()) {
        return WireErrorResponse(Protocol::kDeprecatedJson, SerializationError(""));
      }
      return WireErrorResponse(Protocol::kDeprecatedJson, UnknownOperation());
    }
    case Protocol::kXml:
      // What Kinesis answers in the Query protocol, which it does not serve:
      // the signature's form when required, then AccessDeniedException.
      if (options_.require_signatures || !options_.credentials.empty()) {
        absl::Status st = CheckSignatureForm(request.query, request.authorization, request.headers);
        if (!st.ok()) return WireErrorResponse(Protocol::kXml, st);
      }
      return WireErrorResponse(Protocol::kXml,
                           MakeError(absl::StatusCode::kPermissionDenied, ErrorType::kAccessDenied,
                                     "Unable to determine service/operation name to be authorized"));
  }
  return WireErrorResponse(Protocol::kJson, InternalFailureError("unreachable"));
}

Response Endpoint::HandleAction(const Request& request, bool cbor) const {
  const Protocol protocol = cbor ? Protocol::kCbor : Protocol::kJson;
  static const std::string kNoBody;
  const std::string& body = request.body != nullptr ? *request.body : kNoBody;
  if (IsFlinkTarget(request.amz_target)) {  // the Managed Service for Apache Flink API, flink_actions.h
    absl::StatusOr<Store*> store = Authenticate(request);
    if (!store.ok()) return WireErrorResponse(protocol, store.status());
    FlinkRequestContext flink;
    flink.applications = options_.applications;
    flink.default_account = *store == store_;
    flink.host = request.host;
    flink.restart_delay = options_.application_restart_delay;
    flink.faults = (*store)->options().fault_injector;
    return HandleFlinkRequest(flink, request.amz_target.substr(kFlinkTargetPrefix.size()),
                              request.content_type, body, request.response_storage);
  }
  // One Scratch per thread, reset per request: its arena is reused.
  thread_local Scratch thread_scratch;
  Scratch& scratch = thread_scratch;
  scratch.Reset();

  // AWS's order (observed): a body that does not parse, then the target,
  // then an empty body, then the signature; none of these answers says more
  // than its type.
  std::optional<JsonObject> json;
  std::optional<CborDocument> doc;
  if (!body.empty()) {
    if (cbor) {
      absl::StatusOr<CborDocument> d = CborDocument::Parse(body, &scratch);
      if (!d.ok()) return WireErrorResponse(protocol, d.status(), BodyMessage::kOmit);
      doc.emplace(std::move(*d));
    } else {
      absl::StatusOr<JsonObject> in = ParseJsonRequest(body, &scratch);
      if (!in.ok()) return WireErrorResponse(protocol, in.status(), BodyMessage::kOmit);
      json.emplace(*in);
    }
  }
  // A presigned request may carry X-Amz-Target in the query string (the
  // SDKs' presigners hoist x-amz-* headers there).
  std::string hoisted;
  std::string_view target = request.amz_target;
  if (target.empty() && !request.query.empty()) {
    hoisted = HoistedHeader(request.query, "x-amz-target");
    target = hoisted;
  }
  const ActionInfo* action = nullptr;
  if (target.size() > kTargetPrefix.size() && target.substr(0, kTargetPrefix.size()) == kTargetPrefix) {
    action = FindAction(target.substr(kTargetPrefix.size()));
  }
  if (action == nullptr || action->status != ActionStatus::kDone) {
    return WireErrorResponse(protocol, UnknownOperation());
  }
  if (body.empty()) {
    return WireErrorResponse(protocol, SerializationError("The request body is empty"), BodyMessage::kOmit);
  }
  absl::StatusOr<Store*> store = Authenticate(request);
  if (!store.ok()) return WireErrorResponse(protocol, store.status());

  const validation::RequestValidator& validator = validation::RequestValidator::Kinesis();
  const validation::Operation* op = validator.Find(action->name);
  Response r;
  if (request.response_storage != nullptr) {
    r.body.swap(*request.response_storage);
    r.body.clear();
  }
  absl::Status st;
  if (!cbor) {
    if (op != nullptr) st = validator.Validate(*op, *json);
    if (st.ok()) st = ActionFault(**store, action->name, *json);
    if (!st.ok()) {
      // fall through to the error response
    } else if (action->json_stream != nullptr) {
      absl::StatusOr<std::shared_ptr<ResponseStream>> stream = action->json_stream(**store, *json);
      if (stream.ok()) {
        r.content_type = kEventStreamContentType;
        r.stream = std::move(*stream);
      }
      st = stream.status();
    } else {
      JsonWriter out(&r.body);
      st = action->json(**store, *json, out);
    }
  } else {
    const CborObject root = doc->root();
    if (op != nullptr) st = validator.Validate(*op, root);
    if (st.ok()) st = ActionFault(**store, action->name, root);
    r.content_type = kCborContentType;
    if (!st.ok()) {
      // fall through to the error response
    } else if (action->cbor_stream != nullptr) {
      absl::StatusOr<std::shared_ptr<ResponseStream>> stream = action->cbor_stream(**store, root);
      if (stream.ok()) {
        r.content_type = kEventStreamContentType;
        r.stream = std::move(*stream);
      }
      st = stream.status();
    } else {
      CborWriter out(&r.body);
      st = action->cbor(**store, root, out);
    }
  }
  if (!st.ok()) return WireErrorResponse(protocol, st);
  return r;
}

}  // namespace tributary::endpoint
