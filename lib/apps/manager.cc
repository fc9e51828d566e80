#include "apps/manager.h"

#include <fmt/format.h>
#include <pthread.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <tuple>

#include "apps/errors.h"
#include "apps/consumer_source.h"
#include "util/status_macros.h"

namespace tributary::apps {
namespace {

constexpr size_t kRecentRestarts = 20;

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// [a-zA-Z0-9_.-]{1,max}; "." and ".." are refused because names become path
// components.
absl::Status ValidateName(std::string_view name, size_t max, std::string_view what) {
  if (name.empty() || name.size() > max || !std::all_of(name.begin(), name.end(), NameChar) ||
      name == "." || name == "..") {
    return ValidationError(fmt::format("{} '{}' must be 1..{} characters of [a-zA-Z0-9_.-]", what,
                                       name.substr(0, 300), max));
  }
  return absl::OkStatus();
}

absl::Status Invalid(std::string_view m) { return InvalidArgumentError(m); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The faults on purpose a configuration asks for (property group
// "tributary.faults"); InvalidArgumentException for a malformed group.
absl::StatusOr<JobFault> ConfigFault(const ApplicationConfiguration& c) {
  auto group = c.property_groups.find(std::string(kFaultsPropertyGroup));
  if (group == c.property_groups.end()) return JobFault::kNone;
  bool fail = false, hang = false;
  for (const auto& [key, value] : group->second) {
    bool* flag = key == kFailOnStartKey ? &fail : key == kHangOnStartKey ? &hang : nullptr;
    if (flag == nullptr) {
      return Invalid(fmt::format("property group {} has no key '{}'; its keys are {} and {}",
                                 kFaultsPropertyGroup, key.substr(0, 100), kFailOnStartKey,
                                 kHangOnStartKey));
    }
    if (EqualsIgnoreCase(value, "true")) {
      *flag = true;
    } else if (!EqualsIgnoreCase(value, "false")) {
      return Invalid(fmt::format("property {}.{} must be 'true' or 'false', not '{}'",
                                 kFaultsPropertyGroup, key, value.substr(0, 100)));
    }
  }
  if (fail && hang) {
    return Invalid(fmt::format("property group {}: set at most one of {} and {}",
                               kFaultsPropertyGroup, kFailOnStartKey, kHangOnStartKey));
  }
  return fail ? JobFault::kFail : hang ? JobFault::kHang : JobFault::kNone;
}

// The stream a configuration reads: input_stream, else InputStream0's stream.name.
std::string EffectiveInput(const ApplicationConfiguration& c) {
  if (!c.input_stream.empty()) return c.input_stream;
  auto group = c.property_groups.find(std::string(kInputPropertyGroup));
  if (group == c.property_groups.end()) return "";
  auto it = group->second.find(std::string(kStreamNameKey));
  return it == group->second.end() ? "" : it->second;
}

absl::Status RequireInput(const ApplicationConfiguration& c, std::string_view app,
                          std::string_view action) {
  if (!EffectiveInput(c).empty()) return absl::OkStatus();
  return InvalidApplicationConfigurationError(fmt::format(
      "application {} has no input stream, so {} cannot run it: set property group {} key {} "
      "(or ApplicationConfiguration::input_stream)",
      app, action, kInputPropertyGroup, kStreamNameKey));
}

bool OneOf(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

absl::Status ValidateConfig(const ApplicationConfiguration& c) {
  if (c.processor_name.empty() || c.processor_name.size() > 128) {
    return Invalid("processor_name must be 1..128 characters");
  }
  if (c.code_version.empty() || c.code_version.size() > 128) {
    return Invalid("code_version must be 1..128 characters");
  }
  if (c.runtime_environment.empty() ||
      c.runtime_environment.size() > limits::kMaxRuntimeEnvironmentLength) {
    return Invalid(fmt::format("runtime_environment must be 1..{} characters",
                               limits::kMaxRuntimeEnvironmentLength));
  }
  if (c.parallelism < 1 || c.parallelism > limits::kMaxParallelism) {
    return Invalid(fmt::format("parallelism {} is outside 1..{}", c.parallelism,
                               limits::kMaxParallelism));
  }
  if (c.max_batch_records < 1 || c.max_batch_records > limits::kMaxBatchRecords) {
    return Invalid(fmt::format("max_batch_records {} is outside 1..{}", c.max_batch_records,
                               limits::kMaxBatchRecords));
  }
  for (const auto& [k, v] : c.properties) {
    if (k.empty()) return Invalid("property keys must not be empty");
  }
  for (const auto& [group, props] : c.property_groups) {
    if (group.empty()) return Invalid("property group ids must not be empty");
    for (const auto& [k, v] : props) {
      if (k.empty()) return Invalid(fmt::format("property group {}: keys must not be empty", group));
    }
  }
  TRIBUTARY_RETURN_IF_ERROR(ConfigFault(c).status());
  if (c.description.size() > limits::kMaxDescriptionLength) {
    return Invalid(fmt::format("the description has {} characters, more than {}",
                               c.description.size(), limits::kMaxDescriptionLength));
  }
  if (c.parallelism_per_kpu < 1) {
    return Invalid(fmt::format("parallelism_per_kpu {} is below 1", c.parallelism_per_kpu));
  }
  if (c.checkpoints.min_pause < absl::ZeroDuration()) {
    return Invalid("checkpoints.min_pause must not be negative");
  }
  if (!OneOf(c.monitoring.metrics_level, {"APPLICATION", "TASK", "OPERATOR", "PARALLELISM"})) {
    return Invalid(fmt::format("MetricsLevel '{}' is not APPLICATION, TASK, OPERATOR or PARALLELISM",
                               c.monitoring.metrics_level.substr(0, 64)));
  }
  if (!OneOf(c.monitoring.log_level, {"INFO", "WARN", "ERROR", "DEBUG"})) {
    return Invalid(fmt::format("LogLevel '{}' is not INFO, WARN, ERROR or DEBUG",
                               c.monitoring.log_level.substr(0, 64)));
  }
  if (c.encryption && !OneOf(c.encryption->key_type, {"AWS_OWNED_KEY", "CUSTOMER_MANAGED_KEY"})) {
    return Invalid(fmt::format("KeyType '{}' is not AWS_OWNED_KEY or CUSTOMER_MANAGED_KEY",
                               c.encryption->key_type.substr(0, 64)));
  }
  std::set<std::string> ids;
  for (const CloudWatchLoggingOption& o : c.cloudwatch_logging_options) {
    if (o.id.empty() || o.log_stream_arn.empty() || !ids.insert(o.id).second) {
      return Invalid("CloudWatch logging options need a unique id and a log stream ARN");
    }
  }
  ids.clear();
  for (const VpcConfiguration& v : c.vpc_configurations) {
    if (v.id.empty() || v.subnet_ids.empty() || v.security_group_ids.empty() ||
        !ids.insert(v.id).second) {
      return Invalid("VPC configurations need a unique id, subnets and security groups");
    }
  }
  if (c.checkpoints.interval < absl::ZeroDuration()) {
    return Invalid("checkpoints.interval must not be negative");
  }
  const RestartStrategy& r = c.restart_strategy;
  if (r.delay < absl::ZeroDuration()) return Invalid("restart_strategy.delay must not be negative");
  if (r.type == RestartStrategyType::kFixedDelay && r.max_attempts && *r.max_attempts < 1) {
    return Invalid("restart_strategy.max_attempts must be at least 1 (unset: unlimited)");
  }
  if (r.type == RestartStrategyType::kFailureRate &&
      (r.max_failures < 1 || r.failure_interval <= absl::ZeroDuration())) {
    return Invalid("a FAILURE_RATE restart strategy needs max_failures >= 1 and failure_interval > 0");
  }
  const AutoscalingConfiguration& a = c.autoscaling;
  if (a.enabled) {
    if (a.min_parallelism < 1 || a.min_parallelism > a.max_parallelism ||
        a.max_parallelism > limits::kMaxParallelism) {
      return Invalid(fmt::format("autoscaling needs 1 <= min_parallelism ({}) <= max_parallelism ({}) <= {}",
                                 a.min_parallelism, a.max_parallelism, limits::kMaxParallelism));
    }
    if (c.parallelism < a.min_parallelism || c.parallelism > a.max_parallelism) {
      return Invalid(fmt::format("parallelism {} is outside the autoscaling bounds {}..{}",
                                 c.parallelism, a.min_parallelism, a.max_parallelism));
    }
    if (a.scale_down_millis_behind < 0 || a.scale_up_millis_behind < a.scale_down_millis_behind) {
      return Invalid("autoscaling needs 0 <= scale_down_millis_behind <= scale_up_millis_behind");
    }
    if (a.scale_up_after < absl::ZeroDuration() || a.scale_down_after < absl::ZeroDuration()) {
      return Invalid("autoscaling periods must not be negative");
    }
  }
  const RestartLoopRollback& l = c.restart_loop_rollback;
  if (l.enabled && (l.max_restarts < 1 || l.within <= absl::ZeroDuration())) {
    return Invalid("restart_loop_rollback needs max_restarts >= 1 and within > 0");
  }
  return absl::OkStatus();
}

bool Transient(ApplicationStatus s) {
  return s == ApplicationStatus::kStarting || s == ApplicationStatus::kUpdating ||
         s == ApplicationStatus::kAutoscaling || s == ApplicationStatus::kRollingBack;
}

absl::Status WrongStatus(const AppState& a, std::string_view action, std::string_view allowed) {
  return ResourceInUseError(fmt::format("Application {} is {}; {} is allowed only when it is {}",
                                        a.name, ToString(a.status), action, allowed));
}

absl::Status StaleVersion(const AppState& a, int64_t given) {
  return ConcurrentModificationError(fmt::format(
      "CurrentApplicationVersionId {} does not match the current version {} of application {}; "
      "describe the application and retry",
      given, a.version_id, a.name));
}

// ConditionalToken: changes with every version (and with every re-creation
// of the name), so a caller holding it has seen the current version.
std::string Token(const AppState& a) {
  const std::string key = fmt::format("{}\n{}\n{}", a.arn, a.incarnation, a.version_id);
  return fmt::format("{:016x}", XXH3_64bits(key.data(), key.size()));
}

// The caller's view of the application: a version id (0: not given) and/or
// a ConditionalToken; at least one, and each given one current.
absl::Status CheckView(const AppState& a, int64_t version, const std::optional<std::string>& token) {
  if (version == 0 && !token) {
    return InvalidArgumentError("CurrentApplicationVersionId or ConditionalToken is required");
  }
  if (version != 0 && version != a.version_id) {
    return ConcurrentModificationError(fmt::format(
        "CurrentApplicationVersionId {} does not match the current version {} of application {}; "
        "describe the application and retry",
        version, a.version_id, a.name));
  }
  if (token && *token != Token(a)) {
    return ConcurrentModificationError(fmt::format(
        "ConditionalToken '{}' is not the current one of application {} (version {}); describe "
        "the application and retry",
        token->substr(0, 64), a.name, a.version_id));
  }
  return absl::OkStatus();
}

// A timestamp a caller read back matches to the second: the AWS SDKs send
// timestamps as whole epoch seconds (botocore truncates), so a finer match
// would refuse the value DescribeApplication gave them.
bool SameSecond(absl::Time a, absl::Time b) { return absl::ToUnixSeconds(a) == absl::ToUnixSeconds(b); }

absl::Status ValidateTags(const std::map<std::string, std::string>& tags) {
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > limits::kMaxTagKeyLength) {
      return InvalidArgumentError(fmt::format("tag key '{}' must be 1..{} characters",
                                              k.substr(0, 200), limits::kMaxTagKeyLength));
    }
    if (k.rfind("aws:", 0) == 0) {
      return InvalidArgumentError(fmt::format("tag key '{}': the prefix aws: is reserved", k));
    }
    if (v.size() > limits::kMaxTagValueLength) {
      return InvalidArgumentError(fmt::format("the value of tag '{}' has more than {} characters",
                                              k, limits::kMaxTagValueLength));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTagCount(const AppState& a, size_t n) {
  if (n <= limits::kMaxTags) return absl::OkStatus();
  return MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kTooManyTags,
                   fmt::format("application {} would have {} tags; at most {} are allowed", a.name,
                               n, limits::kMaxTags));
}

// "HH:MM" (00:00 .. 23:59) in minutes, or -1.
int ParseHhMm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      !std::isdigit(static_cast<unsigned char>(s[1])) ||
      !std::isdigit(static_cast<unsigned char>(s[3])) ||
      !std::isdigit(static_cast<unsigned char>(s[4]))) {
    return -1;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  return h < 24 && m < 60 ? h * 60 + m : -1;
}

// The end of the 8-hour maintenance window that starts at `start`.
std::string WindowEnd(std::string_view start) {
  const int m = (std::max(ParseHhMm(start), 0) + 8 * 60) % (24 * 60);
  return fmt::format("{:02d}:{:02d}", m / 60, m % 60);
}

// The fault every start of the job gets, and where it comes from.
std::pair<JobFault, std::string> EffectiveFault(const AppState& a) {
  if (a.fault_override) {
    return {*a.fault_override,
            fmt::format("job fault {} (set with SetJobFault)", ToString(*a.fault_override))};
  }
  absl::StatusOr<JobFault> f = ConfigFault(a.config());  // validated when the version was made
  if (!f.ok() || *f == JobFault::kNone) return {JobFault::kNone, ""};
  return {*f, fmt::format("{} (property group {})",
                          *f == JobFault::kFail ? kFailOnStartKey : kHangOnStartKey,
                          kFaultsPropertyGroup)};
}

// ---- AppState helpers

ApplicationOperationInfoDetails* FindOperation(AppState& a, std::string_view id) {
  for (auto& o : a.operations) {
    if (o.operation_id == id) return &o;
  }
  return nullptr;
}

std::string BeginOperation(AppState& a, OperationType type, Initiator who, absl::Time now,
                           std::optional<std::string> reason,
                           std::optional<ApplicationVersionChangeDetails> change) {
  ApplicationOperationInfoDetails o;
  o.operation_id = fmt::format("op-{:06d}", a.next_operation++);
  o.operation = type;
  o.operation_status = OperationStatus::kInProgress;
  o.start_time = now;
  o.initiated_by = who;
  o.reason = std::move(reason);
  o.application_version_change_details = change;
  a.operations.push_back(o);
  a.current_operation = o.operation_id;
  // Keep the newest operations; never drop the one in progress.
  while (a.operations.size() > static_cast<size_t>(limits::kMaxOperationsKept) &&
         a.operations.front().operation_id != a.current_operation) {
    a.operations.pop_front();
  }
  return o.operation_id;
}

// A failure of the job, as a FAILED JobRestart operation of the system. At
// most limits::kMaxJobRestartOperationsKept are kept (the oldest go first).
void RecordJobRestart(AppState& a, const RestartEvent& e, std::optional<absl::Time> next_restart) {
  ApplicationOperationInfoDetails o;
  o.operation_id = fmt::format("op-{:06d}", a.next_operation++);
  o.operation = OperationType::kJobRestart;
  o.operation_status = OperationStatus::kFailed;
  o.start_time = e.time;
  o.end_time = e.time;
  o.initiated_by = Initiator::kSystem;
  o.reason = fmt::format("the job of version {} failed (attempt {} of its restart strategy)",
                         e.application_version_id, e.attempt);
  OperationFailureDetails f;
  f.error_string = e.final || !next_restart
                       ? fmt::format("{}; the restart strategy gave up", e.cause)
                       : fmt::format("{}; restarting at {}", e.cause,
                                     absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", *next_restart,
                                                      absl::UTCTimeZone()));
  o.operation_failure_details = std::move(f);
  a.operations.push_back(std::move(o));
  size_t restarts = 0;
  for (const auto& op : a.operations) restarts += op.operation == OperationType::kJobRestart;
  for (auto it = a.operations.begin();
       restarts > static_cast<size_t>(limits::kMaxJobRestartOperationsKept) && it != a.operations.end();) {
    if (it->operation == OperationType::kJobRestart) {
      it = a.operations.erase(it);
      --restarts;
    } else {
      ++it;
    }
  }
  while (a.operations.size() > static_cast<size_t>(limits::kMaxOperationsKept) &&
         a.operations.front().operation_id != a.current_operation) {
    a.operations.pop_front();
  }
}

void EndOperation(AppState& a, const std::string& id, OperationStatus status, absl::Time now,
                  std::optional<OperationFailureDetails> failure = std::nullopt) {
  if (ApplicationOperationInfoDetails* o = FindOperation(a, id)) {
    o->operation_status = status;
    o->end_time = now;
    if (failure) o->operation_failure_details = std::move(failure);
  }
  if (a.current_operation == id) a.current_operation.clear();
}

// An operation interrupted by a rollback, a forced stop or a deletion.
void CancelCurrent(AppState& a, absl::Time now) {
  if (!a.current_operation.empty()) {
    EndOperation(a, a.current_operation, OperationStatus::kCancelled, now);
  }
}

void SetStatus(AppState& a, ApplicationStatus s, absl::Time now) {
  a.status = s;
  a.last_update_time = now;
  ApplicationVersionDetail& v = a.versions[static_cast<size_t>(a.version_id - 1)];
  if (v.application_status != ApplicationStatus::kRolledBack) v.application_status = s;
}

void AddVersion(AppState& a, const ApplicationConfiguration& config, absl::Time now,
                const std::string& operation_id, std::optional<int64_t> updated_from,
                std::optional<int64_t> rolled_back_from, std::optional<int64_t> rolled_back_to) {
  ApplicationVersionDetail v;
  v.application_version_id = static_cast<int64_t>(a.versions.size()) + 1;
  v.application_status = a.status;
  v.configuration = config;
  v.create_timestamp = now;
  v.created_by_operation_id = operation_id;
  v.application_version_updated_from = updated_from;
  v.application_version_rolled_back_from = rolled_back_from;
  v.application_version_rolled_back_to = rolled_back_to;
  a.versions.push_back(std::move(v));
  a.version_id = a.versions.back().application_version_id;
}

SnapshotRecord* FindSnapshot(AppState& a, std::string_view name) {
  for (auto& s : a.snapshots) {
    if (s.details.snapshot_name == name) return &s;
  }
  return nullptr;
}

const SnapshotRecord* LatestReadySnapshot(const AppState& a) {
  const SnapshotRecord* best = nullptr;
  for (const auto& s : a.snapshots) {
    if (s.details.snapshot_status != SnapshotStatus::kReady) continue;
    if (best == nullptr ||
        s.details.snapshot_creation_timestamp >= best->details.snapshot_creation_timestamp) {
      best = &s;
    }
  }
  return best;
}

// The snapshot a RunConfiguration restores from ("" for none).
absl::StatusOr<std::string> ResolveRestore(const AppState& a, const RunConfiguration& run) {
  switch (run.restore_type) {
    case ApplicationRestoreType::kSkipRestoreFromSnapshot:
      return std::string();
    case ApplicationRestoreType::kRestoreFromLatestSnapshot: {
      const SnapshotRecord* s = LatestReadySnapshot(a);
      return s ? s->details.snapshot_name : std::string();
    }
    case ApplicationRestoreType::kRestoreFromCustomSnapshot: {
      if (run.snapshot_name.empty()) {
        return InvalidArgumentError("SnapshotName is required with RESTORE_FROM_CUSTOM_SNAPSHOT");
      }
      for (const auto& s : a.snapshots) {
        if (s.details.snapshot_name != run.snapshot_name) continue;
        if (s.details.snapshot_status != SnapshotStatus::kReady) {
          return InvalidRequestError(fmt::format("snapshot {} of application {} is {}, not READY",
                                                 run.snapshot_name, a.name,
                                                 ToString(s.details.snapshot_status)));
        }
        return run.snapshot_name;
      }
      return ResourceNotFoundError(
          fmt::format("snapshot {} of application {} not found", run.snapshot_name, a.name));
    }
  }
  return InvalidArgumentError("unknown ApplicationRestoreType");
}

absl::StatusOr<size_t> ParseToken(const std::optional<std::string>& token, size_t size) {
  if (!token) return size_t{0};
  size_t v = 0;
  auto [p, ec] = std::from_chars(token->data(), token->data() + token->size(), v);
  if (ec != std::errc() || p != token->data() + token->size() || v > size) {
    return InvalidArgumentError(fmt::format("NextToken '{}' is not valid", token->substr(0, 64)));
  }
  return v;
}

absl::StatusOr<size_t> CheckLimit(std::optional<int> limit, int max) {
  if (!limit) return static_cast<size_t>(max);
  if (*limit < 1 || *limit > max) {
    return InvalidArgumentError(fmt::format("Limit {} is outside 1..{}", *limit, max));
  }
  return static_cast<size_t>(*limit);
}

// The ordered consumer's name for an application: its leases and checkpoints
// in the store's lease table. The incarnation keeps a re-created application
// from inheriting them.
std::string ConsumerName(const AppState& a) {
  return fmt::format("tributary-application.{}.{}", a.name, a.incarnation);
}

std::string AutoSnapshotName(const AppState& a, SnapshotTrigger trigger, absl::Time now) {
  std::string_view what = trigger == SnapshotTrigger::kOnStop       ? "stop"
                          : trigger == SnapshotTrigger::kBeforeScale ? "scale"
                                                                     : "update";
  std::string base = fmt::format("{}-v{}-{}-{}", a.name.substr(0, 128), a.version_id, what,
                                 absl::ToUnixMillis(now));
  std::string name = base;
  for (int i = 2; std::any_of(a.snapshots.begin(), a.snapshots.end(),
                              [&](const SnapshotRecord& s) { return s.details.snapshot_name == name; });
       ++i) {
    name = fmt::format("{}-{}", base, i);
  }
  return name;
}

}  // namespace

// ---------------------------------------------------------------- open

ManagerImpl::ManagerImpl(Store* store, Store* input, std::string region, std::string account,
                         const ApplicationManagerOptions& options)
    : store_(store),
      input_(input),
      clock_(store->clock()),
      region_(std::move(region)),
      account_(std::move(account)),
      transition_time_(std::max(options.transition_time, absl::ZeroDuration())),
      runtimes_(options.runtime_environments) {}

absl::StatusOr<std::unique_ptr<ManagerImpl>> ManagerImpl::Open(
    Store* store, const ApplicationManagerOptions& options) {
  if (store->backend() == BackendKind::kRemote) {
    // Its streams live at the endpoint, but applications, snapshots and
    // checkpoints would have nowhere to go but memory: refuse rather than
    // lose them at the first restart without a word.
    return InvalidArgumentError(
        "ApplicationManager::Open needs a local store (Store::Open or Store::OpenInMemory) for the "
        "applications, their snapshots and checkpoints; to read input streams from a remote store, "
        "pass it as ApplicationManagerOptions::input_store");
  }
  std::unique_ptr<ManagerImpl> m(new ManagerImpl(
      store, options.input_store != nullptr ? options.input_store : store,
      options.region.empty() ? store->options().region : options.region,
      options.account_id.empty() ? store->options().account_id : options.account_id, options));
  util::MutexLock l(&m->mu_);
  if (store->directory().empty()) {
    std::unique_ptr<Env> mem = NewMemEnv();
    Env* env = mem.get();
    TRIBUTARY_ASSIGN_OR_RETURN(m->storage_, AppStorage::Open(env, "/apps", std::move(mem)));
  } else {
    TRIBUTARY_ASSIGN_OR_RETURN(m->storage_,
                               AppStorage::Open(store->env(), store->directory() + "/apps", nullptr));
  }
  TRIBUTARY_RETURN_IF_ERROR(m->storage_->LoadMeta(&m->next_incarnation_, &m->states_));
  bool changed = false;
  for (auto& [name, a] : m->states_) {
    Runtime& rt = m->runtime_[name];
    for (SnapshotRecord& s : a.snapshots) {
      if (s.details.snapshot_status == SnapshotStatus::kCreating) {
        s.details.snapshot_status = SnapshotStatus::kFailed;
        s.details.failure = "interrupted: the store was closed before the snapshot was taken";
        changed = true;
      }
    }
    if (a.plan.active) {
      const std::string path = m->storage_->CheckpointPath(a);
      if (m->storage_->Exists(path)) {
        absl::StatusOr<Cut> c = m->storage_->ReadCut(path);
        // A damaged or stale checkpoint is only a lost shortcut: the job
        // restores from its snapshot instead (more replay, same result).
        if (c.ok() && c->job_id == a.plan.job_id) rt.pending_checkpoint = std::move(*c);
      }
    }
  }
  m->storage_->RemoveOrphans(m->states_);
  if (changed) TRIBUTARY_RETURN_IF_ERROR(m->WriteMetaLocked());
  for (const auto& [name, a] : m->states_) m->PublishLocked(name, true);
  return m;
}

ManagerImpl::~ManagerImpl() {
  StopRunner();
  util::MutexLock l(&mu_);
  runtime_.clear();  // jobs (and their processors) go before the registry
}

// ---------------------------------------------------------------- helpers

absl::StatusOr<AppState*> ManagerImpl::FindLocked(std::string_view name) {
  auto it = states_.find(std::string(name));
  if (it == states_.end()) {
    TRIBUTARY_RETURN_IF_ERROR(ValidateName(name, limits::kMaxApplicationNameLength, "ApplicationName"));
    return ResourceNotFoundError(fmt::format("Application {} not found", name));
  }
  return &it->second;
}

absl::StatusOr<AppState*> ManagerImpl::FindByArnLocked(std::string_view arn) {
  for (auto& [name, a] : states_) {
    if (a.arn == arn) return &a;
  }
  return ResourceNotFoundError(fmt::format("no application has the ARN {}", arn.substr(0, 300)));
}

absl::StatusOr<ManagerImpl::AppView> ManagerImpl::View(std::string_view name) const {
  {
    util::ReaderLock l(&view_mu_);
    auto it = views_.find(std::string(name));
    if (it != views_.end()) return it->second;
  }
  TRIBUTARY_RETURN_IF_ERROR(ValidateName(name, limits::kMaxApplicationNameLength, "ApplicationName"));
  return ResourceNotFoundError(fmt::format("Application {} not found", name));
}

ManagerImpl::JobView ManagerImpl::JobViewLocked(const AppState& a) {
  JobView v;
  if (Job* job = JobLocked(a.name)) {
    v.health = job->Health(Now());
    v.healthy_reference = job->healthy_reference();
    v.running_clock = true;
  } else if (a.plan.active) {
    v.health.status = JobStatus::kStarting;
    v.health.parallelism = a.config().parallelism;
  }
  return v;
}

bool ManagerImpl::JobView::SameAs(const JobView& o) const {
  const JobHealth& a = health;
  const JobHealth& b = o.health;
  return running_clock == o.running_clock && healthy_reference == o.healthy_reference &&
         a.status == b.status && a.parallelism == b.parallelism && a.restart_count == b.restart_count &&
         a.consecutive_failures == b.consecutive_failures && a.last_failure_time == b.last_failure_time &&
         a.last_healthy_batch_time == b.last_healthy_batch_time &&
         a.next_restart_time == b.next_restart_time && a.records_processed == b.records_processed &&
         a.millis_behind_latest == b.millis_behind_latest && a.restored_from == b.restored_from &&
         a.last_failure == b.last_failure &&
         (running_clock || a.time_since_last_healthy_batch == b.time_since_last_healthy_batch);
}

void ManagerImpl::PublishLocked(const std::string& name, bool state_changed) {
  auto it = states_.find(name);
  if (it == states_.end()) {
    util::WriterLock l(&view_mu_);
    views_.erase(name);
    return;
  }
  JobView job = JobViewLocked(it->second);
  std::shared_ptr<const AppState> state;
  {
    util::ReaderLock l(&view_mu_);
    auto v = views_.find(name);
    if (state_changed || v == views_.end() || v->second.state == nullptr) {
      state_changed = true;
    } else if (v->second.job.SameAs(job)) {
      return;  // an idle round: nothing a reader could tell apart
    }
  }
  // The copy is made outside view_mu_: readers wait only for the swap.
  if (state_changed) state = std::make_shared<const AppState>(it->second);
  util::WriterLock l(&view_mu_);
  AppView& v = views_[name];
  if (state) v.state = std::move(state);
  v.job = std::move(job);
}

absl::Status ManagerImpl::WriteMetaLocked() { return storage_->WriteMeta(next_incarnation_, states_); }

absl::Status ManagerImpl::CommitLocked(AppState next, const RuntimeChange& change) {
  const std::string name = next.name;
  auto it = states_.find(name);
  if (it == states_.end()) {
    states_.emplace(name, std::move(next));
    absl::Status s = WriteMetaLocked();
    if (!s.ok()) {
      states_.erase(name);
      return s;
    }
    runtime_[name];
  } else {
    std::swap(it->second, next);
    absl::Status s = WriteMetaLocked();
    if (!s.ok()) {
      std::swap(it->second, next);
      return s;
    }
  }
  ApplyLocked(name, change);
  PublishLocked(name, true);
  Kick();
  return absl::OkStatus();
}

void ManagerImpl::ApplyLocked(const std::string& name, const RuntimeChange& change) {
  Runtime& rt = runtime_[name];
  if (change.stop_job) {
    rt.job.reset();
    rt.pending_checkpoint.reset();
    rt.lag_high_since.reset();
    rt.lag_low_since.reset();
  }
  if (change.pending_checkpoint) rt.pending_checkpoint = change.pending_checkpoint;
}

Job* ManagerImpl::JobLocked(const std::string& name) {
  auto it = runtime_.find(name);
  return it == runtime_.end() ? nullptr : it->second.job.get();
}

absl::StatusOr<ProcessorFactory> ManagerImpl::LookupLocked(const std::string& name,
                                                           const std::string& version) {
  auto it = processors_.find({name, version});
  if (it == processors_.end()) {
    std::string known;
    for (const auto& [key, factory] : processors_) {
      known += fmt::format("{}{} {}", known.empty() ? "" : ", ", key.first, key.second);
    }
    return InvalidArgumentError(fmt::format(
        "processor '{}' code version '{}' is not registered with this ApplicationManager "
        "(registered: {})",
        name, version, known.empty() ? "none" : known));
  }
  return it->second;
}

absl::Status ManagerImpl::CheckRuntime(const ApplicationConfiguration& c) const {
  if (runtimes_.empty() ||
      std::find(runtimes_.begin(), runtimes_.end(), c.runtime_environment) != runtimes_.end()) {
    return absl::OkStatus();
  }
  std::string list;
  for (const std::string& r : runtimes_) list += (list.empty() ? "" : ", ") + r;
  return InvalidArgumentError(fmt::format("RuntimeEnvironment '{}' is not supported here; use one of {}",
                                          c.runtime_environment.substr(0, 64), list));
}

absl::Status ManagerImpl::CheckRegisteredLocked(const ApplicationConfiguration& c) {
  return LookupLocked(c.processor_name, c.code_version).status();
}

ApplicationDetail ManagerImpl::DetailLocked(const AppState& a) { return Detail(a, JobViewLocked(a)); }

ApplicationDetail ManagerImpl::Detail(const AppState& a, const JobView& job) const {
  ApplicationDetail d;
  d.application_name = a.name;
  d.application_arn = a.arn;
  d.application_status = a.status;
  d.application_version_id = a.version_id;
  d.configuration = a.config();
  d.create_timestamp = a.create_time;
  d.last_update_timestamp = a.last_update_time;
  d.application_version_updated_from = a.updated_from;
  d.application_version_rolled_back_from = a.rolled_back_from;
  d.application_version_rolled_back_to = a.rolled_back_to;
  d.last_run_configuration = a.last_run;
  d.job = job.health;
  if (job.running_clock) d.job.time_since_last_healthy_batch = Now() - job.healthy_reference;
  size_t from = a.restarts.size() > kRecentRestarts ? a.restarts.size() - kRecentRestarts : 0;
  d.recent_restarts.assign(a.restarts.begin() + static_cast<std::ptrdiff_t>(from), a.restarts.end());
  d.application_version_create_timestamp =
      a.versions[static_cast<size_t>(a.version_id - 1)].create_timestamp;
  d.conditional_token = Token(a);
  d.maintenance_window_start = a.maintenance_window_start;
  d.maintenance_window_end = WindowEnd(a.maintenance_window_start);
  d.job_fault = EffectiveFault(a).first;
  d.job_fault_override = a.fault_override;
  return d;
}

absl::StatusOr<std::string> ManagerImpl::TakeSnapshotLocked(AppState& a, SnapshotTrigger trigger,
                                                            std::string name, absl::Time now) {
  Job* job = JobLocked(a.name);
  if (job == nullptr || !job->deployed()) {
    return ResourceInUseError(fmt::format("the job of application {} is not running ({})", a.name,
                                          ToString(job ? job->status() : JobStatus::kNotRunning)));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(Cut cut, job->TakeCut());
  const uint64_t file_id = a.next_file++;
  TRIBUTARY_RETURN_IF_ERROR(storage_->WriteCut(storage_->SnapshotPath(a, file_id), cut));
  // The consumer's checkpoints follow (the cut is authoritative: a restore
  // sets them back to it).
  TRIBUTARY_RETURN_IF_ERROR(job->CommitPositions());
  if (name.empty()) name = AutoSnapshotName(a, trigger, now);
  SnapshotRecord* rec = FindSnapshot(a, name);
  if (rec == nullptr) {
    a.snapshots.emplace_back();
    rec = &a.snapshots.back();
  }
  SnapshotDetails& d = rec->details;
  d.snapshot_name = name;
  d.snapshot_status = SnapshotStatus::kReady;
  d.application_version_id = cut.application_version_id;
  d.runtime_environment = cut.runtime_environment;
  d.processor_name = cut.processor_name;
  d.code_version = cut.code_version;
  d.parallelism = cut.parallelism;
  d.snapshot_creation_timestamp = now;
  d.trigger = trigger;
  d.size_bytes = cut.StateBytes();
  d.failure.reset();
  rec->file_id = file_id;
  return name;
}

// ---------------------------------------------------------------- registry

absl::Status ManagerImpl::RegisterProcessor(std::string_view name, std::string_view code_version,
                                            ProcessorFactory factory) {
  if (name.empty() || name.size() > 128 || code_version.empty() || code_version.size() > 128) {
    return InvalidArgumentError("processor name and code version must be 1..128 characters");
  }
  if (!factory) return InvalidArgumentError("the processor factory is empty");
  util::MutexLock l(&mu_);
  auto [it, inserted] =
      processors_.emplace(std::make_pair(std::string(name), std::string(code_version)), std::move(factory));
  if (!inserted) {
    return InvalidArgumentError(fmt::format("processor '{}' code version '{}' is already registered",
                                            name, code_version));
  }
  return absl::OkStatus();
}

std::vector<ProcessorInfo> ManagerImpl::RegisteredProcessors() {
  util::MutexLock l(&mu_);
  std::vector<ProcessorInfo> out;
  for (const auto& [key, factory] : processors_) out.push_back({key.first, key.second});
  return out;
}

// ---------------------------------------------------------------- applications

absl::StatusOr<ApplicationDetail> ManagerImpl::CreateApplication(
    std::string_view name, const ApplicationConfiguration& config,
    const std::map<std::string, std::string>& tags) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateName(name, limits::kMaxApplicationNameLength, "ApplicationName"));
  TRIBUTARY_RETURN_IF_ERROR(ValidateConfig(config));
  TRIBUTARY_RETURN_IF_ERROR(CheckRuntime(config));
  TRIBUTARY_RETURN_IF_ERROR(ValidateTags(tags));
  util::MutexLock l(&mu_);
  if (states_.count(std::string(name))) {
    return AlreadyExistsError(fmt::format("Application {} already exists", name));
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckRegisteredLocked(config));
  const absl::Time now = Now();
  AppState a;
  a.name = std::string(name);
  TRIBUTARY_RETURN_IF_ERROR(CheckTagCount(a, tags.size()));
  a.tags = tags;
  a.arn = fmt::format("arn:aws:kinesisanalytics:{}:{}:application/{}", region_, account_, name);
  a.incarnation = next_incarnation_;
  a.create_time = a.last_update_time = now;
  a.status = ApplicationStatus::kReady;
  const std::string op = BeginOperation(a, OperationType::kCreateApplication, Initiator::kUser, now,
                                        std::nullopt, std::nullopt);
  AddVersion(a, config, now, op, std::nullopt, std::nullopt, std::nullopt);
  EndOperation(a, op, OperationStatus::kSuccessful, now);
  ++next_incarnation_;
  absl::Status s = CommitLocked(a, {});
  if (!s.ok()) {
    --next_incarnation_;
    return s;
  }
  return DetailLocked(states_.at(a.name));
}

absl::Status ManagerImpl::DeleteApplication(std::string_view name,
                                            std::optional<absl::Time> create_timestamp) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (cur->status == ApplicationStatus::kDeleting) {
    return ResourceInUseError(fmt::format("Application {} is already DELETING", name));
  }
  if (create_timestamp && !SameSecond(*create_timestamp, cur->create_time)) {
    return InvalidArgumentError(fmt::format(
        "CreateTimestamp {} does not match the creation time {} of application {}",
        absl::FormatTime(*create_timestamp), absl::FormatTime(cur->create_time), name));
  }
  AppState next = *cur;
  const absl::Time now = Now();
  CancelCurrent(next, now);
  next.plan.active = false;
  SetStatus(next, ApplicationStatus::kDeleting, now);
  RuntimeChange change;
  change.stop_job = true;
  return CommitLocked(std::move(next), change);
}

absl::StatusOr<ApplicationDetail> ManagerImpl::DescribeApplication(std::string_view name) {
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(name));
  return Detail(*v.state, v.job);
}

std::vector<ApplicationSummary> ManagerImpl::ListApplications() {
  std::vector<std::shared_ptr<const AppState>> states;
  {
    util::ReaderLock l(&view_mu_);
    for (const auto& [name, v] : views_) states.push_back(v.state);
  }
  std::vector<ApplicationSummary> out;
  for (const auto& state : states) {
    const AppState& a = *state;
    ApplicationSummary s;
    s.application_name = a.name;
    s.application_arn = a.arn;
    s.application_status = a.status;
    s.application_version_id = a.version_id;
    s.runtime_environment = a.config().runtime_environment;
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------- lifecycle

absl::StatusOr<OperationResult> ManagerImpl::StartApplication(std::string_view name,
                                                              const RunConfiguration& run) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (cur->status != ApplicationStatus::kReady) {
    return WrongStatus(*cur, "StartApplication", "READY");
  }
  TRIBUTARY_RETURN_IF_ERROR(RequireInput(cur->config(), cur->name, "StartApplication"));
  TRIBUTARY_ASSIGN_OR_RETURN(std::string snapshot, ResolveRestore(*cur, run));
  AppState next = *cur;
  const absl::Time now = Now();
  const std::string op = BeginOperation(next, OperationType::kStartApplication, Initiator::kUser,
                                        now, std::nullopt, std::nullopt);
  next.last_run = run;
  next.plan = JobPlan{true, next.next_job++, snapshot, run.allow_non_restored_state};
  SetStatus(next, ApplicationStatus::kStarting, now);
  RuntimeChange change;
  change.stop_job = true;
  TRIBUTARY_RETURN_IF_ERROR(CommitLocked(std::move(next), change));
  return OperationResult{op, DetailLocked(states_.at(std::string(name)))};
}

absl::StatusOr<OperationResult> ManagerImpl::StopApplication(std::string_view name, bool force) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  using S = ApplicationStatus;
  if (!force && cur->status != S::kRunning) {
    return WrongStatus(*cur, "StopApplication", "RUNNING (or with Force)");
  }
  if (force && cur->status != S::kStarting && cur->status != S::kUpdating &&
      cur->status != S::kStopping && cur->status != S::kAutoscaling &&
      cur->status != S::kRollingBack && cur->status != S::kRunning) {
    return WrongStatus(*cur, "StopApplication with Force",
                       "STARTING, UPDATING, STOPPING, AUTOSCALING, ROLLING_BACK or RUNNING");
  }
  AppState next = *cur;
  const absl::Time now = Now();
  std::string op;
  if (force) {
    CancelCurrent(next, now);
    op = BeginOperation(next, OperationType::kForceStopApplication, Initiator::kUser, now,
                        "forced: no snapshot is taken", std::nullopt);
    SetStatus(next, S::kForceStopping, now);
  } else {
    std::optional<std::string> reason;
    if (next.config().snapshots_enabled) {
      absl::StatusOr<std::string> snap = TakeSnapshotLocked(next, SnapshotTrigger::kOnStop, "", now);
      reason = snap.ok() ? fmt::format("snapshot {} taken on stop", *snap)
                         : fmt::format("no snapshot on stop: {}", Msg(snap.status()));
    }
    op = BeginOperation(next, OperationType::kStopApplication, Initiator::kUser, now, reason,
                        std::nullopt);
    SetStatus(next, S::kStopping, now);
  }
  next.plan.active = false;
  RuntimeChange change;
  change.stop_job = true;
  TRIBUTARY_RETURN_IF_ERROR(CommitLocked(std::move(next), change));
  return OperationResult{op, DetailLocked(states_.at(std::string(name)))};
}

absl::StatusOr<OperationResult> ManagerImpl::UpdateApplication(const UpdateApplicationRequest& req) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateConfig(req.configuration));
  TRIBUTARY_RETURN_IF_ERROR(CheckRuntime(req.configuration));
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(req.application_name));
  TRIBUTARY_RETURN_IF_ERROR(
      CheckView(*cur, req.current_application_version_id, req.conditional_token));
  const bool running = cur->status == ApplicationStatus::kRunning;
  if (!running && cur->status != ApplicationStatus::kReady) {
    return WrongStatus(*cur, "UpdateApplication", "READY or RUNNING");
  }
  TRIBUTARY_RETURN_IF_ERROR(CheckRegisteredLocked(req.configuration));
  if (running) {
    TRIBUTARY_RETURN_IF_ERROR(RequireInput(req.configuration, cur->name, "UpdateApplication"));
  }
  if (running && req.run_configuration.restore_type ==
                     ApplicationRestoreType::kRestoreFromCustomSnapshot) {
    TRIBUTARY_RETURN_IF_ERROR(ResolveRestore(*cur, req.run_configuration).status());
  }
  AppState next = *cur;
  const absl::Time now = Now();
  const int64_t from = next.version_id;
  std::optional<std::string> reason;
  if (running && next.config().snapshots_enabled) {
    absl::StatusOr<std::string> snap =
        TakeSnapshotLocked(next, SnapshotTrigger::kBeforeUpdate, "", now);
    reason = snap.ok() ? fmt::format("snapshot {} taken before the update", *snap)
                       : fmt::format("no snapshot before the update: {}", Msg(snap.status()));
  }
  const std::string op = BeginOperation(next, OperationType::kUpdateApplication, Initiator::kUser,
                                        now, reason, ApplicationVersionChangeDetails{from, from + 1});
  AddVersion(next, req.configuration, now, op, from, std::nullopt, std::nullopt);
  next.updated_from = from;
  RuntimeChange change;
  if (running) {
    TRIBUTARY_ASSIGN_OR_RETURN(std::string snapshot, ResolveRestore(next, req.run_configuration));
    next.last_run = req.run_configuration;
    next.plan = JobPlan{true, next.next_job++, snapshot, req.run_configuration.allow_non_restored_state};
    change.stop_job = true;
  }
  SetStatus(next, ApplicationStatus::kUpdating, now);
  TRIBUTARY_RETURN_IF_ERROR(CommitLocked(std::move(next), change));
  return OperationResult{op, DetailLocked(states_.at(req.application_name))};
}

absl::StatusOr<std::string> ManagerImpl::ScaleLocked(AppState& a, int parallelism, absl::Time now,
                                                     Initiator who, std::optional<std::string> reason,
                                                     RuntimeChange* change) {
  ApplicationConfiguration config = a.config();
  config.parallelism = parallelism;
  TRIBUTARY_RETURN_IF_ERROR(ValidateConfig(config));
  Job* job = JobLocked(a.name);
  std::string snapshot;
  std::optional<Cut> carried;  // the new job's first checkpoint
  const uint64_t job_id = a.next_job++;
  std::string how;
  if (job != nullptr && job->deployed() && a.config().snapshots_enabled) {
    absl::StatusOr<std::string> s = TakeSnapshotLocked(a, SnapshotTrigger::kBeforeScale, "", now);
    if (s.ok()) {
      snapshot = *s;
      how = fmt::format("from snapshot {}", snapshot);
    } else {
      how = fmt::format("snapshot failed ({})", Msg(s.status()));
    }
  }
  if (snapshot.empty() && job != nullptr && job->deployed()) {
    absl::StatusOr<Cut> cut = job->TakeCut();
    if (cut.ok()) {
      carried = std::move(*cut);
      how = "from a checkpoint taken at the scaling";
    }
  }
  if (snapshot.empty() && !carried) {
    // The job is not running: the new one starts where a restart of the old
    // one would have.
    if (job != nullptr && job->checkpoint()) {
      carried = *job->checkpoint();
      how = "from the job's latest checkpoint";
    } else {
      snapshot = a.plan.restore_snapshot;
      how = snapshot.empty() ? "without state" : fmt::format("from snapshot {}", snapshot);
    }
  }
  if (carried) {
    carried->job_id = job_id;
    TRIBUTARY_RETURN_IF_ERROR(storage_->WriteCut(storage_->CheckpointPath(a), *carried));
    change->pending_checkpoint = std::move(carried);
  }
  const int64_t from = a.version_id;
  std::string why = fmt::format("parallelism {} -> {}, {}", a.config().parallelism, parallelism, how);
  if (reason) why = *reason + "; " + why;
  const std::string op = BeginOperation(a, OperationType::kScaleApplication, who, now, why,
                                        ApplicationVersionChangeDetails{from, from + 1});
  AddVersion(a, config, now, op, from, std::nullopt, std::nullopt);
  a.updated_from = from;
  a.plan = JobPlan{true, job_id, snapshot, false};
  SetStatus(a, ApplicationStatus::kAutoscaling, now);
  change->stop_job = true;
  return op;
}

absl::StatusOr<OperationResult> ManagerImpl::ScaleApplication(std::string_view name,
                                                              int64_t current_version,
                                                              int parallelism) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (current_version != cur->version_id) return StaleVersion(*cur, current_version);
  if (cur->status != ApplicationStatus::kRunning) {
    return WrongStatus(*cur, "ScaleApplication", "RUNNING");
  }
  if (parallelism == cur->config().parallelism) {
    return InvalidArgumentError(
        fmt::format("application {} already runs with parallelism {}", name, parallelism));
  }
  AppState next = *cur;
  RuntimeChange change;
  TRIBUTARY_ASSIGN_OR_RETURN(std::string op, ScaleLocked(next, parallelism, Now(), Initiator::kUser,
                                                         std::nullopt, &change));
  // The scaling cut reaches the runtime only once the metadata naming its
  // job is committed.
  TRIBUTARY_RETURN_IF_ERROR(CommitLocked(std::move(next), change));
  return OperationResult{op, DetailLocked(states_.at(std::string(name)))};
}

absl::StatusOr<std::string> ManagerImpl::RollbackLocked(AppState& a, absl::Time now, Initiator who,
                                                        std::optional<std::string> reason) {
  if (!a.updated_from) {
    return InvalidRequestError(fmt::format(
        "application {} has no version to roll back to: version {} was not made by an update or "
        "a scaling (or was already rolled back)",
        a.name, a.version_id));
  }
  const SnapshotRecord* snap = LatestReadySnapshot(a);
  if (snap == nullptr) {
    return InvalidRequestError(fmt::format(
        "application {} has no READY snapshot to restore from; a rollback needs one", a.name));
  }
  const std::string snapshot = snap->details.snapshot_name;
  CancelCurrent(a, now);
  const int64_t from = a.version_id;
  const int64_t to = *a.updated_from;
  const ApplicationConfiguration config = a.versions[static_cast<size_t>(to - 1)].configuration;
  std::string why = fmt::format("revert version {} to the configuration of version {}, restore snapshot {}",
                                from, to, snapshot);
  if (reason) why = *reason + "; " + why;
  const std::string op = BeginOperation(
      a, who == Initiator::kUser ? OperationType::kRollbackApplication
                                 : OperationType::kSystemRollbackApplication,
      who, now, why, ApplicationVersionChangeDetails{from, from + 1});
  a.versions[static_cast<size_t>(from - 1)].application_status = ApplicationStatus::kRolledBack;
  AddVersion(a, config, now, op, std::nullopt, from, to);
  a.updated_from.reset();
  a.rolled_back_from = from;
  a.rolled_back_to = to;
  a.plan = JobPlan{true, a.next_job++, snapshot, false};
  SetStatus(a, ApplicationStatus::kRollingBack, now);
  return op;
}

absl::StatusOr<OperationResult> ManagerImpl::RollbackApplication(std::string_view name,
                                                                 int64_t current_version) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (current_version != cur->version_id) return StaleVersion(*cur, current_version);
  if (cur->status != ApplicationStatus::kRunning && cur->status != ApplicationStatus::kUpdating &&
      cur->status != ApplicationStatus::kAutoscaling) {
    return WrongStatus(*cur, "RollbackApplication", "RUNNING, UPDATING or AUTOSCALING");
  }
  AppState next = *cur;
  TRIBUTARY_ASSIGN_OR_RETURN(std::string op, RollbackLocked(next, Now(), Initiator::kUser, std::nullopt));
  RuntimeChange change;
  change.stop_job = true;
  TRIBUTARY_RETURN_IF_ERROR(CommitLocked(std::move(next), change));
  return OperationResult{op, DetailLocked(states_.at(std::string(name)))};
}

// ---------------------------------------------------------------- versions

absl::StatusOr<ListApplicationVersionsResult> ManagerImpl::ListApplicationVersions(
    std::string_view name, std::optional<int> limit, const std::optional<std::string>& next_token) {
  TRIBUTARY_ASSIGN_OR_RETURN(size_t n, CheckLimit(limit, limits::kMaxListVersions));
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(name));
  const AppState* a = v.state.get();
  TRIBUTARY_ASSIGN_OR_RETURN(size_t start, ParseToken(next_token, a->versions.size()));
  ListApplicationVersionsResult r;
  size_t i = start;
  for (; i < a->versions.size() && r.versions.size() < n; ++i) {
    const ApplicationVersionDetail& ver = a->versions[a->versions.size() - 1 - i];  // newest first
    r.versions.push_back({ver.application_version_id, ver.application_status});
  }
  if (i < a->versions.size()) r.next_token = std::to_string(i);
  return r;
}

absl::StatusOr<ApplicationVersionDetail> ManagerImpl::DescribeApplicationVersion(
    std::string_view name, int64_t version_id) {
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(name));
  const AppState* a = v.state.get();
  if (version_id < 1 || version_id > a->version_id) {
    return ResourceNotFoundError(
        fmt::format("application {} has no version {} (versions 1..{})", name, version_id, a->version_id));
  }
  return a->versions[static_cast<size_t>(version_id - 1)];
}

// ---------------------------------------------------------------- snapshots

absl::Status ManagerImpl::CreateApplicationSnapshot(std::string_view name,
                                                    std::string_view snapshot_name) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateName(snapshot_name, limits::kMaxSnapshotNameLength, "SnapshotName"));
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (cur->status != ApplicationStatus::kRunning) {
    return WrongStatus(*cur, "CreateApplicationSnapshot", "RUNNING");
  }
  if (!cur->config().snapshots_enabled) {
    return InvalidRequestError(fmt::format("snapshots are disabled for application {}", name));
  }
  if (FindSnapshot(*cur, snapshot_name) != nullptr) {
    return MakeError(absl::StatusCode::kAlreadyExists, ErrorType::kInvalidArgument,
                     fmt::format("application {} already has a snapshot named {}", name, snapshot_name));
  }
  if (cur->snapshots.size() >= static_cast<size_t>(limits::kMaxSnapshotsPerApplication)) {
    return LimitExceededError(fmt::format("application {} has {} snapshots, the limit", name,
                                          cur->snapshots.size()));
  }
  AppState next = *cur;
  SnapshotRecord rec;
  rec.details.snapshot_name = std::string(snapshot_name);
  rec.details.snapshot_status = SnapshotStatus::kCreating;
  rec.details.application_version_id = next.version_id;
  rec.details.runtime_environment = next.config().runtime_environment;
  rec.details.processor_name = next.config().processor_name;
  rec.details.code_version = next.config().code_version;
  rec.details.parallelism = next.config().parallelism;
  rec.details.snapshot_creation_timestamp = Now();
  rec.details.trigger = SnapshotTrigger::kUser;
  next.snapshots.push_back(std::move(rec));
  return CommitLocked(std::move(next), {});
}

absl::StatusOr<ListApplicationSnapshotsResult> ManagerImpl::ListApplicationSnapshots(
    std::string_view name, std::optional<int> limit, const std::optional<std::string>& next_token) {
  TRIBUTARY_ASSIGN_OR_RETURN(size_t n, CheckLimit(limit, limits::kMaxListSnapshots));
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(name));
  const AppState* a = v.state.get();
  TRIBUTARY_ASSIGN_OR_RETURN(size_t start, ParseToken(next_token, a->snapshots.size()));
  ListApplicationSnapshotsResult r;
  size_t i = start;
  for (; i < a->snapshots.size() && r.snapshots.size() < n; ++i) {
    r.snapshots.push_back(a->snapshots[i].details);
  }
  if (i < a->snapshots.size()) r.next_token = std::to_string(i);
  return r;
}

absl::StatusOr<SnapshotDetails> ManagerImpl::DescribeApplicationSnapshot(
    std::string_view name, std::string_view snapshot_name) {
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(name));
  for (const SnapshotRecord& s : v.state->snapshots) {
    if (s.details.snapshot_name == snapshot_name) return s.details;
  }
  return ResourceNotFoundError(
      fmt::format("snapshot {} of application {} not found", snapshot_name, name));
}

absl::Status ManagerImpl::DeleteApplicationSnapshot(std::string_view name,
                                                    std::string_view snapshot_name,
                                                    std::optional<absl::Time> creation_timestamp) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  SnapshotRecord* s = FindSnapshot(*cur, snapshot_name);
  if (s == nullptr) {
    return ResourceNotFoundError(
        fmt::format("snapshot {} of application {} not found", snapshot_name, name));
  }
  if (s->details.snapshot_status == SnapshotStatus::kCreating ||
      s->details.snapshot_status == SnapshotStatus::kDeleting) {
    return ResourceInUseError(fmt::format("snapshot {} of application {} is {}", snapshot_name, name,
                                          ToString(s->details.snapshot_status)));
  }
  if (creation_timestamp && !SameSecond(*creation_timestamp, s->details.snapshot_creation_timestamp)) {
    return InvalidArgumentError(fmt::format(
        "SnapshotCreationTimestamp {} does not match snapshot {} (created {})",
        absl::FormatTime(*creation_timestamp), snapshot_name,
        absl::FormatTime(s->details.snapshot_creation_timestamp)));
  }
  AppState next = *cur;
  FindSnapshot(next, snapshot_name)->details.snapshot_status = SnapshotStatus::kDeleting;
  return CommitLocked(std::move(next), {});
}

// ---------------------------------------------------------------- operations

absl::StatusOr<ListApplicationOperationsResult> ManagerImpl::ListApplicationOperations(
    const ListApplicationOperationsRequest& req) {
  TRIBUTARY_ASSIGN_OR_RETURN(size_t n, CheckLimit(req.limit, limits::kMaxListOperations));
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(req.application_name));
  const AppState* a = v.state.get();
  std::vector<const ApplicationOperationInfoDetails*> match;
  for (const auto& o : a->operations) {
    if (req.operation && o.operation != *req.operation) continue;
    if (req.operation_status && o.operation_status != *req.operation_status) continue;
    match.push_back(&o);
  }
  TRIBUTARY_ASSIGN_OR_RETURN(size_t start, ParseToken(req.next_token, match.size()));
  ListApplicationOperationsResult r;
  size_t i = start;
  for (; i < match.size() && r.operations.size() < n; ++i) {
    const ApplicationOperationInfoDetails& o = *match[i];
    r.operations.push_back({o.operation_id, o.operation, o.operation_status, o.start_time, o.end_time});
  }
  if (i < match.size()) r.next_token = std::to_string(i);
  return r;
}

absl::StatusOr<ApplicationOperationInfoDetails> ManagerImpl::DescribeApplicationOperation(
    std::string_view name, std::string_view operation_id) {
  TRIBUTARY_ASSIGN_OR_RETURN(AppView v, View(name));
  for (const ApplicationOperationInfoDetails& o : v.state->operations) {
    if (o.operation_id == operation_id) return o;
  }
  return ResourceNotFoundError(
      fmt::format("operation {} of application {} not found", operation_id, name));
}

// ---------------------------------------------------------------- tags, maintenance, faults

absl::Status ManagerImpl::TagResource(std::string_view arn,
                                      const std::map<std::string, std::string>& tags) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateTags(tags));
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindByArnLocked(arn));
  if (cur->status == ApplicationStatus::kDeleting) return WrongStatus(*cur, "TagResource", "not DELETING");
  AppState next = *cur;
  for (const auto& [k, v] : tags) next.tags[k] = v;
  TRIBUTARY_RETURN_IF_ERROR(CheckTagCount(next, next.tags.size()));
  return CommitLocked(std::move(next), {});
}

absl::Status ManagerImpl::UntagResource(std::string_view arn, const std::vector<std::string>& keys) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindByArnLocked(arn));
  if (cur->status == ApplicationStatus::kDeleting) {
    return WrongStatus(*cur, "UntagResource", "not DELETING");
  }
  AppState next = *cur;
  for (const std::string& k : keys) next.tags.erase(k);
  return CommitLocked(std::move(next), {});
}

absl::StatusOr<std::map<std::string, std::string>> ManagerImpl::ListTagsForResource(
    std::string_view arn) {
  util::ReaderLock l(&view_mu_);
  for (const auto& [name, v] : views_) {
    if (v.state->arn == arn) return v.state->tags;
  }
  return ResourceNotFoundError(fmt::format("no application has the ARN {}", arn.substr(0, 300)));
}

absl::StatusOr<MaintenanceConfiguration> ManagerImpl::UpdateApplicationMaintenanceConfiguration(
    std::string_view name, std::string_view window_start) {
  if (ParseHhMm(window_start) < 0) {
    return InvalidArgumentError(fmt::format(
        "ApplicationMaintenanceWindowStartTime '{}' is not HH:MM (00:00 to 23:59)",
        window_start.substr(0, 32)));
  }
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (cur->status != ApplicationStatus::kReady && cur->status != ApplicationStatus::kRunning) {
    return WrongStatus(*cur, "UpdateApplicationMaintenanceConfiguration", "READY or RUNNING");
  }
  AppState next = *cur;
  next.maintenance_window_start = std::string(window_start);
  TRIBUTARY_RETURN_IF_ERROR(CommitLocked(std::move(next), {}));
  return MaintenanceConfiguration{std::string(window_start), WindowEnd(window_start)};
}

absl::Status ManagerImpl::SetJobFault(std::string_view name, std::optional<JobFault> fault) {
  util::MutexLock l(&mu_);
  TRIBUTARY_ASSIGN_OR_RETURN(AppState * cur, FindLocked(name));
  if (cur->status == ApplicationStatus::kDeleting) return WrongStatus(*cur, "SetJobFault", "not DELETING");
  AppState next = *cur;
  next.fault_override = fault;
  // The job picks the fault up at its next step (EffectiveFault).
  return CommitLocked(std::move(next), {});
}

absl::Status ManagerImpl::DeleteAllApplications() {
  util::MutexLock l(&mu_);
  absl::Status first;
  auto keep = [&first](absl::Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  // What a DELETING application's last step does (StepLocked), for all at once.
  for (auto& [name, a] : states_) {
    runtime_[name].job.reset();
    keep(storage_->RemoveAppDir(a));
    std::set<std::string> streams;
    for (const ApplicationVersionDetail& v : a.versions) {
      std::string input = EffectiveInput(v.configuration);
      if (!input.empty()) streams.insert(std::move(input));
    }
    for (const std::string& stream : streams) keep(ConsumerSource::Forget(*store_, stream, ConsumerName(a)));
  }
  states_.clear();
  runtime_.clear();
  keep(WriteMetaLocked());
  {
    util::WriterLock v(&view_mu_);
    views_.clear();
  }
  return first;
}

// ---------------------------------------------------------------- Pump

absl::Status ManagerImpl::Pump() {
  bool busy = false;
  return PumpOnce(&busy);
}

absl::Status ManagerImpl::PumpOnce(bool* busy) {
  std::vector<std::string> names;
  {
    util::MutexLock l(&mu_);
    for (const auto& [name, a] : states_) names.push_back(name);
  }
  absl::Status first;
  // One application at a time, releasing the lock in between: a call waits
  // for at most one application's step.
  for (const std::string& name : names) {
    util::MutexLock l(&mu_);
    if (!states_.count(name)) continue;  // deleted meanwhile
    bool dirty = false;
    absl::Status s = StepLocked(name, Now(), &dirty, busy);
    PublishLocked(name, dirty);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

bool ManagerImpl::TransitionDue(const AppState& a, absl::Time now) const {
  return transition_time_ <= absl::ZeroDuration() || now >= a.last_update_time + transition_time_;
}

absl::Status ManagerImpl::StepLocked(const std::string& name, absl::Time now, bool* dirty_out,
                                     bool* busy) {
  AppState& a = states_.at(name);
  Runtime& rt = runtime_[name];
  bool dirty = false;
  absl::Status file_error;
  for (auto it = a.snapshots.begin(); it != a.snapshots.end();) {
    if (it->details.snapshot_status != SnapshotStatus::kDeleting) {
      ++it;
      continue;
    }
    if (it->file_id != 0) {
      absl::Status s = storage_->RemoveFile(storage_->SnapshotPath(a, it->file_id));
      if (!s.ok() && file_error.ok()) file_error = s;
    }
    it = a.snapshots.erase(it);
    dirty = true;
  }
  using S = ApplicationStatus;
  const bool due = TransitionDue(a, now);
  // A transition in progress wants prompt steps (it completes at its time).
  if (a.status != S::kReady && a.status != S::kRunning) *busy = true;
  switch (a.status) {
    case S::kDeleting: {
      if (!due) break;
      *dirty_out = true;
      rt.job.reset();
      absl::Status s = storage_->RemoveAppDir(a);
      std::set<std::string> streams;
      for (const ApplicationVersionDetail& v : a.versions) streams.insert(v.configuration.input_stream);
      for (const std::string& stream : streams) {
        absl::Status f = ConsumerSource::Forget(*store_, stream, ConsumerName(a));
        if (!f.ok() && s.ok()) s = f;
      }
      states_.erase(name);
      runtime_.erase(name);
      absl::Status w = WriteMetaLocked();
      return !w.ok() ? w : s;
    }
    case S::kStopping:
    case S::kForceStopping:
      if (!due) break;
      rt.job.reset();
      a.plan.active = false;
      SetStatus(a, S::kReady, now);
      EndOperation(a, a.current_operation, OperationStatus::kSuccessful, now);
      dirty = true;
      break;
    case S::kUpdating:
      if (!a.plan.active) {  // an update of a READY application: configuration only
        if (!due) break;
        SetStatus(a, S::kReady, now);
        EndOperation(a, a.current_operation, OperationStatus::kSuccessful, now);
        dirty = true;
        break;
      }
      [[fallthrough]];
    default:
      if (a.plan.active) dirty |= StepJobLocked(a, rt, now, busy);
      break;
  }
  dirty |= TakePendingSnapshotsLocked(a, now);
  *dirty_out = dirty;
  *busy = *busy || dirty;
  if (dirty) {
    absl::Status w = WriteMetaLocked();
    if (!w.ok()) return w;
  }
  return file_error;
}

void ManagerImpl::EnsureJobLocked(AppState& a, Runtime& rt, absl::Time now) {
  if (rt.job && rt.job->id() == a.plan.job_id) return;
  JobSpec spec;
  spec.application_name = a.name;
  spec.version_id = a.version_id;
  spec.job_id = a.plan.job_id;
  spec.config = a.config();
  spec.config.input_stream = EffectiveInput(spec.config);
  spec.allow_non_restored_state = a.plan.allow_non_restored_state;
  std::tie(spec.fault, spec.fault_source) = EffectiveFault(a);
  if (rt.pending_checkpoint && rt.pending_checkpoint->job_id == a.plan.job_id) {
    spec.checkpoint = std::move(rt.pending_checkpoint);
  }
  rt.pending_checkpoint.reset();
  if (!a.plan.restore_snapshot.empty() && !spec.checkpoint) {
    const SnapshotRecord* s = FindSnapshot(a, a.plan.restore_snapshot);
    if (s == nullptr || s->details.snapshot_status != SnapshotStatus::kReady || s->file_id == 0) {
      spec.restore_error = ResourceNotFoundError(fmt::format(
          "snapshot {} to restore from no longer exists", a.plan.restore_snapshot));
    } else {
      absl::StatusOr<Cut> cut = storage_->ReadCut(storage_->SnapshotPath(a, s->file_id));
      if (cut.ok()) {
        spec.restore = std::make_shared<const Cut>(std::move(*cut));
        spec.restore_label = a.plan.restore_snapshot;
      } else {
        spec.restore_error = cut.status();
      }
    }
  }
  JobServices services;
  services.lookup = [this](const std::string& n, const std::string& v)
                        ABSL_NO_THREAD_SAFETY_ANALYSIS { return LookupLocked(n, v); };
  Store* input = input_;
  Store* leases = store_;
  const std::string consumer = ConsumerName(a);
  const int max_batch = spec.config.max_batch_records;
  services.make_source = [input, leases, consumer, max_batch](const std::string& stream)
      -> std::unique_ptr<RecordSource> {
    return std::make_unique<ConsumerSource>(input, leases, stream, consumer, max_batch);
  };
  const std::string path = storage_->CheckpointPath(a);
  AppStorage* storage = storage_.get();
  services.save_checkpoint = [storage, path](const Cut& c) { return storage->WriteCut(path, c); };
  rt.job = std::make_unique<Job>(std::move(spec), std::move(services), now);
}

bool ManagerImpl::StepJobLocked(AppState& a, Runtime& rt, absl::Time now, bool* busy) {
  const bool transient = Transient(a.status);
  // A new job deploys once its transition has lasted the transition time.
  if (transient && !TransitionDue(a, now)) return false;
  EnsureJobLocked(a, rt, now);
  auto [fault, source] = EffectiveFault(a);
  rt.job->SetFault(fault, std::move(source));
  Job::StepResult r = rt.job->Step(now);
  if (r.records > 0 || r.deployed) *busy = true;
  bool dirty = false;
  const std::optional<absl::Time> next_restart = rt.job->Health(now).next_restart_time;
  for (RestartEvent& e : r.failures) {
    RecordJobRestart(a, e, next_restart);
    a.restarts.push_back(std::move(e));
    while (a.restarts.size() > static_cast<size_t>(limits::kMaxRestartEventsKept)) {
      a.restarts.pop_front();
    }
    dirty = true;
  }
  if (transient) {
    const ApplicationOperationInfoDetails* op = FindOperation(a, a.current_operation);
    // With system rollback on, an update or scaling succeeds only once its
    // job ran a healthy round, and the job's first failure fails it.
    const bool strict = op != nullptr &&
                        (op->operation == OperationType::kUpdateApplication ||
                         op->operation == OperationType::kScaleApplication) &&
                        a.config().system_rollback_enabled;
    const bool done = strict ? r.healthy_round : r.deployed;
    if (done) {
      SetStatus(a, ApplicationStatus::kRunning, now);
      EndOperation(a, a.current_operation, OperationStatus::kSuccessful, now);
      rt.lag_high_since.reset();
      rt.lag_low_since.reset();
      return true;
    }
    const std::string cause = rt.job->Health(now).last_failure.value_or("unknown");
    if (strict && !r.failures.empty()) {
      OperationFailedLocked(
          a, rt, now, fmt::format("the new job failed before it ran a healthy round: {}", cause));
      return true;
    }
    if (r.failed_final) {
      OperationFailedLocked(
          a, rt, now, fmt::format("the job never started; the restart strategy gave up: {}", cause));
      return true;
    }
    return dirty;
  }
  if (a.status == ApplicationStatus::kRunning) {
    if (RestartLoopRuleLocked(a, rt, now)) return true;
    dirty |= AutoscaleLocked(a, rt, now);
  }
  return dirty;
}

void ManagerImpl::OperationFailedLocked(AppState& a, Runtime& rt, absl::Time now,
                                        const std::string& error) {
  const std::string failed = a.current_operation;
  const ApplicationOperationInfoDetails* op = FindOperation(a, failed);
  const OperationType type = op ? op->operation : OperationType::kStartApplication;
  OperationFailureDetails f;
  f.error_string = error;
  EndOperation(a, failed, OperationStatus::kFailed, now, f);
  rt.job.reset();
  rt.pending_checkpoint.reset();
  if ((type == OperationType::kUpdateApplication || type == OperationType::kScaleApplication) &&
      a.config().system_rollback_enabled) {
    absl::StatusOr<std::string> rb = RollbackLocked(
        a, now, Initiator::kSystem,
        fmt::format("system rollback: {} {} failed: {}", ToString(type), failed, error));
    ApplicationOperationInfoDetails* o = FindOperation(a, failed);
    if (rb.ok()) {
      if (o) o->operation_failure_details->rollback_operation_id = *rb;
      return;
    }
    if (o) {
      o->operation_failure_details->error_string +=
          fmt::format("; system rollback was not possible: {}", Msg(rb.status()));
    }
  }
  a.plan.active = false;
  SetStatus(a, ApplicationStatus::kReady, now);
}

bool ManagerImpl::RestartLoopRuleLocked(AppState& a, Runtime& rt, absl::Time now) {
  const RestartLoopRollback& rule = a.config().restart_loop_rollback;
  if (!rule.enabled || !a.updated_from || a.loop_rule_fired_version == a.version_id) return false;
  int count = 0;
  const RestartEvent* last = nullptr;
  for (const RestartEvent& e : a.restarts) {
    if (e.application_version_id == a.version_id && e.time > now - rule.within) {
      ++count;
      last = &e;
    }
  }
  if (count < rule.max_restarts) return false;
  a.loop_rule_fired_version = a.version_id;
  const std::string reason = fmt::format(
      "restart-loop rule: the job of version {} failed {} times within {} (last: {})", a.version_id,
      count, absl::FormatDuration(rule.within), last ? last->cause : "");
  absl::StatusOr<std::string> rb = RollbackLocked(a, now, Initiator::kSystem, reason);
  if (rb.ok()) {
    rt.job.reset();
    rt.pending_checkpoint.reset();
    return true;
  }
  // Record that the rule fired and why nothing could be done.
  const std::string op = BeginOperation(a, OperationType::kSystemRollbackApplication,
                                        Initiator::kSystem, now, reason, std::nullopt);
  OperationFailureDetails f;
  f.error_string = std::string(Msg(rb.status()));
  EndOperation(a, op, OperationStatus::kFailed, now, f);
  return true;
}

bool ManagerImpl::AutoscaleLocked(AppState& a, Runtime& rt, absl::Time now) {
  const AutoscalingConfiguration& as = a.config().autoscaling;
  if (!as.enabled || !rt.job || !rt.job->deployed()) {
    rt.lag_high_since.reset();
    rt.lag_low_since.reset();
    return false;
  }
  const int64_t lag = rt.job->millis_behind_latest();
  const int p = a.config().parallelism;
  int target = p;
  std::string reason;
  if (lag > as.scale_up_millis_behind) {
    rt.lag_low_since.reset();
    if (!rt.lag_high_since) rt.lag_high_since = now;
    if (now - *rt.lag_high_since >= as.scale_up_after && p < as.max_parallelism) {
      target = std::min(as.max_parallelism, p * 2);
      reason = fmt::format("autoscaling: MillisBehindLatest above {} for {}", as.scale_up_millis_behind,
                           absl::FormatDuration(now - *rt.lag_high_since));
    }
  } else if (lag <= as.scale_down_millis_behind) {
    rt.lag_high_since.reset();
    if (!rt.lag_low_since) rt.lag_low_since = now;
    if (now - *rt.lag_low_since >= as.scale_down_after && p > as.min_parallelism) {
      target = std::max(as.min_parallelism, p / 2);
      reason = fmt::format("autoscaling: MillisBehindLatest at most {} for {}",
                           as.scale_down_millis_behind, absl::FormatDuration(now - *rt.lag_low_since));
    }
  } else {
    rt.lag_high_since.reset();
    rt.lag_low_since.reset();
  }
  if (target == p) return false;
  RuntimeChange change;
  absl::StatusOr<std::string> op = ScaleLocked(a, target, now, Initiator::kSystem, reason, &change);
  if (!op.ok()) return false;  // e.g. the scaling cut could not be written; try again next round
  ApplyLocked(a.name, change);
  return true;
}

bool ManagerImpl::TakePendingSnapshotsLocked(AppState& a, absl::Time now) {
  bool dirty = false;
  for (size_t i = 0; i < a.snapshots.size(); ++i) {
    if (a.snapshots[i].details.snapshot_status != SnapshotStatus::kCreating) continue;
    dirty = true;
    const std::string name = a.snapshots[i].details.snapshot_name;
    if (a.status != ApplicationStatus::kRunning) {
      a.snapshots[i].details.snapshot_status = SnapshotStatus::kFailed;
      a.snapshots[i].details.failure =
          fmt::format("the application was {} when the snapshot was due", ToString(a.status));
      continue;
    }
    absl::StatusOr<std::string> s = TakeSnapshotLocked(a, SnapshotTrigger::kUser, name, now);
    if (!s.ok()) {
      SnapshotRecord* rec = FindSnapshot(a, name);
      rec->details.snapshot_status = SnapshotStatus::kFailed;
      rec->details.failure = std::string(Msg(s.status()));
    }
  }
  return dirty;
}

// ---------------------------------------------------------------- runner

void ManagerImpl::StartRunner(absl::Duration interval) {
  std::lock_guard<std::mutex> g(runner_mu_);
  if (runner_.joinable()) return;
  runner_stop_ = false;
  runner_ = std::thread([this, interval] {
    pthread_setname_np(pthread_self(), "tributary-apps");  // for top, perf and bench/endpoint/apps
    // Every `interval` while there is work; doubling up to 10 x `interval`
    // while every application is idle (a caught-up job then picks up new
    // records, and a restart whose delay passed happens, up to that much
    // later); a change (Kick) brings it back at once.
    const absl::Duration idle_max = interval * 10;
    absl::Duration wait = interval;
    std::unique_lock<std::mutex> l(runner_mu_);
    while (!runner_stop_) {
      runner_kick_ = false;
      l.unlock();
      bool busy = false;
      IgnoreError(PumpOnce(&busy));
      l.lock();
      wait = busy ? interval : std::min(wait * 2, idle_max);
      runner_cv_.wait_for(l, absl::ToChronoNanoseconds(wait),
                          [this] { return runner_stop_ || runner_kick_; });
      if (runner_kick_) wait = interval;
    }
  });
}

void ManagerImpl::Kick() {
  {
    std::lock_guard<std::mutex> g(runner_mu_);
    runner_kick_ = true;
  }
  runner_cv_.notify_all();
}

void ManagerImpl::StopRunner() {
  std::thread t;
  {
    std::lock_guard<std::mutex> g(runner_mu_);
    runner_stop_ = true;
    t = std::move(runner_);
  }
  runner_cv_.notify_all();
  if (t.joinable()) t.join();
}

}  // namespace tributary::apps
