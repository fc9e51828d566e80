#include "stream/store_impl.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/status_macros.h"

namespace tributary::stream {
namespace {

absl::Status ValidateStreamName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= limits::kMaxStreamNameLength;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return ValidationError(fmt::format(
        "Stream name '{}' must be 1..{} characters of [a-zA-Z0-9_.-]", name.substr(0, 140),
        limits::kMaxStreamNameLength));
  }
  return absl::OkStatus();
}

}  // namespace

StoreImpl::StoreImpl(const StoreOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      pool_(options.memory_pool_bytes) {}

std::string StoreImpl::Arn(std::string_view name) const {
  return fmt::format("arn:aws:kinesis:{}:{}:stream/{}", options_.region, options_.account_id, name);
}

absl::StatusOr<std::string_view> StoreImpl::ResolveName(std::string_view stream) const {
  if (stream.substr(0, 4) == "arn:") {
    // arn:<partition>:kinesis:<region>:<account>:stream/<name>
    std::vector<std::string_view> parts;
    size_t pos = 0;
    for (int i = 0; i < 5; ++i) {
      size_t c = stream.find(':', pos);
      if (c == std::string_view::npos) break;
      parts.push_back(stream.substr(pos, c - pos));
      pos = c + 1;
    }
    std::string_view resource = stream.substr(std::min(pos, stream.size()));
    if (parts.size() != 5 || parts[2] != "kinesis" || resource.substr(0, 7) != "stream/") {
      return ValidationError(fmt::format("StreamARN '{}' is not a Kinesis stream ARN "
                                         "(arn:aws:kinesis:<region>:<account>:stream/<name>)",
                                         stream.substr(0, 256)));
    }
    std::string_view name = resource.substr(7);
    TRIBUTARY_RETURN_IF_ERROR(ValidateStreamName(name));
    if (parts[3] != options_.region || parts[4] != options_.account_id) {
      return ResourceNotFoundError(fmt::format(
          "Stream {} not found: the ARN names region {} account {}, this store is region {} "
          "account {}",
          name, parts[3], parts[4], options_.region, options_.account_id));
    }
    return name;
  }
  TRIBUTARY_RETURN_IF_ERROR(ValidateStreamName(stream));
  return stream;
}

absl::Status StoreImpl::ReserveShards(int delta, std::string_view what) {
  int cur = open_shards_.load(std::memory_order_relaxed);
  do {
    if (cur + delta > options_.shard_limit) {
      return LimitExceededError(fmt::format(
          "{} would raise the open shards of account {} to {}, above the shard limit {}", what,
          options_.account_id, cur + delta, options_.shard_limit));
    }
  } while (!open_shards_.compare_exchange_weak(cur, cur + delta, std::memory_order_relaxed));
  return absl::OkStatus();
}

absl::Status StoreImpl::ReserveOnDemand(std::string_view stream) {
  int cur = on_demand_streams_.load(std::memory_order_relaxed);
  do {
    if (cur + 1 > options_.on_demand_stream_count_limit) {
      return LimitExceededError(fmt::format(
          "Stream {}: account {} already has {} ON_DEMAND streams (limit {})", stream,
          options_.account_id, cur, options_.on_demand_stream_count_limit));
    }
  } while (!on_demand_streams_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed));
  return absl::OkStatus();
}

StreamImpl* StoreImpl::FindLocked(std::string_view name, absl::Time now) const {
  auto it = streams_.find(absl::string_view(name.data(), name.size()));
  if (it == streams_.end() || it->second->GoneAt(now)) return nullptr;
  return it->second.get();
}

void StoreImpl::ReapLocked(absl::Time now) {
  absl::erase_if(streams_, [now](const auto& kv) { return kv.second->GoneAt(now); });
}

absl::Status StoreImpl::CreateStream(std::string_view name, const CreateStreamOptions& o) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateStreamName(name));
  int shard_count = 0;
  if (o.mode == StreamMode::kProvisioned) {
    if (!o.shard_count.has_value()) {
      return ValidationError("ShardCount is required for a PROVISIONED stream");
    }
    shard_count = *o.shard_count;
  } else {
    shard_count = o.shard_count.value_or(limits::kOnDemandShardCount);
  }
  if (shard_count < 1 || shard_count > limits::kMaxShardsPerStream) {
    return ValidationError(fmt::format("ShardCount {} is outside [1, {}]", shard_count,
                                       limits::kMaxShardsPerStream));
  }
  if (o.max_record_size_kib < 1024 || o.max_record_size_kib > 10240) {
    return ValidationError(fmt::format("MaxRecordSizeInKiB {} is outside [1024, 10240]",
                                       o.max_record_size_kib));
  }
  if (o.tags.size() > limits::kMaxTagsPerStream) {
    return InvalidArgumentError(fmt::format("A stream can have at most {} tags, got {}",
                                            limits::kMaxTagsPerStream, o.tags.size()));
  }
  TRIBUTARY_RETURN_IF_ERROR(ValidateTags(o.tags));
  absl::Time now = Now();
  util::WriterLock l(&mu_);
  ReapLocked(now);
  std::string key(name);
  if (streams_.contains(key)) {
    return AlreadyExistsError(fmt::format("Stream {} under account {} already exists.", name,
                                          options_.account_id));
  }
  if (o.mode == StreamMode::kOnDemand) TRIBUTARY_RETURN_IF_ERROR(ReserveOnDemand(name));
  if (absl::Status st = ReserveShards(shard_count, fmt::format("CreateStream {}", name)); !st.ok()) {
    if (o.mode == StreamMode::kOnDemand) ReleaseOnDemand();
    return st;
  }
  streams_[key] = std::make_unique<StreamImpl>(this, key, next_incarnation_++, now,
                                               now + options_.create_delay, o, shard_count);
  return absl::OkStatus();
}

absl::Status StoreImpl::DeleteStream(std::string_view stream) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view name_view, ResolveName(stream));
  std::string name(name_view);
  absl::Time now = Now();
  util::WriterLock l(&mu_);
  ReapLocked(now);
  auto it = streams_.find(name);
  if (it == streams_.end()) {
    return ResourceNotFoundError(fmt::format("Stream {} under account {} not found.", name,
                                             options_.account_id));
  }
  if (it->second->deleting()) {
    return ResourceInUseError(fmt::format("Stream {} under account {} is already DELETING.", name,
                                          options_.account_id));
  }
  if (options_.delete_delay <= absl::ZeroDuration()) {
    streams_.erase(it);
    return absl::OkStatus();
  }
  it->second->MarkDeleting(now, now + options_.delete_delay);
  return absl::OkStatus();
}

absl::StatusOr<ListStreamsResult> StoreImpl::ListStreams(const ListStreamsRequest& req) {
  if (req.limit < 1 || req.limit > limits::kMaxListLimit) {
    return ValidationError(fmt::format("Limit {} is outside [1, {}]", req.limit, limits::kMaxListLimit));
  }
  absl::Time now = Now();
  std::string after;
  if (req.next_token.has_value()) {
    if (req.exclusive_start_stream_name.has_value()) {
      return InvalidArgumentError("NextToken and ExclusiveStartStreamName cannot be provided together.");
    }
    TRIBUTARY_ASSIGN_OR_RETURN(PageToken t, DecodePageToken(*req.next_token, 'L'));
    if (absl::FromUnixMillis(t.issued_ms) + limits::kNextTokenLifetime < now) {
      return ExpiredNextTokenError("The NextToken has expired (tokens live 300 seconds).");
    }
    after = t.after_name;
  } else if (req.exclusive_start_stream_name.has_value()) {
    after = *req.exclusive_start_stream_name;
  }
  std::vector<StreamImpl*> live;
  util::WriterLock l(&mu_);
  ReapLocked(now);
  for (const auto& [n, s] : streams_) {
    if (n > after) live.push_back(s.get());
  }
  std::sort(live.begin(), live.end(),
            [](StreamImpl* a, StreamImpl* b) { return a->name() < b->name(); });
  ListStreamsResult r;
  for (StreamImpl* s : live) {
    if (static_cast<int>(r.stream_names.size()) == req.limit) {
      r.has_more_streams = true;
      PageToken t;
      t.kind = 'L';
      t.issued_ms = absl::ToUnixMillis(now);
      t.after_name = r.stream_names.back();
      r.next_token = EncodePageToken(t);
      break;
    }
    r.stream_names.push_back(s->name());
    r.stream_summaries.push_back(s->Summary(now));
  }
  return r;
}

absl::StatusOr<DescribeLimitsResult> StoreImpl::DescribeLimits() {
  absl::Time now = Now();
  util::ReaderLock l(&mu_);
  DescribeLimitsResult r;
  r.shard_limit = options_.shard_limit;
  r.on_demand_stream_count_limit = options_.on_demand_stream_count_limit;
  for (const auto& [n, s] : streams_) {
    if (s->GoneAt(now)) continue;
    r.open_shard_count += s->OpenShardCount();
  }
  r.on_demand_stream_count = on_demand_streams();
  return r;
}

}  // namespace tributary::stream
