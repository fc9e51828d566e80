// Enhanced fan-out consumers (Register/Describe/List/DeregisterStreamConsumer)
// and the state-only settings (encryption, enhanced monitoring, resource
// policies, account settings, warm throughput).
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::StoreFixture;

StoreOptions Delays(absl::Duration create, absl::Duration update, absl::Duration del) {
  StoreOptions o;
  o.create_delay = create;
  o.update_delay = update;
  o.delete_delay = del;
  return o;
}

ConsumerRef ByName(const std::string& stream, const std::string& name) {
  ConsumerRef r;
  r.stream = stream;
  r.consumer_name = name;
  return r;
}

ConsumerRef ByArn(const std::string& arn) {
  ConsumerRef r;
  r.consumer_arn = arn;
  return r;
}

std::vector<std::string> Names(const std::vector<ConsumerDescription>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.consumer_name);
  return out;
}

TEST_CASE("a consumer is CREATING, then ACTIVE, with the Kinesis ARN", "[stream][consumers]") {
  StoreFixture f(Delays(absl::Milliseconds(500), absl::ZeroDuration(), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 1));
  f.clock.Advance(absl::Seconds(1));
  const absl::Time t0 = f.clock.Now();
  auto c = f->RegisterStreamConsumer(f->StreamArn("s"), "app-1");
  REQUIRE_OK(c);
  CHECK(c->consumer_name == "app-1");
  CHECK(c->consumer_arn == "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/app-1:" +
                               std::to_string(absl::ToUnixSeconds(t0)));
  CHECK(c->consumer_status == ConsumerStatus::kCreating);
  CHECK(c->consumer_creation_timestamp == t0);
  CHECK(c->stream_arn == f->StreamArn("s"));

  auto d = f->DescribeStreamConsumer(ByArn(c->consumer_arn));
  REQUIRE_OK(d);
  CHECK(d->consumer_status == ConsumerStatus::kCreating);
  f.clock.Advance(absl::Milliseconds(500));
  d = f->DescribeStreamConsumer(ByName("s", "app-1"));
  REQUIRE_OK(d);
  CHECK(d->consumer_status == ConsumerStatus::kActive);
  CHECK(d->consumer_arn == c->consumer_arn);
  // All three given, agreeing.
  ConsumerRef all = ByArn(c->consumer_arn);
  all.stream = f->StreamArn("s");
  all.consumer_name = "app-1";
  CHECK_OK(f->DescribeStreamConsumer(all));

  auto sum = f->DescribeStreamSummary("s");
  REQUIRE_OK(sum);
  CHECK(sum->consumer_count == 1);
}

TEST_CASE("consumer lookups and their errors", "[stream][consumers][errors]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->CreateStream("t", 1));
  auto c = f->RegisterStreamConsumer("s", "app");
  REQUIRE_OK(c);
  CHECK_ERROR(f->RegisterStreamConsumer("s", "app"), ErrorType::kResourceInUse);
  // Same name on another stream is fine.
  CHECK_OK(f->RegisterStreamConsumer("t", "app"));
  CHECK_ERROR(f->RegisterStreamConsumer("nope", "app"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->RegisterStreamConsumer("s", ""), ErrorType::kValidation);
  CHECK_ERROR(f->RegisterStreamConsumer("s", "bad name"), ErrorType::kValidation);
  CHECK_ERROR(f->RegisterStreamConsumer("s", std::string(129, 'a')), ErrorType::kValidation);
  CHECK_OK(f->RegisterStreamConsumer("s", std::string(128, 'a')));

  CHECK_ERROR(f->DescribeStreamConsumer(ByName("s", "other")), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->DescribeStreamConsumer(ConsumerRef{}), ErrorType::kInvalidArgument);
  ConsumerRef name_only;
  name_only.consumer_name = "app";
  CHECK_ERROR(f->DescribeStreamConsumer(name_only), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->DescribeStreamConsumer(ByArn("arn:aws:kinesis:us-east-1:000000000000:stream/s")),
              ErrorType::kValidation);
  CHECK_ERROR(f->DescribeStreamConsumer(ByArn(f->StreamArn("s") + "/consumer/app:notanumber")),
              ErrorType::kValidation);
  // Right name, wrong creation second: another (earlier) consumer of that name.
  CHECK_ERROR(f->DescribeStreamConsumer(ByArn(f->StreamArn("s") + "/consumer/app:12")),
              ErrorType::kResourceNotFound);
  // Another account's ARN.
  CHECK_ERROR(f->DescribeStreamConsumer(
                  ByArn("arn:aws:kinesis:us-east-1:111111111111:stream/s/consumer/app:1")),
              ErrorType::kResourceNotFound);
  // Conflicting parts.
  ConsumerRef conflict = ByArn(c->consumer_arn);
  conflict.consumer_name = "other";
  CHECK_ERROR(f->DescribeStreamConsumer(conflict), ErrorType::kInvalidArgument);
  conflict = ByArn(c->consumer_arn);
  conflict.stream = "t";
  CHECK_ERROR(f->DescribeStreamConsumer(conflict), ErrorType::kInvalidArgument);
}

TEST_CASE("at most 20 consumers per stream and 5 CREATING per account", "[stream][consumers][limits]") {
  SECTION("per stream") {
    StoreFixture f;
    REQUIRE_OK(f->CreateStream("s", 1));
    for (int i = 0; i < limits::kMaxConsumersPerStream; ++i) {
      REQUIRE_OK(f->RegisterStreamConsumer("s", "c" + std::to_string(i)));
    }
    CHECK_ERROR(f->RegisterStreamConsumer("s", "one-more"), ErrorType::kLimitExceeded);
    auto sum = f->DescribeStreamSummary("s");
    REQUIRE_OK(sum);
    CHECK(sum->consumer_count == 20);
    REQUIRE_OK(f->DeregisterStreamConsumer(ByName("s", "c0")));
    CHECK_OK(f->RegisterStreamConsumer("s", "one-more"));
  }
  SECTION("CREATING at once, across streams") {
    StoreFixture f(Delays(absl::Seconds(5), absl::ZeroDuration(), absl::ZeroDuration()));
    REQUIRE_OK(f->CreateStream("s", 1));
    REQUIRE_OK(f->CreateStream("t", 1));
    f.clock.Advance(absl::Seconds(5));
    for (int i = 0; i < 3; ++i) REQUIRE_OK(f->RegisterStreamConsumer("s", "c" + std::to_string(i)));
    for (int i = 0; i < 2; ++i) REQUIRE_OK(f->RegisterStreamConsumer("t", "c" + std::to_string(i)));
    CHECK_ERROR(f->RegisterStreamConsumer("t", "sixth"), ErrorType::kLimitExceeded);
    f.clock.Advance(absl::Seconds(5));
    CHECK_OK(f->RegisterStreamConsumer("t", "sixth"));
  }
}

TEST_CASE("a stream that is CREATING or DELETING takes no consumer", "[stream][consumers][status]") {
  StoreFixture f(Delays(absl::Seconds(1), absl::ZeroDuration(), absl::Seconds(1)));
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->RegisterStreamConsumer("s", "app"), ErrorType::kResourceInUse);
  f.clock.Advance(absl::Seconds(1));
  REQUIRE_OK(f->RegisterStreamConsumer("s", "app"));
  // Kinesis: DeleteStream without EnforceConsumerDeletion keeps a stream that has consumers.
  CHECK_ERROR(f->DeleteStream("s"), ErrorType::kResourceInUse);
  CHECK_ERROR(f->DeleteStream("s", false), ErrorType::kResourceInUse);
  REQUIRE_OK(f->DeleteStream("s", true));
  auto d = f->DescribeStreamConsumer(ByName("s", "app"));
  REQUIRE_OK(d);
  CHECK(d->consumer_status == ConsumerStatus::kDeleting);
  CHECK_ERROR(f->RegisterStreamConsumer("s", "other"), ErrorType::kResourceNotFound);
  f.clock.Advance(absl::Seconds(1));
  CHECK_ERROR(f->DescribeStreamConsumer(ByName("s", "app")), ErrorType::kResourceNotFound);
  // A new stream of the same name starts without consumers.
  REQUIRE_OK(f->CreateStream("s", 1));
  f.clock.Advance(absl::Seconds(1));
  auto l = f->ListStreamConsumers({"s"});
  REQUIRE_OK(l);
  CHECK(l->consumers.empty());
}

TEST_CASE("deregistering: DELETING, then gone, and the name can be reused with a new ARN",
          "[stream][consumers]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::ZeroDuration(), absl::Seconds(2)));
  REQUIRE_OK(f->CreateStream("s", 1));
  auto c = f->RegisterStreamConsumer("s", "app");
  REQUIRE_OK(c);
  CHECK(c->consumer_status == ConsumerStatus::kActive);
  REQUIRE_OK(f->DeregisterStreamConsumer(ByArn(c->consumer_arn)));
  auto d = f->DescribeStreamConsumer(ByArn(c->consumer_arn));
  REQUIRE_OK(d);
  CHECK(d->consumer_status == ConsumerStatus::kDeleting);
  CHECK_ERROR(f->DeregisterStreamConsumer(ByArn(c->consumer_arn)), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->RegisterStreamConsumer("s", "app"), ErrorType::kResourceInUse);
  auto sum = f->DescribeStreamSummary("s");
  REQUIRE_OK(sum);
  CHECK(sum->consumer_count == 1);
  f.clock.Advance(absl::Seconds(2));
  CHECK_ERROR(f->DescribeStreamConsumer(ByArn(c->consumer_arn)), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->DeregisterStreamConsumer(ByName("s", "app")), ErrorType::kResourceNotFound);
  sum = f->DescribeStreamSummary("s");
  REQUIRE_OK(sum);
  CHECK(sum->consumer_count == 0);
  f.clock.Advance(absl::Seconds(3));
  auto again = f->RegisterStreamConsumer("s", "app");
  REQUIRE_OK(again);
  CHECK(again->consumer_arn != c->consumer_arn);
  // The old ARN does not name the new consumer.
  CHECK_ERROR(f->DescribeStreamConsumer(ByArn(c->consumer_arn)), ErrorType::kResourceNotFound);
  CHECK_OK(f->DescribeStreamConsumer(ByArn(again->consumer_arn)));
}

TEST_CASE("ListStreamConsumers pages with MaxResults and an expiring NextToken",
          "[stream][consumers][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->CreateStream("t", 1));
  for (std::string n : {"e", "a", "d", "b", "c"}) REQUIRE_OK(f->RegisterStreamConsumer("s", n));
  ListStreamConsumersRequest req;
  req.stream = f->StreamArn("s");
  auto all = f->ListStreamConsumers(req);
  REQUIRE_OK(all);
  CHECK(Names(all->consumers) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK_FALSE(all->next_token.has_value());

  req.max_results = 2;
  auto p1 = f->ListStreamConsumers(req);
  REQUIRE_OK(p1);
  CHECK(Names(p1->consumers) == std::vector<std::string>{"a", "b"});
  REQUIRE(p1->next_token.has_value());
  ListStreamConsumersRequest next;
  next.stream = "s";
  next.next_token = p1->next_token;
  auto p2 = f->ListStreamConsumers(next);  // keeps MaxResults 2 from the token
  REQUIRE_OK(p2);
  CHECK(Names(p2->consumers) == std::vector<std::string>{"c", "d"});
  next.next_token = p2->next_token;
  next.max_results = 10;
  auto p3 = f->ListStreamConsumers(next);
  REQUIRE_OK(p3);
  CHECK(Names(p3->consumers) == std::vector<std::string>{"e"});
  CHECK_FALSE(p3->next_token.has_value());

  // Errors.
  req.max_results = 0;
  CHECK_ERROR(f->ListStreamConsumers(req), ErrorType::kValidation);
  req.max_results = 10001;
  CHECK_ERROR(f->ListStreamConsumers(req), ErrorType::kValidation);
  next.max_results.reset();
  next.next_token = "garbage";
  CHECK_ERROR(f->ListStreamConsumers(next), ErrorType::kInvalidArgument);
  next.next_token = p1->next_token;
  next.stream = "t";
  CHECK_ERROR(f->ListStreamConsumers(next), ErrorType::kInvalidArgument);
  next.stream = "s";
  next.stream_creation_timestamp = f.clock.Now();
  CHECK_ERROR(f->ListStreamConsumers(next), ErrorType::kInvalidArgument);
  next.stream_creation_timestamp.reset();
  f.clock.Advance(absl::Seconds(301));
  CHECK_ERROR(f->ListStreamConsumers(next), ErrorType::kExpiredNextToken);
  ListStreamConsumersRequest ts;
  ts.stream = "s";
  ts.stream_creation_timestamp = f.clock.Now();
  CHECK_ERROR(f->ListStreamConsumers(ts), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->ListStreamConsumers({"nope"}), ErrorType::kResourceNotFound);
}

TEST_CASE("stream encryption is stored and reported", "[stream][encryption]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Seconds(1), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 1));
  auto d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->encryption_type == EncryptionType::kNone);
  CHECK_FALSE(d->key_id.has_value());

  CHECK_ERROR(f->StartStreamEncryption("s", EncryptionType::kNone, "k"), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->StartStreamEncryption("s", EncryptionType::kKms, ""), ErrorType::kValidation);
  CHECK_ERROR(f->StartStreamEncryption("nope", EncryptionType::kKms, "k"), ErrorType::kResourceNotFound);
  REQUIRE_OK(f->StartStreamEncryption("s", EncryptionType::kKms, "alias/aws/kinesis"));
  CHECK(testing::StatusOf(*f, "s") == StreamStatus::kUpdating);
  CHECK_ERROR(f->StartStreamEncryption("s", EncryptionType::kKms, "other"), ErrorType::kResourceInUse);
  f.clock.Advance(absl::Seconds(1));
  d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->stream_status == StreamStatus::kActive);
  CHECK(d->encryption_type == EncryptionType::kKms);
  CHECK(d->key_id == "alias/aws/kinesis");
  auto full = f->DescribeStream({"s"});
  REQUIRE_OK(full);
  CHECK(full->encryption_type == EncryptionType::kKms);
  CHECK(full->key_id == "alias/aws/kinesis");

  REQUIRE_OK(f->StopStreamEncryption("s", EncryptionType::kKms, "alias/aws/kinesis"));
  f.clock.Advance(absl::Seconds(1));
  d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->encryption_type == EncryptionType::kNone);
  CHECK_FALSE(d->key_id.has_value());
}

TEST_CASE("at most 25 new encryption keys per rolling 24 hours", "[stream][encryption][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  for (int i = 0; i < limits::kMaxEncryptionKeyChangesPer24h; ++i) {
    REQUIRE_OK(f->StartStreamEncryption("s", EncryptionType::kKms, "key-" + std::to_string(i)));
  }
  // The same key again is not a new key.
  CHECK_OK(f->StartStreamEncryption("s", EncryptionType::kKms, "key-24"));
  CHECK_ERROR(f->StartStreamEncryption("s", EncryptionType::kKms, "key-x"), ErrorType::kLimitExceeded);
  f.clock.Advance(absl::Hours(24));
  CHECK_OK(f->StartStreamEncryption("s", EncryptionType::kKms, "key-x"));
}

TEST_CASE("enhanced monitoring: current and desired shard-level metrics", "[stream][monitoring]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  auto r = f->EnableEnhancedMonitoring("s", {"IncomingBytes", "OutgoingRecords"});
  REQUIRE_OK(r);
  CHECK(r->stream_name == "s");
  CHECK(r->current_shard_level_metrics.empty());
  CHECK(r->desired_shard_level_metrics == std::vector<std::string>{"IncomingBytes", "OutgoingRecords"});
  r = f->DisableEnhancedMonitoring("s", {"IncomingBytes"});
  REQUIRE_OK(r);
  CHECK(r->current_shard_level_metrics == std::vector<std::string>{"IncomingBytes", "OutgoingRecords"});
  CHECK(r->desired_shard_level_metrics == std::vector<std::string>{"OutgoingRecords"});
  r = f->EnableEnhancedMonitoring("s", {"ALL"});
  REQUIRE_OK(r);
  CHECK(r->desired_shard_level_metrics.size() == 7);
  auto d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->shard_level_metrics.size() == 7);
  r = f->DisableEnhancedMonitoring("s", {"ALL"});
  REQUIRE_OK(r);
  CHECK(r->desired_shard_level_metrics.empty());
  CHECK_ERROR(f->EnableEnhancedMonitoring("s", {}), ErrorType::kValidation);
  CHECK_ERROR(f->EnableEnhancedMonitoring("s", {"Bogus"}), ErrorType::kValidation);
  CHECK_ERROR(f->EnableEnhancedMonitoring("nope", {"ALL"}), ErrorType::kResourceNotFound);
}

TEST_CASE("resource policies of streams and consumers", "[stream][policy]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  const std::string arn = f->StreamArn("s");
  const std::string policy = R"({"Version":"2012-10-17","Statement":[]})";
  auto p = f->GetResourcePolicy(arn);
  REQUIRE_OK(p);
  CHECK(*p == "{}");
  CHECK_ERROR(f->DeleteResourcePolicy(arn), ErrorType::kResourceNotFound);
  REQUIRE_OK(f->PutResourcePolicy(arn, policy));
  p = f->GetResourcePolicy(arn);
  REQUIRE_OK(p);
  CHECK(*p == policy);
  auto c = f->RegisterStreamConsumer("s", "app");
  REQUIRE_OK(c);
  REQUIRE_OK(f->PutResourcePolicy(c->consumer_arn, "{\"c\":1}"));
  p = f->GetResourcePolicy(c->consumer_arn);
  REQUIRE_OK(p);
  CHECK(*p == "{\"c\":1}");
  REQUIRE_OK(f->DeleteResourcePolicy(arn));
  p = f->GetResourcePolicy(arn);
  REQUIRE_OK(p);
  CHECK(*p == "{}");
  REQUIRE_OK(f->DeleteResourcePolicy(c->consumer_arn));
  CHECK_ERROR(f->DeleteResourcePolicy(c->consumer_arn), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->PutResourcePolicy(arn, ""), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->PutResourcePolicy(arn, std::string(limits::kMaxResourcePolicyBytes + 1, ' ')),
              ErrorType::kInvalidArgument);
  CHECK_ERROR(f->PutResourcePolicy("s", policy), ErrorType::kValidation);
  CHECK_ERROR(f->PutResourcePolicy(f->StreamArn("nope"), policy), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->PutResourcePolicy(arn + "/consumer/nope:1", policy), ErrorType::kResourceNotFound);
}

TEST_CASE("account settings and warm throughput", "[stream][account][warm]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Seconds(1), absl::ZeroDuration()));
  auto a = f->DescribeAccountSettings();
  REQUIRE_OK(a);
  CHECK(a->minimum_throughput_billing_commitment == CommitmentStatus::kDisabled);
  CreateStreamOptions od;
  od.mode = StreamMode::kOnDemand;
  REQUIRE_OK(f->CreateStream("od", od));
  REQUIRE_OK(f->CreateStream("prov", 1));
  CHECK_ERROR(f->UpdateStreamWarmThroughput("od", 100), ErrorType::kInvalidArgument);

  const absl::Time t0 = f.clock.Now();
  a = f->UpdateAccountSettings(true);
  REQUIRE_OK(a);
  CHECK(a->minimum_throughput_billing_commitment == CommitmentStatus::kEnabled);
  CHECK(a->started_at == t0);
  CHECK(a->earliest_allowed_end_at == t0 + limits::kMinimumCommitmentPeriod);

  CHECK_ERROR(f->UpdateStreamWarmThroughput("prov", 100), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->UpdateStreamWarmThroughput("od", -1), ErrorType::kValidation);
  CHECK_ERROR(f->UpdateStreamWarmThroughput("od", limits::kMaxWarmThroughputMiBps + 1),
              ErrorType::kLimitExceeded);
  auto w = f->UpdateStreamWarmThroughput("od", 100);
  REQUIRE_OK(w);
  CHECK(w->warm_throughput.target_mibps == 100);
  CHECK(w->warm_throughput.current_mibps == 0);
  auto d = f->DescribeStreamSummary("od");
  REQUIRE_OK(d);
  CHECK(d->stream_status == StreamStatus::kUpdating);
  REQUIRE(d->warm_throughput.has_value());
  CHECK(d->warm_throughput->current_mibps == 0);
  f.clock.Advance(absl::Seconds(1));
  d = f->DescribeStreamSummary("od");
  REQUIRE_OK(d);
  CHECK(d->stream_status == StreamStatus::kActive);
  CHECK(d->warm_throughput->target_mibps == 100);
  CHECK(d->warm_throughput->current_mibps == 100);

  // Disabling before the earliest allowed end keeps it until then.
  a = f->UpdateAccountSettings(false);
  REQUIRE_OK(a);
  CHECK(a->minimum_throughput_billing_commitment == CommitmentStatus::kEnabledUntilEarliestAllowedEnd);
  CHECK(a->ended_at == t0 + limits::kMinimumCommitmentPeriod);
  f.clock.Set(t0 + limits::kMinimumCommitmentPeriod);
  a = f->DescribeAccountSettings();
  REQUIRE_OK(a);
  CHECK(a->minimum_throughput_billing_commitment == CommitmentStatus::kDisabled);
  CHECK_ERROR(f->UpdateStreamWarmThroughput("od", 200), ErrorType::kInvalidArgument);
}

TEST_CASE("consumer ARNs carry their own tags (TagResource and friends)", "[stream][consumers][tags]") {
  auto store = *Store::OpenInMemory();
  REQUIRE_OK(store->CreateStream("s", 1));
  const std::string stream_arn = store->StreamArn("s");
  absl::StatusOr<ConsumerDescription> c = store->RegisterStreamConsumer(stream_arn, "app", {{"team", "data"}});
  REQUIRE_OK(c.status());
  REQUIRE_OK(store->TagResource(c->consumer_arn, {{"owner", "me"}, {"env", "test"}}));
  REQUIRE_OK(store->UntagResource(c->consumer_arn, {"env"}));
  auto tags = store->ListTagsForResource(c->consumer_arn);
  REQUIRE_OK(tags.status());
  CHECK(*tags == std::vector<std::pair<std::string, std::string>>{{"owner", "me"}, {"team", "data"}});
  // The stream's tags are separate, and reachable through the resource form too.
  REQUIRE_OK(store->TagResource(stream_arn, {{"stream-tag", "1"}}));
  CHECK(store->ListTagsForResource(stream_arn)->size() == 1);
  CHECK(store->ListTagsForStream("s")->tags.size() == 1);
  CHECK(store->ListTagsForResource(c->consumer_arn)->size() == 2);
  // Limits as for streams: at most 50 tags on a resource; a rejected call changes nothing.
  std::map<std::string, std::string> many;
  for (int i = 0; i < 49; ++i) many["k" + std::to_string(i)] = "v";
  CHECK(GetErrorType(store->TagResource(c->consumer_arn, many)) == ErrorType::kInvalidArgument);
  CHECK(store->ListTagsForResource(c->consumer_arn)->size() == 2);
  CHECK(GetErrorType(store->TagResource(c->consumer_arn, {})) == ErrorType::kValidation);
  // A consumer that does not exist, and one that was deregistered.
  CHECK(GetErrorType(store->TagResource(stream_arn + "/consumer/nope:1700000000", {{"a", "b"}})) ==
        ErrorType::kResourceNotFound);
  REQUIRE_OK(store->DeregisterStreamConsumer(ByArn(c->consumer_arn)));
  CHECK(GetErrorType(store->ListTagsForResource(c->consumer_arn).status()) == ErrorType::kResourceNotFound);
  // Registered again under the same name: a new consumer, without the old tags.
  auto again = store->RegisterStreamConsumer(stream_arn, "app");
  REQUIRE_OK(again.status());
  CHECK(store->ListTagsForResource(again->consumer_arn)->empty());
}

}  // namespace
}  // namespace tributary
