// HashKey and HashKeyRange: MD5 routing, decimal parse/format, range helpers.
//
// Expected MD5 values were computed outside the library (`printf a | md5sum`
// and Python's hashlib, then int(hex, 16)), so they check the routing
// independently of the OpenSSL call the library makes.
#include <catch2/catch.hpp>

#include <string>

#include "testing/status_matchers.h"
#include "tributary/store.h"
#include "tributary/types.h"

namespace tributary {
namespace {

constexpr char kMaxDecimal[] = "340282366920938463463374607431768211455";   // 2^128-1
constexpr char kTwoTo128[] = "340282366920938463463374607431768211456";     // 2^128

// Builds a uint128 from its decimal form without the library's parser.
absl::uint128 FromDecimal(std::string_view s) {
  absl::uint128 v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

TEST_CASE("partition keys hash to MD5 read as a big-endian 128-bit integer", "[shard][hash]") {
  struct Case {
    const char* key;
    const char* md5_hex;
    const char* decimal;
  };
  auto c = GENERATE(
      Case{"a", "0cc175b9c0f1b6a831c399e269772661", "16955237001963240173058271559858726497"},
      Case{"abc", "900150983cd24fb0d6963f7d28e17f72", "191415658344158766168031473277922803570"},
      Case{"partition-key-1", "1919e33a21e68e961f03b16ba66b2376",
           "33365116028791453877729010807000998774"},
      Case{"key-0", "", "239606560113066237791549349790285249783"},
      Case{"\xc3\xa9", "", "136732923097551493579404309126273812335"});  // "é" in UTF-8
  INFO("partition key '" << c.key << "' md5 " << c.md5_hex);
  HashKey k = HashKey::FromPartitionKey(c.key);
  CHECK(k.ToString() == c.decimal);
  CHECK(k.value() == FromDecimal(c.decimal));
}

TEST_CASE("a 256-character partition key hashes like any other", "[shard][hash]") {
  std::string key(256, 'x');
  CHECK(HashKey::FromPartitionKey(key).ToString() == "265353499944959180620795534685136097465");
}

TEST_CASE("the high bytes of the digest are the high bits of the key", "[shard][hash]") {
  // MD5("a") = 0c c1 75 b9 ... 61: big-endian means the first byte (0x0c) is
  // the most significant one.
  HashKey k = HashKey::FromPartitionKey("a");
  CHECK(absl::Uint128High64(k.value()) == 0x0cc175b9c0f1b6a8ULL);
  CHECK(absl::Uint128Low64(k.value()) == 0x31c399e269772661ULL);
}

TEST_CASE("hash key decimal form round-trips", "[shard][hash]") {
  auto text = GENERATE(as<std::string>{}, "0", "1", "9", "10", "4294967296", "18446744073709551616",
                       "113427455640312821154458202477256070485", kMaxDecimal);
  auto parsed = HashKey::Parse(text);
  REQUIRE_OK(parsed);
  CHECK(parsed->ToString() == text);
  CHECK(parsed->value() == FromDecimal(text));
}

TEST_CASE("hash key Min and Max are the ends of the 128-bit space", "[shard][hash]") {
  CHECK(HashKey::Min().ToString() == "0");
  CHECK(HashKey::Max().ToString() == kMaxDecimal);
  CHECK(HashKey::Max().value() == absl::Uint128Max());
  CHECK(HashKey().value() == 0);
}

TEST_CASE("hash key parse rejects anything but a canonical decimal in range", "[shard][hash]") {
  auto text = GENERATE(as<std::string>{}, "", "-1", "+1", "01", "00", " 1", "1 ", "1a", "a",
                       "0x10", "1.0", "1e5", kTwoTo128,
                       "999999999999999999999999999999999999999",
                       "1000000000000000000000000000000000000000000");
  INFO("input '" << text << "'");
  CHECK_ERROR(HashKey::Parse(text), ErrorType::kValidation);
  CHECK_THAT(HashKey::Parse(text).status(),
             tributary::testing::HasCode(absl::StatusCode::kInvalidArgument));
}

TEST_CASE("hash key parse errors name what was parsed", "[shard][hash]") {
  auto st = HashKey::Parse("nope", "NewStartingHashKey").status();
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Catch::Contains("NewStartingHashKey"));
}

TEST_CASE("hash keys compare as unsigned 128-bit numbers", "[shard][hash]") {
  HashKey lo(absl::MakeUint128(0, ~0ULL));
  HashKey hi(absl::MakeUint128(1, 0));
  CHECK(lo < hi);
  CHECK(hi > lo);
  CHECK(lo <= lo);
  CHECK(lo != hi);
  CHECK(HashKey::Max() > hi);
}

TEST_CASE("HashKeyRange is closed on both ends", "[shard][hash]") {
  HashKeyRange r{HashKey(10), HashKey(20)};
  CHECK(r.Contains(HashKey(10)));
  CHECK(r.Contains(HashKey(20)));
  CHECK_FALSE(r.Contains(HashKey(9)));
  CHECK_FALSE(r.Contains(HashKey(21)));
  CHECK(r.WidthMinusOne() == 10);
  CHECK(r.IsFollowedBy(HashKeyRange{HashKey(21), HashKey(30)}));
  CHECK_FALSE(r.IsFollowedBy(HashKeyRange{HashKey(20), HashKey(30)}));
  CHECK_FALSE(r.IsFollowedBy(HashKeyRange{HashKey(22), HashKey(30)}));
  CHECK(HashKeyRange::All().Contains(HashKey::Min()));
  CHECK(HashKeyRange::All().Contains(HashKey::Max()));
  CHECK(HashKeyRange::All().WidthMinusOne() == absl::Uint128Max());
  // Nothing follows a range that ends at the top of the space (no wrap-around).
  CHECK_FALSE(HashKeyRange::All().IsFollowedBy(HashKeyRange{HashKey(0), HashKey(5)}));
}

}  // namespace
}  // namespace tributary

namespace tributary {
namespace {

TEST_CASE("HashKeyRange::Midpoint halves a range as SplitShard expects", "[shard][hash_key]") {
  CHECK(HashKeyRange::All().Midpoint() == HashKey(absl::MakeUint128(uint64_t{1} << 63, 0)));
  HashKeyRange odd{HashKey(10), HashKey(20)};  // 11 keys: [10,15] and [16,20]
  CHECK(odd.Midpoint() == HashKey(16));
  HashKeyRange even{HashKey(10), HashKey(21)};  // 12 keys: [10,15] and [16,21]
  CHECK(even.Midpoint() == HashKey(16));
  HashKeyRange two{HashKey(7), HashKey(8)};
  CHECK(two.Midpoint() == HashKey(8));
}

TEST_CASE("SplitShard accepts a HashKey value", "[shard][hash_key]") {
  auto store = *Store::OpenInMemory();
  REQUIRE(store->CreateStream("s", 1).ok());
  REQUIRE(store->SplitShard("s", "shardId-000000000000", HashKeyRange::All().Midpoint()).ok());
  auto d = store->DescribeStream({"s"});
  REQUIRE(d.ok());
  REQUIRE(d->shards.size() == 3);
  CHECK(d->shards[1].hash_key_range.end == HashKey(absl::MakeUint128((uint64_t{1} << 63) - 1, ~uint64_t{0})));
  CHECK(d->shards[2].hash_key_range.start == HashKeyRange::All().Midpoint());
}

}  // namespace
}  // namespace tributary
