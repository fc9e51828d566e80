// The test control API (lib/endpoint/control.h) in-process: Endpoint::Handle
// with a method and a path, on stores driven by a ManualClock. The same calls
// over real HTTP, from Python and JavaScript, are in control_test.py,
// python/tests/ and js/; the fault rules' effects in faults_two_ways_test.cc.
#include "endpoint/control.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "endpoint/endpoint.h"
#include "testing/status_matchers.h"
#include "tributary/testing.h"

namespace tributary::endpoint {
namespace {

struct Fixture {
  ManualClock clock;
  testing::Faults faults;
  std::unique_ptr<Store> store;
  std::vector<std::string> log;
  std::vector<std::pair<std::string, JobCommand>> jobs;
  std::unique_ptr<Control> control;
  std::unique_ptr<Endpoint> endpoint;

  explicit Fixture(bool manual = true, EndpointOptions eo = {}, std::optional<std::string> dir = {}) {
    StoreOptions o;
    o.clock = &clock;
    o.fault_injector = &faults;
    o.create_delay = o.update_delay = o.delete_delay = absl::Milliseconds(500);
    store = dir.has_value() ? *Store::Open(*dir, o) : *Store::OpenInMemory(o);
    ControlOptions co;
    co.faults = &faults;
    co.manual_clock = manual ? &clock : nullptr;
    co.clock = &clock;
    co.log = [this](std::string_view line) { log.emplace_back(line); };
    co.application_job = [this](std::string_view app, JobCommand f) -> absl::Status {
      if (app == "missing") return ResourceNotFoundError("Application missing not found");
      jobs.emplace_back(std::string(app), f);
      return absl::OkStatus();
    };
    control = std::make_unique<Control>(std::move(co));
    eo.control = control.get();
    eo.store_options = o;
    endpoint = std::make_unique<Endpoint>(store.get(), eo);
  }

  Response Send(std::string_view method, std::string_view path, const std::string& body = "",
                std::string_view authorization = "") {
    Request r;
    r.method = method;
    r.path = path;
    r.content_type = "application/json";
    r.authorization = authorization;
    r.body = &body;
    return endpoint->Handle(r);
  }
  Response Kinesis(std::string_view action, const std::string& body, std::string_view authorization = "") {
    Request r;
    const std::string target = std::string(kTargetPrefix) + std::string(action);
    r.amz_target = target;
    r.content_type = kJsonContentType;
    r.authorization = authorization;
    r.body = &body;
    return endpoint->Handle(r);
  }
};

TEST_CASE("control paths are recognised by prefix", "[endpoint][control]") {
  CHECK(IsControlPath("/_tributary/reset"));
  CHECK(IsControlPath("/_tributary/faults/fault-3"));
  CHECK(IsControlPath("/_tributary"));
  CHECK(IsControlPath("/moto-api/reset"));
  CHECK_FALSE(IsControlPath("/"));
  CHECK_FALSE(IsControlPath("/moto-api/"));
  CHECK_FALSE(IsControlPath("/_tributaryx"));
  CHECK_FALSE(IsControlPath("/ui"));
}

TEST_CASE("without a Control, control paths answer 404 and say how to turn it on", "[endpoint][control]") {
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  auto store = *Store::OpenInMemory(o);
  Endpoint endpoint(store.get());
  const std::string body = "{}";
  Request r;
  r.method = "POST";
  r.path = "/_tributary/reset";
  r.body = &body;
  Response resp = endpoint.Handle(r);
  CHECK(resp.status == 404);
  CHECK_THAT(resp.body, Catch::Contains("--test-control"));
}

TEST_CASE("reset removes every stream and consumer at once and clears fault rules", "[endpoint][control]") {
  Fixture f;
  REQUIRE_OK(f.store->CreateStream("a", 2));
  REQUIRE_OK(f.store->CreateStream("b", 1));
  f.clock.Advance(absl::Seconds(1));
  REQUIRE_OK(f.store->Put("a", {"k", "v"}));
  REQUIRE_OK(f.store->RegisterStreamConsumer("a", "c1", {}));
  REQUIRE_OK(f.store->DeleteStream("b"));  // DELETING for 500 ms
  REQUIRE(f.faults.Add({.call = "PutRecord", .error = ErrorType::kInternalFailure, .count = testing::kAlways}).ok());
  const std::string path = GENERATE(std::string("/_tributary/reset"), std::string("/moto-api/reset"));
  Response r = f.Send("POST", path);
  CHECK(r.status == 200);
  CHECK(r.body == "{}");
  CHECK(r.content_type == "application/json");
  ASSIGN_OR_REQUIRE(ListStreamsResult list, f.store->ListStreams({}));
  CHECK(list.stream_names.empty());
  CHECK(f.faults.Rules().empty());
  // The names are free at once, with no DELETING period, and nothing old shows.
  REQUIRE_OK(f.store->CreateStream("a", 1));
  REQUIRE_OK(f.store->CreateStream("b", 1));
  f.clock.Advance(absl::Seconds(1));
  ASSIGN_OR_REQUIRE(ListStreamConsumersResult consumers, f.store->ListStreamConsumers({.stream = "a"}));
  CHECK(consumers.consumers.empty());
  ASSIGN_OR_REQUIRE(std::string it, f.store->GetShardIterator({"a", "shardId-000000000000", ShardIteratorType::kTrimHorizon}));
  ASSIGN_OR_REQUIRE(GetRecordsResult got, f.store->GetRecords(it));
  CHECK(got.records.empty());
  REQUIRE(f.log.size() == 1);
  CHECK_THAT(f.log[0], Catch::StartsWith("POST " + path));
}

TEST_CASE("reset removes a durable store's streams from disk", "[endpoint][control][durable]") {
  char tmpl[] = "/tmp/tributary-control-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  {
    Fixture f(true, {}, dir);
    REQUIRE_OK(f.store->CreateStream("orders", 2));
    f.clock.Advance(absl::Seconds(1));
    REQUIRE_OK(f.store->Put("orders", {"k", "v"}));
    CHECK(f.Send("POST", "/_tributary/reset").status == 200);
    ASSIGN_OR_REQUIRE(ListStreamsResult list, f.store->ListStreams({}));
    CHECK(list.stream_names.empty());
  }
  {
    Fixture again(true, {}, dir);  // reopen: nothing comes back
    ASSIGN_OR_REQUIRE(ListStreamsResult list, again.store->ListStreams({}));
    CHECK(list.stream_names.empty());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("reset reaches the store of every account", "[endpoint][control]") {
  EndpointOptions eo;
  eo.account_from_access_key = true;
  Fixture f(true, eo);
  const std::string auth =
      "AWS4-HMAC-SHA256 Credential=123456789012/20240101/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=host, Signature=00";
  CHECK(f.Kinesis("CreateStream", R"({"StreamName":"x","ShardCount":1})", auth).status == 200);
  CHECK(f.Kinesis("CreateStream", R"({"StreamName":"y","ShardCount":1})").status == 200);
  CHECK_THAT(f.Kinesis("ListStreams", "{}", auth).body, Catch::Contains("\"x\""));
  CHECK(f.Send("POST", "/_tributary/reset").status == 200);
  CHECK_THAT(f.Kinesis("ListStreams", "{}", auth).body, !Catch::Contains("\"x\""));
  CHECK_THAT(f.Kinesis("ListStreams", "{}").body, !Catch::Contains("\"y\""));
}

TEST_CASE("the clock reads always and moves only when it is manual", "[endpoint][control][clock]") {
  SECTION("manual") {
    Fixture f;
    const int64_t t0 = absl::ToUnixMillis(f.clock.Now());
    Response r = f.Send("GET", "/_tributary/clock");
    CHECK(r.status == 200);
    CHECK(r.body == fmt::format(R"({{"now_ms":{},"manual":true}})", t0));
    r = f.Send("POST", "/_tributary/clock", R"({"advance_ms": 90000000})");
    CHECK(r.status == 200);
    CHECK(r.body == fmt::format(R"({{"now_ms":{}}})", t0 + 90000000));
    CHECK(absl::ToUnixMillis(f.clock.Now()) == t0 + 90000000);
    CHECK(f.Send("POST", "/_tributary/clock", R"({"advance_ms": -1})").status == 400);
    CHECK(f.Send("POST", "/_tributary/clock", R"({})").status == 400);
    CHECK(f.Send("POST", "/_tributary/clock", R"({"advance": 5})").error_type == "ValidationException");
    CHECK(f.Send("PUT", "/_tributary/clock").status == 405);
  }
  SECTION("not manual") {
    Fixture f(false);
    CHECK_THAT(f.Send("GET", "/_tributary/clock").body, Catch::Contains("\"manual\":false"));
    Response r = f.Send("POST", "/_tributary/clock", R"({"advance_ms": 1000})");
    CHECK(r.status == 409);
    CHECK(r.error_type == "UnsupportedOperationException");
    CHECK_THAT(r.body, Catch::Contains("--manual-clock"));
  }
}

TEST_CASE("moving the clock past retention expires records", "[endpoint][control][clock]") {
  Fixture f;
  REQUIRE_OK(f.store->CreateStream("s", 1));
  f.clock.Advance(absl::Seconds(1));
  REQUIRE_OK(f.store->Put("s", {"k", "old"}));
  CHECK(f.Send("POST", "/_tributary/clock", R"({"advance_ms": 90000001})").status == 200);  // 25 h
  ASSIGN_OR_REQUIRE(std::string it, f.store->GetShardIterator({"s", "shardId-000000000000", ShardIteratorType::kTrimHorizon}));
  ASSIGN_OR_REQUIRE(GetRecordsResult got, f.store->GetRecords(it));
  CHECK(got.records.empty());
}

TEST_CASE("fault rules are added, listed and removed as JSON", "[endpoint][control][fault]") {
  Fixture f;
  Response r = f.Send("POST", "/_tributary/faults",
                      R"({"call":"PutRecord","error":"ProvisionedThroughputExceededException","count":2,"stream":"s"})");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"id":"fault-1"})");
  r = f.Send("POST", "/_tributary/faults", R"({"call":"PutRecords","fail_records":[0,2],"latency_ms":5})");
  CHECK(r.body == R"({"id":"fault-2"})");
  r = f.Send("POST", "/_tributary/faults", R"({"call":"StartApplication","error":"ResourceInUseException","application":"app","count":-1})");
  CHECK(r.body == R"({"id":"fault-3"})");
  REQUIRE(f.faults.Rules().size() == 3);
  CHECK(f.faults.Rules()[1].rule.latency == absl::Milliseconds(5));

  REQUIRE_OK(f.store->CreateStream("s", 1));
  f.clock.Advance(absl::Seconds(1));
  CHECK_FALSE(f.store->Put("s", {"k", "v"}).ok());
  r = f.Send("GET", "/_tributary/faults");
  CHECK(r.status == 200);
  CHECK(r.body ==
        R"({"rules":[)"
        R"({"id":"fault-1","call":"PutRecord","error":"ProvisionedThroughputExceededException","count":1,"fired":1,"stream":"s"},)"
        R"({"id":"fault-2","call":"PutRecords","count":1,"fired":0,"fail_records":[0,2],"record_error":"ProvisionedThroughputExceededException","latency_ms":5},)"
        R"({"id":"fault-3","call":"StartApplication","error":"ResourceInUseException","count":-1,"fired":0,"application":"app"}]})");

  CHECK(f.Send("DELETE", "/_tributary/faults/fault-2").status == 200);
  CHECK(f.faults.Rules().size() == 2);
  r = f.Send("DELETE", "/_tributary/faults/fault-2");
  CHECK(r.status == 404);
  CHECK(r.error_type == "ResourceNotFoundException");
  CHECK(f.Send("DELETE", "/_tributary/faults").body == "{}");
  CHECK(f.faults.Rules().empty());
  CHECK(f.log.size() == 7);
}

TEST_CASE("bad fault rules are refused with a message that says why", "[endpoint][control][fault]") {
  Fixture f;
  auto refuse = [&f](const std::string& body, std::string_view type, std::string_view says) {
    INFO(body);
    Response r = f.Send("POST", "/_tributary/faults", body);
    CHECK(r.status == 400);
    CHECK(r.error_type == type);
    CHECK_THAT(r.body, Catch::Contains(std::string(says)));
  };
  refuse("not json", "SerializationException", "not JSON");
  refuse("[1]", "SerializationException", "JSON object");
  refuse("{}", "ValidationException", "is required: an action name");
  refuse(R"({"call":"PutRecordz","error":"InternalFailure"})", "ValidationException", "not a Kinesis or Managed Flink action");
  refuse(R"({"call":"PutRecord","error":"Boom"})", "ValidationException", "not an AWS error type");
  refuse(R"({"call":"PutRecord"})", "ValidationException", "injects nothing");
  refuse(R"({"call":"PutRecord","error":"InternalFailure","count":0})", "ValidationException", "count");
  refuse(R"({"call":"PutRecord","fail_records":[1]})", "ValidationException", "PutRecords only");
  refuse(R"({"call":"PutRecords","fail_records":[500]})", "ValidationException", "0..499");
  refuse(R"({"call":"PutRecords","fail_records":"1"})", "ValidationException", "array");
  refuse(R"({"call":"PutRecord","error":"InternalFailure","shards":"x"})", "ValidationException", "Unknown member");
  refuse(R"({"call":"PutRecord","latency_ms":-5})", "ValidationException", "latency_ms");
  refuse(R"({"call":7})", "ValidationException", "must be a string");
  CHECK(f.faults.Rules().empty());
}

TEST_CASE("application job faults go to the application manager", "[endpoint][control][app]") {
  Fixture f;
  CHECK(f.Send("POST", "/_tributary/applications/orders-app", R"({"job":"fail"})").status == 200);
  CHECK(f.Send("POST", "/_tributary/applications/orders-app", R"({"job":"hang"})").status == 200);
  CHECK(f.Send("POST", "/_tributary/applications/orders-app", R"({"job":"recover"})").status == 200);
  REQUIRE(f.jobs.size() == 3);
  CHECK(f.jobs[0] == std::make_pair(std::string("orders-app"), JobCommand::kFail));
  CHECK(f.jobs[1].second == JobCommand::kHang);
  CHECK(f.jobs[2].second == JobCommand::kRecover);
  Response r = f.Send("POST", "/_tributary/applications/missing", R"({"job":"fail"})");
  CHECK(r.status == 404);
  CHECK(r.error_type == "ResourceNotFoundException");
  CHECK(f.Send("POST", "/_tributary/applications/orders-app", R"({"job":"explode"})").status == 400);
  CHECK(f.Send("GET", "/_tributary/applications/orders-app").status == 405);
  CHECK(f.Send("POST", "/_tributary/applications/", R"({"job":"fail"})").status == 400);
}

TEST_CASE("unknown control paths and methods are refused", "[endpoint][control]") {
  Fixture f;
  Response r = f.Send("POST", "/_tributary/nothing");
  CHECK(r.status == 404);
  CHECK(r.error_type == "UnknownOperationException");
  CHECK(f.Send("GET", "/_tributary/reset").status == 405);
  CHECK(f.Send("PUT", "/_tributary/faults").status == 405);
  CHECK(f.Send("POST", "/_tributary/reset", R"({"everything":true})").status == 400);
}

TEST_CASE("with signature verification, control calls must be signed too", "[endpoint][control][auth]") {
  EndpointOptions eo;
  eo.credentials["AKIDCONTROL"] = "secret";
  Fixture f(true, eo);
  Response r = f.Send("POST", "/_tributary/reset");
  CHECK(r.status == 403);
  CHECK(r.error_type == "MissingAuthenticationTokenException");
  REQUIRE(f.log.size() == 1);  // refused, and logged
  CHECK_THAT(f.log[0], Catch::Contains("-> 403"));
  CHECK(f.store->ListStreams({}).ok());
}

TEST_CASE("exposure: non-loopback listeners need signatures, the control API even more so",
          "[endpoint][control][auth]") {
  CHECK(*IsLoopbackHost("127.0.0.1"));
  CHECK(*IsLoopbackHost("127.0.0.2"));
  CHECK(*IsLoopbackHost("::1"));
  CHECK(*IsLoopbackHost("localhost"));
  CHECK_FALSE(*IsLoopbackHost("0.0.0.0"));
  CHECK_FALSE(*IsLoopbackHost("::"));
  CHECK_FALSE(*IsLoopbackHost("10.1.2.3"));
  CHECK_FALSE(IsLoopbackHost("no-such-host.invalid").ok());

  // host, signatures verified, --allow-unauthenticated, --test-control
  CHECK(CheckExposure("127.0.0.1", false, false, true).ok());
  CHECK(CheckExposure("localhost", false, false, false).ok());
  absl::Status open = CheckExposure("0.0.0.0", false, false, false);
  CHECK(open.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(open.message()), Catch::Contains("--allow-unauthenticated"));
  CHECK(CheckExposure("0.0.0.0", false, true, false).ok());
  CHECK(CheckExposure("0.0.0.0", true, false, false).ok());
  absl::Status control = CheckExposure("0.0.0.0", false, true, true);
  CHECK(control.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(control.message()), Catch::Contains("--test-control"));
  CHECK(CheckExposure("0.0.0.0", true, false, true).ok());
}

}  // namespace
}  // namespace tributary::endpoint
