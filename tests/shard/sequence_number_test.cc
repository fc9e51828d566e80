// SequenceNumber: layout, 39-digit decimal form, ordering, parsing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "testing/status_matchers.h"
#include "tributary/types.h"

namespace tributary {
namespace {

TEST_CASE("sequence numbers are 10^38 + (counter << 32 | shard index)", "[shard][sequence]") {
  // Values computed with Python: 10**38 + (5 << 32 | 7), and the largest parts.
  CHECK(SequenceNumber::FromParts(0, 0).ToString() == "100000000000000000000000000000000000000");
  CHECK(SequenceNumber::FromParts(5, 7).ToString() == "100000000000000000000000000021474836487");
  CHECK(SequenceNumber::FromParts(std::numeric_limits<uint64_t>::max(),
                                  std::numeric_limits<uint32_t>::max())
            .ToString() == "100000000079228162514264337593543950335");
}

TEST_CASE("sequence number parts round-trip", "[shard][sequence]") {
  auto counter = GENERATE(uint64_t{0}, uint64_t{1}, uint64_t{1} << 31, uint64_t{1} << 32,
                          std::numeric_limits<uint64_t>::max() - 1,
                          std::numeric_limits<uint64_t>::max());
  auto index = GENERATE(uint32_t{0}, uint32_t{7}, std::numeric_limits<uint32_t>::max());
  SequenceNumber s = SequenceNumber::FromParts(counter, index);
  CHECK(s.counter() == counter);
  CHECK(s.shard_index() == index);
  CHECK(s.valid());
  auto parsed = SequenceNumber::Parse(s.ToString());
  REQUIRE_OK(parsed);
  CHECK(*parsed == s);
  CHECK(parsed->counter() == counter);
  CHECK(parsed->shard_index() == index);
}

TEST_CASE("a default sequence number is not valid", "[shard][sequence]") {
  CHECK_FALSE(SequenceNumber().valid());
  CHECK(SequenceNumber().value() == 0);
}

TEST_CASE("sequence number strings are 39 digits and sort like the numbers", "[shard][sequence][random]") {
  std::mt19937_64 rng(Catch::rngSeed());
  INFO("seed " << Catch::rngSeed());
  for (int i = 0; i < 2000; ++i) {
    // Mix small and large counters so both short and long raw values occur.
    uint64_t ca = rng() >> (rng() % 64);
    uint64_t cb = rng() >> (rng() % 64);
    uint32_t ia = static_cast<uint32_t>(rng() >> (rng() % 32 + 32));
    uint32_t ib = static_cast<uint32_t>(rng() >> (rng() % 32 + 32));
    SequenceNumber a = SequenceNumber::FromParts(ca, ia);
    SequenceNumber b = SequenceNumber::FromParts(cb, ib);
    std::string sa = a.ToString(), sb = b.ToString();
    REQUIRE(sa.size() == 39);
    REQUIRE(sb.size() == 39);
    INFO(sa << " vs " << sb);
    REQUIRE((sa < sb) == (a < b));
    REQUIRE((sa == sb) == (a == b));
    // Higher counter always means a higher number, whatever the shard index.
    if (ca != cb) REQUIRE((ca < cb) == (a < b));
  }
}

TEST_CASE("sequence number parse rejects text that is not a number", "[shard][sequence]") {
  auto text = GENERATE(as<std::string>{}, "", "abc", "-1", "+100000000000000000000000000000000000000",
                       "01", "1e38", " 100000000000000000000000000000000000000",
                       "100000000000000000000000000000000000000 ", "0x10");
  INFO("input '" << text << "'");
  CHECK_ERROR(SequenceNumber::Parse(text), ErrorType::kValidation);
  CHECK_THAT(SequenceNumber::Parse(text).status(),
             tributary::testing::HasCode(absl::StatusCode::kInvalidArgument));
}

TEST_CASE("sequence number parse rejects numbers Tributary never issues", "[shard][sequence]") {
  auto text = GENERATE(as<std::string>{},
                       "0",                                         // no offset
                       "1",                                         // no offset
                       "99999999999999999999999999999999999999",    // 10^38 - 1
                       "100000000079228162514264337593543950336",   // 10^38 + 2^96
                       "340282366920938463463374607431768211455",   // 2^128 - 1
                       "340282366920938463463374607431768211456",   // 2^128
                       "12345678901234567890123456789012345678901234567890");  // 50 digits
  INFO("input '" << text << "'");
  CHECK_ERROR(SequenceNumber::Parse(text), ErrorType::kInvalidArgument);
}

TEST_CASE("sequence number parse errors name what was parsed", "[shard][sequence]") {
  auto st = SequenceNumber::Parse("zzz", "StartingSequenceNumber").status();
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Catch::Contains("StartingSequenceNumber"));
}

TEST_CASE("ParseAny reads other implementations' numbers up to 2^256-1", "[shard][sequence]") {
  // A sequence number as Amazon Kinesis and kinesalite issue them (56 digits).
  const std::string kinesis = "49590338271490256608559692538361571095921575989136588898";
  auto a = SequenceNumber::ParseAny(kinesis);
  REQUIRE_OK(a);
  CHECK(a->wide());
  CHECK(a->ToString() == kinesis);
  // Numeric order, also against narrower numbers and across the 2^128 edge.
  auto b = SequenceNumber::ParseAny("49590338271490256608559692538361571095921575989136588899");
  REQUIRE_OK(b);
  CHECK(*a < *b);
  auto edge_lo = SequenceNumber::ParseAny("340282366920938463463374607431768211455");  // 2^128-1
  auto edge_hi = SequenceNumber::ParseAny("340282366920938463463374607431768211456");  // 2^128
  REQUIRE_OK(edge_lo);
  REQUIRE_OK(edge_hi);
  CHECK_FALSE(edge_lo->wide());
  CHECK(edge_hi->wide());
  CHECK(*edge_lo < *edge_hi);
  CHECK(edge_hi->ToString() == "340282366920938463463374607431768211456");
  CHECK(SequenceNumber::FromParts(5, 1) < *a);
  // Tributary's own numbers parse to the same value either way.
  SequenceNumber ours = SequenceNumber::FromParts(12345, 3);
  auto again = SequenceNumber::ParseAny(ours.ToString());
  REQUIRE_OK(again);
  CHECK(*again == ours);
  CHECK(again->counter() == 12345);
  // 2^256 - 1 fits; 2^256 does not.
  const std::string max256 =
      "115792089237316195423570985008687907853269984665640564039457584007913129639935";
  auto top = SequenceNumber::ParseAny(max256);
  REQUIRE_OK(top);
  CHECK(top->ToString() == max256);
  CHECK_ERROR(SequenceNumber::ParseAny(
                  "115792089237316195423570985008687907853269984665640564039457584007913129639936"),
              ErrorType::kInvalidArgument);
  CHECK_ERROR(SequenceNumber::ParseAny(std::string(100, '9')), ErrorType::kInvalidArgument);
  CHECK_ERROR(SequenceNumber::ParseAny("01"), ErrorType::kValidation);
  // Parse (what a Tributary store accepts) still refuses the foreign number.
  CHECK_ERROR(SequenceNumber::Parse(kinesis), ErrorType::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
