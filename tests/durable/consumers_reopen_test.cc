// Consumers and the state-only settings survive a reopen of a durable store;
// catalog blobs written before they existed still decode (as "none").
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "durable/durable_util.h"
#include "stream/store_impl.h"
#include "stream/stream_impl.h"

namespace tributary::durable_test {
namespace {

TEST_CASE("consumers, their states and policies survive reopen", "[durable][consumers]") {
  Disk d;
  d.options.create_delay = absl::Seconds(1);
  d.options.update_delay = absl::ZeroDuration();
  d.options.delete_delay = absl::Seconds(2);
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  d.clock.Advance(absl::Seconds(1));
  auto a = d->RegisterStreamConsumer("s", "active-one", {{"team", "x"}});
  REQUIRE_OK(a);
  auto gone = d->RegisterStreamConsumer("s", "deleting-one");
  REQUIRE_OK(gone);
  d.clock.Advance(absl::Seconds(1));
  auto creating = d->RegisterStreamConsumer("s", "creating-one");
  REQUIRE_OK(creating);
  REQUIRE_OK(d->DeregisterStreamConsumer(ConsumerRef{std::nullopt, std::nullopt, gone->consumer_arn}));
  REQUIRE_OK(d->PutResourcePolicy(a->consumer_arn, "{\"consumer\":true}"));
  REQUIRE_OK(d->PutResourcePolicy(d->StreamArn("s"), "{\"stream\":true}"));
  REQUIRE_OK(d->StartStreamEncryption("s", EncryptionType::kKms, "alias/k"));
  REQUIRE_OK(d->EnableEnhancedMonitoring("s", {"IncomingBytes"}));

  d.Reopen();
  auto l = d->ListStreamConsumers({"s"});
  REQUIRE_OK(l);
  REQUIRE(l->consumers.size() == 3);
  CHECK(l->consumers[0].consumer_name == "active-one");
  CHECK(l->consumers[0].consumer_status == ConsumerStatus::kActive);
  CHECK(l->consumers[0].consumer_arn == a->consumer_arn);
  CHECK(l->consumers[0].consumer_creation_timestamp == a->consumer_creation_timestamp);
  CHECK(l->consumers[1].consumer_name == "creating-one");
  CHECK(l->consumers[1].consumer_status == ConsumerStatus::kCreating);
  CHECK(l->consumers[2].consumer_name == "deleting-one");
  CHECK(l->consumers[2].consumer_status == ConsumerStatus::kDeleting);
  auto p = d->GetResourcePolicy(a->consumer_arn);
  REQUIRE_OK(p);
  CHECK(*p == "{\"consumer\":true}");
  p = d->GetResourcePolicy(d->StreamArn("s"));
  REQUIRE_OK(p);
  CHECK(*p == "{\"stream\":true}");
  auto sum = d->DescribeStreamSummary("s");
  REQUIRE_OK(sum);
  CHECK(sum->consumer_count == 3);
  CHECK(sum->encryption_type == EncryptionType::kKms);
  CHECK(sum->key_id == "alias/k");
  CHECK(sum->shard_level_metrics == std::vector<std::string>{"IncomingBytes"});

  // The clock goes on after reopen: CREATING ends, DELETING ends.
  d.clock.Advance(absl::Seconds(2));
  l = d->ListStreamConsumers({"s"});
  REQUIRE_OK(l);
  REQUIRE(l->consumers.size() == 2);
  CHECK(l->consumers[1].consumer_status == ConsumerStatus::kActive);
  // Changes after reopen persist too.
  REQUIRE_OK(d->DeregisterStreamConsumer(ConsumerRef{std::string("s"), std::string("active-one"), std::nullopt}));
  d.clock.Advance(absl::Seconds(2));
  d.Reopen();
  l = d->ListStreamConsumers({"s"});
  REQUIRE_OK(l);
  REQUIRE(l->consumers.size() == 1);
  CHECK(l->consumers[0].consumer_name == "creating-one");
  // The deletion guard of DeleteStream holds after reopen.
  CHECK_ERROR(d->DeleteStream("s"), ErrorType::kResourceInUse);
}

TEST_CASE("a catalog blob without the consumer section decodes as no consumers",
          "[durable][consumers][format]") {
  StoreOptions o;
  stream::StoreImpl impl(o);
  // Tributary's 39-digit layout: what a blob of that time describes.
  CreateStreamOptions c{.shard_count = 2};
  c.sequence_format = SequenceFormat::kTributary;
  REQUIRE_OK(impl.CreateStream("s", c));
  absl::StatusOr<std::string> serialized = impl.WithStream(
      "s", impl.Now(), [](stream::StreamImpl& s) -> absl::StatusOr<std::string> { return s.Serialize(); });
  REQUIRE_OK(serialized);
  const std::string blob = *serialized;
  // The trailing section of a stream with no consumers and no settings:
  // u32 consumers, u8 encryption, str key id, u32 key changes, u32 metrics,
  // u8+str policy, u8+u32+u32 warm throughput, u8 sequence format
  // (docs/FORMAT.md).
  constexpr size_t kEmptyTrailer = 4 + 1 + 4 + 4 + 4 + 1 + 4 + 1 + 4 + 4 + 1;
  REQUIRE(blob.size() > kEmptyTrailer);
  std::string old = blob.substr(0, blob.size() - kEmptyTrailer);
  auto restored = stream::StreamImpl::Restore(&impl, "s", old);
  REQUIRE_OK(restored);
  auto sum = (*restored)->DescribeSummary(impl.Now());
  REQUIRE_OK(sum);
  CHECK(sum->consumer_count == 0);
  CHECK(sum->open_shard_count == 2);
  CHECK(sum->encryption_type == EncryptionType::kNone);
  // Both forms serialize the same once restored.
  CHECK((*restored)->Serialize() == blob);
  // A partial trailer is corruption.
  auto bad = stream::StreamImpl::Restore(&impl, "s", blob.substr(0, blob.size() - 3));
  CHECK_FALSE(bad.ok());
}

TEST_CASE("a catalog blob without the sequence-format byte decodes as Tributary's 39-digit layout",
          "[durable][sequence][format]") {
  StoreOptions o;
  stream::StoreImpl impl(o);
  REQUIRE_OK(impl.CreateStream("s", CreateStreamOptions{.shard_count = 1}));  // Kinesis' layout
  auto put = impl.Put("s", PutRecordInput{"k", "v"}, HashKey::FromPartitionKey("k"), std::nullopt, WriteOptions{});
  REQUIRE_OK(put);
  CHECK(put->sequence_number.ToString().size() == 56);
  absl::StatusOr<std::string> serialized = impl.WithStream(
      "s", impl.Now(), [](stream::StreamImpl& s) -> absl::StatusOr<std::string> { return s.Serialize(); });
  REQUIRE_OK(serialized);
  const std::string blob = *serialized;
  REQUIRE(blob.back() == static_cast<char>(SequenceFormat::kKinesis));
  // Written before the byte existed: Tributary's layout, the only one then.
  auto old = stream::StreamImpl::Restore(&impl, "s", blob.substr(0, blob.size() - 1));
  REQUIRE_OK(old);
  auto d = (*old)->Describe(10, std::nullopt, impl.Now());
  REQUIRE_OK(d);
  CHECK(d->shards[0].starting_sequence_number.ToString().size() == 39);
  // With it: Kinesis' layout again.
  auto now = stream::StreamImpl::Restore(&impl, "s", blob);
  REQUIRE_OK(now);
  d = (*now)->Describe(10, std::nullopt, impl.Now());
  REQUIRE_OK(d);
  CHECK(d->shards[0].starting_sequence_number.ToString().size() == 56);
  // An unknown layout is corruption.
  std::string unknown = blob;
  unknown.back() = 2;
  CHECK_FALSE(stream::StreamImpl::Restore(&impl, "s", unknown).ok());
}

}  // namespace
}  // namespace tributary::durable_test
