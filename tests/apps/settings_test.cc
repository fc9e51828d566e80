// The Managed Flink settings the wire API carries (property groups, runtime
// list, ConditionalToken, tags, maintenance window, the stored-only
// settings) and the APPS format versions that hold them.
#include <xxhash.h>

#include <fstream>
#include <sstream>

#include "testing/app_fixture.h"

namespace tributary {
namespace {

ApplicationConfiguration FromGroups() {
  ApplicationConfiguration c = Fixture::Config();
  c.input_stream.clear();
  c.property_groups["InputStream0"] = {{"stream.name", "input"}, {"aws.region", "us-east-1"}};
  return c;
}

TEST_CASE("the input stream comes from property group InputStream0 and is required to start",
          "[app][settings]") {
  Fixture f;
  REQUIRE_OK(f.mgr->CreateApplication("app", FromGroups()));
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(40);
  f.Pump(2);
  CHECK(f.Status() == ApplicationStatus::kRunning);
  CHECK(f.world.Total() == f.truth);
  CHECK(f.Describe().configuration.input_stream.empty());  // reported as configured

  ApplicationConfiguration none = FromGroups();
  none.property_groups.erase("InputStream0");
  REQUIRE_OK(f.mgr->CreateApplication("no-input", none));  // created without one, as in AWS
  CHECK_ERROR(f.mgr->StartApplication("no-input"), ErrorType::kInvalidApplicationConfiguration);
  CHECK_THAT(std::string(f.mgr->StartApplication("no-input").status().message()),
             Catch::Contains("InputStream0"));
  CHECK(f.Status("no-input") == ApplicationStatus::kReady);
  CHECK(f.Operations("no-input").size() == 1);  // nothing recorded by the refused start
  // A running application cannot be updated to a version without input.
  CHECK_ERROR(f.mgr->UpdateApplication(f.Update(none)), ErrorType::kInvalidApplicationConfiguration);
  CHECK(f.Version() == 1);
}

TEST_CASE("processors see the property groups and the stream they read", "[app][settings]") {
  Fixture f;
  std::map<std::string, std::map<std::string, std::string>> seen_groups;
  std::string seen_input;
  REQUIRE_OK(f.mgr->RegisterProcessor(
      "probe", "1.0", [&](const ProcessorContext& ctx) -> absl::StatusOr<std::unique_ptr<Processor>> {
        seen_groups = *ctx.property_groups;
        seen_input = std::string(ctx.input_stream);
        return f.world.Factory({})(ctx);
      }));
  ApplicationConfiguration c = FromGroups();
  c.processor_name = "probe";
  c.property_groups["OutputStream0"] = {{"stream.name", "out"}};
  f.CreateRunning(c);
  CHECK(seen_input == "input");
  CHECK(seen_groups["OutputStream0"]["stream.name"] == "out");
  CHECK(seen_groups["InputStream0"]["aws.region"] == "us-east-1");
}

TEST_CASE("only the configured runtime environments are accepted", "[app][settings][guard]") {
  Fixture f;
  f.options.runtime_environments = {"FLINK-1_15", "FLINK-1_18", "FLINK-1_19", "FLINK-1_20"};
  f.ReopenManager();
  absl::Status s = f.mgr->CreateApplication("app", Fixture::Config("1.0", "FLINK-1_13")).status();
  CHECK(GetErrorType(s) == ErrorType::kInvalidArgument);
  CHECK_THAT(std::string(s.message()), Catch::Contains("FLINK-1_15, FLINK-1_18, FLINK-1_19, FLINK-1_20"));
  CHECK(f.mgr->ListApplications().empty());
  f.CreateRunning(Fixture::Config("1.0", "FLINK-1_15"));
  CHECK_ERROR(f.mgr->UpdateApplication(f.Update(Fixture::Config("1.0", "FLINK-2_2"))),
              ErrorType::kInvalidArgument);
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(Fixture::Config("1.0", "FLINK-1_20"))));
}

TEST_CASE("UpdateApplication takes the ConditionalToken or the version id, and of two callers with "
          "the same view one wins",
          "[app][settings][guard]") {
  Fixture f;
  f.CreateRunning();
  ApplicationDetail d = f.Describe();
  REQUIRE_FALSE(d.conditional_token.empty());
  UpdateApplicationRequest by_token;
  by_token.application_name = "app";
  by_token.conditional_token = d.conditional_token;
  by_token.configuration = Fixture::Config("1.0", "1.18");
  UpdateApplicationRequest by_version = f.Update(Fixture::Config("1.0", "1.19"));
  UpdateApplicationRequest neither = by_version;
  neither.current_application_version_id = 0;
  CHECK_ERROR(f.mgr->UpdateApplication(neither), ErrorType::kInvalidArgument);

  REQUIRE_OK(f.mgr->UpdateApplication(by_token));
  // The second caller had the same view: it loses, and nothing changes.
  CHECK_ERROR(f.mgr->UpdateApplication(by_version), ErrorType::kConcurrentModification);
  CHECK_ERROR(f.mgr->UpdateApplication(by_token), ErrorType::kConcurrentModification);
  f.Pump();
  d = f.Describe();
  CHECK(d.application_version_id == 2);
  CHECK(d.configuration.runtime_environment == "1.18");
  CHECK(d.conditional_token != by_token.conditional_token);
  // Both given: both must be current.
  UpdateApplicationRequest both = f.Update(Fixture::Config("1.0", "1.20"));
  both.conditional_token = by_token.conditional_token;  // stale
  CHECK_ERROR(f.mgr->UpdateApplication(both), ErrorType::kConcurrentModification);
  both.conditional_token = d.conditional_token;
  REQUIRE_OK(f.mgr->UpdateApplication(both));
}

TEST_CASE("tags belong to the application: create, tag, untag, list, limits", "[app][settings]") {
  Fixture f;
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config(), {{"team", "data"}, {"env", "test"}}));
  const std::string arn = f.Describe().application_arn;
  ASSIGN_OR_REQUIRE(auto tags, f.mgr->ListTagsForResource(arn));
  CHECK(tags == std::map<std::string, std::string>{{"env", "test"}, {"team", "data"}});
  REQUIRE_OK(f.mgr->TagResource(arn, {{"team", "streams"}, {"cost", ""}}));
  REQUIRE_OK(f.mgr->UntagResource(arn, {"env", "absent"}));
  ASSIGN_OR_REQUIRE(tags, f.mgr->ListTagsForResource(arn));
  CHECK(tags == std::map<std::string, std::string>{{"cost", ""}, {"team", "streams"}});
  CHECK(f.Version() == 1);  // tags make no version

  std::map<std::string, std::string> many;
  for (int i = 0; i < 49; ++i) many["k" + std::to_string(i)] = "v";
  CHECK_ERROR(f.mgr->TagResource(arn, many), ErrorType::kTooManyTags);  // 2 + 49 > 50
  CHECK_ERROR(f.mgr->TagResource(arn, {{"aws:reserved", "x"}}), ErrorType::kInvalidArgument);
  CHECK_ERROR(f.mgr->TagResource(arn, {{std::string(129, 'k'), "x"}}), ErrorType::kInvalidArgument);
  CHECK_ERROR(f.mgr->TagResource(arn + "x", {{"a", "b"}}), ErrorType::kResourceNotFound);
  CHECK_ERROR(f.mgr->ListTagsForResource("arn:aws:kinesisanalytics:us-east-1:000000000000:application/none"),
              ErrorType::kResourceNotFound);
  ASSIGN_OR_REQUIRE(tags, f.mgr->ListTagsForResource(arn));
  CHECK(tags.size() == 2);
  std::map<std::string, std::string> fifty_one;
  for (int i = 0; i < 51; ++i) fifty_one["k" + std::to_string(i)] = "v";
  CHECK_ERROR(f.mgr->CreateApplication("app2", Fixture::Config(), fifty_one), ErrorType::kTooManyTags);
}

TEST_CASE("the maintenance window: READY or RUNNING, HH:MM, 8 hours, no new version",
          "[app][settings]") {
  Fixture f;
  REQUIRE_OK(f.mgr->CreateApplication("app", Fixture::Config()));
  ApplicationDetail d = f.Describe();
  CHECK(d.maintenance_window_start == "03:00");
  CHECK(d.maintenance_window_end == "11:00");
  ASSIGN_OR_REQUIRE(MaintenanceConfiguration m, f.mgr->UpdateApplicationMaintenanceConfiguration("app", "20:30"));
  CHECK(m.window_start == "20:30");
  CHECK(m.window_end == "04:30");
  CHECK(f.Describe().maintenance_window_start == "20:30");
  CHECK(f.Version() == 1);
  CHECK_ERROR(f.mgr->UpdateApplicationMaintenanceConfiguration("app", "24:00"), ErrorType::kInvalidArgument);
  CHECK_ERROR(f.mgr->UpdateApplicationMaintenanceConfiguration("app", "7:00"), ErrorType::kInvalidArgument);
  REQUIRE_OK(f.mgr->StartApplication("app"));
  CHECK_ERROR(f.mgr->UpdateApplicationMaintenanceConfiguration("app", "01:00"), ErrorType::kResourceInUse);
  f.Pump();
  REQUIRE_OK(f.mgr->UpdateApplicationMaintenanceConfiguration("app", "01:00"));
}

ApplicationConfiguration Rich() {
  ApplicationConfiguration c = FromGroups();
  c.description = "counts clicks";
  c.service_execution_role = "arn:aws:iam::000000000000:role/flink";
  c.code = {"arn:aws:s3:::code", "counter-1.0.jar", "v7"};
  c.checkpoints.custom = true;
  c.checkpoints.min_pause = absl::Seconds(7);
  c.monitoring = {true, "TASK", "WARN"};
  c.parallelism_custom = true;
  c.parallelism_per_kpu = 2;
  c.cloudwatch_logging_options = {{"1.1", "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s", ""}};
  c.vpc_configurations = {{"1.1", "vpc-0abc", {"subnet-1", "subnet-2"}, {"sg-1"}}};
  c.encryption = EncryptionConfiguration{"CUSTOMER_MANAGED_KEY", "alias/k"};
  c.property_groups["FlinkApplicationProperties"] = {{"window.seconds", "60"}};
  return c;
}

void CheckRich(const ApplicationConfiguration& c) {
  CHECK(c.description == "counts clicks");
  CHECK(c.service_execution_role == "arn:aws:iam::000000000000:role/flink");
  CHECK(c.code.file_key == "counter-1.0.jar");
  CHECK(c.code.object_version == "v7");
  CHECK(c.checkpoints.custom);
  CHECK(c.checkpoints.min_pause == absl::Seconds(7));
  CHECK(c.monitoring.metrics_level == "TASK");
  CHECK(c.monitoring.log_level == "WARN");
  CHECK(c.parallelism_custom);
  CHECK(c.parallelism_per_kpu == 2);
  REQUIRE(c.cloudwatch_logging_options.size() == 1);
  CHECK(c.cloudwatch_logging_options[0].id == "1.1");
  REQUIRE(c.vpc_configurations.size() == 1);
  CHECK(c.vpc_configurations[0].subnet_ids == std::vector<std::string>{"subnet-1", "subnet-2"});
  REQUIRE(c.encryption.has_value());
  CHECK(c.encryption->key_id == "alias/k");
  CHECK(c.property_groups.at("FlinkApplicationProperties").at("window.seconds") == "60");
  CHECK(c.property_groups.at("InputStream0").at("stream.name") == "input");
}

TEST_CASE("stored settings, tags, window and fault override survive a reopen, and every version "
          "keeps its own settings",
          "[app][settings][durable]") {
  std::unique_ptr<Env> env = NewMemEnv();
  Fixture f(2, "/store", env.get());
  REQUIRE_OK(f.mgr->CreateApplication("app", Rich(), {{"team", "data"}}));
  ApplicationConfiguration v2 = Rich();
  v2.cloudwatch_logging_options.clear();
  v2.vpc_configurations.clear();
  v2.description = "v2";
  REQUIRE_OK(f.mgr->UpdateApplication(f.Update(v2)));
  f.Pump();
  REQUIRE_OK(f.mgr->UpdateApplicationMaintenanceConfiguration("app", "22:15"));
  REQUIRE_OK(f.mgr->SetJobFault("app", JobFault::kHang));
  const std::string token = f.Describe().conditional_token;
  f.Reopen();
  ApplicationDetail d = f.Describe();
  CHECK(d.application_version_id == 2);
  CHECK(d.configuration.description == "v2");
  CHECK(d.configuration.cloudwatch_logging_options.empty());
  CHECK(d.maintenance_window_start == "22:15");
  CHECK(d.job_fault_override == JobFault::kHang);
  CHECK(d.conditional_token == token);
  ASSIGN_OR_REQUIRE(auto tags, f.mgr->ListTagsForResource(d.application_arn));
  CHECK(tags.at("team") == "data");
  ASSIGN_OR_REQUIRE(ApplicationVersionDetail v1, f.mgr->DescribeApplicationVersion("app", 1));
  CheckRich(v1.configuration);
}

std::string ReadGolden(const std::string& name) {
  std::ifstream in(std::string(TRIBUTARY_GOLDEN_DIR) + "/apps/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("an APPS file of format version 1 (tests/golden/apps/APPS.v1) still reads",
          "[app][format][golden]") {
  uint64_t next_incarnation = 0;
  std::map<std::string, apps::AppState> states;
  REQUIRE_OK(apps::DecodeMeta(ReadGolden("APPS.v1"), "APPS.v1", &next_incarnation, &states));
  CHECK(next_incarnation == 3);
  REQUIRE(states.size() == 2);
  const apps::AppState& a = states.at("TestApplication");
  CHECK(a.status == ApplicationStatus::kRunning);
  CHECK(a.version_id == 3);
  CHECK(a.config().runtime_environment == "1.15");
  CHECK(a.config().properties.at("greeting") == "hello");
  CHECK(a.versions[1].application_status == ApplicationStatus::kRolledBack);
  CHECK(a.versions[1].configuration.runtime_environment == "1.18");
  REQUIRE(a.snapshots.size() == 2);
  CHECK(a.snapshots[0].details.snapshot_name == "before-upgrade");
  CHECK(a.restarts.empty());  // the 2.0 job never saw a record to fail on
  // Members version 2 added take their defaults.
  CHECK(a.tags.empty());
  CHECK(a.maintenance_window_start == "03:00");
  CHECK_FALSE(a.fault_override.has_value());
  CHECK(a.config().property_groups.empty());
  CHECK(a.config().parallelism_per_kpu == 1);
  CHECK(states.at("Idle").status == ApplicationStatus::kReady);
  // Written back, it is version 2 and reads the same.
  std::string v2 = apps::EncodeMeta(next_incarnation, states);
  std::map<std::string, apps::AppState> again;
  REQUIRE_OK(apps::DecodeMeta(v2, "APPS", &next_incarnation, &again));
  CHECK(again.at("TestApplication").operations.size() == a.operations.size());
}

TEST_CASE("an APPS file of format version 2 (tests/golden/apps/APPS.v2) reads with every member",
          "[app][format][golden]") {
  uint64_t next_incarnation = 0;
  std::map<std::string, apps::AppState> states;
  REQUIRE_OK(apps::DecodeMeta(ReadGolden("APPS.v2"), "APPS.v2", &next_incarnation, &states));
  const apps::AppState& a = states.at("TestApplication");
  CHECK(a.version_id == 3);
  CheckRich(a.versions[0].configuration);
  CHECK(a.config().property_groups.at("tributary.faults").at("FailOnStart") == "false");
  CHECK(a.versions[1].configuration.property_groups.at("tributary.faults").at("FailOnStart") == "true");
  CHECK(a.tags.at("team") == "data");
  CHECK(a.maintenance_window_start == "22:15");
  CHECK(a.fault_override == JobFault::kHang);
  bool job_restart = false;
  for (const auto& o : a.operations) job_restart |= o.operation == OperationType::kJobRestart;
  CHECK(job_restart);
  // Byte for byte what this build writes for the same state.
  CHECK(apps::EncodeMeta(next_incarnation, states) == ReadGolden("APPS.v2"));
}

TEST_CASE("a future APPS format version is refused as damaged, not misread", "[app][format]") {
  std::string data = ReadGolden("APPS.v1");
  data[8] = 9;  // format_version 9, sealed again with a valid checksum
  const uint64_t sum = XXH3_64bits(data.data(), data.size() - 8);
  for (int i = 0; i < 8; ++i) data[data.size() - 8 + i] = static_cast<char>(sum >> (8 * i));
  uint64_t next = 0;
  std::map<std::string, apps::AppState> states;
  absl::Status s = apps::DecodeMeta(data, "APPS", &next, &states);
  CHECK(GetErrorType(s) == ErrorType::kCorruption);
  CHECK_THAT(std::string(s.message()), Catch::Contains("format version 9"));
}

}  // namespace
}  // namespace tributary
