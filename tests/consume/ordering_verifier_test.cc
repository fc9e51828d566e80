// OrderingVerifier (tributary::testing): what counts as out of order,
// missing, duplicate and unacknowledged.
#include "tributary/testing/ordering_verifier.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::DeliveryGuarantee;
using testing::OrderingVerifier;

Record Rec(const std::string& key, uint64_t counter, uint32_t shard = 0) {
  Record r;
  r.partition_key = key;
  r.sequence_number = SequenceNumber::FromParts(counter, shard);
  return r;
}

TEST_CASE("verifier: in order and complete is OK", "[consume][verifier]") {
  OrderingVerifier v;
  for (uint64_t i = 1; i <= 4; ++i) v.Acknowledged(i % 2 ? "a" : "b", SequenceNumber::FromParts(i, 0));
  // Keys interleave freely; each key ascends (b's records come from a child).
  v.Delivered("shardId-000000000000", {Rec("a", 1), Rec("a", 3)});
  v.Delivered("shardId-000000000000", Rec("b", 2));
  v.Delivered("shardId-000000000000", Rec("b", 4));
  auto r = v.Check();
  INFO(r.ToString());
  CHECK(r.ok());
  CHECK(r.acknowledged == 4);
  CHECK(r.distinct == 4);
  CHECK(r.keys == 2);
}

TEST_CASE("verifier: a first delivery below a delivered number of its key is out of order",
          "[consume][verifier]") {
  OrderingVerifier v;
  v.Acknowledged("k", SequenceNumber::FromParts(5, 0));   // in the parent
  v.Acknowledged("k", SequenceNumber::FromParts(10, 1));  // in the child
  v.Delivered("shardId-000000000001", Rec("k", 10, 1));   // child first
  v.Delivered("shardId-000000000000", Rec("k", 5, 0));
  auto r = v.Check();
  CHECK_FALSE(r.ok());
  CHECK(r.out_of_order == 1);
  REQUIRE_FALSE(r.problems.empty());
  CHECK(r.problems[0].find("out of order: key 'k'") != std::string::npos);
  CHECK(r.problems[0].find("shardId-000000000001") != std::string::npos);
}

TEST_CASE("verifier: re-deliveries are duplicates, never order violations", "[consume][verifier]") {
  OrderingVerifier::Options exact;
  exact.guarantee = DeliveryGuarantee::kExactlyOnce;
  OrderingVerifier at_least_once, exactly_once(exact);
  for (OrderingVerifier* v : {&at_least_once, &exactly_once}) {
    for (uint64_t i = 1; i <= 3; ++i) v->Acknowledged("k", SequenceNumber::FromParts(i, 0));
    // A worker delivers 1, 2, crashes; the next holder replays from 1.
    v->Delivered("s", {Rec("k", 1), Rec("k", 2), Rec("k", 1), Rec("k", 2), Rec("k", 3)});
  }
  auto r = at_least_once.Check();
  CHECK(r.ok());
  CHECK(r.duplicates == 2);
  CHECK(r.out_of_order == 0);
  auto e = exactly_once.Check();
  CHECK_FALSE(e.ok());
  CHECK(e.duplicates == 2);
}

TEST_CASE("verifier: acknowledged records never delivered are missing", "[consume][verifier]") {
  OrderingVerifier v;
  v.Acknowledged("k", SequenceNumber::FromParts(1, 0));
  v.Acknowledged("lost", SequenceNumber::FromParts(2, 0));
  v.Delivered("s", Rec("k", 1));
  auto r = v.Check();
  CHECK_FALSE(r.ok());
  CHECK(r.missing == 1);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].find("missing: key 'lost'") != std::string::npos);
}

TEST_CASE("verifier: unacknowledged deliveries fail unless allowed", "[consume][verifier]") {
  OrderingVerifier strict;
  strict.Delivered("s", Rec("ghost", 1));
  CHECK_FALSE(strict.Check().ok());
  CHECK(strict.Check().unacknowledged == 1);
  OrderingVerifier::Options lenient;
  lenient.require_acknowledged = false;
  OrderingVerifier v(lenient);
  v.Delivered("s", Rec("ghost", 1));
  CHECK(v.Check().ok());
  CHECK(v.Check().unacknowledged == 1);
}

TEST_CASE("verifier: acknowledgements may come after the delivery, keys must match", "[consume][verifier]") {
  OrderingVerifier v;
  v.Delivered("s", Rec("k", 1));  // a consumer thread was faster than the producer's bookkeeping
  v.Acknowledged("k", SequenceNumber::FromParts(1, 0));
  CHECK(v.Check().ok());
  v.Acknowledged("other", SequenceNumber::FromParts(2, 0));
  v.Delivered("s", Rec("k", 2));
  auto r = v.Check();
  CHECK_FALSE(r.ok());
  CHECK(r.key_mismatches == 1);
}

TEST_CASE("verifier: safe for concurrent deliveries", "[consume][verifier][concurrency]") {
  OrderingVerifier v;
  constexpr int kThreads = 4, kPerThread = 2000;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 1; i <= kPerThread; ++i) {
      v.Acknowledged("k" + std::to_string(t), SequenceNumber::FromParts(i, t));
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&v, t] {
      for (int i = 1; i <= kPerThread; ++i) v.Delivered("s", Rec("k" + std::to_string(t), i, t));
    });
  }
  for (auto& th : threads) th.join();
  auto r = v.Check();
  INFO(r.ToString());
  CHECK(r.ok());
  CHECK(r.distinct == uint64_t{kThreads} * kPerThread);  // distinct is a uint64_t
}

}  // namespace
}  // namespace tributary
