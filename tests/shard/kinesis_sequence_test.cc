// Kinesis' sequence-number layout (SequenceFormat::kKinesis): building,
// reading the fields back, the decimal form, and how Kinesis reads a number
// a client hands it (lib/shard/kinesis_sequence.h). The layout and the
// reading rules are Kinesis' observed ones, as kinesalite reverse-engineered
// them (docs/CONCEPTS.md "Sequence numbers").
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>

#include "shard/kinesis_sequence.h"
#include "testing/status_matchers.h"
#include "tributary/types.h"

namespace tributary {
namespace {

// The number of a 47-digit hexadecimal string, through the decimal parser.
SequenceNumber FromHex(const std::string& hex) {
  // Long multiplication into decimal digits.
  std::string dec = "0";
  for (char c : hex) {
    int v = c <= '9' ? c - '0' : c - 'a' + 10;
    int carry = v;
    for (auto it = dec.rbegin(); it != dec.rend(); ++it) {
      int d = (*it - '0') * 16 + carry;
      *it = static_cast<char>('0' + d % 10);
      carry = d / 10;
    }
    while (carry > 0) {
      dec.insert(dec.begin(), static_cast<char>('0' + carry % 10));
      carry /= 10;
    }
  }
  size_t nz = dec.find_first_not_of('0');
  dec = nz == std::string::npos ? "0" : dec.substr(nz);
  auto s = SequenceNumber::ParseAny(dec);
  REQUIRE_OK(s);
  return *s;
}

TEST_CASE("Kinesis' layout: 56 digits, the fields where Kinesis has them", "[shard][sequence][kinesis]") {
  // docs/CONCEPTS.md's example: shard 0 created at 1700000000, record 5 at 1700000042.
  SequenceNumber s = SequenceNumber::FromKinesisParts(1700000000, 0, 5, 1700000042);
  CHECK(s.ToString() == "49646437577108476416916876405831974054683505708366823426");
  CHECK(s == FromHex("206553f100000000000000000050006553f12a000000002"));
  CHECK(s.is_kinesis_layout());
  CHECK(s.has_counter());
  CHECK(s.counter() == 5);
  CHECK(s.shard_index() == 0);
  SequenceNumber big = SequenceNumber::FromKinesisParts(1700000000, 0x1234567, (uint64_t{1} << 63) - 1, 1700000042);
  CHECK(big == FromHex("206553f1007" "7fffffffffffffff" "00" "06553f12a" "01234567" "2"));
  CHECK(big.counter() == (uint64_t{1} << 63) - 1);
  CHECK(big.shard_index() == 0x1234567);
  char buf[80];
  CHECK(std::string(buf, big.ToChars(buf)) == big.ToString());
  CHECK(big.ToString().size() == 56);
}

TEST_CASE("Kinesis' layout orders by creation time, then counter", "[shard][sequence][kinesis][random]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const int64_t created = 1500000000 + static_cast<int64_t>(rng() % 400000000);
    const uint32_t shard = static_cast<uint32_t>(rng() % 100000);
    const uint64_t c = rng() >> 2;
    const int64_t t = created + static_cast<int64_t>(rng() % 100000);
    SequenceNumber a = SequenceNumber::FromKinesisParts(created, shard, c, t);
    SequenceNumber b = SequenceNumber::FromKinesisParts(created, shard, c + 1 + rng() % 1000, t);
    CHECK(a < b);
    CHECK(a.ToString() < b.ToString());  // same length: strings sort like the numbers
    CHECK(a.counter() == c);
    CHECK(a.shard_index() == shard);
    auto parsed = SequenceNumber::ParseAny(a.ToString());
    REQUIRE_OK(parsed);
    CHECK(*parsed == a);
    // A later-created shard (a child) sorts after, whatever the counters.
    CHECK(a < SequenceNumber::FromKinesisParts(created + 1, shard + 1, 0, created + 1));
  }
}

TEST_CASE("Kinesis reads numbers as kinesalite recorded: versions 0 1 and 2", "[shard][sequence][kinesis]") {
  using shard::ReadKinesisSequence;
  // Version 2 of shard 5.
  auto v2 = ReadKinesisSequence(SequenceNumber::FromKinesisParts(1700000000, 5, 42, 1700000001));
  REQUIRE(v2.has_value());
  CHECK(v2->version == 2);
  CHECK(v2->shard_index == 5);
  CHECK(v2->counter == 42);
  CHECK(v2->shard_created_s == 1700000000);
  CHECK(v2->record_s == 1700000001);
  // Small numbers are read as version 0 (2^124 added): '5' encodes shard 5.
  auto five = SequenceNumber::ParseAny("5");
  REQUIRE_OK(five);
  auto v0 = ReadKinesisSequence(*five);
  REQUIRE(v0.has_value());
  CHECK(v0->version == 0);
  CHECK(v0->shard_index == 5);
  // A shard field with its top digit 8 or more is negative.
  auto neg = ReadKinesisSequence(FromHex("20000000000000000000000000000000000000800000002"));
  REQUIRE(neg.has_value());
  CHECK(neg->shard_index == -2147483648LL);
  CHECK(shard::KinesisShardName(neg->shard_index) == "shardId--02147483648");
  CHECK(shard::KinesisShardName(5) == "shardId-000000000005");
  // Version 1.
  auto v1 = ReadKinesisSequence(FromHex("20000000000000000000000000000000000000000000001"));
  REQUIRE(v1.has_value());
  CHECK(v1->version == 1);
  // What Kinesis calls invalid.
  for (const char* hex : {"20000000000000000000000000000000000000000000000",   // 2^185 itself
                          "20000000000000000000000000000000000000000000004",   // version 4
                          "20000000000000000000000000000000000000000000003",   // version 3
                          "30000000000000000000000000000000000000000000001",   // above 1.5 * 2^185
                          "1ffffffffff7fffffffffffffff000000000007fffffff2",   // below 2^185
                          "20000000000800000000000000000000000000000000002",   // counter's top bit
                          "13bb2cc3d80000000000000000000000"}) {              // created 16025175000 s
    INFO(hex);
    CHECK_FALSE(ReadKinesisSequence(FromHex(hex)).has_value());
  }
  // Tributary's own 39-digit numbers fall in version 0's range, with a
  // "creation time" (0xb3b4ca85a s) past the year 2477: Kinesis calls them
  // invalid, and so does a stream in Kinesis' layout.
  CHECK_FALSE(ReadKinesisSequence(SequenceNumber::FromParts(7, 3)).has_value());
}

TEST_CASE("has_counter covers both of Tributary's layouts only", "[shard][sequence][kinesis]") {
  CHECK(SequenceNumber::FromParts(9, 2).has_counter());
  CHECK_FALSE(SequenceNumber::FromParts(9, 2).is_kinesis_layout());
  CHECK(SequenceNumber::FromKinesisParts(1600000000, 2, 9, 1600000000).has_counter());
  // Another implementation's number with a nonzero reserved byte, or a
  // negative shard field, has no counter we can use.
  CHECK_FALSE(FromHex("206553f100000000000000000051106553f12a000000002").has_counter());
  CHECK_FALSE(FromHex("20000000000000000000000000000000000000800000002").has_counter());
  auto foreign = SequenceNumber::ParseAny("12345678901234567890123456789012345678901234567890");
  REQUIRE_OK(foreign);
  CHECK_FALSE(foreign->has_counter());
}

}  // namespace
}  // namespace tributary
