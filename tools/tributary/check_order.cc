// `tributary check-order`: flags, the store to check, the run, the report
// and the exit code (docs/CLI.md "check-order").
#include "check_order.h"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "commands.h"
#include "lineage/lineage_graph.h"
#include "tributary/remote.h"
#include "tributary/tributary.h"

namespace tributary::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: tributary check-order [--endpoint URL | --server BINARY] [flags]\n"
    "\n"
    "Writes records carrying (writer, key, per-key counter) while reshards (and restarts) happen,\n"
    "reads them back with a consumer, and checks that nothing acknowledged was lost and that each\n"
    "key's records came in order. Exit 0 if so, 1 if not (or on an error), 2 on a usage error.\n"
    "\n"
    "where:\n"
    "  --endpoint URL          a Kinesis endpoint (tributary-server, kinesalite, Amazon Kinesis);\n"
    "                          credentials and region from the usual AWS sources (dummy ones for\n"
    "                          a loopback endpoint without any)\n"
    "  --server BINARY         start this tributary-server on 127.0.0.1 with --data-dir and use it;\n"
    "                          only then can --restarts kill it with SIGKILL and restart it\n"
    "  --data-dir DIR          with --server: its directory (default: a temporary one, removed)\n"
    "  --server-arg ARG        with --server: one more flag for it (repeatable)\n"
    "  (neither: an in-process store)\n"
    "  --region REGION         for --endpoint (default: AWS_REGION ..., else us-east-1)\n"
    "  --stream NAME           stream to write (default check-order-<run>; created if missing,\n"
    "                          then deleted unless --keep-stream; an existing one is kept)\n"
    "  --shards N              shards of a created stream (default 2)\n"
    "bounds:\n"
    "  --seconds S             length of the write phase (default 10; up to twice that while the\n"
    "                          nemesis is behind on a slow endpoint)\n"
    "  --records N             stop writing after N records (default: no count bound)\n"
    "  --drain-timeout S       after writing, wait at most S for the consumer (default 30)\n"
    "generator:\n"
    "  --writers W             writer threads (default 2)\n"
    "  --keys K                partition keys key-0 .. key-<K-1> (default 100)\n"
    "  --rate R                records/s in all (default 1000; 0: as fast as possible)\n"
    "  --batch N               PutRecords entries per call, 1..500 (default 500)\n"
    "  --put-record-ratio F    share of calls that are a single PutRecord (default 0.1)\n"
    "  --record-bytes N        pad each record's data to N bytes (default: ~50, no padding)\n"
    "nemesis:\n"
    "  --reshards R            SplitShard/MergeShards/UpdateShardCount operations (default 12)\n"
    "  --max-shards N          never more open shards than N (default 8)\n"
    "  --no-update-shard-count only SplitShard and MergeShards\n"
    "  --restarts N            kill -9 and restart the --server N times (default 0)\n"
    "  --consumer-restarts N   crash and restart a consumer worker N times (default 0)\n"
    "consumer:\n"
    "  --consumer KIND         tributary (the ordered consumer, default), naive (every shard at\n"
    "                          once), parents-first (a plain reader draining parents first), or\n"
    "                          output:STREAM (your consumer copies each record's data to STREAM\n"
    "                          in the order it processed them; that order is checked)\n"
    "  --consumer-workers N    workers of the tributary consumer (default 2)\n"
    "  --checkpoint-every N    batches between its checkpoints (default 10)\n"
    "  --poll-interval MS      rest of a caught-up shard (default 200)\n"
    "report:\n"
    "  --json FILE             everything as JSON\n"
    "  --svg FILE              the shard lineage over time, violations on the reshard that caused them\n"
    "  --seed N                seed of the nemesis' choices and the run id (default: from the time)\n"
    "  --quiet                 no progress lines on stderr\n";

int UsageError(std::string_view message) {
  fmt::print(stderr, "tributary: check-order: {}\n{}", message, kUsage);
  return kExitUsage;
}

bool IsLoopback(std::string_view url) {
  for (std::string_view host : {"://127.", "://localhost", "://[::1]"}) {
    if (url.find(host) != std::string_view::npos) return true;
  }
  return false;
}

std::string TempDir(std::string_view what) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = fmt::format("{}/tributary-check-order-{}-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
  if (mkdtemp(path.data()) == nullptr) return "";
  return path;
}

bool WriteFile(const std::string& path, std::string_view text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  return static_cast<bool>(f);
}

}  // namespace

int CheckOrderCommand(const std::vector<std::string_view>& args) {
  testing::CheckOrderOptions o;
  std::optional<std::string> endpoint, server, data_dir, region, json_path, svg_path;
  std::vector<std::string> server_args;
  std::string consumer = "tributary";
  bool quiet = false, stream_given = false;

  // name -> parser of its value; flags without a value are handled first.
  auto number = [](std::string_view v, double min, double max, double* out) {
    return absl::SimpleAtod(absl::string_view(v.data(), v.size()), out) && *out >= min && *out <= max;
  };
  auto integer = [](std::string_view v, int64_t min, int64_t max, int64_t* out) {
    return absl::SimpleAtoi(absl::string_view(v.data(), v.size()), out) && *out >= min && *out <= max;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kUsage);
      return kExitOk;
    }
    if (a.size() < 3 || a.substr(0, 2) != "--") return UsageError(fmt::format("unexpected argument '{}'", a));
    std::string_view name = a.substr(0, a.find('='));
    std::optional<std::string_view> value;
    if (name.size() < a.size()) value = a.substr(name.size() + 1);
    if (name == "--quiet" || name == "--keep-stream" || name == "--no-update-shard-count") {
      if (value) return UsageError(fmt::format("{} takes no value", name));
      if (name == "--quiet") quiet = true;
      if (name == "--keep-stream") o.keep_stream = true;
      if (name == "--no-update-shard-count") o.update_shard_count = false;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) return UsageError(fmt::format("{} needs a value", name));
      value = args[++i];
    }
    const std::string v(*value);
    double d = 0;
    int64_t n = 0;
    auto bad = [&](std::string_view want) { return UsageError(fmt::format("{} wants {}, got '{}'", name, want, v)); };
    if (name == "--endpoint") {
      endpoint = v;
    } else if (name == "--server") {
      server = v;
    } else if (name == "--data-dir") {
      data_dir = v;
    } else if (name == "--server-arg") {
      server_args.push_back(v);
    } else if (name == "--region") {
      region = v;
    } else if (name == "--stream") {
      o.stream = v;
      stream_given = true;
    } else if (name == "--shards") {
      if (!integer(v, 1, 10000, &n)) return bad("1..10000");
      o.shards = static_cast<int>(n);
    } else if (name == "--seconds") {
      if (!number(v, 0.001, 86400, &d)) return bad("seconds in (0, 86400]");
      o.duration = absl::Seconds(d);
    } else if (name == "--records") {
      if (!integer(v, 1, INT64_MAX, &n)) return bad("a positive count");
      o.max_records = static_cast<uint64_t>(n);
    } else if (name == "--drain-timeout") {
      if (!number(v, 0, 86400, &d)) return bad("seconds in [0, 86400]");
      o.drain_timeout = absl::Seconds(d);
    } else if (name == "--writers") {
      if (!integer(v, 1, 256, &n)) return bad("1..256");
      o.writers = static_cast<int>(n);
    } else if (name == "--keys") {
      if (!integer(v, 1, 1 << 20, &n)) return bad("1..1048576");
      o.keys = static_cast<int>(n);
    } else if (name == "--rate") {
      if (!number(v, 0, 1e9, &d)) return bad("records/s (0: unlimited)");
      o.rate = d;
    } else if (name == "--batch") {
      if (!integer(v, 1, 500, &n)) return bad("1..500");
      o.batch_size = static_cast<int>(n);
    } else if (name == "--put-record-ratio") {
      if (!number(v, 0, 1, &d)) return bad("a share in [0, 1]");
      o.put_record_ratio = d;
    } else if (name == "--record-bytes") {
      if (!integer(v, 0, 1 << 20, &n)) return bad("0..1048576");
      o.record_bytes = static_cast<size_t>(n);
    } else if (name == "--reshards") {
      if (!integer(v, 0, 10000, &n)) return bad("0..10000");
      o.reshards = static_cast<int>(n);
    } else if (name == "--max-shards") {
      if (!integer(v, 1, 10000, &n)) return bad("1..10000");
      o.max_shards = static_cast<int>(n);
    } else if (name == "--restarts") {
      if (!integer(v, 0, 1000, &n)) return bad("0..1000");
      o.server_restarts = static_cast<int>(n);
    } else if (name == "--consumer-restarts") {
      if (!integer(v, 0, 1000, &n)) return bad("0..1000");
      o.consumer_restarts = static_cast<int>(n);
    } else if (name == "--consumer") {
      consumer = v;
    } else if (name == "--consumer-workers") {
      if (!integer(v, 1, 64, &n)) return bad("1..64");
      o.consumer_workers = static_cast<int>(n);
    } else if (name == "--checkpoint-every") {
      if (!integer(v, 1, 1000000, &n)) return bad("a positive count");
      o.checkpoint_every = static_cast<int>(n);
    } else if (name == "--poll-interval") {
      if (!integer(v, 0, 60000, &n)) return bad("milliseconds 0..60000");
      o.poll_interval = absl::Milliseconds(n);
    } else if (name == "--json") {
      json_path = v;
    } else if (name == "--svg") {
      svg_path = v;
    } else if (name == "--seed") {
      uint64_t seed = 0;
      if (!absl::SimpleAtoi(v, &seed) || seed == 0) return bad("a positive integer");
      o.seed = seed;
    } else {
      return UsageError(fmt::format("unknown flag '{}'", name));
    }
  }
  if (absl::Status s = testing::ParseCheckConsumer(consumer, &o.consumer, &o.output_stream); !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  if (endpoint && server) return UsageError("--endpoint and --server exclude each other");
  if (!server && (data_dir || !server_args.empty())) return UsageError("--data-dir and --server-arg need --server");
  if (o.server_restarts > 0 && !server) {
    return UsageError("--restarts needs --server (the command can only kill a server it started)");
  }
  if (server) o.restart_server = [] { return absl::OkStatus(); };  // the real one once the server runs
  if (absl::Status s = testing::ValidateCheckOrderOptions(o); !s.ok()) return UsageError(std::string(s.message()));
  if (!stream_given) {
    // A fresh name per run, so runs against one endpoint never meet.
    o.stream = fmt::format("check-order-{}", absl::ToUnixMillis(absl::Now()));
  }

  // ---- the endpoint
  std::unique_ptr<ServerProcess> child;
  std::string temp_dir;
  if (server) {
    if (!data_dir) {
      temp_dir = TempDir("server");
      if (temp_dir.empty()) {
        fmt::print(stderr, "tributary: error: cannot create a temporary directory\n");
        return kExitFailure;
      }
      data_dir = temp_dir + "/data";
    }
    const std::string log = (temp_dir.empty() ? *data_dir : temp_dir) + "/server.log";
    std::filesystem::create_directories(std::filesystem::path(log).parent_path());
    absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start(*server, *data_dir, server_args, log);
    if (!started.ok()) {
      fmt::print(stderr, "tributary: error: {}\n", std::string(started.status().message()));
      return kExitFailure;
    }
    child = std::move(*started);
    endpoint = child->url();
    o.restart_server = [&child] { return child->Restart(); };
    if (!quiet) fmt::print(stderr, "check-order: started {} at {} (data in {})\n", *server, *endpoint, *data_dir);
  }
  std::unique_ptr<Store> store, writer_store;
  if (endpoint) {
    RemoteOptions ro;
    ro.endpoint_url = *endpoint;
    if (region) ro.region = *region;
    std::shared_ptr<CredentialsProvider> creds = DefaultCredentialsProvider();
    if (child || (!creds->GetCredentials().ok() && IsLoopback(*endpoint))) {
      // Local peers accept any signature.
      creds = StaticCredentialsProvider({"check-order", "check-order", ""});
    }
    ro.credentials = creds;
    // The nemesis waits for ACTIVE after each reshard by polling
    // DescribeStreamSummary; a local peer can take the faster pace (Amazon
    // Kinesis allows 20 of those calls a second per account).
    if (IsLoopback(*endpoint)) ro.poll_interval = absl::Milliseconds(20);
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::OpenRemote(ro);
    if (!opened.ok()) {
      fmt::print(stderr, "tributary: error: {}: {}\n", *endpoint, std::string(opened.status().message()));
      return kExitFailure;
    }
    store = std::move(*opened);
    // The writers retry themselves, so they know which attempts had an
    // unknown outcome (and which records may be stored twice).
    ro.retry.max_attempts = 1;
    opened = Store::OpenRemote(ro);
    if (!opened.ok()) {
      fmt::print(stderr, "tributary: error: {}: {}\n", *endpoint, std::string(opened.status().message()));
      return kExitFailure;
    }
    writer_store = std::move(*opened);
    o.writer_store = writer_store.get();
  } else {
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::OpenInMemory();
    if (!opened.ok()) {
      fmt::print(stderr, "tributary: error: {}\n", std::string(opened.status().message()));
      return kExitFailure;
    }
    store = std::move(*opened);
  }
  if (!quiet) {
    o.progress = [](std::string_view line) { fmt::print(stderr, "check-order: {}\n", line); };
  }

  absl::StatusOr<testing::CheckOrderReport> report = testing::CheckOrder(*store, o);
  writer_store.reset();
  store.reset();
  if (child) child->Stop();
  if (!temp_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir, ec);
  }
  if (!report.ok()) {
    fmt::print(stderr, "tributary: error: {}\n", report.status().ToString());
    return kExitFailure;
  }
  if (child) report->server_cpu_seconds = child->cpu_seconds();
  const std::string where = endpoint ? *endpoint : "in-process store";
  fmt::print("endpoint: {}\n{}", where, report->ToString());

  int code = report->ok() ? kExitOk : kExitFailure;
  if (json_path && !WriteFile(*json_path, CheckOrderJson(*report, where))) {
    fmt::print(stderr, "tributary: error: cannot write {}\n", *json_path);
    code = kExitFailure;
  }
  if (svg_path) {
    absl::StatusOr<std::string> svg = lineage::RenderSvg(CheckOrderDot(*report));
    if (!svg.ok()) {
      fmt::print(stderr, "tributary: error: --svg: {}\n", std::string(svg.status().message()));
      code = kExitFailure;
    } else if (!WriteFile(*svg_path, *svg)) {
      fmt::print(stderr, "tributary: error: cannot write {}\n", *svg_path);
      code = kExitFailure;
    }
  }
  return code;
}

}  // namespace tributary::cli
