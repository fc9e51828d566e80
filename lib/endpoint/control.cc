// The test control API: routing by method and path, JSON in (simdjson) and
// out (util::JsonWriter), and the exposure rules of tributary-server.
#include "endpoint/control.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "endpoint/actions.h"
#include "util/json_writer.h"

namespace tributary::endpoint {
namespace {

constexpr std::string_view kPrefix = "/_tributary/";
constexpr std::string_view kMotoReset = "/moto-api/reset";
constexpr std::string_view kControlContentType = "application/json";

// The Managed Flink (kinesisanalyticsv2, 2018-05-23) actions a fault rule may
// name besides the Kinesis ones.
constexpr std::string_view kFlinkActions[] = {
    "AddApplicationCloudWatchLoggingOption",
    "AddApplicationInput",
    "AddApplicationInputProcessingConfiguration",
    "AddApplicationOutput",
    "AddApplicationReferenceDataSource",
    "AddApplicationVpcConfiguration",
    "CreateApplication",
    "CreateApplicationPresignedUrl",
    "CreateApplicationSnapshot",
    "DeleteApplication",
    "DeleteApplicationCloudWatchLoggingOption",
    "DeleteApplicationInputProcessingConfiguration",
    "DeleteApplicationOutput",
    "DeleteApplicationReferenceDataSource",
    "DeleteApplicationSnapshot",
    "DeleteApplicationVpcConfiguration",
    "DescribeApplication",
    "DescribeApplicationOperation",
    "DescribeApplicationSnapshot",
    "DescribeApplicationVersion",
    "DiscoverInputSchema",
    "ListApplicationOperations",
    "ListApplicationSnapshots",
    "ListApplicationVersions",
    "ListApplications",
    "ListTagsForResource",
    "RollbackApplication",
    "StartApplication",
    "StopApplication",
    "TagResource",
    "UntagResource",
    "UpdateApplication",
    "UpdateApplicationMaintenanceConfiguration",
};

bool IsKnownAction(std::string_view name) {
  if (FindAction(name) != nullptr) return true;
  for (std::string_view a : kFlinkActions) {
    if (a == name) return true;
  }
  return false;
}

bool IsStoreHookedAction(std::string_view action) {
  using testing::Call;
  for (Call c : {Call::kPut, Call::kPutBatch, Call::kGetShardIterator, Call::kGetRecords}) {
    if (testing::ActionName(c) == action) return true;
  }
  return false;
}

absl::Status Invalid(std::string_view message) { return ValidationError(message); }

absl::Status NotFound(std::string_view message) { return ResourceNotFoundError(message); }

// The request body as one JSON object; an empty body is {}.
class Body {
 public:
  absl::Status Parse(const std::string* body) {
    static const std::string kEmpty = "{}";
    const std::string& text = body == nullptr || body->empty() ? kEmpty : *body;
    simdjson::dom::element root;
    if (parser_.parse(text).get(root) != simdjson::SUCCESS) {
      return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kSerialization,
                       "The control request body is not JSON");
    }
    if (root.get_object().get(obj_) != simdjson::SUCCESS) {
      return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kSerialization,
                       "The control request body must be a JSON object");
    }
    return absl::OkStatus();
  }

  // Every member must be one of `known` (typos fail loudly, not silently).
  absl::Status CheckMembers(std::initializer_list<std::string_view> known) const {
    for (auto [key, value] : obj_) {
      bool ok = false;
      for (std::string_view k : known) ok = ok || k == key;
      if (!ok) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return Invalid(fmt::format("Unknown member \"{}\" (expected: {})", key, list));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> String(std::string_view key) const {
    simdjson::dom::element v;
    if (obj_.at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) return std::optional<std::string>();
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      return Invalid(fmt::format("\"{}\" must be a string", key));
    }
    return std::optional<std::string>(std::string(s));
  }

  absl::StatusOr<std::optional<int64_t>> Int(std::string_view key) const {
    simdjson::dom::element v;
    if (obj_.at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) return std::optional<int64_t>();
    int64_t n = 0;
    if (v.get_int64().get(n) != simdjson::SUCCESS) {
      return Invalid(fmt::format("\"{}\" must be an integer", key));
    }
    return std::optional<int64_t>(n);
  }

  absl::StatusOr<std::vector<size_t>> Indexes(std::string_view key) const {
    std::vector<size_t> out;
    simdjson::dom::element v;
    if (obj_.at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) return out;
    simdjson::dom::array a;
    if (v.get_array().get(a) != simdjson::SUCCESS) {
      return Invalid(fmt::format("\"{}\" must be an array of record positions", key));
    }
    for (simdjson::dom::element e : a) {
      int64_t i = 0;
      if (e.get_int64().get(i) != simdjson::SUCCESS || i < 0 || i >= 500) {
        return Invalid(fmt::format("\"{}\" holds positions 0..499 of a PutRecords request", key));
      }
      out.push_back(static_cast<size_t>(i));
    }
    return out;
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::object obj_;
};

#define CONTROL_ASSIGN(lhs, expr)             \
  auto lhs##_or = (expr);                     \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = std::move(*lhs##_or)

absl::StatusOr<ErrorType> ParseErrorType(std::string_view key, const std::string& name) {
  ErrorType t = ErrorTypeFromName(name);
  if (t == ErrorType::kNone || t == ErrorType::kWaiterTimeout || t == ErrorType::kCorruption) {
    return Invalid(fmt::format(
        "\"{}\": '{}' is not an AWS error type Tributary knows (e.g. "
        "ProvisionedThroughputExceededException, InternalFailure, LimitExceededException, "
        "ResourceInUseException, ExpiredIteratorException, ResourceNotFoundException; "
        "docs/ENDPOINT.md \"Test control\")",
        key, name.substr(0, 100)));
  }
  return t;
}

absl::StatusOr<testing::FaultRule> ParseRule(const Body& in) {
  if (absl::Status s = in.CheckMembers({"call", "error", "message", "count", "stream", "shard",
                                        "partition_key", "application", "fail_records",
                                        "record_error", "latency_ms"});
      !s.ok()) {
    return s;
  }
  testing::FaultRule r;
  CONTROL_ASSIGN(call, in.String("call"));
  if (!call.has_value() || call->empty()) return Invalid("\"call\" is required: an action name such as PutRecord");
  if (!IsKnownAction(*call)) {
    return Invalid(fmt::format("\"call\": '{}' is not a Kinesis or Managed Flink action",
                               call->substr(0, 100)));
  }
  r.call = *call;
  CONTROL_ASSIGN(error, in.String("error"));
  if (error.has_value()) {
    CONTROL_ASSIGN(t, ParseErrorType("error", *error));
    r.error = t;
  }
  CONTROL_ASSIGN(message, in.String("message"));
  r.message = message.value_or("");
  CONTROL_ASSIGN(count, in.Int("count"));
  if (count.has_value()) {
    if (*count != -1 && (*count < 1 || *count > 1000000000)) {
      return Invalid("\"count\" must be 1..1000000000, or -1 for a rule that never runs out");
    }
    r.count = static_cast<int>(*count);
  }
  CONTROL_ASSIGN(stream, in.String("stream"));
  CONTROL_ASSIGN(shard, in.String("shard"));
  CONTROL_ASSIGN(key, in.String("partition_key"));
  CONTROL_ASSIGN(app, in.String("application"));
  r.target.stream = stream.value_or("");
  r.target.shard_id = shard.value_or("");
  r.target.partition_key = key.value_or("");
  r.target.application = app.value_or("");
  CONTROL_ASSIGN(records, in.Indexes("fail_records"));
  r.fail_records = std::move(records);
  CONTROL_ASSIGN(record_error, in.String("record_error"));
  if (record_error.has_value()) {
    CONTROL_ASSIGN(t, ParseErrorType("record_error", *record_error));
    r.record_error = t;
  }
  CONTROL_ASSIGN(latency, in.Int("latency_ms"));
  if (latency.has_value()) {
    if (*latency < 0 || *latency > 600000) return Invalid("\"latency_ms\" must be 0..600000");
    r.latency = absl::Milliseconds(*latency);
  }
  return r;
}

void WriteRule(util::JsonWriter& w, const testing::FaultRuleState& s) {
  const testing::FaultRule& r = s.rule;
  w.StartObject();
  w.Key("id");
  w.String(s.id);
  w.Key("call");
  w.String(r.call);
  if (r.error != ErrorType::kNone) {
    w.Key("error");
    w.String(ErrorTypeName(r.error));
  }
  w.Key("count");  // fires left: what "count" asked for, counted down
  w.Int(s.remaining);
  w.Key("fired");
  w.Int(s.fired);
  auto opt = [&w](std::string_view key, const std::string& v) {
    if (v.empty()) return;
    w.Key(key);
    w.String(v);
  };
  opt("stream", r.target.stream);
  opt("shard", r.target.shard_id);
  opt("partition_key", r.target.partition_key);
  opt("application", r.target.application);
  opt("message", r.message);
  if (!r.fail_records.empty() || s.predicate) {
    if (!r.fail_records.empty()) {
      w.Key("fail_records");
      w.StartArray();
      for (size_t i : r.fail_records) w.Int(static_cast<int64_t>(i));
      w.EndArray();
    }
    w.Key("record_error");
    w.String(ErrorTypeName(r.record_error));
  }
  if (s.predicate) {
    w.Key("records_chosen_by");
    w.String("a C++ predicate (FailBatchRecordsIf)");
  }
  if (s.probability < 1.0) {
    w.Key("probability_percent");
    w.Int(static_cast<int64_t>(s.probability * 100));
  }
  if (r.latency > absl::ZeroDuration()) {
    w.Key("latency_ms");
    w.Int(absl::ToInt64Milliseconds(r.latency));
  }
  w.EndObject();
}

std::string Now(Clock* clock) {
  std::string out;
  util::JsonWriter w(&out);
  w.StartObject();
  w.Key("now_ms");
  w.Int(absl::ToUnixMillis(clock->Now()));
  w.EndObject();
  return out;
}

std::string EmptyObject() { return "{}"; }

void DefaultLog(std::string_view line) {
  std::fprintf(stderr, "tributary-server: control: %.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace

bool IsControlPath(std::string_view path) {
  return path.substr(0, kPrefix.size()) == kPrefix || path == kMotoReset ||
         path == kPrefix.substr(0, kPrefix.size() - 1);
}

Control::Control(ControlOptions options) : options_(std::move(options)) {
  if (!options_.log) options_.log = DefaultLog;
  if (options_.clock == nullptr) options_.clock = SystemClock();
}

Response Control::Disabled(const Request& request) {
  Response r = Endpoint::ErrorResponse(
      kControlContentType,
      MakeError(absl::StatusCode::kNotFound, ErrorType::kResourceNotFound,
                fmt::format("{} {}: the test control API is off; start tributary-server with "
                            "--test-control (docs/ENDPOINT.md \"Test control\")",
                            request.method, request.path.substr(0, 200))));
  r.status = 404;
  return r;
}

absl::StatusOr<std::string> Control::Dispatch(const Request& request, const Endpoint& endpoint,
                                              int* http_status) const {
  const std::string_view method = request.method;
  const std::string_view path = request.path;
  auto wrong_method = [&](std::string_view allowed) {
    *http_status = 405;
    return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                     fmt::format("{} {}: allowed methods are {}", method, path, allowed));
  };
  Body in;
  if (absl::Status s = in.Parse(request.body); !s.ok()) return s;

  if (path == kMotoReset || path == "/_tributary/reset") {
    if (method != "POST") return wrong_method("POST");
    if (absl::Status s = in.CheckMembers({}); !s.ok()) return s;
    options_.faults->Clear();
    // Applications first: their jobs read the streams.
    if (options_.reset_applications) {
      if (absl::Status s = options_.reset_applications(); !s.ok()) return s;
    }
    if (absl::Status s = endpoint.DeleteAllStreams(); !s.ok()) return s;
    return EmptyObject();
  }

  if (path == "/_tributary/clock") {
    if (method == "GET") {
      std::string out;
      util::JsonWriter w(&out);
      w.StartObject();
      w.Key("now_ms");
      w.Int(absl::ToUnixMillis(options_.clock->Now()));
      w.Key("manual");
      w.Bool(options_.manual_clock != nullptr);
      w.EndObject();
      return out;
    }
    if (method != "POST") return wrong_method("GET, POST");
    if (absl::Status s = in.CheckMembers({"advance_ms"}); !s.ok()) return s;
    if (options_.manual_clock == nullptr) {
      *http_status = 409;
      return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kUnsupportedOperation,
                       "The server runs on the system clock; start tributary-server with "
                       "--manual-clock to move time with POST /_tributary/clock");
    }
    CONTROL_ASSIGN(advance, in.Int("advance_ms"));
    if (!advance.has_value() || *advance < 0) {
      return Invalid("\"advance_ms\" is required: the milliseconds to move the clock forward (>= 0)");
    }
    options_.manual_clock->Advance(absl::Milliseconds(*advance));
    return Now(options_.manual_clock);
  }

  constexpr std::string_view kFaults = "/_tributary/faults";
  if (path == kFaults) {
    if (method == "POST") {
      CONTROL_ASSIGN(rule, ParseRule(in));
      CONTROL_ASSIGN(id, options_.faults->Add(std::move(rule)));
      std::string out;
      util::JsonWriter w(&out);
      w.StartObject();
      w.Key("id");
      w.String(id);
      w.EndObject();
      return out;
    }
    if (method == "GET") {
      std::string out;
      util::JsonWriter w(&out);
      w.StartObject();
      w.Key("rules");
      w.StartArray();
      for (const testing::FaultRuleState& s : options_.faults->Rules()) WriteRule(w, s);
      w.EndArray();
      w.EndObject();
      return out;
    }
    if (method == "DELETE") {
      options_.faults->Clear();
      return EmptyObject();
    }
    return wrong_method("GET, POST, DELETE");
  }
  if (path.substr(0, kFaults.size() + 1) == std::string(kFaults) + "/") {
    if (method != "DELETE") return wrong_method("DELETE");
    std::string_view id = path.substr(kFaults.size() + 1);
    if (!options_.faults->Remove(id)) {
      *http_status = 404;
      return NotFound(fmt::format("No fault rule with id '{}'", id.substr(0, 100)));
    }
    return EmptyObject();
  }

  constexpr std::string_view kApps = "/_tributary/applications/";
  if (path.substr(0, kApps.size()) == kApps) {
    if (method != "POST") return wrong_method("POST");
    std::string_view app = path.substr(kApps.size());
    if (app.empty() || app.find('/') != std::string_view::npos) {
      return Invalid("POST /_tributary/applications/NAME needs an application name");
    }
    if (absl::Status s = in.CheckMembers({"job"}); !s.ok()) return s;
    CONTROL_ASSIGN(job, in.String("job"));
    JobCommand fault;
    if (job == "fail") {
      fault = JobCommand::kFail;
    } else if (job == "hang") {
      fault = JobCommand::kHang;
    } else if (job == "recover") {
      fault = JobCommand::kRecover;
    } else {
      return Invalid("\"job\" must be \"fail\", \"hang\" or \"recover\"");
    }
    if (!options_.application_job) {
      *http_status = 501;
      return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnsupportedOperation,
                       "This tributary-server serves no Managed Flink applications");
    }
    if (absl::Status s = options_.application_job(app, fault); !s.ok()) {
      if (GetErrorType(s) == ErrorType::kResourceNotFound) *http_status = 404;
      return s;
    }
    return EmptyObject();
  }

  *http_status = 404;
  return MakeError(absl::StatusCode::kNotFound, ErrorType::kUnknownOperation,
                   fmt::format("{} is not a control call (docs/ENDPOINT.md \"Test control\")",
                               path.substr(0, 200)));
}

Response Control::Handle(const Request& request, const Endpoint& endpoint) const {
  int http_status = 0;
  absl::StatusOr<std::string> out = Dispatch(request, endpoint, &http_status);
  Response r;
  if (out.ok()) {
    r.content_type = kControlContentType;
    r.body = *std::move(out);
  } else {
    r = Endpoint::ErrorResponse(kControlContentType, out.status());
    if (http_status != 0) r.status = http_status;
  }
  Log(request, r);
  return r;
}

Response Control::Refuse(const Request& request, const absl::Status& status) const {
  Response r = Endpoint::ErrorResponse(kControlContentType, status);
  Log(request, r);
  return r;
}

void Control::Log(const Request& request, const Response& r) const {
  std::string_view body = request.body == nullptr ? std::string_view() : std::string_view(*request.body);
  options_.log(fmt::format("{} {} {} -> {} {}", request.method, request.path.substr(0, 200),
                           body.substr(0, 500), r.status, std::string_view(r.body).substr(0, 500)));
}

absl::Status CheckActionFault(const Store& store, std::string_view action, std::string_view stream,
                              std::string_view application) {
  FaultInjector* injector = store.options().fault_injector;
  if (injector == nullptr || IsStoreHookedAction(action)) return absl::OkStatus();
  return injector->OnCall(action, stream, application);
}

absl::StatusOr<bool> IsLoopbackHost(std::string_view host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string name(host);
  if (int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res); rc != 0) {
    return absl::InvalidArgumentError(
        fmt::format("cannot resolve host '{}': {}", name, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(res, freeaddrinfo);
  bool any = false;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    any = true;
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      if ((ntohl(in->sin_addr.s_addr) >> 24) != 127) return false;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return false;
    } else {
      return false;
    }
  }
  return any;
}

absl::Status CheckExposure(std::string_view host, bool signatures_verified, bool allow_unauthenticated,
                           bool test_control) {
  absl::StatusOr<bool> loopback = IsLoopbackHost(host);
  if (!loopback.ok()) return loopback.status();
  if (*loopback || signatures_verified) return absl::OkStatus();
  if (test_control) {
    return absl::FailedPreconditionError(fmt::format(
        "--test-control on '{}', which is not a loopback address, needs signature verification "
        "(--credentials FILE or --access-key/--secret-key): anyone who reaches the port could "
        "wipe the store, move its clock and inject faults. --allow-unauthenticated does not "
        "waive this; listen on 127.0.0.1 instead",
        host));
  }
  if (!allow_unauthenticated) {
    return absl::FailedPreconditionError(fmt::format(
        "'{}' is not a loopback address and signatures are not verified: anyone who reaches "
        "the port could read, write and delete streams. Verify signatures (--credentials FILE "
        "or --access-key/--secret-key), listen on 127.0.0.1, or pass --allow-unauthenticated "
        "to accept that",
        host));
  }
  return absl::OkStatus();
}

}  // namespace tributary::endpoint
