// Store::SubscribeToShard over a remote store: the remote backend's HTTP/2
// event stream (lib/remote/subscription.cc, libcurl) against
// tributary-server over h2c (http://) and h2 (https://, ALPN, the server's
// --tls-self-signed CA trusted through RemoteOptions::ca_file).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "testing/remote_server.h"
#include "testing/status_matchers.h"

namespace tributary {
namespace {

using testing::LocalPeerOptions;
using testing::StartTributaryServer;

// A loopback port that was free a moment ago (the https listener's port
// must be known before the server starts: it prints only the http one first).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A stream "s" with one shard and an ACTIVE consumer; returns its ARN.
std::string StreamWithConsumer(Store& store) {
  REQUIRE_OK(store.CreateStream("s", 1));
  REQUIRE_OK(store.WaitUntilActive("s", absl::Seconds(10)));
  ASSIGN_OR_REQUIRE(ConsumerDescription c, store.RegisterStreamConsumer("s", "c"));
  for (int i = 0; i < 500; ++i) {
    ConsumerRef ref;
    ref.consumer_arn = c.consumer_arn;
    ASSIGN_OR_REQUIRE(ConsumerDescription d, store.DescribeStreamConsumer(ref));
    if (d.consumer_status == ConsumerStatus::kActive) break;
    usleep(10000);
  }
  return c.consumer_arn;
}

// Next events until one has records (the first may be empty).
std::vector<Record> NextRecords(ShardSubscription& sub) {
  for (int i = 0; i < 50; ++i) {
    ASSIGN_OR_REQUIRE(std::optional<SubscribeToShardEvent> ev, sub.Next(absl::Seconds(2)));
    REQUIRE(ev.has_value());
    if (!ev->records.empty()) return ev->records;
  }
  FAIL("no records within 50 events");
  return {};
}

void SubscribeScenario(Store& store) {
  CHECK(store.capabilities().subscribe_to_shard);
  const std::string consumer = StreamWithConsumer(store);
  ASSIGN_OR_REQUIRE(PutRecordResult first, store.Put("s", {.partition_key = "a", .data = "before"}));
  StartingPosition from;
  from.type = ShardIteratorType::kTrimHorizon;
  ASSIGN_OR_REQUIRE(auto sub, store.SubscribeToShard(consumer, "shardId-000000000000", from));
  std::vector<Record> got = NextRecords(*sub);
  REQUIRE(got.size() == 1);
  CHECK(got[0].data == "before");
  CHECK(got[0].partition_key == "a");
  CHECK(got[0].sequence_number == first.sequence_number);

  // A record put while the subscription waits is pushed.
  ASSIGN_OR_REQUIRE(PutRecordResult live, store.Put("s", {.partition_key = "b", .data = "live"}));
  got = NextRecords(*sub);
  REQUIRE(got.size() == 1);
  CHECK(got[0].data == "live");
  CHECK(got[0].sequence_number == live.sequence_number);

  // Nothing new: heartbeats carry the continuation.
  ASSIGN_OR_REQUIRE(std::optional<SubscribeToShardEvent> idle, sub->Next(absl::Milliseconds(200)));
  REQUIRE(idle.has_value());
  CHECK(idle->records.empty());
  CHECK(idle->continuation_sequence_number == live.sequence_number.ToString());

  // One subscription per consumer and shard: the server's rule, its error.
  auto second = store.SubscribeToShard(consumer, "shardId-000000000000", from);
  REQUIRE_FALSE(second.ok());
  CHECK(GetErrorType(second.status()) == ErrorType::kResourceInUse);

  // Cancel ends it.
  sub->Cancel();
  ASSIGN_OR_REQUIRE(std::optional<SubscribeToShardEvent> after, sub->Next(absl::Seconds(1)));
  CHECK_FALSE(after.has_value());

  // An unknown consumer is the server's ResourceNotFoundException.
  auto missing = store.SubscribeToShard(consumer + "x", "shardId-000000000000", from);
  REQUIRE_FALSE(missing.ok());
  CHECK(GetErrorType(missing.status()) != ErrorType::kNone);
}

TEST_CASE("a remote store subscribes over HTTP/2 with prior knowledge (h2c)", "[remote][subscribe]") {
  auto server = StartTributaryServer();
  ASSIGN_OR_REQUIRE(auto store, Store::OpenRemote(LocalPeerOptions(server->url())));
  SubscribeScenario(*store);
}

TEST_CASE("a remote store subscribes over https (ALPN h2) trusting the server's CA", "[remote][subscribe]") {
  const std::string dir = std::string(TRIBUTARY_REMOTE_TEST_TMPDIR) + "/tls-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  const int port = FreePort();
  auto server = StartTributaryServer({"--tls-port", std::to_string(port), "--tls-self-signed", "--tls-dir", dir});
  RemoteOptions o = LocalPeerOptions("https://localhost:" + std::to_string(port));
  o.ca_file = dir + "/ca.pem";
  ASSIGN_OR_REQUIRE(auto store, Store::OpenRemote(o));
  SubscribeScenario(*store);

  // Without the CA the certificate is refused.
  RemoteOptions strict = LocalPeerOptions("https://localhost:" + std::to_string(port));
  strict.ca_file = dir + "/server-key.pem";  // no certificate in it
  ASSIGN_OR_REQUIRE(auto untrusted, Store::OpenRemote(strict));
  CHECK_FALSE(untrusted->ListStreams({}).ok());
  server->Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tributary
