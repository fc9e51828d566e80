// The cost of the wire: the same workloads through the embedded backend and
// through the remote backend (Store::OpenRemote) against tributary-server on
// loopback, in one run. Every workload is one function taking a Store&, so
// the backend is the only difference:
//
//   BM_PutBatch/<backend>/<record bytes>  PutBatch of 500 records
//   BM_Put/<backend>/100                  one 100-byte record per call (latency)
//   BM_Drain/<backend>                    the ordered consumer (pull API) reads a
//                                         4-shard stream of 100,000 records with
//                                         a split and a merge in its history
//
// Backends: `memory` (Store::OpenInMemory), `durable` (Store::Open on a
// scratch directory under the build tree, Sync::kNo, so the write path and
// not fdatasync is measured) and `remote` (Store::OpenRemote against a
// tributary-server --in-memory child on a kernel-picked 127.0.0.1 port, or
// against --endpoint). All times are wall-clock (UseRealTime): a remote
// call's time is mostly spent in the server and on the loopback, which the
// caller's CPU time does not see. Counters: items/s = records/s, bytes/s =
// record data, time_per_record = wall time per record, and for the remote
// backend with a child server server_cpu = the server's CPU seconds per
// wall second (user + system, from /proc, 10 ms ticks).
//
// Flags (besides the --benchmark_* ones):
//   --server=PATH        tributary-server to start (default: the one this build
//                        made; env TRIBUTARY_SERVER)
//   --server_arg=ARG     extra argument for the server (repeatable); an
//                        argument starting with --data-dir replaces --in-memory
//   --endpoint=URL       use a running Kinesis-compatible endpoint instead of
//                        starting a server (env TRIBUTARY_REMOTE_BENCH_ENDPOINT)
//   --drain_records=N    records in the drained stream (default 100000; env
//                        TRIBUTARY_REMOTE_BENCH_DRAIN_RECORDS; scripts/test's
//                        smoke run uses a small number)
//   --no_remote          embedded backends only
//
// Release numbers, e.g.:
//   cmake --build build/release --target remote_bench tributary-server
//   build/release/bench/remote_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.h"
#include "testing/listening_process.h"
#include "tributary/consumer.h"
#include "tributary/lease_table.h"
#include "tributary/remote.h"
#include "tributary/tributary.h"

#ifndef TRIBUTARY_SERVER_PATH
#error "TRIBUTARY_SERVER_PATH must name the tributary-server binary (bench/CMakeLists.txt)"
#endif
#ifndef TRIBUTARY_BENCH_TMPDIR
#error "TRIBUTARY_BENCH_TMPDIR must name a scratch directory under the build tree"
#endif

namespace tributary::bench {
namespace {

constexpr int kBatchSize = 500;
constexpr int kDrainShards = 4;
constexpr size_t kDrainRecordBytes = 100;

// ---------------------------------------------------------------- the server

// tributary-server as a child process (tests/testing/listening_process.h):
// started on port 0 of 127.0.0.1, its URL read from the "listening on URL"
// line it prints when ready; stopped on destruction; SIGKILLed if this
// program dies first, so an aborted run leaves no server behind.
using ServerProcess = testing::ListeningProcess;

std::unique_ptr<ServerProcess> StartServer(const std::string& path, const std::vector<std::string>& extra_args) {
  const bool durable = std::any_of(extra_args.begin(), extra_args.end(),
                                   [](const std::string& a) { return a.rfind("--data-dir", 0) == 0; });
  std::vector<std::string> argv = {path, "--host", "127.0.0.1", "--port", "0",
                                   "--create-delay", "0", "--update-delay", "0",
                                   "--delete-delay", "0"};
  if (!durable) argv.push_back("--in-memory");
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  ServerProcess::Options options;
  options.keep_stderr = std::getenv("TRIBUTARY_REMOTE_BENCH_SERVER_LOG") != nullptr;
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(argv, options, &error);
  if (server == nullptr) {
    std::fprintf(stderr, "remote_bench: %s (TRIBUTARY_REMOTE_BENCH_SERVER_LOG=1 shows its stderr)\n",
                 error.c_str());
  }
  return server;
}

// ---------------------------------------------------------------- backends

struct Backend {
  std::string name;
  std::unique_ptr<Store> store;
  const ServerProcess* server = nullptr;  // the remote backend's child, if any
};

struct Config {
  std::string server_path;
  std::vector<std::string> server_args;
  std::string endpoint;
  int64_t drain_records = 100000;
  bool remote = true;
};

std::string ScratchDir() { return TRIBUTARY_BENCH_TMPDIR; }

// Samples the server's CPU time over a benchmark and reports it as a rate
// (server CPU seconds per wall second: 1.0 = one core busy).
class ServerCpu {
 public:
  explicit ServerCpu(const Backend& b) : server_(b.server) {
    if (server_ != nullptr) start_ = server_->CpuSeconds();
  }
  void Report(benchmark::State& state) const {
    if (server_ == nullptr || start_ < 0) return;
    double end = server_->CpuSeconds();
    if (end < 0) return;
    state.counters["server_cpu"] = benchmark::Counter(end - start_, benchmark::Counter::kIsRate);
  }

 private:
  const ServerProcess* server_;
  double start_ = -1;
};

void PerRecordCounters(benchmark::State& state, int64_t records, int64_t data_bytes) {
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(data_bytes);
  state.counters["time_per_record"] = benchmark::Counter(
      static_cast<double>(records), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------- workloads

// PutBatch of kBatchSize records of `record_bytes` to a 4-shard stream.
void PutBatchWorkload(benchmark::State& state, Backend& backend, size_t record_bytes) {
  Store& store = *backend.store;
  BenchStream stream(4, store);
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  std::vector<std::vector<PutRecordInput>> batches(kNumKeys / kBatchSize);
  int64_t batch_bytes = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    batch_bytes = 0;
    for (int r = 0; r < kBatchSize; ++r) {
      const std::string& key = keys[b * kBatchSize + r];
      batches[b].push_back(PutRecordInput{key, data, std::nullopt});
      batch_bytes += static_cast<int64_t>(key.size() + record_bytes);
    }
  }
  ServerCpu cpu(backend);
  size_t i = 0;
  for (auto _ : state) {
    auto result = store.PutBatch(stream.name(), batches[i++ % batches.size()]);
    if (!result.ok() || result->failed_record_count != 0) {
      state.SkipWithError(result.ok() ? "PutBatch: some records failed"
                                      : result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
    stream.Account(state, kBatchSize, batch_bytes);
  }
  cpu.Report(state);
  PerRecordCounters(state, state.iterations() * kBatchSize,
                    state.iterations() * kBatchSize * static_cast<int64_t>(record_bytes));
}

// One record per call: the latency of a Put.
void PutWorkload(benchmark::State& state, Backend& backend, size_t record_bytes) {
  Store& store = *backend.store;
  BenchStream stream(4, store);
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  ServerCpu cpu(backend);
  size_t i = 0;
  for (auto _ : state) {
    const std::string& key = keys[i++ & (kNumKeys - 1)];
    auto result = store.Put(stream.name(), PutRecordInput{key, data, std::nullopt});
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
    stream.Account(state, 1, static_cast<int64_t>(key.size() + record_bytes));
  }
  cpu.Report(state);
  PerRecordCounters(state, state.iterations(),
                    state.iterations() * static_cast<int64_t>(record_bytes));
}

std::vector<ShardDescription> OpenShards(Store& store, const std::string& stream) {
  std::vector<ShardDescription> open;
  ListShardsRequest req;
  req.stream = stream;
  for (;;) {
    auto page = store.ListShards(req);
    CheckOk(page.status(), "ListShards");
    for (auto& s : page->shards) {
      if (s.state == ShardState::kOpen) open.push_back(s);
    }
    if (!page->next_token) break;
    req = ListShardsRequest();
    req.next_token = *page->next_token;
  }
  std::sort(open.begin(), open.end(), [](const ShardDescription& a, const ShardDescription& b) {
    return a.hash_key_range.start < b.hash_key_range.start;
  });
  return open;
}

// The drained stream: kDrainShards shards, `records` records of
// kDrainRecordBytes in three thirds, with a split after the first third and a
// merge (of two shards the split did not touch) after the second, so the
// consumer walks parents before children. Built once per backend.
struct DrainStream {
  std::string name;
  int64_t records = 0;
};

// The drained stream of each backend, by backend name.
std::map<std::string, DrainStream>& DrainStreams() {
  static auto* streams = new std::map<std::string, DrainStream>();
  return *streams;
}

DrainStream BuildDrainStream(Store& store, int64_t records) {
  static int next_id = 0;
  DrainStream s{"drain-" + std::to_string(next_id++), records};
  CheckOk(store.CreateStream(s.name, kDrainShards), "CreateStream");
  CheckOk(store.WaitUntilActive(s.name, absl::Seconds(60)), "WaitUntilActive");
  const std::string data = Payload(kDrainRecordBytes);
  const std::vector<std::string>& keys = Keys();
  int64_t written = 0;
  auto write_until = [&](int64_t target) {
    while (written < target) {
      std::vector<PutRecordInput> batch;
      for (; written < target && batch.size() < kBatchSize; ++written) {
        batch.push_back(PutRecordInput{keys[static_cast<size_t>(written) & (kNumKeys - 1)], data,
                                       std::nullopt});
      }
      auto r = store.PutBatch(s.name, batch);
      CheckOk(r.status(), "PutBatch");
      if (r->failed_record_count != 0) CheckOk(absl::InternalError("records failed"), "PutBatch");
    }
  };
  write_until(records / 3);
  std::vector<ShardDescription> open = OpenShards(store, s.name);
  CheckOk(store.SplitShard(s.name, open[0].shard_id, open[0].hash_key_range.Midpoint()),
          "SplitShard");
  CheckOk(store.WaitUntilActive(s.name, absl::Seconds(60)), "WaitUntilActive");
  write_until(2 * records / 3);
  open = OpenShards(store, s.name);  // [child, child, 1, 2, 3]
  CheckOk(store.MergeShards(s.name, open[2].shard_id, open[3].shard_id), "MergeShards");
  CheckOk(store.WaitUntilActive(s.name, absl::Seconds(60)), "WaitUntilActive");
  write_until(records);
  return s;
}

// The ordered consumer (pull API, one worker) reads the whole stream from
// TRIM_HORIZON, checkpointing every batch, with leases and checkpoints in a
// fresh in-memory lease table (the same for both backends: a remote
// consumer keeps them locally). One iteration = one full drain.
void DrainWorkload(benchmark::State& state, Backend& backend, int64_t records) {
  Store& store = *backend.store;
  auto& streams = DrainStreams();
  auto it = streams.find(backend.name);
  if (it == streams.end()) {
    it = streams.emplace(backend.name, BuildDrainStream(store, records)).first;
  }
  const DrainStream& stream = it->second;
  static int next_consumer = 0;
  ServerCpu cpu(backend);
  int64_t delivered_total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ConsumerOptions co;
    co.stream = stream.name;
    co.consumer_name = "drain-" + std::to_string(next_consumer++);
    co.lease_table = std::shared_ptr<LeaseTable>(NewInMemoryLeaseTable());
    co.idle_interval = absl::Milliseconds(1);
    state.ResumeTiming();
    auto consumer = Consumer::Create(store, co);
    if (!consumer.ok()) {
      state.SkipWithError(consumer.status().ToString().c_str());
      break;
    }
    int64_t delivered = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(300);
    bool failed = false;
    while (delivered < stream.records) {
      auto b = (*consumer)->Poll();
      if (!b.ok()) {
        state.SkipWithError(b.status().ToString().c_str());
        failed = true;
        break;
      }
      if (!b->has_value()) {
        if (absl::Now() > deadline) {
          state.SkipWithError("drain did not finish within 300 s");
          failed = true;
          break;
        }
        continue;
      }
      delivered += static_cast<int64_t>((*b)->records.size());
      absl::Status st = (*consumer)->Checkpoint(**b);
      if (!st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        failed = true;
        break;
      }
    }
    if (failed) break;
    delivered_total += delivered;
    state.PauseTiming();
    consumer->reset();  // leases stay in the table that goes with it
    state.ResumeTiming();
  }
  cpu.Report(state);
  PerRecordCounters(state, delivered_total,
                    delivered_total * static_cast<int64_t>(kDrainRecordBytes));
}

// ---------------------------------------------------------------- setup

bool ParseFlags(int argc, char** argv, Config& config) {
  if (const char* s = std::getenv("TRIBUTARY_SERVER")) config.server_path = s;
  if (const char* e = std::getenv("TRIBUTARY_REMOTE_BENCH_ENDPOINT")) config.endpoint = e;
  if (const char* n = std::getenv("TRIBUTARY_REMOTE_BENCH_DRAIN_RECORDS")) {
    config.drain_records = std::atoll(n);
  }
  enum { kServer = 1, kServerArg, kEndpoint, kDrainRecords, kNoRemote };
  static const option kOptions[] = {
      {"server", required_argument, nullptr, kServer},
      {"server_arg", required_argument, nullptr, kServerArg},
      {"endpoint", required_argument, nullptr, kEndpoint},
      {"drain_records", required_argument, nullptr, kDrainRecords},
      {"no_remote", no_argument, nullptr, kNoRemote},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (opt) {
      case kServer: config.server_path = optarg; break;
      case kServerArg: config.server_args.push_back(optarg); break;
      case kEndpoint: config.endpoint = optarg; break;
      case kDrainRecords: config.drain_records = std::atoll(optarg); break;
      case kNoRemote: config.remote = false; break;
      default:
        std::fprintf(stderr, "remote_bench: unknown or incomplete flag '%s'\n", argv[optind - 1]);
        return false;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "remote_bench: unexpected argument '%s'\n", argv[optind]);
    return false;
  }
  if (config.drain_records < 3 || config.drain_records > 100000000) {
    std::fprintf(stderr, "remote_bench: --drain_records must be in 3..100000000\n");
    return false;
  }
  if (config.server_path.empty()) config.server_path = TRIBUTARY_SERVER_PATH;
  return true;
}

// Waits until the remote store answers ListStreams (bounded).
bool WaitForAnswer(Store& store) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  absl::Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = store.ListStreams().status();
    if (last.ok()) return true;
    usleep(20000);
  }
  std::fprintf(stderr, "remote_bench: the endpoint does not answer: %s\n", last.ToString().c_str());
  return false;
}

std::unique_ptr<Store> OpenRemoteStore(const std::string& url) {
  RemoteOptions o;
  o.endpoint_url = url;
  o.region = "us-east-1";
  o.account_id = "000000000000";
  // Local peers accept any credentials; real endpoints use the usual chain.
  if (std::getenv("AWS_ACCESS_KEY_ID") == nullptr) {
    o.credentials = StaticCredentialsProvider({"AKIDTRIBUTARYBENCH", "tributary-bench-secret", ""});
  }
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Seconds(30);
  o.retry.max_attempts = 3;
  o.poll_interval = absl::Milliseconds(5);
  auto store = Store::OpenRemote(o);
  CheckOk(store.status(), "Store::OpenRemote");
  return std::move(*store);
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  using namespace tributary;
  using namespace tributary::bench;
  benchmark::Initialize(&argc, argv);
  Config config;
  if (!ParseFlags(argc, argv, config)) return 2;

  std::vector<std::unique_ptr<Backend>> backends;
  {
    auto b = std::make_unique<Backend>();
    b->name = "memory";
    auto s = Store::OpenInMemory();
    CheckOk(s.status(), "Store::OpenInMemory");
    b->store = std::move(*s);
    backends.push_back(std::move(b));
  }
  const std::string durable_dir = ScratchDir() + "/remote_bench_store";
  {
    std::filesystem::remove_all(durable_dir);
    std::filesystem::create_directories(ScratchDir());
    auto b = std::make_unique<Backend>();
    b->name = "durable";
    StoreOptions options;
    options.sync = Sync::kNo;
    auto s = Store::Open(durable_dir, options);
    CheckOk(s.status(), "Store::Open");
    b->store = std::move(*s);
    backends.push_back(std::move(b));
  }
  std::unique_ptr<ServerProcess> server;
  if (config.remote) {
    std::string url = config.endpoint;
    if (url.empty()) {
      server = StartServer(config.server_path, config.server_args);
      if (server == nullptr) return 1;
      url = server->url();
    }
    auto b = std::make_unique<Backend>();
    b->name = "remote";
    b->store = OpenRemoteStore(url);
    b->server = server.get();
    if (!WaitForAnswer(*b->store)) return 1;
    std::fprintf(stderr, "remote_bench: remote backend at %s%s\n", url.c_str(),
                 server ? " (tributary-server child)" : "");
    backends.push_back(std::move(b));
  }

  // Grouped by workload, so each backend's row sits next to the others.
  for (auto& b : backends) {
    Backend* backend = b.get();
    for (size_t bytes : {size_t{100}, size_t{1024}}) {
      std::string name = "BM_PutBatch/" + backend->name + "/" + std::to_string(bytes);
      benchmark::RegisterBenchmark(name.c_str(), [backend, bytes](benchmark::State& st) {
        PutBatchWorkload(st, *backend, bytes);
      })->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
  }
  for (auto& b : backends) {
    Backend* backend = b.get();
    std::string name = "BM_Put/" + backend->name + "/100";
    benchmark::RegisterBenchmark(name.c_str(), [backend](benchmark::State& st) {
      PutWorkload(st, *backend, 100);
    })->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
  for (auto& b : backends) {
    Backend* backend = b.get();
    const int64_t records = config.drain_records;
    std::string name = "BM_Drain/" + backend->name;
    benchmark::RegisterBenchmark(name.c_str(), [backend, records](benchmark::State& st) {
      DrainWorkload(st, *backend, records);
    })->UseRealTime()->Unit(benchmark::kMillisecond);
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  // The drained streams on an endpoint we did not start are ours to delete
  // (the others are deleted as they go); a child server and the scratch
  // store simply go.
  if (server == nullptr && config.remote) {
    auto it = DrainStreams().find("remote");
    if (it != DrainStreams().end()) (void)backends.back()->store->DeleteStream(it->second.name);
  }
  backends.clear();
  server.reset();
  std::filesystem::remove_all(durable_dir);
  return 0;
}
