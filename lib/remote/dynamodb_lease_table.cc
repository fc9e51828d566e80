// The DynamoDB lease table (tributary/dynamodb_lease_table.h). Requests go
// through the AWS client core the Kinesis backend uses (aws_client.h);
// items are written with util::JsonWriter and read with simdjson. The item
// layout is specified in docs/FORMAT.md "DynamoDB lease table".
#include "tributary/dynamodb_lease_table.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "consume/lease_state.h"
#include "remote/aws_client.h"
#include "remote/credentials.h"
#include "tributary/status.h"
#include "util/json_writer.h"
#include "util/status_macros.h"

namespace tributary {
namespace {

using remote::AwsJsonClient;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// ------------------------------------------------------------ layout (v1)
// Attribute names are part of the persisted format: never rename.
constexpr std::string_view kScopeKey = "leaseScope";  // HASH
constexpr std::string_view kLeaseKey = "leaseKey";    // RANGE
constexpr std::string_view kScopeItemKey = "#scope";  // leaseKey of the scope record
constexpr std::string_view kLayout = "tributaryLayout";
constexpr int64_t kLayoutVersion = 1;
constexpr std::string_view kConsumerName = "consumerName";
constexpr std::string_view kStreamName = "streamName";
// Lease items.
constexpr std::string_view kCounter = "leaseCounter";
constexpr std::string_view kOwner = "leaseOwner";
constexpr std::string_view kExpires = "leaseExpiresAtMicros";
constexpr std::string_view kCheckpoint = "checkpoint";
constexpr std::string_view kCheckpointTime = "checkpointTimestampMicros";
constexpr std::string_view kCheckpointSub = "checkpointSubSequenceNumber";
constexpr std::string_view kPending = "pendingCheckpoint";
constexpr std::string_view kPendingSub = "pendingCheckpointSubSequenceNumber";
constexpr std::string_view kPendingState = "pendingCheckpointState";
constexpr std::string_view kParents = "parentShardIds";
constexpr std::string_view kOwnerSwitches = "ownerSwitches";
constexpr std::string_view kHandoff = "handoffTo";
// Scope records.
constexpr std::string_view kStreamArn = "streamArn";
constexpr std::string_view kStreamCreated = "streamCreationMicros";
constexpr std::string_view kInitialPosition = "initialPosition";
constexpr std::string_view kInitialTime = "initialTimestampMicros";
constexpr std::string_view kCreatedAt = "createdAtMicros";
constexpr std::string_view kInitialShards = "initialShardIds";

// The optional lease attributes an UpdateItem removes when absent.
constexpr std::string_view kOptionalLeaseAttributes[] = {kOwner,   kCheckpointSub, kPending,  kPendingSub,
                                                         kPendingState, kParents,  kHandoff};

constexpr int64_t kPastMicros = std::numeric_limits<int64_t>::min();
constexpr int64_t kFutureMicros = std::numeric_limits<int64_t>::max();

int64_t TimeToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return kPastMicros;
  if (t == absl::InfiniteFuture()) return kFutureMicros;
  return absl::ToUnixMicros(t);
}

absl::Time MicrosToTime(int64_t v) {
  if (v == kPastMicros) return absl::InfinitePast();
  if (v == kFutureMicros) return absl::InfiniteFuture();
  return absl::FromUnixMicros(v);
}

// "<consumer>/<stream>" with '%' and '/' percent-encoded in each name, so
// the pair is recoverable from the key.
std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ScopeKeyOf(const LeaseScope& s) { return Escape(s.consumer_name) + "/" + Escape(s.stream_name); }

std::string ScopeText(const LeaseScope& s) {
  return fmt::format("consumer '{}' on stream '{}'", s.consumer_name, s.stream_name);
}

// One attribute value of an item, as DynamoDB's JSON wants it.
struct Value {
  enum class Type { kS, kN, kB, kL } type = Type::kS;
  std::string text;               // S, N (decimal), B (raw bytes)
  std::vector<std::string> list;  // L of S
  static Value S(std::string s) { return {Type::kS, std::move(s), {}}; }
  static Value N(int64_t v) { return {Type::kN, std::to_string(v), {}}; }
  static Value U(uint64_t v) { return {Type::kN, std::to_string(v), {}}; }
  static Value B(std::string bytes) { return {Type::kB, std::move(bytes), {}}; }
  static Value L(std::vector<std::string> v) { return {Type::kL, "", std::move(v)}; }
};
using Item = std::vector<std::pair<std::string_view, Value>>;

void WriteValue(util::JsonWriter& w, const Value& v) {
  w.StartObject();
  switch (v.type) {
    case Value::Type::kS:
      w.Key("S");
      w.String(v.text);
      break;
    case Value::Type::kN:
      w.Key("N");
      w.String(v.text);
      break;
    case Value::Type::kB:
      w.Key("B");
      w.Blob(v.text);
      break;
    case Value::Type::kL:
      w.Key("L");
      w.StartArray();
      for (const std::string& s : v.list) {
        w.StartObject();
        w.Key("S");
        w.String(s);
        w.EndObject();
      }
      w.EndArray();
      break;
  }
  w.EndObject();
}

void WriteItem(util::JsonWriter& w, const Item& item) {
  w.StartObject();
  for (const auto& [name, value] : item) {
    w.Key(name);
    WriteValue(w, value);
  }
  w.EndObject();
}

Item KeyOf(const LeaseScope& scope, std::string_view leaseKey) {
  return {{kScopeKey, Value::S(ScopeKeyOf(scope))}, {kLeaseKey, Value::S(std::string(leaseKey))}};
}

std::string CheckpointText(const CheckpointPosition& c) {
  switch (c.kind) {
    case CheckpointPosition::Kind::kTrimHorizon:
      return "TRIM_HORIZON";
    case CheckpointPosition::Kind::kAtTimestamp:
      return "AT_TIMESTAMP";
    case CheckpointPosition::Kind::kShardEnd:
      return "SHARD_END";
    case CheckpointPosition::Kind::kSequenceNumber:
      return c.sequence_number.ToString();
  }
  return "?";
}

// Every attribute of a lease item but the key and the counter.
Item LeaseAttributes(const LeaseScope& scope, const Lease& l) {
  Item item;
  item.emplace_back(kLayout, Value::N(kLayoutVersion));
  item.emplace_back(kConsumerName, Value::S(scope.consumer_name));
  item.emplace_back(kStreamName, Value::S(scope.stream_name));
  if (!l.owner.empty()) item.emplace_back(kOwner, Value::S(l.owner));
  item.emplace_back(kExpires, Value::N(TimeToMicros(l.expires_at)));
  item.emplace_back(kCheckpoint, Value::S(CheckpointText(l.checkpoint)));
  item.emplace_back(kCheckpointTime, Value::N(TimeToMicros(l.checkpoint.timestamp)));
  if (l.checkpoint.has_sequence_number() && l.checkpoint.sub_sequence_number) {
    item.emplace_back(kCheckpointSub, Value::N(*l.checkpoint.sub_sequence_number));
  }
  if (l.pending_checkpoint) {
    item.emplace_back(kPending, Value::S(l.pending_checkpoint->sequence_number.ToString()));
    if (l.pending_checkpoint->sub_sequence_number) {
      item.emplace_back(kPendingSub, Value::N(*l.pending_checkpoint->sub_sequence_number));
    }
    // DynamoDB refuses empty binary values: an empty state is no attribute.
    if (!l.pending_checkpoint->state.empty()) item.emplace_back(kPendingState, Value::B(l.pending_checkpoint->state));
  }
  if (!l.parent_shard_ids.empty()) item.emplace_back(kParents, Value::L(l.parent_shard_ids));
  item.emplace_back(kOwnerSwitches, Value::U(l.owner_switches));
  if (!l.handoff_to.empty()) item.emplace_back(kHandoff, Value::S(l.handoff_to));
  return item;
}

std::string_view PositionText(InitialPosition::Type t) {
  switch (t) {
    case InitialPosition::Type::kTrimHorizon:
      return "TRIM_HORIZON";
    case InitialPosition::Type::kLatest:
      return "LATEST";
    case InitialPosition::Type::kAtTimestamp:
      return "AT_TIMESTAMP";
  }
  return "?";
}

// ------------------------------------------------------------ reading

absl::Status Damaged(std::string_view table, std::string_view key, std::string_view why) {
  return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                   fmt::format("DynamoDB lease table {}: item {} does not decode ({})", table, key, why));
}

absl::Status BadAnswer(std::string_view what) {
  return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                   fmt::format("DynamoDB's answer does not decode: {}", what));
}

// A decoded item: attribute name -> its value object ({"S": ...}).
class ItemView {
 public:
  explicit ItemView(object o) : o_(o) {}
  bool Has(std::string_view name) const {
    element e;
    return o_.at_key(name).get(e) == simdjson::SUCCESS;
  }
  std::optional<std::string_view> S(std::string_view name) const { return Typed(name, "S"); }
  std::optional<int64_t> N(std::string_view name) const {
    std::optional<std::string_view> t = Typed(name, "N");
    if (!t) return std::nullopt;
    int64_t v = 0;
    if (!absl::SimpleAtoi(absl::string_view(t->data(), t->size()), &v)) return std::nullopt;
    return v;
  }
  std::optional<uint64_t> U(std::string_view name) const {
    std::optional<std::string_view> t = Typed(name, "N");
    if (!t) return std::nullopt;
    uint64_t v = 0;
    if (!absl::SimpleAtoi(absl::string_view(t->data(), t->size()), &v)) return std::nullopt;
    return v;
  }
  std::optional<std::string> B(std::string_view name) const {
    std::optional<std::string_view> t = Typed(name, "B");
    if (!t) return std::nullopt;
    std::string out;
    if (!absl::Base64Unescape(absl::string_view(t->data(), t->size()), &out)) return std::nullopt;
    return out;
  }
  std::optional<std::vector<std::string>> L(std::string_view name) const {
    element v;
    array a;
    if (o_.at_key(name).get(v) != simdjson::SUCCESS || v.at_key("L").get_array().get(a) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (element e : a) {
      std::string_view s;
      if (e.at_key("S").get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
      out.emplace_back(s);
    }
    return out;
  }

 private:
  std::optional<std::string_view> Typed(std::string_view name, std::string_view type) const {
    element v;
    std::string_view s;
    if (o_.at_key(name).get(v) != simdjson::SUCCESS || v.at_key(type).get_string().get(s) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return s;
  }
  object o_;
};

absl::Status CheckLayout(const ItemView& item, std::string_view table, std::string_view key) {
  std::optional<int64_t> v = item.N(kLayout);
  if (!v) return Damaged(table, key, "no tributaryLayout attribute: not a Tributary lease item");
  if (*v != kLayoutVersion) {
    return Damaged(table, key, fmt::format("layout version {} (this build reads {})", *v, kLayoutVersion));
  }
  return absl::OkStatus();
}

absl::StatusOr<Lease> DecodeLease(const ItemView& item, std::string_view table) {
  Lease l;
  std::optional<std::string_view> id = item.S(kLeaseKey);
  if (!id) return Damaged(table, "?", "no leaseKey");
  l.shard_id = std::string(*id);
  const std::string& key = l.shard_id;
  TRIBUTARY_RETURN_IF_ERROR(CheckLayout(item, table, key));
  std::optional<uint64_t> counter = item.U(kCounter);
  std::optional<int64_t> expires = item.N(kExpires);
  std::optional<std::string_view> checkpoint = item.S(kCheckpoint);
  std::optional<int64_t> checkpoint_time = item.N(kCheckpointTime);
  std::optional<uint64_t> switches = item.U(kOwnerSwitches);
  if (!counter || !expires || !checkpoint || !checkpoint_time || !switches) {
    return Damaged(table, key, "a required attribute is missing or not a number");
  }
  l.version = *counter;
  l.owner = std::string(item.S(kOwner).value_or(""));
  l.expires_at = MicrosToTime(*expires);
  CheckpointPosition& c = l.checkpoint;
  c.timestamp = MicrosToTime(*checkpoint_time);
  if (*checkpoint == "TRIM_HORIZON") {
    c.kind = CheckpointPosition::Kind::kTrimHorizon;
  } else if (*checkpoint == "AT_TIMESTAMP") {
    c.kind = CheckpointPosition::Kind::kAtTimestamp;
  } else if (*checkpoint == "SHARD_END") {
    c.kind = CheckpointPosition::Kind::kShardEnd;
  } else {
    absl::StatusOr<SequenceNumber> s = SequenceNumber::ParseAny(*checkpoint);
    if (!s.ok()) return Damaged(table, key, fmt::format("checkpoint '{}'", *checkpoint));
    c.kind = CheckpointPosition::Kind::kSequenceNumber;
    c.sequence_number = *s;
    if (item.Has(kCheckpointSub)) {
      std::optional<int64_t> sub = item.N(kCheckpointSub);
      if (!sub || *sub < 0) return Damaged(table, key, "checkpointSubSequenceNumber");
      c.sub_sequence_number = *sub;
    }
  }
  if (std::optional<std::string_view> p = item.S(kPending)) {
    absl::StatusOr<SequenceNumber> s = SequenceNumber::ParseAny(*p);
    if (!s.ok()) return Damaged(table, key, fmt::format("pendingCheckpoint '{}'", *p));
    PendingCheckpoint pending;
    pending.sequence_number = *s;
    if (item.Has(kPendingSub)) {
      std::optional<int64_t> sub = item.N(kPendingSub);
      if (!sub || *sub < 0) return Damaged(table, key, "pendingCheckpointSubSequenceNumber");
      pending.sub_sequence_number = *sub;
    }
    if (item.Has(kPendingState)) {
      std::optional<std::string> state = item.B(kPendingState);
      if (!state) return Damaged(table, key, "pendingCheckpointState");
      pending.state = std::move(*state);
    }
    l.pending_checkpoint = std::move(pending);
  }
  if (item.Has(kParents)) {
    std::optional<std::vector<std::string>> parents = item.L(kParents);
    if (!parents) return Damaged(table, key, "parentShardIds is not a list of strings");
    l.parent_shard_ids = std::move(*parents);
  }
  l.owner_switches = *switches;
  l.handoff_to = std::string(item.S(kHandoff).value_or(""));
  return l;
}

absl::StatusOr<ScopeRecord> DecodeScope(const ItemView& item, std::string_view table) {
  TRIBUTARY_RETURN_IF_ERROR(CheckLayout(item, table, kScopeItemKey));
  ScopeRecord r;
  std::optional<int64_t> created = item.N(kStreamCreated);
  std::optional<std::string_view> position = item.S(kInitialPosition);
  std::optional<int64_t> ts = item.N(kInitialTime);
  std::optional<int64_t> at = item.N(kCreatedAt);
  if (!created || !position || !ts || !at) return Damaged(table, kScopeItemKey, "a required attribute is missing");
  r.stream_arn = std::string(item.S(kStreamArn).value_or(""));
  r.stream_creation_timestamp = MicrosToTime(*created);
  if (*position == "TRIM_HORIZON") {
    r.initial_position.type = InitialPosition::Type::kTrimHorizon;
  } else if (*position == "LATEST") {
    r.initial_position.type = InitialPosition::Type::kLatest;
  } else if (*position == "AT_TIMESTAMP") {
    r.initial_position.type = InitialPosition::Type::kAtTimestamp;
  } else {
    return Damaged(table, kScopeItemKey, fmt::format("initialPosition '{}'", *position));
  }
  r.initial_position.timestamp = MicrosToTime(*ts);
  r.created_at = MicrosToTime(*at);
  if (item.Has(kInitialShards)) {
    std::optional<std::vector<std::string>> ids = item.L(kInitialShards);
    if (!ids) return Damaged(table, kScopeItemKey, "initialShardIds is not a list of strings");
    r.initial_shard_ids = std::move(*ids);
  }
  return r;
}

// Parses an answer on this thread's parser; valid until this thread parses again.
absl::StatusOr<object> ParseAnswer(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  object o;
  if (parser.parse(body.data(), body.size()).get_object().get(o) != simdjson::SUCCESS) {
    return BadAnswer("not a JSON object");
  }
  return o;
}

// ------------------------------------------------------------ errors

constexpr absl::string_view kWireErrorPayload = "tributary.dynamodb/error";

struct Mapping {
  std::string_view name;
  ErrorType type;
  absl::StatusCode code;
};

constexpr Mapping kErrors[] = {
    {"ConditionalCheckFailedException", ErrorType::kResourceInUse, absl::StatusCode::kAborted},
    {"ResourceNotFoundException", ErrorType::kResourceNotFound, absl::StatusCode::kNotFound},
    {"ResourceInUseException", ErrorType::kResourceInUse, absl::StatusCode::kFailedPrecondition},
    // Throttling: all retried (IsRetryable: ResourceExhausted).
    {"ProvisionedThroughputExceededException", ErrorType::kProvisionedThroughputExceeded,
     absl::StatusCode::kResourceExhausted},
    {"ThrottlingException", ErrorType::kProvisionedThroughputExceeded, absl::StatusCode::kResourceExhausted},
    {"RequestLimitExceeded", ErrorType::kProvisionedThroughputExceeded, absl::StatusCode::kResourceExhausted},
    {"LimitExceededException", ErrorType::kLimitExceeded, absl::StatusCode::kResourceExhausted},
    {"ValidationException", ErrorType::kValidation, absl::StatusCode::kInvalidArgument},
    {"SerializationException", ErrorType::kSerialization, absl::StatusCode::kInvalidArgument},
    {"AccessDeniedException", ErrorType::kAccessDenied, absl::StatusCode::kPermissionDenied},
    {"UnrecognizedClientException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"MissingAuthenticationTokenException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"IncompleteSignatureException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"InvalidSignatureException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"ExpiredTokenException", ErrorType::kAccessDenied, absl::StatusCode::kUnauthenticated},
    {"InternalServerError", ErrorType::kInternalFailure, absl::StatusCode::kUnavailable},
    {"ServiceUnavailable", ErrorType::kInternalFailure, absl::StatusCode::kUnavailable},
    {"UnknownOperationException", ErrorType::kUnknownOperation, absl::StatusCode::kUnimplemented},
};

// Every DynamoDB error keeps its wire name as a payload, so callers can
// tell ConditionalCheckFailedException apart from other Aborted errors.
absl::Status DynamoDbError(const remote::HttpResponse& response, std::string_view action) {
  remote::AwsError e = remote::ParseAwsError(response);
  absl::Status s;
  for (const Mapping& m : kErrors) {
    if (m.name == e.type) {
      s = MakeError(m.code, m.type, fmt::format("DynamoDB {}: {}: {}", action, m.name, e.message));
      break;
    }
  }
  if (s.ok()) {
    const bool server = response.status >= 500;
    s = MakeError(server ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown,
                  server ? ErrorType::kInternalFailure : ErrorType::kInvalidArgument,
                  fmt::format("DynamoDB {}: {} (HTTP {}): {}", action, e.type.empty() ? "error" : e.type,
                              response.status, e.message));
  }
  s.SetPayload(kWireErrorPayload, absl::Cord(e.type));
  return s;
}

bool IsWireError(const absl::Status& s, std::string_view name) {
  auto p = s.GetPayload(kWireErrorPayload);
  return p.has_value() && *p == absl::string_view(name.data(), name.size());
}

bool IsConditionFailed(const absl::Status& s) { return IsWireError(s, "ConditionalCheckFailedException"); }

// ------------------------------------------------------------ the table

class DynamoDbTable final : public DynamoDbLeaseTable {
 public:
  DynamoDbTable(DynamoDbLeaseTableOptions options, std::unique_ptr<AwsJsonClient> client)
      : options_(std::move(options)), client_(std::move(client)) {}

  Stats stats() const override {
    return Stats{client_->attempts(), condition_failures_.load(std::memory_order_relaxed)};
  }
  const std::string& table_name() const override { return options_.table_name; }

  // DescribeTable; CreateTable and wait for ACTIVE when allowed.
  absl::Status Prepare() {
    absl::StatusOr<std::string> described = Describe();
    if (!described.ok() && GetErrorType(described.status()) == ErrorType::kResourceNotFound) {
      if (options_.creation == DynamoDbLeaseTableOptions::Creation::kRequireExisting) {
        return ResourceNotFoundError(fmt::format(
            "DynamoDB lease table {} does not exist (create it, or open with Creation::kCreateIfMissing)",
            options_.table_name));
      }
      absl::Status created = Create();
      // Another process created it first: wait for it like for ours.
      if (!created.ok() && !IsWireError(created, "ResourceInUseException")) return created;
      described = Describe();
    }
    if (!described.ok()) return described.status();
    const absl::Time deadline = client_->clock()->Now() + options_.create_timeout;
    for (;;) {
      TRIBUTARY_ASSIGN_OR_RETURN(object o, ParseAnswer(*described));
      object table;
      if (o.at_key("Table").get_object().get(table) != simdjson::SUCCESS) return BadAnswer("no Table");
      TRIBUTARY_RETURN_IF_ERROR(CheckKeySchema(table));
      std::string_view status;
      if (table.at_key("TableStatus").get_string().get(status) != simdjson::SUCCESS) {
        return BadAnswer("no TableStatus");
      }
      if (status == "ACTIVE" || status == "UPDATING") return absl::OkStatus();
      if (status != "CREATING") {
        return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kResourceInUse,
                         fmt::format("DynamoDB lease table {} is {}", options_.table_name, status));
      }
      if (client_->clock()->Now() >= deadline) {
        return MakeError(absl::StatusCode::kDeadlineExceeded, ErrorType::kWaiterTimeout,
                         fmt::format("DynamoDB lease table {} is still CREATING after {}", options_.table_name,
                                     absl::FormatDuration(options_.create_timeout)));
      }
      client_->clock()->SleepFor(options_.poll_interval);
      described = Describe();
      if (!described.ok()) return described.status();
    }
  }

  absl::StatusOr<std::optional<ScopeRecord>> GetScope(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_ASSIGN_OR_RETURN(std::string body, GetItem(scope, kScopeItemKey));
    TRIBUTARY_ASSIGN_OR_RETURN(object o, ParseAnswer(body));
    object item;
    if (o.at_key("Item").get_object().get(item) != simdjson::SUCCESS) return std::optional<ScopeRecord>();
    TRIBUTARY_ASSIGN_OR_RETURN(ScopeRecord r, DecodeScope(ItemView(item), options_.table_name));
    return std::optional<ScopeRecord>(std::move(r));
  }

  absl::StatusOr<ScopeRecord> CreateScope(const LeaseScope& scope, const ScopeRecord& record) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    Item item = KeyOf(scope, kScopeItemKey);
    item.emplace_back(kLayout, Value::N(kLayoutVersion));
    item.emplace_back(kConsumerName, Value::S(scope.consumer_name));
    item.emplace_back(kStreamName, Value::S(scope.stream_name));
    if (!record.stream_arn.empty()) item.emplace_back(kStreamArn, Value::S(record.stream_arn));
    item.emplace_back(kStreamCreated, Value::N(TimeToMicros(record.stream_creation_timestamp)));
    item.emplace_back(kInitialPosition, Value::S(std::string(PositionText(record.initial_position.type))));
    item.emplace_back(kInitialTime, Value::N(TimeToMicros(record.initial_position.timestamp)));
    item.emplace_back(kCreatedAt, Value::N(TimeToMicros(record.created_at)));
    if (!record.initial_shard_ids.empty()) item.emplace_back(kInitialShards, Value::L(record.initial_shard_ids));
    // The first writer wins; a loser returns the winner's record (read
    // again if it was deleted in between).
    for (int attempt = 0;; ++attempt) {
      absl::Status put = PutIfAbsent(item);
      if (put.ok()) return record;
      if (!IsConditionFailed(put)) return put;
      TRIBUTARY_ASSIGN_OR_RETURN(std::optional<ScopeRecord> stored, GetScope(scope));
      if (stored) return *std::move(stored);
      if (attempt >= 5) {
        return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                         fmt::format("the scope record of {} keeps being created and deleted", ScopeText(scope)));
      }
    }
  }

  absl::Status DeleteScope(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    std::vector<std::string> keys;
    TRIBUTARY_RETURN_IF_ERROR(QueryScope(scope, /*unfinished_only=*/false, /*keys_only=*/true,
                                         [&](const ItemView& item) -> absl::Status {
                                           if (auto k = item.S(kLeaseKey)) keys.emplace_back(*k);
                                           return absl::OkStatus();
                                         }));
    // Leases first, the scope record last: a DeleteScope cut short leaves a
    // scope whose consumer starts over, never leases without their record.
    std::stable_partition(keys.begin(), keys.end(), [](const std::string& k) { return k != kScopeItemKey; });
    for (const std::string& key : keys) {
      std::string body;
      util::JsonWriter w(&body);
      w.StartObject();
      w.Key("TableName");
      w.String(options_.table_name);
      w.Key("Key");
      WriteItem(w, KeyOf(scope, key));
      w.EndObject();
      TRIBUTARY_RETURN_IF_ERROR(client_->Call("DeleteItem", body).status());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Lease>> ListLeases(const LeaseScope& scope) override {
    return List(scope, /*unfinished_only=*/false);
  }
  absl::StatusOr<std::vector<Lease>> ListUnfinishedLeases(const LeaseScope& scope) override {
    return List(scope, /*unfinished_only=*/true);
  }

  absl::StatusOr<std::vector<LeaseScope>> ListScopes() override {
    std::set<std::pair<std::string, std::string>> scopes;
    std::string start_key;  // the LastEvaluatedKey of the previous page, as JSON
    for (;;) {
      std::string body;
      util::JsonWriter w(&body);
      w.StartObject();
      w.Key("TableName");
      w.String(options_.table_name);
      w.Key("ConsistentRead");
      w.Bool(true);
      w.Key("ProjectionExpression");
      w.String("#c, #s");
      w.Key("ExpressionAttributeNames");
      w.StartObject();
      w.Key("#c");
      w.String(kConsumerName);
      w.Key("#s");
      w.String(kStreamName);
      w.EndObject();
      w.EndObject();
      if (!start_key.empty()) body.insert(body.size() - 1, ",\"ExclusiveStartKey\":" + start_key);
      TRIBUTARY_ASSIGN_OR_RETURN(std::string answer, client_->Call("Scan", body));
      TRIBUTARY_ASSIGN_OR_RETURN(object o, ParseAnswer(answer));
      array items;
      if (o.at_key("Items").get_array().get(items) == simdjson::SUCCESS) {
        for (element e : items) {
          object item;
          if (e.get_object().get(item) != simdjson::SUCCESS) return BadAnswer("Items[] is not an object");
          ItemView v(item);
          std::optional<std::string_view> c = v.S(kConsumerName), s = v.S(kStreamName);
          if (c && s) scopes.emplace(std::string(*c), std::string(*s));
        }
      }
      TRIBUTARY_ASSIGN_OR_RETURN(start_key, LastKey(o));
      if (start_key.empty()) break;
    }
    std::vector<LeaseScope> out;
    out.reserve(scopes.size());
    for (const auto& [c, s] : scopes) out.push_back({c, s});
    return out;
  }

  absl::StatusOr<std::optional<Lease>> GetLease(const LeaseScope& scope, std::string_view shard_id) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(ValidateShardId(shard_id));
    TRIBUTARY_ASSIGN_OR_RETURN(std::string body, GetItem(scope, shard_id));
    TRIBUTARY_ASSIGN_OR_RETURN(object o, ParseAnswer(body));
    object item;
    if (o.at_key("Item").get_object().get(item) != simdjson::SUCCESS) return std::optional<Lease>();
    TRIBUTARY_ASSIGN_OR_RETURN(Lease l, DecodeLease(ItemView(item), options_.table_name));
    return std::optional<Lease>(std::move(l));
  }

  absl::StatusOr<Lease> CreateLease(const LeaseScope& scope, const Lease& lease) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateLease(lease));
    TRIBUTARY_RETURN_IF_ERROR(ValidateShardId(lease.shard_id));
    Item item = KeyOf(scope, lease.shard_id);
    item.emplace_back(kCounter, Value::U(1));
    for (auto& a : LeaseAttributes(scope, lease)) item.push_back(std::move(a));
    absl::Status put = PutIfAbsent(item);
    if (IsConditionFailed(put)) {
      return MakeError(absl::StatusCode::kAlreadyExists, ErrorType::kResourceInUse,
                       fmt::format("the lease of shard {} of {} exists", lease.shard_id, ScopeText(scope)));
    }
    TRIBUTARY_RETURN_IF_ERROR(put);
    Lease stored = lease;
    stored.version = 1;
    return stored;
  }

  absl::StatusOr<Lease> UpdateLease(const LeaseScope& scope, const Lease& lease) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateLease(lease));
    TRIBUTARY_RETURN_IF_ERROR(ValidateShardId(lease.shard_id));
    // UpdateItem rather than PutItem: attributes a later layout adds survive
    // an update by this one.
    Item set = LeaseAttributes(scope, lease);
    set.emplace_back(kCounter, Value::U(lease.version + 1));
    std::vector<std::string_view> remove;
    for (std::string_view name : kOptionalLeaseAttributes) {
      bool present = false;
      for (const auto& [n, v] : set) present = present || n == name;
      if (!present) remove.push_back(name);
    }
    std::string body;
    util::JsonWriter w(&body);
    w.StartObject();
    w.Key("TableName");
    w.String(options_.table_name);
    w.Key("Key");
    WriteItem(w, KeyOf(scope, lease.shard_id));
    std::string expression = "SET ";
    for (size_t i = 0; i < set.size(); ++i) expression += fmt::format("{}#a{} = :a{}", i ? ", " : "", i, i);
    for (size_t i = 0; i < remove.size(); ++i) expression += fmt::format("{}#r{}", i ? ", " : " REMOVE ", i);
    w.Key("UpdateExpression");
    w.String(expression);
    w.Key("ConditionExpression");
    w.String("#k = :expected");
    w.Key("ExpressionAttributeNames");
    w.StartObject();
    for (size_t i = 0; i < set.size(); ++i) {
      w.Key(fmt::format("#a{}", i));
      w.String(set[i].first);
    }
    for (size_t i = 0; i < remove.size(); ++i) {
      w.Key(fmt::format("#r{}", i));
      w.String(remove[i]);
    }
    w.Key("#k");
    w.String(kCounter);
    w.EndObject();
    w.Key("ExpressionAttributeValues");
    w.StartObject();
    for (size_t i = 0; i < set.size(); ++i) {
      w.Key(fmt::format(":a{}", i));
      WriteValue(w, set[i].second);
    }
    w.Key(":expected");
    WriteValue(w, Value::U(lease.version));
    w.EndObject();
    w.EndObject();
    absl::StatusOr<std::string> answer = client_->Call("UpdateItem", body);
    if (answer.ok()) {
      Lease stored = lease;
      stored.version = lease.version + 1;
      return stored;
    }
    if (!IsConditionFailed(answer.status())) return answer.status();
    condition_failures_.fetch_add(1, std::memory_order_relaxed);
    // Tell a conflict from a missing lease (one more read, on this rare path).
    TRIBUTARY_ASSIGN_OR_RETURN(std::optional<Lease> now, GetLease(scope, lease.shard_id));
    if (!now) {
      return ResourceNotFoundError(fmt::format("no lease of shard {} for {}", lease.shard_id, ScopeText(scope)));
    }
    return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                     fmt::format("the lease of shard {} of {} changed (version {}, expected {})", lease.shard_id,
                                 ScopeText(scope), now->version, lease.version));
  }

  absl::Status DeleteLease(const LeaseScope& scope, std::string_view shard_id, uint64_t expected_version) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(ValidateShardId(shard_id));
    std::string body;
    util::JsonWriter w(&body);
    w.StartObject();
    w.Key("TableName");
    w.String(options_.table_name);
    w.Key("Key");
    WriteItem(w, KeyOf(scope, shard_id));
    // A lease already gone is fine, as in the other tables.
    w.Key("ConditionExpression");
    w.String("attribute_not_exists(#l) OR #k = :expected");
    w.Key("ExpressionAttributeNames");
    w.StartObject();
    w.Key("#l");
    w.String(kLeaseKey);
    w.Key("#k");
    w.String(kCounter);
    w.EndObject();
    w.Key("ExpressionAttributeValues");
    w.StartObject();
    w.Key(":expected");
    WriteValue(w, Value::U(expected_version));
    w.EndObject();
    w.EndObject();
    absl::StatusOr<std::string> answer = client_->Call("DeleteItem", body);
    if (answer.ok()) return absl::OkStatus();
    if (!IsConditionFailed(answer.status())) return answer.status();
    condition_failures_.fetch_add(1, std::memory_order_relaxed);
    return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                     fmt::format("the lease of shard {} of {} changed (expected version {})", shard_id,
                                 ScopeText(scope), expected_version));
  }

 private:
  static absl::Status ValidateShardId(std::string_view shard_id) {
    if (!shard_id.empty() && shard_id[0] == '#') {
      return InvalidArgumentError(fmt::format(
          "shard id '{}': the DynamoDB lease table reserves leaseKey values that start with '#'", shard_id));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Describe() {
    std::string body;
    util::JsonWriter w(&body);
    w.StartObject();
    w.Key("TableName");
    w.String(options_.table_name);
    w.EndObject();
    return client_->Call("DescribeTable", body);
  }

  absl::Status Create() {
    std::string body;
    util::JsonWriter w(&body);
    w.StartObject();
    w.Key("TableName");
    w.String(options_.table_name);
    w.Key("AttributeDefinitions");
    w.StartArray();
    for (std::string_view name : {kScopeKey, kLeaseKey}) {
      w.StartObject();
      w.Key("AttributeName");
      w.String(name);
      w.Key("AttributeType");
      w.String("S");
      w.EndObject();
    }
    w.EndArray();
    w.Key("KeySchema");
    w.StartArray();
    for (auto [name, type] : {std::pair{kScopeKey, "HASH"}, std::pair{kLeaseKey, "RANGE"}}) {
      w.StartObject();
      w.Key("AttributeName");
      w.String(name);
      w.Key("KeyType");
      w.String(type);
      w.EndObject();
    }
    w.EndArray();
    if (options_.read_capacity_units > 0 && options_.write_capacity_units > 0) {
      w.Key("BillingMode");
      w.String("PROVISIONED");
      w.Key("ProvisionedThroughput");
      w.StartObject();
      w.Key("ReadCapacityUnits");
      w.Int(options_.read_capacity_units);
      w.Key("WriteCapacityUnits");
      w.Int(options_.write_capacity_units);
      w.EndObject();
    } else {
      w.Key("BillingMode");
      w.String("PAY_PER_REQUEST");
    }
    w.EndObject();
    return client_->Call("CreateTable", body).status();
  }

  absl::Status CheckKeySchema(object table) const {
    std::string hash, range;
    array schema;
    if (table.at_key("KeySchema").get_array().get(schema) == simdjson::SUCCESS) {
      for (element e : schema) {
        std::string_view name, type;
        if (e.at_key("AttributeName").get_string().get(name) != simdjson::SUCCESS ||
            e.at_key("KeyType").get_string().get(type) != simdjson::SUCCESS) {
          continue;
        }
        (type == "HASH" ? hash : range) = std::string(name);
      }
    }
    if (hash == kScopeKey && range == kLeaseKey) return absl::OkStatus();
    return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kInvalidArgument,
                     fmt::format("DynamoDB table {} is keyed by {}{}{}, not by leaseScope (HASH) and leaseKey "
                                 "(RANGE): it is not a Tributary lease table{}",
                                 options_.table_name, hash.empty() ? "?" : hash + " (HASH)",
                                 range.empty() ? "" : " and ", range.empty() ? "" : range + " (RANGE)",
                                 hash == kLeaseKey && range.empty() ? " (a KCL lease table has this key)" : ""));
  }

  absl::StatusOr<std::string> GetItem(const LeaseScope& scope, std::string_view key) {
    std::string body;
    util::JsonWriter w(&body);
    w.StartObject();
    w.Key("TableName");
    w.String(options_.table_name);
    w.Key("Key");
    WriteItem(w, KeyOf(scope, key));
    w.Key("ConsistentRead");
    w.Bool(true);
    w.EndObject();
    return client_->Call("GetItem", body);
  }

  absl::Status PutIfAbsent(const Item& item) {
    std::string body;
    util::JsonWriter w(&body);
    w.StartObject();
    w.Key("TableName");
    w.String(options_.table_name);
    w.Key("Item");
    WriteItem(w, item);
    w.Key("ConditionExpression");
    w.String("attribute_not_exists(#l)");
    w.Key("ExpressionAttributeNames");
    w.StartObject();
    w.Key("#l");
    w.String(kLeaseKey);
    w.EndObject();
    w.EndObject();
    absl::Status s = client_->Call("PutItem", body).status();
    if (IsConditionFailed(s)) condition_failures_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  // The LastEvaluatedKey of a Query/Scan answer as JSON ("" on the last page).
  static absl::StatusOr<std::string> LastKey(object answer) {
    object last;
    if (answer.at_key("LastEvaluatedKey").get_object().get(last) != simdjson::SUCCESS) return std::string();
    ItemView v(last);
    std::optional<std::string_view> scope = v.S(kScopeKey), key = v.S(kLeaseKey);
    if (!scope || !key) return BadAnswer("LastEvaluatedKey lacks the table's key");
    std::string out;
    util::JsonWriter w(&out);
    WriteItem(w, {{kScopeKey, Value::S(std::string(*scope))}, {kLeaseKey, Value::S(std::string(*key))}});
    return out;
  }

  // Every item of the scope's partition, page by page (consistent reads).
  template <typename Fn>
  absl::Status QueryScope(const LeaseScope& scope, bool unfinished_only, bool keys_only, Fn&& fn) {
    std::string start_key;
    for (;;) {
      std::string body;
      util::JsonWriter w(&body);
      w.StartObject();
      w.Key("TableName");
      w.String(options_.table_name);
      w.Key("ConsistentRead");
      w.Bool(true);
      w.Key("KeyConditionExpression");
      w.String("#p = :p");
      if (unfinished_only) {
        // Finished leases pile up with every reshard: leave them on the server.
        w.Key("FilterExpression");
        w.String("attribute_exists(#k) AND #c <> :end");
      }
      if (keys_only) {
        w.Key("ProjectionExpression");
        w.String("#p, #l");
      }
      w.Key("ExpressionAttributeNames");
      w.StartObject();
      w.Key("#p");
      w.String(kScopeKey);
      if (unfinished_only) {
        w.Key("#k");
        w.String(kCounter);
        w.Key("#c");
        w.String(kCheckpoint);
      }
      if (keys_only) {
        w.Key("#l");
        w.String(kLeaseKey);
      }
      w.EndObject();
      w.Key("ExpressionAttributeValues");
      w.StartObject();
      w.Key(":p");
      WriteValue(w, Value::S(ScopeKeyOf(scope)));
      if (unfinished_only) {
        w.Key(":end");
        WriteValue(w, Value::S("SHARD_END"));
      }
      w.EndObject();
      w.EndObject();
      if (!start_key.empty()) body.insert(body.size() - 1, ",\"ExclusiveStartKey\":" + start_key);
      TRIBUTARY_ASSIGN_OR_RETURN(std::string answer, client_->Call("Query", body));
      TRIBUTARY_ASSIGN_OR_RETURN(object o, ParseAnswer(answer));
      array items;
      if (o.at_key("Items").get_array().get(items) == simdjson::SUCCESS) {
        for (element e : items) {
          object item;
          if (e.get_object().get(item) != simdjson::SUCCESS) return BadAnswer("Items[] is not an object");
          TRIBUTARY_RETURN_IF_ERROR(fn(ItemView(item)));
        }
      }
      TRIBUTARY_ASSIGN_OR_RETURN(start_key, LastKey(o));
      if (start_key.empty()) return absl::OkStatus();
    }
  }

  absl::StatusOr<std::vector<Lease>> List(const LeaseScope& scope, bool unfinished_only) {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    std::vector<Lease> out;
    TRIBUTARY_RETURN_IF_ERROR(QueryScope(scope, unfinished_only, /*keys_only=*/false,
                                         [&](const ItemView& item) -> absl::Status {
                                           if (item.S(kLeaseKey) == std::optional<std::string_view>(kScopeItemKey)) {
                                             return absl::OkStatus();
                                           }
                                           TRIBUTARY_ASSIGN_OR_RETURN(Lease l,
                                                                      DecodeLease(item, options_.table_name));
                                           if (unfinished_only && l.checkpoint.is_shard_end()) return absl::OkStatus();
                                           out.push_back(std::move(l));
                                           return absl::OkStatus();
                                         }));
    return out;
  }

  const DynamoDbLeaseTableOptions options_;
  std::unique_ptr<AwsJsonClient> client_;
  std::atomic<int64_t> condition_failures_{0};
};

bool ValidTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DynamoDbLeaseTable>> OpenDynamoDbLeaseTable(const DynamoDbLeaseTableOptions& options) {
  if (!ValidTableName(options.table_name)) {
    return InvalidArgumentError(fmt::format(
        "DynamoDB table name '{}' must be 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'",
        options.table_name));
  }
  const RetryPolicy& p = options.retry;
  if (p.max_attempts < 1 || p.max_attempts > 100 || p.initial_backoff < absl::ZeroDuration() ||
      p.max_backoff < p.initial_backoff || p.multiplier < 1.0) {
    return InvalidArgumentError("DynamoDbLeaseTableOptions::retry: need 1 <= max_attempts <= 100, "
                                "0 <= initial_backoff <= max_backoff and multiplier >= 1");
  }
  if (options.poll_interval <= absl::ZeroDuration() || options.connect_timeout <= absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return InvalidArgumentError("DynamoDbLeaseTableOptions: poll_interval and the timeouts must be positive");
  }
  remote::AwsClientOptions c;
  c.region = options.region;
  if (c.region.empty()) c.region = remote::RegionFromEnvironment().value_or("");
  c.endpoint_url = options.endpoint_url;
  if (c.endpoint_url.empty()) c.endpoint_url = remote::ServiceEndpointFromEnvironment("DYNAMODB").value_or("");
  if (c.region.empty()) {
    if (c.endpoint_url.empty()) {
      return InvalidArgumentError(
          "DynamoDB lease table: no region (options, AWS_REGION, AWS_DEFAULT_REGION or the profile's region) "
          "and no endpoint URL (options, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL)");
    }
    c.region = "us-east-1";  // a local peer ignores it; signing needs one
  }
  if (c.endpoint_url.empty()) {
    const bool china = c.region.rfind("cn-", 0) == 0;
    c.endpoint_url = fmt::format("https://dynamodb.{}.amazonaws.com{}", c.region, china ? ".cn" : "");
  }
  c.credentials = options.credentials != nullptr ? options.credentials : DefaultCredentialsProvider();
  c.retry = options.retry;
  c.connect_timeout = options.connect_timeout;
  c.request_timeout = options.request_timeout;
  c.max_idle_connections = options.max_idle_connections;
  c.verify_tls = options.verify_tls;
  c.clock = options.clock;
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<AwsJsonClient> client,
                             AwsJsonClient::Create(remote::kDynamoDbService, c, DynamoDbError));
  auto table = std::make_unique<DynamoDbTable>(options, std::move(client));
  TRIBUTARY_RETURN_IF_ERROR(table->Prepare());
  return std::unique_ptr<DynamoDbLeaseTable>(std::move(table));
}

}  // namespace tributary
