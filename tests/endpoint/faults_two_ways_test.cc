// The fault-injection suite of the testing toolkit (tributary/testing/faults.h),
// run two ways in: every rule is installed either through the C++ API
// (Faults::ThrottlePuts, Faults::Add, ...) or through tributary-server's
// test control API (POST /_tributary/faults, JSON over a real HTTP
// connection to an in-process HttpServer on loopback), into the same store.
// The checks are the same both ways: what the store wrote, what the calls
// answered, and the Faults object's own bookkeeping (one engine, so a rule
// that came over the wire counts down in the C++ object).
//
// Rules that only C++ can express (a predicate picks the records, random
// faults, a custom FaultInjector) are at the end, C++ only.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "endpoint/control.h"
#include "endpoint/endpoint.h"
#include "endpoint/http_server.h"
#include "remote/http_client.h"
#include "testing/status_matchers.h"
#include "tributary/testing.h"

namespace tributary::testing {
namespace {

using endpoint::Control;
using endpoint::ControlOptions;
using endpoint::Endpoint;
using endpoint::EndpointOptions;
using endpoint::HttpServer;

enum class Way { kCpp, kWire };

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The JSON form of a Target's members (leading comma for each).
std::string TargetJson(const Target& t) {
  std::string out;
  if (!t.stream.empty()) out += ",\"stream\":" + JsonString(t.stream);
  if (!t.shard_id.empty()) out += ",\"shard\":" + JsonString(t.shard_id);
  if (!t.partition_key.empty()) out += ",\"partition_key\":" + JsonString(t.partition_key);
  if (!t.application.empty()) out += ",\"application\":" + JsonString(t.application);
  return out;
}

// A TestStore served by an Endpoint with the control API, and the way rules
// go in. The latency clock is the store's ManualClock, so latency rules move
// simulated time instead of sleeping.
class Rig {
 public:
  explicit Rig(Way way) : way_(way) {
    absl::StatusOr<std::unique_ptr<TestStore>> t = TestStore::Create();
    REQUIRE_OK(t);
    t_ = std::move(*t);
    t_->faults().SetLatencyClock(&t_->clock());
    ControlOptions co;
    co.faults = &t_->faults();
    co.manual_clock = &t_->clock();
    co.clock = &t_->clock();
    co.log = [](std::string_view) {};
    control_ = std::make_unique<Control>(std::move(co));
    EndpointOptions eo;
    eo.control = control_.get();
    endpoint_ = std::make_unique<Endpoint>(&t_->store(), eo);
    if (way_ == Way::kWire) {
      endpoint::ServerOptions so;
      so.host = "127.0.0.1";
      so.port = 0;
      so.threads = 1;
      absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(endpoint_.get(), so);
      REQUIRE_OK(server);
      server_ = std::move(*server);
      absl::StatusOr<std::unique_ptr<remote::HttpClient>> client =
          remote::HttpClient::Create({.url = server_->url() + "/_tributary/faults"});
      REQUIRE_OK(client);
      client_ = std::move(*client);
    }
  }
  ~Rig() {
    if (server_ != nullptr) {
      server_->Shutdown();
      server_->Wait();
    }
  }

  Store& store() { return t_->store(); }
  Faults& faults() { return t_->faults(); }
  ManualClock& clock() { return t_->clock(); }
  const Endpoint& endpoint() const { return *endpoint_; }
  std::string_view way() const { return way_ == Way::kCpp ? "C++" : "wire"; }

  // POST /_tributary/faults with `json`; REQUIREs 200; returns the rule id.
  std::string Post(const std::string& json) {
    absl::StatusOr<remote::HttpResponse> r = client_->Post({"Content-Type: application/json"}, json);
    REQUIRE_OK(r);
    INFO(json << " -> " << r->body);
    REQUIRE(r->status == 200);
    std::smatch m;
    REQUIRE(std::regex_search(r->body, m, std::regex("\"id\":\"(fault-[0-9]+)\"")));
    return m[1];
  }

  // A rule as data: Faults::Add, or its JSON.
  std::string Add(const FaultRule& rule) {
    if (way_ == Way::kCpp) {
      absl::StatusOr<std::string> id = faults().Add(rule);
      REQUIRE_OK(id);
      return *id;
    }
    std::string json = "{\"call\":" + JsonString(rule.call) + ",\"count\":" + std::to_string(rule.count);
    if (rule.error != ErrorType::kNone) json += ",\"error\":" + JsonString(ErrorTypeName(rule.error));
    json += TargetJson(rule.target);
    if (!rule.fail_records.empty()) {
      json += ",\"fail_records\":[";
      for (size_t i = 0; i < rule.fail_records.size(); ++i) {
        json += (i ? "," : "") + std::to_string(rule.fail_records[i]);
      }
      json += "],\"record_error\":" + JsonString(ErrorTypeName(rule.record_error));
    }
    if (rule.latency > absl::ZeroDuration()) {
      json += ",\"latency_ms\":" + std::to_string(absl::ToInt64Milliseconds(rule.latency));
    }
    return Post(json + "}");
  }

  // The named helpers: in C++ the helper itself, on the wire the JSON a
  // test in another language would send for the same thing.
  void ThrottlePuts(int times, Target target = {}) {
    if (way_ == Way::kCpp) {
      faults().ThrottlePuts(times, target);
    } else {
      Add({.call = "PutRecord", .error = ErrorType::kProvisionedThroughputExceeded, .count = times,
           .target = target});
    }
  }
  void FailPutsInternally(int times, Target target = {}) {
    if (way_ == Way::kCpp) {
      faults().FailPutsInternally(times, target);
    } else {
      Add({.call = "PutRecord", .error = ErrorType::kInternalFailure, .count = times, .target = target});
    }
  }
  void FailBatchRecords(std::vector<size_t> indexes, ErrorType type = ErrorType::kProvisionedThroughputExceeded,
                        int batches = 1, Target target = {}) {
    if (way_ == Way::kCpp) {
      faults().FailBatchRecords(indexes, type, batches, target);
    } else {
      Add({.call = "PutRecords", .count = batches, .target = target, .fail_records = indexes,
           .record_error = type});
    }
  }
  void FailPutBatch(ErrorType type) {
    if (way_ == Way::kCpp) {
      faults().FailCalls(Call::kPutBatch, InjectedError(type, "PutRecords"));
    } else {
      Add({.call = "PutRecords", .error = type});
    }
  }
  void ExpireIterators(int times, Target target = {}) {
    if (way_ == Way::kCpp) {
      faults().ExpireIterators(times, target);
    } else {
      Add({.call = "GetRecords", .error = ErrorType::kExpiredIterator, .count = times, .target = target});
    }
  }
  void ThrottleGetRecords(int times) {
    if (way_ == Way::kCpp) {
      faults().ThrottleGetRecords(times);
    } else {
      Add({.call = "GetRecords", .error = ErrorType::kProvisionedThroughputExceeded, .count = times});
    }
  }
  void FailGetRecordsInternally(int times) {
    if (way_ == Way::kCpp) {
      faults().FailGetRecordsInternally(times);
    } else {
      Add({.call = "GetRecords", .error = ErrorType::kInternalFailure, .count = times});
    }
  }
  void FailGetShardIterator(ErrorType type, int times, Target target = {}) {
    if (way_ == Way::kCpp) {
      faults().FailGetShardIterator(type, times, target);
    } else {
      Add({.call = "GetShardIterator", .error = type, .count = times, .target = target});
    }
  }

 private:
  const Way way_;
  std::unique_ptr<TestStore> t_;
  std::unique_ptr<Control> control_;
  std::unique_ptr<Endpoint> endpoint_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<remote::HttpClient> client_;
};

// Every record of a shard, from TRIM_HORIZON to the current tip.
std::vector<std::string> ReadShard(Store& store, const std::string& stream, const std::string& shard) {
  std::vector<std::string> out;
  absl::StatusOr<std::string> it = store.GetShardIterator({stream, shard, ShardIteratorType::kTrimHorizon});
  REQUIRE_OK(it);
  std::optional<std::string> next = *it;
  while (next.has_value()) {
    absl::StatusOr<GetRecordsResult> r = store.GetRecords(*next);
    REQUIRE_OK(r);
    if (r->records.empty()) break;
    for (Record& rec : r->records) out.push_back(rec.data);
    next = r->next_shard_iterator;
  }
  return out;
}

const std::string kShard0 = "shardId-000000000000";
const std::string kShard1 = "shardId-000000000001";

TEST_CASE("a throttled Put fails with ProvisionedThroughputExceeded and writes nothing",
          "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 1));
  rig.ThrottlePuts(2);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<PutRecordResult> put = rig.store().Put("s", {"k", "lost"});
    REQUIRE_ERROR(put, ErrorType::kProvisionedThroughputExceeded);
    CHECK(put.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(put.status().message()), Catch::Contains("injected"));
  }
  REQUIRE_OK(rig.store().Put("s", {"k", "kept"}));
  CHECK(rig.faults().injected(Call::kPut) == 2);
  CHECK(rig.faults().injected("PutRecord") == 2);
  CHECK(rig.faults().exhausted());
  CHECK(ReadShard(rig.store(), "s", kShard0) == std::vector<std::string>{"kept"});
}

TEST_CASE("Put faults can target one stream or one partition key", "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("a", 1));
  REQUIRE_OK(rig.store().CreateStream("b", 1));
  rig.FailPutsInternally(kAlways, {.stream = "a", .partition_key = "bad"});
  REQUIRE_ERROR(rig.store().Put("a", {"bad", "x"}), ErrorType::kInternalFailure);
  REQUIRE_ERROR(rig.store().Put(rig.store().StreamArn("a"), {"bad", "x"}), ErrorType::kInternalFailure);
  REQUIRE_OK(rig.store().Put("a", {"good", "x"}));
  REQUIRE_OK(rig.store().Put("b", {"bad", "x"}));
  CHECK(rig.faults().injected(Call::kPut) == 2);
  CHECK_FALSE(rig.faults().exhausted());  // kAlways never runs out
  rig.faults().Clear();
  REQUIRE_OK(rig.store().Put("a", {"bad", "x"}));
}

TEST_CASE("a rule naming a stream by ARN matches calls that name it by name", "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 1));
  rig.ThrottlePuts(1, {.stream = rig.store().StreamArn("s")});
  REQUIRE_ERROR(rig.store().Put("s", {"k", "x"}), ErrorType::kProvisionedThroughputExceeded);
  REQUIRE_OK(rig.store().Put("s", {"k", "x"}));
}

TEST_CASE("invalid input is reported before an injected fault, which stays armed",
          "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 1));
  rig.ThrottlePuts(1);
  REQUIRE_ERROR(rig.store().Put("s", {"", "no key"}), ErrorType::kValidation);
  CHECK(rig.faults().injected(Call::kPut) == 0);
  REQUIRE_ERROR(rig.store().Put("s", {"k", "x"}), ErrorType::kProvisionedThroughputExceeded);
}

TEST_CASE("a partial PutBatch failure writes exactly the records that did not fail",
          "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 1));
  std::vector<PutRecordInput> batch;
  static const std::vector<std::string> kData = {"r0", "r1", "r2", "r3", "r4"};
  for (const std::string& d : kData) batch.push_back({"key", d});  // views: kData outlives them

  SECTION("throttled records") {
    rig.FailBatchRecords({1, 3});
    absl::StatusOr<PutBatchResult> r = rig.store().PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 2);
    REQUIRE(r->records.size() == 5);
    for (size_t i : {1u, 3u}) {
      CHECK(r->records[i].error_code == "ProvisionedThroughputExceededException");
      CHECK_FALSE(r->records[i].sequence_number.has_value());
      CHECK_THAT(r->records[i].error_message, Catch::Contains("Records[" + std::to_string(i) + "]"));
    }
    for (size_t i : {0u, 2u, 4u}) {
      REQUIRE(r->records[i].ok());
      CHECK(r->records[i].shard_id == kShard0);
    }
    CHECK(*r->records[0].sequence_number < *r->records[2].sequence_number);
    CHECK(*r->records[2].sequence_number < *r->records[4].sequence_number);
    CHECK(ReadShard(rig.store(), "s", kShard0) == std::vector<std::string>{"r0", "r2", "r4"});
    CHECK(rig.faults().injected_records() == 2);
    CHECK(rig.faults().injected(Call::kPutBatch) == 1);
    // The rule fired once: the next batch is written whole.
    absl::StatusOr<PutBatchResult> again = rig.store().PutBatch("s", batch);
    REQUIRE_OK(again);
    CHECK(again->failed_record_count == 0);
  }
  SECTION("internal failures of two batches, positions past the end ignored") {
    rig.FailBatchRecords({0, 4, 7}, ErrorType::kInternalFailure, 2);
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<PutBatchResult> r = rig.store().PutBatch("s", batch);
      REQUIRE_OK(r);
      CHECK(r->failed_record_count == 2);
      CHECK(r->records[0].error_code == "InternalFailure");
      CHECK(r->records[4].error_code == "InternalFailure");
    }
    CHECK(rig.store().PutBatch("s", batch)->failed_record_count == 0);
    CHECK(rig.faults().injected_records() == 4);
  }
  SECTION("a whole-call failure writes nothing") {
    rig.FailPutBatch(ErrorType::kInternalFailure);
    REQUIRE_ERROR(rig.store().PutBatch("s", batch), ErrorType::kInternalFailure);
    CHECK(ReadShard(rig.store(), "s", kShard0).empty());
  }
}

TEST_CASE("read faults: expired iterators, throttled and failed GetRecords and GetShardIterator",
          "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 2));
  REQUIRE_OK(rig.store().Put("s", {"k", "v"}, std::nullopt));
  ASSIGN_OR_REQUIRE(std::string it0, rig.store().GetShardIterator({"s", kShard0, ShardIteratorType::kTrimHorizon}));
  ASSIGN_OR_REQUIRE(std::string it1, rig.store().GetShardIterator({"s", kShard1, ShardIteratorType::kTrimHorizon}));

  rig.ExpireIterators(1, {.shard_id = kShard1});
  REQUIRE_OK(rig.store().GetRecords(it0));  // other shard: untouched
  absl::StatusOr<GetRecordsResult> r = rig.store().GetRecords(it1);
  REQUIRE_ERROR(r, ErrorType::kExpiredIterator);
  CHECK(r.status().code() == absl::StatusCode::kOutOfRange);
  REQUIRE_OK(rig.store().GetRecords(it1));  // fired once

  rig.ThrottleGetRecords(1);
  rig.FailGetRecordsInternally(1);
  REQUIRE_ERROR(rig.store().GetRecords(it0), ErrorType::kProvisionedThroughputExceeded);
  REQUIRE_ERROR(rig.store().GetRecords(it0), ErrorType::kInternalFailure);
  REQUIRE_OK(rig.store().GetRecords(it0));
  CHECK(rig.faults().injected(Call::kGetRecords) == 3);

  rig.FailGetShardIterator(ErrorType::kProvisionedThroughputExceeded, 1, {.stream = "s"});
  REQUIRE_ERROR(rig.store().GetShardIterator({"s", kShard0, ShardIteratorType::kLatest}),
                ErrorType::kProvisionedThroughputExceeded);
  REQUIRE_OK(rig.store().GetShardIterator({"s", kShard0, ShardIteratorType::kLatest}));
  // A malformed iterator is still InvalidArgument, whatever the rules say.
  rig.ExpireIterators(kAlways);
  REQUIRE_ERROR(rig.store().GetRecords("not-an-iterator"), ErrorType::kInvalidArgument);
}

TEST_CASE("latency rules delay the call on the latency clock and then let it run",
          "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 1));
  rig.Add({.call = "PutRecord", .count = 2, .latency = absl::Milliseconds(1500)});
  rig.Add({.call = "PutRecords", .error = ErrorType::kInternalFailure, .latency = absl::Seconds(3)});
  const absl::Time t0 = rig.clock().Now();
  REQUIRE_OK(rig.store().Put("s", {"k", "a"}));
  CHECK(rig.clock().Now() - t0 == absl::Milliseconds(1500));
  REQUIRE_OK(rig.store().Put("s", {"k", "b"}));
  REQUIRE_OK(rig.store().Put("s", {"k", "c"}));  // ran out
  CHECK(rig.clock().Now() - t0 == absl::Seconds(3));
  std::vector<PutRecordInput> batch = {{"k", "d"}};
  REQUIRE_ERROR(rig.store().PutBatch("s", batch), ErrorType::kInternalFailure);
  CHECK(rig.clock().Now() - t0 == absl::Seconds(6));
  CHECK(ReadShard(rig.store(), "s", kShard0) == std::vector<std::string>{"a", "b", "c"});
  CHECK(rig.faults().injected("PutRecord") == 0);  // latency alone is no fault
  CHECK(rig.faults().injected("PutRecords") == 1);
}

TEST_CASE("a rule for an action the Store does not check fires at the endpoint",
          "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  rig.Add({.call = "CreateStream", .error = ErrorType::kLimitExceeded, .target = {.stream = "s"}});
  rig.Add({.call = "ListShards", .error = ErrorType::kResourceInUse, .count = 1});
  auto call = [&rig](std::string_view action, const std::string& body) {
    return rig.endpoint().Handle(std::string(endpoint::kTargetPrefix) + std::string(action),
                                 endpoint::kJsonContentType, body);
  };
  endpoint::Response r = call("CreateStream", R"({"StreamName":"other","ShardCount":1})");
  CHECK(r.status == 200);  // another stream: untouched
  r = call("CreateStream", R"({"StreamName":"s","ShardCount":1})");
  CHECK(r.status == 400);
  CHECK(r.error_type == "LimitExceededException");
  CHECK_THAT(r.body, Catch::Contains("injected"));
  CHECK_FALSE(rig.store().DescribeStreamSummary("s").ok());  // nothing created
  r = call("CreateStream", R"({"StreamName":"s","ShardCount":1})");
  CHECK(r.status == 200);
  r = call("ListShards", R"({"StreamName":"s"})");
  CHECK(r.error_type == "ResourceInUseException");
  r = call("ListShards", R"({"StreamName":"s"})");
  CHECK(r.status == 200);
  CHECK(rig.faults().injected("CreateStream") == 1);
  CHECK(rig.faults().injected("ListShards") == 1);
  CHECK(rig.faults().exhausted());
}

TEST_CASE("rules list with their remaining counts, whichever way they came in", "[testing][fault][wire]") {
  Rig rig(GENERATE(Way::kCpp, Way::kWire));
  INFO("way in: " << rig.way());
  REQUIRE_OK(rig.store().CreateStream("s", 1));
  rig.ThrottlePuts(3, {.stream = "s"});
  rig.FailBatchRecords({2}, ErrorType::kInternalFailure);
  REQUIRE_ERROR(rig.store().Put("s", {"k", "x"}), ErrorType::kProvisionedThroughputExceeded);
  std::vector<FaultRuleState> rules = rig.faults().Rules();
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].id == "fault-1");
  CHECK(rules[0].rule.call == "PutRecord");
  CHECK(rules[0].rule.error == ErrorType::kProvisionedThroughputExceeded);
  CHECK(rules[0].rule.target.stream == "s");
  CHECK(rules[0].remaining == 2);
  CHECK(rules[0].fired == 1);
  CHECK(rules[1].id == "fault-2");
  CHECK(rules[1].rule.call == "PutRecords");
  CHECK(rules[1].rule.fail_records == std::vector<size_t>{2});
  CHECK(rules[1].rule.record_error == ErrorType::kInternalFailure);
  CHECK(rules[1].remaining == 1);
  CHECK_FALSE(rules[1].predicate);
  CHECK(rig.faults().Remove("fault-1"));
  CHECK_FALSE(rig.faults().Remove("fault-1"));
  REQUIRE_OK(rig.store().Put("s", {"k", "x"}));
}

// ---- C++ only: rules no JSON can carry

TEST_CASE("Faults::Add refuses rules that cannot work", "[testing][fault]") {
  Faults f;
  CHECK(f.Add({.call = ""}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(f.Add({.call = "PutRecord"}).ok());  // injects nothing
  CHECK_FALSE(f.Add({.call = "PutRecord", .error = ErrorType::kInternalFailure, .count = 0}).ok());
  CHECK_FALSE(f.Add({.call = "PutRecord", .fail_records = {1}}).ok());
  CHECK_FALSE(f.Add({.call = "PutRecords", .error = ErrorType::kInternalFailure, .fail_records = {1}}).ok());
  CHECK_FALSE(f.Add({.call = "PutRecords", .fail_records = {1}, .record_error = ErrorType::kResourceNotFound}).ok());
  CHECK_FALSE(f.Add({.call = "PutRecord", .error = ErrorType::kCorruption}).ok());
  CHECK_FALSE(f.Add({.call = "PutRecord", .latency = absl::Milliseconds(-1)}).ok());
  CHECK(f.Rules().empty());
  CHECK(f.Add({.call = "PutRecord", .error = ErrorType::kInternalFailure, .count = kAlways}).ok());
}

TEST_CASE("records chosen by a predicate fail, every record or those of one key", "[testing][fault]") {
  auto t = *TestStore::Create();
  REQUIRE_OK(t->store().CreateStream("s", 1));
  std::vector<PutRecordInput> batch;
  static const std::vector<std::string> kData = {"r0", "r1", "r2", "r3", "r4"};
  for (const std::string& d : kData) batch.push_back({"key", d});  // views: kData outlives them
  SECTION("every record") {
    t->faults().FailBatchRecordsIf([](size_t, const PutRecordInput&) { return true; },
                                   ErrorType::kInternalFailure);
    absl::StatusOr<PutBatchResult> r = t->store().PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 5);
    for (const PutBatchEntryResult& e : r->records) CHECK(e.error_code == "InternalFailure");
    CHECK(ReadShard(t->store(), "s", kShard0).empty());
    CHECK(t->faults().Rules()[0].predicate);
  }
  SECTION("records of one partition key") {
    batch[2].partition_key = "other";
    t->faults().FailBatchRecordsIf([](size_t, const PutRecordInput&) { return true; },
                                   ErrorType::kProvisionedThroughputExceeded, 1, {.partition_key = "other"});
    absl::StatusOr<PutBatchResult> r = t->store().PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 1);
    CHECK_FALSE(r->records[2].ok());
    CHECK(ReadShard(t->store(), "s", kShard0) == std::vector<std::string>{"r0", "r1", "r3", "r4"});
  }
}

TEST_CASE("random faults are reproducible from their seed", "[testing][fault]") {
  auto pattern = [](uint64_t seed, double p) {
    auto t = *TestStore::Create();
    REQUIRE_OK(t->store().CreateStream("s", 1));
    t->faults().FailRandomly(Call::kPut, p, InjectedError(ErrorType::kInternalFailure, "Put"), seed);
    std::string out;
    for (int i = 0; i < 64; ++i) out += t->store().Put("s", {"k", "v"}).ok() ? '.' : 'X';
    return out;
  };
  const std::string a = pattern(7, 0.5);
  CHECK(a == pattern(7, 0.5));
  CHECK(a != pattern(8, 0.5));
  CHECK(a.find('X') != std::string::npos);
  CHECK(a.find('.') != std::string::npos);
  CHECK(pattern(7, 0.0) == std::string(64, '.'));
  CHECK(pattern(7, 1.0) == std::string(64, 'X'));
}

TEST_CASE("a custom FaultInjector sees every data-plane call", "[testing][fault]") {
  struct Recorder : FaultInjector {
    std::vector<std::string> calls;
    absl::Status OnPut(std::string_view s, const PutRecordInput& r) override {
      calls.push_back("Put " + std::string(s) + " " + std::string(r.partition_key));
      return absl::OkStatus();
    }
    absl::Status OnPutBatch(std::string_view s, absl::Span<const PutRecordInput> rs,
                            std::vector<absl::Status>* errors) override {
      calls.push_back("PutBatch " + std::string(s) + " " + std::to_string(rs.size()) + " " +
                      std::to_string(errors->size()));
      return absl::OkStatus();
    }
    absl::Status OnGetShardIterator(const GetShardIteratorRequest& r) override {
      calls.push_back("GetShardIterator " + r.stream + " " + r.shard_id);
      return absl::OkStatus();
    }
    absl::Status OnGetRecords(std::string_view s, std::string_view shard) override {
      calls.push_back("GetRecords " + std::string(s) + " " + std::string(shard));
      return absl::OkStatus();
    }
  } recorder;
  StoreOptions options;
  options.fault_injector = &recorder;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory(options));
  REQUIRE_OK(store->CreateStream("s", 1));
  REQUIRE_OK(store->Put("s", {"k1", "a"}));
  std::vector<PutRecordInput> batch = {{"k2", "b"}, {"k3", "c"}};
  ASSIGN_OR_REQUIRE(PutBatchResult b, store->PutBatch("s", batch));
  CHECK(b.failed_record_count == 0);
  ASSIGN_OR_REQUIRE(std::string it, store->GetShardIterator({"s", kShard0}));
  ASSIGN_OR_REQUIRE(GetRecordsResult r, store->GetRecords(it));
  CHECK(r.records.size() == 3);
  CHECK(recorder.calls == std::vector<std::string>{"Put s k1", "PutBatch s 2 2",
                                                   "GetShardIterator s shardId-000000000000",
                                                   "GetRecords s shardId-000000000000"});
  // The default OnCall injects nothing.
  CHECK(recorder.OnCall("CreateStream", "s", "").ok());
}

}  // namespace
}  // namespace tributary::testing
