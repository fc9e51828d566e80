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
                        uint32_t{4294967295u});
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
  auto e = ParseShardId("shardId-4294967295");
  REQUIRE_OK(e);
  CHECK(*e == 4294967295u);
}

TEST_CASE("shard id parse rejects malformed ids", "[shard][shard_id]") {
  auto text = GENERATE(as<std::string>{}, "", "shardId-", "shard-1", "shardid-000000000001",
                       "shardId-abc", "shardId--1", "shardId-+1", "shardId-1 ", "shardId-0x1",
                       "shardId-4294967296",  // > uint32
                       "4294967296", "-1", "+7", " 7",
                       "shardId-99999999999999999999999");
  INFO("input '" << text << "'");
  auto parsed = ParseShardId(text);
  // types.h: "Anything else is InvalidArgument (ValidationException)".
  CHECK_ERROR(parsed, ErrorType::kValidation);
  CHECK_THAT(parsed.status(), tributary::testing::HasCode(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace tributary
