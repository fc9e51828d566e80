// Wire names of the application enums, RestartStrategy shorthands and the
// Processor default.
#include <fmt/format.h>

#include "apps/errors.h"
#include "tributary/application.h"

namespace tributary {

std::string_view ToString(ApplicationStatus s) {
  switch (s) {
    case ApplicationStatus::kDeleting: return "DELETING";
    case ApplicationStatus::kStarting: return "STARTING";
    case ApplicationStatus::kStopping: return "STOPPING";
    case ApplicationStatus::kReady: return "READY";
    case ApplicationStatus::kRunning: return "RUNNING";
    case ApplicationStatus::kUpdating: return "UPDATING";
    case ApplicationStatus::kAutoscaling: return "AUTOSCALING";
    case ApplicationStatus::kForceStopping: return "FORCE_STOPPING";
    case ApplicationStatus::kRollingBack: return "ROLLING_BACK";
    case ApplicationStatus::kRolledBack: return "ROLLED_BACK";
  }
  return "UNKNOWN";
}

std::string_view ToString(OperationStatus s) {
  switch (s) {
    case OperationStatus::kInProgress: return "IN_PROGRESS";
    case OperationStatus::kCancelled: return "CANCELLED";
    case OperationStatus::kSuccessful: return "SUCCESSFUL";
    case OperationStatus::kFailed: return "FAILED";
  }
  return "UNKNOWN";
}

std::string_view ToString(OperationType t) {
  switch (t) {
    case OperationType::kCreateApplication: return "CreateApplication";
    case OperationType::kStartApplication: return "StartApplication";
    case OperationType::kStopApplication: return "StopApplication";
    case OperationType::kForceStopApplication: return "ForceStopApplication";
    case OperationType::kUpdateApplication: return "UpdateApplication";
    case OperationType::kScaleApplication: return "ScaleApplication";
    case OperationType::kRollbackApplication: return "RollbackApplication";
    case OperationType::kSystemRollbackApplication: return "SystemRollbackApplication";
    case OperationType::kJobRestart: return "JobRestart";
  }
  return "UNKNOWN";
}

std::string_view ToString(SnapshotStatus s) {
  switch (s) {
    case SnapshotStatus::kCreating: return "CREATING";
    case SnapshotStatus::kReady: return "READY";
    case SnapshotStatus::kDeleting: return "DELETING";
    case SnapshotStatus::kFailed: return "FAILED";
  }
  return "UNKNOWN";
}

std::string_view ToString(SnapshotTrigger t) {
  switch (t) {
    case SnapshotTrigger::kUser: return "USER";
    case SnapshotTrigger::kBeforeUpdate: return "BEFORE_UPDATE";
    case SnapshotTrigger::kOnStop: return "ON_STOP";
    case SnapshotTrigger::kBeforeScale: return "BEFORE_SCALE";
  }
  return "UNKNOWN";
}

std::string_view ToString(ApplicationRestoreType t) {
  switch (t) {
    case ApplicationRestoreType::kSkipRestoreFromSnapshot: return "SKIP_RESTORE_FROM_SNAPSHOT";
    case ApplicationRestoreType::kRestoreFromLatestSnapshot: return "RESTORE_FROM_LATEST_SNAPSHOT";
    case ApplicationRestoreType::kRestoreFromCustomSnapshot: return "RESTORE_FROM_CUSTOM_SNAPSHOT";
  }
  return "UNKNOWN";
}

std::string_view ToString(JobStatus s) {
  switch (s) {
    case JobStatus::kNotRunning: return "NOT_RUNNING";
    case JobStatus::kStarting: return "STARTING";
    case JobStatus::kRunning: return "RUNNING";
    case JobStatus::kRestarting: return "RESTARTING";
    case JobStatus::kFailed: return "FAILED";
  }
  return "UNKNOWN";
}

std::string_view ToString(RestartStrategyType t) {
  switch (t) {
    case RestartStrategyType::kFixedDelay: return "FIXED_DELAY";
    case RestartStrategyType::kFailureRate: return "FAILURE_RATE";
    case RestartStrategyType::kNoRestart: return "NO_RESTART";
  }
  return "UNKNOWN";
}

std::string_view ToString(Initiator i) {
  switch (i) {
    case Initiator::kUser: return "USER";
    case Initiator::kSystem: return "SYSTEM";
  }
  return "UNKNOWN";
}

std::string_view ToString(JobFault f) {
  switch (f) {
    case JobFault::kNone: return "NONE";
    case JobFault::kFail: return "FAIL";
    case JobFault::kHang: return "HANG";
  }
  return "UNKNOWN";
}

RestartStrategy RestartStrategy::FixedDelay(std::optional<int> max_attempts, absl::Duration delay) {
  RestartStrategy s;
  s.type = RestartStrategyType::kFixedDelay;
  s.max_attempts = max_attempts;
  s.delay = delay;
  return s;
}

RestartStrategy RestartStrategy::FailureRate(int max_failures, absl::Duration interval,
                                             absl::Duration delay) {
  RestartStrategy s;
  s.type = RestartStrategyType::kFailureRate;
  s.max_failures = max_failures;
  s.failure_interval = interval;
  s.delay = delay;
  return s;
}

RestartStrategy RestartStrategy::NoRestart() {
  RestartStrategy s;
  s.type = RestartStrategyType::kNoRestart;
  return s;
}

absl::Status Processor::RestoreRescaledState(absl::Span<const std::string> states) {
  return apps::UnsupportedOperationError(fmt::format(
      "this processor cannot restore state saved with a different parallelism ({} workers); "
      "override Processor::RestoreRescaledState",
      states.size()));
}

}  // namespace tributary
