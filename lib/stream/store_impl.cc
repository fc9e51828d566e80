#include "stream/store_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
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

absl::Status ValidateConsumerName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= limits::kMaxConsumerNameLength;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return ValidationError(fmt::format(
        "Consumer name '{}' must be 1..{} characters of [a-zA-Z0-9_.-]", name.substr(0, 140),
        limits::kMaxConsumerNameLength));
  }
  return absl::OkStatus();
}

StoreImpl::StoreImpl(const StoreOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      env_(options.env != nullptr ? options.env : DefaultEnv()),
      pool_(options.memory_pool_bytes) {}

StoreImpl::~StoreImpl() {
  // A clean shutdown writes the last recovery point (while every log is
  // still there to capture); then the streams go (their logs close files),
  // then the lock is released.
  if (log_store_ != nullptr) log_store_->Close();
  util::WriterLock l(&mu_);
  streams_.clear();
}

std::shared_ptr<void> StoreImpl::GetOrCreateAttachment(
    std::string_view key, const std::function<std::shared_ptr<void>()>& make) {
  util::MutexLock l(&attachments_mu_);
  auto it = attachments_.find(key);
  if (it != attachments_.end()) return it->second;
  std::shared_ptr<void> made = make();
  if (made != nullptr) attachments_.emplace(std::string(key), made);
  return made;
}

namespace {

// A log that could not be created: every call fails with the cause.
class FailedLog final : public log::ShardLog {
 public:
  explicit FailedLog(absl::Status s) : s_(std::move(s)) {}
  absl::Status Append(absl::Span<const log::AppendRecord>) override { return s_; }
  absl::StatusOr<uint64_t> Read(uint64_t, int64_t, log::ReadLimits, uint32_t,
                                std::vector<Record>*) const override {
    return s_;
  }
  absl::StatusOr<std::optional<Position>> FirstAtOrAfter(uint64_t, int64_t) const override {
    return s_;
  }
  absl::StatusOr<std::optional<uint64_t>> SeekTimestamp(int64_t) const override { return s_; }
  uint64_t CountAtOrAfter(uint64_t, int64_t) const override { return 0; }
  void TrimBefore(int64_t) override {}
  std::optional<int64_t> newest_arrival_ms() const override { return std::nullopt; }
  std::optional<int64_t> oldest_arrival_ms() const override { return std::nullopt; }
  uint64_t record_count() const override { return 0; }
  uint64_t byte_count() const override { return 0; }

 private:
  absl::Status s_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StoreImpl>> StoreImpl::OpenDurable(const std::string& dir,
                                                                  const StoreOptions& options) {
  if (dir.empty()) return ValidationError("Store::Open needs a directory");
  std::unique_ptr<StoreImpl> s(new StoreImpl(options));
  s->dir_ = dir;
  while (s->dir_.size() > 1 && s->dir_.back() == '/') s->dir_.pop_back();
  TRIBUTARY_RETURN_IF_ERROR(s->env_->CreateDirs(s->dir_ + "/streams"));
  TRIBUTARY_ASSIGN_OR_RETURN(s->lock_, s->env_->LockFile(s->dir_ + "/LOCK"));
  TRIBUTARY_ASSIGN_OR_RETURN(s->catalog_, Catalog::Open(s->env_, s->dir_));
  log::LogStore::Options lo;
  lo.env = s->env_;
  lo.dir = s->dir_;
  lo.max_open_files = options.max_open_files;
  lo.checkpoint_wal_bytes = options.checkpoint_wal_bytes;
  lo.checkpoint_interval_ms = absl::ToInt64Milliseconds(options.checkpoint_interval);
  lo.verify_on_open = options.verify_on_open;
  TRIBUTARY_ASSIGN_OR_RETURN(s->log_store_, log::LogStore::Open(lo, &s->recovery_));
  TRIBUTARY_RETURN_IF_ERROR(s->LoadCatalog());
  // What was written after the last recovery point (a crash) goes back into
  // the shard logs before anything else happens.
  TRIBUTARY_RETURN_IF_ERROR(s->log_store_->Recover(&s->recovery_));
  {
    util::ReaderLock l(&s->mu_);
    for (auto& [name, st] : s->streams_) st->AfterRecovery();
  }
  StoreImpl* raw = s.get();
  s->log_store_->set_on_failure([raw](const absl::Status& cause) { raw->MarkUnhealthy(cause); });
  return s;
}

absl::Status StoreImpl::LoadCatalog() {
  util::WriterLock l(&mu_);
  next_incarnation_ = catalog_->loaded_next_incarnation();
  std::set<std::string> live_dirs;
  for (const auto& [name, blob] : catalog_->loaded()) {
    // The name becomes a directory name: one that could not have been
    // created (a '/' or "..", say) means damage, and must not reach the
    // file system.
    if (!ValidateStreamName(name).ok()) {
      return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                       fmt::format("catalog {}/CATALOG names a stream '{}' that is not a valid "
                                   "stream name; the store will not open over it",
                                   dir_, absl::CHexEscape(name.substr(0, 140))));
    }
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<StreamImpl> st, StreamImpl::Restore(this, name, blob));
    next_incarnation_ = std::max(next_incarnation_, st->incarnation() + 1);
    live_dirs.insert(fmt::format("{}.{}", name, st->incarnation()));
    // What the stream holds against the account limits, including reshards
    // accepted but not yet applied (the stream releases the same amounts).
    open_shards_.fetch_add(st->AccountedShards(), std::memory_order_relaxed);
    if (st->AccountedOnDemand()) on_demand_streams_.fetch_add(1, std::memory_order_relaxed);
    streams_[name] = std::move(st);
  }
  next_incarnation_hint_.store(next_incarnation_, std::memory_order_relaxed);
  catalog_->ReleaseLoaded();
  // Directories of streams the catalog does not know were deleted (or never
  // committed) before a crash: remove them.
  absl::StatusOr<std::vector<std::string>> names = env_->GetChildren(dir_ + "/streams");
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (live_dirs.count(n)) continue;
      std::string d = dir_ + "/streams/" + n;
      absl::StatusOr<std::vector<std::string>> shards = env_->GetChildren(d);
      if (shards.ok()) {
        for (const std::string& sh : *shards) {
          absl::StatusOr<std::vector<std::string>> files = env_->GetChildren(d + "/" + sh);
          if (files.ok()) {
            for (const std::string& f : *files) IgnoreError(env_->RemoveFile(d + "/" + sh + "/" + f));
          }
          IgnoreError(env_->RemoveDir(d + "/" + sh));
        }
      }
      IgnoreError(env_->RemoveDir(d));
      recovery_.problems.push_back("removed files of a stream not in the catalog: " + n);
    }
  }
  return absl::OkStatus();
}

std::string StoreImpl::StreamDir(const std::string& name, uint64_t incarnation) const {
  return fmt::format("{}/streams/{}.{}", dir_, name, incarnation);
}

absl::StatusOr<std::unique_ptr<log::ShardLog>> StoreImpl::OpenLog(const std::string& stream,
                                                                  uint64_t incarnation,
                                                                  uint32_t shard_index,
                                                                  uint64_t start_counter,
                                                                  uint64_t min_next_counter,
                                                                  bool create) {
  if (!durable()) return std::unique_ptr<log::ShardLog>(new log::MemShardLog(&pool_));
  log::DiskShardLog::Options o;
  o.env = env_;
  o.dir = fmt::format("{}/{}", StreamDir(stream, incarnation), shard_index);
  o.shard_index = shard_index;
  o.store = log_store_.get();
  o.incarnation = incarnation;
  o.create = create;
  o.start_counter = start_counter;
  o.min_next_counter = min_next_counter;
  o.segment_bytes = options_.segment_bytes;
  o.segment_max_age_ms = absl::ToInt64Milliseconds(options_.segment_max_age);
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<log::DiskShardLog> d, log::DiskShardLog::Open(o, &recovery_));
  return std::unique_ptr<log::ShardLog>(std::move(d));
}

std::unique_ptr<log::ShardLog> StoreImpl::NewLog(const std::string& stream, uint64_t incarnation,
                                                 uint32_t shard_index, uint64_t start_counter) {
  // A new shard's directory can only hold files of a reshard that never
  // committed (the catalog did not record the shard before a crash or a
  // failed catalog write), so nothing in it was acknowledged. The log
  // creates its directory with its first record and empties it then.
  absl::StatusOr<std::unique_ptr<log::ShardLog>> l =
      OpenLog(stream, incarnation, shard_index, start_counter, 0, /*create=*/true);
  if (l.ok()) return std::move(*l);
  MarkUnhealthy(l.status());
  return std::make_unique<FailedLog>(l.status());
}

absl::Status StoreImpl::PersistStream(const std::string& name,
                                      const std::function<std::string()>& make_blob) {
  if (!durable()) return absl::OkStatus();
  uint64_t next;
  {
    // next_incarnation_ is read without mu_ when called from a stream that
    // CreateStream is still constructing; it only grows, so a stale value is
    // merely conservative.
    next = next_incarnation_hint_.load(std::memory_order_relaxed);
  }
  absl::Status s = catalog_->Update(name, next, make_blob);
  if (!s.ok()) MarkUnhealthy(s);
  return s;
}

void StoreImpl::RemoveStreamDir(const std::string& name, uint64_t incarnation) {
  if (!durable()) return;
  std::string d = StreamDir(name, incarnation);
  IgnoreError(env_->RemoveDir(d));
}

void StoreImpl::MarkUnhealthy(const absl::Status& cause) {
  util::MutexLock l(&failure_mu_);
  if (failure_.ok()) failure_ = cause;
  healthy_.store(false, std::memory_order_release);
}

absl::Status StoreImpl::Failure() const {
  util::MutexLock l(&failure_mu_);
  return MakeError(absl::StatusCode::kUnavailable, ErrorType::kInternalFailure,
                   fmt::format("the store stopped accepting writes after a storage failure ({}); "
                               "reopen it to recover",
                               std::string(failure_.message())));
}

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
      // Kinesis' message (observed); `what` is not part of it.
      (void)what;
      return LimitExceededError(fmt::format(
          "This request would exceed the shard limit for the account {} in {}. Current shard count for the "
          "account: {}. Limit: {}. Number of additional shards that would have resulted from this request: {}. "
          "Refer to the AWS Service Limits page "
          "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how "
          "to request higher limits.",
          options_.account_id, options_.region, cur, options_.shard_limit, delta));
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
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second->GoneAt(now)) {
      it->second->DestroyStorage();
      streams_.erase(it++);
    } else {
      ++it;
    }
  }
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
  if (shard_count < 1) {
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
  // The account's limit first: that is what Kinesis answers for a count
  // beyond both (observed).
  if (absl::Status st = ReserveShards(shard_count, fmt::format("CreateStream {}", name)); !st.ok()) {
    if (o.mode == StreamMode::kOnDemand) ReleaseOnDemand();
    return st;
  }
  if (shard_count > limits::kMaxShardsPerStream) {
    ReleaseShards(shard_count);
    if (o.mode == StreamMode::kOnDemand) ReleaseOnDemand();
    return ValidationError(fmt::format("ShardCount {} is outside [1, {}]", shard_count,
                                       limits::kMaxShardsPerStream));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckHealthy());
  next_incarnation_hint_.store(next_incarnation_ + 1, std::memory_order_relaxed);
  auto stream = std::make_unique<StreamImpl>(this, key, next_incarnation_++, now,
                                             now + options_.create_delay, o, shard_count);
  // A shard log that could not be created fails the call; the store stays
  // healthy. The catalog write is the commit point of CreateStream.
  absl::Status init = stream->init_status();
  if (!init.ok()) {
    stream->DestroyStorage();
    return init;
  }
  if (absl::Status st = stream->Persist(); !st.ok()) {
    stream->DestroyStorage();
    return st;
  }
  streams_[key] = std::move(stream);
  return absl::OkStatus();
}

absl::Status StoreImpl::DeleteStream(std::string_view stream, bool enforce_consumer_deletion) {
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
  if (!enforce_consumer_deletion) {
    if (int n = it->second->ConsumerCount(now); n > 0) {
      return ResourceInUseError(fmt::format(
          "Stream {} under account {} has {} registered consumer(s); deregister them or set "
          "EnforceConsumerDeletion.",
          name, options_.account_id, n));
    }
  }
  // Removing the stream from the catalog is the commit point; its files go
  // when the deletion finishes (or at the next open, if the process dies).
  if (durable()) TRIBUTARY_RETURN_IF_ERROR(catalog_->Remove(name));
  if (options_.delete_delay <= absl::ZeroDuration()) {
    it->second->DestroyStorage();
    streams_.erase(it);
    return absl::OkStatus();
  }
  it->second->MarkDeleting(now, now + options_.delete_delay);
  return absl::OkStatus();
}

absl::Status StoreImpl::DeleteAllStreams() {
  {
    util::WriterLock l(&mu_);
    // The catalog first (its write is the commit point, as for DeleteStream;
    // DELETING streams are already out of it), then the files.
    while (!streams_.empty()) {
      auto it = streams_.begin();
      if (durable() && !it->second->deleting()) TRIBUTARY_RETURN_IF_ERROR(catalog_->Remove(it->first));
      it->second->DestroyStorage();
      streams_.erase(it);
    }
  }
  util::MutexLock l(&account_mu_);
  account_ = AccountSettings{};
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

absl::StatusOr<ConsumerDescription> StoreImpl::RegisterConsumer(
    std::string_view stream, std::string_view consumer, const std::map<std::string, std::string>& tags) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view name, ResolveName(stream));
  absl::Time now = Now();
  util::WriterLock l(&mu_);
  ReapLocked(now);
  StreamImpl* s = FindLocked(name, now);
  if (s == nullptr) {
    return ResourceNotFoundError(fmt::format("Stream {} under account {} not found.", name,
                                             options_.account_id));
  }
  int creating = 0;
  for (const auto& [n, st] : streams_) creating += st->CreatingConsumers(now);
  if (creating >= limits::kMaxCreatingConsumers) {
    return LimitExceededError(fmt::format(
        "Account {} already has {} consumers in CREATING status (at most {} at a time).",
        options_.account_id, creating, limits::kMaxCreatingConsumers));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckHealthy());
  return s->RegisterConsumer(consumer, tags, now);
}

absl::StatusOr<std::pair<std::string, ConsumerKey>> StoreImpl::ParseConsumerArn(std::string_view arn) {
  auto bad = [&] {
    return ValidationError(fmt::format(
        "ConsumerARN '{}' is not a Kinesis consumer ARN "
        "(arn:aws:kinesis:<region>:<account>:stream/<name>/consumer/<consumer>:<timestamp>)",
        arn.substr(0, 256)));
  };
  if (arn.size() > 2048 || arn.substr(0, 4) != "arn:") return bad();
  size_t c = arn.find("/consumer/");
  if (c == std::string_view::npos) return bad();
  std::string_view rest = arn.substr(c + 10);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return bad();
  std::string_view ts = rest.substr(colon + 1);
  if (ts.size() > 18) return bad();
  int64_t secs = 0;
  for (char ch : ts) {
    if (ch < '0' || ch > '9') return bad();
    secs = secs * 10 + (ch - '0');
  }
  ConsumerKey key;
  key.name = std::string(rest.substr(0, colon));
  key.created_s = secs;
  TRIBUTARY_RETURN_IF_ERROR(ValidateConsumerName(key.name));
  return std::make_pair(std::string(arn.substr(0, c)), std::move(key));
}

AccountSettings StoreImpl::GetAccountSettings(absl::Time now) {
  util::MutexLock l(&account_mu_);
  if (account_.minimum_throughput_billing_commitment == CommitmentStatus::kEnabledUntilEarliestAllowedEnd &&
      account_.ended_at && now >= *account_.ended_at) {
    account_.minimum_throughput_billing_commitment = CommitmentStatus::kDisabled;
  }
  return account_;
}

AccountSettings StoreImpl::SetCommitment(bool enable, absl::Time now) {
  util::MutexLock l(&account_mu_);
  AccountSettings& a = account_;
  if (a.minimum_throughput_billing_commitment == CommitmentStatus::kEnabledUntilEarliestAllowedEnd &&
      a.ended_at && now >= *a.ended_at) {
    a.minimum_throughput_billing_commitment = CommitmentStatus::kDisabled;
  }
  if (enable) {
    if (a.minimum_throughput_billing_commitment == CommitmentStatus::kDisabled) {
      a.started_at = now;
      a.earliest_allowed_end_at = now + limits::kMinimumCommitmentPeriod;
    }
    a.minimum_throughput_billing_commitment = CommitmentStatus::kEnabled;
    a.ended_at.reset();
  } else if (a.minimum_throughput_billing_commitment == CommitmentStatus::kEnabled) {
    if (a.earliest_allowed_end_at && now < *a.earliest_allowed_end_at) {
      a.minimum_throughput_billing_commitment = CommitmentStatus::kEnabledUntilEarliestAllowedEnd;
      a.ended_at = *a.earliest_allowed_end_at;
    } else {
      a.minimum_throughput_billing_commitment = CommitmentStatus::kDisabled;
      a.ended_at = now;
    }
  }
  return a;
}

}  // namespace tributary::stream
