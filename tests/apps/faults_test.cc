// Faults on purpose (property group "tributary.faults", SetJobFault), the
// system-rollback rule for updates, and transition times: the rollback
// document's two cases, rehearsed without broken processor code.
#include "testing/app_fixture.h"

namespace tributary {
namespace {

ApplicationConfiguration WithFault(ApplicationConfiguration c, std::string_view key) {
  c.property_groups[std::string(kFaultsPropertyGroup)][std::string(key)] = "true";
  return c;
}

std::vector<ApplicationOperationInfo> OfType(const std::vector<ApplicationOperationInfo>& ops,
                                             OperationType t) {
  std::vector<ApplicationOperationInfo> out;
  for (const auto& o : ops) {
    if (o.operation == t) out.push_back(o);
  }
  return out;
}

TEST_CASE("FailOnStart: the update succeeds, the application is RUNNING, its job restarts "
          "continuously, and the rollback takes the fault away with the runtime",
          "[app][fault][rollback]") {
  Fixture f;
  f.CreateRunning();
  f.Put(60);
  f.Pump(2);
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "before-upgrade"));
  f.Pump();
  // Version 2: the same healthy code on 1.18, asked to fail every start.
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(
                                            WithFault(Fixture::Config("1.0", "1.18"), kFailOnStartKey))));
  f.Put(30);
  f.Pump();
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kSuccessful);
  for (int i = 0; i < 3; ++i) {
    f.clock.Advance(absl::Seconds(10));
    f.Pump();
  }
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.configuration.runtime_environment == "1.18");
  CHECK(d.job_fault == JobFault::kFail);
  CHECK_FALSE(d.job_fault_override.has_value());
  CHECK(d.job.status == JobStatus::kRestarting);
  CHECK(d.job.restart_count == 4);
  CHECK(d.job.records_processed == 0);
  CHECK_THAT(d.job.last_failure.value_or(""), Catch::Contains("FailOnStart (property group tributary.faults)"));
  CHECK(OfType(f.Operations(), OperationType::kJobRestart).size() == 4);

  ASSIGN_OR_REQUIRE(OperationResult rb, f.mgr->RollbackApplication("app", 2));
  f.Put(10);
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.application_version_id == 3);
  CHECK(d.configuration.runtime_environment == "1.15");
  CHECK(d.job_fault == JobFault::kNone);
  CHECK(d.job.status == JobStatus::kRunning);
  CHECK(f.Operation(rb.operation_id).operation_status == OperationStatus::kSuccessful);
  CHECK(f.world.Total() == f.truth);
}

TEST_CASE("FailOnStart with system rollback: the update fails and the service rolls it back",
          "[app][fault][rollback][system]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  c.system_rollback_enabled = true;
  f.CreateRunning(c);
  f.Put(40);
  f.Pump(2);
  ApplicationConfiguration bad = WithFault(c, kFailOnStartKey);
  bad.runtime_environment = "1.18";
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(bad)));
  f.Put(10);
  f.Pump();  // the new job deploys and fails before a healthy round
  CHECK(f.Status() == ApplicationStatus::kRollingBack);
  ApplicationOperationInfoDetails op = f.Operation(up.operation_id);
  CHECK(op.operation_status == OperationStatus::kFailed);
  REQUIRE(op.operation_failure_details.has_value());
  CHECK_THAT(op.operation_failure_details->error_string, Catch::Contains("FailOnStart"));
  REQUIRE(op.operation_failure_details->rollback_operation_id.has_value());
  ApplicationOperationInfoDetails rb = f.Operation(*op.operation_failure_details->rollback_operation_id);
  CHECK(rb.operation == OperationType::kSystemRollbackApplication);
  CHECK(rb.initiated_by == Initiator::kSystem);
  f.Pump(2);
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.configuration.runtime_environment == "1.15");
  CHECK(d.job_fault == JobFault::kNone);
  CHECK(f.Operation(rb.operation_id).operation_status == OperationStatus::kSuccessful);
  CHECK(f.world.Total() == f.truth);

  // A healthy update with system rollback on succeeds once its job ran a
  // healthy round (not merely deployed).
  ApplicationConfiguration good = c;
  good.runtime_environment = "1.18";
  ASSIGN_OR_REQUIRE(OperationResult up2, f.mgr->UpdateApplication(f.Update(good)));
  f.Pump();
  CHECK(f.Operation(up2.operation_id).operation_status == OperationStatus::kSuccessful);
  CHECK(f.Status() == ApplicationStatus::kRunning);
}

TEST_CASE("HangOnStart: stuck in UPDATING until RollbackApplication, in STARTING until a "
          "forced stop",
          "[app][fault][rollback]") {
  Fixture f;
  f.CreateRunning();
  f.Put(50);
  f.Pump(2);
  ASSIGN_OR_REQUIRE(OperationResult up, f.mgr->UpdateApplication(f.Update(
                                            WithFault(Fixture::Config("1.0", "1.18"), kHangOnStartKey))));
  f.Put(20);
  for (int i = 0; i < 5; ++i) {
    f.Pump();
    f.clock.Advance(absl::Seconds(30));
  }
  ApplicationDetail d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kUpdating);
  CHECK(d.job.status == JobStatus::kStarting);
  CHECK(d.job_fault == JobFault::kHang);
  CHECK(d.recent_restarts.empty());  // hanging is not failing
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kInProgress);

  ASSIGN_OR_REQUIRE(OperationResult rb, f.mgr->RollbackApplication("app", 2));
  CHECK(f.Operation(up.operation_id).operation_status == OperationStatus::kCancelled);
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.configuration.runtime_environment == "1.15");
  CHECK(f.Operation(rb.operation_id).operation_status == OperationStatus::kSuccessful);
  CHECK(f.world.Total() == f.truth);

  // A first start that hangs: STARTING, which RollbackApplication does not
  // accept; a forced stop does.
  REQUIRE_OK(f.mgr->CreateApplication("hung", WithFault(Fixture::Config(), kHangOnStartKey)));
  REQUIRE_OK(f.mgr->StartApplication("hung"));
  f.Pump(3);
  CHECK(f.Status("hung") == ApplicationStatus::kStarting);
  CHECK_ERROR(f.mgr->RollbackApplication("hung", 1), ErrorType::kResourceInUse);
  REQUIRE_OK(f.mgr->StopApplication("hung", /*force=*/true));
  f.Pump();
  CHECK(f.Status("hung") == ApplicationStatus::kReady);
}

TEST_CASE("SetJobFault fails, hangs and heals a running job without a new version",
          "[app][fault]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(2, "/store", env.get());
  f.CreateRunning();
  f.Put(30);
  f.Pump();
  REQUIRE(f.world.Total() == f.truth);

  REQUIRE_OK(f.mgr->SetJobFault("app", JobFault::kFail));
  f.Put(10);
  f.Pump();
  ApplicationDetail d = f.Describe();
  CHECK(d.application_version_id == 1);
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.job.status == JobStatus::kRestarting);
  CHECK(d.job_fault_override == JobFault::kFail);
  CHECK_THAT(d.job.last_failure.value_or(""), Catch::Contains("set with SetJobFault"));

  // Persisted with the application: still failing after a reopen.
  f.Reopen();
  f.clock.Advance(absl::Seconds(10));
  f.Pump();
  d = f.Describe();
  CHECK(d.job_fault_override == JobFault::kFail);
  CHECK(d.job.status == JobStatus::kRestarting);

  REQUIRE_OK(f.mgr->SetJobFault("app", JobFault::kHang));
  f.clock.Advance(absl::Seconds(10));
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.job.status == JobStatus::kStarting);

  // kNone heals even a version that asks for a fault; nullopt goes back to
  // the configuration.
  ApplicationConfiguration faulty = WithFault(Fixture::Config(), kFailOnStartKey);
  REQUIRE_OK(f.mgr->SetJobFault("app", JobFault::kNone));
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(faulty)));
  f.Put(10);
  f.Pump(2);
  d = f.Describe();
  CHECK(d.application_version_id == 2);
  CHECK(d.job_fault == JobFault::kNone);
  CHECK(d.job.status == JobStatus::kRunning);
  CHECK(f.world.Total() == f.truth);
  REQUIRE_OK(f.mgr->SetJobFault("app", std::nullopt));
  f.Pump();
  d = f.Describe();
  CHECK_FALSE(d.job_fault_override.has_value());
  CHECK(d.job_fault == JobFault::kFail);
  CHECK(d.job.status == JobStatus::kRestarting);
  CHECK(d.application_version_id == 2);

  CHECK_ERROR(f.mgr->SetJobFault("nope", JobFault::kFail), ErrorType::kResourceNotFound);
}

TEST_CASE("a malformed tributary.faults group is refused and changes nothing", "[app][fault][guard]") {
  Fixture f;
  ApplicationConfiguration c = Fixture::Config();
  c.property_groups["tributary.faults"] = {{"FailOnStrat", "true"}};
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  c.property_groups["tributary.faults"] = {{"FailOnStart", "yes"}};
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  c.property_groups["tributary.faults"] = {{"FailOnStart", "true"}, {"HangOnStart", "TRUE"}};
  CHECK_ERROR(f.mgr->CreateApplication("app", c), ErrorType::kInvalidArgument);
  CHECK(f.mgr->ListApplications().empty());
  c.property_groups["tributary.faults"] = {{"FailOnStart", "False"}, {"HangOnStart", "false"}};
  REQUIRE_OK(f.mgr->CreateApplication("app", c));
  CHECK(f.Describe().job_fault == JobFault::kNone);
}

TEST_CASE("job failures are JobRestart operations, the oldest go first, calls stay",
          "[app][fault][operations]") {
  Fixture f;
  ApplicationConfiguration c = WithFault(Fixture::Config(), kFailOnStartKey);
  c.restart_strategy = RestartStrategy::FixedDelay(std::nullopt, absl::ZeroDuration());
  f.CreateRunning(c);
  for (int i = 0; i < limits::kMaxJobRestartOperationsKept + 20; ++i) f.Pump();
  std::vector<ApplicationOperationInfo> ops = f.Operations();
  CHECK(OfType(ops, OperationType::kJobRestart).size() ==
        static_cast<size_t>(limits::kMaxJobRestartOperationsKept));
  CHECK(OfType(ops, OperationType::kCreateApplication).size() == 1);
  CHECK(OfType(ops, OperationType::kStartApplication).size() == 1);
  ListApplicationOperationsRequest r;
  r.application_name = "app";
  r.operation = OperationType::kJobRestart;
  r.limit = 50;
  ASSIGN_OR_REQUIRE(ListApplicationOperationsResult page, f.mgr->ListApplicationOperations(r));
  CHECK(page.operations.size() == 50);
  CHECK(page.next_token.has_value());
}

TEST_CASE("transitions last the transition time", "[app][transition]") {
  Fixture f;
  f.options.transition_time = absl::Seconds(5);
  f.ReopenManager();
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config()));
  CHECK(f.Status() == ApplicationStatus::kReady);  // creation is immediate, as in AWS

  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kStarting);
  f.clock.Advance(absl::Seconds(4));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kStarting);
  CHECK(f.Describe().job.status == JobStatus::kStarting);
  f.clock.Advance(absl::Seconds(1));
  f.Put(10);
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.world.Total() == f.truth);

  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("1.0", "1.18"))));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kUpdating);
  f.clock.Advance(absl::Seconds(5));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kRunning);

  REQUIRE_OK(f.mgr->StopApplication("app"));
  f.clock.Advance(absl::Seconds(3));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kStopping);
  f.clock.Advance(absl::Seconds(2));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);

  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("1.0", "1.19"))));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kUpdating);
  f.clock.Advance(absl::Seconds(5));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kReady);

  REQUIRE_OK(f.mgr->DeleteApplication("app"));
  f.Pump();
  CHECK(f.Status() == ApplicationStatus::kDeleting);
  f.clock.Advance(absl::Seconds(5));
  f.Pump();
  CHECK_ERROR(f.mgr->DescribeApplication("app"), ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace tributary
