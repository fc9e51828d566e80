// The applications layer's internal data model: what is persisted for each
// application (AppState) and what a snapshot or checkpoint holds (Cut).
// Encoding: codec.h; byte layout: docs/FORMAT.md "Applications".
#ifndef TRIBUTARY_LIB_APPS_MODEL_H_
#define TRIBUTARY_LIB_APPS_MODEL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apps/source.h"
#include "tributary/application.h"

namespace tributary::apps {

// A consistent cut of a job: every worker's state at one batch boundary and
// the input positions that state accounts for. Snapshots and checkpoints
// are cuts.
struct Cut {
  uint64_t job_id = 0;  // checkpoints: the job that took it
  int64_t application_version_id = 0;
  std::string processor_name;
  std::string code_version;
  std::string runtime_environment;
  std::string input_stream;
  int parallelism = 0;
  std::vector<std::string> states;  // one per worker (parallelism entries)
  Positions positions;

  uint64_t StateBytes() const {
    uint64_t n = 0;
    for (const std::string& s : states) n += s.size();
    return n;
  }
};

struct SnapshotRecord {
  SnapshotDetails details;
  uint64_t file_id = 0;  // snap-<file_id>.cut once READY; 0: no file
};

// What job the application should be running, if any. Persisted, so an
// application that was running when the store closed resumes on reopen.
struct JobPlan {
  bool active = false;
  uint64_t job_id = 0;
  // The snapshot the job restores from when it has no checkpoint yet;
  // empty: a fresh start.
  std::string restore_snapshot;
  bool allow_non_restored_state = false;
};

struct AppState {
  std::string name;
  std::string arn;
  uint64_t incarnation = 0;  // names the application's directory
  ApplicationStatus status = ApplicationStatus::kReady;
  int64_t version_id = 1;
  absl::Time create_time;
  absl::Time last_update_time;
  std::optional<int64_t> updated_from;
  std::optional<int64_t> rolled_back_from;
  std::optional<int64_t> rolled_back_to;
  std::optional<RunConfiguration> last_run;
  std::vector<ApplicationVersionDetail> versions;  // versions[i] has id i + 1
  std::deque<ApplicationOperationInfoDetails> operations;  // oldest first
  std::vector<SnapshotRecord> snapshots;                   // oldest first
  std::deque<RestartEvent> restarts;                       // oldest first
  std::string current_operation;  // id of the operation IN_PROGRESS; empty: none
  JobPlan plan;
  uint64_t next_operation = 1;
  uint64_t next_file = 1;
  uint64_t next_job = 1;
  // The restart-loop rule fired for this version already (fires once).
  int64_t loop_rule_fired_version = 0;
  // Since APPS format version 2:
  std::map<std::string, std::string> tags;   // TagResource (not versioned)
  std::string maintenance_window_start = "03:00";  // "HH:MM" UTC
  std::optional<JobFault> fault_override;    // SetJobFault

  const ApplicationConfiguration& config() const {
    return versions[static_cast<size_t>(version_id - 1)].configuration;
  }
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_MODEL_H_
