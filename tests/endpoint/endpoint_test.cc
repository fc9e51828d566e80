// The protocol adapter in-process: Endpoint::Handle on a Store driven by a
// ManualClock, so bodies (timestamps included) are exact. Real clients drive
// the server in the scripts next to this file.
#include "endpoint/endpoint.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "endpoint/actions.h"
#include "endpoint/codec.h"
#include "tributary/tributary.h"

namespace tributary::endpoint {
namespace {

constexpr std::string_view kJson = "application/x-amz-json-1.1";

struct Fixture {
  ManualClock clock;  // 2024-01-01T00:00:00Z
  std::unique_ptr<Store> store;
  std::unique_ptr<Endpoint> endpoint;
  Fixture() {
    StoreOptions o;
    o.clock = &clock;
    store = *Store::OpenInMemory(o);
    endpoint = std::make_unique<Endpoint>(store.get());
  }
  Response Call(std::string_view action, const std::string& body,
                std::string_view content_type = kJson) {
    return endpoint->Handle(std::string(kTargetPrefix) + std::string(action), content_type, body);
  }
};

TEST_CASE("every Kinesis action is listed once, sorted, with handlers iff served",
          "[endpoint][actions]") {
  auto actions = KinesisActions();
  CHECK(actions.size() == 39);
  std::set<std::string_view> names;
  for (size_t i = 0; i < actions.size(); ++i) {
    const ActionInfo& a = actions[i];
    names.insert(a.name);
    if (i > 0) CHECK(actions[i - 1].name < a.name);
    CHECK(FindAction(a.name) == &a);
    const bool done = a.status == ActionStatus::kDone;
    // A served action has one handler pair: a response, or a streamed one.
    const bool plain = a.json != nullptr && a.cbor != nullptr;
    const bool streamed = a.json_stream != nullptr && a.cbor_stream != nullptr;
    CHECK((plain || streamed) == done);
    CHECK(!(plain && streamed));
    CHECK(streamed == (a.name == "SubscribeToShard"));
  }
  CHECK(names.size() == actions.size());
  CHECK(FindAction("putRecord") == nullptr);
  CHECK(FindAction("") == nullptr);
}

TEST_CASE("docs/ENDPOINT.md gives every action the status the server has", "[endpoint][docs]") {
  std::ifstream in(std::string(TRIBUTARY_SOURCE_DIR) + "/docs/ENDPOINT.md");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const ActionInfo& a : KinesisActions()) {
    // A table row: | Name | done | ... or | Name | not yet | ...
    std::regex row("\\| " + std::string(a.name) + " \\| (done|not yet) \\|");
    std::smatch m;
    INFO(a.name);
    REQUIRE(std::regex_search(doc, m, row));
    CHECK(m[1] == (a.status == ActionStatus::kDone ? "done" : "not yet"));
  }
}

TEST_CASE("each error type maps to its wire name and HTTP status", "[endpoint][errors]") {
  struct Case {
    ErrorType type;
    int status;
    std::string_view name;
  };
  const Case cases[] = {
      {ErrorType::kResourceNotFound, 400, "ResourceNotFoundException"},
      {ErrorType::kResourceInUse, 400, "ResourceInUseException"},
      {ErrorType::kInvalidArgument, 400, "InvalidArgumentException"},
      {ErrorType::kValidation, 400, "ValidationException"},
      {ErrorType::kLimitExceeded, 400, "LimitExceededException"},
      {ErrorType::kProvisionedThroughputExceeded, 400, "ProvisionedThroughputExceededException"},
      {ErrorType::kExpiredIterator, 400, "ExpiredIteratorException"},
      {ErrorType::kExpiredNextToken, 400, "ExpiredNextTokenException"},
      {ErrorType::kAccessDenied, 400, "AccessDeniedException"},
      {ErrorType::kUnknownOperation, 400, "UnknownOperationException"},
      {ErrorType::kSerialization, 400, "SerializationException"},
      {ErrorType::kInternalFailure, 500, "InternalFailure"},
      {ErrorType::kCorruption, 500, "InternalFailure"},
      {ErrorType::kWaiterTimeout, 500, "InternalFailure"},
  };
  for (const Case& c : cases) {
    INFO(ErrorTypeName(c.type));
    WireError w = WireErrorOf(MakeError(absl::StatusCode::kUnknown, c.type, "m"));
    CHECK(w.http_status == c.status);
    CHECK(w.type == c.name);
  }
  // A status without a Kinesis type is a bug in the library: InternalFailure.
  CHECK(WireErrorOf(absl::InternalError("untyped")).http_status == 500);

  Response r = Endpoint::ErrorResponse(kJson, ExpiredIteratorError("too old \"quoted\""));
  CHECK(r.status == 400);
  CHECK(r.body == R"({"__type":"ExpiredIteratorException","message":"too old \"quoted\""})");
  Response cbor = Endpoint::ErrorResponse("application/x-amz-cbor-1.1", ResourceInUseError("x"));
  CHECK(cbor.status == 400);
  CHECK(cbor.content_type == "application/x-amz-cbor-1.1");
  // indefinite map, "__type": "ResourceInUseException", "message": "x", break
  constexpr char kExpected[] = "\xbf\x66__type\x76ResourceInUseException\x67message\x61x\xff";
  CHECK(cbor.body == std::string(kExpected, sizeof(kExpected) - 1));
  // Observed AWS behaviour: InternalFailure carries no message, and
  // SerializationException spells its key "Message".
  r = Endpoint::ErrorResponse(kJson, InternalFailureError("x"));
  CHECK(r.status == 500);
  CHECK(r.body == R"({"__type":"InternalFailure"})");
  r = Endpoint::ErrorResponse(kJson, SerializationError("bad"));
  CHECK(r.body == R"({"__type":"SerializationException","Message":"bad"})");
}

TEST_CASE("JSON bodies map onto the Store field by field", "[endpoint][json]") {
  Fixture f;
  Response r = f.Call("CreateStream", R"({"StreamName":"s","ShardCount":1,"Tags":{"a":"b"}})");
  REQUIRE(r.status == 200);
  CHECK(r.body.empty());  // AWS answers an action without output with an empty body
  f.clock.Advance(absl::Milliseconds(1500));
  r = f.Call("PutRecord", R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s",)"
                          R"("PartitionKey":"k","Data":"AP8="})");
  REQUIRE(r.status == 200);
  // Kinesis' layout: shard 0 created at 2024-01-01T00:00:00Z (1704067200),
  // counter 1, the record at 1704067201.5 (docs/CONCEPTS.md).
  CHECK(r.body == R"({"ShardId":"shardId-000000000000","SequenceNumber":")" +
                      SequenceNumber::FromKinesisParts(1704067200, 0, 1, 1704067201).ToString() + "\"}");
  r = f.Call("GetShardIterator",
             R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  REQUIRE(r.status == 200);
  std::string it = r.body.substr(r.body.find(':') + 2);
  it.resize(it.size() - 2);
  r = f.Call("GetRecords", R"({"ShardIterator":")" + it + "\"}");
  REQUIRE(r.status == 200);
  CHECK(r.body.find(R"("ApproximateArrivalTimestamp":1704067201.500,"Data":"AP8=","PartitionKey":"k")") !=
        std::string::npos);
  CHECK(r.body.find(R"("MillisBehindLatest":0)") != std::string::npos);
  CHECK(r.body.find("ChildShards") == std::string::npos);  // only for a closed shard read to its end
  r = f.Call("DescribeStreamSummary", R"({"StreamName":"s"})");
  CHECK(r.body.find(R"("StreamCreationTimestamp":1704067200.000,)") != std::string::npos);
  r = f.Call("ListTagsForResource", R"({"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"})");
  CHECK(r.body == R"({"Tags":[{"Key":"a","Value":"b"}]})");
}

TEST_CASE("request-shape errors: types, required members, stream addressing",
          "[endpoint][json][errors]") {
  Fixture f;
  REQUIRE(f.Call("CreateStream", R"({"StreamName":"s","ShardCount":1})").status == 200);
  auto type_of = [&](std::string_view action, const std::string& body) {
    Response r = f.Call(action, body);
    auto start = r.body.find("\"__type\":\"");
    if (r.status == 200 || start == std::string::npos) return std::string("OK");
    start += 10;
    return r.body.substr(start, r.body.find('"', start) - start);
  };
  CHECK(type_of("PutRecord", R"({"StreamName":"s","Data":"eA=="})") == "ValidationException");
  CHECK(type_of("PutRecord", R"({"StreamName":"s","PartitionKey":"k","Data":"%%"})") ==
        "SerializationException");
  CHECK(type_of("PutRecord", R"({"StreamName":"s","PartitionKey":["k"],"Data":"eA=="})") ==
        "SerializationException");
  // AWS saturates integers beyond 32 bits, then checks the range.
  CHECK(type_of("CreateStream", R"({"StreamName":"t","ShardCount":4294967296})") ==
        "ValidationException");
  CHECK(type_of("CreateStream", R"({"StreamName":"t","ShardCount":18446744073709551615})") ==
        "ValidationException");
  CHECK(type_of("CreateStream", R"({"StreamName":"t","ShardCount":2.0})") == "OK");
  CHECK(type_of("DescribeStreamSummary", R"({})") == "ValidationException");
  CHECK(type_of("DescribeStreamSummary",
                R"({"StreamName":"t","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"})") ==
        "InvalidArgumentException");
  CHECK(type_of("DescribeStreamSummary",
                R"({"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"})") ==
        "OK");
  CHECK(type_of("DescribeStreamSummary", R"({"StreamARN":"arn:aws:sqs:us-east-1:000000000000:q"})") ==
        "ValidationException");
  CHECK(type_of("ListShards", R"({"StreamName":"s","ShardFilter":{}})") == "ValidationException");
  CHECK(type_of("ListShards", R"({"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"}})") == "OK");
  CHECK(type_of("TagResource",
                R"({"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1","Tags":{"a":"b"}})") ==
        "ResourceNotFoundException");
  CHECK(type_of("UpdateShardCount", R"({"StreamName":"s","TargetShardCount":2})") ==
        "ValidationException");
  CHECK(type_of("UpdateShardCount",
                R"({"StreamName":"s","TargetShardCount":2,"ScalingType":"SOMETIMES"})") ==
        "ValidationException");
  CHECK(type_of("RegisterStreamConsumer", R"({})") == "ValidationException");
  CHECK(type_of("RegisterStreamConsumer",
                R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ConsumerName":"c"})") == "OK");
  CHECK(type_of("DescribeStreamConsumer", R"({})") == "InvalidArgumentException");
  CHECK(type_of("DescribeStreamConsumer", R"({"ConsumerARN":"not-an-arn"})") == "ValidationException");
  CHECK(type_of("GetResourcePolicy", R"({"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"})") == "OK");
  CHECK(type_of("UpdateAccountSettings", R"({"MinimumThroughputBillingCommitment":{"Status":"MAYBE"}})") ==
        "ValidationException");
  CHECK(type_of("SubscribeToShard", R"({})") == "ValidationException");
  CHECK(type_of("SubscribeToShard", R"({"ConsumerARN":"x","ShardId":"shardId-000000000000"})") ==
        "ValidationException");  // no StartingPosition
  CHECK(type_of("SubscribeToShard", R"({"ConsumerARN":"x","ShardId":"s","StartingPosition":{"Type":"NOW"}})") ==
        "ValidationException");
}

TEST_CASE("content types and targets", "[endpoint][protocol]") {
  Fixture f;
  CHECK(f.endpoint->Handle("Kinesis_20131202.DescribeLimits", "Application/X-Amz-Json-1.1 ; charset=UTF-8", "{}")
            .status == 200);
  // Observed AWS behaviour: a request without a content type, or one AWS
  // does not serve, is answered in CBOR ('{}' is not a CBOR map);
  // application/json is the deprecated protocol (404 UnknownOperation).
  Response r = f.endpoint->Handle("Kinesis_20131202.DescribeLimits", "", "{}");
  CHECK(r.status == 400);
  CHECK(r.content_type == "application/x-amz-cbor-1.1");
  CHECK(r.error_type == "SerializationException");
  r = f.endpoint->Handle("Kinesis_20131202.DescribeLimits", "text/xml", "{}");
  CHECK(r.status == 400);
  CHECK(r.error_type == "SerializationException");
  r = f.endpoint->Handle("Kinesis_20131202.DescribeLimits", "application/json", "{}");
  CHECK(r.status == 404);
  CHECK(r.body == R"({"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"})");
  r = f.endpoint->Handle("Kinesis_20131201.DescribeLimits", kJson, "{}");
  CHECK(r.error_type == "UnknownOperationException");
  r = f.endpoint->Handle("Kinesis_20131202.", kJson, "{}");
  CHECK(r.error_type == "UnknownOperationException");
  // CBOR: {"StreamName": "c", "ShardCount": 1} as a definite map.
  const std::string create("\xa2\x6aStreamName\x61\x63\x6aShardCount\x01", 26);
  r = f.endpoint->Handle("Kinesis_20131202.CreateStream", "application/x-amz-cbor-1.1", create);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/x-amz-cbor-1.1");
  CHECK(r.body == "\xbf\xff");  // an empty indefinite map
}

}  // namespace
}  // namespace tributary::endpoint
