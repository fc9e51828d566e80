// The LeaseTable contract, one parameterised suite for every table: the
// includer defines TRIBUTARY_LEASE_TABLE_KINDS (the GENERATE list of kind
// names) and, before including this header, a `TableUnderTest` with
//   explicit TableUnderTest(const std::string& kind);
//   std::unique_ptr<LeaseTable> table;  // (or any pointer-like to one)
//   bool reopenable() const;            // Reopen() opens the same storage again
//   void Reopen();
// tests/consume/lease_table_test.cc runs it on the in-memory and durable
// tables, tests/remote/dynamodb_lease_table_test.cc on DynamoDB (dynalite,
// moto). The test bodies are the same for all.
#ifndef TRIBUTARY_TESTS_CONSUME_LEASE_TABLE_CONFORMANCE_H_
#define TRIBUTARY_TESTS_CONSUME_LEASE_TABLE_CONFORMANCE_H_

#include <catch2/catch.hpp>
#include <string>

#include "testing/status_matchers.h"
#include "tributary/tributary.h"

#ifndef TRIBUTARY_LEASE_TABLE_KINDS
#error "define TRIBUTARY_LEASE_TABLE_KINDS before including lease_table_conformance.h"
#endif

namespace tributary {
namespace {

Lease FullLease(const std::string& shard) {
  Lease l;
  l.shard_id = shard;
  l.owner = "worker-1";
  l.expires_at = absl::FromUnixMicros(1704067200123456);
  l.checkpoint = CheckpointPosition::After(SequenceNumber::FromParts(42, 3));
  l.pending_checkpoint = PendingCheckpoint{SequenceNumber::FromParts(45, 3), std::string("st\0ate", 6)};
  l.parent_shard_ids = {"shardId-000000000001", "shardId-000000000002"};
  l.owner_switches = 7;
  l.handoff_to = "worker-2";
  return l;
}

void CheckSame(const Lease& a, const Lease& b) {
  CHECK(a.shard_id == b.shard_id);
  CHECK(a.owner == b.owner);
  CHECK(a.expires_at == b.expires_at);
  CHECK(a.checkpoint == b.checkpoint);
  CHECK(a.pending_checkpoint.has_value() == b.pending_checkpoint.has_value());
  if (a.pending_checkpoint && b.pending_checkpoint) CHECK(*a.pending_checkpoint == *b.pending_checkpoint);
  CHECK(a.parent_shard_ids == b.parent_shard_ids);
  CHECK(a.owner_switches == b.owner_switches);
  CHECK(a.handoff_to == b.handoff_to);
}

TEST_CASE("lease tables: conditional create, update and delete", "[consume][lease_table]") {
  const std::string kind = GENERATE(TRIBUTARY_LEASE_TABLE_KINDS);
  INFO(kind);
  TableUnderTest t(kind);
  LeaseTable& table = *t.table;
  const LeaseScope scope{"app", "orders"};
  const LeaseScope other{"app", "payments"};

  auto none = table.ListLeases(scope);
  REQUIRE_OK(none);
  CHECK(none->empty());

  Lease l = FullLease("shardId-000000000005");
  l.version = 99;  // ignored: a new lease starts at version 1
  auto created = table.CreateLease(scope, l);
  REQUIRE_OK(created);
  CHECK(created->version == 1);
  CheckSame(*created, l);
  CHECK_THAT(table.CreateLease(scope, l).status(), testing::HasCode(absl::StatusCode::kAlreadyExists));
  CHECK_ERROR(table.CreateLease(scope, l), ErrorType::kResourceInUse);

  // Compare-and-set: the writer that read version 1 wins once.
  Lease a = *created, b = *created;
  a.owner = "a";
  b.owner = "b";
  auto wa = table.UpdateLease(scope, a);
  REQUIRE_OK(wa);
  CHECK(wa->version == 2);
  auto wb = table.UpdateLease(scope, b);
  CHECK_THAT(wb.status(), testing::HasCode(absl::StatusCode::kAborted));
  CHECK_ERROR(wb, ErrorType::kResourceInUse);
  auto got = table.GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  REQUIRE(got->has_value());
  CHECK((*got)->owner == "a");
  CHECK((*got)->version == 2);

  Lease missing = l;
  missing.shard_id = "shardId-000000000009";
  CHECK_ERROR(table.UpdateLease(scope, missing), ErrorType::kResourceNotFound);
  CHECK_ERROR(table.UpdateLease(other, *wa), ErrorType::kResourceNotFound);  // scopes are separate

  // Special times and positions round-trip.
  Lease c = *wa;
  c.expires_at = absl::InfinitePast();
  c.checkpoint = CheckpointPosition::AtTimestamp(absl::FromUnixMillis(1700000000000));
  c.pending_checkpoint.reset();
  c.parent_shard_ids.clear();
  auto wc = table.UpdateLease(scope, c);
  REQUIRE_OK(wc);
  got = table.GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  CheckSame(**got, c);
  c = **got;
  c.checkpoint = CheckpointPosition::ShardEnd();
  REQUIRE_OK(table.UpdateLease(scope, c));

  // Listing is by shard id; deleting needs the current version.
  REQUIRE_OK(table.CreateLease(scope, FullLease("shardId-000000000001")));
  auto list = table.ListLeases(scope);
  REQUIRE_OK(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].shard_id == "shardId-000000000001");
  CHECK((*list)[1].shard_id == "shardId-000000000005");
  CHECK((*list)[1].checkpoint.is_shard_end());
  CHECK_ERROR(table.DeleteLease(scope, "shardId-000000000005", 1), ErrorType::kResourceInUse);
  REQUIRE_OK(table.DeleteLease(scope, "shardId-000000000005", (*list)[1].version));
  REQUIRE_OK(table.DeleteLease(scope, "shardId-000000000005", 123));  // already gone: fine
  list = table.ListLeases(scope);
  REQUIRE_OK(list);
  CHECK(list->size() == 1);

  // Scope records: the first writer wins; DeleteScope drops the leases too.
  ScopeRecord r1;
  r1.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  r1.stream_creation_timestamp = absl::FromUnixSeconds(1704067200);
  r1.initial_position = InitialPosition::AtTimestamp(absl::FromUnixSeconds(1704067300));
  r1.created_at = absl::FromUnixSeconds(1704067400);
  r1.initial_shard_ids = {"shardId-000000000000", "shardId-000000000001"};
  ScopeRecord r2 = r1;
  r2.initial_shard_ids = {"shardId-000000000007"};
  auto s1 = table.CreateScope(scope, r1);
  REQUIRE_OK(s1);
  auto s2 = table.CreateScope(scope, r2);
  REQUIRE_OK(s2);
  CHECK(s2->initial_shard_ids == r1.initial_shard_ids);
  auto gs = table.GetScope(scope);
  REQUIRE_OK(gs);
  REQUIRE(gs->has_value());
  CHECK((*gs)->stream_arn == r1.stream_arn);
  CHECK((*gs)->stream_creation_timestamp == r1.stream_creation_timestamp);
  CHECK((*gs)->initial_position.type == InitialPosition::Type::kAtTimestamp);
  CHECK((*gs)->initial_position.timestamp == r1.initial_position.timestamp);
  CHECK((*gs)->created_at == r1.created_at);
  auto no_scope = table.GetScope(other);
  REQUIRE_OK(no_scope);
  CHECK_FALSE(no_scope->has_value());
  REQUIRE_OK(table.DeleteScope(scope));
  list = table.ListLeases(scope);
  REQUIRE_OK(list);
  CHECK(list->empty());
  gs = table.GetScope(scope);
  REQUIRE_OK(gs);
  CHECK_FALSE(gs->has_value());

  CHECK_ERROR(table.ListLeases(LeaseScope{"", "orders"}), ErrorType::kInvalidArgument);
  Lease unnamed;
  CHECK_ERROR(table.CreateLease(scope, unnamed), ErrorType::kInvalidArgument);
  Lease big = FullLease("shardId-000000000003");
  big.pending_checkpoint->state.assign(kMaxPendingStateBytes + 1, 'x');
  CHECK_ERROR(table.CreateLease(scope, big), ErrorType::kInvalidArgument);
}

TEST_CASE("lease tables: positions inside a KPL aggregate round-trip", "[consume][lease_table][kpl]") {
  const std::string kind = GENERATE(TRIBUTARY_LEASE_TABLE_KINDS);
  INFO(kind);
  TableUnderTest t(kind);
  const LeaseScope scope{"app", "orders"};
  Lease l = FullLease("shardId-000000000003");
  l.checkpoint = CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(42, 3), 0);
  l.pending_checkpoint->sub_sequence_number = 17;
  REQUIRE_OK(t.table->CreateLease(scope, l));
  if (t.reopenable()) t.Reopen();
  auto got = t.table->GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  REQUIRE(got->has_value());
  CheckSame(**got, l);
  CHECK((*got)->checkpoint.sub_sequence_number == 0);  // 0 is a user record, not "whole"
  CHECK((*got)->checkpoint.is_within_aggregate());
  CHECK((*got)->pending_checkpoint->position() ==
        CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(45, 3), 17));
  CHECK((*got)->checkpoint.ToString() == SequenceNumber::FromParts(42, 3).ToString() + "/0");

  // Back to a whole record: the sub-sequence number is gone, not kept.
  Lease whole = **got;
  whole.checkpoint = CheckpointPosition::After(SequenceNumber::FromParts(42, 3));
  whole.pending_checkpoint.reset();
  REQUIRE_OK(t.table->UpdateLease(scope, whole));
  if (t.reopenable()) t.Reopen();
  got = t.table->GetLease(scope, l.shard_id);
  REQUIRE_OK(got);
  CHECK_FALSE((*got)->checkpoint.sub_sequence_number.has_value());
  CHECK_FALSE((*got)->checkpoint.is_within_aggregate());

  // A sub-sequence number needs a sequence number, and is never negative.
  Lease bad = FullLease("shardId-000000000004");
  bad.checkpoint = CheckpointPosition::TrimHorizon();
  bad.checkpoint.sub_sequence_number = 2;
  CHECK_ERROR(t.table->CreateLease(scope, bad), ErrorType::kInvalidArgument);
  bad.checkpoint = CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(1, 4), -1);
  CHECK_ERROR(t.table->CreateLease(scope, bad), ErrorType::kInvalidArgument);
  bad = FullLease("shardId-000000000004");
  bad.pending_checkpoint->sub_sequence_number = -3;
  CHECK_ERROR(t.table->CreateLease(scope, bad), ErrorType::kInvalidArgument);
}

std::string ShardName(int i) {
  std::string n = std::to_string(i);
  return "shardId-" + std::string(12 - n.size(), '0') + n;
}

TEST_CASE("lease tables: listings of scopes and of unfinished leases, over many pages",
          "[consume][lease_table]") {
  const std::string kind = GENERATE(TRIBUTARY_LEASE_TABLE_KINDS);
  INFO(kind);
  TableUnderTest t(kind);
  LeaseTable& table = *t.table;
  const LeaseScope a{"app", "orders"}, b{"app", "payments"}, c{"audit", "orders"};
  // 24 leases of ~60 KiB each: more than one 1 MB page of a DynamoDB Query.
  constexpr int kLeases = 24;
  for (int i = 0; i < kLeases; ++i) {
    Lease l = FullLease(ShardName(i));
    l.pending_checkpoint->state.assign(60 << 10, static_cast<char>('a' + i % 26));
    if (i % 3 == 0) l.checkpoint = CheckpointPosition::ShardEnd();
    REQUIRE_OK(table.CreateLease(a, l));
  }
  REQUIRE_OK(table.CreateLease(b, FullLease("shardId-000000000000")));
  ScopeRecord r;
  r.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  REQUIRE_OK(table.CreateScope(c, r));

  auto all = table.ListLeases(a);
  REQUIRE_OK(all);
  REQUIRE(all->size() == kLeases);
  for (int i = 0; i < kLeases; ++i) {
    CHECK((*all)[i].shard_id == ShardName(i));
    CHECK((*all)[i].pending_checkpoint->state.size() == (60 << 10));
  }
  auto unfinished = table.ListUnfinishedLeases(a);
  REQUIRE_OK(unfinished);
  REQUIRE(unfinished->size() == kLeases - kLeases / 3);
  for (const Lease& l : *unfinished) CHECK_FALSE(l.checkpoint.is_shard_end());
  CHECK((*unfinished)[0].shard_id == "shardId-000000000001");

  auto scopes = table.ListScopes();
  REQUIRE_OK(scopes);
  REQUIRE(scopes->size() == 3);
  CHECK((*scopes)[0] == a);
  CHECK((*scopes)[1] == b);
  CHECK((*scopes)[2] == c);
  // A scope record without leases lists no lease.
  auto none = table.ListLeases(c);
  REQUIRE_OK(none);
  CHECK(none->empty());
}

}  // namespace
}  // namespace tributary

#endif  // TRIBUTARY_TESTS_CONSUME_LEASE_TABLE_CONFORMANCE_H_
