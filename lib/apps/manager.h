// ManagerImpl: the state machine behind ApplicationManager (semantics:
// docs/APPLICATIONS.md).
//
// Every application has persisted state (AppState, in states_), runtime
// state (its Job, in runtime_) and a published view (views_). A call
// validates, changes a copy of the AppState, writes the APPS file, and only
// then swaps the copy in, touches the runtime and publishes, so a rejected
// or failed call changes nothing. Pump() steps one application at a time:
// it changes states_ in place, writes once per application step that
// changed something, and publishes.
//
// Invariants:
//   * an application has at most one operation IN_PROGRESS
//     (AppState::current_operation), and only in a transient status
//     (STARTING, STOPPING, FORCE_STOPPING, UPDATING, AUTOSCALING,
//     ROLLING_BACK, DELETING);
//   * RUNNING and READY never have an operation in progress;
//   * a job exists only while plan.active, and runs the current version;
//   * versions[i] has id i+1, and version_id == versions.size();
//   * views_[name].state is a copy of states_[name] as of the last commit
//     (or changing Pump step), and views_ has exactly the names of states_.
//
// Locking: mu_ serializes every change and every application step of
// Pump() (one step at a time, released in between, so a call waits for at
// most one application's round). view_mu_ guards the published views only;
// it is held for pointer swaps and copies, never across I/O or a round, so
// readers (Describe*, List*) never wait for either. Order: mu_, then
// view_mu_.
#ifndef TRIBUTARY_LIB_APPS_MANAGER_H_
#define TRIBUTARY_LIB_APPS_MANAGER_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "apps/job.h"
#include "apps/model.h"
#include "apps/storage.h"
#include "tributary/application.h"
#include "util/mutex.h"

namespace tributary::apps {

class ManagerImpl {
 public:
  static absl::StatusOr<std::unique_ptr<ManagerImpl>> Open(Store* store,
                                                           const ApplicationManagerOptions& options);
  ~ManagerImpl();

  absl::Status RegisterProcessor(std::string_view name, std::string_view code_version,
                                 ProcessorFactory factory) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ProcessorInfo> RegisteredProcessors() ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<ApplicationDetail> CreateApplication(std::string_view name,
                                                      const ApplicationConfiguration& config,
                                                      const std::map<std::string, std::string>& tags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeleteApplication(std::string_view name, std::optional<absl::Time> create_timestamp)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ApplicationDetail> DescribeApplication(std::string_view name)
      ABSL_LOCKS_EXCLUDED(view_mu_);
  std::vector<ApplicationSummary> ListApplications() ABSL_LOCKS_EXCLUDED(view_mu_);

  absl::StatusOr<OperationResult> StartApplication(std::string_view name, const RunConfiguration& run)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<OperationResult> StopApplication(std::string_view name, bool force)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<OperationResult> UpdateApplication(const UpdateApplicationRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<OperationResult> ScaleApplication(std::string_view name, int64_t current_version,
                                                   int parallelism) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<OperationResult> RollbackApplication(std::string_view name, int64_t current_version)
      ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<ListApplicationVersionsResult> ListApplicationVersions(
      std::string_view name, std::optional<int> limit, const std::optional<std::string>& next_token)
      ABSL_LOCKS_EXCLUDED(view_mu_);
  absl::StatusOr<ApplicationVersionDetail> DescribeApplicationVersion(std::string_view name,
                                                                      int64_t version_id)
      ABSL_LOCKS_EXCLUDED(view_mu_);

  absl::Status CreateApplicationSnapshot(std::string_view name, std::string_view snapshot_name)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ListApplicationSnapshotsResult> ListApplicationSnapshots(
      std::string_view name, std::optional<int> limit, const std::optional<std::string>& next_token)
      ABSL_LOCKS_EXCLUDED(view_mu_);
  absl::StatusOr<SnapshotDetails> DescribeApplicationSnapshot(std::string_view name,
                                                              std::string_view snapshot_name)
      ABSL_LOCKS_EXCLUDED(view_mu_);
  absl::Status DeleteApplicationSnapshot(std::string_view name, std::string_view snapshot_name,
                                         std::optional<absl::Time> creation_timestamp)
      ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<ListApplicationOperationsResult> ListApplicationOperations(
      const ListApplicationOperationsRequest& request) ABSL_LOCKS_EXCLUDED(view_mu_);
  absl::StatusOr<ApplicationOperationInfoDetails> DescribeApplicationOperation(
      std::string_view name, std::string_view operation_id) ABSL_LOCKS_EXCLUDED(view_mu_);

  absl::Status TagResource(std::string_view arn, const std::map<std::string, std::string>& tags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status UntagResource(std::string_view arn, const std::vector<std::string>& keys)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::map<std::string, std::string>> ListTagsForResource(std::string_view arn)
      ABSL_LOCKS_EXCLUDED(view_mu_);
  absl::StatusOr<MaintenanceConfiguration> UpdateApplicationMaintenanceConfiguration(
      std::string_view name, std::string_view window_start) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetJobFault(std::string_view name, std::optional<JobFault> fault)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeleteAllApplications() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Status Pump() ABSL_LOCKS_EXCLUDED(mu_);
  // The runner pumps every `interval` while there is work (records, a
  // transition, a change), and backs off to 10 x `interval` while every
  // application is idle; a change wakes it at once.
  void StartRunner(absl::Duration interval);
  void StopRunner();

 private:
  // Runtime state of an application (not persisted).
  struct Runtime {
    std::unique_ptr<Job> job;
    std::optional<Cut> pending_checkpoint;  // for the next job: read at open, or a scaling cut
    std::optional<absl::Time> lag_high_since;
    std::optional<absl::Time> lag_low_since;
  };
  // Runtime changes a call applies after its metadata write succeeded.
  struct RuntimeChange {
    bool stop_job = false;
    std::optional<Cut> pending_checkpoint;
  };
  // What readers see of a job, as of the last publication.
  struct JobView {
    JobHealth health;
    absl::Time healthy_reference;  // time_since_last_healthy_batch is measured from here
    bool running_clock = false;    // health.time_since_... grows with the reader's clock
    // Whether a reader would see anything different from `other`.
    bool SameAs(const JobView& other) const;
  };
  // What readers see of an application.
  struct AppView {
    std::shared_ptr<const AppState> state;
    JobView job;
  };

  ManagerImpl(Store* store, Store* input, std::string region, std::string account,
              const ApplicationManagerOptions& options);

  absl::Time Now() const { return clock_->Now(); }
  absl::StatusOr<AppState*> FindLocked(std::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The application an ARN names (ResourceNotFoundException otherwise).
  absl::StatusOr<AppState*> FindByArnLocked(std::string_view arn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The published view of `name` (ResourceNotFoundException, or
  // ValidationException for a malformed name, if there is none).
  absl::StatusOr<AppView> View(std::string_view name) const ABSL_LOCKS_EXCLUDED(view_mu_);
  // Writes the APPS file with `next` in place of the application's state;
  // on success swaps it in, applies `change` and publishes.
  absl::Status CommitLocked(AppState next, const RuntimeChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteMetaLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLocked(const std::string& name, const RuntimeChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes the job health of `name`, and its state too if `state_changed`.
  void PublishLocked(const std::string& name, bool state_changed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  JobView JobViewLocked(const AppState& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ApplicationDetail DetailLocked(const AppState& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ApplicationDetail Detail(const AppState& a, const JobView& job) const;
  absl::Status CheckRegisteredLocked(const ApplicationConfiguration& c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckRuntime(const ApplicationConfiguration& c) const;
  absl::StatusOr<ProcessorFactory> LookupLocked(const std::string& name, const std::string& version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Job* JobLocked(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Takes a snapshot of the deployed job into `a` (file written, record
  // READY). `name` empty: an automatic name.
  absl::StatusOr<std::string> TakeSnapshotLocked(AppState& a, SnapshotTrigger trigger,
                                                 std::string name, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The rollback itself (RollbackApplication, system rollback, restart-loop
  // rule): InvalidRequestException if there is nothing to roll back to.
  absl::StatusOr<std::string> RollbackLocked(AppState& a, absl::Time now, Initiator who,
                                             std::optional<std::string> reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::string> ScaleLocked(AppState& a, int parallelism, absl::Time now,
                                          Initiator who, std::optional<std::string> reason,
                                          RuntimeChange* change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- Pump
  // Pump() that also says whether any application had work (busy).
  absl::Status PumpOnce(bool* busy) ABSL_LOCKS_EXCLUDED(mu_);
  // One step of one application; `dirty` says whether its state changed,
  // `busy` whether it had work (records, a transition) or may soon.
  absl::Status StepLocked(const std::string& name, absl::Time now, bool* dirty, bool* busy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool StepJobLocked(AppState& a, Runtime& rt, absl::Time now, bool* busy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the runner (a change may have work for it).
  void Kick();
  void EnsureJobLocked(AppState& a, Runtime& rt, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OperationFailedLocked(AppState& a, Runtime& rt, absl::Time now, const std::string& error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool RestartLoopRuleLocked(AppState& a, Runtime& rt, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AutoscaleLocked(AppState& a, Runtime& rt, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool TakePendingSnapshotsLocked(AppState& a, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the transition `a` is in has lasted options.transition_time.
  bool TransitionDue(const AppState& a, absl::Time now) const;

  Store* const store_;  // metadata, snapshots, checkpoints, the consumers' lease table, the clock
  Store* const input_;  // where the input streams are read (store_ unless input_store was given)
  Clock* const clock_;
  const std::string region_;
  const std::string account_;
  const absl::Duration transition_time_;
  const std::vector<std::string> runtimes_;  // empty: any

  util::Mutex mu_;
  std::unique_ptr<AppStorage> storage_ ABSL_GUARDED_BY(mu_);
  uint64_t next_incarnation_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, AppState> states_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Runtime> runtime_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, ProcessorFactory> processors_ ABSL_GUARDED_BY(mu_);

  mutable util::SharedMutex view_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::map<std::string, AppView> views_ ABSL_GUARDED_BY(view_mu_);

  // The background runner (StartRunner); std primitives because it waits on
  // real time.
  std::mutex runner_mu_;
  std::condition_variable runner_cv_;
  bool runner_stop_ = false;  // guarded by runner_mu_
  bool runner_kick_ = false;  // guarded by runner_mu_
  std::thread runner_;
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_MANAGER_H_
