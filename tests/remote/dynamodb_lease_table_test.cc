// The DynamoDB lease table (tributary/dynamodb_lease_table.h) against two
// DynamoDB implementations nobody here wrote, started on loopback by the
// tests: dynalite (npm) and moto's server (pip, on the machine image). The
// lease-table contract suite that the memory and file tables pass
// (tests/consume/lease_table_conformance.h) runs unchanged on both; then
// what is DynamoDB's own: table creation, concurrent compare-and-set from
// many threads, the item layout of docs/FORMAT.md, damaged and foreign
// items, throttling, and the ordered consumer across a split and a merge.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "consume_across_reshards.h"
#include "remote/aws_client.h"
#include "remote/http_client.h"
#include "testing/remote_server.h"
#include "testing/status_matchers.h"
#include "tributary/dynamodb_lease_table.h"

namespace tributary {
namespace {

// One server per kind per test process (each ctest test is a process).
testing::ListeningChild& Peer(const std::string& kind) {
  static std::map<std::string, std::unique_ptr<testing::ListeningChild>> peers;
  std::unique_ptr<testing::ListeningChild>& p = peers[kind];
  if (p == nullptr) p = kind == "dynamodb-moto" ? testing::StartMoto() : testing::StartDynalite();
  return *p;
}

DynamoDbLeaseTableOptions TableOptions(const std::string& url, const std::string& table) {
  DynamoDbLeaseTableOptions o;
  o.table_name = table;
  o.endpoint_url = url;
  o.region = "us-east-1";
  o.credentials = StaticCredentialsProvider({"AKIDTRIBUTARYTEST", "tributary-test-secret", ""});
  o.retry.initial_backoff = absl::Milliseconds(5);
  o.retry.max_backoff = absl::Milliseconds(50);
  o.poll_interval = absl::Milliseconds(20);
  return o;
}

std::string FreshTableName() {
  static std::atomic<int> n{0};
  return "leases-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

// A fresh table of the kind's server; Reopen() opens it again (new client).
struct TableUnderTest {
  explicit TableUnderTest(const std::string& kind) : url(Peer(kind).url()), name(FreshTableName()) { Reopen(); }
  bool reopenable() const { return true; }
  void Reopen() {
    auto t = OpenDynamoDbLeaseTable(TableOptions(url, name));
    REQUIRE_OK(t);
    table = std::move(t).value();
  }
  std::string url;
  std::string name;
  std::unique_ptr<DynamoDbLeaseTable> table;
};

}  // namespace
}  // namespace tributary

#define TRIBUTARY_LEASE_TABLE_KINDS "dynamodb-dynalite", "dynamodb-moto"
#include "consume/lease_table_conformance.h"

namespace tributary {
namespace {

// Raw DynamoDB calls, through the same client core, to look at and plant items.
std::unique_ptr<remote::AwsJsonClient> RawClient(const std::string& url) {
  remote::AwsClientOptions o;
  o.endpoint_url = url;
  o.region = "us-east-1";
  o.credentials = StaticCredentialsProvider({"AKIDTRIBUTARYTEST", "tributary-test-secret", ""});
  auto c = remote::AwsJsonClient::Create(remote::kDynamoDbService, o, [](const remote::HttpResponse& r, std::string_view) {
    return MakeError(absl::StatusCode::kUnknown, ErrorType::kInvalidArgument, r.body);
  });
  REQUIRE_OK(c);
  return std::move(c).value();
}

TEST_CASE("dynamodb lease table: created on demand, or required to exist", "[remote][dynamodb]") {
  const std::string kind = GENERATE("dynamodb-dynalite", "dynamodb-moto");
  INFO(kind);
  const std::string url = Peer(kind).url();
  const std::string name = FreshTableName();
  DynamoDbLeaseTableOptions o = TableOptions(url, name);
  o.creation = DynamoDbLeaseTableOptions::Creation::kRequireExisting;
  auto missing = OpenDynamoDbLeaseTable(o);
  CHECK_ERROR(missing, ErrorType::kResourceNotFound);
  CHECK_THAT(std::string(missing.status().message()), Catch::Contains(name));

  o.creation = DynamoDbLeaseTableOptions::Creation::kCreateIfMissing;
  // Two openers at once: one creates, the other finds it being created.
  std::unique_ptr<DynamoDbLeaseTable> a, b;
  std::thread other([&] {
    auto t = OpenDynamoDbLeaseTable(o);
    if (t.ok()) b = std::move(t).value();
  });
  auto t = OpenDynamoDbLeaseTable(o);
  other.join();
  REQUIRE_OK(t);
  REQUIRE(b != nullptr);
  a = std::move(t).value();
  CHECK(a->table_name() == name);
  REQUIRE_OK(a->CreateLease({"app", "s"}, FullLease("shardId-000000000000")));
  auto seen = b->GetLease({"app", "s"}, "shardId-000000000000");
  REQUIRE_OK(seen);
  CHECK(seen->has_value());
  CHECK(a->stats().requests > 0);

  o.creation = DynamoDbLeaseTableOptions::Creation::kRequireExisting;
  REQUIRE_OK(OpenDynamoDbLeaseTable(o));

  SECTION("a table with another key schema (a KCL lease table) is refused") {
    auto raw = RawClient(url);
    const std::string kcl = FreshTableName();
    REQUIRE_OK(raw->Call("CreateTable",
                         R"({"TableName":")" + kcl +
                             R"(","AttributeDefinitions":[{"AttributeName":"leaseKey","AttributeType":"S"}],)"
                             R"("KeySchema":[{"AttributeName":"leaseKey","KeyType":"HASH"}],)"
                             R"("BillingMode":"PAY_PER_REQUEST"})"));
    auto refused = OpenDynamoDbLeaseTable(TableOptions(url, kcl));
    CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(refused.status().message()), Catch::Contains("KCL"));
  }
  SECTION("a bad table name is InvalidArgument, before any request") {
    CHECK_ERROR(OpenDynamoDbLeaseTable(TableOptions(url, "no spaces")), ErrorType::kInvalidArgument);
    CHECK_ERROR(OpenDynamoDbLeaseTable(TableOptions(url, "ab")), ErrorType::kInvalidArgument);
  }
}

TEST_CASE("dynamodb lease table: Open waits while the table is CREATING, up to create_timeout",
          "[remote][dynamodb]") {
  auto slow = testing::StartDynalite(/*create_table_ms=*/400);
  SECTION("until ACTIVE") {
    DynamoDbLeaseTableOptions o = TableOptions(slow->url(), FreshTableName());
    auto t = OpenDynamoDbLeaseTable(o);  // polls every 20 ms of real time
    REQUIRE_OK(t);
    REQUIRE_OK((*t)->CreateLease({"app", "s"}, FullLease("shardId-000000000000")));
    CHECK((*t)->stats().requests >= 4);  // DescribeTable, CreateTable, DescribeTable (CREATING)..., PutItem
  }
  SECTION("or DeadlineExceeded") {
    ManualClock clock;  // each poll advances it: the deadline comes at once
    DynamoDbLeaseTableOptions o = TableOptions(slow->url(), FreshTableName());
    o.clock = &clock;
    o.create_timeout = absl::Seconds(1);
    o.poll_interval = absl::Milliseconds(250);
    auto t = OpenDynamoDbLeaseTable(o);
    CHECK(t.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK_THAT(std::string(t.status().message()), Catch::Contains("still CREATING"));
  }
}

// DynamoDB answers a Query or Scan in pages of at most 1 MB; the listings
// follow LastEvaluatedKey until the last page.
TEST_CASE("dynamodb lease table: listings page through LastEvaluatedKey", "[remote][dynamodb]") {
  TableUnderTest t("dynamodb-dynalite");
  const LeaseScope scope{"app", "orders"};
  constexpr int kLeases = 40;  // ~60 KiB each: 2.4 MB, three pages
  for (int i = 0; i < kLeases; ++i) {
    Lease l = FullLease(ShardName(i));
    l.pending_checkpoint->state.assign(60 << 10, 'p');
    REQUIRE_OK(t.table->CreateLease(scope, l));
  }
  int64_t before = t.table->stats().requests;
  auto all = t.table->ListLeases(scope);
  REQUIRE_OK(all);
  CHECK(all->size() == kLeases);
  CHECK(t.table->stats().requests - before >= 3);
  before = t.table->stats().requests;
  auto scopes = t.table->ListScopes();
  REQUIRE_OK(scopes);
  CHECK(scopes->size() == 1);
  CHECK(t.table->stats().requests - before >= 3);
}

// Workers on several threads (each with its own table client, as separate
// hosts would have) increment one lease's counter by compare-and-set,
// retrying on conflicts: the conditional writes lose no increment.
// dynalite only: moto 5.2.1's server checks a ConditionExpression and writes
// the item without a lock between the two, so concurrent conditional writes
// to one item can all succeed there (seen: 60 successful updates, 49 kept).
// DynamoDB and dynalite apply them atomically.
TEST_CASE("dynamodb lease table: concurrent compare-and-set never loses an update", "[remote][dynamodb]") {
  TableUnderTest t("dynamodb-dynalite");
  const LeaseScope scope{"app", "orders"};
  Lease l;
  l.shard_id = "shardId-000000000000";
  REQUIRE_OK(t.table->CreateLease(scope, l));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      auto mine = OpenDynamoDbLeaseTable(TableOptions(t.url, t.name));
      if (!mine.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kIncrements;) {
        auto cur = (*mine)->GetLease(scope, "shardId-000000000000");
        if (!cur.ok() || !cur->has_value()) {
          ++failures;
          return;
        }
        Lease next = **cur;
        next.owner_switches++;
        next.owner = "worker-" + std::to_string(w);
        auto wrote = (*mine)->UpdateLease(scope, next);
        if (wrote.ok()) {
          ++i;
        } else if (wrote.status().code() != absl::StatusCode::kAborted) {
          ++failures;
          return;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(failures == 0);
  auto end = t.table->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(end);
  CHECK((*end)->owner_switches == uint64_t{kThreads} * kIncrements);
  CHECK((*end)->version == 1 + uint64_t{kThreads} * kIncrements);
}

// The layout docs/FORMAT.md "DynamoDB lease table" specifies, read back raw.
TEST_CASE("dynamodb lease table: items have the documented layout", "[remote][dynamodb][format]") {
  TableUnderTest t("dynamodb-dynalite");
  const LeaseScope scope{"app/1", "orders%"};
  Lease l = FullLease("shardId-000000000007");
  l.checkpoint = CheckpointPosition::AfterUserRecord(SequenceNumber::FromParts(42, 3), 2);
  REQUIRE_OK(t.table->CreateLease(scope, l));
  auto raw = RawClient(t.url);
  auto got = raw->Call("GetItem", R"({"TableName":")" + t.name +
                                      R"(","ConsistentRead":true,"Key":{"leaseScope":{"S":"app%2F1/orders%25"},)"
                                      R"("leaseKey":{"S":"shardId-000000000007"}}})");
  REQUIRE_OK(got);
  simdjson::dom::parser parser;
  simdjson::dom::object item;
  REQUIRE(parser.parse(*got).at_key("Item").get_object().get(item) == simdjson::SUCCESS);
  auto text = [&](const char* name, const char* type) -> std::string {
    std::string_view v;
    if (item.at_key(name).at_key(type).get_string().get(v) != simdjson::SUCCESS) return "<absent>";
    return std::string(v);
  };
  CHECK(text("tributaryLayout", "N") == "1");
  CHECK(text("consumerName", "S") == "app/1");
  CHECK(text("streamName", "S") == "orders%");
  CHECK(text("leaseCounter", "N") == "1");
  CHECK(text("leaseOwner", "S") == "worker-1");
  CHECK(text("leaseExpiresAtMicros", "N") == "1704067200123456");
  CHECK(text("checkpoint", "S") == SequenceNumber::FromParts(42, 3).ToString());
  CHECK(text("checkpointSubSequenceNumber", "N") == "2");
  CHECK(text("pendingCheckpoint", "S") == SequenceNumber::FromParts(45, 3).ToString());
  CHECK(text("pendingCheckpointState", "B") == "c3QAYXRl");  // base64 of "st\0ate"
  CHECK(text("ownerSwitches", "N") == "7");
  CHECK(text("handoffTo", "S") == "worker-2");
  simdjson::dom::array parents;
  REQUIRE(item.at_key("parentShardIds").at_key("L").get_array().get(parents) == simdjson::SUCCESS);
  CHECK(parents.size() == 2);
  CHECK(text("pendingCheckpointSubSequenceNumber", "N") == "<absent>");

  // An update that drops optional fields removes their attributes.
  auto cur = t.table->GetLease(scope, "shardId-000000000007");
  REQUIRE_OK(cur);
  Lease next = **cur;
  next.owner.clear();
  next.pending_checkpoint.reset();
  next.handoff_to.clear();
  next.parent_shard_ids.clear();
  next.checkpoint = CheckpointPosition::ShardEnd();
  REQUIRE_OK(t.table->UpdateLease(scope, next));
  got = raw->Call("GetItem", R"({"TableName":")" + t.name +
                                 R"(","ConsistentRead":true,"Key":{"leaseScope":{"S":"app%2F1/orders%25"},)"
                                 R"("leaseKey":{"S":"shardId-000000000007"}}})");
  REQUIRE_OK(got);
  REQUIRE(parser.parse(*got).at_key("Item").get_object().get(item) == simdjson::SUCCESS);
  CHECK(text("leaseCounter", "N") == "2");
  CHECK(text("checkpoint", "S") == "SHARD_END");
  for (const char* gone : {"leaseOwner", "pendingCheckpoint", "pendingCheckpointState", "handoffTo",
                           "checkpointSubSequenceNumber"}) {
    INFO(gone);
    CHECK(text(gone, "S") == "<absent>");
    CHECK(text(gone, "N") == "<absent>");
    CHECK(text(gone, "B") == "<absent>");
  }
  CHECK(item.at_key("parentShardIds").error() != simdjson::SUCCESS);
}

TEST_CASE("dynamodb lease table: an item of a later layout or of another program is refused, not guessed at",
          "[remote][dynamodb][corruption]") {
  TableUnderTest t("dynamodb-dynalite");
  auto raw = RawClient(t.url);
  const std::string key = R"("leaseScope":{"S":"app/orders"},"leaseKey":{"S":"shardId-000000000001"})";
  SECTION("a later layout version") {
    REQUIRE_OK(raw->Call("PutItem", R"({"TableName":")" + t.name + R"(","Item":{)" + key +
                                        R"(,"tributaryLayout":{"N":"2"},"leaseCounter":{"N":"1"}}})"));
    auto got = t.table->GetLease({"app", "orders"}, "shardId-000000000001");
    CHECK_ERROR(got, ErrorType::kCorruption);
    CHECK_THAT(std::string(got.status().message()), Catch::Contains("layout version 2"));
  }
  SECTION("an item without the layout attribute") {
    REQUIRE_OK(raw->Call("PutItem", R"({"TableName":")" + t.name + R"(","Item":{)" + key +
                                        R"(,"leaseOwner":{"S":"someone"}}})"));
    CHECK_ERROR(t.table->ListLeases({"app", "orders"}), ErrorType::kCorruption);
  }
  // Shard ids starting with '#' are reserved (the scope record's key).
  Lease bad;
  bad.shard_id = "#scope";
  CHECK_ERROR(t.table->CreateLease({"app", "orders"}, bad), ErrorType::kInvalidArgument);
}

// dynalite never throttles: a proxy in front of it answers like DynamoDB
// does when a table's throughput is exceeded (peers/throttling_proxy.py).
TEST_CASE("dynamodb lease table: throttling is retried with jittered backoff, within max_attempts",
          "[remote][dynamodb][retry]") {
  auto dynalite = testing::StartDynalite();
  testing::ListeningChild proxy({TRIBUTARY_SYSTEM_PYTHON3, TRIBUTARY_THROTTLING_PROXY_PY, dynalite->url()});
  auto control = remote::HttpClient::Create(remote::HttpOptions{proxy.url()});
  REQUIRE_OK(control);
  auto throttle = [&](const std::string& json) {
    auto r = (*control)->Request("POST", "/__control", {"Content-Type: application/json"}, json);
    REQUIRE_OK(r);
    REQUIRE(r->status == 200);
  };
  ManualClock clock;  // backoff waits advance it instead of sleeping
  DynamoDbLeaseTableOptions o = TableOptions(proxy.url(), FreshTableName());
  o.clock = &clock;
  o.retry.max_attempts = 4;
  o.retry.initial_backoff = absl::Milliseconds(100);
  o.retry.max_backoff = absl::Seconds(1);
  auto table = OpenDynamoDbLeaseTable(o);
  REQUIRE_OK(table);
  const LeaseScope scope{"app", "orders"};
  auto created = (*table)->CreateLease(scope, FullLease("shardId-000000000000"));
  REQUIRE_OK(created);

  const std::string error = GENERATE("ProvisionedThroughputExceededException", "ThrottlingException",
                                     "RequestLimitExceeded");
  INFO(error);
  // Three throttled answers, then the write goes through.
  throttle(R"({"error": ")" + error + R"(", "throttle": {"UpdateItem": 3}})");
  const int64_t before = (*table)->stats().requests;
  const absl::Time t0 = clock.Now();
  Lease next = *created;
  next.owner = "after-throttling";
  auto wrote = (*table)->UpdateLease(scope, next);
  REQUIRE_OK(wrote);
  CHECK(wrote->version == 2);
  CHECK((*table)->stats().requests - before == 4);
  CHECK(clock.Now() - t0 <= absl::Milliseconds(700));  // 100 + 200 + 400 ms caps

  // Throttled past max_attempts: ProvisionedThroughputExceeded, nothing written.
  throttle(R"({"error": ")" + error + R"(", "throttle": {"UpdateItem": 10}})");
  next = *wrote;
  next.owner = "never";
  auto refused = (*table)->UpdateLease(scope, next);
  CHECK_ERROR(refused, ErrorType::kProvisionedThroughputExceeded);
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("gave up after 4 attempts"));
  throttle(R"({"throttle": {}})");
  auto got = (*table)->GetLease(scope, "shardId-000000000000");
  REQUIRE_OK(got);
  CHECK((*got)->owner == "after-throttling");
}

TEST_CASE("dynamodb lease table: the ordered consumer keeps per-key order across a split and a merge",
          "[remote][dynamodb][consumer]") {
  TableUnderTest t("dynamodb-dynalite");
  auto server = testing::StartTributaryServer();
  auto store = Store::OpenRemote(testing::LocalPeerOptions(server->url()));
  REQUIRE_OK(store);
  ConsumeAcrossReshards(**store, std::shared_ptr<LeaseTable>(std::move(t.table)));
}

}  // namespace
}  // namespace tributary
