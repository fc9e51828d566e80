// The kinesisanalyticsv2 mapping in-process: Endpoint::Handle on a Store and
// an ApplicationManager driven by a ManualClock (Pump by hand), so every
// step is deterministic. Real clients drive tributary-server in
// flink_boto3_test.py, flink_js/ and examples/rollback_with_aws_cli.sh.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "endpoint/endpoint.h"
#include "endpoint/flink_actions.h"
#include "endpoint/flink_shapes.h"
#include "endpoint/status_page.h"
#include "endpoint/validation/validator.h"
#include "tributary/server.h"
#include "tributary/tributary.h"

namespace tributary::endpoint {
namespace {

constexpr std::string_view kJson = "application/x-amz-json-1.1";

struct Fixture {
  ManualClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<ApplicationManager> apps;
  std::unique_ptr<Endpoint> endpoint;
  explicit Fixture(bool with_apps = true) {
    StoreOptions o;
    o.clock = &clock;
    o.create_delay = absl::ZeroDuration();
    store = *Store::OpenInMemory(o);
    apps = *ApplicationManager::Open(store.get());
    REQUIRE(RegisterBuiltinProcessors(*apps, *store).ok());
    EndpointOptions eo;
    if (with_apps) eo.applications = apps.get();
    endpoint = std::make_unique<Endpoint>(store.get(), eo);
  }
  Response Call(std::string_view action, const std::string& body, std::string_view content_type = kJson) {
    return endpoint->Handle(std::string(kFlinkTargetPrefix) + std::string(action), content_type, body);
  }
  // The __type of an error response ("" for success).
  std::string TypeOf(const Response& r) {
    if (r.status == 200) return "";
    simdjson::dom::parser p;
    std::string_view t;
    if (p.parse(r.body).at_key("__type").get(t) != simdjson::SUCCESS) return "(no __type)";
    return std::string(t);
  }
};

const std::string kCreate = R"({
  "ApplicationName": "TestApplication", "RuntimeEnvironment": "FLINK-1_15",
  "ServiceExecutionRole": "arn:aws:iam::000000000000:role/flink",
  "ApplicationConfiguration": {
    "ApplicationCodeConfiguration": {"CodeContentType": "ZIPFILE", "CodeContent": {
      "S3ContentLocation": {"BucketARN": "arn:aws:s3:::code", "FileKey": "flink/counter-1.0.jar"}}},
    "EnvironmentProperties": {"PropertyGroups": [
      {"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": "in"}}]},
    "ApplicationSnapshotConfiguration": {"SnapshotsEnabled": true}}})";

TEST_CASE("every kinesisanalyticsv2 action is listed once, sorted, and is an operation of the AWS "
          "model",
          "[endpoint][flink]") {
  auto actions = FlinkActions();
  CHECK(actions.size() == 33);
  std::set<std::string_view> model;
  for (const validation::Operation& op : validation::kKinesisAnalyticsV2Model.operations) model.insert(op.name);
  std::set<std::string_view> names;
  int sql = 0;
  for (size_t i = 0; i < actions.size(); ++i) {
    const FlinkActionInfo& a = actions[i];
    INFO(a.name);
    names.insert(a.name);
    if (i > 0) CHECK(actions[i - 1].name < a.name);
    CHECK(FindFlinkAction(a.name) == &a);
    CHECK((a.handler != nullptr) == (a.status == FlinkActionStatus::kDone));
    CHECK(model.count(a.name) == 1);
    sql += a.status == FlinkActionStatus::kSqlOnly;
  }
  CHECK(names == model);  // every operation of the model, nothing else
  CHECK(sql == 8);
}

TEST_CASE("docs/ENDPOINT.md gives every kinesisanalyticsv2 action the status the server has",
          "[endpoint][flink][docs]") {
  std::ifstream in(std::string(TRIBUTARY_SOURCE_DIR) + "/docs/ENDPOINT.md");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t section = doc.find("## Managed Service for Apache Flink");
  REQUIRE(section != std::string::npos);
  const std::string flink = doc.substr(section);
  for (const FlinkActionInfo& a : FlinkActions()) {
    std::regex row("\\| " + std::string(a.name) + " \\| (done|SQL only) \\|");
    std::smatch m;
    INFO(a.name);
    REQUIRE(std::regex_search(flink, m, row));
    CHECK(m[1] == (a.status == FlinkActionStatus::kDone ? "done" : "SQL only"));
  }
}

TEST_CASE("kinesisanalyticsv2 in-process: create, start on the manager's clock, describe",
          "[endpoint][flink]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("in", 1).ok());
  Response r = f.Call("CreateApplication", kCreate);
  REQUIRE(r.status == 200);
  CHECK(r.body.find(R"("ApplicationStatus":"READY")") != std::string::npos);
  CHECK(r.body.find(R"("FileKey":"flink/counter-1.0.jar")") != std::string::npos);
  CHECK(r.body.find(R"("CheckpointInterval":60000)") != std::string::npos);
  CHECK(r.body.find(R"("CreateTimestamp":1704067200.000)") != std::string::npos);
  absl::StatusOr<ApplicationDetail> d = f.apps->DescribeApplication("TestApplication");
  REQUIRE(d.ok());
  CHECK(d->configuration.processor_name == "counter");
  CHECK(d->configuration.code_version == "1.0");

  r = f.Call("StartApplication", R"({"ApplicationName": "TestApplication"})");
  REQUIRE(r.status == 200);
  CHECK(r.body == R"({"OperationId":"op-000002"})");
  REQUIRE(f.apps->Pump().ok());
  r = f.Call("DescribeApplication", R"({"ApplicationName": "TestApplication", "IncludeAdditionalDetails": true})");
  REQUIRE(r.status == 200);
  CHECK(r.body.find(R"("ApplicationStatus":"RUNNING")") != std::string::npos);
  CHECK(r.body.find(R"("JobPlanDescription":"{\"jobStatus\":\"RUNNING\")") != std::string::npos);
  CHECK(r.body.find(R"("RunConfigurationDescription")") != std::string::npos);
  r = f.Call("ListApplications", "{}");
  CHECK(r.body.find(R"("ApplicationName":"TestApplication")") != std::string::npos);
  CHECK(f.TypeOf(f.Call("StartApplication", R"({"ApplicationName": "TestApplication"})")) ==
        "ResourceInUseException");
}

TEST_CASE("kinesisanalyticsv2 errors come with AWS's types and change nothing", "[endpoint][flink]") {
  Fixture f;
  CHECK(f.TypeOf(f.Call("CreateApplication", "{")) == "SerializationException");
  CHECK(f.TypeOf(f.Call("CreateApplication", "")) == "SerializationException");
  CHECK(f.TypeOf(f.Call("DescribeApplication", R"({"ApplicationName": 1})")) == "SerializationException");
  CHECK(f.TypeOf(f.Call("DescribeApplication", "{}")) == "ValidationException");
  CHECK(f.TypeOf(f.Call("DescribeApplication", R"({"ApplicationName": "a b"})")) == "ValidationException");
  CHECK(f.TypeOf(f.Call("DescribeApplication", R"({"ApplicationName": "nope"})")) ==
        "ResourceNotFoundException");
  CHECK(f.TypeOf(f.Call("NoSuchAction", "{}")) == "UnknownOperationException");
  CHECK(f.TypeOf(f.Call("DiscoverInputSchema", R"({"ServiceExecutionRole": "arn:aws:iam::1:role/x"})")) ==
        "UnsupportedOperationException");
  CHECK(f.TypeOf(f.Call("DescribeApplication", R"({"ApplicationName": "x"})", "application/x-amz-cbor-1.1")) ==
        "SerializationException");
  std::string unknown = kCreate;
  unknown.replace(unknown.find("counter-1.0.jar"), 15, "counter-7.jar");
  Response r = f.Call("CreateApplication", unknown);
  CHECK(f.TypeOf(r) == "InvalidArgumentException");
  CHECK(r.body.find("known: copy-1.0.jar, copy-2.0.jar, counter-1.0.jar, counter-2.0.jar") != std::string::npos);
  CHECK(r.status == 400);
  CHECK(f.apps->ListApplications().empty());

  // An endpoint without an ApplicationManager does not serve the API.
  Fixture kinesis_only(false);
  CHECK(kinesis_only.TypeOf(kinesis_only.Call("ListApplications", "{}")) == "UnknownOperationException");
}

TEST_CASE("FileKey names a processor as <name>-<code version>.jar or .zip", "[endpoint][flink]") {
  const std::vector<ProcessorInfo> known = {{"counter", "1.0"}, {"my-proc", "2.1-rc1"}};
  auto parsed = [&](std::string_view key) -> std::string {
    absl::StatusOr<ProcessorInfo> p = flink::ProcessorOfFileKey(key, known);
    return p.ok() ? p->name + "@" + p->code_version : std::string(ErrorTypeName(GetErrorType(p.status())));
  };
  CHECK(parsed("counter-1.0.jar") == "counter@1.0");
  CHECK(parsed("a/b/counter-1.0.zip") == "counter@1.0");
  CHECK(parsed("my-proc-2.1-rc1.jar") == "my-proc@2.1-rc1");
  CHECK(parsed("counter-1.0.war") == "InvalidArgumentException");
  CHECK(parsed("counter-2.0.jar") == "InvalidArgumentException");
  CHECK(parsed("counter.jar") == "InvalidArgumentException");
  CHECK(parsed("-1.0.jar") == "InvalidArgumentException");
  CHECK(parsed("") == "InvalidArgumentException");
}

TEST_CASE("the status page shows applications, and one application's page its restarts",
          "[endpoint][flink][status_page]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("in", 1).ok());
  std::string failing = kCreate;
  failing.replace(failing.find(R"({"PropertyGroupId": "InputStream0")"), 0,
                  R"({"PropertyGroupId": "tributary.faults", "PropertyMap": {"FailOnStart": "true"}}, )");
  REQUIRE(f.Call("CreateApplication", failing).status == 200);
  REQUIRE(f.Call("StartApplication", R"({"ApplicationName": "TestApplication"})").status == 200);
  REQUIRE(f.apps->Pump().ok());
  Response page = RenderStatusPage(*f.endpoint, "/ui");
  CHECK(page.status == 200);
  CHECK(page.body.find(R"(data-application="TestApplication")") != std::string::npos);
  page = RenderStatusPage(*f.endpoint, "/ui/applications/TestApplication?authToken=x");
  CHECK(page.status == 200);
  CHECK(page.body.find(R"(data-job-status="RESTARTING")") != std::string::npos);
  CHECK(page.body.find(R"(data-restarts="1")") != std::string::npos);
  CHECK(page.body.find("FailOnStart (property group tributary.faults)") != std::string::npos);
  CHECK(page.body.find("JobRestart") != std::string::npos);
  CHECK(RenderStatusPage(*f.endpoint, "/ui/applications/nope").status == 404);
  // Without applications the old page is unchanged.
  Fixture kinesis_only(false);
  CHECK(RenderStatusPage(*kinesis_only.endpoint, "/ui").body.find("Applications") == std::string::npos);
}

}  // namespace
}  // namespace tributary::endpoint
