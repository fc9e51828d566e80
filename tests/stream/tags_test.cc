// AddTagsToStream, RemoveTagsFromStream, ListTagsForStream and their limits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::StoreFixture;
using Tags = std::vector<std::pair<std::string, std::string>>;

Tags ListAll(Store& store, const std::string& stream) {
  auto r = store.ListTagsForStream(stream);
  REQUIRE_OK(r);
  return r->tags;
}

std::map<std::string, std::string> ManyTags(int n, const std::string& prefix = "k", int from = 0) {
  std::map<std::string, std::string> tags;
  for (int i = from; i < from + n; ++i) tags[prefix + std::to_string(1000 + i)] = "v";
  return tags;
}

// Adds `n` tags in calls of 10, as Kinesis takes them (AddTagsToStream's
// Tags: "A set of up to 10 key-value pairs"; the remote variant of these
// tests runs against tributary-server, which holds to it).
absl::Status AddInTens(Store& store, int n, const std::string& prefix) {
  for (int from = 0; from < n; from += 10) {
    absl::Status st = store.AddTagsToStream("s", ManyTags(std::min(10, n - from), prefix, from));
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

TEST_CASE("tags are added, overwritten, listed sorted and removed", "[stream][tags]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK(ListAll(*f, "s").empty());
  REQUIRE_OK(f->AddTagsToStream("s", {{"team", "data"}, {"env", "test"}}));
  CHECK(ListAll(*f, "s") == Tags{{"env", "test"}, {"team", "data"}});
  REQUIRE_OK(f->AddTagsToStream("s", {{"env", "prod"}, {"cost", ""}}));
  CHECK(ListAll(*f, "s") == Tags{{"cost", ""}, {"env", "prod"}, {"team", "data"}});
  REQUIRE_OK(f->RemoveTagsFromStream("s", {"env", "not-there"}));
  CHECK(ListAll(*f, "s") == Tags{{"cost", ""}, {"team", "data"}});
  // Tags can be reached by ARN too.
  REQUIRE_OK(f->RemoveTagsFromStream(f->StreamArn("s"), {"cost"}));
  CHECK(ListAll(*f, f->StreamArn("s")) == Tags{{"team", "data"}});
}

TEST_CASE("ListTagsForStream pages with limit and exclusive start key", "[stream][tags][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->AddTagsToStream("s", {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}}));
  auto p1 = f->ListTagsForStream("s", std::nullopt, 2);
  REQUIRE_OK(p1);
  CHECK(p1->tags == Tags{{"a", "1"}, {"b", "2"}});
  CHECK(p1->has_more_tags);
  auto p2 = f->ListTagsForStream("s", std::string("b"), 2);
  REQUIRE_OK(p2);
  CHECK(p2->tags == Tags{{"c", "3"}, {"d", "4"}});
  CHECK(p2->has_more_tags);
  auto p3 = f->ListTagsForStream("s", std::string("d"), 2);
  REQUIRE_OK(p3);
  CHECK(p3->tags == Tags{{"e", "5"}});
  CHECK_FALSE(p3->has_more_tags);
}

TEST_CASE("ListTagsForStream limit must be 1..50", "[stream][tags][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  auto limit = GENERATE(0, -1, 51);
  CHECK_ERROR(f->ListTagsForStream("s", std::nullopt, limit), ErrorType::kValidation);
}

TEST_CASE("a stream holds at most 50 tags", "[stream][tags][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  SECTION("more than 50 in one call") {
    CHECK_ERROR_IN(f->AddTagsToStream("s", ManyTags(51)), {ErrorType::kValidation, ErrorType::kInvalidArgument});
    CHECK(ListAll(*f, "s").empty());
  }
  SECTION("more than 50 in all") {
    REQUIRE_OK(AddInTens(*f, 40, "a"));
    REQUIRE_OK(f->AddTagsToStream("s", ManyTags(9, "b")));
    CHECK_ERROR_IN(f->AddTagsToStream("s", ManyTags(2, "c")),
                   {ErrorType::kLimitExceeded, ErrorType::kInvalidArgument});
    CHECK(ListAll(*f, "s").size() == 49);
    // Overwriting existing keys does not count against the limit.
    auto same = ManyTags(9, "a");
    same["b2000"] = "new";
    CHECK_OK(f->AddTagsToStream("s", same));
    CHECK(ListAll(*f, "s").size() == 50);
  }
  SECTION("exactly 50") {
    CHECK_OK(AddInTens(*f, 50, "k"));
    CHECK(ListAll(*f, "s").size() == 50);
  }
  SECTION("more than 50 at creation") {
    CreateStreamOptions o;
    o.shard_count = 1;
    o.tags = ManyTags(51);
    CHECK_ERROR_IN(f->CreateStream("t", o), {ErrorType::kInvalidArgument, ErrorType::kValidation,
                                             ErrorType::kLimitExceeded});
    CHECK_ERROR(f->DescribeStreamSummary("t"), ErrorType::kResourceNotFound);
  }
}

TEST_CASE("tag keys are 1..128 and values 0..256 characters", "[stream][tags][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_OK(f->AddTagsToStream("s", {{std::string(128, 'k'), std::string(256, 'v')}}));
  CHECK_ERROR(f->AddTagsToStream("s", {{std::string(129, 'k'), "v"}}), ErrorType::kValidation);
  CHECK_ERROR(f->AddTagsToStream("s", {{"", "v"}}), ErrorType::kValidation);
  CHECK_ERROR(f->AddTagsToStream("s", {{"k", std::string(257, 'v')}}), ErrorType::kValidation);
  // A call with one bad tag adds none of them.
  CHECK_ERROR(f->AddTagsToStream("s", {{"good", "v"}, {std::string(129, 'k'), "v"}}), ErrorType::kValidation);
  CHECK(ListAll(*f, "s").size() == 1);
  CHECK_ERROR(f->RemoveTagsFromStream("s", {std::string(129, 'k')}), ErrorType::kValidation);
  CHECK_ERROR(f->RemoveTagsFromStream("s", {""}), ErrorType::kValidation);
}

TEST_CASE("tag calls take 1..50 tags", "[stream][tags][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->AddTagsToStream("s", {}), ErrorType::kValidation);
  CHECK_ERROR(f->RemoveTagsFromStream("s", {}), ErrorType::kValidation);
  std::vector<std::string> keys;
  for (int i = 0; i < 51; ++i) keys.push_back("k" + std::to_string(i));
  CHECK_ERROR(f->RemoveTagsFromStream("s", keys), ErrorType::kValidation);
}

TEST_CASE("tag keys starting with aws: are reserved", "[stream][tags][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->AddTagsToStream("s", {{"aws:owner", "me"}}), ErrorType::kInvalidArgument);
  CHECK(ListAll(*f, "s").empty());
}

}  // namespace
}  // namespace tributary
