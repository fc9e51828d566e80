#include "endpoint/endpoint.h"

#include <fmt/format.h>

#include <cctype>

#include "endpoint/actions.h"
#include "endpoint/cbor_codec.h"
#include "endpoint/control.h"
#include "endpoint/event_stream.h"
#include "endpoint/flink_actions.h"
#include "endpoint/json_codec.h"
#include "util/status_macros.h"

namespace tributary::endpoint {
namespace {

enum class Encoding { kJson, kCbor, kUnsupported };

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

Encoding EncodingOf(std::string_view content_type) {
  std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
  if (media.empty() || EqualsIgnoreCase(media, kJsonContentType) ||
      EqualsIgnoreCase(media, "application/x-amz-json-1.0") ||
      EqualsIgnoreCase(media, "application/json")) {
    return Encoding::kJson;
  }
  if (EqualsIgnoreCase(media, kCborContentType)) return Encoding::kCbor;
  return Encoding::kUnsupported;
}

template <class Writer>
void WriteError(std::string* out, std::string_view type, std::string_view message) {
  Writer w(out);
  w.StartObject();
  w.Key("__type");
  w.String(type);
  w.Key("message");
  w.String(message);
  w.EndObject();
}

Response MakeErrorResponse(Encoding enc, const absl::Status& status) {
  WireError wire = WireErrorOf(status);
  Response r;
  r.status = wire.http_status;
  r.error_type = wire.type;
  std::string_view message(status.message().data(), status.message().size());
  if (enc == Encoding::kCbor) {
    r.content_type = kCborContentType;
    WriteError<CborWriter>(&r.body, wire.type, message);
  } else {
    r.content_type = kJsonContentType;
    WriteError<JsonWriter>(&r.body, wire.type, message);
  }
  return r;
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

absl::Status UnknownOperation(std::string_view message) {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation, message);
}

}  // namespace

WireError WireErrorOf(const absl::Status& status) {
  switch (ErrorType type = GetErrorType(status)) {
    case ErrorType::kNone:  // not an error: a bug in the caller
    case ErrorType::kInternalFailure:
    case ErrorType::kCorruption:
    case ErrorType::kWaiterTimeout:
      return {500, ErrorTypeName(ErrorType::kInternalFailure)};
    case ErrorType::kMissingAuthenticationToken:
      return {403, ErrorTypeName(type)};
    default:
      return {400, ErrorTypeName(type)};
  }
}

Response Endpoint::ErrorResponse(std::string_view content_type, const absl::Status& status) {
  Encoding enc = EncodingOf(content_type);
  return MakeErrorResponse(enc == Encoding::kCbor ? Encoding::kCbor : Encoding::kJson, status);
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
  std::string_view key = sigv4::AccessKeyIdOf(request.authorization);
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
  // The test control API (control.h): by method and path, before anything
  // Kinesis; signed like any request when signatures are verified.
  if (IsControlPath(request.path)) {
    if (options_.control == nullptr) return Control::Disabled(request);
    if (absl::StatusOr<Store*> s = Authenticate(request); !s.ok()) {
      return options_.control->Refuse(request, s.status());
    }
    return options_.control->Handle(request, *this);
  }
  const std::string_view target = request.amz_target;
  const std::string_view content_type = request.content_type;
  const std::string& body = *request.body;
  const Encoding enc = EncodingOf(content_type);
  if (enc == Encoding::kUnsupported) {
    return MakeErrorResponse(
        Encoding::kJson,
        SerializationError(fmt::format("Content-Type '{}' is not supported; send {} or {}",
                                       content_type.substr(0, 100), kJsonContentType,
                                       kCborContentType)));
  }
  // Authentication comes first, as in AWS: an unsigned request learns nothing.
  absl::StatusOr<Store*> store = Authenticate(request);
  if (!store.ok()) return MakeErrorResponse(enc, store.status());
  if (IsFlinkTarget(target)) {  // the Managed Service for Apache Flink API, flink_actions.h
    FlinkRequestContext flink;
    flink.applications = options_.applications;
    flink.default_account = *store == store_;
    flink.host = request.host;
    flink.restart_delay = options_.application_restart_delay;
    flink.faults = (*store)->options().fault_injector;
    return HandleFlinkRequest(flink, target.substr(kFlinkTargetPrefix.size()), content_type, body,
                              request.response_storage);
  }
  if (target.substr(0, kTargetPrefix.size()) != kTargetPrefix) {
    return MakeErrorResponse(
        enc, UnknownOperation(fmt::format(
                 "X-Amz-Target '{}' does not name a Kinesis action (expected {}<Action>)",
                 target.substr(0, 100), kTargetPrefix)));
  }
  std::string_view name = target.substr(kTargetPrefix.size());
  const ActionInfo* action = FindAction(name);
  if (action == nullptr) {
    return MakeErrorResponse(
        enc, UnknownOperation(fmt::format("{} is not a Kinesis action", name.substr(0, 100))));
  }
  if (action->status != ActionStatus::kDone) {
    return MakeErrorResponse(
        enc, UnknownOperation(fmt::format(
                 "{} is a Kinesis action that tributary-server does not serve yet (planned: {}; "
                 "see docs/ENDPOINT.md)",
                 action->name, action->note)));
  }

  // One Scratch per thread, reset per request: its arena is reused.
  thread_local Scratch thread_scratch;
  Scratch& scratch = thread_scratch;
  scratch.Reset();
  Response r;
  if (request.response_storage != nullptr) {
    r.body.swap(*request.response_storage);
    r.body.clear();
  }
  absl::Status st;
  if (enc == Encoding::kJson) {
    if (body.empty()) {
      st = SerializationError("The request body is empty; send {} for an action without input");
    } else if (absl::StatusOr<JsonObject> in = ParseJsonRequest(body, &scratch); !in.ok()) {
      st = in.status();
    } else if (st = ActionFault(**store, action->name, *in); !st.ok()) {
    } else if (action->json_stream != nullptr) {
      absl::StatusOr<std::shared_ptr<ResponseStream>> stream = action->json_stream(**store, *in);
      if (stream.ok()) {
        r.content_type = kEventStreamContentType;
        r.stream = std::move(*stream);
      }
      st = stream.status();
    } else {
      JsonWriter out(&r.body);
      st = action->json(**store, *in, out);
    }
  } else {
    if (absl::StatusOr<CborDocument> doc = CborDocument::Parse(body, &scratch); !doc.ok()) {
      st = doc.status();
    } else if (st = ActionFault(**store, action->name, doc->root()); !st.ok()) {
    } else {
      r.content_type = kCborContentType;
      if (action->cbor_stream != nullptr) {
        absl::StatusOr<std::shared_ptr<ResponseStream>> stream =
            action->cbor_stream(**store, doc->root());
        if (stream.ok()) {
          r.content_type = kEventStreamContentType;
          r.stream = std::move(*stream);
        }
        st = stream.status();
      } else {
        CborWriter out(&r.body);
        st = action->cbor(**store, doc->root(), out);
      }
    }
  }
  if (!st.ok()) return MakeErrorResponse(enc, st);
  return r;
}

}  // namespace tributary::endpoint
