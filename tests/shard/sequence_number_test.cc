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

TEST_CASE("ParseAny at the digit-count and bit-width boundaries", "[shard][sequence]") {
  const absl::uint128 kMax128 = absl::Uint128Max();
  const absl::uint128 kTen38 = SequenceNumber::FromParts(0, 0).value();  // 10^38
  struct Case {
    std::string text;
    absl::uint128 high, value;
  };
  auto c = GENERATE_COPY(values<Case>({
      {"0", 0, 0},
      {"7", 0, 7},
      {"9999999999999999999", 0, 9999999999999999999ULL},     // 19 digits: one chunk
      {"10000000000000000000", 0, absl::MakeUint128(0, 10000000000000000000ULL)},  // 20
      {"18446744073709551616", 0, absl::MakeUint128(1, 0)},   // 2^64
      {"99999999999999999999999999999999999999", 0, kTen38 - 1},  // 38 digits, 10^38 - 1
      {"100000000000000000000000000000000000000", 0, kTen38},     // 39 digits, 10^38
      {"100000000000000000000000000000000000001", 0, kTen38 + 1},
      {"340282366920938463463374607431768211455", 0, kMax128},    // 2^128 - 1: the largest narrow
      {"340282366920938463463374607431768211456", 1, 0},          // 2^128: 39 digits, wide
      {"340282366920938463463374607431768211465", 1, 9},
      {"999999999999999999999999999999999999999", 2,               // 10^39 - 1 = 2 * 2^128 + r
       absl::MakeUint128(0xF050FE938943ACC4ULL, 0x5F65567FFFFFFFFFULL)},
      {"1000000000000000000000000000000000000000", 2,              // 40 digits, 10^39
       absl::MakeUint128(0xF050FE938943ACC4ULL, 0x5F65568000000000ULL)},
      {"115792089237316195423570985008687907853269984665640564039457584007913129639935", kMax128,
       kMax128},                                                   // 2^256 - 1 (78 digits)
  }));
  INFO("input " << c.text);
  auto n = SequenceNumber::ParseAny(c.text);
  REQUIRE_OK(n);
  CHECK(n->high() == c.high);
  CHECK(n->value() == c.value);
  CHECK(n->wide() == (c.high != 0));
  if (c.text != "0") CHECK(n->ToString() == c.text);
}

TEST_CASE("ParseAny refuses 2^256 and more, and leading zeros, at every length", "[shard][sequence]") {
  auto text = GENERATE(as<std::string>{},
                       "115792089237316195423570985008687907853269984665640564039457584007913129639936",
                       "115792089237316195423570985008687907853269984665640564039457584007913129640000",
                       "200000000000000000000000000000000000000000000000000000000000000000000000000000",
                       "999999999999999999999999999999999999999999999999999999999999999999999999999999",
                       "1000000000000000000000000000000000000000000000000000000000000000000000000000000");
  INFO("input " << text << " (" << text.size() << " digits)");
  CHECK_ERROR(SequenceNumber::ParseAny(text), ErrorType::kInvalidArgument);
  // The same digits with a leading zero are not a number at all (Kinesis's
  // pattern 0|([1-9]\d*)), whatever their value.
  CHECK_ERROR(SequenceNumber::ParseAny("0" + text.substr(1)), ErrorType::kValidation);
  CHECK_ERROR(SequenceNumber::ParseAny("0" + text), ErrorType::kValidation);
  CHECK_ERROR(SequenceNumber::ParseAny("00"), ErrorType::kValidation);
  CHECK_ERROR(SequenceNumber::ParseAny("0100000000000000000000000000000000000000"), ErrorType::kValidation);
}

TEST_CASE("ParseAny round-trips random numbers of every length from 1 to 78 digits",
          "[shard][sequence][random]") {
  // 2^256: a 78-digit string fits exactly when it sorts below this one.
  const std::string k2to256 =
      "115792089237316195423570985008687907853269984665640564039457584007913129639936";
  std::mt19937_64 rng(20261123);
  for (size_t len = 1; len <= 78; ++len) {
    for (int i = 0; i < 50; ++i) {
      std::string s(len, '0');
      s[0] = static_cast<char>('1' + rng() % 9);
      for (size_t k = 1; k < len; ++k) s[k] = static_cast<char>('0' + rng() % 10);
      // Bias towards the edges: all nines, or a prefix of 2^256's digits.
      if (i == 0) s = std::string(len, '9');
      if (i == 1 && len == 78) s = k2to256.substr(0, 77) + "5";
      INFO("input " << s);
      auto n = SequenceNumber::ParseAny(s);
      if (len == 78 && s >= k2to256) {
        CHECK_ERROR(n, ErrorType::kInvalidArgument);
        continue;
      }
      REQUIRE_OK(n);
      REQUIRE(n->ToString() == s);
      // 39 digits and up are wide exactly from 2^128 on.
      const bool wide = len > 39 || (len == 39 && s >= "340282366920938463463374607431768211456");
      REQUIRE(n->wide() == wide);
    }
  }
  // Powers of ten and their neighbours: whole base-10^19 chunks of zeros
  // and of nines in the decimal form (ToString's long division).
  for (size_t zeros = 1; zeros <= 77; ++zeros) {
    for (const std::string& s : {"1" + std::string(zeros, '0'), "1" + std::string(zeros - 1, '0') + "1",
                                 std::string(zeros, '9')}) {
      INFO("input " << s);
      auto n = SequenceNumber::ParseAny(s);
      REQUIRE_OK(n);
      REQUIRE(n->ToString() == s);
    }
  }
}

TEST_CASE("Parse (Tributary's numbers) agrees with ParseAny on every 39-digit number it accepts",
          "[shard][sequence][random]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    SequenceNumber s = SequenceNumber::FromParts(rng(), static_cast<uint32_t>(rng()));
    auto a = SequenceNumber::Parse(s.ToString());
    auto b = SequenceNumber::ParseAny(s.ToString());
    REQUIRE_OK(a);
    REQUIRE_OK(b);
    REQUIRE(*a == s);
    REQUIRE(*b == s);
  }
  // The largest Tributary number: counter and shard index all ones.
  SequenceNumber top = SequenceNumber::FromParts(UINT64_MAX, UINT32_MAX);
  auto t = SequenceNumber::Parse(top.ToString());
  REQUIRE_OK(t);
  CHECK(*t == top);
  CHECK(t->counter() == UINT64_MAX);
  CHECK(t->shard_index() == UINT32_MAX);
}

}  // namespace
}  // namespace tributary
