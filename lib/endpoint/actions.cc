// Kinesis actions over a Store. Field names follow the Kinesis API reference
// (botocore's kinesis/2013-12-02/service-2.json) exactly.
#include "endpoint/actions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "endpoint/cbor_codec.h"
#include "endpoint/event_stream.h"
#include "endpoint/json_codec.h"
#include "shard/decimal.h"
#include "util/status_macros.h"

namespace tributary::endpoint {
namespace {

// ---------------------------------------------------------------- reading

// "1 validation error detected: Value null at 'partitionKey' ..." is how
// Kinesis reports a missing required member (member names lower-camel).
absl::Status MissingMember(std::string path) {
  if (!path.empty()) path[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(path[0])));
  return ValidationError(fmt::format(
      "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member "
      "must not be null",
      path));
}

template <class Obj, class T>
absl::Status Required(const Obj& in, std::string_view key, T& out) {
  std::optional<T> v;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(key, v));
  if (!v.has_value()) return MissingMember(in.Path(key));
  out = std::move(*v);
  return absl::OkStatus();
}

// An Integer member (Kinesis' integers are 32-bit); a value beyond the
// range saturates, as AWS reads it (the validator has already checked the
// member's range on the saturated value).
template <class Obj>
absl::Status GetInt(const Obj& in, std::string_view key, std::optional<int>& out) {
  out.reset();
  std::optional<int64_t> v;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(key, v));
  if (!v.has_value()) return absl::OkStatus();
  out = static_cast<int>(std::clamp<int64_t>(*v, std::numeric_limits<int>::min(),
                                             std::numeric_limits<int>::max()));
  return absl::OkStatus();
}

template <class Obj>
absl::Status RequiredInt(const Obj& in, std::string_view key, int& out) {
  std::optional<int> v;
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, key, v));
  if (!v.has_value()) return MissingMember(in.Path(key));
  out = *v;
  return absl::OkStatus();
}

// The stream a request names: StreamARN, StreamName, or both (the KPL sends
// both). The Store accepts either form and resolves the ARN itself.
template <class Obj>
absl::StatusOr<std::string_view> StreamOf(const Obj& in) {
  std::optional<std::string_view> name, arn;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamName", name));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamARN", arn));
  if (arn.has_value()) {
    if (name.has_value()) {
      const std::string suffix = fmt::format(":stream/{}", *name);
      if (arn->size() < suffix.size() || arn->substr(arn->size() - suffix.size()) != suffix) {
        return InvalidArgumentError(fmt::format(
            "StreamName '{}' and StreamARN '{}' name different streams", name->substr(0, 128),
            arn->substr(0, 256)));
      }
    }
    return *arn;
  }
  if (name.has_value()) return *name;
  return InvalidArgumentError("Either StreamName or StreamARN must be given");
}

template <class Obj>
absl::StatusOr<StreamMode> ModeOf(const Obj& details) {
  std::string_view mode;
  TRIBUTARY_RETURN_IF_ERROR(Required(details, "StreamMode", mode));
  return ParseStreamMode(mode);
}

std::map<std::string, std::string> ToMap(const StringPairs& pairs) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : pairs) m[std::string(k)] = std::string(v);
  return m;
}

// ---------------------------------------------------------------- writing

template <class Out>
void Str(Out& out, std::string_view key, std::string_view value) {
  out.Key(key);
  out.String(value);
}

// A sequence number or shard id, formatted on the stack and written without
// escaping (they are digits and "shardId-"): PutRecords answers one of each
// per record, GetRecords one sequence number per record.
template <class Out>
void Seq(Out& out, std::string_view key, SequenceNumber s) {
  char buf[80];
  out.Key(key);
  out.SafeString(std::string_view(buf, s.ToChars(buf)));
}

template <class Out>
void Shard(Out& out, std::string_view key, ShardId id) {
  char buf[20];
  out.Key(key);
  out.SafeString(std::string_view(buf, shard::FormatShardIdTo(id.index(), buf)));
}

template <class Out>
void Num(Out& out, std::string_view key, int64_t value) {
  out.Key(key);
  out.Int(value);
}

// The body of an action without output: nothing in JSON, as AWS answers
// (HTTP 200, Content-Length 0); an empty map in CBOR, which every CBOR
// client decodes.
template <class Out>
void EmptyObject(Out& out) {
  if constexpr (!std::is_same_v<Out, JsonWriter>) {
    out.StartObject();
    out.EndObject();
  }
}

// An empty object where one is the output (SubscribeToShard's initial-response).
template <class Out>
void EmptyMap(Out& out) {
  out.StartObject();
  out.EndObject();
}

template <class Out>
void WriteHashKeyRange(Out& out, const HashKeyRange& r) {
  out.Key("HashKeyRange");
  out.StartObject();
  Str(out, "StartingHashKey", r.start.ToString());
  Str(out, "EndingHashKey", r.end.ToString());
  out.EndObject();
}

template <class Out>
void WriteModeDetails(Out& out, StreamMode mode) {
  out.Key("StreamModeDetails");
  out.StartObject();
  Str(out, "StreamMode", ToString(mode));
  out.EndObject();
}

template <class Out>
void WriteStrings(Out& out, std::string_view key, const std::vector<std::string>& values) {
  out.Key(key);
  out.StartArray();
  for (const std::string& v : values) out.String(v);
  out.EndArray();
}

template <class Out>
void WriteEnhancedMonitoring(Out& out, const std::vector<std::string>& metrics) {
  out.Key("EnhancedMonitoring");
  out.StartArray();
  out.StartObject();
  WriteStrings(out, "ShardLevelMetrics", metrics);
  out.EndObject();
  out.EndArray();
}

template <class Out>
void WriteEncryption(Out& out, EncryptionType type, const std::optional<std::string>& key_id) {
  Str(out, "EncryptionType", ToString(type));
  if (key_id) Str(out, "KeyId", *key_id);
}

template <class Out>
void WriteShard(Out& out, const ShardDescription& s) {
  out.StartObject();
  Str(out, "ShardId", s.shard_id);
  if (s.parent_shard_id) Str(out, "ParentShardId", *s.parent_shard_id);
  if (s.adjacent_parent_shard_id) Str(out, "AdjacentParentShardId", *s.adjacent_parent_shard_id);
  WriteHashKeyRange(out, s.hash_key_range);
  out.Key("SequenceNumberRange");
  out.StartObject();
  Str(out, "StartingSequenceNumber", s.starting_sequence_number.ToString());
  if (s.ending_sequence_number) {
    Str(out, "EndingSequenceNumber", s.ending_sequence_number->ToString());
  }
  out.EndObject();
  out.EndObject();
}

template <class Out>
void WriteShards(Out& out, const std::vector<ShardDescription>& shards) {
  out.Key("Shards");
  out.StartArray();
  for (const ShardDescription& s : shards) WriteShard(out, s);
  out.EndArray();
}

template <class Out>
void WriteRecords(Out& out, const std::vector<Record>& records) {
  out.Key("Records");
  out.StartArray();
  for (const Record& rec : records) {
    out.StartObject();
    Seq(out, "SequenceNumber", rec.sequence_number);
    out.Key("ApproximateArrivalTimestamp");
    out.Timestamp(rec.approximate_arrival_timestamp);
    out.Key("Data");
    out.Blob(rec.data);
    Str(out, "PartitionKey", rec.partition_key);
    out.EndObject();
  }
  out.EndArray();
}

template <class Out>
void WriteChildShards(Out& out, const std::vector<ChildShard>& children) {
  if (children.empty()) return;
  out.Key("ChildShards");
  out.StartArray();
  for (const ChildShard& c : children) {
    out.StartObject();
    Str(out, "ShardId", c.shard_id);
    out.Key("ParentShards");
    out.StartArray();
    for (const std::string& p : c.parent_shards) out.String(p);
    out.EndArray();
    WriteHashKeyRange(out, c.hash_key_range);
    out.EndObject();
  }
  out.EndArray();
}

template <class Out>
void WriteTags(Out& out, const std::vector<std::pair<std::string, std::string>>& tags) {
  out.Key("Tags");
  out.StartArray();
  for (const auto& [k, v] : tags) {
    out.StartObject();
    Str(out, "Key", k);
    Str(out, "Value", v);
    out.EndObject();
  }
  out.EndArray();
}

// ---------------------------------------------------------------- streams

template <class Obj, class Out>
absl::Status CreateStream(Store& store, const Obj& in, Out& out) {
  std::string_view name;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "StreamName", name));
  CreateStreamOptions o;
  std::optional<int> shard_count, max_kib;
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "ShardCount", shard_count));
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "MaxRecordSizeInKiB", max_kib));
  std::optional<Obj> details;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamModeDetails", details));
  if (details.has_value()) {
    TRIBUTARY_ASSIGN_OR_RETURN(o.mode, ModeOf(*details));
  }
  std::optional<StringPairs> tags;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Tags", tags));
  o.shard_count = shard_count;
  if (max_kib.has_value()) o.max_record_size_kib = *max_kib;
  if (tags.has_value()) o.tags = ToMap(*tags);
  TRIBUTARY_RETURN_IF_ERROR(store.CreateStream(name, o));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DeleteStream(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::optional<bool> enforce;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("EnforceConsumerDeletion", enforce));
  TRIBUTARY_RETURN_IF_ERROR(store.DeleteStream(stream, enforce.value_or(false)));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DescribeStream(Store& store, const Obj& in, Out& out) {
  DescribeStreamRequest req;
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  req.stream = std::string(stream);
  std::optional<int> limit;
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "Limit", limit));
  if (limit.has_value()) req.limit = *limit;
  std::optional<std::string_view> start;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ExclusiveStartShardId", start));
  if (start.has_value()) req.exclusive_start_shard_id = std::string(*start);
  TRIBUTARY_ASSIGN_OR_RETURN(StreamDescription d, store.DescribeStream(req));
  out.StartObject();
  out.Key("StreamDescription");
  out.StartObject();
  Str(out, "StreamName", d.stream_name);
  Str(out, "StreamARN", d.stream_arn);
  Str(out, "StreamStatus", ToString(d.stream_status));
  WriteModeDetails(out, d.stream_mode);
  WriteShards(out, d.shards);
  out.Key("HasMoreShards");
  out.Bool(d.has_more_shards);
  Num(out, "RetentionPeriodHours", d.retention_period_hours);
  out.Key("StreamCreationTimestamp");
  out.Timestamp(d.stream_creation_timestamp);
  WriteEnhancedMonitoring(out, d.shard_level_metrics);
  WriteEncryption(out, d.encryption_type, d.key_id);
  out.EndObject();
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DescribeStreamSummary(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(StreamDescriptionSummary d, store.DescribeStreamSummary(stream));
  out.StartObject();
  out.Key("StreamDescriptionSummary");
  out.StartObject();
  Str(out, "StreamName", d.stream_name);
  Str(out, "StreamARN", d.stream_arn);
  Str(out, "StreamStatus", ToString(d.stream_status));
  WriteModeDetails(out, d.stream_mode);
  Num(out, "RetentionPeriodHours", d.retention_period_hours);
  out.Key("StreamCreationTimestamp");
  out.Timestamp(d.stream_creation_timestamp);
  WriteEnhancedMonitoring(out, d.shard_level_metrics);
  WriteEncryption(out, d.encryption_type, d.key_id);
  Num(out, "OpenShardCount", d.open_shard_count);
  Num(out, "ConsumerCount", d.consumer_count);
  if (d.warm_throughput) {
    out.Key("WarmThroughput");
    out.StartObject();
    Num(out, "TargetMiBps", d.warm_throughput->target_mibps);
    Num(out, "CurrentMiBps", d.warm_throughput->current_mibps);
    out.EndObject();
  }
  Num(out, "MaxRecordSizeInKiB", d.max_record_size_kib);
  out.EndObject();
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status ListStreams(Store& store, const Obj& in, Out& out) {
  ListStreamsRequest req;
  std::optional<int> limit;
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "Limit", limit));
  if (limit.has_value()) req.limit = *limit;
  std::optional<std::string_view> start, token;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ExclusiveStartStreamName", start));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("NextToken", token));
  if (start.has_value()) req.exclusive_start_stream_name = std::string(*start);
  if (token.has_value()) req.next_token = std::string(*token);
  TRIBUTARY_ASSIGN_OR_RETURN(ListStreamsResult r, store.ListStreams(req));
  out.StartObject();
  out.Key("StreamNames");
  out.StartArray();
  for (const std::string& n : r.stream_names) out.String(n);
  out.EndArray();
  out.Key("HasMoreStreams");
  out.Bool(r.has_more_streams);
  if (r.next_token) Str(out, "NextToken", *r.next_token);
  out.Key("StreamSummaries");
  out.StartArray();
  for (const StreamSummary& s : r.stream_summaries) {
    out.StartObject();
    Str(out, "StreamName", s.stream_name);
    Str(out, "StreamARN", s.stream_arn);
    Str(out, "StreamStatus", ToString(s.stream_status));
    WriteModeDetails(out, s.stream_mode);
    out.Key("StreamCreationTimestamp");
    out.Timestamp(s.stream_creation_timestamp);
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status ListShards(Store& store, const Obj& in, Out& out) {
  ListShardsRequest req;
  std::optional<std::string_view> name, arn, token, start;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamName", name));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamARN", arn));
  if (name.has_value() || arn.has_value()) {
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
    req.stream = std::string(stream);
  }
  TRIBUTARY_RETURN_IF_ERROR(in.Get("NextToken", token));
  if (token.has_value()) req.next_token = std::string(*token);
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ExclusiveStartShardId", start));
  if (start.has_value()) req.exclusive_start_shard_id = std::string(*start);
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "MaxResults", req.max_results));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamCreationTimestamp", req.stream_creation_timestamp));
  std::optional<Obj> filter;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ShardFilter", filter));
  if (filter.has_value()) {
    ShardFilter f;
    std::string_view type;
    TRIBUTARY_RETURN_IF_ERROR(Required(*filter, "Type", type));
    TRIBUTARY_ASSIGN_OR_RETURN(f.type, ParseShardFilterType(type));
    std::optional<std::string_view> shard_id;
    TRIBUTARY_RETURN_IF_ERROR(filter->Get("ShardId", shard_id));
    if (shard_id.has_value()) f.shard_id = std::string(*shard_id);
    TRIBUTARY_RETURN_IF_ERROR(filter->Get("Timestamp", f.timestamp));
    req.shard_filter = std::move(f);
  }
  TRIBUTARY_ASSIGN_OR_RETURN(ListShardsResult r, store.ListShards(req));
  out.StartObject();
  WriteShards(out, r.shards);
  if (r.next_token) Str(out, "NextToken", *r.next_token);
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- records

template <class Obj, class Out>
absl::Status PutRecord(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  Blob data;
  PutRecordInput record;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "Data", data));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "PartitionKey", record.partition_key));
  record.data = data.bytes;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ExplicitHashKey", record.explicit_hash_key));
  std::optional<std::string_view> ordering;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("SequenceNumberForOrdering", ordering));
  TRIBUTARY_ASSIGN_OR_RETURN(PutRecordResult r, store.Put(stream, record, ordering));
  out.StartObject();
  Shard(out, "ShardId", r.shard_id);
  Seq(out, "SequenceNumber", r.sequence_number);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status PutRecords(Store& store, const Obj& in, Out& out) {
  std::vector<Obj> entries;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "Records", entries));
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::vector<PutRecordInput> records(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Blob data;
    TRIBUTARY_RETURN_IF_ERROR(Required(entries[i], "Data", data));
    TRIBUTARY_RETURN_IF_ERROR(Required(entries[i], "PartitionKey", records[i].partition_key));
    records[i].data = data.bytes;
    TRIBUTARY_RETURN_IF_ERROR(entries[i].Get("ExplicitHashKey", records[i].explicit_hash_key));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(PutBatchResult r, store.PutBatch(stream, records));
  out.StartObject();
  Num(out, "FailedRecordCount", r.failed_record_count);
  out.Key("Records");
  out.StartArray();
  for (const PutBatchEntryResult& e : r.records) {
    out.StartObject();
    if (e.ok()) {
      Seq(out, "SequenceNumber", *e.sequence_number);
      Shard(out, "ShardId", *e.shard_id);
    } else {
      Str(out, "ErrorCode", e.error_code);
      Str(out, "ErrorMessage", e.error_message);
    }
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status GetShardIterator(Store& store, const Obj& in, Out& out) {
  GetShardIteratorRequest req;
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  req.stream = std::string(stream);
  std::string_view shard_id, type;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardId", shard_id));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardIteratorType", type));
  req.shard_id = std::string(shard_id);
  TRIBUTARY_ASSIGN_OR_RETURN(req.type, ParseShardIteratorType(type));
  std::optional<std::string_view> seq;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StartingSequenceNumber", seq));
  if (seq.has_value()) req.starting_sequence_number = std::string(*seq);
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Timestamp", req.timestamp));
  TRIBUTARY_ASSIGN_OR_RETURN(std::string it, store.GetShardIterator(req));
  out.StartObject();
  Str(out, "ShardIterator", it);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status GetRecords(Store& store, const Obj& in, Out& out) {
  std::string_view iterator;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardIterator", iterator));
  std::optional<int> limit;
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "Limit", limit));
  // StreamARN is optional here and only for IAM; the iterator names the stream.
  TRIBUTARY_ASSIGN_OR_RETURN(
      GetRecordsResult r, store.GetRecords(iterator, limit.value_or(limits::kMaxGetRecordsLimit)));
  out.StartObject();
  WriteRecords(out, r.records);
  if (r.next_shard_iterator) Str(out, "NextShardIterator", *r.next_shard_iterator);
  Num(out, "MillisBehindLatest", r.millis_behind_latest);
  WriteChildShards(out, r.child_shards);
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- SubscribeToShard

// The event stream of one subscription: an initial-response event, then
// one SubscribeToShardEvent per ShardSubscription::Next(), or an exception
// event when the subscription fails; the body ends with the subscription.
template <class Writer>
class SubscribeStream final : public ResponseStream {
 public:
  SubscribeStream(std::unique_ptr<ShardSubscription> sub, std::string_view content_type)
      : sub_(std::move(sub)), content_type_(content_type) {}

  bool Next(std::string* piece) override {
    if (state_ == State::kInitial) {
      state_ = State::kFirstEvent;
      std::string payload;
      Writer w(&payload);
      EmptyMap(w);
      AppendEventMessage({{":message-type", "event"}, {":event-type", "initial-response"},
                          {":content-type", content_type_}},
                         payload, piece);
      return true;
    }
    if (state_ == State::kDone) return false;
    // The first event goes out at once; later ones when records arrive, or
    // as a heartbeat after a second without any.
    const absl::Duration wait =
        state_ == State::kFirstEvent ? absl::ZeroDuration() : kHeartbeat;
    state_ = State::kEvents;
    absl::StatusOr<std::optional<SubscribeToShardEvent>> ev = sub_->Next(wait);
    if (!ev.ok()) {
      state_ = State::kDone;
      WireError wire = WireErrorOf(ev.status());
      std::string payload;
      Writer w(&payload);
      w.StartObject();
      Str(w, "message", std::string_view(ev.status().message().data(), ev.status().message().size()));
      w.EndObject();
      AppendEventMessage({{":message-type", "exception"}, {":exception-type", wire.type},
                          {":content-type", content_type_}},
                         payload, piece);
      return true;
    }
    if (!ev->has_value()) {
      state_ = State::kDone;
      return false;
    }
    const SubscribeToShardEvent& e = **ev;
    std::string payload;
    Writer w(&payload);
    w.StartObject();
    WriteRecords(w, e.records);
    if (e.continuation_sequence_number) {
      Str(w, "ContinuationSequenceNumber", *e.continuation_sequence_number);
    }
    Num(w, "MillisBehindLatest", e.millis_behind_latest);
    WriteChildShards(w, e.child_shards);
    w.EndObject();
    AppendEventMessage({{":message-type", "event"}, {":event-type", "SubscribeToShardEvent"},
                        {":content-type", content_type_}},
                       payload, piece);
    return true;
  }

  void Cancel() override { sub_->Cancel(); }

 private:
  static constexpr absl::Duration kHeartbeat = absl::Seconds(1);
  enum class State { kInitial, kFirstEvent, kEvents, kDone };
  std::unique_ptr<ShardSubscription> sub_;
  std::string_view content_type_;
  State state_ = State::kInitial;
};

template <class Obj, class Writer>
absl::StatusOr<std::shared_ptr<ResponseStream>> SubscribeToShardStream(Store& store, const Obj& in) {
  std::string_view consumer, shard;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ConsumerARN", consumer));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardId", shard));
  Obj pos = in;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "StartingPosition", pos));
  std::string_view type;
  TRIBUTARY_RETURN_IF_ERROR(Required(pos, "Type", type));
  StartingPosition p;
  TRIBUTARY_ASSIGN_OR_RETURN(p.type, ParseShardIteratorType(type));
  std::optional<std::string_view> seq;
  TRIBUTARY_RETURN_IF_ERROR(pos.Get("SequenceNumber", seq));
  if (seq) p.sequence_number = std::string(*seq);
  TRIBUTARY_RETURN_IF_ERROR(pos.Get("Timestamp", p.timestamp));
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<ShardSubscription> sub,
                             store.SubscribeToShard(consumer, shard, p));
  const std::string_view content_type =
      std::is_same_v<Writer, CborWriter> ? kCborContentType : kJsonContentType;
  return std::shared_ptr<ResponseStream>(
      std::make_shared<SubscribeStream<Writer>>(std::move(sub), content_type));
}

// ---------------------------------------------------------------- resharding

template <class Obj, class Out>
absl::Status SplitShard(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::string_view shard, key;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardToSplit", shard));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "NewStartingHashKey", key));
  TRIBUTARY_RETURN_IF_ERROR(store.SplitShard(stream, shard, key));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status MergeShards(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::string_view shard, adjacent;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardToMerge", shard));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "AdjacentShardToMerge", adjacent));
  TRIBUTARY_RETURN_IF_ERROR(store.MergeShards(stream, shard, adjacent));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status UpdateShardCount(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  int target = 0;
  std::string_view scaling;
  TRIBUTARY_RETURN_IF_ERROR(RequiredInt(in, "TargetShardCount", target));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ScalingType", scaling));
  TRIBUTARY_ASSIGN_OR_RETURN(ScalingType type, ParseScalingType(scaling));
  TRIBUTARY_ASSIGN_OR_RETURN(UpdateShardCountResult r, store.UpdateShardCount(stream, target, type));
  out.StartObject();
  Str(out, "StreamName", r.stream_name);
  Num(out, "CurrentShardCount", r.current_shard_count);
  Num(out, "TargetShardCount", r.target_shard_count);
  Str(out, "StreamARN", r.stream_arn);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status UpdateStreamMode(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  Obj details = in;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "StreamModeDetails", details));
  TRIBUTARY_ASSIGN_OR_RETURN(StreamMode mode, ModeOf(details));
  TRIBUTARY_RETURN_IF_ERROR(store.UpdateStreamMode(stream, mode));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status UpdateMaxRecordSize(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  int kib = 0;
  TRIBUTARY_RETURN_IF_ERROR(RequiredInt(in, "MaxRecordSizeInKiB", kib));
  TRIBUTARY_RETURN_IF_ERROR(store.UpdateMaxRecordSize(stream, kib));
  EmptyObject(out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- retention

template <class Obj, class Out>
absl::Status IncreaseStreamRetentionPeriod(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  int hours = 0;
  TRIBUTARY_RETURN_IF_ERROR(RequiredInt(in, "RetentionPeriodHours", hours));
  TRIBUTARY_RETURN_IF_ERROR(store.IncreaseStreamRetentionPeriod(stream, hours));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DecreaseStreamRetentionPeriod(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  int hours = 0;
  TRIBUTARY_RETURN_IF_ERROR(RequiredInt(in, "RetentionPeriodHours", hours));
  TRIBUTARY_RETURN_IF_ERROR(store.DecreaseStreamRetentionPeriod(stream, hours));
  EmptyObject(out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- tags

template <class Obj, class Out>
absl::Status AddTagsToStream(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  StringPairs tags;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "Tags", tags));
  TRIBUTARY_RETURN_IF_ERROR(store.AddTagsToStream(stream, ToMap(tags)));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status RemoveTagsFromStream(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::vector<std::string_view> keys;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "TagKeys", keys));
  TRIBUTARY_RETURN_IF_ERROR(
      store.RemoveTagsFromStream(stream, std::vector<std::string>(keys.begin(), keys.end())));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status ListTagsForStream(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::optional<std::string_view> start;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ExclusiveStartTagKey", start));
  std::optional<int> limit;
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "Limit", limit));
  std::optional<std::string> after;
  if (start.has_value()) after = std::string(*start);
  TRIBUTARY_ASSIGN_OR_RETURN(
      ListTagsResult r,
      store.ListTagsForStream(stream, after, limit.value_or(limits::kMaxListTagsLimit)));
  out.StartObject();
  WriteTags(out, r.tags);
  out.Key("HasMoreTags");
  out.Bool(r.has_more_tags);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status TagResource(Store& store, const Obj& in, Out& out) {
  std::string_view arn;
  StringPairs tags;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ResourceARN", arn));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "Tags", tags));
  TRIBUTARY_RETURN_IF_ERROR(store.TagResource(arn, ToMap(tags)));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status UntagResource(Store& store, const Obj& in, Out& out) {
  std::string_view arn;
  std::vector<std::string_view> keys;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ResourceARN", arn));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "TagKeys", keys));
  TRIBUTARY_RETURN_IF_ERROR(
      store.UntagResource(arn, std::vector<std::string>(keys.begin(), keys.end())));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status ListTagsForResource(Store& store, const Obj& in, Out& out) {
  std::string_view arn;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ResourceARN", arn));
  TRIBUTARY_ASSIGN_OR_RETURN(auto tags, store.ListTagsForResource(arn));
  out.StartObject();
  WriteTags(out, tags);
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- account

template <class Obj, class Out>
absl::Status DescribeLimits(Store& store, const Obj&, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(DescribeLimitsResult r, store.DescribeLimits());
  out.StartObject();
  Num(out, "ShardLimit", r.shard_limit);
  Num(out, "OpenShardCount", r.open_shard_count);
  Num(out, "OnDemandStreamCount", r.on_demand_stream_count);
  Num(out, "OnDemandStreamCountLimit", r.on_demand_stream_count_limit);
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- consumers

template <class Out>
void WriteConsumerFields(Out& out, const ConsumerDescription& c) {
  Str(out, "ConsumerName", c.consumer_name);
  Str(out, "ConsumerARN", c.consumer_arn);
  Str(out, "ConsumerStatus", ToString(c.consumer_status));
  out.Key("ConsumerCreationTimestamp");
  out.Timestamp(c.consumer_creation_timestamp);
}

template <class Obj>
absl::StatusOr<ConsumerRef> ConsumerRefOf(const Obj& in) {
  std::optional<std::string_view> stream, name, arn;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamARN", stream));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ConsumerName", name));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ConsumerARN", arn));
  ConsumerRef r;
  if (stream) r.stream = std::string(*stream);
  if (name) r.consumer_name = std::string(*name);
  if (arn) r.consumer_arn = std::string(*arn);
  return r;
}

template <class Obj, class Out>
absl::Status RegisterStreamConsumer(Store& store, const Obj& in, Out& out) {
  std::string_view stream, name;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "StreamARN", stream));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ConsumerName", name));
  std::optional<StringPairs> tags;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Tags", tags));
  TRIBUTARY_ASSIGN_OR_RETURN(
      ConsumerDescription c,
      store.RegisterStreamConsumer(stream, name, tags ? ToMap(*tags) : std::map<std::string, std::string>()));
  out.StartObject();
  out.Key("Consumer");
  out.StartObject();
  WriteConsumerFields(out, c);
  out.EndObject();
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DescribeStreamConsumer(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(ConsumerRef ref, ConsumerRefOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(ConsumerDescription c, store.DescribeStreamConsumer(ref));
  out.StartObject();
  out.Key("ConsumerDescription");
  out.StartObject();
  WriteConsumerFields(out, c);
  Str(out, "StreamARN", c.stream_arn);
  out.EndObject();
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status ListStreamConsumers(Store& store, const Obj& in, Out& out) {
  ListStreamConsumersRequest req;
  std::string_view stream;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "StreamARN", stream));
  req.stream = std::string(stream);
  std::optional<std::string_view> token;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("NextToken", token));
  if (token) req.next_token = std::string(*token);
  TRIBUTARY_RETURN_IF_ERROR(GetInt(in, "MaxResults", req.max_results));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("StreamCreationTimestamp", req.stream_creation_timestamp));
  TRIBUTARY_ASSIGN_OR_RETURN(ListStreamConsumersResult r, store.ListStreamConsumers(req));
  out.StartObject();
  out.Key("Consumers");
  out.StartArray();
  for (const ConsumerDescription& c : r.consumers) {
    out.StartObject();
    WriteConsumerFields(out, c);
    out.EndObject();
  }
  out.EndArray();
  if (r.next_token) Str(out, "NextToken", *r.next_token);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DeregisterStreamConsumer(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(ConsumerRef ref, ConsumerRefOf(in));
  TRIBUTARY_RETURN_IF_ERROR(store.DeregisterStreamConsumer(ref));
  EmptyObject(out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- state-only settings

template <class Obj>
absl::Status EncryptionArgs(const Obj& in, EncryptionType& type, std::string_view& key_id) {
  std::string_view type_name;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "EncryptionType", type_name));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "KeyId", key_id));
  TRIBUTARY_ASSIGN_OR_RETURN(type, ParseEncryptionType(type_name));
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status StartStreamEncryption(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  EncryptionType type;
  std::string_view key_id;
  TRIBUTARY_RETURN_IF_ERROR(EncryptionArgs(in, type, key_id));
  TRIBUTARY_RETURN_IF_ERROR(store.StartStreamEncryption(stream, type, key_id));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status StopStreamEncryption(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  EncryptionType type;
  std::string_view key_id;
  TRIBUTARY_RETURN_IF_ERROR(EncryptionArgs(in, type, key_id));
  TRIBUTARY_RETURN_IF_ERROR(store.StopStreamEncryption(stream, type, key_id));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status ChangeMonitoring(Store& store, const Obj& in, Out& out, bool enable) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  std::vector<std::string_view> metrics;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ShardLevelMetrics", metrics));
  std::vector<std::string> m(metrics.begin(), metrics.end());
  TRIBUTARY_ASSIGN_OR_RETURN(EnhancedMonitoringResult r,
                             enable ? store.EnableEnhancedMonitoring(stream, m)
                                    : store.DisableEnhancedMonitoring(stream, m));
  out.StartObject();
  Str(out, "StreamName", r.stream_name);
  WriteStrings(out, "CurrentShardLevelMetrics", r.current_shard_level_metrics);
  WriteStrings(out, "DesiredShardLevelMetrics", r.desired_shard_level_metrics);
  Str(out, "StreamARN", r.stream_arn);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status EnableEnhancedMonitoring(Store& store, const Obj& in, Out& out) {
  return ChangeMonitoring(store, in, out, true);
}

template <class Obj, class Out>
absl::Status DisableEnhancedMonitoring(Store& store, const Obj& in, Out& out) {
  return ChangeMonitoring(store, in, out, false);
}

template <class Obj, class Out>
absl::Status PutResourcePolicy(Store& store, const Obj& in, Out& out) {
  std::string_view arn, policy;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ResourceARN", arn));
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "Policy", policy));
  TRIBUTARY_RETURN_IF_ERROR(store.PutResourcePolicy(arn, policy));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status GetResourcePolicy(Store& store, const Obj& in, Out& out) {
  std::string_view arn;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ResourceARN", arn));
  TRIBUTARY_ASSIGN_OR_RETURN(std::string policy, store.GetResourcePolicy(arn));
  out.StartObject();
  Str(out, "Policy", policy);
  out.EndObject();
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status DeleteResourcePolicy(Store& store, const Obj& in, Out& out) {
  std::string_view arn;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "ResourceARN", arn));
  TRIBUTARY_RETURN_IF_ERROR(store.DeleteResourcePolicy(arn));
  EmptyObject(out);
  return absl::OkStatus();
}

template <class Out>
void WriteAccountSettings(Out& out, const AccountSettings& a) {
  out.StartObject();
  out.Key("MinimumThroughputBillingCommitment");
  out.StartObject();
  Str(out, "Status", ToString(a.minimum_throughput_billing_commitment));
  if (a.started_at) {
    out.Key("StartedAt");
    out.Timestamp(*a.started_at);
  }
  if (a.ended_at) {
    out.Key("EndedAt");
    out.Timestamp(*a.ended_at);
  }
  if (a.earliest_allowed_end_at) {
    out.Key("EarliestAllowedEndAt");
    out.Timestamp(*a.earliest_allowed_end_at);
  }
  out.EndObject();
  out.EndObject();
}

template <class Obj, class Out>
absl::Status DescribeAccountSettings(Store& store, const Obj&, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(AccountSettings a, store.DescribeAccountSettings());
  WriteAccountSettings(out, a);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status UpdateAccountSettings(Store& store, const Obj& in, Out& out) {
  Obj commitment = in;
  TRIBUTARY_RETURN_IF_ERROR(Required(in, "MinimumThroughputBillingCommitment", commitment));
  std::string_view status;
  TRIBUTARY_RETURN_IF_ERROR(Required(commitment, "Status", status));
  if (status != "ENABLED" && status != "DISABLED") {
    return ValidationError(fmt::format(
        "1 validation error detected: Value '{}' at 'minimumThroughputBillingCommitment.status' "
        "failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
        status.substr(0, 64)));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(AccountSettings a, store.UpdateAccountSettings(status == "ENABLED"));
  WriteAccountSettings(out, a);
  return absl::OkStatus();
}

template <class Obj, class Out>
absl::Status UpdateStreamWarmThroughput(Store& store, const Obj& in, Out& out) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view stream, StreamOf(in));
  int mibps = 0;
  TRIBUTARY_RETURN_IF_ERROR(RequiredInt(in, "WarmThroughputMiBps", mibps));
  TRIBUTARY_ASSIGN_OR_RETURN(UpdateWarmThroughputResult r, store.UpdateStreamWarmThroughput(stream, mibps));
  out.StartObject();
  Str(out, "StreamARN", r.stream_arn);
  Str(out, "StreamName", r.stream_name);
  out.Key("WarmThroughput");
  out.StartObject();
  Num(out, "TargetMiBps", r.warm_throughput.target_mibps);
  Num(out, "CurrentMiBps", r.warm_throughput.current_mibps);
  out.EndObject();
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- table

// NOLINTBEGIN(bugprone-macro-parentheses): `name` is a function template
// given template arguments (`&name<JsonObject, JsonWriter>`); `(name)<...>`
// would not parse.
#define TRIBUTARY_DONE(name, note)                                                      \
  ActionInfo {                                                                       \
    #name, ActionStatus::kDone, note, &name<JsonObject, JsonWriter>, &name<CborObject, \
        CborWriter>                                                                  \
  }
#define TRIBUTARY_NOT_YET(name, step) \
  ActionInfo { #name, ActionStatus::kNotYet, step, nullptr, nullptr }
// NOLINTEND(bugprone-macro-parentheses)

const ActionInfo kActions[] = {
    TRIBUTARY_DONE(AddTagsToStream, ""),
    TRIBUTARY_DONE(CreateStream, ""),
    TRIBUTARY_DONE(DecreaseStreamRetentionPeriod, ""),
    TRIBUTARY_DONE(DeleteResourcePolicy, ""),
    TRIBUTARY_DONE(DeleteStream, ""),
    TRIBUTARY_DONE(DeregisterStreamConsumer, ""),
    TRIBUTARY_DONE(DescribeAccountSettings, "kept in memory, not in the catalog"),
    TRIBUTARY_DONE(DescribeLimits, ""),
    TRIBUTARY_DONE(DescribeStream, ""),
    TRIBUTARY_DONE(DescribeStreamConsumer, ""),
    TRIBUTARY_DONE(DescribeStreamSummary, ""),
    TRIBUTARY_DONE(DisableEnhancedMonitoring, ""),
    TRIBUTARY_DONE(EnableEnhancedMonitoring, ""),
    TRIBUTARY_DONE(GetRecords, ""),
    TRIBUTARY_DONE(GetResourcePolicy, ""),
    TRIBUTARY_DONE(GetShardIterator, ""),
    TRIBUTARY_DONE(IncreaseStreamRetentionPeriod, ""),
    TRIBUTARY_DONE(ListShards, ""),
    TRIBUTARY_DONE(ListStreamConsumers, ""),
    TRIBUTARY_DONE(ListStreams, ""),
    TRIBUTARY_DONE(ListTagsForResource, "Store::ListTagsForResource (stream or consumer ARN)"),
    TRIBUTARY_DONE(ListTagsForStream, ""),
    TRIBUTARY_DONE(MergeShards, ""),
    TRIBUTARY_DONE(PutRecord, "Store::Put"),
    TRIBUTARY_DONE(PutRecords, "Store::PutBatch"),
    TRIBUTARY_DONE(PutResourcePolicy, ""),
    TRIBUTARY_DONE(RegisterStreamConsumer, ""),
    TRIBUTARY_DONE(RemoveTagsFromStream, ""),
    TRIBUTARY_DONE(SplitShard, ""),
    TRIBUTARY_DONE(StartStreamEncryption, ""),
    TRIBUTARY_DONE(StopStreamEncryption, ""),
    ActionInfo{"SubscribeToShard", ActionStatus::kDone,
               "Store::SubscribeToShard, as an event stream over HTTP/1.1 (chunked)", nullptr,
               nullptr, &SubscribeToShardStream<JsonObject, JsonWriter>,
               &SubscribeToShardStream<CborObject, CborWriter>},
    TRIBUTARY_DONE(TagResource, "Store::TagResource (stream or consumer ARN)"),
    TRIBUTARY_DONE(UntagResource, "Store::UntagResource (stream or consumer ARN)"),
    TRIBUTARY_DONE(UpdateAccountSettings, "kept in memory, not in the catalog"),
    TRIBUTARY_DONE(UpdateMaxRecordSize, ""),
    TRIBUTARY_DONE(UpdateShardCount, ""),
    TRIBUTARY_DONE(UpdateStreamMode, ""),
    TRIBUTARY_DONE(UpdateStreamWarmThroughput, ""),
};

#undef TRIBUTARY_DONE
#undef TRIBUTARY_NOT_YET

}  // namespace

absl::Span<const ActionInfo> KinesisActions() { return kActions; }

const ActionInfo* FindAction(std::string_view name) {
  const ActionInfo* end = std::end(kActions);
  const ActionInfo* it = std::lower_bound(
      std::begin(kActions), end, name,
      [](const ActionInfo& a, std::string_view n) { return a.name < n; });
  return it != end && it->name == name ? it : nullptr;
}

}  // namespace tributary::endpoint
