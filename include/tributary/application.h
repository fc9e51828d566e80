// Applications: stateful stream processors with the lifecycle of Amazon
// Managed Service for Apache Flink, in process.
//
// An ApplicationManager sits on a Store. It holds named applications; each
// reads one input stream through the ordered consumer (tributary/consumer.h,
// one consumer worker per unit of parallelism) with a registered Processor
// (tributary/processor.h)
// and goes through the Managed Flink statuses (READY, STARTING, RUNNING,
// UPDATING, AUTOSCALING, STOPPING, FORCE_STOPPING, ROLLING_BACK, DELETING):
// versions (every configuration change makes a new ApplicationVersionId),
// snapshots (named, consistent cuts of every worker's state together with the
// input positions), operations (every start, stop, update, scale and
// rollback, with status and failure details), job health (restarts under a
// restart strategy, each with its cause), RollbackApplication, opt-in system
// rollback, an opt-in restart-loop rule, and autoscaling. The semantics, the
// status table and the persistence format are in docs/APPLICATIONS.md.
//
// Time and progress: nothing happens behind the caller's back. Calls change
// metadata and return; Pump() does the work (deploys jobs, processes one
// round of batches, takes checkpoints and requested snapshots, restarts
// failed jobs when their delay has passed on the store's clock, completes
// transitions once ApplicationManagerOptions::transition_time has passed).
// Tests call Pump() step by step on a ManualClock; programs call it in their
// own loop or use StartRunner().
//
// Faults on purpose (rehearsing the rollback document): property group
// "tributary.faults" of a version's configuration, FailOnStart = "true"
// (every start of the job fails right after it deployed: RUNNING with a job
// that restarts continuously) or HangOnStart = "true" (the job never
// finishes deploying: the application stays STARTING, UPDATING or
// AUTOSCALING), or SetJobFault() for an application without a new version.
//
// Input: applications read their input streams from the manager's store, or
// from ApplicationManagerOptions::input_store (for instance a remote Kinesis
// stream, tributary/remote.h) while everything else stays local.
//
// Persistence: on a durable store (Store::Open) everything (applications,
// versions, operations, restart history, snapshots, checkpoints) lives under
// <store dir>/apps and survives a reopen; on an in-memory store it lives in
// memory. Applications that were running when the store closed resume from
// their latest checkpoint at the first Pump() after reopening.
//
// Errors carry the Managed Flink error types (tributary/status.h):
// ResourceNotFoundException, ResourceInUseException (wrong status),
// ConcurrentModificationException (stale CurrentApplicationVersionId),
// InvalidArgumentException, InvalidRequestException,
// InvalidApplicationConfigurationException, LimitExceededException,
// TooManyTagsException, UnsupportedOperationException. A rejected call
// changes nothing.
//
// Thread safety: an ApplicationManager is safe for concurrent use. Calls that
// change something, and Pump()'s step of one application, serialize on one
// lock (so a change waits for at most one application's round). Reads
// (Describe*, List*) never wait for a change or a round: they read the
// state as of the last committed change and the job health as of the last
// round. Results are returned by value.
#ifndef TRIBUTARY_APPLICATION_H_
#define TRIBUTARY_APPLICATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/processor.h"
#include "tributary/store.h"

namespace tributary {

namespace apps {
class ManagerImpl;
}  // namespace apps

// ---------------------------------------------------------------- enums
// Values of these enums are persisted (docs/FORMAT.md "Applications"):
// never renumber.

// Managed Flink's ApplicationStatus. ROLLED_BACK marks versions in the
// history that a rollback reverted; an application itself is never in it.
// MAINTENANCE is not modelled (there is no platform maintenance here).
enum class ApplicationStatus {
  kDeleting = 0,
  kStarting = 1,
  kStopping = 2,
  kReady = 3,
  kRunning = 4,
  kUpdating = 5,
  kAutoscaling = 6,
  kForceStopping = 7,
  kRollingBack = 8,
  kRolledBack = 9,
};

// OperationStatus of ListApplicationOperations.
enum class OperationStatus { kInProgress = 0, kCancelled = 1, kSuccessful = 2, kFailed = 3 };

// The Operation of an ApplicationOperationInfo. Wire names: "CreateApplication",
// "StartApplication", "StopApplication", "ForceStopApplication",
// "UpdateApplication", "ScaleApplication", "RollbackApplication",
// "SystemRollbackApplication" (a rollback the system started: system
// rollback or the restart-loop rule), "JobRestart" (the job failed: a
// SYSTEM operation, FAILED at once, whose failure details carry the cause
// and what the restart strategy does next).
enum class OperationType {
  kCreateApplication = 0,
  kStartApplication = 1,
  kStopApplication = 2,
  kForceStopApplication = 3,
  kUpdateApplication = 4,
  kScaleApplication = 5,
  kRollbackApplication = 6,
  kSystemRollbackApplication = 7,
  kJobRestart = 8,
};

// SnapshotStatus.
enum class SnapshotStatus { kCreating = 0, kReady = 1, kDeleting = 2, kFailed = 3 };

// Why a snapshot exists.
enum class SnapshotTrigger {
  kUser = 0,          // CreateApplicationSnapshot
  kBeforeUpdate = 1,  // taken by UpdateApplication of a running application
  kOnStop = 2,        // taken by StopApplication (not with force)
  kBeforeScale = 3,   // taken by a scaling operation
};

// ApplicationRestoreType.
enum class ApplicationRestoreType {
  kSkipRestoreFromSnapshot = 0,
  kRestoreFromLatestSnapshot = 1,
  kRestoreFromCustomSnapshot = 2,
};

// What the current job is doing (DescribeApplication's job health).
enum class JobStatus {
  kNotRunning = 0,  // no job: the application is READY, or stopping
  kStarting = 1,    // deploying: creating processors, restoring state
  kRunning = 2,     // processing
  kRestarting = 3,  // failed; waiting for the restart delay to pass
  kFailed = 4,      // failed; the restart strategy gave up
};

enum class RestartStrategyType { kFixedDelay = 0, kFailureRate = 1, kNoRestart = 2 };

// Who started an operation.
enum class Initiator { kUser = 0, kSystem = 1 };

// A fault on purpose: what every start of an application's job does.
//   kNone: nothing (the job runs as its processors make it run);
//   kFail: the job deploys (the operation that started it succeeds) and fails
//          right after, every time it is started: RUNNING with a job that
//          restarts continuously under its restart strategy;
//   kHang: the job never finishes deploying (a deployed job that is told to
//          hang is taken down and hangs in its next deploy): the application
//          stays STARTING, UPDATING, AUTOSCALING or ROLLING_BACK until a
//          rollback or a forced stop.
// From a version's configuration (property group "tributary.faults", keys
// FailOnStart / HangOnStart = "true" / "false") or set for the application
// with ApplicationManager::SetJobFault, which overrides the configuration.
enum class JobFault { kNone = 0, kFail = 1, kHang = 2 };

// Wire names: "READY", "IN_PROGRESS", "UpdateApplication", "CREATING",
// "RESTORE_FROM_LATEST_SNAPSHOT", "RUNNING", "FIXED_DELAY", ...
std::string_view ToString(ApplicationStatus s);
std::string_view ToString(OperationStatus s);
std::string_view ToString(OperationType t);
std::string_view ToString(SnapshotStatus s);
std::string_view ToString(SnapshotTrigger t);
std::string_view ToString(ApplicationRestoreType t);
std::string_view ToString(JobStatus s);
std::string_view ToString(RestartStrategyType t);
std::string_view ToString(Initiator i);
std::string_view ToString(JobFault f);  // "NONE", "FAIL", "HANG"

// The property group and keys of the faults on purpose (see JobFault).
inline constexpr std::string_view kFaultsPropertyGroup = "tributary.faults";
inline constexpr std::string_view kFailOnStartKey = "FailOnStart";
inline constexpr std::string_view kHangOnStartKey = "HangOnStart";
// The property group and key the input stream is taken from when
// ApplicationConfiguration::input_stream is empty (the AWS Flink examples'
// convention), and the output stream's, for processors that write one.
inline constexpr std::string_view kInputPropertyGroup = "InputStream0";
inline constexpr std::string_view kOutputPropertyGroup = "OutputStream0";
inline constexpr std::string_view kStreamNameKey = "stream.name";

// ---------------------------------------------------------------- configuration

// When a failed job is restarted (Flink's restart strategies).
//   FIXED_DELAY:  restart after `delay`, at most `max_attempts` times over
//                 the job's life (unset: forever, Managed Flink's default).
//   FAILURE_RATE: restart after `delay` unless more than `max_failures`
//                 failures happened within the last `failure_interval`.
//   NO_RESTART:   the first failure is final.
// Delays run on the store's clock.
struct RestartStrategy {
  RestartStrategyType type = RestartStrategyType::kFixedDelay;
  absl::Duration delay = absl::Seconds(10);
  std::optional<int> max_attempts;  // FIXED_DELAY; >= 1 if set
  int max_failures = 3;             // FAILURE_RATE; >= 1
  absl::Duration failure_interval = absl::Minutes(5);  // FAILURE_RATE; > 0

  static RestartStrategy FixedDelay(std::optional<int> max_attempts, absl::Duration delay);
  static RestartStrategy FailureRate(int max_failures, absl::Duration interval,
                                     absl::Duration delay);
  static RestartStrategy NoRestart();
};

// Periodic checkpoints of a running job (Flink's CheckpointConfiguration).
// A failed job restarts from its latest checkpoint, so less is replayed.
// Without checkpoints it restarts from the snapshot it started from (or the
// beginning of the stream), which is still exact, only slower.
struct CheckpointConfiguration {
  bool enabled = true;
  absl::Duration interval = absl::Minutes(1);  // >= 0; 0: after every round
  // Stored and reported (Managed Flink's ConfigurationType CUSTOM and
  // MinPauseBetweenCheckpoints); not used by the runner.
  bool custom = false;
  absl::Duration min_pause = absl::Seconds(5);  // >= 0
};

// Settings Tributary stores with a version and reports, without acting on
// them (there is no S3, CloudWatch, VPC or KMS here). Managed Flink's names.
struct CodeLocation {  // ApplicationCodeConfiguration ... S3ContentLocation
  std::string bucket_arn;
  std::string file_key;
  std::string object_version;
};
struct MonitoringConfiguration {
  bool custom = false;                       // ConfigurationType CUSTOM
  std::string metrics_level = "APPLICATION";  // APPLICATION, TASK, OPERATOR, PARALLELISM
  std::string log_level = "INFO";            // INFO, WARN, ERROR, DEBUG
};
struct CloudWatchLoggingOption {
  std::string id;  // CloudWatchLoggingOptionId, unique within the configuration
  std::string log_stream_arn;
  std::string role_arn;
};
struct VpcConfiguration {
  std::string id;  // VpcConfigurationId, unique within the configuration
  std::string vpc_id;
  std::vector<std::string> subnet_ids;
  std::vector<std::string> security_group_ids;
};
struct EncryptionConfiguration {
  std::string key_type = "AWS_OWNED_KEY";  // or CUSTOMER_MANAGED_KEY
  std::string key_id;
};

// Parallelism changes driven by input lag (ParallelismConfiguration's
// AutoScalingEnabled). When every round of `scale_up_after` saw the job's
// MillisBehindLatest above `scale_up_millis_behind`, parallelism doubles (up
// to max_parallelism); after `scale_down_after` below
// `scale_down_millis_behind` it halves (down to min_parallelism). Each change
// is a ScaleApplication operation through AUTOSCALING.
struct AutoscalingConfiguration {
  bool enabled = false;
  int min_parallelism = 1;
  int max_parallelism = 8;  // <= limits::kMaxParallelism
  int64_t scale_up_millis_behind = 60'000;
  absl::Duration scale_up_after = absl::Minutes(5);
  int64_t scale_down_millis_behind = 1'000;
  absl::Duration scale_down_after = absl::Hours(6);
};

// The restart-loop rule (Tributary's own; Managed Flink leaves this case to a
// human): while the application runs a version made by an update or a
// scaling, if its job failed `max_restarts` times within `within`, the system
// rolls back to the version before, from the latest snapshot, and the
// rollback operation records why.
struct RestartLoopRollback {
  bool enabled = false;
  int max_restarts = 3;                      // >= 1
  absl::Duration within = absl::Minutes(10);  // > 0
};

struct ApplicationConfiguration {
  // The stream the application reads (name or ARN). Empty: property group
  // "InputStream0" key "stream.name"; one of the two is required to start.
  std::string input_stream;
  // The registered processor and code version it runs.
  std::string processor_name;
  std::string code_version;
  // RuntimeEnvironment: a free label such as "1.15" or "FLINK-1_18", stored
  // with versions and snapshots and shown to processors. 1..64 characters.
  std::string runtime_environment;
  // Workers of the job (Flink parallelism): 1..limits::kMaxParallelism.
  int parallelism = 1;
  // Properties handed to processors (ProcessorContext::properties).
  std::map<std::string, std::string> properties;
  // EnvironmentProperties: property group id -> key -> value, handed to
  // processors (ProcessorContext::property_groups). Group
  // "tributary.faults" is the manager's (see JobFault); "InputStream0" /
  // "OutputStream0" name streams by key "stream.name".
  std::map<std::string, std::map<std::string, std::string>> property_groups;
  // ApplicationSnapshotConfiguration.SnapshotsEnabled: automatic snapshots
  // before updates and on stop, and CreateApplicationSnapshot.
  bool snapshots_enabled = true;
  CheckpointConfiguration checkpoints;
  RestartStrategy restart_strategy;
  AutoscalingConfiguration autoscaling;
  // ApplicationSystemRollbackConfiguration.RollbackEnabled.
  bool system_rollback_enabled = false;
  RestartLoopRollback restart_loop_rollback;
  // Largest batch handed to Process, and about the most records a worker
  // processes in one round (Pump): 1..10000.
  int max_batch_records = 1000;

  // ---- stored with the version and reported, not acted on
  std::string description;             // ApplicationDescription, 0..1024 characters
  std::string service_execution_role;  // ServiceExecutionRole
  CodeLocation code;                   // where the code "is" (processor_name names it)
  MonitoringConfiguration monitoring;
  // ParallelismConfiguration's ConfigurationType CUSTOM and ParallelismPerKPU.
  bool parallelism_custom = false;
  int parallelism_per_kpu = 1;  // >= 1
  std::vector<CloudWatchLoggingOption> cloudwatch_logging_options;
  std::vector<VpcConfiguration> vpc_configurations;
  std::optional<EncryptionConfiguration> encryption;
};

// RunConfiguration of StartApplication / UpdateApplication.
struct RunConfiguration {
  ApplicationRestoreType restore_type = ApplicationRestoreType::kRestoreFromLatestSnapshot;
  std::string snapshot_name;  // RESTORE_FROM_CUSTOM_SNAPSHOT only
  // FlinkRunConfiguration.AllowNonRestoredState: start even if part of the
  // snapshot cannot be mapped to the new job (it was taken by another
  // processor, or on another input stream); that part is dropped.
  bool allow_non_restored_state = false;
};

// ---------------------------------------------------------------- results

// One restart of a job, with its cause.
struct RestartEvent {
  absl::Time time;
  int64_t application_version_id = 0;
  int attempt = 0;     // 1 for the first restart after a healthy run
  std::string cause;   // "worker 1: Process: INTERNAL: ..."
  bool final = false;  // the restart strategy gave up here
};

// How the current job is doing. A job that is RUNNING but fails and
// restarts continuously shows restart_count growing, last_failure and a
// growing time since its last healthy batch.
struct JobHealth {
  JobStatus status = JobStatus::kNotRunning;
  int parallelism = 0;
  int restart_count = 0;        // restarts of the current job
  int consecutive_failures = 0;  // since the last healthy batch
  std::optional<std::string> last_failure;
  std::optional<absl::Time> last_failure_time;
  std::optional<absl::Time> last_healthy_batch_time;
  // Now minus the last healthy batch (or the job's start if none yet).
  absl::Duration time_since_last_healthy_batch = absl::ZeroDuration();
  std::optional<absl::Time> next_restart_time;  // while RESTARTING
  int64_t records_processed = 0;  // by this job since it started
  int64_t millis_behind_latest = 0;  // the largest lag seen in the last round
  std::optional<std::string> restored_from;  // snapshot (or "checkpoint") it started from
};

struct ApplicationDetail {
  std::string application_name;
  std::string application_arn;  // arn:aws:kinesisanalytics:<region>:<account>:application/<name>
  ApplicationStatus application_status = ApplicationStatus::kReady;
  int64_t application_version_id = 1;
  ApplicationConfiguration configuration;
  absl::Time create_timestamp;
  absl::Time last_update_timestamp;
  // The version before the latest update or scaling: what RollbackApplication
  // reverts to. Unset for the first version and after a rollback.
  std::optional<int64_t> application_version_updated_from;
  // Set by the latest rollback: the version it was called on and the version
  // whose configuration it restored.
  std::optional<int64_t> application_version_rolled_back_from;
  std::optional<int64_t> application_version_rolled_back_to;
  std::optional<RunConfiguration> last_run_configuration;
  JobHealth job;
  std::vector<RestartEvent> recent_restarts;  // newest last, at most 20
  // When the current version was made.
  absl::Time application_version_create_timestamp;
  // Changes with every version: UpdateApplication accepts it in place of
  // the version id (ConditionalToken).
  std::string conditional_token;
  // The maintenance window, "HH:MM" UTC; the end is 8 hours after the start.
  std::string maintenance_window_start;
  std::string maintenance_window_end;
  // The fault every start of the job gets (JobFault), and whether it was
  // set with SetJobFault (else it comes from the configuration).
  JobFault job_fault = JobFault::kNone;
  std::optional<JobFault> job_fault_override;
};

struct ApplicationSummary {
  std::string application_name;
  std::string application_arn;
  ApplicationStatus application_status = ApplicationStatus::kReady;
  int64_t application_version_id = 1;
  std::string runtime_environment;
};

// ApplicationMaintenanceConfigurationDescription.
struct MaintenanceConfiguration {
  std::string window_start;  // "HH:MM" UTC
  std::string window_end;    // 8 hours later
};

// A registered (processor name, code version).
struct ProcessorInfo {
  std::string name;
  std::string code_version;
};

struct ApplicationVersionSummary {
  int64_t application_version_id = 0;
  // The status the application last had under this version; ROLLED_BACK for
  // a version a rollback reverted.
  ApplicationStatus application_status = ApplicationStatus::kReady;
};

struct ApplicationVersionDetail {
  int64_t application_version_id = 0;
  ApplicationStatus application_status = ApplicationStatus::kReady;
  ApplicationConfiguration configuration;
  absl::Time create_timestamp;
  std::string created_by_operation_id;
  std::optional<int64_t> application_version_updated_from;
  std::optional<int64_t> application_version_rolled_back_from;
  std::optional<int64_t> application_version_rolled_back_to;
};

struct SnapshotDetails {
  std::string snapshot_name;
  SnapshotStatus snapshot_status = SnapshotStatus::kCreating;
  int64_t application_version_id = 0;  // the version it was taken under
  std::string runtime_environment;     // ... and that version's runtime
  std::string processor_name;
  std::string code_version;
  int parallelism = 0;
  absl::Time snapshot_creation_timestamp;
  SnapshotTrigger trigger = SnapshotTrigger::kUser;
  uint64_t size_bytes = 0;  // processor state bytes, once READY
  std::optional<std::string> failure;  // why it is FAILED
};

struct ApplicationVersionChangeDetails {
  int64_t application_version_updated_from = 0;
  int64_t application_version_updated_to = 0;
};

struct OperationFailureDetails {
  // The system rollback the failure started, if any.
  std::optional<std::string> rollback_operation_id;
  std::string error_string;  // ErrorInfo.ErrorString
};

struct ApplicationOperationInfo {
  std::string operation_id;
  OperationType operation = OperationType::kStartApplication;
  OperationStatus operation_status = OperationStatus::kInProgress;
  absl::Time start_time;
  std::optional<absl::Time> end_time;
};

struct ApplicationOperationInfoDetails {
  std::string operation_id;
  OperationType operation = OperationType::kStartApplication;
  OperationStatus operation_status = OperationStatus::kInProgress;
  absl::Time start_time;
  std::optional<absl::Time> end_time;
  Initiator initiated_by = Initiator::kUser;
  // Why the system started it (system rollback, restart-loop rule, lag).
  std::optional<std::string> reason;
  std::optional<ApplicationVersionChangeDetails> application_version_change_details;
  std::optional<OperationFailureDetails> operation_failure_details;
};

struct ListApplicationOperationsRequest {
  std::string application_name;
  std::optional<int> limit;  // 1..50, default 50
  std::optional<std::string> next_token;
  std::optional<OperationType> operation;          // filter
  std::optional<OperationStatus> operation_status;  // filter
};

struct ListApplicationOperationsResult {
  std::vector<ApplicationOperationInfo> operations;  // oldest first
  std::optional<std::string> next_token;
};

struct ListApplicationVersionsResult {
  std::vector<ApplicationVersionSummary> versions;  // newest first
  std::optional<std::string> next_token;
};

struct ListApplicationSnapshotsResult {
  std::vector<SnapshotDetails> snapshots;  // oldest first
  std::optional<std::string> next_token;
};

struct UpdateApplicationRequest {
  std::string application_name;
  // The caller's view of the application: the version id (0: not given)
  // and/or conditional_token below. At least one is required
  // (InvalidArgumentException); each that is given must be the current one
  // (ConcurrentModificationException otherwise).
  int64_t current_application_version_id = 0;
  // The whole new configuration (copy DescribeApplication's and change it).
  ApplicationConfiguration configuration;
  // How the new job restores, when the application is RUNNING. Default:
  // the latest snapshot (which is the one taken just before the update when
  // snapshots are enabled).
  RunConfiguration run_configuration;
  // ApplicationDetail::conditional_token as the caller last saw it.
  std::optional<std::string> conditional_token;
};

struct OperationResult {
  std::string operation_id;
  ApplicationDetail application_detail;  // right after the call
};

// ---------------------------------------------------------------- limits

namespace limits {
inline constexpr size_t kMaxApplicationNameLength = 128;
inline constexpr size_t kMaxSnapshotNameLength = 256;
inline constexpr size_t kMaxRuntimeEnvironmentLength = 64;
inline constexpr int kMaxParallelism = 256;
inline constexpr int kMaxSnapshotsPerApplication = 1000;
inline constexpr int kMaxOperationsKept = 1000;     // oldest are dropped
inline constexpr int kMaxRestartEventsKept = 1000;  // oldest are dropped
inline constexpr int kMaxListOperations = 50;
inline constexpr int kMaxListVersions = 50;
inline constexpr int kMaxListSnapshots = 50;
inline constexpr int kMaxBatchRecords = 10000;
// User tags per application (TooManyTagsException); keys and values are
// limited as for streams (kMaxTagKeyLength, kMaxTagValueLength, options.h).
inline constexpr size_t kMaxTags = 50;
inline constexpr size_t kMaxDescriptionLength = 1024;
// JobRestart operations kept per application (the oldest go first, before
// any other operation is dropped).
inline constexpr int kMaxJobRestartOperationsKept = 100;
}  // namespace limits

// ---------------------------------------------------------------- manager

struct ApplicationManagerOptions {
  // The account and region used in application ARNs; empty: the store's.
  std::string region;
  std::string account_id;
  // The store the applications' input streams are read from (not owned;
  // must outlive the manager). nullptr: the manager's own store. Typically a
  // remote store (Store::OpenRemote): the applications then read a Kinesis
  // stream while their metadata, snapshots, checkpoints and the consumers'
  // leases stay in the manager's local store (durable or in memory). Only
  // the reading (ListShards, GetShardIterator, GetRecords) and the
  // consumers' own timers use it; the manager's timing (checkpoint
  // intervals, restart delays, autoscaling windows, timestamps) runs on the
  // manager's store's clock. docs/APPLICATIONS.md "Input from another store".
  Store* input_store = nullptr;
  // How long a transition takes at least: a transient status (STARTING,
  // UPDATING, AUTOSCALING, ROLLING_BACK, STOPPING, FORCE_STOPPING,
  // DELETING) completes, and a new job deploys, no earlier than this after
  // the status was entered (store clock). Zero: at the next Pump().
  absl::Duration transition_time = absl::ZeroDuration();
  // The RuntimeEnvironment labels CreateApplication and UpdateApplication
  // accept (InvalidArgumentException naming them otherwise); empty: any.
  std::vector<std::string> runtime_environments;
};

class ApplicationManager {
 public:
  // Opens the applications of `store` (not owned; must outlive the manager).
  // On a durable store this reads <dir>/apps (DataLoss, ErrorType
  // kCorruption, if its metadata is damaged) and takes <dir>/apps/LOCK
  // (ResourceInUseException if another manager has it).
  // `store` must be local (in memory or durable): on a remote store
  // (Store::OpenRemote) there is nowhere to keep applications, snapshots and
  // checkpoints, so Open fails (InvalidArgumentException) and says to pass
  // the remote store as options.input_store of a manager on a local store.
  static absl::StatusOr<std::unique_ptr<ApplicationManager>> Open(
      Store* store, const ApplicationManagerOptions& options = ApplicationManagerOptions());
  ~ApplicationManager();  // stops the runner; running jobs just stop (no snapshot)
  ApplicationManager(const ApplicationManager&) = delete;
  ApplicationManager& operator=(const ApplicationManager&) = delete;

  // ---- processors (host code; in memory, register again after a reopen)
  // InvalidArgumentException if (name, code_version) is already registered.
  absl::Status RegisterProcessor(std::string_view name, std::string_view code_version,
                                 ProcessorFactory factory);
  // Every registered (name, code version), sorted.
  std::vector<ProcessorInfo> RegisteredProcessors();

  // ---- applications
  // The application starts READY at version 1. ResourceInUseException if the
  // name is taken; InvalidArgumentException for a bad configuration, a
  // runtime not in options.runtime_environments, or a processor and code
  // version that are not registered (the message names the registered
  // ones); tags as TagResource checks them.
  absl::StatusOr<ApplicationDetail> CreateApplication(
      std::string_view name, const ApplicationConfiguration& config,
      const std::map<std::string, std::string>& tags = {});
  // Any status but DELETING. Stops the job without a snapshot; the
  // application is DELETING until the next Pump() after the transition
  // time, then gone with its snapshots. If `create_timestamp` is given it
  // must match to the millisecond (InvalidArgumentException).
  absl::Status DeleteApplication(std::string_view name,
                                 std::optional<absl::Time> create_timestamp = std::nullopt);
  absl::StatusOr<ApplicationDetail> DescribeApplication(std::string_view name);
  std::vector<ApplicationSummary> ListApplications();

  // READY -> STARTING -> RUNNING. ResourceInUseException unless READY;
  // ResourceNotFoundException for an unknown custom snapshot,
  // InvalidRequestException for one that is not READY;
  // InvalidApplicationConfigurationException without an input stream.
  absl::StatusOr<OperationResult> StartApplication(std::string_view name,
                                                   const RunConfiguration& run = RunConfiguration());
  // RUNNING -> STOPPING -> READY, taking a snapshot first when snapshots are
  // enabled. With `force`, from STARTING, UPDATING, STOPPING, AUTOSCALING,
  // ROLLING_BACK or RUNNING -> FORCE_STOPPING -> READY, without a snapshot
  // (an operation in progress is CANCELLED). ResourceInUseException otherwise.
  absl::StatusOr<OperationResult> StopApplication(std::string_view name, bool force = false);
  // From READY (UPDATING -> READY) or RUNNING (a snapshot first when enabled,
  // then UPDATING -> RUNNING once the new job is deployed; with system
  // rollback enabled in the new version, once it also completed a healthy
  // round, and its first failure before that fails the update and rolls
  // back). Makes version current+1 whose ApplicationVersionUpdatedFrom is
  // the current version.
  absl::StatusOr<OperationResult> UpdateApplication(const UpdateApplicationRequest& request);
  // Changes the parallelism of a RUNNING application through AUTOSCALING
  // (a new version, like an update; snapshot-consistent).
  absl::StatusOr<OperationResult> ScaleApplication(std::string_view name,
                                                   int64_t current_application_version_id,
                                                   int parallelism);
  // RollbackApplication: from RUNNING, UPDATING or AUTOSCALING only.
  // Reverts the change that made the current version (to
  // ApplicationVersionUpdatedFrom) as a new version, marks the reverted
  // version ROLLED_BACK, and restarts from the latest READY snapshot.
  // ConcurrentModificationException if `current_application_version_id` is
  // stale; InvalidRequestException if there is no version to go back to or
  // no READY snapshot.
  absl::StatusOr<OperationResult> RollbackApplication(std::string_view name,
                                                      int64_t current_application_version_id);

  // ---- versions
  absl::StatusOr<ListApplicationVersionsResult> ListApplicationVersions(
      std::string_view name, std::optional<int> limit = std::nullopt,
      std::optional<std::string> next_token = std::nullopt);
  absl::StatusOr<ApplicationVersionDetail> DescribeApplicationVersion(std::string_view name,
                                                                      int64_t version_id);

  // ---- snapshots
  // RUNNING only (ResourceInUseException); InvalidRequestException if
  // snapshots are disabled; InvalidArgumentException if the name is taken;
  // LimitExceededException past limits::kMaxSnapshotsPerApplication. The
  // snapshot is CREATING until the next Pump() takes it at a batch boundary
  // (READY, or FAILED if the job is not running then).
  absl::Status CreateApplicationSnapshot(std::string_view name, std::string_view snapshot_name);
  absl::StatusOr<ListApplicationSnapshotsResult> ListApplicationSnapshots(
      std::string_view name, std::optional<int> limit = std::nullopt,
      std::optional<std::string> next_token = std::nullopt);
  absl::StatusOr<SnapshotDetails> DescribeApplicationSnapshot(std::string_view name,
                                                              std::string_view snapshot_name);
  // READY or FAILED snapshots; DELETING until the next Pump(). If
  // `creation_timestamp` is given it must match to the second
  // (InvalidArgumentException).
  absl::Status DeleteApplicationSnapshot(std::string_view name, std::string_view snapshot_name,
                                         std::optional<absl::Time> creation_timestamp = std::nullopt);

  // ---- operations
  absl::StatusOr<ListApplicationOperationsResult> ListApplicationOperations(
      const ListApplicationOperationsRequest& request);
  absl::StatusOr<ApplicationOperationInfoDetails> DescribeApplicationOperation(
      std::string_view name, std::string_view operation_id);

  // ---- tags (of the application, not of a version; no new version)
  // `resource_arn` is the application's ARN (ResourceNotFoundException for
  // any other). Keys 1..128 characters, not starting with "aws:"; values
  // 0..256 (InvalidArgumentException); at most limits::kMaxTags
  // (TooManyTagsException). Any status but DELETING (ResourceInUseException).
  absl::Status TagResource(std::string_view resource_arn,
                           const std::map<std::string, std::string>& tags);
  absl::Status UntagResource(std::string_view resource_arn, const std::vector<std::string>& keys);
  absl::StatusOr<std::map<std::string, std::string>> ListTagsForResource(
      std::string_view resource_arn);

  // ---- maintenance (no new version)
  // READY or RUNNING only (ResourceInUseException). `window_start` is "HH:MM"
  // (InvalidArgumentException otherwise); the window lasts 8 hours.
  absl::StatusOr<MaintenanceConfiguration> UpdateApplicationMaintenanceConfiguration(
      std::string_view name, std::string_view window_start);

  // ---- faults on purpose (no new version)
  // Overrides the configuration's "tributary.faults" for every job of the
  // application until called again; nullopt removes the override. kFail
  // fails the running job at its next round and every start after;
  // kHang takes a running job down and hangs its next deploy; kNone makes
  // the job healthy again even if the configuration asks for a fault.
  // Persisted with the application. Any status but DELETING.
  absl::Status SetJobFault(std::string_view name, std::optional<JobFault> fault);

  // Testing (tributary-server's POST /_tributary/reset): every application
  // gone at once, whatever its status: its job stopped without a snapshot,
  // its versions, operations, snapshots and checkpoints removed (on disk
  // too), its input consumers' leases forgotten. No DELETING period: the
  // names are free when it returns. Registered processors are kept. On a
  // storage error the applications are gone from memory anyway and the
  // first error is returned.
  absl::Status DeleteAllApplications();

  // ---- progress
  // One step of every application: completes due transitions, deploys or
  // restarts jobs whose time has come, runs one round (one batch per worker)
  // of every running job, then takes due checkpoints and requested
  // snapshots. Returns the first persistence error (the step still runs for
  // every application).
  absl::Status Pump();
  // Calls Pump() in a background thread, `interval` of real time apart, until
  // StopRunner() or destruction. For production use with the system clock.
  void StartRunner(absl::Duration interval = absl::Milliseconds(10));
  void StopRunner();

 private:
  explicit ApplicationManager(std::unique_ptr<apps::ManagerImpl> impl);
  std::unique_ptr<apps::ManagerImpl> impl_;
};

}  // namespace tributary

#endif  // TRIBUTARY_APPLICATION_H_
