// The credential chain (tributary/remote.h), every provider against a
// server on loopback: moto's server for STS (AssumeRole,
// AssumeRoleWithWebIdentity), peers/aws_metadata_server.py for the instance
// metadata service (IMDSv2), the container endpoint and SSO's
// GetRoleCredentials, shell scripts for credential_process. Expiry and
// refresh run on a ManualClock; the only waits are for a background refresh
// to reach the server, bounded by a generous deadline.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "remote/credential_cache.h"
#include "remote/http_client.h"
#include "testing/remote_server.h"
#include "testing/scoped_env.h"
#include "testing/scratch_dir.h"
#include "testing/status_matchers.h"
#include "tributary/remote.h"

namespace tributary {
namespace {

using testing::ScopedEnv;

// Every variable any provider reads: each test starts from none of them,
// with the shared files pointing nowhere and IMDS off unless it says so.
void ClearAwsEnvironment(ScopedEnv& env, const std::string& home) {
  for (const char* v :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_V1_DISABLED", "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_REGION", "AWS_DEFAULT_REGION"}) {
    env.Unset(v);
  }
  env.Set("HOME", home);
  env.Set("AWS_SHARED_CREDENTIALS_FILE", home + "/credentials-none");
  env.Set("AWS_CONFIG_FILE", home + "/config-none");
  env.Set("AWS_EC2_METADATA_DISABLED", "true");
}

void Write(const std::string& path, const std::string& text, bool executable = false) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
  if (executable) chmod(path.c_str(), 0755);
}

// The metadata peer, with its control endpoint.
struct MetadataPeer {
  MetadataPeer()
      : child({TRIBUTARY_SYSTEM_PYTHON3, TRIBUTARY_AWS_PEERS_PY}),
        http(*remote::HttpClient::Create(remote::HttpOptions{child.url()})) {}
  void Control(const std::string& json) {
    auto r = http->Request("POST", "/control", {"Content-Type: application/json"}, json);
    REQUIRE_OK(r);
    REQUIRE(r->status == 200);
  }
  int64_t Count(const char* what) {
    auto r = http->Request("GET", "/control/counts", {}, "");
    REQUIRE_OK(r);
    simdjson::dom::parser p;
    int64_t n = 0;
    if (p.parse(r->body)[what].get_int64().get(n) != simdjson::SUCCESS) return 0;
    return n;
  }
  // Waits (generous deadline) until the server saw `n` requests of `what`.
  bool WaitForCount(const char* what, int64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (Count(what) >= n) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }
  testing::ListeningChild child;
  std::unique_ptr<remote::HttpClient> http;
};

struct Fixture {
  Fixture() : scratch(TRIBUTARY_REMOTE_TEST_TMPDIR) { ClearAwsEnvironment(env, scratch.path); }
  testing::ScratchDir scratch;
  ScopedEnv env;
};

// A ManualClock at the real time: the servers' expirations are wall-clock.
CredentialsProviderOptions ManualOptions(ManualClock* clock) {
  CredentialsProviderOptions o;
  o.clock = clock;
  o.metadata_timeout = absl::Seconds(5);
  return o;
}

TEST_CASE("credentials: instance metadata with IMDSv2 tokens, cached until shortly before expiry",
          "[remote][credentials][imds]") {
  Fixture f;
  MetadataPeer peer;
  f.env.Unset("AWS_EC2_METADATA_DISABLED");
  f.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", peer.child.url() + "/");
  ManualClock clock(absl::Now());
  auto imds = InstanceMetadataCredentialsProvider(ManualOptions(&clock));
  ASSIGN_OR_REQUIRE(AwsCredentials a, imds->GetCredentials());
  CHECK(a.access_key_id.rfind("ASIAIMDS", 0) == 0);
  CHECK(a.session_token.rfind("token-", 0) == 0);
  CHECK(a.expiration > clock.Now() + absl::Minutes(50));
  CHECK_THAT(imds->Describe(), Catch::Contains("role tributary-role"));
  CHECK(peer.Count("imds-token") == 1);
  CHECK(peer.Count("imds-credentials") == 1);

  // Cached: no request at all until refresh_ahead (5 min) before expiry.
  clock.Advance(absl::Minutes(50));
  for (int i = 0; i < 100; ++i) {
    ASSIGN_OR_REQUIRE(AwsCredentials again, imds->GetCredentials());
    CHECK(again.access_key_id == a.access_key_id);
  }
  CHECK(peer.Count("imds-credentials") == 1);

  // Within 5 minutes of expiry: the cached set at once, a refresh behind it.
  clock.Set(a.expiration - absl::Minutes(4));
  ASSIGN_OR_REQUIRE(AwsCredentials during, imds->GetCredentials());
  CHECK(during.access_key_id == a.access_key_id);
  REQUIRE(peer.WaitForCount("imds-credentials", 2));
  absl::StatusOr<AwsCredentials> next;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    next = imds->GetCredentials();
  } while (next.ok() && next->access_key_id == a.access_key_id && absl::Now() < deadline);
  REQUIRE_OK(next);
  CHECK(next->access_key_id != a.access_key_id);

  SECTION("a failed refresh keeps serving the set until it expires, then says why") {
    peer.Control(R"({"fail_credentials": true})");
    clock.Set(next->expiration - absl::Seconds(30));  // stale: callers wait for the fetch
    ASSIGN_OR_REQUIRE(AwsCredentials kept, imds->GetCredentials());
    CHECK(kept.access_key_id == next->access_key_id);
    clock.Set(next->expiration + absl::Seconds(1));
    auto gone = imds->GetCredentials();
    CHECK_ERROR(gone, ErrorType::kAccessDenied);
    CHECK_THAT(std::string(gone.status().message()), Catch::Contains("HTTP 500"));
  }
}

TEST_CASE("credentials: IMDSv1 only when allowed", "[remote][credentials][imds]") {
  Fixture f;
  MetadataPeer peer;
  f.env.Unset("AWS_EC2_METADATA_DISABLED");
  f.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", peer.child.url());
  peer.Control(R"({"imds_v1": "only"})");  // the token PUT answers 403
  CredentialsProviderOptions o;
  SECTION("the fallback, allowed by default") {
    ASSIGN_OR_REQUIRE(AwsCredentials c, InstanceMetadataCredentialsProvider(o)->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIAIMDS", 0) == 0);
  }
  SECTION("AWS_EC2_METADATA_V1_DISABLED=true refuses it") {
    f.env.Set("AWS_EC2_METADATA_V1_DISABLED", "true");
    auto c = InstanceMetadataCredentialsProvider(o)->GetCredentials();
    CHECK_ERROR(c, ErrorType::kAccessDenied);
    CHECK_THAT(std::string(c.status().message()), Catch::Contains("IMDSv1 fallback is disabled"));
  }
  SECTION("the option refuses it") {
    o.imds_v1_fallback = false;
    CHECK_ERROR(InstanceMetadataCredentialsProvider(o)->GetCredentials(), ErrorType::kAccessDenied);
  }
  SECTION("a token refused with 400 is an error, not a reason to fall back") {
    peer.Control(R"({"imds_v1": "optional", "token_status": 400})");
    CHECK_ERROR(InstanceMetadataCredentialsProvider(o)->GetCredentials(), ErrorType::kAccessDenied);
  }
  SECTION("AWS_EC2_METADATA_DISABLED=true sends nothing") {
    f.env.Set("AWS_EC2_METADATA_DISABLED", "true");
    auto c = InstanceMetadataCredentialsProvider(o)->GetCredentials();
    CHECK_THAT(std::string(c.status().message()), Catch::Contains("disabled"));
    CHECK(peer.Count("imds-token") == 0);
  }
}

TEST_CASE("credentials: the container endpoint, with and without an authorization token",
          "[remote][credentials][container]") {
  Fixture f;
  MetadataPeer peer;
  CredentialsProviderOptions o;
  SECTION("AWS_CONTAINER_CREDENTIALS_FULL_URI without a token") {
    f.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.child.url() + "/container/credentials");
    auto p = ContainerCredentialsProvider(o);
    ASSIGN_OR_REQUIRE(AwsCredentials c, p->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIACONT", 0) == 0);
    CHECK_THAT(p->Describe(), Catch::Contains("/container/credentials"));
  }
  SECTION("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
    peer.Control(R"({"container_token": "Bearer secret-1"})");
    f.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.child.url() + "/container/credentials");
    f.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer secret-1");
    ASSIGN_OR_REQUIRE(AwsCredentials c, ContainerCredentialsProvider(o)->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIACONT", 0) == 0);
    f.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong");
    auto refused = ContainerCredentialsProvider(o)->GetCredentials();
    CHECK_ERROR(refused, ErrorType::kAccessDenied);
    CHECK_THAT(std::string(refused.status().message()), Catch::Contains("HTTP 401"));
  }
  SECTION("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity), read at every refresh") {
    peer.Control(R"({"container_token": "eks-token-1"})");
    const std::string file = f.scratch.path + "/eks-token";
    Write(file, "eks-token-1\n");
    f.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.child.url() + "/container/credentials");
    f.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file);
    f.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored: the file wins");
    ManualClock clock(absl::Now());
    auto p = ContainerCredentialsProvider(ManualOptions(&clock));
    ASSIGN_OR_REQUIRE(AwsCredentials c, p->GetCredentials());
    // The token rotates; the next fetch (after expiry) reads the new one.
    peer.Control(R"({"container_token": "eks-token-2"})");
    Write(file, "eks-token-2\n");
    clock.Set(c.expiration + absl::Seconds(1));
    ASSIGN_OR_REQUIRE(AwsCredentials d, p->GetCredentials());
    CHECK(d.access_key_id != c.access_key_id);
  }
  SECTION("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, under the ECS agent's address") {
    f.env.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/container/credentials");
    o.container_endpoint = peer.child.url();
    ASSIGN_OR_REQUIRE(AwsCredentials c, ContainerCredentialsProvider(o)->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIACONT", 0) == 0);
  }
  SECTION("plain http to another host is refused without a request") {
    f.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds");
    auto c = ContainerCredentialsProvider(o)->GetCredentials();
    CHECK_ERROR(c, ErrorType::kAccessDenied);
    CHECK_THAT(std::string(c.status().message()), Catch::Contains("neither a loopback address"));
  }
}

TEST_CASE("credentials: STS through moto, for web identity and for roles of the shared files",
          "[remote][credentials][sts]") {
  Fixture f;
  auto moto = testing::StartMoto();
  f.env.Set("AWS_ENDPOINT_URL_STS", moto->url());
  SECTION("web identity from the environment (EKS IRSA)") {
    Write(f.scratch.path + "/token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0cmlidXRhcnkifQ.c2ln");
    f.env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", f.scratch.path + "/token");
    f.env.Set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa-role");
    f.env.Set("AWS_ROLE_SESSION_NAME", "fleet-1");
    auto p = WebIdentityCredentialsProvider();
    ASSIGN_OR_REQUIRE(AwsCredentials c, p->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIA", 0) == 0);
    CHECK_FALSE(c.session_token.empty());
    CHECK(c.expiration > absl::Now());
    CHECK(c.expiration < absl::InfiniteFuture());
    CHECK_THAT(p->Describe(), Catch::Contains("irsa-role"));
  }
  SECTION("role_arn with source_profile: AssumeRole signed with the source's keys") {
    Write(f.scratch.path + "/credentials-none",
          "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
    Write(f.scratch.path + "/config-none",
          "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n"
          "role_session_name = app-session\n"
          "[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/second\nsource_profile = app\n"
          "[profile envsourced]\nrole_arn = arn:aws:iam::123456789012:role/e\ncredential_source = Environment\n"
          "[profile bad]\nrole_arn = arn:aws:iam::123456789012:role/b\ncredential_source = Nowhere\n");
    ASSIGN_OR_REQUIRE(AwsCredentials app, ProfileCredentialsProvider("app")->GetCredentials());
    CHECK(app.access_key_id.rfind("ASIA", 0) == 0);
    CHECK(app.expiration < absl::InfiniteFuture());
    ASSIGN_OR_REQUIRE(AwsCredentials chained, ProfileCredentialsProvider("chained")->GetCredentials());
    CHECK(chained.access_key_id.rfind("ASIA", 0) == 0);
    CHECK(chained.access_key_id != app.access_key_id);
    CHECK_ERROR(ProfileCredentialsProvider("envsourced")->GetCredentials(), ErrorType::kAccessDenied);
    f.env.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
    f.env.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
    ASSIGN_OR_REQUIRE(AwsCredentials env_sourced, ProfileCredentialsProvider("envsourced")->GetCredentials());
    CHECK(env_sourced.access_key_id.rfind("ASIA", 0) == 0);
    auto bad = ProfileCredentialsProvider("bad")->GetCredentials();
    CHECK_THAT(std::string(bad.status().message()), Catch::Contains("not Nowhere"));
  }
}

TEST_CASE("credentials: credential_process scripts", "[remote][credentials][process]") {
  Fixture f;
  const std::string dir = f.scratch.path;
  const std::string later = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(1), absl::UTCTimeZone());
  const std::string earlier = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Hours(1), absl::UTCTimeZone());
  Write(dir + "/good.sh",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"proc-secret\", "
        "\"SessionToken\": \"proc-token\", \"Expiration\": \"" + later + "\"}'\n",
        true);
  Write(dir + "/static.sh",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDSTATIC\", \"SecretAccessKey\": \"s\"}'\n", true);
  Write(dir + "/malformed.sh", "#!/bin/sh\necho 'this is not JSON'\n", true);
  Write(dir + "/noversion.sh", "#!/bin/sh\necho '{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}'\n", true);
  Write(dir + "/expired.sh",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDOLD\", \"SecretAccessKey\": \"s\", "
        "\"Expiration\": \"" + earlier + "\"}'\n",
        true);
  Write(dir + "/fails.sh", "#!/bin/sh\necho 'no credentials for you' >&2\nexit 3\n", true);
  Write(dir + "/config-none", "[profile good]\ncredential_process = " + dir + "/good.sh --with args\n" +
                                  "[profile static]\ncredential_process = " + dir + "/static.sh\n" +
                                  "[profile malformed]\ncredential_process = " + dir + "/malformed.sh\n" +
                                  "[profile noversion]\ncredential_process = " + dir + "/noversion.sh\n" +
                                  "[profile expired]\ncredential_process = " + dir + "/expired.sh\n" +
                                  "[profile fails]\ncredential_process = " + dir + "/fails.sh\n");
  auto with = [](const std::string& profile) {
    CredentialsProviderOptions o;
    o.profile = profile;
    return ProcessCredentialsProvider(o)->GetCredentials();
  };
  ASSIGN_OR_REQUIRE(AwsCredentials good, with("good"));
  CHECK(good.access_key_id == "AKIDPROC");
  CHECK(good.session_token == "proc-token");
  CHECK(good.expiration > absl::Now());
  ASSIGN_OR_REQUIRE(AwsCredentials fixed, with("static"));
  CHECK(fixed.expiration == absl::InfiniteFuture());
  CHECK_THAT(std::string(with("malformed").status().message()), Catch::Contains("not a JSON object"));
  CHECK_THAT(std::string(with("noversion").status().message()), Catch::Contains("Version"));
  CHECK_THAT(std::string(with("expired").status().message()), Catch::Contains("expired"));
  auto fails = with("fails");
  CHECK_ERROR(fails, ErrorType::kAccessDenied);
  CHECK_THAT(std::string(fails.status().message()), Catch::Contains("status 3"));
  CHECK_THAT(std::string(fails.status().message()), Catch::Contains("fails.sh"));
}

// The process is real, so its time limit is real time: a script that would
// sleep for 60 s must be killed after the 1 s limit, sleep and all.
TEST_CASE("credentials: credential_process time and output limits", "[remote][credentials][process]") {
  Fixture f;
  const std::string dir = f.scratch.path;
  Write(dir + "/hangs.sh", "#!/bin/sh\nsleep 60 &\necho $! > " + dir + "/sleeper.pid\nwait\n", true);
  Write(dir + "/chatty.sh", "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' x\n", true);
  Write(dir + "/slow.sh",
        "#!/bin/sh\nsleep 0.1\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDSLOW\", \"SecretAccessKey\": \"s\"}'\n",
        true);
  Write(dir + "/config-none", "[profile hangs]\ncredential_process = " + dir + "/hangs.sh\n" +
                                  "[profile chatty]\ncredential_process = " + dir + "/chatty.sh\n" +
                                  "[profile slow]\ncredential_process = " + dir + "/slow.sh\n");
  auto with = [](const std::string& profile, absl::Duration timeout) {
    CredentialsProviderOptions o;
    o.profile = profile;
    o.credential_process_timeout = timeout;
    return ProcessCredentialsProvider(o)->GetCredentials();
  };
  auto hangs = with("hangs", absl::Seconds(1));
  CHECK_ERROR(hangs, ErrorType::kAccessDenied);
  CHECK_THAT(std::string(hangs.status().message()), Catch::Contains("did not finish within 1s; killed"));
  // The whole process group was killed: the sleep the script started is
  // gone (or a zombie waiting for init), not left running for a minute.
  std::ifstream pid_file(dir + "/sleeper.pid");
  int sleeper = 0;
  REQUIRE(pid_file >> sleeper);
  auto alive = [&] {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string pid, comm, state;
    return static_cast<bool>(stat >> pid >> comm >> state) && state != "Z";
  };
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (alive() && absl::Now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(alive());

  auto chatty = with("chatty", absl::Seconds(30));
  CHECK_ERROR(chatty, ErrorType::kAccessDenied);
  CHECK_THAT(std::string(chatty.status().message()), Catch::Contains("wrote more than 65536 bytes"));

  // Within the limit, a slow process is waited for.
  ASSIGN_OR_REQUIRE(AwsCredentials slow, with("slow", absl::Seconds(30)));
  CHECK(slow.access_key_id == "AKIDSLOW");
}

TEST_CASE("credentials: SSO from the token cache of `aws sso login`", "[remote][credentials][sso]") {
  Fixture f;
  MetadataPeer peer;
  f.env.Set("AWS_ENDPOINT_URL_SSO", peer.child.url());
  const std::string later = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(8), absl::UTCTimeZone());
  Write(f.scratch.path + "/config-none",
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Reader\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        "[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = eu-west-1\n"
        "sso_account_id = 111122223333\nsso_role_name = Reader\n");
  // The cache file is named by the SHA-1 of the session name (or, for the
  // legacy form, of the start URL), as the AWS CLI writes it.
  const std::string cache = f.scratch.path + "/.aws/sso/cache/";
  Write(cache + "ee0bfd2552fbd840c02cc48b6e823320543c450f.json",  // sha1("corp")
        "{\"accessToken\": \"sso-access-token\", \"expiresAt\": \"" + later + "\", \"region\": \"eu-west-1\"}");
  CredentialsProviderOptions o;
  o.profile = "dev";
  auto p = SsoCredentialsProvider(o);
  auto c = p->GetCredentials();
  REQUIRE_OK(c);
  CHECK(c->access_key_id.rfind("ASIASSO", 0) == 0);
  CHECK(c->expiration > absl::Now());
  CHECK(peer.Count("sso") == 1);

  o.profile = "legacy";
  auto legacy = SsoCredentialsProvider(o)->GetCredentials();
  CHECK_ERROR(legacy, ErrorType::kAccessDenied);
  CHECK_THAT(std::string(legacy.status().message()), Catch::Contains("aws sso login"));

  // An expired token: the provider says to log in again, and asks nobody.
  const std::string earlier = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Minutes(1), absl::UTCTimeZone());
  Write(cache + "ee0bfd2552fbd840c02cc48b6e823320543c450f.json",
        "{\"accessToken\": \"sso-access-token\", \"expiresAt\": \"" + earlier + "\"}");
  o.profile = "dev";
  auto expired = SsoCredentialsProvider(o)->GetCredentials();
  CHECK_THAT(std::string(expired.status().message()), Catch::Contains("expired"));
  CHECK(peer.Count("sso") == 1);
}

// The SDKs' SSO token provider: an sso-session token within five minutes of
// its expiry (or past it) is refreshed with SSO-OIDC CreateToken and the
// cache file rewritten; a failed refresh falls back on a still-valid token.
TEST_CASE("credentials: SSO tokens near expiry are refreshed with SSO-OIDC CreateToken", "[remote][credentials][sso]") {
  Fixture f;
  MetadataPeer peer;
  f.env.Set("AWS_ENDPOINT_URL_SSO", peer.child.url());
  f.env.Set("AWS_ENDPOINT_URL_SSO_OIDC", peer.child.url());
  Write(f.scratch.path + "/config-none",
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Reader\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
  const std::string file = f.scratch.path + "/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
  auto at = [](absl::Duration d) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + d, absl::UTCTimeZone());
  };
  auto cache_with = [&](absl::Duration expires_in, const std::string& registration_expires) {
    Write(file, "{\"startUrl\": \"https://corp.awsapps.com/start\", \"region\": \"eu-west-1\", "
                "\"accessToken\": \"sso-access-token\", \"expiresAt\": \"" + at(expires_in) + "\", "
                "\"clientId\": \"client-1\", \"clientSecret\": \"client-secret-1\", "
                "\"registrationExpiresAt\": \"" + registration_expires + "\", \"refreshToken\": \"refresh-1\"}");
  };
  auto cached = [&](const char* member) {
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    simdjson::dom::parser p;
    std::string_view v;
    if (p.parse(text)[member].get_string().get(v) != simdjson::SUCCESS) return std::string("(missing)");
    return std::string(v);
  };
  CredentialsProviderOptions o;
  o.profile = "dev";

  SECTION("two minutes before expiry: refreshed, and the cache file rewritten for every SDK on the host") {
    cache_with(absl::Minutes(2), at(absl::Hours(24 * 30)));
    ASSIGN_OR_REQUIRE(AwsCredentials c, SsoCredentialsProvider(o)->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIASSO", 0) == 0);
    CHECK(peer.Count("oidc") == 1);
    CHECK(cached("accessToken") == "sso-access-token-2");
    CHECK(cached("refreshToken") == "refresh-2");
    CHECK(cached("clientId") == "client-1");      // kept
    CHECK(cached("startUrl") == "https://corp.awsapps.com/start");
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);  // it holds the client secret and refresh token
    std::optional<absl::Time> expires = remote::ParseRfc3339(cached("expiresAt"));
    REQUIRE(expires.has_value());
    CHECK(*expires > absl::Now() + absl::Hours(7));  // expiresIn 28800 s
  }
  SECTION("already expired: refreshed all the same") {
    cache_with(-absl::Minutes(10), at(absl::Hours(24 * 30)));
    ASSIGN_OR_REQUIRE(AwsCredentials c, SsoCredentialsProvider(o)->GetCredentials());
    CHECK(c.access_key_id.rfind("ASIASSO", 0) == 0);
    CHECK(cached("accessToken") == "sso-access-token-2");
  }
  SECTION("an hour before expiry: used as it is, nothing refreshed") {
    cache_with(absl::Hours(1), at(absl::Hours(24 * 30)));
    REQUIRE_OK(SsoCredentialsProvider(o)->GetCredentials());
    CHECK(peer.Count("oidc") == 0);
    CHECK(cached("accessToken") == "sso-access-token");
  }
  SECTION("the refresh is refused: a still-valid token is used, an expired one says to log in") {
    peer.Control(R"({"oidc": {"client_id": "client-1", "client_secret": "client-secret-1",
                      "refresh_token": "refresh-1", "access_token": "x", "next_refresh_token": "y",
                      "expires_in": 60, "fail": true}})");
    cache_with(absl::Minutes(2), at(absl::Hours(24 * 30)));
    REQUIRE_OK(SsoCredentialsProvider(o)->GetCredentials());
    CHECK(peer.Count("oidc") == 1);
    CHECK(cached("accessToken") == "sso-access-token");  // untouched
    cache_with(-absl::Minutes(1), at(absl::Hours(24 * 30)));
    auto expired = SsoCredentialsProvider(o)->GetCredentials();
    CHECK_ERROR(expired, ErrorType::kAccessDenied);
    CHECK_THAT(std::string(expired.status().message()), Catch::Contains("invalid_grant"));
    CHECK_THAT(std::string(expired.status().message()), Catch::Contains("aws sso login"));
  }
  SECTION("the client registration expired: no refresh is tried") {
    cache_with(-absl::Minutes(1), at(-absl::Hours(1)));
    auto expired = SsoCredentialsProvider(o)->GetCredentials();
    CHECK_THAT(std::string(expired.status().message()), Catch::Contains("client registration expired"));
    CHECK(peer.Count("oidc") == 0);
  }
}

// Many threads ask one provider while its credentials near expiry: every
// call gets credentials that have not expired, and the server sees one
// fetch per refresh, never one per caller.
TEST_CASE("credentials: refresh before expiry under concurrent callers", "[remote][credentials][refresh]") {
  Fixture f;
  MetadataPeer peer;
  peer.Control(R"({"lifetime": 900})");
  ManualClock clock(absl::Now());
  peer.Control("{\"now\": " + std::to_string(absl::ToUnixSeconds(clock.Now())) + "}");
  f.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.child.url() + "/container/credentials");
  auto p = ContainerCredentialsProvider(ManualOptions(&clock));
  constexpr int kThreads = 8;
  std::atomic<int> bad{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  for (int i = 0; i < kThreads; ++i) {
    callers.emplace_back([&] {
      while (!stop) {
        absl::StatusOr<AwsCredentials> c = p->GetCredentials();
        if (!c.ok() || c->expiration <= clock.Now()) ++bad;
      }
    });
  }
  // Three lifetimes, a minute at a time: each set is refreshed once in its
  // last five minutes (in the background) or, at worst, once when stale.
  for (int minute = 0; minute < 45; ++minute) {
    absl::SleepFor(absl::Milliseconds(2));  // let the callers run at this time
    clock.Advance(absl::Minutes(1));
    // The server issues credentials that expire 15 minutes after the
    // simulated now, like a real endpoint at real time.
    peer.Control("{\"now\": " + std::to_string(absl::ToUnixSeconds(clock.Now())) + "}");
  }
  stop = true;
  for (std::thread& t : callers) t.join();
  CHECK(bad == 0);
  const int64_t fetches = peer.Count("container");
  CHECK(fetches >= 3);
  CHECK(fetches <= 6);
}

TEST_CASE("credentials: the default chain's order, and what a failure says", "[remote][credentials][chain]") {
  Fixture f;
  MetadataPeer peer;
  auto moto = testing::StartMoto();
  // Every source configured at once; each answer is recognisable.
  f.env.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  f.env.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  Write(f.scratch.path + "/token", "web-identity-token");
  f.env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", f.scratch.path + "/token");
  f.env.Set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
  f.env.Set("AWS_ENDPOINT_URL_STS", moto->url());
  Write(f.scratch.path + "/credentials-none", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  Write(f.scratch.path + "/proc.sh",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"s\"}'\n", true);
  Write(f.scratch.path + "/config-none", "[profile proc]\ncredential_process = " + f.scratch.path + "/proc.sh\n");
  f.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.child.url() + "/container/credentials");
  f.env.Unset("AWS_EC2_METADATA_DISABLED");
  f.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", peer.child.url());

  auto answer = [](const char* expect_in_describe) {
    auto chain = DefaultCredentialsProvider();
    absl::StatusOr<AwsCredentials> c = chain->GetCredentials();
    REQUIRE_OK(c);
    INFO(chain->Describe());
    CHECK_THAT(chain->Describe(), Catch::Contains(expect_in_describe));
    return c->access_key_id;
  };
  CHECK(answer("environment") == "AKIDENV");
  f.env.Unset("AWS_ACCESS_KEY_ID");
  CHECK(answer("web identity").rfind("ASIA", 0) == 0);
  f.env.Unset("AWS_ROLE_ARN");
  CHECK(answer("keys or role of profile default") == "AKIDFILE");
  f.env.Set("AWS_PROFILE", "proc");
  CHECK(answer("credential_process of profile proc") == "AKIDPROC");
  f.env.Set("AWS_PROFILE", "nobody");
  CHECK(answer("container credentials").rfind("ASIACONT", 0) == 0);
  f.env.Unset("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  CHECK(answer("instance metadata").rfind("ASIAIMDS", 0) == 0);

  // Nothing anywhere: the error lists what each of the seven said.
  f.env.Set("AWS_EC2_METADATA_DISABLED", "true");
  auto none = DefaultCredentialsProvider()->GetCredentials();
  CHECK_ERROR(none, ErrorType::kAccessDenied);
  const std::string m(none.status().message());
  INFO(m);
  for (const char* each : {"1. environment", "2. web identity", "3. profile 'nobody'", "4. profile 'nobody'",
                           "5. profile 'nobody'", "6. container credentials", "7. instance metadata"}) {
    CHECK_THAT(m, Catch::Contains(each));
  }
}

}  // namespace
}  // namespace tributary
