// Job: one run of an application version: the workers' processors, the
// record source, restarts under the restart strategy, checkpoints and
// health. Driven step by step by the manager (Step), never by a thread of
// its own.
//
// Invariants:
//   * a job is either deployed (every worker has a processor restored to the
//     same cut, and the source is positioned at that cut) or not deployed (no
//     processor at all): a failure anywhere discards every worker;
//   * a (re)deploy restores from the job's latest checkpoint, else from the
//     cut it was started with, else fresh; so the workers' state always
//     equals "restored cut + every record processed since", each record once;
//   * `processed_` holds the positions of exactly the records the current
//     processors have processed.
#ifndef TRIBUTARY_LIB_APPS_JOB_H_
#define TRIBUTARY_LIB_APPS_JOB_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/model.h"
#include "apps/source.h"
#include "tributary/application.h"

namespace tributary::apps {

// Decides whether and when a failed job restarts (Flink's strategies).
class RestartTracker {
 public:
  explicit RestartTracker(const RestartStrategy& s) : strategy_(s) {}
  // Records a failure at `now`: the time to restart, or nullopt if the
  // strategy gives up.
  std::optional<absl::Time> OnFailure(absl::Time now);
  int attempts() const { return attempts_; }

 private:
  RestartStrategy strategy_;
  int attempts_ = 0;
  std::deque<absl::Time> failures_;  // FAILURE_RATE window
};

// What the job needs from the manager.
struct JobServices {
  // The registered factory, or InvalidApplicationConfigurationException.
  std::function<absl::StatusOr<ProcessorFactory>(const std::string& name, const std::string& version)>
      lookup;
  std::function<std::unique_ptr<RecordSource>(const std::string& stream)> make_source;
  // Persists a checkpoint (may be empty: in memory only).
  std::function<absl::Status(const Cut&)> save_checkpoint;
};

struct JobSpec {
  std::string application_name;
  int64_t version_id = 0;
  uint64_t job_id = 0;
  ApplicationConfiguration config;
  std::shared_ptr<const Cut> restore;  // the cut to start from; null: fresh
  std::string restore_label;           // e.g. the snapshot name
  bool allow_non_restored_state = false;
  std::optional<Cut> checkpoint;  // a checkpoint of this job (after a reopen, or a scaling cut)
  // Set when the cut to start from could not be read: every deploy fails with it.
  std::optional<absl::Status> restore_error;
  // The fault on purpose every start of the job gets (JobFault), and where
  // it comes from (for failure causes): changed later with SetFault.
  JobFault fault = JobFault::kNone;
  std::string fault_source;
};

class Job {
 public:
  struct StepResult {
    bool deployed = false;       // a deploy succeeded in this step
    bool healthy_round = false;  // a round completed without a failure in this step
    bool failed_final = false;   // the restart strategy gave up in this step
    int64_t records = 0;         // records processed in this step
    std::vector<RestartEvent> failures;  // failures recorded in this step
  };

  Job(JobSpec spec, JobServices services, absl::Time now);
  ~Job();

  // Deploys if due (first start, or a restart whose delay passed), then runs
  // one round (one batch per worker) if deployed, then a checkpoint if due.
  // With JobFault::kHang nothing deploys (a deployed job is taken down
  // first); with kFail the deployed job fails instead of its round.
  StepResult Step(absl::Time now);

  // Changes the fault on purpose from the next Step on.
  void SetFault(JobFault fault, std::string source);
  JobFault fault() const { return fault_; }

  // A consistent cut of the deployed job (every worker's SaveState plus the
  // processed positions). FailedPrecondition if the job is not deployed;
  // a SaveState error is returned as is (the job keeps running).
  absl::StatusOr<Cut> TakeCut() const;

  // Commits the processed positions to the source (the consumer's
  // checkpoints). OK and nothing done if the job is not deployed.
  absl::Status CommitPositions();

  uint64_t id() const { return spec_.job_id; }
  int64_t version_id() const { return spec_.version_id; }
  JobStatus status() const { return status_; }
  bool deployed() const { return status_ == JobStatus::kRunning; }
  JobHealth Health(absl::Time now) const;
  int64_t millis_behind_latest() const { return millis_behind_; }
  // Now minus this instant is JobHealth::time_since_last_healthy_batch.
  absl::Time healthy_reference() const { return last_healthy_.value_or(started_); }
  // The checkpoint a restart would use, if any.
  const std::optional<Cut>& checkpoint() const { return checkpoint_; }
  // The restore point of the job as a whole: its checkpoint, else the cut it
  // started from (null: fresh).
  const Cut* RestorePoint() const;

 private:
  absl::Status Deploy(absl::Time now);
  absl::Status Round(absl::Time now, std::string* cause);
  void Fail(absl::Time now, const std::string& cause, StepResult* r);
  void Undeploy();

  const JobSpec spec_;
  const JobServices services_;
  RestartTracker tracker_;
  JobStatus status_ = JobStatus::kStarting;
  absl::Time started_;
  std::vector<std::unique_ptr<Processor>> processors_;
  std::unique_ptr<RecordSource> source_;
  Positions processed_;
  std::optional<Cut> checkpoint_;
  absl::Time last_checkpoint_;
  absl::Time next_restart_;
  int restart_count_ = 0;
  int consecutive_failures_ = 0;
  std::optional<std::string> last_failure_;
  std::optional<absl::Time> last_failure_time_;
  std::optional<absl::Time> last_healthy_;
  int64_t records_processed_ = 0;
  int64_t millis_behind_ = 0;
  std::optional<std::string> restored_from_;
  JobFault fault_;
  std::string fault_source_;
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_JOB_H_
