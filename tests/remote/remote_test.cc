// What is specific to the remote backend: capabilities, connection reuse,
// retries against a throttling tributary-server, transport failures and
// timeouts, error mapping, SigV4 against a server that checks signatures,
// credentials and region resolution. The behavioural suite over the remote
// backend is remote_store_tests (tests/stream, recompiled).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "consume_across_reshards.h"
#include "remote/credentials.h"
#include "remote/remote_backend.h"
#include "remote/retry.h"
#include "remote/signing.h"
#include "sigv4/sigv4.h"
#include "testing/remote_server.h"
#include "testing/scoped_env.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"

namespace tributary {
namespace {

using testing::LocalPeerOptions;
using testing::StartTributaryServer;

std::unique_ptr<remote::RemoteBackend> Backend(const RemoteOptions& o) {
  auto b = remote::RemoteBackend::Create(o);
  REQUIRE_OK(b);
  return std::move(b).value();
}

// A loopback TCP port nobody listens on (bound, then closed).
int ClosedPort() {
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

using testing::ScopedEnv;

std::string TempFile(const std::string& name, const std::string& text) {
  std::string path = std::string(TRIBUTARY_REMOTE_TEST_TMPDIR) + "/" + name;
  std::system(("mkdir -p " + std::string(TRIBUTARY_REMOTE_TEST_TMPDIR)).c_str());
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("a remote store says what it is and what it cannot do", "[remote]") {
  auto server = StartTributaryServer();
  ASSIGN_OR_REQUIRE(auto store, Store::OpenRemote(LocalPeerOptions(server->url())));
  CHECK(store->backend() == BackendKind::kRemote);
  CHECK(ToString(store->backend()) == "remote");
  StoreCapabilities c = store->capabilities();
  CHECK_FALSE(c.injectable_clock);
  CHECK_FALSE(c.configurable_transitions);
  CHECK_FALSE(c.configurable_limits);
  CHECK_FALSE(c.recovery_report);
  CHECK_FALSE(c.env);
  CHECK_FALSE(c.sync_control);
  CHECK_FALSE(c.in_process);
  auto rec = store->GetRecoveryReport();
  REQUIRE_FALSE(rec.ok());
  CHECK(rec.status().code() == absl::StatusCode::kUnimplemented);
  CHECK_THAT(std::string(rec.status().message()), Catch::Contains("no recovery report"));
  CHECK(store->recovery().segments == 0);
  CHECK(store->directory().empty());
  CHECK(store->StreamArn("s") == "arn:aws:kinesis:us-east-1:000000000000:stream/s");

  ASSIGN_OR_REQUIRE(auto local, Store::OpenInMemory());
  CHECK(local->backend() == BackendKind::kInMemory);
  CHECK(local->capabilities().injectable_clock);
  CHECK(local->capabilities().recovery_report);
  CHECK(local->capabilities().in_process);
  CHECK_FALSE(local->capabilities().sync_control);
  CHECK_OK(local->GetRecoveryReport());
}

TEST_CASE("the ordered consumer keeps per-key order across a remote split and merge", "[remote][consumer]") {
  auto server = StartTributaryServer();
  ASSIGN_OR_REQUIRE(auto store, Store::OpenRemote(LocalPeerOptions(server->url())));
  ConsumeAcrossReshards(*store);
}

TEST_CASE("OpenRemote checks its options", "[remote]") {
  RemoteOptions o = LocalPeerOptions("http://127.0.0.1:1");
  SECTION("retry policy") {
    o.retry.max_attempts = 0;
    CHECK_ERROR(Store::OpenRemote(o), ErrorType::kInvalidArgument);
  }
  SECTION("backoff bounds") {
    o.retry.max_backoff = absl::Milliseconds(1);
    o.retry.initial_backoff = absl::Milliseconds(2);
    CHECK_ERROR(Store::OpenRemote(o), ErrorType::kInvalidArgument);
  }
  SECTION("a URL that is not http(s)") {
    o.endpoint_url = "ftp://example";
    CHECK_ERROR(Store::OpenRemote(o), ErrorType::kInvalidArgument);
  }
  SECTION("credentials that are empty") {
    o.credentials = StaticCredentialsProvider({});
    auto s = Store::OpenRemote(o);
    CHECK_ERROR(s, ErrorType::kAccessDenied);
  }
}

TEST_CASE("remote calls reuse a few keep-alive connections", "[remote]") {
  auto server = StartTributaryServer();
  RemoteOptions o = LocalPeerOptions(server->url());
  o.max_idle_connections = 2;
  auto b = Backend(o);
  REQUIRE_OK(b->CreateStream("s", CreateStreamOptions{1}));
  for (int i = 0; i < 50; ++i) {
    REQUIRE_OK(b->Put("s", testing::Input("k", "v"), HashKey(), std::nullopt, WriteOptions()));
  }
  CHECK(b->http().connections_opened() == 1);  // one call at a time: one connection
  CHECK(b->attempts() == 51);
}

TEST_CASE("wire errors carry their Kinesis type and are not retried", "[remote][errors]") {
  auto server = StartTributaryServer();
  auto b = Backend(LocalPeerOptions(server->url()));
  CHECK_ERROR(b->DescribeStreamSummary("missing"), ErrorType::kResourceNotFound);
  CHECK(b->attempts() == 1);
  REQUIRE_OK(b->CreateStream("s", CreateStreamOptions{1}));
  absl::Status again = b->CreateStream("s", CreateStreamOptions{1});
  CHECK_ERROR(again, ErrorType::kResourceInUse);
  CHECK(again.code() == absl::StatusCode::kAlreadyExists);
  // Checked by the server, not by the Store: a split point outside the shard.
  CHECK_ERROR(b->SplitShard("s", "shardId-000000000000", "0"), ErrorType::kInvalidArgument);
  CHECK_ERROR(b->GetRecords("not-an-iterator", 10), ErrorType::kInvalidArgument);
  CHECK(b->attempts() == 5);
}

TEST_CASE("error answers map by __type, by header, and by HTTP status", "[remote][errors]") {
  remote::HttpResponse r;
  r.status = 400;
  r.body = R"({"__type":"com.amazonaws.kinesis.v20131202#ExpiredIteratorException","message":"old"})";
  absl::Status s = remote::ErrorFromResponse(r, "GetRecords");
  CHECK(GetErrorType(s) == ErrorType::kExpiredIterator);
  CHECK(s.code() == absl::StatusCode::kOutOfRange);
  CHECK(s.message() == "old");

  r.body = "";
  r.error_type = "LimitExceededException:http://internal.amazon.com/coral/com.amazon.coral.service/";
  CHECK(GetErrorType(remote::ErrorFromResponse(r, "ListShards")) == ErrorType::kLimitExceeded);

  r.error_type = "";
  r.body = R"({"__type":"UnrecognizedClientException","Message":"bad token"})";
  s = remote::ErrorFromResponse(r, "ListStreams");
  CHECK(GetErrorType(s) == ErrorType::kAccessDenied);
  CHECK(s.code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(s.message()), Catch::Contains("UnrecognizedClientException: bad token"));

  r.status = 503;
  r.body = "<html>busy</html>";
  s = remote::ErrorFromResponse(r, "PutRecord");
  CHECK(GetErrorType(s) == ErrorType::kInternalFailure);
  CHECK(s.code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("backoff caps grow exponentially up to the maximum and jitter stays below them", "[remote][retry]") {
  RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(10);
  p.max_backoff = absl::Milliseconds(100);
  p.multiplier = 2;
  p.jitter_seed = 42;
  remote::Backoff b(p);
  CHECK(b.Cap(1) == absl::Milliseconds(10));
  CHECK(b.Cap(2) == absl::Milliseconds(20));
  CHECK(b.Cap(4) == absl::Milliseconds(80));
  CHECK(b.Cap(5) == absl::Milliseconds(100));
  CHECK(b.Cap(30) == absl::Milliseconds(100));
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    absl::Duration d = b.Next(3);
    REQUIRE(d >= absl::ZeroDuration());
    REQUIRE(d <= absl::Milliseconds(40));
    seen.insert(absl::ToInt64Microseconds(d));
  }
  CHECK(seen.size() > 100);  // jittered, not a constant

  absl::Status throttled = ThroughputExceededError("slow down");
  CHECK(remote::IsRetryable(p, throttled, 400));
  CHECK(remote::IsRetryable(p, LimitExceededError("slow down"), 400));
  CHECK(remote::IsRetryable(p, InternalFailureError("oops"), 500));
  CHECK_FALSE(remote::IsRetryable(p, ResourceNotFoundError("no"), 400));
  CHECK(remote::IsRetryable(p, MakeError(absl::StatusCode::kUnavailable, ErrorType::kInternalFailure, "reset"), 0));
  p.retry_throttling = false;
  CHECK_FALSE(remote::IsRetryable(p, throttled, 400));
}

// --throughput-limits: 1 MiB/s of writes per shard, with one second of burst.
// Two records of ~1000 KiB back to back: the second is throttled until about
// a second of tokens came back. The server runs on a manual clock that never
// moves, so its bucket never refills: however slowly the test runs (TSan made
// it take 1.5 s once, and the section's write went through), every write after
// the first is throttled.
TEST_CASE("a throttled call is retried with backoff and gives up after max_attempts", "[remote][retry]") {
  auto server = StartTributaryServer({"--throughput-limits", "--manual-clock"});
  ManualClock clock;  // backoff waits advance it instead of sleeping
  RemoteOptions o = LocalPeerOptions(server->url());
  o.clock = &clock;
  o.retry.max_attempts = 4;
  o.retry.initial_backoff = absl::Milliseconds(100);
  o.retry.max_backoff = absl::Seconds(1);
  auto b = Backend(o);
  REQUIRE_OK(b->CreateStream("s", CreateStreamOptions{1}));
  const std::string big(size_t{1000} * 1024, 'x');
  REQUIRE_OK(b->Put("s", testing::Input("k", big), HashKey(), std::nullopt, WriteOptions()));
  const int64_t before = b->attempts();
  const absl::Time t0 = clock.Now();
  auto second = b->Put("s", testing::Input("k", big), HashKey(), std::nullopt, WriteOptions());
  CHECK_ERROR(second, ErrorType::kProvisionedThroughputExceeded);
  CHECK_THAT(std::string(second.status().message()), Catch::Contains("gave up after 4 attempts"));
  CHECK(b->attempts() - before == 4);
  // Three waits, each within its cap: 100 + 200 + 400 ms at most.
  CHECK(clock.Now() - t0 <= absl::Milliseconds(700));

  SECTION("without retries, one attempt") {
    o.retry.max_attempts = 1;
    auto once = Backend(o);
    auto r = once->Put("s", testing::Input("k", big), HashKey(), std::nullopt, WriteOptions());
    CHECK_ERROR(r, ErrorType::kProvisionedThroughputExceeded);
    CHECK(once->attempts() == 1);
  }
}

// The one test here that waits for real time: the server's token bucket
// refills on its own clock (about a second for the second record).
TEST_CASE("a throttled write succeeds once the server has capacity again", "[remote][retry]") {
  auto server = StartTributaryServer({"--throughput-limits"});
  RemoteOptions o = LocalPeerOptions(server->url());
  o.retry.max_attempts = 12;
  o.retry.initial_backoff = absl::Milliseconds(100);
  o.retry.max_backoff = absl::Milliseconds(400);
  auto b = Backend(o);
  REQUIRE_OK(b->CreateStream("s", CreateStreamOptions{1}));
  const std::string big(size_t{1000} * 1024, 'y');
  REQUIRE_OK(b->Put("s", testing::Input("k", big), HashKey(), std::nullopt, WriteOptions()));
  const int64_t before = b->attempts();
  REQUIRE_OK(b->Put("s", testing::Input("k", big), HashKey(), std::nullopt, WriteOptions()));
  CHECK(b->attempts() - before > 1);  // it was throttled at least once
}

TEST_CASE("a refused connection is retried, then reported as Unavailable", "[remote][retry]") {
  ManualClock clock;
  RemoteOptions o = LocalPeerOptions("http://127.0.0.1:" + std::to_string(ClosedPort()));
  o.clock = &clock;
  o.retry.max_attempts = 3;
  auto b = Backend(o);
  absl::Status s = b->DescribeStreamSummary("s").status();
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(GetErrorType(s) == ErrorType::kInternalFailure);
  CHECK(b->attempts() == 3);
  CHECK_THAT(std::string(s.message()), Catch::Contains("gave up after 3 attempts"));
}

TEST_CASE("a server that does not answer times out with DeadlineExceeded", "[remote][retry]") {
  // A listening socket nobody accepts from: the kernel completes the
  // connection, the request is sent, no answer ever comes.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(listen(fd, 8) == 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  RemoteOptions o = LocalPeerOptions("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  o.request_timeout = absl::Milliseconds(200);
  o.retry.max_attempts = 1;
  auto b = Backend(o);
  absl::Status s = b->ListStreams(ListStreamsRequest()).status();
  close(fd);
  CHECK(s.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(GetErrorType(s) == ErrorType::kInternalFailure);
}

TEST_CASE("requests are signed with SigV4: a server that checks signatures accepts them", "[remote][sigv4]") {
  auto server = StartTributaryServer({"--access-key", "AKIDREMOTETEST", "--secret-key", "remote-secret"});
  RemoteOptions o = LocalPeerOptions(server->url());
  o.credentials = StaticCredentialsProvider({"AKIDREMOTETEST", "remote-secret", ""});
  ASSIGN_OR_REQUIRE(auto store, Store::OpenRemote(o));
  REQUIRE_OK(store->CreateStream("s", 1));
  REQUIRE_OK(store->Put("s", testing::Input("k", std::string(3000, 'z'))));  // > 1 KiB: no Expect dance
  CHECK(testing::ReadShard(*store, "s", "shardId-000000000000").records.size() == 1);

  SECTION("a wrong secret is refused and not retried") {
    RemoteOptions bad = o;
    bad.credentials = StaticCredentialsProvider({"AKIDREMOTETEST", "not-the-secret", ""});
    auto b = Backend(bad);
    absl::Status s = b->DescribeStreamSummary("s").status();
    CHECK(GetErrorType(s) == ErrorType::kAccessDenied);
    CHECK(s.code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(s.message()), Catch::Contains("InvalidSignatureException"));
    CHECK(b->attempts() == 1);
  }
}

TEST_CASE("signed headers verify with lib/sigv4 and cover the body", "[remote][sigv4]") {
  const std::string body = R"({"StreamName":"s"})";
  remote::KinesisRequest req{"127.0.0.1:4567", "/", "DescribeStreamSummary", body};
  AwsCredentials creds{"AKIDEXAMPLE", "secret", "session-token"};
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  ASSIGN_OR_REQUIRE(std::vector<std::string> headers, remote::SignedKinesisHeaders(req, creds, "eu-west-1", now));
  std::vector<std::pair<std::string, std::string>> kv = {{"Host", "127.0.0.1:4567"}};
  for (const std::string& h : headers) {
    size_t colon = h.find(": ");
    kv.emplace_back(h.substr(0, colon), h.substr(colon + 2));
  }
  CHECK(kv[1].first == "Content-Type");
  auto verify = [&](std::string_view payload) {
    sigv4::Request r;
    r.method = "POST";
    r.path = "/";
    for (auto& [k, v] : kv) r.headers.emplace_back(k, v);
    r.payload = payload;
    sigv4::VerifyOptions vo;
    vo.service = "kinesis";
    auto lookup = [](std::string_view id) -> std::optional<sigv4::Credentials> {
      if (id != "AKIDEXAMPLE") return std::nullopt;
      return sigv4::Credentials{"AKIDEXAMPLE", "secret", "session-token"};
    };
    return sigv4::Verify(r, lookup, now, vo);
  };
  CHECK_OK(verify(body));
  CHECK_FALSE(verify(R"({"StreamName":"t"})").ok());
  bool has_token = false;
  for (auto& [k, v] : kv) has_token = has_token || (k == "X-Amz-Security-Token" && v == "session-token");
  CHECK(has_token);
}

TEST_CASE("credentials come from the environment, then the shared credentials file", "[remote][credentials]") {
  ScopedEnv env;
  env.Unset("AWS_ACCESS_KEY_ID");
  env.Unset("AWS_SECRET_ACCESS_KEY");
  env.Unset("AWS_SESSION_TOKEN");
  env.Unset("AWS_PROFILE");
  const std::string creds = TempFile("credentials",
                                     "# a comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
                                     "aws_secret_access_key = default-secret\n\n"
                                     "[other]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=other-secret\n"
                                     "aws_session_token=tok\n");
  const std::string config = TempFile("config",
                                      "[default]\nregion = eu-central-1\n[profile other]\nregion=ap-northeast-1\n"
                                      "[profile cfgonly]\naws_access_key_id=AKIDCFG\naws_secret_access_key=cfg-secret\n");
  env.Set("AWS_SHARED_CREDENTIALS_FILE", creds);
  env.Set("AWS_CONFIG_FILE", config);

  ASSIGN_OR_REQUIRE(AwsCredentials d, DefaultCredentialsProvider()->GetCredentials());
  CHECK(d.access_key_id == "AKIDDEFAULT");
  CHECK(d.secret_access_key == "default-secret");

  ASSIGN_OR_REQUIRE(AwsCredentials other, ProfileCredentialsProvider("other")->GetCredentials());
  CHECK(other.access_key_id == "AKIDOTHER");
  CHECK(other.session_token == "tok");
  ASSIGN_OR_REQUIRE(AwsCredentials cfg, ProfileCredentialsProvider("cfgonly")->GetCredentials());
  CHECK(cfg.access_key_id == "AKIDCFG");
  CHECK_ERROR(ProfileCredentialsProvider("nobody")->GetCredentials(), ErrorType::kAccessDenied);
  CHECK_ERROR(EnvironmentCredentialsProvider()->GetCredentials(), ErrorType::kAccessDenied);

  env.Set("AWS_PROFILE", "other");
  ASSIGN_OR_REQUIRE(AwsCredentials via_profile, DefaultCredentialsProvider()->GetCredentials());
  CHECK(via_profile.access_key_id == "AKIDOTHER");

  env.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  env.Set("AWS_SESSION_TOKEN", "env-token");
  ASSIGN_OR_REQUIRE(AwsCredentials e, DefaultCredentialsProvider()->GetCredentials());
  CHECK(e.access_key_id == "AKIDENV");
  CHECK(e.session_token == "env-token");
}

TEST_CASE("region and endpoint come from options, the environment or the config file", "[remote][credentials]") {
  ScopedEnv env;
  for (const char* v : {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                        "AWS_ENDPOINT_URL_KINESIS"}) {
    env.Unset(v);
  }
  env.Set("AWS_CONFIG_FILE", TempFile("config2", "[default]\nregion = eu-north-1\n[profile p]\nregion = sa-east-1\n"));
  RemoteOptions o;
  ASSIGN_OR_REQUIRE(ResolvedEndpoint r, ResolveEndpoint(o));
  CHECK(r.region == "eu-north-1");
  CHECK(r.url == "https://kinesis.eu-north-1.amazonaws.com");
  env.Set("AWS_PROFILE", "p");
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(o));
  CHECK(r.region == "sa-east-1");
  env.Set("AWS_DEFAULT_REGION", "us-west-1");
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(o));
  CHECK(r.region == "us-west-1");
  env.Set("AWS_REGION", "cn-north-1");
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(o));
  CHECK(r.url == "https://kinesis.cn-north-1.amazonaws.com.cn");
  env.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(o));
  CHECK(r.url == "http://127.0.0.1:9");
  env.Set("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:10");
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(o));
  CHECK(r.url == "http://127.0.0.1:10");
  o.endpoint_url = "http://localhost:4567";
  o.region = "ap-east-1";
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(o));
  CHECK(r.url == "http://localhost:4567");
  CHECK(r.region == "ap-east-1");

  env.Unset("AWS_REGION");
  env.Unset("AWS_DEFAULT_REGION");
  env.Unset("AWS_ENDPOINT_URL");
  env.Unset("AWS_ENDPOINT_URL_KINESIS");
  env.Set("AWS_CONFIG_FILE", "/nonexistent/config");
  CHECK_ERROR(ResolveEndpoint(RemoteOptions()), ErrorType::kInvalidArgument);
  RemoteOptions endpoint_only;
  endpoint_only.endpoint_url = "http://127.0.0.1:4567";
  ASSIGN_OR_REQUIRE(r, ResolveEndpoint(endpoint_only));
  CHECK(r.region == "us-east-1");
}

}  // namespace
}  // namespace tributary
