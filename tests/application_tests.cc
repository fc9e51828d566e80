// Applications (tributary/application.h): the Managed Flink lifecycle over a
// Store, driven step by step with Pump() on a ManualClock.
//
// The processors here count records per partition key. Their state is the
// counts; the tests compare the counts of the live workers with the records
// actually written ("truth"), so a lost record or a record counted twice in
// state fails the comparison. `effects` counts every Process call per key
// (at-least-once side effects), which is allowed to exceed the truth.
#include "testing/app_fixture.h"

namespace tributary {
namespace {

// ---------------------------------------------------------------- the story

TEST_CASE("upgrade 1.15 -> 1.18 keeps restarting while RUNNING, rollback restores 1.15 from the "
          "latest snapshot with exact counts",
          "[app][rollback]") {
  Fixture f;
  f.CreateRunning();
  f.Put(100);
  f.Pump(2);
  REQUIRE(f.world.Total() == f.truth);

  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "before-upgrade"));
  f.Pump();
  ASSIGN_OR_REQUIRE(SnapshotDetails snap, f.mgr->DescribeApplicationSnapshot("app", "before-upgrade"));
  CHECK(snap.snapshot_status == SnapshotStatus::kReady);
  CHECK(snap.application_version_id == 1);
  CHECK(snap.runtime_environment == "1.15");

  f.Put(50);
  f.Pump(2);
  REQUIRE(f.world.Total() == f.truth);

  // The upgrade: runtime 1.18 with code that cannot handle the state.
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(Fixture::Config("2.0", "1.18"))));
  CHECK(up.application_detail.application_status == ApplicationStatus::kUpdating);
  CHECK(up.application_detail.application_version_id == 2);
  CHECK(up.application_detail.application_version_updated_from == 1);
  f.Put(30);
  f.Pump();
  // The update succeeded as an operation: the job was deployed ...
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kSuccessful);
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.configuration.runtime_environment == "1.18");
  // ... but it fails and restarts continuously.
  for (int i = 0; i < 4; ++i) {
    f.clock.Advance(absl::Seconds(10));
    f.Pump();
  }
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.job.status == JobStatus::kRestarting);
  CHECK(d.job.restart_count == 5);
  REQUIRE(d.job.last_failure.has_value());
  CHECK_THAT(*d.job.last_failure, Catch::Contains("incompatible"));
  CHECK(d.job.time_since_last_healthy_batch == absl::Seconds(40));
  CHECK(d.recent_restarts.size() == 5);
  CHECK(d.recent_restarts.back().application_version_id == 2);

  // Roll back at once, diagnose later.
  ASSIGN_OR_REQUIRE(OperationResult rb, f.mgr->RollbackApplication("app", 2));
  CHECK(rb.application_detail.application_status == ApplicationStatus::kRollingBack);
  f.Put(20);
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.application_version_id == 3);
  CHECK(d.configuration.runtime_environment == "1.15");
  CHECK(d.configuration.code_version == "1.0");
  CHECK(d.application_version_rolled_back_from == 2);
  CHECK(d.application_version_rolled_back_to == 1);
  CHECK_FALSE(d.application_version_updated_from.has_value());
  CHECK(d.job.status == JobStatus::kRunning);
  // Restored from the latest READY snapshot: the one taken before the update.
  ASSIGN_OR_REQUIRE(auto snaps, f.mgr->ListApplicationSnapshots("app"));
  REQUIRE(snaps.snapshots.size() == 2);
  CHECK(snaps.snapshots[1].trigger == SnapshotTrigger::kBeforeUpdate);
  CHECK(snaps.snapshots[1].application_version_id == 1);
  CHECK(d.job.restored_from == snaps.snapshots[1].snapshot_name);
  // No record lost, none counted twice in state.
  CHECK(f.world.Total() == f.truth);
  CHECK(f.world.order_violations == 0);

  ASSIGN_OR_REQUIRE(auto versions, f.mgr->ListApplicationVersions("app"));
  REQUIRE(versions.versions.size() == 3);
  CHECK(versions.versions[0].application_version_id == 3);
  CHECK(versions.versions[0].application_status == ApplicationStatus::kRunning);
  CHECK(versions.versions[1].application_version_id == 2);
  CHECK(versions.versions[1].application_status == ApplicationStatus::kRolledBack);
  ASSIGN_OR_REQUIRE(ApplicationVersionDetail v3, f.mgr->DescribeApplicationVersion("app", 3));
  CHECK(v3.application_version_rolled_back_from == 2);
  CHECK(v3.application_version_rolled_back_to == 1);
  CHECK(v3.created_by_operation_id == rb.operation_id);

  CHECK(CallTypes(f.Operations()) ==
        std::vector<OperationType>{OperationType::kCreateApplication, OperationType::kStartApplication,
                                   OperationType::kUpdateApplication, OperationType::kRollbackApplication});
  // Every failure of the 1.18 job is a FAILED JobRestart operation of the
  // system, with its cause (how the restarts show over the wire).
  std::vector<ApplicationOperationInfo> restarts;
  for (const ApplicationOperationInfo& o : f.Operations()) {
    if (o.operation == OperationType::kJobRestart) restarts.push_back(o);
  }
  REQUIRE(restarts.size() == 5);
  for (const ApplicationOperationInfo& o : restarts) {
    CHECK(o.operation_status == OperationStatus::kFailed);
    ApplicationOperationInfoDetails od = f.Operation(o.operation_id);
    CHECK(od.initiated_by == Initiator::kSystem);
    REQUIRE(od.operation_failure_details.has_value());
    CHECK_THAT(od.operation_failure_details->error_string, Catch::Contains("incompatible"));
    CHECK_THAT(od.operation_failure_details->error_string, Catch::Contains("restarting at"));
  }
  ApplicationOperationInfoDetails rbop = f.Operation(rb.operation_id);
  CHECK(rbop.operation_status == OperationStatus::kSuccessful);
  REQUIRE(rbop.application_version_change_details.has_value());
  CHECK(rbop.application_version_change_details->application_version_updated_from == 2);
  CHECK(rbop.application_version_change_details->application_version_updated_to == 3);
}


// ---------------------------------------------------------------- stuck transitions

TEST_CASE("an application stuck in UPDATING (the new version never starts) rolls back to the "
          "version before",
          "[app][rollback]") {
  Fixture f;
  f.CreateRunning();
  f.Put(60);
  f.Pump(2);
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(Fixture::Config("3.0", "1.18"))));
  f.Put(40);
  // The default restart strategy (fixed delay, unlimited attempts) keeps
  // trying: the application stays UPDATING.
  for (int i = 0; i < 6; ++i) {
    f.Pump();
    f.clock.Advance(absl::Seconds(10));
  }
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kUpdating);
  CHECK(d.job.status == JobStatus::kRestarting);
  CHECK_THAT(d.job.last_failure.value_or(""), Catch::Contains("missing connector"));
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kInProgress);

  ASSIGN_OR_REQUIRE(OperationResult rb, f.mgr->RollbackApplication("app", 2));
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kCancelled);
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.application_version_id == 3);
  CHECK(d.configuration.code_version == "1.0");
  CHECK(f.Operation(rb.operation_id).operation_status == OperationStatus::kSuccessful);
  CHECK(f.world.Total() == f.truth);
  ASSIGN_OR_REQUIRE(ApplicationVersionDetail v2, f.mgr->DescribeApplicationVersion("app", 2));
  CHECK(v2.application_status == ApplicationStatus::kRolledBack);
}

TEST_CASE("an application stuck in AUTOSCALING (state cannot be rescaled) rolls back to the "
          "version before",
          "[app][rollback][autoscaling]") {
  Fixture f;
  f.CreateRunning(Fixture::Config("4.0"));
  f.Put(80);
  f.Pump(2);
  ASSIGN_OR_REQUIRE(OperationResult sc, f.mgr->ScaleApplication("app", 1, 4));
  CHECK(sc.application_detail.application_status == ApplicationStatus::kAutoscaling);
  CHECK(sc.application_detail.configuration.parallelism == 4);
  f.Put(20);
  for (int i = 0; i < 5; ++i) {
    f.Pump();
    f.clock.Advance(absl::Seconds(10));
  }
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kAutoscaling);
  CHECK_THAT(d.job.last_failure.value_or(""), Catch::Contains("UnsupportedOperation"));

  ASSIGN_OR_REQUIRE(OperationResult rb, f.mgr->RollbackApplication("app", 2));
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.configuration.parallelism == 2);
  CHECK(d.job.parallelism == 2);
  CHECK(f.Operation(sc.operation_id).operation_status == OperationStatus::kCancelled);
  CHECK(f.world.Total() == f.truth);
}

// ---------------------------------------------------------------- guards

TEST_CASE("RollbackApplication, UpdateApplication and ScaleApplication check the caller's "
          "version id",
          "[app][guard]") {
  Fixture f;
  f.CreateRunning();
  f.Put(10);
  f.Pump();
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("1.0", "1.18"))));
  f.Pump();
  REQUIRE(f.Version() == 2);
  CHECK_ERROR(f.mgr->RollbackApplication("app", 1), ErrorType::kConcurrentModification);
  CHECK_ERROR(f.mgr->RollbackApplication("app", 3), ErrorType::kConcurrentModification);
  UpdateApplicationRequest stale = f.Update(Fixture::Config());
  stale.current_application_version_id = 1;
  CHECK_ERROR(f.mgr->UpdateApplication(stale), ErrorType::kConcurrentModification);
  CHECK_ERROR(f.mgr->ScaleApplication("app", 1, 3), ErrorType::kConcurrentModification);
  // Nothing changed.
  CHECK(f.Version() == 2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK_OK(f.mgr->RollbackApplication("app", 2));
}

TEST_CASE("every operation checks the status it is allowed from", "[app][guard]") {
  Fixture f;
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config()));
  // READY
  CHECK_ERROR(f.mgr->StopApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->StopApplication("app", /*force=*/true), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->RollbackApplication("app", 1), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->ScaleApplication("app", 1, 3), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->CreateApplicationSnapshot("app", "s"), ErrorType::kResourceInUse);
  // STARTING
  REQUIRE_OK(f.mgr->StartApplication("app"));
  CHECK(f.Status() == ApplicationStatus::kStarting);
  CHECK_ERROR(f.mgr->StartApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->StopApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->UpdateApplication(f.Update(Fixture::Config())), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->RollbackApplication("app", 1), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->CreateApplicationSnapshot("app", "s"), ErrorType::kResourceInUse);
  // RUNNING
  f.Pump();
  REQUIRE(f.Status() == ApplicationStatus::kRunning);
  CHECK_ERROR(f.mgr->StartApplication("app"), ErrorType::kResourceInUse);
  // RUNNING at version 1: no version to roll back to.
  CHECK_ERROR(f.mgr->RollbackApplication("app", 1), ErrorType::kInvalidRequest);
  // STOPPING
  REQUIRE_OK(f.mgr->StopApplication("app"));
  CHECK(f.Status() == ApplicationStatus::kStopping);
  CHECK_ERROR(f.mgr->StartApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->StopApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->UpdateApplication(f.Update(Fixture::Config())), ErrorType::kResourceInUse);
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);
  // UPDATING (of a READY application)
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("1.0", "1.18"))));
  CHECK(f.Status() == ApplicationStatus::kUpdating);
  CHECK_ERROR(f.mgr->StartApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->UpdateApplication(f.Update(Fixture::Config())), ErrorType::kResourceInUse);
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);
  // DELETING
  REQUIRE_OK(f.mgr->DeleteApplication("app"));
  CHECK(f.Status() == ApplicationStatus::kDeleting);
  CHECK_ERROR(f.mgr->DeleteApplication("app"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->StartApplication("app"), ErrorType::kResourceInUse);
  f.Pump();
  CHECK_ERROR(f.mgr->DescribeApplication("app"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f.mgr->StartApplication("nope"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f.mgr->DescribeApplication("bad/name"), ErrorType::kValidation);
}

TEST_CASE("a rollback needs a previous version and a READY snapshot", "[app][guard][rollback]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  c.snapshots_enabled = false;
  f.CreateRunning(c);
  f.Put(10);
  f.Pump();
  ApplicationConfiguration c2 = c;
  c2.runtime_environment = "1.18";
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(c2)));
  f.Pump();
  REQUIRE(f.Status() == ApplicationStatus::kRunning);
  absl::Status s = f.mgr->RollbackApplication("app", 2).status();
  CHECK_ERROR(s, ErrorType::kInvalidRequest);
  CHECK_THAT(std::string(s.message()), Catch::Contains("snapshot"));
  CHECK(f.Version() == 2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
}

TEST_CASE("bad names and configurations are rejected and change nothing", "[app][guard]") {
  Fixture f;
  CHECK_ERROR(f.mgr->CreateApplication("", Fixture::Config()), ErrorType::kValidation);
  CHECK_ERROR(f.mgr->CreateApplication("a/b", Fixture::Config()), ErrorType::kValidation);
  CHECK_ERROR(f.mgr->CreateApplication("..", Fixture::Config()), ErrorType::kValidation);
  CHECK_ERROR(f.mgr->CreateApplication(std::string(129, 'a'), Fixture::Config()), ErrorType::kValidation);
  ApplicationConfiguration c = Fixture::Config();
  c.parallelism = 0;
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  c = Fixture::Config();
  c.runtime_environment = "";
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  c = Fixture::Config();
  c.restart_strategy = RestartStrategy::FixedDelay(0, absl::Seconds(1));
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  c = Fixture::Config();
  c.autoscaling.enabled = true;
  c.autoscaling.max_parallelism = 1;
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  c = Fixture::Config("9.9");
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  CHECK_THAT(std::string(f.mgr->CreateApplication("app", c).status().message()),
             Catch::Contains("registered: counter 1.0, counter 2.0"));
  CHECK(f.mgr->ListApplications().empty());
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config()));
  CHECK_ERROR(f.mgr->CreateApplication("app", Fixture::Config()), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->RegisterProcessor("counter", "1.0", f.world.Factory({})), ErrorType::kInvalidArgument);
  ASSIGN_OR_REQUIRE(ApplicationDetail d, f.mgr->DescribeApplication("app"));
  CHECK(d.application_arn == "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app");
  CHECK(d.application_version_id == 1);
  CHECK(d.application_status == ApplicationStatus::kReady);
}

// ---------------------------------------------------------------- restore options

TEST_CASE("StartApplication restores as its RunConfiguration says", "[app][snapshot]") {
  Fixture f;
  f.CreateRunning();
  f.Put(30);
  f.Pump(2);
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "at-30"));
  f.Pump();
  f.Put(20);
  f.Pump(2);
  REQUIRE_OK(f.mgr->StopApplication("app"));  // snapshot on stop, at 50
  f.Pump();
  REQUIRE(f.Status() == ApplicationStatus::kReady);
  std::vector<SnapshotDetails> snaps = f.Snapshots();
  REQUIRE(snaps.size() == 2);
  CHECK(snaps[1].trigger == SnapshotTrigger::kOnStop);
  f.Put(10);

  SECTION("latest snapshot (the default): exact counts") {
    REQUIRE_OK(f.mgr->StartApplication("app"));
    f.Pump(2);
    CHECK(f.Describe().job.restored_from == snaps[1].snapshot_name);
    CHECK(f.world.Total() == f.truth);
  }
  SECTION("a named snapshot: state at 30, replay from 30: exact counts") {
    RunConfiguration run;
    run.restore_type = ApplicationRestoreType::kRestoreFromCustomSnapshot;
    run.snapshot_name = "at-30";
    REQUIRE_OK(f.mgr->StartApplication("app", run));
    f.Pump(2);
    CHECK(f.Describe().job.restored_from == "at-30");
    CHECK(f.world.Total() == f.truth);
    REQUIRE(f.Describe().last_run_configuration.has_value());
    CHECK(f.Describe().last_run_configuration->snapshot_name == "at-30");
  }
  SECTION("skip: no state, the whole stream again") {
    RunConfiguration run;
    run.restore_type = ApplicationRestoreType::kSkipRestoreFromSnapshot;
    REQUIRE_OK(f.mgr->StartApplication("app", run));
    f.Pump(2);
    CHECK_FALSE(f.Describe().job.restored_from.has_value());
    CHECK(f.world.Total() == f.truth);  // the stream still holds every record
  }
  SECTION("an unknown custom snapshot is ResourceNotFound; a missing name InvalidArgument") {
    RunConfiguration run;
    run.restore_type = ApplicationRestoreType::kRestoreFromCustomSnapshot;
    run.snapshot_name = "nope";
    CHECK_ERROR(f.mgr->StartApplication("app", run), ErrorType::kResourceNotFound);
    run.snapshot_name = "";
    CHECK_ERROR(f.mgr->StartApplication("app", run), ErrorType::kInvalidArgument);
    CHECK(f.Status() == ApplicationStatus::kReady);
  }
}

TEST_CASE("allow_non_restored_state: state of another processor is dropped only when allowed",
          "[app][snapshot]") {
  Fixture f;
  f.CreateRunning();
  f.Put(30);
  f.Pump(2);
  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.Pump();
  ApplicationConfiguration other = Fixture::Config();
  other.processor_name = "other";
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(other)));
  f.Pump();
  REQUIRE(f.Status() == ApplicationStatus::kReady);
  SECTION("not allowed: the start fails after the restart strategy gives up") {
    ApplicationConfiguration c = other;
    c.restart_strategy = RestartStrategy::NoRestart();
    REQUIRE_OK(f.mgr->UpdateApplication(f.Update(c)));
    f.Pump();
    ASSIGN_OR_REQUIRE(OperationResult st, f.mgr->StartApplication("app"));
    f.Pump();
    CHECK(f.Status() == ApplicationStatus::kReady);
    ApplicationOperationInfoDetails op = f.Operation(st.operation_id);
    CHECK(op.operation_status == OperationStatus::kFailed);
    REQUIRE(op.operation_failure_details.has_value());
    CHECK_THAT(op.operation_failure_details->error_string, Catch::Contains("allow_non_restored_state"));
  }
  SECTION("allowed: positions are restored, state starts empty") {
    RunConfiguration run;
    run.allow_non_restored_state = true;
    REQUIRE_OK(f.mgr->StartApplication("app", run));
    f.Put(5);
    f.Pump(2);
    CHECK(f.Status() == ApplicationStatus::kRunning);
    Counts total = f.world.Total();
    int64_t n = 0;
    for (const auto& [k, v] : total) n += v;
    CHECK(n == 5);  // only what came after the snapshot
  }
}

TEST_CASE("a processor whose RestoreState fails cannot start from a snapshot", "[app][snapshot]") {
  Fixture f;
  f.CreateRunning();
  f.Put(10);
  f.Pump();
  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.Pump();
  ApplicationConfiguration c = Fixture::Config("5.0");
  c.restart_strategy = RestartStrategy::FixedDelay(2, absl::Seconds(5));
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(c)));
  f.Pump();
  ASSIGN_OR_REQUIRE(OperationResult st, f.mgr->StartApplication("app"));
  for (int i = 0; i < 3; ++i) {
    f.Pump();
    CHECK(f.Status() == (i < 2 ? ApplicationStatus::kStarting : ApplicationStatus::kReady));
    f.clock.Advance(absl::Seconds(5));
  }
  CHECK(f.Operation(st.operation_id).operation_status == OperationStatus::kFailed);
  ApplicationDetail d = f.Describe();
  REQUIRE(d.recent_restarts.size() == 3);
  CHECK(d.recent_restarts[2].final);
  CHECK_THAT(d.recent_restarts[0].cause, Catch::Contains("RestoreState"));
}

// ---------------------------------------------------------------- system rollback

TEST_CASE("system rollback: a failed update rolls back by itself", "[app][rollback][system]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  c.system_rollback_enabled = true;
  f.CreateRunning(c);
  f.Put(40);
  f.Pump(2);
  ApplicationConfiguration bad = Fixture::Config("3.0", "1.18");
  bad.system_rollback_enabled = true;
  bad.restart_strategy = RestartStrategy::FixedDelay(2, absl::Seconds(10));
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(bad)));
  f.Put(10);
  CHECK(f.Status() == ApplicationStatus::kUpdating);
  // The first failure of the new job fails the update (with system rollback
  // on, the restart strategy is not waited for), and the system rolls back.
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kRollingBack);
  ApplicationOperationInfoDetails op = f.Operation(up.operation_id);
  CHECK(op.operation_status == OperationStatus::kFailed);
  REQUIRE(op.operation_failure_details.has_value());
  REQUIRE(op.operation_failure_details->rollback_operation_id.has_value());
  CHECK_THAT(op.operation_failure_details->error_string, Catch::Contains("missing connector"));
  ApplicationOperationInfoDetails rb = f.Operation(*op.operation_failure_details->rollback_operation_id);
  CHECK(rb.operation == OperationType::kSystemRollbackApplication);
  CHECK(rb.initiated_by == Initiator::kSystem);
  CHECK_THAT(rb.reason.value_or(""), Catch::Contains("UpdateApplication"));
  f.Pump(2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.Describe().configuration.code_version == "1.0");
  CHECK(f.Operation(rb.operation_id).operation_status == OperationStatus::kSuccessful);
  CHECK(f.world.Total() == f.truth);
}

TEST_CASE("system rollback: without it, or when it is not possible, a failed update ends READY",
          "[app][rollback][system]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  bool enabled = GENERATE(false, true);
  c.system_rollback_enabled = enabled;
  if (enabled) c.snapshots_enabled = false;  // nothing to restore from: the rollback cannot run
  f.CreateRunning(c);
  f.Put(10);
  f.Pump();
  ApplicationConfiguration bad = c;
  bad.code_version = "3.0";
  bad.restart_strategy = RestartStrategy::NoRestart();
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(bad)));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);
  ApplicationOperationInfoDetails op = f.Operation(up.operation_id);
  CHECK(op.operation_status == OperationStatus::kFailed);
  REQUIRE(op.operation_failure_details.has_value());
  CHECK_FALSE(op.operation_failure_details->rollback_operation_id.has_value());
  if (enabled) {
    CHECK_THAT(op.operation_failure_details->error_string, Catch::Contains("system rollback was not possible"));
  }
  CHECK(f.Describe().job.status == JobStatus::kNotRunning);
}

TEST_CASE("system rollback: when the rollback fails too, the application ends READY",
          "[app][rollback][system]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  c.system_rollback_enabled = true;
  c.restart_strategy = RestartStrategy::FixedDelay(1, absl::Seconds(10));
  f.CreateRunning(c);
  f.Put(20);
  f.Pump();
  ApplicationConfiguration bad = c;
  bad.code_version = "3.0";
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(bad)));
  f.world.fail_all_restores = true;  // the snapshot can no longer be read by anyone
  for (int i = 0; i < 2; ++i) {
    f.Pump();
    f.clock.Advance(absl::Seconds(10));
  }
  REQUIRE(f.Status() == ApplicationStatus::kRollingBack);
  ApplicationOperationInfoDetails op = f.Operation(up.operation_id);
  REQUIRE(op.operation_failure_details->rollback_operation_id.has_value());
  const std::string rb = *op.operation_failure_details->rollback_operation_id;
  for (int i = 0; i < 2; ++i) {
    f.Pump();
    f.clock.Advance(absl::Seconds(10));
  }
  CHECK(f.Status() == ApplicationStatus::kReady);
  ApplicationOperationInfoDetails rbop = f.Operation(rb);
  CHECK(rbop.operation == OperationType::kSystemRollbackApplication);
  CHECK(rbop.operation_status == OperationStatus::kFailed);
  CHECK_THAT(rbop.operation_failure_details->error_string, Catch::Contains("cannot read the saved state"));
  CHECK(f.Describe().job.status == JobStatus::kNotRunning);
  CHECK(f.Version() == 3);  // the rollback's version stays; nothing rolls back a rollback
}

TEST_CASE("the restart-loop rule rolls back an update whose job keeps restarting, recording why",
          "[app][rollback][system]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  c.restart_loop_rollback.enabled = true;
  c.restart_loop_rollback.max_restarts = 3;
  c.restart_loop_rollback.within = absl::Minutes(5);
  f.CreateRunning(c);
  f.Put(40);
  f.Pump(2);
  ApplicationConfiguration bad = c;
  bad.code_version = "2.0";
  bad.runtime_environment = "1.18";
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(bad)));
  f.Put(10);
  f.Pump();  // deployed (update SUCCESSFUL), first failure
  CHECK(f.Status() == ApplicationStatus::kRunning);
  f.clock.Advance(absl::Seconds(10));
  f.Pump();  // second failure
  CHECK(f.Status() == ApplicationStatus::kRunning);
  f.clock.Advance(absl::Seconds(10));
  f.Pump();  // third failure: the rule fires
  CHECK(f.Status() == ApplicationStatus::kRollingBack);
  std::vector<ApplicationOperationInfo> ops = f.Operations();
  REQUIRE(ops.back().operation == OperationType::kSystemRollbackApplication);
  ApplicationOperationInfoDetails rb = f.Operation(ops.back().operation_id);
  CHECK_THAT(rb.reason.value_or(""), Catch::Contains("restart-loop rule"));
  CHECK_THAT(rb.reason.value_or(""), Catch::Contains("3 times"));
  CHECK_THAT(rb.reason.value_or(""), Catch::Contains("incompatible"));
  f.Pump(2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.Describe().configuration.runtime_environment == "1.15");
  CHECK(f.world.Total() == f.truth);
}

TEST_CASE("the restart-loop rule stays quiet without an update or below its threshold",
          "[app][rollback][system]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config("2.0");  // fails from the start: no update to revert
  c.restart_loop_rollback.enabled = true;
  c.restart_loop_rollback.max_restarts = 2;
  f.CreateRunning(c);
  f.Put(5);
  for (int i = 0; i < 4; ++i) {
    f.Pump();
    f.clock.Advance(absl::Seconds(10));
  }
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(CallTypes(f.Operations()).back() == OperationType::kStartApplication);
}

// ---------------------------------------------------------------- restart strategies

TEST_CASE("restart strategies decide when a failing job stops restarting", "[app][health]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config("2.0");
  SECTION("fixed delay: max attempts, then FAILED while the application stays RUNNING") {
    c.restart_strategy = RestartStrategy::FixedDelay(3, absl::Seconds(30));
    f.CreateRunning(c);
    f.Put(5);
    f.Pump();  // failure 1
    CHECK(f.Describe().job.next_restart_time == f.clock.Now() + absl::Seconds(30));
    f.clock.Advance(absl::Seconds(29));
    f.Pump();  // not yet
    CHECK(f.Describe().job.restart_count == 1);
    for (int i = 0; i < 3; ++i) {
      f.clock.Advance(absl::Seconds(30));
      f.Pump();
    }
    ApplicationDetail d = f.Describe();
    CHECK(d.job.status == JobStatus::kFailed);
    CHECK(d.application_status == ApplicationStatus::kRunning);
    CHECK(d.job.restart_count == 3);
    CHECK(d.recent_restarts.size() == 4);
    CHECK(d.recent_restarts.back().final);
    f.clock.Advance(absl::Minutes(5));
    f.Pump();
    CHECK(f.Describe().recent_restarts.size() == 4);  // no more attempts
  }
  SECTION("failure rate: gives up on more than N failures within the interval") {
    c.restart_strategy = RestartStrategy::FailureRate(2, absl::Minutes(1), absl::Seconds(10));
    f.CreateRunning(c);
    f.Put(5);
    f.Pump();  // t=0
    f.clock.Advance(absl::Seconds(40));
    f.Pump();  // t=40: 2 failures in the last minute
    CHECK(f.Describe().job.status == JobStatus::kRestarting);
    f.clock.Advance(absl::Seconds(30));
    f.Pump();  // t=70: the t=0 failure left the window: 2 again
    CHECK(f.Describe().job.status == JobStatus::kRestarting);
    f.clock.Advance(absl::Seconds(10));
    f.Pump();  // t=80: 3 in the window
    CHECK(f.Describe().job.status == JobStatus::kFailed);
  }
  SECTION("no restart: the first failure is final") {
    c.restart_strategy = RestartStrategy::NoRestart();
    f.CreateRunning(c);
    f.Put(5);
    f.Pump();
    CHECK(f.Describe().job.status == JobStatus::kFailed);
    CHECK(f.Describe().job.restart_count == 0);
  }
}

TEST_CASE("a job that recovers after transient failures counts exactly", "[app][health]") {
  Fixture f;
  f.CreateRunning();
  f.Put(50);
  f.Pump(2);
  REQUIRE(f.world.Total() == f.truth);
  // Same processor (its state restores), new code that fails its first two batches.
  REQUIRE_OK(f.mgr->RegisterProcessor("counter", "6.0", f.world.Factory({.fail_first_batches = 2})));
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("6.0"))));
  f.Put(10);
  f.Pump();
  for (int i = 0; i < 4; ++i) {
    f.clock.Advance(absl::Seconds(10));
    f.Pump();
  }
  ApplicationDetail d = f.Describe();
  CHECK(d.job.status == JobStatus::kRunning);
  CHECK(d.job.consecutive_failures == 0);
  CHECK(d.job.restart_count == 2);
  CHECK(d.job.last_healthy_batch_time == f.clock.Now());
  CHECK(d.job.time_since_last_healthy_batch == absl::ZeroDuration());
  CHECK(f.world.Total() == f.truth);
}

TEST_CASE("a restarted job replays only what came after its latest checkpoint", "[app][health][checkpoint]") {
  Fixture f(1);  // one shard: one batch per round
  ApplicationConfiguration c = Fixture::Config("7.0", "1.15", 1);
  c.snapshots_enabled = false;
  const bool checkpoints = GENERATE(true, false);
  c.checkpoints.enabled = checkpoints;
  c.checkpoints.interval = absl::ZeroDuration();  // after every round
  REQUIRE_OK(f.mgr->RegisterProcessor("counter", "7.0", f.world.Factory({.fail_at_call = 3})));
  f.CreateRunning(c);
  for (int i = 0; i < 3; ++i) {
    f.Put(10);
    f.Pump();  // the third batch fails
  }
  REQUIRE(f.Describe().job.status == JobStatus::kRestarting);
  f.clock.Advance(absl::Seconds(10));
  f.Pump();
  CHECK(f.Describe().job.status == JobStatus::kRunning);
  CHECK(f.world.Total() == f.truth);
  int64_t effects = 0;
  for (const auto& [k, v] : f.world.effects) effects += v;
  if (checkpoints) {
    CHECK(f.Describe().job.restored_from == "checkpoint");
    CHECK(effects == 30);  // restored at 20, then the 10 of the failed batch
  } else {
    CHECK_FALSE(f.Describe().job.restored_from.has_value());
    CHECK(effects == 50);  // no checkpoint: the whole stream again
  }
}

TEST_CASE("scaling with snapshots disabled hands a checkpoint to the new job", "[app][checkpoint][autoscaling]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config("1.0", "1.15", 1);
  c.snapshots_enabled = false;
  f.CreateRunning(c);
  f.Put(100);
  f.Pump();
  ASSIGN_OR_REQUIRE(OperationResult sc, f.mgr->ScaleApplication("app", 1, 2));
  f.Put(10);
  f.Pump(2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.Describe().job.restored_from == "checkpoint");
  CHECK_THAT(f.Operation(sc.operation_id).reason.value_or(""), Catch::Contains("checkpoint"));
  CHECK(f.world.Total() == f.truth);
  CHECK(f.world.effects == f.truth);  // nothing before the cut was processed again
  CHECK(f.Snapshots().empty());
}

// ---------------------------------------------------------------- operations

TEST_CASE("operations: list with filters and pages, describe with times and details", "[app][operations]") {
  Fixture f;
  f.CreateRunning();
  f.clock.Advance(absl::Seconds(5));
  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.clock.Advance(absl::Seconds(5));
  f.Pump();
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Pump();
  REQUIRE_OK(f.mgr->StopApplication("app", /*force=*/true));
  f.Pump();
  std::vector<ApplicationOperationInfo> ops = f.Operations();
  CHECK(Types(ops) == std::vector<OperationType>{OperationType::kCreateApplication,
                                                 OperationType::kStartApplication,
                                                 OperationType::kStopApplication,
                                                 OperationType::kStartApplication,
                                                 OperationType::kForceStopApplication});
  for (const auto& o : ops) {
    CHECK(o.operation_status == OperationStatus::kSuccessful);
    REQUIRE(o.end_time.has_value());
    CHECK(*o.end_time >= o.start_time);
  }
  CHECK(*ops[2].end_time - ops[2].start_time == absl::Seconds(5));
  CHECK_THAT(f.Operation(ops[2].operation_id).reason.value_or(""), Catch::Contains("taken on stop"));

  ListApplicationOperationsRequest r;
  r.application_name = "app";
  r.operation = OperationType::kStartApplication;
  ASSIGN_OR_REQUIRE(auto starts, f.mgr->ListApplicationOperations(r));
  CHECK(starts.operations.size() == 2);
  r = ListApplicationOperationsRequest{};
  r.application_name = "app";
  r.limit = 2;
  ASSIGN_OR_REQUIRE(auto p1, f.mgr->ListApplicationOperations(r));
  REQUIRE(p1.operations.size() == 2);
  REQUIRE(p1.next_token.has_value());
  r.next_token = p1.next_token;
  ASSIGN_OR_REQUIRE(auto p2, f.mgr->ListApplicationOperations(r));
  CHECK(p2.operations[0].operation_id == ops[2].operation_id);
  r.limit = 51;
  CHECK_ERROR(f.mgr->ListApplicationOperations(r), ErrorType::kInvalidArgument);
  r.limit = 2;
  r.next_token = "zz";
  CHECK_ERROR(f.mgr->ListApplicationOperations(r), ErrorType::kInvalidArgument);
  CHECK_ERROR(f.mgr->DescribeApplicationOperation("app", "op-999999"), ErrorType::kResourceNotFound);
}

TEST_CASE("a forced stop cancels the operation in progress and takes no snapshot", "[app][operations]") {
  Fixture f;
  f.CreateRunning();
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(Fixture::Config("3.0"))));
  f.Pump();
  REQUIRE(f.Status() == ApplicationStatus::kUpdating);
  const size_t snaps = f.Snapshots().size();
  ASSIGN_OR_REQUIRE(OperationResult st, f.mgr->StopApplication("app", true));
  CHECK(st.application_detail.application_status == ApplicationStatus::kForceStopping);
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kCancelled);
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);
  CHECK(f.Snapshots().size() == snaps);
  CHECK(f.Version() == 2);  // the update's version stays; it is READY now
}

// ---------------------------------------------------------------- snapshots

TEST_CASE("snapshots: create, list, describe, delete, and their statuses", "[app][snapshot]") {
  Fixture f;
  f.CreateRunning();
  f.Put(10);
  f.Pump();
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "s1"));
  ASSIGN_OR_REQUIRE(SnapshotDetails s1, f.mgr->DescribeApplicationSnapshot("app", "s1"));
  CHECK(s1.snapshot_status == SnapshotStatus::kCreating);
  CHECK_ERROR(f.mgr->CreateApplicationSnapshot("app", "s1"), ErrorType::kInvalidArgument);
  CHECK_ERROR(f.mgr->DeleteApplicationSnapshot("app", "s1"), ErrorType::kResourceInUse);
  CHECK_ERROR(f.mgr->CreateApplicationSnapshot("app", "bad name"), ErrorType::kValidation);
  f.Pump();
  ASSIGN_OR_REQUIRE(s1, f.mgr->DescribeApplicationSnapshot("app", "s1"));
  CHECK(s1.snapshot_status == SnapshotStatus::kReady);
  CHECK(s1.processor_name == "counter");
  CHECK(s1.code_version == "1.0");
  CHECK(s1.parallelism == 2);
  CHECK(s1.size_bytes > 0);
  CHECK(s1.snapshot_creation_timestamp == f.clock.Now());

  // A snapshot requested while the job is restarting fails.
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("2.0"))));
  f.Put(5);
  f.Pump();  // deployed, then the round fails
  REQUIRE(f.Describe().job.status == JobStatus::kRestarting);
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "s2"));
  f.Pump();  // still waiting for the restart delay
  ASSIGN_OR_REQUIRE(SnapshotDetails s2, f.mgr->DescribeApplicationSnapshot("app", "s2"));
  CHECK(s2.snapshot_status == SnapshotStatus::kFailed);
  CHECK_THAT(s2.failure.value_or(""), Catch::Contains("RESTARTING"));

  CHECK_ERROR(f.mgr->DeleteApplicationSnapshot("app", "s1", s1.snapshot_creation_timestamp + absl::Seconds(1)),
              ErrorType::kInvalidArgument);
  REQUIRE_OK(f.mgr->DeleteApplicationSnapshot("app", "s1", s1.snapshot_creation_timestamp));
  ASSIGN_OR_REQUIRE(s1, f.mgr->DescribeApplicationSnapshot("app", "s1"));
  CHECK(s1.snapshot_status == SnapshotStatus::kDeleting);
  f.Pump();
  CHECK_ERROR(f.mgr->DescribeApplicationSnapshot("app", "s1"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f.mgr->DeleteApplicationSnapshot("app", "s1"), ErrorType::kResourceNotFound);

  ApplicationConfiguration off = Fixture::Config();
  off.snapshots_enabled = false;
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(off)));
  f.Pump();
  REQUIRE(f.Status() == ApplicationStatus::kRunning);
  CHECK_ERROR(f.mgr->CreateApplicationSnapshot("app", "s3"), ErrorType::kInvalidRequest);
}

// ---------------------------------------------------------------- scaling

TEST_CASE("ScaleApplication changes parallelism through AUTOSCALING with exact counts",
          "[app][autoscaling]") {
  Fixture f(4);
  f.CreateRunning();
  f.Put(100);
  f.Pump(2);
  ASSIGN_OR_REQUIRE(OperationResult sc, f.mgr->ScaleApplication("app", 1, 3));
  CHECK(sc.application_detail.application_status == ApplicationStatus::kAutoscaling);
  f.Put(50);
  f.Pump(2);
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.job.parallelism == 3);
  CHECK(d.application_version_updated_from == 1);
  CHECK(f.world.live.size() == 3);
  CHECK(f.world.Total() == f.truth);
  CHECK(f.Snapshots().back().trigger == SnapshotTrigger::kBeforeScale);
  CHECK_ERROR(f.mgr->ScaleApplication("app", 2, 3), ErrorType::kInvalidArgument);
  CHECK_ERROR(f.mgr->ScaleApplication("app", 2, 0), ErrorType::kInvalidArgument);
}

TEST_CASE("autoscaling by lag: MillisBehindLatest above the threshold for the period doubles "
          "parallelism, and low lag halves it",
          "[app][autoscaling]") {
  Fixture f(4);
  ApplicationConfiguration c = Fixture::Config("1.0", "1.15", 1);
  c.max_batch_records = 5;
  c.autoscaling.enabled = true;
  c.autoscaling.min_parallelism = 1;
  c.autoscaling.max_parallelism = 4;
  c.autoscaling.scale_up_millis_behind = 60'000;
  c.autoscaling.scale_up_after = absl::Minutes(1);
  c.autoscaling.scale_down_millis_behind = 0;
  c.autoscaling.scale_down_after = absl::Minutes(10);
  f.CreateRunning(c);
  f.Put(200);
  f.clock.Advance(absl::Minutes(2));  // the backlog is two minutes old
  f.Pump();  // lag high since now
  f.clock.Advance(absl::Seconds(30));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kRunning);
  f.clock.Advance(absl::Seconds(30));
  f.Pump();  // high for a minute: scale up
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kAutoscaling);
  CHECK(d.configuration.parallelism == 2);
  std::vector<ApplicationOperationInfo> ops = f.Operations();
  ApplicationOperationInfoDetails op = f.Operation(ops.back().operation_id);
  CHECK(op.operation == OperationType::kScaleApplication);
  CHECK(op.initiated_by == Initiator::kSystem);
  CHECK_THAT(op.reason.value_or(""), Catch::Contains("MillisBehindLatest"));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.Describe().job.parallelism == 2);
  // Drain the backlog, then stay idle: scale back down after the period.
  for (int i = 0; i < 40 && f.world.Total() != f.truth; ++i) f.Pump();
  CHECK(f.world.Total() == f.truth);
  f.Pump();
  f.clock.Advance(absl::Minutes(10));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kAutoscaling);
  CHECK(f.Describe().configuration.parallelism == 1);
  f.Put(7);
  f.Pump(2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.world.Total() == f.truth);
  CHECK(f.Version() == 3);
}

// ---------------------------------------------------------------- order

TEST_CASE("records of a key are processed in order across a split and a merge", "[app][order]") {
  Fixture f(2);
  ApplicationConfiguration c = Fixture::Config("1.0", "1.15", 2);
  c.max_batch_records = 3;  // parents are far from drained when their children appear
  REQUIRE_OK(f.mgr->CreateApplication("app", c));
  f.Put(60, 20);
  ASSIGN_OR_REQUIRE(StreamDescription desc, f.store->DescribeStream({"input"}));
  REQUIRE_OK(f.store->SplitShard("input", desc.shards[0].shard_id, desc.shards[0].hash_key_range.Midpoint()));
  f.Put(60, 20);
  ASSIGN_OR_REQUIRE(desc, f.store->DescribeStream({"input"}));
  std::vector<std::string> open;
  for (const auto& s : desc.shards) {
    if (!s.ending_sequence_number) open.push_back(s.shard_id);
  }
  REQUIRE(open.size() == 3);
  REQUIRE_OK(f.store->MergeShards("input", open[1], open[2]));
  f.Put(60, 20);
  REQUIRE_OK(f.mgr->StartApplication("app"));
  for (int i = 0; i < 80 && f.world.Total() != f.truth; ++i) f.Pump();
  CHECK(f.world.Total() == f.truth);
  CHECK(f.world.order_violations == 0);
  CHECK(f.world.effects == f.truth);
}

// ---------------------------------------------------------------- persistence

TEST_CASE("applications, versions, operations, snapshots and restarts survive a reopen of a "
          "durable store, a running application resumes from its checkpoint",
          "[app][durable]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(2, "/store", env.get());
  ApplicationConfiguration c = Fixture::Config();
  c.checkpoints.interval = absl::ZeroDuration();
  f.CreateRunning(c);
  f.Put(50);
  f.Pump(2);
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "s1"));
  f.Pump();
  ApplicationConfiguration bad = c;
  bad.code_version = "2.0";
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(bad)));
  f.Put(10);
  f.Pump();
  f.clock.Advance(absl::Seconds(10));
  f.Pump();
  REQUIRE_OK(f.mgr->RollbackApplication("app", 2));
  f.Pump(2);
  REQUIRE(f.Status() == ApplicationStatus::kRunning);
  f.Put(10);
  f.Pump();
  REQUIRE(f.world.Total() == f.truth);
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "pending"));  // CREATING when the store closes

  ApplicationDetail before = f.Describe();
  std::vector<ApplicationOperationInfo> ops_before = f.Operations();
  ASSIGN_OR_REQUIRE(auto versions_before, f.mgr->ListApplicationVersions("app"));

  f.Reopen();
  CHECK(f.world.live.empty());
  ApplicationDetail after = f.Describe();
  CHECK(after.application_status == ApplicationStatus::kRunning);
  CHECK(after.application_version_id == 3);
  CHECK(after.create_timestamp == before.create_timestamp);
  CHECK(after.application_version_rolled_back_from == 2);
  CHECK(after.application_version_rolled_back_to == 1);
  CHECK(after.configuration.code_version == "1.0");
  CHECK(after.recent_restarts.size() == before.recent_restarts.size());
  CHECK(after.recent_restarts.back().cause == before.recent_restarts.back().cause);
  std::vector<ApplicationOperationInfo> ops_after = f.Operations();
  REQUIRE(ops_after.size() == ops_before.size());
  for (size_t i = 0; i < ops_after.size(); ++i) {
    CHECK(ops_after[i].operation_id == ops_before[i].operation_id);
    CHECK(ops_after[i].operation == ops_before[i].operation);
    CHECK(ops_after[i].operation_status == ops_before[i].operation_status);
    CHECK(ops_after[i].start_time == ops_before[i].start_time);
  }
  ASSIGN_OR_REQUIRE(auto versions_after, f.mgr->ListApplicationVersions("app"));
  REQUIRE(versions_after.versions.size() == 3);
  CHECK(versions_after.versions[1].application_status == ApplicationStatus::kRolledBack);
  ASSIGN_OR_REQUIRE(ApplicationVersionDetail v2, f.mgr->DescribeApplicationVersion("app", 2));
  CHECK(v2.configuration.code_version == "2.0");
  ASSIGN_OR_REQUIRE(SnapshotDetails s1, f.mgr->DescribeApplicationSnapshot("app", "s1"));
  CHECK(s1.snapshot_status == SnapshotStatus::kReady);
  ASSIGN_OR_REQUIRE(SnapshotDetails pending, f.mgr->DescribeApplicationSnapshot("app", "pending"));
  CHECK(pending.snapshot_status == SnapshotStatus::kFailed);
  (void)versions_before;

  // The job resumes from its checkpoint: the state is back, nothing replayed twice.
  f.Put(10);
  const Counts effects = f.world.effects;
  f.Pump(2);
  CHECK(f.Describe().job.restored_from == "checkpoint");
  CHECK(f.world.Total() == f.truth);
  int64_t replayed = 0;
  for (const auto& [k, v] : f.world.effects) replayed += v - (effects.count(k) ? effects.at(k) : 0);
  CHECK(replayed == 10);

  // A stopped application stays stopped; a deleted one stays deleted.
  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.Pump();
  REQUIRE_OK(f.mgr->CreateApplication("gone", Fixture::Config()));
  REQUIRE_OK(f.mgr->DeleteApplication("gone"));
  f.Pump();
  f.Reopen();
  CHECK(f.Status() == ApplicationStatus::kReady);
  CHECK_ERROR(f.mgr->DescribeApplication("gone"), ErrorType::kResourceNotFound);
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(5);
  f.Pump(2);
  CHECK(f.world.Total() == f.truth);
}

TEST_CASE("a damaged APPS file keeps the manager from opening, a second manager is refused",
          "[app][durable][corruption]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(1, "/store", env.get());
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config()));
  CHECK_ERROR(ApplicationManager::Open(f.store.get()), ErrorType::kResourceInUse);
  f.mgr.reset();
  ASSIGN_OR_REQUIRE(uint64_t size, env->GetFileSize("/store/apps/APPS"));
  std::string bytes(size, '\0');
  {
    ASSIGN_OR_REQUIRE(auto file, env->NewRandomAccessFile("/store/apps/APPS"));
    ASSIGN_OR_REQUIRE(std::string_view got, file->Read(0, size, bytes.data()));
    bytes.assign(got.data(), got.size());
  }
  bytes[bytes.size() / 2] ^= 0x40;
  {
    ASSIGN_OR_REQUIRE(auto file, env->NewWritableFile("/store/apps/APPS"));
    REQUIRE_OK(file->Append(bytes));
    REQUIRE_OK(file->Close());
  }
  absl::Status s = ApplicationManager::Open(f.store.get()).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(GetErrorType(s) == ErrorType::kCorruption);
}

TEST_CASE("DeleteApplication removes the application with its snapshot files", "[app][durable]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(1, "/store", env.get());
  f.CreateRunning();
  f.Put(5);
  f.Pump();
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "s"));
  f.Pump();
  ASSIGN_OR_REQUIRE(auto dirs, env->GetChildren("/store/apps/app"));
  REQUIRE(dirs.size() == 1);
  ASSIGN_OR_REQUIRE(auto files, env->GetChildren("/store/apps/app/" + dirs[0]));
  CHECK(files.size() == 1);  // the snapshot (no checkpoint yet: interval one minute)
  ASSIGN_OR_REQUIRE(ApplicationDetail d, f.mgr->DescribeApplication("app"));
  CHECK_ERROR(f.mgr->DeleteApplication("app", d.create_timestamp + absl::Seconds(1)), ErrorType::kInvalidArgument);
  REQUIRE_OK(f.mgr->DeleteApplication("app", d.create_timestamp));
  f.Pump();
  ASSIGN_OR_REQUIRE(dirs, env->GetChildren("/store/apps/app"));
  CHECK(dirs.empty());
  // The name can be used again, with a fresh history.
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config()));
  CHECK(f.Operations().size() == 1);
  CHECK(f.Snapshots().empty());
}


// ---------------------------------------------------------------- format

// Reads a whole file of an Env.
std::string ReadFile(Env* env, const std::string& path) {
  ASSIGN_OR_REQUIRE(uint64_t size, env->GetFileSize(path));
  std::string bytes(size, '\0');
  ASSIGN_OR_REQUIRE(auto file, env->NewRandomAccessFile(path));
  ASSIGN_OR_REQUIRE(std::string_view got, file->Read(0, size, bytes.data()));
  return std::string(got);
}
void WriteFile(Env* env, const std::string& path, const std::string& bytes) {
  ASSIGN_OR_REQUIRE(auto file, env->NewWritableFile(path));
  REQUIRE_OK(file->Append(bytes));
  REQUIRE_OK(file->Close());
}

TEST_CASE("a cut file is byte for byte the worked example of docs/FORMAT.md", "[app][format]") {
  apps::Cut c;
  c.job_id = 3;
  c.application_version_id = 2;
  c.processor_name = "counter";
  c.code_version = "1.0";
  c.runtime_environment = "1.15";
  c.input_stream = "in";
  c.parallelism = 1;
  c.states = {"k=1\n"};
  const std::string seq = SequenceNumber::FromParts(5, 0).ToString();
  c.positions["shardId-000000000000"] = {seq, false};
  const std::string bytes = apps::EncodeCut(c);
  REQUIRE(bytes.size() == 0x9c);
  CHECK(bytes.substr(0, 8) == std::string("TRBCUT\0\1", 8));
  CHECK(bytes.substr(0x0c, 1) == "\x03");
  CHECK(bytes.substr(0x20, 7) == "counter");
  CHECK(bytes.substr(0x40, 4) == std::string("\x01\0\0\0", 4));
  CHECK(bytes.substr(0x48, 4) == "k=1\n");
  CHECK(bytes.substr(0x54, 20) == "shardId-000000000000");
  CHECK(bytes.substr(0x6c, 39) == seq);
  CHECK(bytes[0x93] == 0);
  ASSIGN_OR_REQUIRE(apps::Cut back, apps::DecodeCut(bytes, "cut"));
  CHECK(back.states == c.states);
  CHECK(back.positions == c.positions);
  CHECK(back.processor_name == "counter");
  CHECK(back.job_id == 3);

  SECTION("a flipped byte anywhere is DataLoss") {
    for (size_t i = 0; i < bytes.size(); i += 7) {
      std::string bad = bytes;
      bad[i] ^= 0x01;
      absl::Status s = apps::DecodeCut(bad, "cut").status();
      CHECK(s.code() == absl::StatusCode::kDataLoss);
      CHECK(GetErrorType(s) == ErrorType::kCorruption);
    }
  }
  SECTION("a truncated file is DataLoss") {
    for (size_t n : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
      CHECK(apps::DecodeCut(bytes.substr(0, n), "cut").status().code() == absl::StatusCode::kDataLoss);
    }
  }
}

TEST_CASE("a damaged CHECKPOINT is ignored after a reopen, the job restores its snapshot",
          "[app][durable][corruption]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(1, "/store", env.get());
  ApplicationConfiguration c = Fixture::Config("1.0", "1.15", 1);
  c.checkpoints.interval = absl::ZeroDuration();
  f.CreateRunning(c);
  f.Put(20);
  f.Pump();
  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.Pump();
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(10);
  f.Pump();
  f.Pump();  // a checkpoint exists now
  f.Reopen();
  ASSIGN_OR_REQUIRE(auto dirs, env->GetChildren("/store/apps/app"));
  const std::string path = "/store/apps/app/" + dirs[0] + "/CHECKPOINT";
  std::string bytes = ReadFile(env.get(), path);
  bytes[bytes.size() / 2] ^= 0x55;
  WriteFile(env.get(), path, bytes);
  f.Reopen();
  f.Pump(2);
  ApplicationDetail d = f.Describe();
  CHECK(d.job.status == JobStatus::kRunning);
  CHECK(d.job.restored_from == f.Snapshots().back().snapshot_name);
  CHECK(f.world.Total() == f.truth);
}

TEST_CASE("a damaged snapshot file fails the job start that needs it", "[app][durable][corruption]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(1, "/store", env.get());
  ApplicationConfiguration c = Fixture::Config("1.0", "1.15", 1);
  c.restart_strategy = RestartStrategy::NoRestart();
  f.CreateRunning(c);
  f.Put(20);
  f.Pump();
  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.Pump();
  ASSIGN_OR_REQUIRE(auto dirs, env->GetChildren("/store/apps/app"));
  ASSIGN_OR_REQUIRE(auto files, env->GetChildren("/store/apps/app/" + dirs[0]));
  REQUIRE(files.size() == 1);
  const std::string path = "/store/apps/app/" + dirs[0] + "/" + files[0];
  std::string bytes = ReadFile(env.get(), path);
  bytes[bytes.size() / 2] ^= 0x55;
  WriteFile(env.get(), path, bytes);
  ASSIGN_OR_REQUIRE(OperationResult st, f.mgr->StartApplication("app"));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);
  ApplicationOperationInfoDetails op = f.Operation(st.operation_id);
  CHECK(op.operation_status == OperationStatus::kFailed);
  CHECK_THAT(op.operation_failure_details->error_string, Catch::Contains("damaged"));
}


// ---------------------------------------------------------------- runner

// Counts records into a shared atomic and wakes the test when it reaches a target.
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int64_t> total{0};
};

class TallyProcessor final : public Processor {
 public:
  explicit TallyProcessor(Tally* t) : t_(t) {}
  absl::Status Process(absl::Span<const InputRecord> records) override {
    n_ += static_cast<int64_t>(records.size());
    t_->total += static_cast<int64_t>(records.size());
    std::lock_guard<std::mutex> g(t_->mu);
    t_->cv.notify_all();
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override { return std::to_string(n_); }
  absl::Status RestoreState(std::string_view s) override {
    n_ = std::stoll(std::string(s));
    return absl::OkStatus();
  }

 private:
  Tally* t_;
  int64_t n_ = 0;
};

TEST_CASE("the background runner pumps while other threads call the manager", "[app][runner]") {
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory(o));
  REQUIRE_OK(store->CreateStream("input", 2));
  Tally tally;
  ASSIGN_OR_REQUIRE(auto mgr, ApplicationManager::Open(store.get()));
  REQUIRE_OK(mgr->RegisterProcessor("tally", "1.0", [&tally](const ProcessorContext&)
                                        -> absl::StatusOr<std::unique_ptr<Processor>> {
    return std::make_unique<TallyProcessor>(&tally);
  }));
  ApplicationConfiguration c = Fixture::Config();
  c.processor_name = "tally";
  REQUIRE_OK(mgr->CreateApplication("app", c));
  mgr->StartRunner(absl::Milliseconds(1));
  REQUIRE_OK(mgr->StartApplication("app"));
  std::atomic<int> errors{0};  // Catch2 assertions are not thread-safe: count, check after
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      if (!store->Put("input", {"k" + std::to_string(i % 13), "v"}).ok()) ++errors;
      if (i % 50 == 0 && !mgr->DescribeApplication("app").ok()) ++errors;
    }
  });
  writer.join();
  CHECK(errors.load() == 0);
  {
    // Waits for an event (every record processed), not for time; the bound
    // only keeps a broken runner from hanging the suite.
    std::unique_lock<std::mutex> l(tally.mu);
    tally.cv.wait_for(l, std::chrono::seconds(60), [&] { return tally.total.load() >= 200; });
  }
  CHECK(tally.total.load() == 200);
  REQUIRE_OK(mgr->CreateApplicationSnapshot("app", "while-running"));
  mgr->StopRunner();
  mgr->StopRunner();  // idempotent
  REQUIRE_OK(mgr->Pump());
  ASSIGN_OR_REQUIRE(SnapshotDetails s, mgr->DescribeApplicationSnapshot("app", "while-running"));
  CHECK(s.snapshot_status == SnapshotStatus::kReady);
}

}  // namespace
}  // namespace tributary
