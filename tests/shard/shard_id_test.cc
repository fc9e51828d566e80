// Shard id formatting and parsing ("shardId-000000000007").
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "testing/status_matchers.h"
#include "tributary/types.h"

namespace tributary {
namespace {

TEST_CASE("shard ids are shardId- plus the index padded to 12 digits", "[shard][shard_id]") {
  CHECK(FormatShardId(0) == "shardId-000000000000");
  CHECK(FormatShardId(7) == "shardId-000000000007");
  CHECK(FormatShardId(123456789) == "shardId-000123456789");
  CHECK(FormatShardId(4294967295u) == "shardId-004294967295");
}

TEST_CASE("shard ids round-trip", "[shard][shard_id]") {
  auto index = GENERATE(uint32_t{0}, uint32_t{1}, uint32_t{7}, uint32_t{999999999},
                        uint32_t{2147483647u});
  auto parsed = ParseShardId(FormatShardId(index));
  REQUIRE_OK(parsed);
  CHECK(*parsed == index);
}

TEST_CASE("shard id parse accepts any zero padding and bare digits", "[shard][shard_id]") {
  auto a = ParseShardId("shardId-7");
  REQUIRE_OK(a);
  CHECK(*a == 7);
  auto b = ParseShardId("shardId-00000000000000000007");
  REQUIRE_OK(b);
  CHECK(*b == 7);
  auto c = ParseShardId("7");
  REQUIRE_OK(c);
  CHECK(*c == 7);
  auto d = ParseShardId("000000000012");
  REQUIRE_OK(d);
  CHECK(*d == 12);
  auto e = ParseShardId("shardId-2147483647");
  REQUIRE_OK(e);
  CHECK(*e == 2147483647u);
}

// Observed Kinesis behaviour: any prefix before the first '-' is accepted,
// and the digits end at the next '-'.
TEST_CASE("shard id parse is as lenient as Kinesis", "[shard][shard_id]") {
  struct Case {
    std::string_view text;
    uint32_t index;
  };
  for (const Case& c : {Case{"shard-1", 1}, Case{"anything-0", 0}, Case{"shardid-000000000001", 1},
                        Case{"a-00002147483647", 2147483647u}, Case{"-00002147483647", 2147483647u},
                        Case{"-1", 1}, Case{"x-1-2", 1}, Case{"__kinesalite_test_42-7", 7}}) {
    INFO("input '" << c.text << "'");
    auto parsed = ParseShardId(c.text);
    REQUIRE_OK(parsed);
    CHECK(*parsed == c.index);
  }
}

TEST_CASE("shard id parse rejects malformed ids", "[shard][shard_id]") {
  auto text = GENERATE(as<std::string>{}, "", "shardId-", "shardId-abc", "shardId--1", "shardId-+1",
                       "shardId-1 ", "shardId-0x1",
                       "shardId-2147483648",  // > Java int, as Kinesis
                       "2147483648", "+7", " 7", "2.14E4", "ABKLFD8",
                       "shardId-99999999999999999999999");
  INFO("input '" << text << "'");
  auto parsed = ParseShardId(text);
  // types.h: "Anything else is InvalidArgument (ValidationException)".
  CHECK_ERROR(parsed, ErrorType::kValidation);
  CHECK_THAT(parsed.status(), tributary::testing::HasCode(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace tributary
