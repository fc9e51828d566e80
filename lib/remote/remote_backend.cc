// The remote backend: each StoreBackend call becomes one Kinesis JSON 1.1
// request (X-Amz-Target: Kinesis_20131202.<Action>). Requests are written
// with util::JsonWriter (RapidJSON underneath, as the endpoint's responses),
// answers parsed with simdjson's DOM parser (one per thread); blobs are
// base64, timestamps epoch seconds.
#include "remote/remote_backend.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "remote/aws_client.h"
#include "util/json_writer.h"
#include "util/status_macros.h"

namespace tributary::remote {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;


// ---------------------------------------------------------------- writing

// Requests are written by util::JsonWriter, the writer the endpoint's
// responses use: blobs are base64-encoded straight into the body and strings
// that need no escaping are appended whole.
class Json {
 public:
  Json() : w_(&body_) { w_.StartObject(); }

  // Member names are the API's (ASCII letters).
  Json& Key(std::string_view k) {
    w_.Key(k);
    return *this;
  }
  Json& Str(std::string_view k, std::string_view v) {
    Key(k);
    w_.String(v);
    return *this;
  }
  Json& Int(std::string_view k, int64_t v) {
    Key(k);
    w_.Int(v);
    return *this;
  }
  Json& Bool(std::string_view k, bool v) {
    Key(k);
    w_.Bool(v);
    return *this;
  }
  Json& Time(std::string_view k, absl::Time t) {
    Key(k);
    w_.Timestamp(t);
    return *this;
  }
  Json& Blob(std::string_view k, std::string_view bytes) {
    Key(k);
    w_.Blob(bytes);
    return *this;
  }
  // StreamARN for an ARN, StreamName otherwise.
  Json& Stream(std::string_view stream) {
    return Str(absl::StartsWith(absl::string_view(stream.data(), stream.size()), "arn:") ? "StreamARN"
                                                                                       : "StreamName",
               stream);
  }
  Json& Strings(std::string_view k, const std::vector<std::string>& v) {
    Key(k);
    w_.StartArray();
    for (const std::string& s : v) w_.String(s);
    w_.EndArray();
    return *this;
  }
  // Keys are the caller's (tag keys): escaped like values.
  Json& Map(std::string_view k, const std::map<std::string, std::string>& m) {
    Key(k);
    w_.StartObject();
    for (const auto& [key, value] : m) {
      w_.String(key);
      w_.String(value);
    }
    w_.EndObject();
    return *this;
  }
  util::JsonWriter& writer() { return w_; }

  std::string Take() {
    w_.EndObject();
    return std::move(body_);
  }

 private:
  std::string body_;
  util::JsonWriter w_;
};

// ---------------------------------------------------------------- reading

absl::Status BadAnswer(std::string_view what) {
  return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                   fmt::format("the endpoint's answer does not decode: {}", what));
}

// Parses an answer on this thread's parser; the object lives until this
// thread parses again.
absl::StatusOr<object> Parse(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(body.data(), body.size()).get(root); err != simdjson::SUCCESS) {
    return BadAnswer(fmt::format("not JSON ({})", simdjson::error_message(err)));
  }
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return BadAnswer("not a JSON object");
  return o;
}

std::optional<element> Member(object o, std::string_view key) {
  element v;
  if (o.at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) return std::nullopt;
  return v;
}

std::optional<std::string_view> Str(object o, std::string_view key) {
  std::optional<element> v = Member(o, key);
  std::string_view s;
  if (!v || v->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::string StrOr(object o, std::string_view key, std::string_view dflt = "") {
  return std::string(Str(o, key).value_or(dflt));
}

std::optional<int64_t> Int(object o, std::string_view key) {
  std::optional<element> v = Member(o, key);
  if (!v) return std::nullopt;
  int64_t i;
  if (v->get_int64().get(i) == simdjson::SUCCESS) return i;
  double d;
  if (v->get_double().get(d) == simdjson::SUCCESS) return static_cast<int64_t>(d);
  return std::nullopt;
}

std::optional<bool> Bool(object o, std::string_view key) {
  std::optional<element> v = Member(o, key);
  bool b;
  if (!v || v->get_bool().get(b) != simdjson::SUCCESS) return std::nullopt;
  return b;
}

// Epoch seconds (a number, possibly fractional).
std::optional<absl::Time> Time(object o, std::string_view key) {
  std::optional<element> v = Member(o, key);
  if (!v) return std::nullopt;
  double d;
  if (v->get_double().get(d) == simdjson::SUCCESS) return absl::FromUnixMillis(std::llround(d * 1000));
  int64_t i;
  if (v->get_int64().get(i) == simdjson::SUCCESS) return absl::FromUnixSeconds(i);
  return std::nullopt;
}

std::optional<object> Obj(object o, std::string_view key) {
  std::optional<element> v = Member(o, key);
  object r;
  if (!v || v->get_object().get(r) != simdjson::SUCCESS) return std::nullopt;
  return r;
}

std::optional<array> Arr(object o, std::string_view key) {
  std::optional<element> v = Member(o, key);
  array r;
  if (!v || v->get_array().get(r) != simdjson::SUCCESS) return std::nullopt;
  return r;
}

std::vector<std::string> Strings(object o, std::string_view key) {
  std::vector<std::string> out;
  if (std::optional<array> a = Arr(o, key)) {
    for (element e : *a) {
      std::string_view s;
      if (e.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
    }
  }
  return out;
}

template <typename Fn>
absl::Status ForEachObject(object o, std::string_view key, Fn&& fn) {
  std::optional<array> a = Arr(o, key);
  if (!a) return absl::OkStatus();
  for (element e : *a) {
    object item;
    if (e.get_object().get(item) != simdjson::SUCCESS) return BadAnswer(fmt::format("{}[] is not an object", key));
    TRIBUTARY_RETURN_IF_ERROR(fn(item));
  }
  return absl::OkStatus();
}

absl::StatusOr<SequenceNumber> Seq(object o, std::string_view key) {
  std::optional<std::string_view> s = Str(o, key);
  if (!s) return BadAnswer(fmt::format("{} is missing", key));
  absl::StatusOr<SequenceNumber> n = SequenceNumber::ParseAny(*s, key);
  if (!n.ok()) return BadAnswer(std::string(n.status().message()));
  return n;
}

absl::StatusOr<HashKey> Hash(object o, std::string_view key) {
  std::optional<std::string_view> s = Str(o, key);
  if (!s) return BadAnswer(fmt::format("{} is missing", key));
  absl::StatusOr<HashKey> k = HashKey::Parse(*s, key);
  if (!k.ok()) return BadAnswer(std::string(k.status().message()));
  return k;
}

absl::StatusOr<HashKeyRange> Range(object o) {
  std::optional<object> r = Obj(o, "HashKeyRange");
  if (!r) return BadAnswer("HashKeyRange is missing");
  TRIBUTARY_ASSIGN_OR_RETURN(HashKey start, Hash(*r, "StartingHashKey"));
  TRIBUTARY_ASSIGN_OR_RETURN(HashKey end, Hash(*r, "EndingHashKey"));
  return HashKeyRange{start, end};
}

StreamStatus ParseStatus(std::string_view s) {
  if (s == "CREATING") return StreamStatus::kCreating;
  if (s == "DELETING") return StreamStatus::kDeleting;
  if (s == "UPDATING") return StreamStatus::kUpdating;
  return StreamStatus::kActive;
}

StreamMode ModeOf(object o) {
  if (std::optional<object> d = Obj(o, "StreamModeDetails")) {
    if (Str(*d, "StreamMode").value_or("") == "ON_DEMAND") return StreamMode::kOnDemand;
  }
  return StreamMode::kProvisioned;
}

EncryptionType EncryptionOf(object o) {
  return Str(o, "EncryptionType").value_or("NONE") == "KMS" ? EncryptionType::kKms : EncryptionType::kNone;
}

std::vector<std::string> MetricsOf(object o) {
  std::vector<std::string> out;
  (void)ForEachObject(o, "EnhancedMonitoring", [&](object m) {
    for (std::string& s : Strings(m, "ShardLevelMetrics")) out.push_back(std::move(s));
    return absl::OkStatus();
  });
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<ShardDescription> ShardOf(object o) {
  ShardDescription d;
  d.shard_id = StrOr(o, "ShardId");
  if (auto p = Str(o, "ParentShardId")) d.parent_shard_id = std::string(*p);
  if (auto p = Str(o, "AdjacentParentShardId")) d.adjacent_parent_shard_id = std::string(*p);
  TRIBUTARY_ASSIGN_OR_RETURN(d.hash_key_range, Range(o));
  std::optional<object> r = Obj(o, "SequenceNumberRange");
  if (!r) return BadAnswer("SequenceNumberRange is missing");
  TRIBUTARY_ASSIGN_OR_RETURN(d.starting_sequence_number, Seq(*r, "StartingSequenceNumber"));
  if (Str(*r, "EndingSequenceNumber")) {
    TRIBUTARY_ASSIGN_OR_RETURN(d.ending_sequence_number, Seq(*r, "EndingSequenceNumber"));
  }
  // Kinesis does not report a shard's state: a shard with an ending
  // sequence number is CLOSED; EXPIRED shards are not listed at all.
  d.state = d.ending_sequence_number.has_value() ? ShardState::kClosed : ShardState::kOpen;
  return d;
}

ConsumerDescription ConsumerOf(object o) {
  ConsumerDescription c;
  c.consumer_name = StrOr(o, "ConsumerName");
  c.consumer_arn = StrOr(o, "ConsumerARN");
  std::string_view st = Str(o, "ConsumerStatus").value_or("ACTIVE");
  c.consumer_status = st == "CREATING"   ? ConsumerStatus::kCreating
                      : st == "DELETING" ? ConsumerStatus::kDeleting
                                         : ConsumerStatus::kActive;
  c.consumer_creation_timestamp = Time(o, "ConsumerCreationTimestamp").value_or(absl::UnixEpoch());
  c.stream_arn = StrOr(o, "StreamARN");
  return c;
}

absl::StatusOr<AccountSettings> AccountOf(object o) {
  AccountSettings a;
  if (std::optional<object> m = Obj(o, "MinimumThroughputBillingCommitment")) {
    std::string_view s = Str(*m, "Status").value_or("DISABLED");
    a.minimum_throughput_billing_commitment =
        s == "ENABLED"                              ? CommitmentStatus::kEnabled
        : s == "ENABLED_UNTIL_EARLIEST_ALLOWED_END" ? CommitmentStatus::kEnabledUntilEarliestAllowedEnd
                                                    : CommitmentStatus::kDisabled;
    a.started_at = Time(*m, "StartedAt");
    a.ended_at = Time(*m, "EndedAt");
    a.earliest_allowed_end_at = Time(*m, "EarliestAllowedEndAt");
  }
  return a;
}

std::string_view FilterName(ShardFilterType t) { return ToString(t); }

// ---------------------------------------------------------------- errors

struct Mapping {
  std::string_view name;
  ErrorType type;
  absl::StatusCode code;
};

constexpr Mapping kErrors[] = {
    {"ResourceNotFoundException", ErrorType::kResourceNotFound, absl::StatusCode::kNotFound},
    {"ResourceInUseException", ErrorType::kResourceInUse, absl::StatusCode::kFailedPrecondition},
    {"InvalidArgumentException", ErrorType::kInvalidArgument, absl::StatusCode::kInvalidArgument},
    {"ValidationException", ErrorType::kValidation, absl::StatusCode::kInvalidArgument},
    {"LimitExceededException", ErrorType::kLimitExceeded, absl::StatusCode::kResourceExhausted},
    {"ProvisionedThroughputExceededException", ErrorType::kProvisionedThroughputExceeded,
     absl::StatusCode::kResourceExhausted},
    {"ExpiredIteratorException", ErrorType::kExpiredIterator, absl::StatusCode::kOutOfRange},
    {"ExpiredNextTokenException", ErrorType::kExpiredNextToken, absl::StatusCode::kOutOfRange},
    {"AccessDeniedException", ErrorType::kAccessDenied, absl::StatusCode::kPermissionDenied},
    {"InternalFailure", ErrorType::kInternalFailure, absl::StatusCode::kInternal},
    {"UnknownOperationException", ErrorType::kUnknownOperation, absl::StatusCode::kUnimplemented},
    {"SerializationException", ErrorType::kSerialization, absl::StatusCode::kInvalidArgument},
    // AWS common errors without a type of their own in the library.
    {"ThrottlingException", ErrorType::kLimitExceeded, absl::StatusCode::kResourceExhausted},
    {"ServiceUnavailable", ErrorType::kInternalFailure, absl::StatusCode::kUnavailable},
    {"ServiceUnavailableException", ErrorType::kInternalFailure, absl::StatusCode::kUnavailable},
    {"InternalFailureException", ErrorType::kInternalFailure, absl::StatusCode::kInternal},
    {"UnrecognizedClientException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"MissingAuthenticationTokenException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"IncompleteSignatureException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"InvalidSignatureException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"ExpiredTokenException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"InvalidClientTokenId", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"MissingParameter", ErrorType::kValidation, absl::StatusCode::kInvalidArgument},
};

}  // namespace

absl::Status ErrorFromResponse(const HttpResponse& response, std::string_view action) {
  // __type and message, parsed as for every AWS JSON service (aws_client.cc).
  AwsError e = ParseAwsError(response);
  const std::string& type = e.type;
  const std::string& message = e.message;
  for (const Mapping& m : kErrors) {
    if (m.name != type) continue;
    absl::StatusCode code = m.code;
    if (m.type == ErrorType::kResourceInUse && action == "CreateStream" &&
        absl::StrContains(message, "already exists")) {
      code = absl::StatusCode::kAlreadyExists;
    }
    // Types without a library enum keep their wire name in the message.
    std::string text = m.name == ErrorTypeName(m.type) ? message : fmt::format("{}: {}", m.name, message);
    return MakeError(code, m.type, text);
  }
  // Unknown types: by HTTP status (5xx: the server's fault, retryable).
  const bool server = response.status >= 500;
  return MakeError(server ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown,
                   server ? ErrorType::kInternalFailure : ErrorType::kInvalidArgument,
                   fmt::format("{} (HTTP {}): {}", type.empty() ? "error" : type, response.status, message));
}

// ---------------------------------------------------------------- transport

RemoteBackend::RemoteBackend(const RemoteOptions& options, std::unique_ptr<AwsJsonClient> client)
    : options_(options), clock_(client->clock()), client_(std::move(client)) {
  store_options_.clock = clock_;
  store_options_.region = options.region;
  if (!options.account_id.empty()) store_options_.account_id = options.account_id;
  store_options_.deaggregate_kpl_records = options.deaggregate_kpl_records;
}

absl::StatusOr<std::unique_ptr<RemoteBackend>> RemoteBackend::Create(const RemoteOptions& options) {
  // Signing, retries and the HTTP pool live in the client core that the
  // DynamoDB lease table shares (aws_client.h).
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<AwsJsonClient> client,
                             AwsJsonClient::Create(kKinesisService, ClientOptionsFrom(options), ErrorFromResponse));
  return std::unique_ptr<RemoteBackend>(new RemoteBackend(options, std::move(client)));
}

absl::StatusOr<std::string> RemoteBackend::Exchange(std::string_view action, const std::string& body) {
  return client_->Call(action, body);
}

// ---------------------------------------------------------------- capabilities

StoreCapabilities RemoteBackend::capabilities() const {
  StoreCapabilities c;
  c.subscribe_to_shard = true;  // subscription.cc
  return c;
}

absl::StatusOr<RecoveryReport> RemoteBackend::GetRecoveryReport() const {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                   fmt::format("a remote store ({}) has no recovery report: the server recovers its "
                               "own storage",
                               client_->http().url()));
}

absl::StatusOr<std::string> RemoteBackend::ArnOf(std::string_view stream) const {
  if (absl::StartsWith(absl::string_view(stream.data(), stream.size()), "arn:")) return std::string(stream);
  if (!options_.account_id.empty()) {
    return fmt::format("arn:aws:kinesis:{}:{}:stream/{}", options_.region, options_.account_id, stream);
  }
  {
    util::MutexLock l(&arn_mu_);
    auto it = arns_.find(stream);
    if (it != arns_.end()) return it->second;
  }
  auto* self = const_cast<RemoteBackend*>(this);
  TRIBUTARY_ASSIGN_OR_RETURN(StreamDescriptionSummary s, self->DescribeStreamSummary(stream));
  util::MutexLock l(&arn_mu_);
  arns_[std::string(stream)] = s.stream_arn;
  return s.stream_arn;
}

std::shared_ptr<void> RemoteBackend::GetOrCreateAttachment(
    std::string_view key, const std::function<std::shared_ptr<void>()>& make) {
  util::MutexLock l(&attachments_mu_);
  auto it = attachments_.find(key);
  if (it != attachments_.end()) return it->second;
  std::shared_ptr<void> made = make();
  if (made != nullptr) attachments_.emplace(std::string(key), made);
  return made;
}

std::string RemoteBackend::StreamArn(std::string_view name) const {
  absl::StatusOr<std::string> arn = ArnOf(name);
  return arn.ok() ? *arn : "";
}

// ---------------------------------------------------------------- streams

absl::Status RemoteBackend::CreateStream(std::string_view name, const CreateStreamOptions& o) {
  Json j;
  j.Str("StreamName", name);
  if (o.shard_count.has_value()) j.Int("ShardCount", *o.shard_count);
  if (o.mode != StreamMode::kProvisioned) {
    j.Key("StreamModeDetails");
    j.writer().StartObject();
    j.Str("StreamMode", ToString(o.mode));
    j.writer().EndObject();
  }
  if (o.max_record_size_kib != 1024) j.Int("MaxRecordSizeInKiB", o.max_record_size_kib);
  if (!o.tags.empty()) j.Map("Tags", o.tags);
  return Exchange("CreateStream", j.Take()).status();
}

absl::Status RemoteBackend::DeleteStream(std::string_view stream, bool enforce) {
  Json j;
  j.Stream(stream);
  if (enforce) j.Bool("EnforceConsumerDeletion", true);
  return Exchange("DeleteStream", j.Take()).status();
}

absl::StatusOr<ListStreamsResult> RemoteBackend::ListStreams(const ListStreamsRequest& req) {
  Json j;
  j.Int("Limit", req.limit);
  if (req.exclusive_start_stream_name) j.Str("ExclusiveStartStreamName", *req.exclusive_start_stream_name);
  if (req.next_token) j.Str("NextToken", *req.next_token);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("ListStreams", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  ListStreamsResult r;
  r.stream_names = Strings(o, "StreamNames");
  r.has_more_streams = Bool(o, "HasMoreStreams").value_or(false);
  if (auto t = Str(o, "NextToken")) r.next_token = std::string(*t);
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "StreamSummaries", [&](object s) {
    StreamSummary sum;
    sum.stream_name = StrOr(s, "StreamName");
    sum.stream_arn = StrOr(s, "StreamARN");
    sum.stream_status = ParseStatus(Str(s, "StreamStatus").value_or("ACTIVE"));
    sum.stream_mode = ModeOf(s);
    sum.stream_creation_timestamp = Time(s, "StreamCreationTimestamp").value_or(absl::UnixEpoch());
    r.stream_summaries.push_back(std::move(sum));
    return absl::OkStatus();
  }));
  return r;
}

absl::StatusOr<StreamDescription> RemoteBackend::DescribeStream(const DescribeStreamRequest& req,
                                                                std::optional<uint32_t>) {
  Json j;
  j.Stream(req.stream);
  j.Int("Limit", req.limit);
  if (req.exclusive_start_shard_id) j.Str("ExclusiveStartShardId", *req.exclusive_start_shard_id);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("DescribeStream", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object root, Parse(body));
  std::optional<object> o = Obj(root, "StreamDescription");
  if (!o) return BadAnswer("StreamDescription is missing");
  StreamDescription d;
  d.stream_name = StrOr(*o, "StreamName");
  d.stream_arn = StrOr(*o, "StreamARN");
  d.stream_status = ParseStatus(Str(*o, "StreamStatus").value_or("ACTIVE"));
  d.stream_mode = ModeOf(*o);
  d.has_more_shards = Bool(*o, "HasMoreShards").value_or(false);
  d.retention_period_hours = static_cast<int>(Int(*o, "RetentionPeriodHours").value_or(24));
  d.stream_creation_timestamp = Time(*o, "StreamCreationTimestamp").value_or(absl::UnixEpoch());
  d.max_record_size_kib = static_cast<int>(Int(*o, "MaxRecordSizeInKiB").value_or(1024));
  d.encryption_type = EncryptionOf(*o);
  if (auto k = Str(*o, "KeyId")) d.key_id = std::string(*k);
  d.shard_level_metrics = MetricsOf(*o);
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(*o, "Shards", [&](object s) -> absl::Status {
    TRIBUTARY_ASSIGN_OR_RETURN(ShardDescription sd, ShardOf(s));
    d.shards.push_back(std::move(sd));
    return absl::OkStatus();
  }));
  {
    util::MutexLock l(&arn_mu_);
    arns_[d.stream_name] = d.stream_arn;
  }
  return d;
}

absl::StatusOr<StreamDescriptionSummary> RemoteBackend::DescribeStreamSummary(std::string_view stream) {
  Json j;
  j.Stream(stream);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("DescribeStreamSummary", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object root, Parse(body));
  std::optional<object> o = Obj(root, "StreamDescriptionSummary");
  if (!o) return BadAnswer("StreamDescriptionSummary is missing");
  StreamDescriptionSummary d;
  d.stream_name = StrOr(*o, "StreamName");
  d.stream_arn = StrOr(*o, "StreamARN");
  d.stream_status = ParseStatus(Str(*o, "StreamStatus").value_or("ACTIVE"));
  d.stream_mode = ModeOf(*o);
  d.retention_period_hours = static_cast<int>(Int(*o, "RetentionPeriodHours").value_or(24));
  d.stream_creation_timestamp = Time(*o, "StreamCreationTimestamp").value_or(absl::UnixEpoch());
  d.open_shard_count = static_cast<int>(Int(*o, "OpenShardCount").value_or(0));
  d.consumer_count = static_cast<int>(Int(*o, "ConsumerCount").value_or(0));
  d.max_record_size_kib = static_cast<int>(Int(*o, "MaxRecordSizeInKiB").value_or(1024));
  d.encryption_type = EncryptionOf(*o);
  if (auto k = Str(*o, "KeyId")) d.key_id = std::string(*k);
  d.shard_level_metrics = MetricsOf(*o);
  if (std::optional<object> w = Obj(*o, "WarmThroughput")) {
    d.warm_throughput = WarmThroughput{static_cast<int>(Int(*w, "TargetMiBps").value_or(0)),
                                       static_cast<int>(Int(*w, "CurrentMiBps").value_or(0))};
  }
  if (!d.stream_arn.empty()) {
    util::MutexLock l(&arn_mu_);
    arns_[d.stream_name] = d.stream_arn;
  }
  return d;
}

absl::Status RemoteBackend::Wait(std::string_view stream, absl::Duration timeout, bool for_deletion) {
  const absl::Time deadline = clock_->Now() + timeout;
  while (true) {
    absl::StatusOr<StreamDescriptionSummary> d = DescribeStreamSummary(stream);
    if (for_deletion) {
      if (GetErrorType(d.status()) == ErrorType::kResourceNotFound) return absl::OkStatus();
      if (!d.ok()) return d.status();
    } else {
      if (!d.ok()) return d.status();
      if (d->stream_status == StreamStatus::kActive) return absl::OkStatus();
      if (d->stream_status == StreamStatus::kDeleting) {
        return ResourceNotFoundError(fmt::format("Stream {} is DELETING; it will not become ACTIVE", stream));
      }
    }
    absl::Time now = clock_->Now();
    if (now >= deadline) {
      return MakeError(absl::StatusCode::kDeadlineExceeded, ErrorType::kWaiterTimeout,
                       for_deletion ? fmt::format("Stream {} still exists after waiting {}", stream,
                                                  absl::FormatDuration(timeout))
                                    : fmt::format("Stream {} is still {} after waiting {} for ACTIVE",
                                                  stream, ToString(d->stream_status),
                                                  absl::FormatDuration(timeout)));
    }
    clock_->SleepFor(std::min(options_.poll_interval, deadline - now));
  }
}

absl::Status RemoteBackend::WaitUntilActive(std::string_view stream, absl::Duration timeout) {
  return Wait(stream, timeout, false);
}

absl::Status RemoteBackend::WaitUntilDeleted(std::string_view stream, absl::Duration timeout) {
  return Wait(stream, timeout, true);
}

absl::StatusOr<ListShardsResult> RemoteBackend::ListShards(const ListShardsRequest& req,
                                                           std::optional<uint32_t>) {
  Json j;
  if (req.stream) j.Stream(*req.stream);
  if (req.next_token) j.Str("NextToken", *req.next_token);
  if (req.exclusive_start_shard_id) j.Str("ExclusiveStartShardId", *req.exclusive_start_shard_id);
  if (req.max_results) j.Int("MaxResults", *req.max_results);
  if (req.stream_creation_timestamp) j.Time("StreamCreationTimestamp", *req.stream_creation_timestamp);
  if (req.shard_filter) {
    j.Key("ShardFilter");
    j.writer().StartObject();
    j.Str("Type", FilterName(req.shard_filter->type));
    if (req.shard_filter->shard_id) j.Str("ShardId", *req.shard_filter->shard_id);
    if (req.shard_filter->timestamp) j.Time("Timestamp", *req.shard_filter->timestamp);
    j.writer().EndObject();
  }
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("ListShards", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  ListShardsResult r;
  if (auto t = Str(o, "NextToken")) r.next_token = std::string(*t);
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "Shards", [&](object s) -> absl::Status {
    TRIBUTARY_ASSIGN_OR_RETURN(ShardDescription sd, ShardOf(s));
    r.shards.push_back(std::move(sd));
    return absl::OkStatus();
  }));
  return r;
}

// ---------------------------------------------------------------- data plane

namespace {
absl::StatusOr<ShardId> ShardIdOf(std::string_view id) {
  absl::StatusOr<uint32_t> idx = ParseShardId(id);
  if (!idx.ok()) return BadAnswer(fmt::format("ShardId '{}' is not shardId-<number>", id.substr(0, 64)));
  return ShardId(*idx);
}
}  // namespace

absl::StatusOr<PutRecordResult> RemoteBackend::Put(std::string_view stream, const PutRecordInput& record,
                                                   HashKey, std::optional<std::string_view> ordering,
                                                   const WriteOptions&) {
  Json j;
  j.Stream(stream);
  j.Blob("Data", record.data);
  j.Str("PartitionKey", record.partition_key);
  if (record.explicit_hash_key) j.Str("ExplicitHashKey", *record.explicit_hash_key);
  if (ordering) j.Str("SequenceNumberForOrdering", *ordering);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("PutRecord", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  PutRecordResult r;
  TRIBUTARY_ASSIGN_OR_RETURN(r.shard_id, ShardIdOf(Str(o, "ShardId").value_or("")));
  TRIBUTARY_ASSIGN_OR_RETURN(r.sequence_number, Seq(o, "SequenceNumber"));
  return r;
}

absl::StatusOr<PutBatchResult> RemoteBackend::PutBatch(std::string_view stream,
                                                       absl::Span<const PutRecordInput> records,
                                                       absl::Span<const HashKey>, const WriteOptions&) {
  Json j;
  j.Stream(stream);
  j.Key("Records");
  auto& w = j.writer();
  w.StartArray();
  for (const PutRecordInput& rec : records) {
    w.StartObject();
    w.Key("Data");
    w.Blob(rec.data);
    w.Key("PartitionKey");
    w.String(rec.partition_key);
    if (rec.explicit_hash_key) {
      w.Key("ExplicitHashKey");
      w.String(*rec.explicit_hash_key);
    }
    w.EndObject();
  }
  w.EndArray();
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("PutRecords", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  PutBatchResult r;
  r.failed_record_count = static_cast<int>(Int(o, "FailedRecordCount").value_or(0));
  r.records.reserve(records.size());
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "Records", [&](object e) -> absl::Status {
    PutBatchEntryResult er;
    if (auto code = Str(e, "ErrorCode")) {
      er.error_code = std::string(*code);
      er.error_message = StrOr(e, "ErrorMessage");
    } else {
      TRIBUTARY_ASSIGN_OR_RETURN(er.sequence_number, Seq(e, "SequenceNumber"));
      TRIBUTARY_ASSIGN_OR_RETURN(er.shard_id, ShardIdOf(Str(e, "ShardId").value_or("")));
    }
    r.records.push_back(std::move(er));
    return absl::OkStatus();
  }));
  if (r.records.size() != records.size()) {
    return BadAnswer(fmt::format("PutRecords answered {} entries for {} records", r.records.size(),
                                 records.size()));
  }
  return r;
}

absl::StatusOr<std::string> RemoteBackend::GetShardIterator(const GetShardIteratorRequest& req) {
  Json j;
  j.Stream(req.stream);
  j.Str("ShardId", req.shard_id);
  j.Str("ShardIteratorType", ToString(req.type));
  if (req.starting_sequence_number) j.Str("StartingSequenceNumber", *req.starting_sequence_number);
  if (req.timestamp) j.Time("Timestamp", *req.timestamp);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("GetShardIterator", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  std::optional<std::string_view> it = Str(o, "ShardIterator");
  if (!it) return BadAnswer("ShardIterator is missing");
  return std::string(*it);
}

absl::StatusOr<GetRecordsResult> RemoteBackend::GetRecords(std::string_view iterator, int limit) {
  Json j;
  j.Str("ShardIterator", iterator);
  j.Int("Limit", limit);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("GetRecords", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  GetRecordsResult r;
  if (auto next = Str(o, "NextShardIterator")) r.next_shard_iterator = std::string(*next);
  r.millis_behind_latest = Int(o, "MillisBehindLatest").value_or(0);
  if (std::optional<array> recs = Arr(o, "Records")) r.records.reserve(recs->size());
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "Records", [&](object e) -> absl::Status {
    Record rec;
    TRIBUTARY_ASSIGN_OR_RETURN(rec.sequence_number, Seq(e, "SequenceNumber"));
    rec.approximate_arrival_timestamp = Time(e, "ApproximateArrivalTimestamp").value_or(absl::UnixEpoch());
    rec.partition_key = StrOr(e, "PartitionKey");
    std::string_view b64 = Str(e, "Data").value_or("");
    if (!absl::Base64Unescape(absl::string_view(b64.data(), b64.size()), &rec.data)) {
      return BadAnswer("Data is not base64");
    }
    r.records.push_back(std::move(rec));
    return absl::OkStatus();
  }));
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "ChildShards", [&](object c) -> absl::Status {
    ChildShard cs;
    cs.shard_id = StrOr(c, "ShardId");
    cs.parent_shards = Strings(c, "ParentShards");
    TRIBUTARY_ASSIGN_OR_RETURN(cs.hash_key_range, Range(c));
    r.child_shards.push_back(std::move(cs));
    return absl::OkStatus();
  }));
  return r;
}

// ---------------------------------------------------------------- resharding and settings

absl::Status RemoteBackend::SplitShard(std::string_view stream, std::string_view shard,
                                       std::string_view key) {
  Json j;
  j.Stream(stream).Str("ShardToSplit", shard).Str("NewStartingHashKey", key);
  return Exchange("SplitShard", j.Take()).status();
}

absl::Status RemoteBackend::MergeShards(std::string_view stream, std::string_view a, std::string_view b) {
  Json j;
  j.Stream(stream).Str("ShardToMerge", a).Str("AdjacentShardToMerge", b);
  return Exchange("MergeShards", j.Take()).status();
}

absl::StatusOr<UpdateShardCountResult> RemoteBackend::UpdateShardCount(std::string_view stream, int target,
                                                                       ScalingType type) {
  Json j;
  j.Stream(stream).Int("TargetShardCount", target).Str("ScalingType", ToString(type));
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("UpdateShardCount", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  UpdateShardCountResult r;
  r.stream_name = StrOr(o, "StreamName");
  r.stream_arn = StrOr(o, "StreamARN");
  r.current_shard_count = static_cast<int>(Int(o, "CurrentShardCount").value_or(0));
  r.target_shard_count = static_cast<int>(Int(o, "TargetShardCount").value_or(target));
  return r;
}

absl::Status RemoteBackend::UpdateStreamMode(std::string_view stream, StreamMode mode) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string arn, ArnOf(stream));  // Kinesis takes only StreamARN here
  Json j;
  j.Str("StreamARN", arn);
  j.Key("StreamModeDetails");
  j.writer().StartObject();
  j.Str("StreamMode", ToString(mode));
  j.writer().EndObject();
  return Exchange("UpdateStreamMode", j.Take()).status();
}

absl::Status RemoteBackend::UpdateMaxRecordSize(std::string_view stream, int kib) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string arn, ArnOf(stream));
  Json j;
  j.Str("StreamARN", arn).Int("MaxRecordSizeInKiB", kib);
  return Exchange("UpdateMaxRecordSize", j.Take()).status();
}

absl::Status RemoteBackend::Retention(std::string_view action, std::string_view stream, int hours) {
  Json j;
  j.Stream(stream).Int("RetentionPeriodHours", hours);
  return Exchange(action, j.Take()).status();
}

absl::Status RemoteBackend::IncreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  return Retention("IncreaseStreamRetentionPeriod", stream, hours);
}

absl::Status RemoteBackend::DecreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  return Retention("DecreaseStreamRetentionPeriod", stream, hours);
}

absl::Status RemoteBackend::AddTagsToStream(std::string_view stream,
                                            const std::map<std::string, std::string>& tags) {
  Json j;
  j.Stream(stream).Map("Tags", tags);
  return Exchange("AddTagsToStream", j.Take()).status();
}

absl::Status RemoteBackend::RemoveTagsFromStream(std::string_view stream, const std::vector<std::string>& keys) {
  Json j;
  j.Stream(stream).Strings("TagKeys", keys);
  return Exchange("RemoveTagsFromStream", j.Take()).status();
}

absl::StatusOr<ListTagsResult> RemoteBackend::ListTagsForStream(std::string_view stream,
                                                                std::optional<std::string> after, int limit) {
  Json j;
  j.Stream(stream).Int("Limit", limit);
  if (after) j.Str("ExclusiveStartTagKey", *after);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("ListTagsForStream", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  ListTagsResult r;
  r.has_more_tags = Bool(o, "HasMoreTags").value_or(false);
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "Tags", [&](object t) {
    r.tags.emplace_back(StrOr(t, "Key"), StrOr(t, "Value"));
    return absl::OkStatus();
  }));
  return r;
}

absl::Status RemoteBackend::TagResource(std::string_view resource_arn,
                                        const std::map<std::string, std::string>& tags) {
  Json j;
  j.Str("ResourceARN", resource_arn).Map("Tags", tags);
  return Exchange("TagResource", j.Take()).status();
}

absl::Status RemoteBackend::UntagResource(std::string_view resource_arn, const std::vector<std::string>& keys) {
  Json j;
  j.Str("ResourceARN", resource_arn).Strings("TagKeys", keys);
  return Exchange("UntagResource", j.Take()).status();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RemoteBackend::ListTagsForResource(
    std::string_view resource_arn) {
  Json j;
  j.Str("ResourceARN", resource_arn);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("ListTagsForResource", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  std::vector<std::pair<std::string, std::string>> tags;
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "Tags", [&](object t) {
    tags.emplace_back(StrOr(t, "Key"), StrOr(t, "Value"));
    return absl::OkStatus();
  }));
  std::sort(tags.begin(), tags.end());
  return tags;
}

absl::StatusOr<DescribeLimitsResult> RemoteBackend::DescribeLimits() {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("DescribeLimits", "{}"));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  DescribeLimitsResult r;
  r.shard_limit = static_cast<int>(Int(o, "ShardLimit").value_or(0));
  r.open_shard_count = static_cast<int>(Int(o, "OpenShardCount").value_or(0));
  r.on_demand_stream_count = static_cast<int>(Int(o, "OnDemandStreamCount").value_or(0));
  r.on_demand_stream_count_limit = static_cast<int>(Int(o, "OnDemandStreamCountLimit").value_or(0));
  return r;
}

// ---------------------------------------------------------------- consumers

namespace {
// Kinesis names a consumer by ConsumerARN, or by StreamARN + ConsumerName.
void ConsumerMembers(Json& j, const ConsumerRef& c, const std::optional<std::string>& stream_arn) {
  if (c.consumer_arn) j.Str("ConsumerARN", *c.consumer_arn);
  if (stream_arn) j.Str("StreamARN", *stream_arn);
  if (c.consumer_name) j.Str("ConsumerName", *c.consumer_name);
}
}  // namespace

absl::StatusOr<ConsumerDescription> RemoteBackend::RegisterStreamConsumer(
    std::string_view stream, std::string_view name, const std::map<std::string, std::string>& tags) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string arn, ArnOf(stream));
  Json j;
  j.Str("StreamARN", arn).Str("ConsumerName", name);
  if (!tags.empty()) j.Map("Tags", tags);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("RegisterStreamConsumer", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  std::optional<object> c = Obj(o, "Consumer");
  if (!c) return BadAnswer("Consumer is missing");
  ConsumerDescription d = ConsumerOf(*c);
  if (d.stream_arn.empty()) d.stream_arn = arn;
  return d;
}

absl::StatusOr<ConsumerDescription> RemoteBackend::DescribeStreamConsumer(const ConsumerRef& consumer) {
  std::optional<std::string> arn;
  if (consumer.stream) {
    TRIBUTARY_ASSIGN_OR_RETURN(arn, ArnOf(*consumer.stream));
  }
  Json j;
  ConsumerMembers(j, consumer, arn);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("DescribeStreamConsumer", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  std::optional<object> c = Obj(o, "ConsumerDescription");
  if (!c) return BadAnswer("ConsumerDescription is missing");
  return ConsumerOf(*c);
}

absl::StatusOr<ListStreamConsumersResult> RemoteBackend::ListStreamConsumers(
    const ListStreamConsumersRequest& req) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string arn, ArnOf(req.stream));
  Json j;
  j.Str("StreamARN", arn);
  if (req.next_token) j.Str("NextToken", *req.next_token);
  if (req.max_results) j.Int("MaxResults", *req.max_results);
  if (req.stream_creation_timestamp) j.Time("StreamCreationTimestamp", *req.stream_creation_timestamp);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("ListStreamConsumers", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  ListStreamConsumersResult r;
  if (auto t = Str(o, "NextToken")) r.next_token = std::string(*t);
  TRIBUTARY_RETURN_IF_ERROR(ForEachObject(o, "Consumers", [&](object c) {
    ConsumerDescription d = ConsumerOf(c);
    if (d.stream_arn.empty()) d.stream_arn = arn;
    r.consumers.push_back(std::move(d));
    return absl::OkStatus();
  }));
  return r;
}

absl::Status RemoteBackend::DeregisterStreamConsumer(const ConsumerRef& consumer) {
  std::optional<std::string> arn;
  if (consumer.stream) {
    TRIBUTARY_ASSIGN_OR_RETURN(arn, ArnOf(*consumer.stream));
  }
  Json j;
  ConsumerMembers(j, consumer, arn);
  return Exchange("DeregisterStreamConsumer", j.Take()).status();
}

// ---------------------------------------------------------------- state-only settings

absl::Status RemoteBackend::StartStreamEncryption(std::string_view stream, EncryptionType type,
                                                  std::string_view key_id) {
  Json j;
  j.Stream(stream).Str("EncryptionType", ToString(type)).Str("KeyId", key_id);
  return Exchange("StartStreamEncryption", j.Take()).status();
}

absl::Status RemoteBackend::StopStreamEncryption(std::string_view stream, EncryptionType type,
                                                 std::string_view key_id) {
  Json j;
  j.Stream(stream).Str("EncryptionType", ToString(type)).Str("KeyId", key_id);
  return Exchange("StopStreamEncryption", j.Take()).status();
}

absl::StatusOr<EnhancedMonitoringResult> RemoteBackend::Monitoring(std::string_view action,
                                                                   std::string_view stream,
                                                                   const std::vector<std::string>& metrics) {
  Json j;
  j.Stream(stream).Strings("ShardLevelMetrics", metrics);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange(action, j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  EnhancedMonitoringResult r;
  r.stream_name = StrOr(o, "StreamName");
  r.stream_arn = StrOr(o, "StreamARN");
  r.current_shard_level_metrics = Strings(o, "CurrentShardLevelMetrics");
  r.desired_shard_level_metrics = Strings(o, "DesiredShardLevelMetrics");
  return r;
}

absl::StatusOr<EnhancedMonitoringResult> RemoteBackend::EnableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  return Monitoring("EnableEnhancedMonitoring", stream, metrics);
}

absl::StatusOr<EnhancedMonitoringResult> RemoteBackend::DisableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  return Monitoring("DisableEnhancedMonitoring", stream, metrics);
}

absl::Status RemoteBackend::PutResourcePolicy(std::string_view resource_arn, std::string_view policy) {
  Json j;
  j.Str("ResourceARN", resource_arn).Str("Policy", policy);
  return Exchange("PutResourcePolicy", j.Take()).status();
}

absl::StatusOr<std::string> RemoteBackend::GetResourcePolicy(std::string_view resource_arn) {
  Json j;
  j.Str("ResourceARN", resource_arn);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("GetResourcePolicy", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  return StrOr(o, "Policy", "{}");
}

absl::Status RemoteBackend::DeleteResourcePolicy(std::string_view resource_arn) {
  Json j;
  j.Str("ResourceARN", resource_arn);
  return Exchange("DeleteResourcePolicy", j.Take()).status();
}

absl::StatusOr<AccountSettings> RemoteBackend::DescribeAccountSettings() {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("DescribeAccountSettings", "{}"));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  return AccountOf(o);
}

absl::StatusOr<AccountSettings> RemoteBackend::UpdateAccountSettings(bool enable) {
  Json j;
  j.Key("MinimumThroughputBillingCommitment");
  j.writer().StartObject();
  j.Str("Status", enable ? "ENABLED" : "DISABLED");
  j.writer().EndObject();
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("UpdateAccountSettings", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  return AccountOf(o);
}

absl::StatusOr<UpdateWarmThroughputResult> RemoteBackend::UpdateStreamWarmThroughput(std::string_view stream,
                                                                                     int mibps) {
  Json j;
  j.Stream(stream).Int("WarmThroughputMiBps", mibps);
  TRIBUTARY_ASSIGN_OR_RETURN(std::string body, Exchange("UpdateStreamWarmThroughput", j.Take()));
  TRIBUTARY_ASSIGN_OR_RETURN(object o, Parse(body));
  UpdateWarmThroughputResult r;
  r.stream_name = StrOr(o, "StreamName");
  r.stream_arn = StrOr(o, "StreamARN");
  if (std::optional<object> w = Obj(o, "WarmThroughput")) {
    r.warm_throughput = WarmThroughput{static_cast<int>(Int(*w, "TargetMiBps").value_or(0)),
                                       static_cast<int>(Int(*w, "CurrentMiBps").value_or(0))};
  }
  return r;
}

}  // namespace tributary::remote
