// tributary-server: serves the Kinesis Data Streams API (JSON 1.1 and CBOR
// 1.1 over HTTP/1.1 and HTTP/2, plain and TLS) from a tributary::Store, so
// programs written against the AWS SDKs run against it unchanged. See
// docs/ENDPOINT.md.
//
// Prints "listening on http://HOST:PORT" on stdout once it accepts
// connections (then "listening on https://HOST:PORT" with a TLS port);
// SIGTERM or SIGINT shut it down gracefully (exit status 0).
#include <getopt.h>
#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "endpoint/certificates.h"
#include "endpoint/control.h"
#include "endpoint/endpoint.h"
#include "endpoint/http_server.h"
#include "tributary/server.h"
#include "tributary/testing/faults.h"
#include "tributary/tributary.h"

namespace {

using tributary::endpoint::ServerOptions;

constexpr char kUsage[] = R"(Usage: tributary-server [options]

Serves the Amazon Kinesis Data Streams API from an in-process Tributary store.

Storage:
  --in-memory              keep everything in memory (the default)
  --data-dir DIR           durable storage in DIR (created if missing; recovered on start)
  --no-sync                with --data-dir: acknowledge writes once they reach the OS,
                           without waiting for fdatasync (default: synced, group commit)
  --max-open-files N       with --data-dir: segment files kept open at once, whatever
                           the number of shards (default 400; docs/DURABILITY.md)

Network:
  --host HOST              address to listen on (default 127.0.0.1)
  --port PORT              port (default 4567; 0 picks a free port)
  --threads N              io threads (default: one per hardware thread)
  --max-body-bytes N       largest request body (default 16777216; larger -> HTTP 413)
  --idle-timeout MS        close a connection that sends no complete header for MS
                           (default 60000)
  --body-timeout MS        close a connection that does not finish its body within MS
                           after the header (default 30000)
  --log-requests           one line per request on stderr
  --http2-max-streams N    concurrent HTTP/2 streams per connection (default 1000)

  Both ports speak HTTP/1.1 and HTTP/2 (h2c with prior knowledge on --port;
  ALPN h2, or the HTTP/2 preface, over TLS).

TLS (an https listener beside the http one; TLS 1.2 or later):
  --tls-port PORT          https port (0 picks a free port; default 4443 when
                           --tls-cert or --tls-self-signed is given without it)
  --tls-cert FILE          PEM certificate chain (leaf first)
  --tls-key FILE           PEM private key of that certificate
  --tls-self-signed        make a local CA and a certificate for localhost,
                           127.0.0.1 and ::1 in --tls-dir and serve it; trust the CA
                           with AWS_CA_BUNDLE / NODE_EXTRA_CA_CERTS / curl --cacert
  --tls-dir DIR            where --tls-self-signed writes ca.pem, ca-key.pem,
                           server.pem, server-key.pem (default ./tributary-tls; an
                           existing CA there is reused)

Kinesis behaviour:
  --create-delay MS        how long a new stream stays CREATING (default 500; 0 allowed)
  --update-delay MS        how long a reshard or mode change keeps it UPDATING (default 500)
  --delete-delay MS        how long a deleted stream stays DELETING (default 500)
  --throughput-limits      enforce per-shard limits (1 MiB/s and 1000 records/s in,
                           2 MiB/s and 5 GetRecords/s out): ProvisionedThroughputExceeded
  --shard-limit N          account open-shard limit (DescribeLimits; default 500)
  --region REGION          region in stream ARNs (default us-east-1)
  --account-id ID          12-digit account id in stream ARNs (default 000000000000)
  --account-from-access-key
                           the access key id of each request selects its account (and a
                           store of its own); see docs/ENDPOINT.md "Accounts"

Managed Service for Apache Flink (kinesisanalyticsv2, same port; docs/ENDPOINT.md):
  --app-transition-ms MS   how long a transition (STARTING, UPDATING, STOPPING, ...) takes
                           at least (default 500; 0 allowed)
  --app-restart-delay-ms MS
                           restart delay of a failed job (default 10000, as Managed Flink)
  --no-applications        serve Kinesis only

Signatures (off by default: any signature, or none, is accepted):
  --credentials FILE       verify SigV4 signatures against the keys in FILE, one
                           "ACCESS_KEY_ID SECRET_ACCESS_KEY" pair per line (# comments)
  --access-key ID --secret-key SECRET
                           verify against this one key pair (may be combined with
                           --credentials)
  --allow-unauthenticated  listen on an address that is not loopback without verifying
                           signatures (refused otherwise: anyone reaching the port
                           could read, write and delete)
  --require-signatures     without verifying them, require every request to carry a
                           signature of the right form, as AWS's front door does
                           (MissingAuthenticationToken, IncompleteSignature)

Testing (docs/ENDPOINT.md "Test control"):
  --test-control           serve the test control API under /_tributary/ (reset, clock,
                           fault injection, application job faults) and
                           POST /moto-api/reset; loopback only unless signatures are
                           verified
  --manual-clock           the store's clock moves only when told
                           (POST /_tributary/clock); starts at the current time

  --help                   this text
  --version                print the version and exit

Prints "listening on http://HOST:PORT" when ready (then "listening on
https://HOST:PORT" and "tls ca: FILE" with TLS). SIGTERM/SIGINT: graceful shutdown.
)";

enum Opt {
  kHost = 256, kPort, kThreads, kMaxBody, kIdleTimeout, kBodyTimeout, kLogRequests,
  kInMemory, kDataDir, kCreateDelay, kUpdateDelay, kDeleteDelay, kThroughput,
  kShardLimit, kRegion, kAccountId, kNoSync, kHelp, kAccountFromKey, kCredentials,
  kAccessKey, kSecretKey, kVersion, kHttp2MaxStreams, kTlsPort, kTlsCert, kTlsKey, kTlsSelfSigned,
  kTlsDir, kTestControl, kManualClock, kAllowUnauthenticated, kAppTransition, kAppRestartDelay,
  kNoApplications, kRequireSignatures, kMaxOpenFiles,
};

int UsageError(const std::string& message) {
  fmt::print(stderr, "tributary-server: {}\n(see tributary-server --help)\n", message);
  return 2;
}

bool ParseInt(const char* s, int64_t min, int64_t max, int64_t* out) {
  return absl::SimpleAtoi(s, out) && *out >= min && *out <= max;
}

bool ValidAccountId(std::string_view id) {
  if (id.size() != 12) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ValidRegion(std::string_view r) {
  if (r.empty() || r.size() > 32) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// "ACCESS_KEY_ID SECRET" per line; blank lines and '#' comments ignored.
absl::Status ReadCredentials(const char* path, std::map<std::string, std::string>* out) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream fields(line);
    std::string id, secret, extra;
    if (!(fields >> id) || id[0] == '#') continue;
    if (!(fields >> secret) || ((fields >> extra) && extra[0] != '#')) {
      return absl::InvalidArgumentError(fmt::format(
          "{} line {}: want 'ACCESS_KEY_ID SECRET_ACCESS_KEY'", path, n));
    }
    (*out)[id] = secret;
  }
  if (out->empty()) return absl::InvalidArgumentError(fmt::format("{} holds no key pair", path));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions server;
  tributary::StoreOptions store_options;
  store_options.create_delay = absl::Milliseconds(500);
  store_options.update_delay = absl::Milliseconds(500);
  store_options.delete_delay = absl::Milliseconds(500);
  std::optional<std::string> data_dir;
  tributary::endpoint::EndpointOptions endpoint_options;
  std::optional<std::string> access_key, secret_key;
  bool in_memory = false;
  bool no_sync = false;
  bool tls_self_signed = false;
  std::string tls_dir = "tributary-tls";
  std::optional<std::string> tls_ca;
  bool test_control = false;
  bool manual_clock_on = false;
  bool allow_unauthenticated = false;
  bool applications = true;
  absl::Duration app_transition = absl::Milliseconds(500);

  static const option kOptions[] = {
      {"host", required_argument, nullptr, kHost},
      {"port", required_argument, nullptr, kPort},
      {"threads", required_argument, nullptr, kThreads},
      {"max-body-bytes", required_argument, nullptr, kMaxBody},
      {"idle-timeout", required_argument, nullptr, kIdleTimeout},
      {"body-timeout", required_argument, nullptr, kBodyTimeout},
      {"log-requests", no_argument, nullptr, kLogRequests},
      {"in-memory", no_argument, nullptr, kInMemory},
      {"data-dir", required_argument, nullptr, kDataDir},
      {"create-delay", required_argument, nullptr, kCreateDelay},
      {"update-delay", required_argument, nullptr, kUpdateDelay},
      {"delete-delay", required_argument, nullptr, kDeleteDelay},
      {"throughput-limits", no_argument, nullptr, kThroughput},
      {"shard-limit", required_argument, nullptr, kShardLimit},
      {"region", required_argument, nullptr, kRegion},
      {"account-id", required_argument, nullptr, kAccountId},
      {"no-sync", no_argument, nullptr, kNoSync},
      {"max-open-files", required_argument, nullptr, kMaxOpenFiles},
      {"help", no_argument, nullptr, kHelp},
      {"account-from-access-key", no_argument, nullptr, kAccountFromKey},
      {"credentials", required_argument, nullptr, kCredentials},
      {"access-key", required_argument, nullptr, kAccessKey},
      {"secret-key", required_argument, nullptr, kSecretKey},
      {"version", no_argument, nullptr, kVersion},
      {"http2-max-streams", required_argument, nullptr, kHttp2MaxStreams},
      {"tls-port", required_argument, nullptr, kTlsPort},
      {"tls-cert", required_argument, nullptr, kTlsCert},
      {"tls-key", required_argument, nullptr, kTlsKey},
      {"tls-self-signed", no_argument, nullptr, kTlsSelfSigned},
      {"tls-dir", required_argument, nullptr, kTlsDir},
      {"test-control", no_argument, nullptr, kTestControl},
      {"manual-clock", no_argument, nullptr, kManualClock},
      {"allow-unauthenticated", no_argument, nullptr, kAllowUnauthenticated},
      {"app-transition-ms", required_argument, nullptr, kAppTransition},
      {"app-restart-delay-ms", required_argument, nullptr, kAppRestartDelay},
      {"no-applications", no_argument, nullptr, kNoApplications},
      {"require-signatures", no_argument, nullptr, kRequireSignatures},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", kOptions, nullptr)) != -1) {
    int64_t n = 0;
    const std::string flag = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    switch (opt) {
      case kHost: server.host = optarg; break;
      case kPort:
        if (!ParseInt(optarg, 0, 65535, &n)) return UsageError(fmt::format("--port: '{}' is not a port (0..65535)", optarg));
        server.port = static_cast<uint16_t>(n);
        break;
      case kThreads:
        if (!ParseInt(optarg, 1, 256, &n)) return UsageError(fmt::format("--threads: '{}' is not in 1..256", optarg));
        server.threads = static_cast<int>(n);
        break;
      case kMaxBody:
        if (!ParseInt(optarg, 1024, int64_t{1} << 32, &n)) return UsageError(fmt::format("--max-body-bytes: '{}' is not in 1024..4294967296", optarg));
        server.max_body_bytes = static_cast<size_t>(n);
        break;
      case kIdleTimeout:
      case kBodyTimeout:
        if (!ParseInt(optarg, 1, 86400000, &n)) return UsageError(fmt::format("{}: '{}' is not a number of milliseconds (1..86400000)", opt == kIdleTimeout ? "--idle-timeout" : "--body-timeout", optarg));
        (opt == kIdleTimeout ? server.idle_timeout : server.body_timeout) = absl::Milliseconds(n);
        break;
      case kLogRequests: server.log_requests = true; break;
      case kInMemory: in_memory = true; break;
      case kDataDir: data_dir = optarg; break;
      case kCreateDelay:
      case kUpdateDelay:
      case kDeleteDelay: {
        const char* name = opt == kCreateDelay ? "--create-delay" : opt == kUpdateDelay ? "--update-delay" : "--delete-delay";
        if (!ParseInt(optarg, 0, 3600000, &n)) return UsageError(fmt::format("{}: '{}' is not a number of milliseconds (0..3600000)", name, optarg));
        absl::Duration d = absl::Milliseconds(n);
        (opt == kCreateDelay ? store_options.create_delay : opt == kUpdateDelay ? store_options.update_delay : store_options.delete_delay) = d;
        break;
      }
      case kThroughput: store_options.throughput.enabled = true; break;
      case kShardLimit:
        if (!ParseInt(optarg, 1, 1000000, &n)) return UsageError(fmt::format("--shard-limit: '{}' is not in 1..1000000", optarg));
        store_options.shard_limit = static_cast<int>(n);
        break;
      case kRegion:
        if (!ValidRegion(optarg)) return UsageError(fmt::format("--region: '{}' is not a region name (e.g. us-east-1)", optarg));
        store_options.region = optarg;
        break;
      case kAccountId:
        if (!ValidAccountId(optarg)) return UsageError(fmt::format("--account-id: '{}' is not a 12-digit account id", optarg));
        store_options.account_id = optarg;
        break;
      case kNoSync: no_sync = true; break;
      case kMaxOpenFiles:
        if (!ParseInt(optarg, 1, 1000000, &n)) return UsageError(fmt::format("--max-open-files: '{}' is not in 1..1000000", optarg));
        store_options.max_open_files = static_cast<size_t>(n);
        break;
      case kAccountFromKey: endpoint_options.account_from_access_key = true; break;
      case kRequireSignatures: endpoint_options.require_signatures = true; break;
      case kCredentials: {
        absl::Status st = ReadCredentials(optarg, &endpoint_options.credentials);
        if (!st.ok()) return UsageError(fmt::format("--credentials: {}", std::string(st.message())));
        break;
      }
      case kAccessKey: access_key = optarg; break;
      case kSecretKey: secret_key = optarg; break;
      case kHttp2MaxStreams:
        if (!ParseInt(optarg, 1, 1000000, &n)) return UsageError(fmt::format("--http2-max-streams: '{}' is not in 1..1000000", optarg));
        server.http2_max_streams = static_cast<uint32_t>(n);
        break;
      case kTlsPort:
        if (!ParseInt(optarg, 0, 65535, &n)) return UsageError(fmt::format("--tls-port: '{}' is not a port (0..65535)", optarg));
        server.tls_port = static_cast<uint16_t>(n);
        break;
      case kTlsCert: server.tls_cert_file = optarg; break;
      case kTlsKey: server.tls_key_file = optarg; break;
      case kTlsSelfSigned: tls_self_signed = true; break;
      case kTlsDir: tls_dir = optarg; break;
      case kTestControl: test_control = true; break;
      case kManualClock: manual_clock_on = true; break;
      case kAllowUnauthenticated: allow_unauthenticated = true; break;
      case kAppTransition:
      case kAppRestartDelay:
        if (!ParseInt(optarg, 0, 3600000, &n)) return UsageError(fmt::format("{}: '{}' is not a number of milliseconds (0..3600000)", opt == kAppTransition ? "--app-transition-ms" : "--app-restart-delay-ms", optarg));
        (opt == kAppTransition ? app_transition : endpoint_options.application_restart_delay) = absl::Milliseconds(n);
        break;
      case kNoApplications: applications = false; break;
      case kHelp: std::fputs(kUsage, stdout); return 0;
      case kVersion: fmt::print("tributary-server {}\n", TRIBUTARY_VERSION); return 0;
      case ':': return UsageError(fmt::format("{} needs a value", flag));
      default: return UsageError(fmt::format("unknown option '{}'", flag));
    }
  }
  if (optind < argc) return UsageError(fmt::format("unexpected argument '{}'", argv[optind]));
  if (data_dir.has_value() && in_memory) return UsageError("--data-dir and --in-memory exclude each other");
  if (no_sync && !data_dir.has_value()) return UsageError("--no-sync needs --data-dir");
  if (no_sync) store_options.sync = tributary::Sync::kNo;
  if (access_key.has_value() != secret_key.has_value()) return UsageError("--access-key and --secret-key go together");
  if (access_key.has_value()) {
    if (access_key->empty() || secret_key->empty()) return UsageError("--access-key and --secret-key must not be empty");
    endpoint_options.credentials[*access_key] = *secret_key;
  }
  if (absl::Status st = tributary::endpoint::CheckExposure(
          server.host, !endpoint_options.credentials.empty(), allow_unauthenticated, test_control);
      !st.ok()) {
    return UsageError(std::string(st.message()));
  }
  // --manual-clock: the store's clock starts now and moves only when told;
  // signatures are still checked against real time.
  tributary::ManualClock manual_clock(absl::Now());
  if (manual_clock_on) {
    store_options.clock = &manual_clock;
    endpoint_options.signature_clock = tributary::SystemClock();
  }
  // --test-control: one Faults object is every store's injector (the C++
  // toolkit's engine; lib/endpoint/control.h).
  tributary::testing::Faults faults;
  std::optional<tributary::endpoint::Control> control;  // made once the applications are open
  if (test_control) store_options.fault_injector = &faults;
  endpoint_options.store_options = store_options;
  endpoint_options.data_dir = data_dir;
  if (tls_self_signed && (!server.tls_cert_file.empty() || !server.tls_key_file.empty())) {
    return UsageError("--tls-self-signed and --tls-cert/--tls-key exclude each other");
  }
  if (server.tls_cert_file.empty() != server.tls_key_file.empty()) return UsageError("--tls-cert and --tls-key go together");
  if (tls_self_signed) {
    absl::StatusOr<tributary::endpoint::CertificateFiles> certs =
        tributary::endpoint::WriteSelfSignedCertificates(tls_dir);
    if (!certs.ok()) {
      fmt::print(stderr, "tributary-server: --tls-self-signed: {}\n", std::string(certs.status().message()));
      return 1;
    }
    server.tls_cert_file = certs->server_cert;
    server.tls_key_file = certs->server_key;
    tls_ca = certs->ca_cert;
    fmt::print(stderr, "tributary-server: TLS certificate for localhost, 127.0.0.1 and ::1 in {} ({} CA {})\n",
               certs->server_cert, certs->reused_ca ? "reused" : "new", certs->ca_cert);
  }
  if (!server.tls_cert_file.empty() && !server.tls_port.has_value()) server.tls_port = 4443;
  if (server.tls_port.has_value() && server.tls_cert_file.empty()) {
    return UsageError("--tls-port needs --tls-cert and --tls-key, or --tls-self-signed");
  }

  // Block the shutdown signals before any thread starts, so every thread
  // inherits the mask and only sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<tributary::Store>> store =
      data_dir.has_value() ? tributary::Store::Open(*data_dir, store_options)
                           : tributary::Store::OpenInMemory(store_options);
  if (!store.ok()) {
    fmt::print(stderr, "tributary-server: cannot open the store{}: {}\n",
               data_dir.has_value() ? " in " + *data_dir : std::string(), store.status().ToString());
    return 1;
  }
  if (data_dir.has_value()) {
    tributary::RecoveryReport rec = (*store)->recovery();
    fmt::print(stderr,
               "tributary-server: opened {}: {} segments, {} records, {} torn bytes truncated, {}\n",
               *data_dir, rec.segments, rec.records, rec.truncated_bytes,
               rec.from_recovery_point ? fmt::format("{} records replayed from the write-ahead log", rec.records_replayed)
                                       : fmt::format("{} bytes of segments scanned", rec.bytes_scanned));
    for (const std::string& p : rec.problems) fmt::print(stderr, "tributary-server: recovery: {}\n", p);
  }
  // Applications (kinesisanalyticsv2) on the default account's store: in
  // <data dir>/apps with --data-dir, in memory otherwise.
  std::unique_ptr<tributary::ApplicationManager> manager;
  if (applications) {
    tributary::ApplicationManagerOptions mo;
    mo.transition_time = app_transition;
    mo.runtime_environments = {"FLINK-1_15", "FLINK-1_18", "FLINK-1_19", "FLINK-1_20"};
    absl::StatusOr<std::unique_ptr<tributary::ApplicationManager>> opened =
        tributary::ApplicationManager::Open(store->get(), mo);
    if (!opened.ok()) {
      fmt::print(stderr, "tributary-server: cannot open the applications: {}\n", opened.status().ToString());
      return 1;
    }
    manager = std::move(*opened);
    if (absl::Status st = tributary::RegisterBuiltinProcessors(*manager, **store); !st.ok()) {
      fmt::print(stderr, "tributary-server: {}\n", st.ToString());
      return 1;
    }
    endpoint_options.applications = manager.get();
  }
  if (test_control) {
    tributary::endpoint::ControlOptions co;
    co.faults = &faults;
    co.manual_clock = manual_clock_on ? &manual_clock : nullptr;
    co.clock = manual_clock_on ? static_cast<tributary::Clock*>(&manual_clock) : tributary::SystemClock();
    if (manager != nullptr) {
      tributary::ApplicationManager* apps = manager.get();
      co.reset_applications = [apps] { return apps->DeleteAllApplications(); };
      co.application_job = [apps](std::string_view name, tributary::endpoint::JobCommand job) {
        using tributary::endpoint::JobCommand;
        return apps->SetJobFault(name, job == JobCommand::kFail   ? tributary::JobFault::kFail
                                       : job == JobCommand::kHang ? tributary::JobFault::kHang
                                                                  : tributary::JobFault::kNone);
      };
    }
    control.emplace(std::move(co));
    endpoint_options.control = &*control;
  }
  tributary::endpoint::Endpoint endpoint(store->get(), endpoint_options);
  auto http = tributary::endpoint::HttpServer::Start(&endpoint, server);
  if (!http.ok()) {
    fmt::print(stderr, "tributary-server: {}\n", std::string(http.status().message()));
    return 1;
  }
  fmt::print(stderr,
             "tributary-server: {} store, region {}, account {}, delays create {} update {} "
             "delete {}, throughput limits {}, signatures {}, accounts {}{}{}\n",
             data_dir.has_value() ? (no_sync ? "durable (no sync)" : "durable (synced)") : "in-memory",
             store_options.region, store_options.account_id,
             absl::FormatDuration(store_options.create_delay),
             absl::FormatDuration(store_options.update_delay),
             absl::FormatDuration(store_options.delete_delay),
             store_options.throughput.enabled ? "on" : "off",
             endpoint_options.credentials.empty()
                 ? std::string(endpoint_options.require_signatures ? "required, not verified" : "not checked")
                 : fmt::format("checked ({} keys)", endpoint_options.credentials.size()),
             endpoint_options.account_from_access_key ? "by access key" : "one",
             manual_clock_on ? ", manual clock" : "",
             test_control ? ", --test-control: test control API ON (/_tributary/: reset, clock, "
                            "faults; every call logged)"
                          : "");
  if (manager != nullptr) {
    manager->StartRunner(absl::Milliseconds(10));
    fmt::print(stderr,
               "tributary-server: applications (kinesisanalyticsv2) on, {} open, transitions {}, "
               "restart delay {}\n",
               manager->ListApplications().size(), absl::FormatDuration(app_transition),
               absl::FormatDuration(endpoint_options.application_restart_delay));
  }
  fmt::print("listening on {}\n", (*http)->url());
  if (!(*http)->tls_url().empty()) fmt::print("listening on {}\n", (*http)->tls_url());
  if (tls_ca.has_value()) fmt::print("tls ca: {}\n", *tls_ca);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  fmt::print(stderr, "tributary-server: {} received, shutting down\n", strsignal(sig));
  (*http)->Shutdown();
  (*http)->Wait();
  http->reset();
  if (manager != nullptr) manager->StopRunner();  // running jobs just stop; they resume at the next start
  fmt::print(stderr, "tributary-server: stopped\n");
  return 0;
}
