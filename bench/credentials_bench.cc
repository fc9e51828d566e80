// What a credential provider costs a request once its credentials are
// cached: nothing but a lookup. Two families, one row per provider:
//
//   BM_Credentials_Get/<provider>      GetCredentials() alone (the lookup)
//   BM_RemotePut_Credentials/<provider>  Store::Put of one 100-byte record to a
//                                      tributary-server child, signed with
//                                      that provider's credentials
//
// Providers: static keys (the baseline; static_session with a session
// token, the baseline for temporary credentials, which add a signed
// X-Amz-Security-Token header), environment, profile (a shared
// credentials file), credential_process (a script), container and instance
// metadata and SSO (tests/remote/peers/aws_metadata_server.py on loopback),
// and web identity (moto's STS, when CMake found moto). Every provider is
// asked once before timing starts, so the rows measure the cached path.
// Compare a provider's Put row with static's in the same run, interleaved:
//   build/release/bench/credentials_bench --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
// Client CPU time per Put (the "CPU" column) is the steadier figure: the
// wall time is mostly the server and the loopback. On a loaded machine,
// count instructions instead (docs/REMOTE.md "Credentials" has the figures):
//   valgrind --tool=callgrind --collect-atstart=no '--toggle-collect=tributary::Store::Put(*'
//     credentials_bench --benchmark_filter='RemotePut_Credentials/imds$' --benchmark_min_time=0.2
// and divide the total by the calls of Store::Put.
#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "testing/listening_process.h"
#include "tributary/remote.h"
#include "tributary/tributary.h"

namespace tributary::bench {
namespace {

struct World {
  std::unique_ptr<testing::ListeningProcess> server, metadata, moto;
  std::map<std::string, std::shared_ptr<CredentialsProvider>> providers;
  std::map<std::string, std::unique_ptr<Store>> stores;
  std::string error;
};

std::unique_ptr<testing::ListeningProcess> Start(std::vector<std::string> argv, std::string* error) {
  return testing::ListeningProcess::Start(argv, {}, error);
}

World& TheWorld() {
  static World* w = [] {
    auto* w = new World;
    const std::string dir = std::string(TRIBUTARY_BENCH_TMPDIR) + "/credentials";
    std::filesystem::create_directories(dir);
    w->server = Start({TRIBUTARY_SERVER_PATH, "--in-memory", "--host", "127.0.0.1", "--port", "0", "--create-delay",
                       "0"},
                      &w->error);
    w->metadata = Start({"/usr/bin/python3", TRIBUTARY_AWS_PEERS_PY}, &w->error);
    if (!w->server || !w->metadata) return w;
    const std::string later = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(6), absl::UTCTimeZone());
    std::ofstream(dir + "/credentials") << "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n";
    std::ofstream(dir + "/proc.sh") << "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
                                       "\"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", \"Expiration\": \""
                                    << later << "\"}'\n";
    chmod((dir + "/proc.sh").c_str(), 0755);
    std::ofstream(dir + "/config") << "[profile proc]\ncredential_process = " << dir << "/proc.sh\n"
                                   << "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\n"
                                      "sso_role_name = Reader\n[sso-session corp]\n"
                                      "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";
    std::filesystem::create_directories(dir + "/.aws/sso/cache");
    std::ofstream(dir + "/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")  // sha1("corp")
        << "{\"accessToken\": \"sso-access-token\", \"expiresAt\": \"" << later << "\"}";
    setenv("HOME", dir.c_str(), 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", (dir + "/credentials").c_str(), 1);
    setenv("AWS_CONFIG_FILE", (dir + "/config").c_str(), 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (w->metadata->url() + "/container/credentials").c_str(), 1);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", w->metadata->url().c_str(), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_ENDPOINT_URL_SSO", w->metadata->url().c_str(), 1);
    CredentialsProviderOptions o;
    w->providers["static"] = StaticCredentialsProvider({"AKIDSTATIC", "s", ""});
    // Temporary credentials add a signed X-Amz-Security-Token header: this
    // is the baseline for the providers that hand out session tokens.
    w->providers["static_session"] = StaticCredentialsProvider({"ASIASTATIC", "s", "session-token-of-static-keys"});
    w->providers["environment"] = EnvironmentCredentialsProvider();
    w->providers["profile"] = ProfileCredentialsProvider();
    o.profile = "proc";
    w->providers["process"] = ProcessCredentialsProvider(o);
    o.profile = "sso";
    w->providers["sso"] = SsoCredentialsProvider(o);
    w->providers["container"] = ContainerCredentialsProvider();
    w->providers["imds"] = InstanceMetadataCredentialsProvider();
    const std::string moto_python = TRIBUTARY_MOTO_PYTHON;
    if (!moto_python.empty()) {
      std::string ignored;
      w->moto = Start({moto_python, TRIBUTARY_MOTO_SERVER_PY, "0"}, &ignored);
      if (w->moto) {
        std::ofstream(dir + "/token") << "web-identity-token";
        setenv("AWS_WEB_IDENTITY_TOKEN_FILE", (dir + "/token").c_str(), 1);
        setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/bench", 1);
        setenv("AWS_ENDPOINT_URL_STS", w->moto->url().c_str(), 1);
        w->providers["web_identity"] = WebIdentityCredentialsProvider();
      }
    }
    for (auto& [name, p] : w->providers) {
      absl::StatusOr<AwsCredentials> first = p->GetCredentials();  // fill the cache
      if (!first.ok()) {
        w->error = name + ": " + std::string(first.status().message());
        return w;
      }
      RemoteOptions r;
      r.endpoint_url = w->server->url();
      r.region = "us-east-1";
      r.account_id = "000000000000";
      r.credentials = p;
      absl::StatusOr<std::unique_ptr<Store>> s = Store::OpenRemote(r);
      if (!s.ok()) {
        w->error = std::string(s.status().message());
        return w;
      }
      w->stores[name] = std::move(s).value();
    }
    Store& any = *w->stores.begin()->second;
    if (absl::Status c = any.CreateStream("bench", 1); !c.ok()) w->error = std::string(c.message());
    return w;
  }();
  return *w;
}

void BM_Credentials_Get(benchmark::State& state, std::string provider) {
  World& w = TheWorld();
  if (!w.error.empty() || !w.providers.count(provider)) return state.SkipWithError(w.error.c_str());
  CredentialsProvider& p = *w.providers[provider];
  for (auto _ : state) {
    absl::StatusOr<AwsCredentials> c = p.GetCredentials();
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RemotePut_Credentials(benchmark::State& state, std::string provider) {
  World& w = TheWorld();
  if (!w.error.empty() || !w.stores.count(provider)) return state.SkipWithError(w.error.c_str());
  Store& s = *w.stores[provider];
  const std::string data(100, 'x');
  for (auto _ : state) {
    absl::StatusOr<PutRecordResult> r = s.Put("bench", PutRecordInput{"key", data, std::nullopt});
    if (!r.ok()) return state.SkipWithError(std::string(r.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

const int registered = [] {
  for (const char* p : {"static", "static_session", "environment", "profile", "process", "sso", "container", "imds", "web_identity"}) {
    benchmark::RegisterBenchmark((std::string("BM_Credentials_Get/") + p).c_str(), BM_Credentials_Get, p);
    benchmark::RegisterBenchmark((std::string("BM_RemotePut_Credentials/") + p).c_str(), BM_RemotePut_Credentials, p);
  }
  return 0;
}();

}  // namespace
}  // namespace tributary::bench

BENCHMARK_MAIN();
