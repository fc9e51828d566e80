// Reopening a durable store (docs/DURABILITY.md "Opening"):
//
//   BM_Reopen/gib:G/cache:C/open:O   Store::Open of a store holding G GiB of
//       segments, closed cleanly. open:metadata is the default open (the
//       catalog and the recovery point); open:scan is verify_on_open, which
//       reads every segment as every open did before recovery points.
//       cache:cold drops the page cache first (`echo 3 >
//       /proc/sys/vm/drop_caches`; skipped with a note when not allowed).
//   BM_CrashReplay/mib:M             Store::Open after kill -9 of a child that
//       wrote M MiB (Sync::kNo, no checkpoint in between) after the last
//       recovery point: replay time against the data written since it.
//
// The stores are built under TRIBUTARY_BENCH_DIR (default: a directory under
// the build tree) and removed at the end; with TRIBUTARY_BENCH_KEEP=1 they
// stay, and later runs reuse them. Sizes: TRIBUTARY_BENCH_REOPEN_GIB (a comma list,
// default 0.25 so the CI smoke run stays short; the figures are
// 5,50), TRIBUTARY_BENCH_REPLAY_MIB (default 16,64).
//
//   TRIBUTARY_BENCH_REOPEN_GIB=5,50 build/release/bench/durable_reopen_bench
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_common.h"
#include "tributary/tributary.h"

#ifndef TRIBUTARY_BENCH_TMPDIR
#error "TRIBUTARY_BENCH_TMPDIR must name a scratch directory under the build tree"
#endif

namespace {

using tributary::PutRecordInput;
using tributary::Store;
using tributary::StoreOptions;
using tributary::Sync;

std::string BaseDir() {
  const char* d = std::getenv("TRIBUTARY_BENCH_DIR");
  return d != nullptr ? d : TRIBUTARY_BENCH_TMPDIR;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "durable_reopen_bench: %s\n", what.c_str());
  std::abort();
}

constexpr int kShards = 16;
constexpr size_t kRecordBytes = 1024;

std::vector<PutRecordInput> Batch(int salt) {
  static const std::string data(kRecordBytes, 'x');
  static std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (int i = 0; i < 4096; ++i) k.push_back("key-" + std::to_string(i));
    return k;
  }();
  std::vector<PutRecordInput> b;
  for (int i = 0; i < 500; ++i) b.push_back({keys[(salt * 500 + i) % keys.size()], data, std::nullopt});
  return b;
}

// Writes `bytes` of records into stream "s" of `store`.
void Fill(Store& store, uint64_t bytes) {
  uint64_t written = 0;
  for (int i = 0; written < bytes; ++i) {
    auto r = store.PutBatch("s", Batch(i), tributary::WriteOptions{Sync::kNo});
    if (!r.ok() || r->failed_record_count != 0) Die("PutBatch failed while filling");
    written += 500 * kRecordBytes;
  }
}

// A store of `gib` GiB, closed cleanly; built once and reused.
std::string StoreOf(double gib) {
  const std::string dir = BaseDir() + "/reopen-" + std::to_string(static_cast<int>(gib * 1024)) + "MiB";
  const std::string marker = dir + "/.bench-complete";
  if (std::filesystem::exists(marker)) return dir;
  std::filesystem::remove_all(dir);
  {
    StoreOptions o;
    o.sync = Sync::kNo;
    auto s = Store::Open(dir, o);
    if (!s.ok()) Die("Store::Open: " + s.status().ToString());
    if (!(*s)->CreateStream("s", kShards).ok()) Die("CreateStream");
    std::fprintf(stderr, "building a %.2f GiB store in %s ...\n", gib, dir.c_str());
    Fill(**s, static_cast<uint64_t>(gib * (uint64_t{1} << 30)));
  }
  std::ofstream(marker) << "ok\n";
  return dir;
}

bool DropCaches() {
  ::sync();
  std::ofstream f("/proc/sys/vm/drop_caches");
  if (!f) return false;
  f << "3\n";
  f.flush();
  return static_cast<bool>(f);
}

void BM_Reopen(benchmark::State& state, double gib, bool cold, bool scan) {
  const std::string dir = StoreOf(gib);
  StoreOptions o;
  o.verify_on_open = scan;
  uint64_t records = 0, scanned = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (cold && !DropCaches()) {
      state.SkipWithError("cannot drop the page cache here (needs root and a writable /proc/sys/vm)");
      break;
    }
    state.ResumeTiming();
    auto s = Store::Open(dir, o);
    if (!s.ok()) Die("Store::Open: " + s.status().ToString());
    state.PauseTiming();
    records = (*s)->recovery().records;
    scanned = (*s)->recovery().bytes_scanned;
    s->reset();  // a clean shutdown (untimed)
    state.ResumeTiming();
  }
  state.counters["records"] = static_cast<double>(records);
  state.counters["bytes_scanned"] = static_cast<double>(scanned);
}

void BM_CrashReplay(benchmark::State& state, double mib) {
  const std::string dir = BaseDir() + "/replay-" + std::to_string(static_cast<int>(mib)) + "MiB";
  uint64_t replayed = 0, wal_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    {
      auto s = Store::Open(dir);
      if (!s.ok() || !(*s)->CreateStream("s", kShards).ok()) Die("setup");
    }
    int fds[2];
    if (::pipe(fds) != 0) Die("pipe");
    pid_t pid = ::fork();
    if (pid < 0) Die("fork");
    if (pid == 0) {
      // The child: no checkpoint may run, so everything goes to the WAL
      // after the recovery point the open left.
      StoreOptions o;
      o.sync = Sync::kNo;
      o.checkpoint_wal_bytes = uint64_t{1} << 40;
      o.checkpoint_interval = absl::ZeroDuration();
      auto s = Store::Open(dir, o);
      if (!s.ok()) _exit(2);
      Fill(**s, static_cast<uint64_t>(mib * (1 << 20)));
      char c = 'x';
      if (::write(fds[1], &c, 1) != 1) _exit(3);
      ::pause();
      _exit(0);
    }
    char c;
    if (::read(fds[0], &c, 1) != 1) Die("child did not finish writing");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(fds[0]);
    ::close(fds[1]);
    state.ResumeTiming();
    auto s = Store::Open(dir);
    if (!s.ok()) Die("Store::Open after kill -9: " + s.status().ToString());
    state.PauseTiming();
    replayed = (*s)->recovery().records_replayed;
    wal_bytes = (*s)->recovery().wal_bytes;
    s->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["records_replayed"] = static_cast<double>(replayed);
  state.counters["wal_MiB"] = static_cast<double>(wal_bytes) / (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::filesystem::create_directories(BaseDir());
  for (double gib : tributary::bench::EnvNumbers("TRIBUTARY_BENCH_REOPEN_GIB", "0.25")) {
    for (bool cold : {false, true}) {
      for (bool scan : {false, true}) {
        std::ostringstream name;
        name << "BM_Reopen/gib:" << gib << "/cache:" << (cold ? "cold" : "warm")
             << "/open:" << (scan ? "scan" : "metadata");
        benchmark::RegisterBenchmark(name.str().c_str(), [gib, cold, scan](benchmark::State& s) {
          BM_Reopen(s, gib, cold, scan);
        })->Iterations(scan ? 1 : 5)->UseRealTime()->Unit(benchmark::kMillisecond);
      }
    }
  }
  for (double mib : tributary::bench::EnvNumbers("TRIBUTARY_BENCH_REPLAY_MIB", "16,64")) {
    benchmark::RegisterBenchmark(("BM_CrashReplay/mib:" + std::to_string(static_cast<int>(mib))).c_str(),
                                 [mib](benchmark::State& s) { BM_CrashReplay(s, mib); })
        ->Iterations(3)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const char* keep = std::getenv("TRIBUTARY_BENCH_KEEP");
  if (keep == nullptr || std::string(keep) == "0") std::filesystem::remove_all(BaseDir());
  return 0;
}
