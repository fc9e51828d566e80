// The model-driven request validator (lib/endpoint/validation) on decoded
// JSON and CBOR requests, without a server. The expected messages are AWS's
// as observed in its answers (the wording of SerializationException and
// ValidationException of the Coral-based JSON services; the Kinesis API
// reference for the constraints). docs/ENDPOINT.md "Request validation".
#include "endpoint/validation/validator.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "endpoint/actions.h"
#include "endpoint/cbor_codec.h"
#include "endpoint/json_codec.h"
#include "tributary/status.h"

namespace tributary::endpoint::validation {
namespace {

struct Outcome {
  ErrorType type = ErrorType::kNone;
  std::string message;
};

Outcome ValidateJson(const RequestValidator& v, std::string_view action, std::string body) {
  Scratch scratch;
  absl::StatusOr<JsonObject> in = ParseJsonRequest(body, &scratch);
  REQUIRE(in.ok());
  const Operation* op = v.Find(action);
  REQUIRE(op != nullptr);
  absl::Status st = v.Validate(*op, *in);
  return {GetErrorType(st), std::string(st.message())};
}

Outcome Kinesis(std::string_view action, std::string body) {
  return ValidateJson(RequestValidator::Kinesis(), action, std::move(body));
}

void CheckSerialization(std::string_view action, const std::string& body, std::string_view message) {
  INFO(action << " " << body);
  Outcome o = Kinesis(action, body);
  CHECK(o.type == ErrorType::kSerialization);
  CHECK(o.message == message);
}

void CheckValidation(std::string_view action, const std::string& body, std::string_view message) {
  INFO(action << " " << body);
  Outcome o = Kinesis(action, body);
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message == message);
}

void CheckOk(std::string_view action, const std::string& body) {
  INFO(action << " " << body);
  Outcome o = Kinesis(action, body);
  CHECK(o.type == ErrorType::kNone);
  CHECK(o.message.empty());
}

TEST_CASE("both models compile: every pattern is valid RE2, every operation has its input",
          "[endpoint][validation]") {
  for (const RequestValidator* v : {&RequestValidator::Kinesis(), &RequestValidator::KinesisAnalyticsV2()}) {
    INFO(v->model().service);
    CHECK(v->patterns_ok());
    CHECK(!v->model().operations.empty());
    for (size_t i = 1; i < v->model().operations.size(); ++i) {
      CHECK(v->model().operations[i - 1].name < v->model().operations[i].name);
    }
  }
  CHECK(RequestValidator::Kinesis().model().target_prefix == "Kinesis_20131202");
  CHECK(RequestValidator::KinesisAnalyticsV2().model().target_prefix == "KinesisAnalytics_20180523");
}

TEST_CASE("every Kinesis action the server serves has a shape, the newer ones from the overlay",
          "[endpoint][validation]") {
  for (const ActionInfo& a : KinesisActions()) {
    INFO(a.name);
    const Operation* op = RequestValidator::Kinesis().Find(a.name);
    REQUIRE(op != nullptr);
    CHECK(op->input != kNoShape);
  }
  CHECK(RequestValidator::Kinesis().Find("putRecord") == nullptr);
}

// Observed AWS behaviour: a member of the wrong JSON type is
// SerializationException naming the Java classes of AWS's deserializer.
TEST_CASE("a member of the wrong type is SerializationException with AWS's message",
          "[endpoint][validation]") {
  CheckSerialization("CreateStream", R"({"StreamName":true})",
                     "class java.lang.Boolean can not be converted to an String");
  CheckSerialization("CreateStream", R"({"StreamName":23})",
                     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String");
  CheckSerialization("CreateStream", R"({"StreamName":34.56})",
                     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String");
  CheckSerialization("CreateStream", R"({"StreamName":[]})", "Start of list found where not expected");
  CheckSerialization("CreateStream", R"({"StreamName":{}})", "Start of structure or map found where not expected.");
  CheckSerialization("CreateStream", R"({"ShardCount":"23"})",
                     "class java.lang.String can not be converted to an Integer");
  CheckSerialization("CreateStream", R"({"ShardCount":false})",
                     "class java.lang.Boolean can not be converted to an Integer");
  CheckSerialization("DeleteStream", R"({"EnforceConsumerDeletion":"23"})", "'23' can not be converted to an Boolean");
  CheckSerialization("DeleteStream", R"({"EnforceConsumerDeletion":"maybe"})",
                     "'MAYBE' can not be converted to an Boolean");
  CheckSerialization("DeleteStream", R"({"EnforceConsumerDeletion":23})",
                     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean");
  CheckSerialization("PutRecords", R"({"Records":"23"})", "Expected list or null");
  CheckSerialization("PutRecords", R"({"Records":{}})", "Start of structure or map found where not expected.");
  CheckSerialization("PutRecords", R"({"Records":[23]})", "Expected null");
  CheckSerialization("PutRecords", R"({"Records":[[]]})", "Start of list found where not expected");
  CheckSerialization("AddTagsToStream", R"({"Tags":23})", "Expected map or null");
  CheckSerialization("AddTagsToStream", R"({"Tags":[]})", "Start of list found where not expected");
  CheckSerialization("AddTagsToStream", R"({"Tags":{"a":true}})",
                     "class java.lang.Boolean can not be converted to an String");
  CheckSerialization("GetShardIterator", R"({"Timestamp":"23"})",
                     "class java.lang.String can not be converted to milliseconds since epoch");
  CheckSerialization("GetShardIterator", R"({"Timestamp":true})",
                     "class java.lang.Boolean can not be converted to milliseconds since epoch");
}

TEST_CASE("a Boolean takes true/false texts and numbers with a fraction, as AWS does",
          "[endpoint][validation]") {
  CheckOk("DeleteStream", R"({"StreamName":"s","EnforceConsumerDeletion":"true"})");
  CheckOk("DeleteStream", R"({"StreamName":"s","EnforceConsumerDeletion":"No"})");
  CheckOk("DeleteStream", R"({"StreamName":"s","EnforceConsumerDeletion":34.56})");
}

// Observed AWS behaviour: a blob must be padded standard base64; each defect
// has its own message (the last one with AWS's spelling).
TEST_CASE("a blob that is not strict base64 is SerializationException", "[endpoint][validation]") {
  CheckSerialization("PutRecord", R"({"Data":true})", "class java.lang.Boolean can not be converted to a Blob");
  CheckSerialization("PutRecord", R"({"Data":23})",
                     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob");
  CheckSerialization("PutRecord", R"({"Data":"23456"})",
                     "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 "
                     "bytes but found: 5");
  CheckSerialization("PutRecord", R"({"Data":"=+/="})",
                     "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='");
  CheckSerialization("PutRecord", R"({"Data":"+/+="})",
                     "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected");
  CheckSerialization("PutRecords", R"({"Records":[{"Data":"abc"}]})",
                     "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 "
                     "bytes but found: 3");
  size_t n = 99;
  CHECK(Base64Error("", &n).empty());
  CHECK(n == 0);
  CHECK(Base64Error("YWI=", &n).empty());
  CHECK(n == 2);
  CHECK(Base64Error("YQ==", &n).empty());
  CHECK(n == 1);
  CHECK(!Base64Error("YR==", &n).empty());
}

// Observed AWS behaviour: required members and constraints are reported
// together, in one message, before anything is looked up.
TEST_CASE("missing members and constraint failures are one ValidationException listing them all",
          "[endpoint][validation]") {
  // ShardCount is required unless StreamModeDetails is given (overlay).
  CheckValidation("CreateStream", "{}",
                  "2 validation errors detected: Value null at 'streamName' failed to satisfy constraint: "
                  "Member must not be null; Value null at 'shardCount' failed to satisfy constraint: Member "
                  "must not be null");
  CheckOk("CreateStream", R"({"StreamName":"s","StreamModeDetails":{"StreamMode":"ON_DEMAND"}})");
  CheckValidation("CreateStream", R"({"StreamName":"","ShardCount":0})",
                  "3 validation errors detected: "
                  "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression "
                  "pattern: [a-zA-Z0-9_.-]+; "
                  "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or "
                  "equal to 1; "
                  "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or "
                  "equal to 1");
  // Integers beyond 32 bits saturate before the range check, as in AWS.
  const std::string name(129, 'a');
  CheckValidation("CreateStream", R"({"StreamName":")" + name + R"(","ShardCount":100000000000})",
                  "2 validation errors detected: Value '" + name +
                      "' at 'streamName' failed to satisfy constraint: Member must have length less than or "
                      "equal to 128; Value '2147483647' at 'shardCount' failed to satisfy constraint: Member must "
                      "have value less than or equal to 100000");
  CheckValidation("CreateStream", R"({"StreamName":"a","ShardCount":-1e30})",
                  "1 validation error detected: Value '-2147483648' at 'shardCount' failed to satisfy "
                  "constraint: Member must have value greater than or equal to 1");
  CheckOk("CreateStream", R"({"StreamName":"a","ShardCount":2.9})");
  CheckValidation("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-0","ShardIteratorType":"X"})",
                  "1 validation error detected: Value 'X' at 'shardIteratorType' failed to satisfy constraint: "
                  "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, "
                  "AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
  CheckValidation("PutRecord", R"({"StreamName":"s","PartitionKey":"a","Data":"","ExplicitHashKey":"01"})",
                  "1 validation error detected: Value '01' at 'explicitHashKey' failed to satisfy constraint: "
                  "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
}

TEST_CASE("a type error wins over every constraint failure", "[endpoint][validation]") {
  // StreamName (first in the model) fails its constraints, ShardCount has the wrong type.
  CheckSerialization("CreateStream", R"({"StreamName":"","ShardCount":"x"})",
                     "class java.lang.String can not be converted to an Integer");
  CheckSerialization("PutRecords", R"({"Records":[{"PartitionKey":""},{"Data":1}]})",
                     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob");
}

TEST_CASE("StreamName is required unless StreamARN is given", "[endpoint][validation]") {
  CheckValidation("DescribeStream", "{}",
                  "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: "
                  "Member must not be null");
  CheckOk("DescribeStream", R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"})");
  CheckValidation("DescribeStream", R"({"StreamARN":"arn:aws:kinesis:us-east-1:0:stream/s"})",
                  "1 validation error detected: Value 'arn:aws:kinesis:us-east-1:0:stream/s' at 'streamARN' failed "
                  "to satisfy constraint: Member must satisfy regular expression pattern: "
                  "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
  // ListShards names its stream by NextToken as well: nothing is required.
  CheckOk("ListShards", "{}");
}

TEST_CASE("list members: structures by path, scalars bundled at the list", "[endpoint][validation]") {
  CheckValidation("PutRecords", R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":""},{"Data":""}]})",
                  "1 validation error detected: Value null at 'records.2.member.partitionKey' failed to satisfy "
                  "constraint: Member must not be null");
  // 501 records: the list's length, then the first nine records; AWS lists at most 10.
  std::string records;
  for (int i = 0; i < 501; ++i) records += std::string(i ? "," : "") + R"({"PartitionKey":"","Data":""})";
  Outcome o = Kinesis("PutRecords", R"({"StreamName":"","Records":[)" + records + "]}");
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message.rfind("10 validation errors detected: Value '[com.amazonaws.kinesis.v20131202."
                        "PutRecordsRequestEntry@",
                        0) == 0);
  CHECK(o.message.find("]' at 'records' failed to satisfy constraint: Member must have length less than or "
                       "equal to 500; Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: "
                       "Member must have length greater than or equal to 1; ") != std::string::npos);
  CHECK(o.message.find("records.9.member.partitionKey") != std::string::npos);
  CHECK(o.message.find("records.10.member") == std::string::npos);
  CHECK(o.message.find("streamName") == std::string::npos);
  const std::string key(129, 'k');
  CheckValidation("RemoveTagsFromStream", R"({"StreamName":"s","TagKeys":["a",")" + key + R"(","b"]})",
                  "1 validation error detected: Value '[a, " + key +
                      ", b]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member "
                      "must have length less than or equal to 128, Member must have length greater than or equal "
                      "to 1]");
  CheckValidation("PutRecord", R"({"StreamName":"s","PartitionKey":"a","Data":")" + std::string(13981016, 'A') +
                                   R"("})",
                  "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=10485762 "
                  "cap=10485762]' at 'data' failed to satisfy constraint: Member must have length less than or "
                  "equal to 10485760");
}

TEST_CASE("map keys and values are checked as AWS words it", "[endpoint][validation]") {
  const std::string key(129, 'k');
  CheckValidation("AddTagsToStream", R"({"StreamName":"s","Tags":{"a":"1",")" + key + R"(":"3"}})",
                  "1 validation error detected: Value '{a=1, " + key +
                      "=3}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must "
                      "have length less than or equal to 128, Member must have length greater than or equal to 1]");
  const std::string value(257, 'v');
  CheckValidation("AddTagsToStream", R"({"StreamName":"s","Tags":{"c":")" + value + R"("}})",
                  "1 validation error detected: Value '{c=" + value +
                      "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must "
                      "have length less than or equal to 256, Member must have length greater than or equal to 0]");
  CheckValidation("AddTagsToStream", R"({"StreamName":"s","Tags":{}})",
                  "1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have "
                  "length greater than or equal to 1");
}

TEST_CASE("string lengths count UTF-16 code units, as Java does", "[endpoint][validation]") {
  // 128 characters, each two bytes in UTF-8: within PartitionKey's 256.
  std::string two_byte;
  for (int i = 0; i < 256; ++i) two_byte += "\xc3\xa9";
  CheckOk("PutRecord", R"({"StreamName":"s","Data":"","PartitionKey":")" + two_byte + R"("})");
  // 129 astral characters are 258 code units: over.
  std::string astral;
  for (int i = 0; i < 129; ++i) astral += "\xf0\x9f\x98\x80";
  Outcome o = Kinesis("PutRecord", R"({"StreamName":"s","Data":"","PartitionKey":")" + astral + R"("})");
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message.find("Member must have length less than or equal to 256") != std::string::npos);
}

TEST_CASE("unknown members are ignored and null is absent", "[endpoint][validation]") {
  CheckOk("DescribeStream", R"({"StreamName":"s","Whatever":[1,2,{}],"Limit":null})");
  CheckValidation("PutRecord", R"({"StreamName":"s","Data":null,"PartitionKey":"a"})",
                  "1 validation error detected: Value null at 'data' failed to satisfy constraint: Member must "
                  "not be null");
}

// CBOR requests go through the same checks (the AWS SDK for Java's default encoding).
TEST_CASE("CBOR requests get the same answers", "[endpoint][validation]") {
  auto validate = [](std::string_view action, auto&& write) {
    std::string body;
    CborWriter w(&body);
    w.StartObject();
    write(w);
    w.EndObject();
    Scratch scratch;
    absl::StatusOr<CborDocument> doc = CborDocument::Parse(body, &scratch);
    REQUIRE(doc.ok());
    const RequestValidator& v = RequestValidator::Kinesis();
    absl::Status st = v.Validate(*v.Find(action), doc->root());
    return Outcome{GetErrorType(st), std::string(st.message())};
  };
  Outcome o = validate("CreateStream", [](CborWriter& w) {
    w.Key("StreamName");
    w.String("");
    w.Key("ShardCount");
    w.Int(0);
  });
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message.rfind("3 validation errors detected: Value '' at 'streamName'", 0) == 0);
  o = validate("CreateStream", [](CborWriter& w) {
    w.Key("ShardCount");
    w.String("1");
  });
  CHECK(o.type == ErrorType::kSerialization);
  CHECK(o.message == "class java.lang.String can not be converted to an Integer");
  o = validate("PutRecord", [](CborWriter& w) {
    w.Key("StreamName");
    w.String("s");
    w.Key("PartitionKey");
    w.String("k");
    w.Key("Data");
    w.Blob(std::string(10485761, 'x'));
  });
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message.find("lim=10485761") != std::string::npos);
  o = validate("GetShardIterator", [](CborWriter& w) {
    w.Key("StreamName");
    w.String("s");
    w.Key("ShardId");
    w.String("shardId-0");
    w.Key("ShardIteratorType");
    w.String("AT_TIMESTAMP");
    w.Key("Timestamp");
    w.Timestamp(absl::FromUnixSeconds(1700000000));
  });
  CHECK(o.type == ErrorType::kNone);
}

// libcbor's cbor_is_bool and cbor_is_null abort (an assert in Debian's
// build) when the item is a float; the endpoint fuzzer found requests that
// took the server down that way: a float64 as the whole body (the error
// message names its type), a float where the validator looks for a null.
// Each is answered, as AWS would answer it.
TEST_CASE("CBOR floats where a map, a Boolean or a null may be are answered, not crashes",
          "[endpoint][validation]") {
  auto answer = [](std::string_view action, std::string_view body) -> Outcome {
    Scratch scratch;
    absl::StatusOr<CborDocument> doc = CborDocument::Parse(body, &scratch);
    if (!doc.ok()) return {GetErrorType(doc.status()), std::string(doc.status().message())};
    const RequestValidator& v = RequestValidator::Kinesis();
    absl::Status st = v.Validate(*v.Find(action), doc->root());
    if (st.ok() && action == "DeleteStream") {
      std::optional<bool> enforce;
      REQUIRE(doc->root().Get("EnforceConsumerDeletion", enforce).ok());
      CHECK(enforce == std::optional<bool>(true));
    }
    return Outcome{GetErrorType(st), std::string(st.message())};
  };
  using namespace std::string_view_literals;
  // The fuzzer's input: a float64 0.0 for a body.
  Outcome o = answer("ListStreams", "\xfb\0\0\0\0\0\0\0\0"sv);
  CHECK(o.type == ErrorType::kSerialization);
  CHECK(o.message == "The request body must be a CBOR map, got a float");
  // {"StreamName": half-precision 1.0}
  o = answer("DescribeStreamSummary", "\xa1\x6aStreamName\xf9\x3c\x00"sv);
  CHECK(o.type == ErrorType::kSerialization);
  CHECK(o.message == "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String");
  // {"StreamName": "s", "EnforceConsumerDeletion": float64 1.5}: a number
  // with a fraction is a Boolean to AWS (non-zero is true).
  o = answer("DeleteStream", "\xa2\x6aStreamName\x61s\x77" "EnforceConsumerDeletion\xfb\x3f\xf8\0\0\0\0\0\0"sv);
  CHECK(o.type == ErrorType::kNone);
  // {"StreamName": "s", "Limit": float32 2.0, "ExclusiveStartShardId": float16 0.0}
  o = answer("DescribeStream",
             "\xa3\x6aStreamName\x61s\x65Limit\xfa\x40\0\0\0\x75" "ExclusiveStartShardId\xf9\0\0"sv);
  CHECK(o.type == ErrorType::kSerialization);
}

// The Managed Service for Apache Flink API (kinesisanalyticsv2), for the
// application actions served over the same port.
TEST_CASE("the kinesisanalyticsv2 model validates its requests", "[endpoint][validation]") {
  const RequestValidator& v = RequestValidator::KinesisAnalyticsV2();
  Outcome o = ValidateJson(v, "CreateApplication", "{}");
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message ==
        "3 validation errors detected: Value null at 'applicationName' failed to satisfy constraint: Member must "
        "not be null; Value null at 'runtimeEnvironment' failed to satisfy constraint: Member must not be null; "
        "Value null at 'serviceExecutionRole' failed to satisfy constraint: Member must not be null");
  // A runtime newer than Debian's model comes from the overlay.
  o = ValidateJson(v, "CreateApplication",
                   R"({"ApplicationName":"app","RuntimeEnvironment":"FLINK-1_20",)"
                   R"("ServiceExecutionRole":"arn:aws:iam::000000000000:role/r"})");
  CHECK(o.type == ErrorType::kNone);
  o = ValidateJson(v, "DescribeApplication", R"({"ApplicationName":"a b"})");
  CHECK(o.type == ErrorType::kValidation);
  CHECK(o.message ==
        "1 validation error detected: Value 'a b' at 'applicationName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  CHECK(v.Find("ListApplicationOperations") != nullptr);
}

}  // namespace
}  // namespace tributary::endpoint::validation
