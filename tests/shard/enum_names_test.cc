// Wire names of the enums in tributary/types.h and their parsers.
#include <catch2/catch.hpp>

#include <string>

#include "testing/status_matchers.h"
#include "tributary/types.h"

namespace tributary {
namespace {

TEST_CASE("stream status names are the Kinesis wire names", "[shard][enum]") {
  CHECK(ToString(StreamStatus::kCreating) == "CREATING");
  CHECK(ToString(StreamStatus::kDeleting) == "DELETING");
  CHECK(ToString(StreamStatus::kActive) == "ACTIVE");
  CHECK(ToString(StreamStatus::kUpdating) == "UPDATING");
}

TEST_CASE("shard states print as OPEN, CLOSED and EXPIRED", "[shard][enum]") {
  CHECK(ToString(ShardState::kOpen) == "OPEN");
  CHECK(ToString(ShardState::kClosed) == "CLOSED");
  CHECK(ToString(ShardState::kExpired) == "EXPIRED");
}

TEST_CASE("stream mode names round-trip", "[shard][enum]") {
  CHECK(ToString(StreamMode::kProvisioned) == "PROVISIONED");
  CHECK(ToString(StreamMode::kOnDemand) == "ON_DEMAND");
  for (StreamMode m : {StreamMode::kProvisioned, StreamMode::kOnDemand}) {
    auto parsed = ParseStreamMode(ToString(m));
    REQUIRE_OK(parsed);
    CHECK(*parsed == m);
  }
}

TEST_CASE("shard iterator type names round-trip", "[shard][enum]") {
  struct Case {
    ShardIteratorType type;
    const char* name;
  };
  auto c = GENERATE(Case{ShardIteratorType::kTrimHorizon, "TRIM_HORIZON"},
                    Case{ShardIteratorType::kLatest, "LATEST"},
                    Case{ShardIteratorType::kAtSequenceNumber, "AT_SEQUENCE_NUMBER"},
                    Case{ShardIteratorType::kAfterSequenceNumber, "AFTER_SEQUENCE_NUMBER"},
                    Case{ShardIteratorType::kAtTimestamp, "AT_TIMESTAMP"});
  CHECK(ToString(c.type) == c.name);
  auto parsed = ParseShardIteratorType(c.name);
  REQUIRE_OK(parsed);
  CHECK(*parsed == c.type);
}

TEST_CASE("shard filter type names round-trip", "[shard][enum]") {
  struct Case {
    ShardFilterType type;
    const char* name;
  };
  auto c = GENERATE(Case{ShardFilterType::kAfterShardId, "AFTER_SHARD_ID"},
                    Case{ShardFilterType::kAtTrimHorizon, "AT_TRIM_HORIZON"},
                    Case{ShardFilterType::kFromTrimHorizon, "FROM_TRIM_HORIZON"},
                    Case{ShardFilterType::kAtLatest, "AT_LATEST"},
                    Case{ShardFilterType::kAtTimestamp, "AT_TIMESTAMP"},
                    Case{ShardFilterType::kFromTimestamp, "FROM_TIMESTAMP"});
  CHECK(ToString(c.type) == c.name);
  auto parsed = ParseShardFilterType(c.name);
  REQUIRE_OK(parsed);
  CHECK(*parsed == c.type);
}

TEST_CASE("scaling type names round-trip", "[shard][enum]") {
  CHECK(ToString(ScalingType::kUniformScaling) == "UNIFORM_SCALING");
  auto parsed = ParseScalingType("UNIFORM_SCALING");
  REQUIRE_OK(parsed);
  CHECK(*parsed == ScalingType::kUniformScaling);
}

TEST_CASE("enum parsers are exact and case-sensitive", "[shard][enum]") {
  auto text = GENERATE(as<std::string>{}, "", "latest", "Latest", " LATEST", "LATEST ", "TRIM HORIZON",
                       "on_demand", "ACTIVE");
  INFO("input '" << text << "'");
  // "ACTIVE" is a valid status but no valid iterator type, mode, filter or scaling type.
  CHECK_ERROR(ParseShardIteratorType(text), ErrorType::kValidation);
  CHECK_ERROR(ParseStreamMode(text), ErrorType::kValidation);
  CHECK_ERROR(ParseShardFilterType(text), ErrorType::kValidation);
  CHECK_ERROR(ParseScalingType(text), ErrorType::kValidation);
}

}  // namespace
}  // namespace tributary
