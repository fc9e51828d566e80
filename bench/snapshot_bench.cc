// Snapshots, restores and rollbacks of an application against the size of
// its state (one worker holding 1 MB or 100 MB), on a durable store over
// MemEnv (env:mem: the CPU cost) and over the POSIX file system in a scratch
// directory under the build tree (env:posix: real writes and fdatasync):
//
//   BM_Snapshot_Create/env:E/state_mb:N    CreateApplicationSnapshot and the
//       Pump() that takes it: SaveState (a copy of the state), encoding with
//       its XXH3-64 checksum, the file written, fdatasync'ed and renamed, and
//       the APPS metadata commit.
//   BM_Snapshot_Restore/env:E/state_mb:N   StartApplication from that
//       snapshot and the Pump() that deploys the job: the file read and
//       checked, decoded, RestoreState.
//   BM_Rollback_FirstRecord/env:E/state_mb:N   from RollbackApplication (of
//       an update whose job is failing) to the first record processed by the
//       restored version: the rollback, the restore, and one round.
//
// Bytes/s count the state bytes. Untimed per iteration: deleting the
// previous snapshot, stopping the job, the update that precedes a rollback
// (which takes its own snapshot). Release builds only:
//   cmake --preset release && cmake --build build/release --target snapshot_bench
//   build/release/bench/snapshot_bench --benchmark_out=snapshot.json
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tributary/tributary.h"

#ifndef TRIBUTARY_BENCH_TMPDIR
#error "TRIBUTARY_BENCH_TMPDIR must name a scratch directory under the build tree"
#endif

namespace tributary::bench {
namespace {

std::atomic<int64_t> g_processed{0};

void CheckOk(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}
template <typename T>
T CheckOk(absl::StatusOr<T> s, const char* what) {
  CheckOk(s.status(), what);
  return std::move(*s);
}

// One worker whose state is a blob of `state_bytes` (a property).
class Blob final : public Processor {
 public:
  Blob(size_t bytes, bool broken) : state_(bytes, 'x'), broken_(broken) {}
  absl::Status Process(absl::Span<const InputRecord> records) override {
    if (broken_) return absl::InternalError("broken upgrade");
    g_processed += static_cast<int64_t>(records.size());
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override { return state_; }
  absl::Status RestoreState(std::string_view s) override {
    state_.assign(s.data(), s.size());
    return absl::OkStatus();
  }

 private:
  std::string state_;
  bool broken_;
};

enum class Backend { kMem, kPosix };

// A store with stream "in" and a RUNNING application "app" on blob 1.0.
struct Rig {
  Rig(Backend backend, size_t state_bytes) : dir(std::string(TRIBUTARY_BENCH_TMPDIR) + "/snapshot-store") {
    StoreOptions options;
    options.clock = &clock;
    if (backend == Backend::kMem) {
      mem = NewMemEnv();
      options.env = mem.get();
    } else {
      std::filesystem::remove_all(dir);
    }
    store = CheckOk(Store::Open(dir, options), "Store::Open");
    CheckOk(store->CreateStream("in", 1), "CreateStream");
    mgr = CheckOk(ApplicationManager::Open(store.get()), "ApplicationManager::Open");
    for (bool broken : {false, true}) {
      CheckOk(mgr->RegisterProcessor("blob", broken ? "2.0" : "1.0",
                                     [broken](const ProcessorContext& ctx)
                                         -> absl::StatusOr<std::unique_ptr<Processor>> {
                                       size_t n = std::stoull(ctx.properties->at("state_bytes"));
                                       return std::make_unique<Blob>(n, broken);
                                     }),
              "RegisterProcessor");
    }
    config.input_stream = "in";
    config.processor_name = "blob";
    config.code_version = "1.0";
    config.runtime_environment = "1.15";
    config.parallelism = 1;
    config.properties["state_bytes"] = std::to_string(state_bytes);
    config.checkpoints.enabled = false;  // only the snapshots under test write state
    CheckOk(mgr->CreateApplication("app", config).status(), "CreateApplication");
    CheckOk(mgr->StartApplication("app").status(), "StartApplication");
    CheckOk(mgr->Pump(), "Pump");
  }
  ~Rig() {
    mgr.reset();
    store.reset();
    mem.reset();
    std::filesystem::remove_all(dir);
  }
  int64_t Version() { return CheckOk(mgr->DescribeApplication("app"), "Describe").application_version_id; }
  void DeleteSnapshots() {
    auto list = CheckOk(mgr->ListApplicationSnapshots("app"), "ListApplicationSnapshots");
    for (const SnapshotDetails& s : list.snapshots) {
      CheckOk(mgr->DeleteApplicationSnapshot("app", s.snapshot_name), "DeleteApplicationSnapshot");
    }
    CheckOk(mgr->Pump(), "Pump");
  }

  ManualClock clock;
  std::string dir;
  std::unique_ptr<Env> mem;
  std::unique_ptr<Store> store;
  std::unique_ptr<ApplicationManager> mgr;
  ApplicationConfiguration config;
};

void BM_Snapshot_Create(benchmark::State& state, Backend backend, int mb) {
  const size_t bytes = static_cast<size_t>(mb) << 20;
  Rig rig(backend, bytes);
  int i = 0;
  for (auto _ : state) {
    // Appended, not "s" + std::to_string(...): GCC 12 at -O3 reports a bogus
    // -Wrestrict inside std::string's operator+(const char*, string&&)
    // (GCC bug 105329), an error in CI's Release build (-Werror).
    std::string name = "s";
    name += std::to_string(i++);
    CheckOk(rig.mgr->CreateApplicationSnapshot("app", name), "CreateApplicationSnapshot");
    CheckOk(rig.mgr->Pump(), "Pump");
    state.PauseTiming();
    auto d = CheckOk(rig.mgr->DescribeApplicationSnapshot("app", name), "Describe");
    if (d.snapshot_status != SnapshotStatus::kReady || d.size_bytes != bytes) {
      state.SkipWithError("the snapshot is not READY with the whole state");
      break;
    }
    rig.DeleteSnapshots();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_Snapshot_Restore(benchmark::State& state, Backend backend, int mb) {
  const size_t bytes = static_cast<size_t>(mb) << 20;
  Rig rig(backend, bytes);
  CheckOk(rig.mgr->CreateApplicationSnapshot("app", "base"), "CreateApplicationSnapshot");
  CheckOk(rig.mgr->Pump(), "Pump");
  RunConfiguration run;
  run.restore_type = ApplicationRestoreType::kRestoreFromCustomSnapshot;
  run.snapshot_name = "base";
  for (auto _ : state) {
    state.PauseTiming();
    CheckOk(rig.mgr->StopApplication("app", /*force=*/true).status(), "StopApplication");
    CheckOk(rig.mgr->Pump(), "Pump");
    state.ResumeTiming();
    CheckOk(rig.mgr->StartApplication("app", run).status(), "StartApplication");
    CheckOk(rig.mgr->Pump(), "Pump");
    state.PauseTiming();
    auto d = CheckOk(rig.mgr->DescribeApplication("app"), "Describe");
    if (d.job.status != JobStatus::kRunning || d.job.restored_from != "base") {
      state.SkipWithError("the job did not start from the snapshot");
      break;
    }
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_Rollback_FirstRecord(benchmark::State& state, Backend backend, int mb) {
  const size_t bytes = static_cast<size_t>(mb) << 20;
  Rig rig(backend, bytes);
  for (auto _ : state) {
    state.PauseTiming();
    rig.DeleteSnapshots();
    ApplicationConfiguration broken = rig.config;
    broken.code_version = "2.0";
    broken.runtime_environment = "1.18";
    UpdateApplicationRequest up{"app", rig.Version(), broken, RunConfiguration()};
    CheckOk(rig.mgr->UpdateApplication(up).status(), "UpdateApplication");  // snapshot first
    CheckOk(rig.mgr->Pump(), "Pump");
    CheckOk(rig.store->Put("in", {"key", "one record"}).status(), "Put");
    g_processed = 0;
    state.ResumeTiming();
    CheckOk(rig.mgr->RollbackApplication("app", rig.Version()).status(), "RollbackApplication");
    int pumps = 0;
    while (g_processed == 0 && pumps++ < 10) CheckOk(rig.mgr->Pump(), "Pump");
    if (g_processed == 0) {
      state.SkipWithError("no record processed after the rollback");
      break;
    }
  }
}

void RegisterAll() {
  for (auto [backend, env] : {std::pair{Backend::kMem, "mem"}, std::pair{Backend::kPosix, "posix"}}) {
    for (int mb : {1, 100}) {
      const std::string suffix = std::string("/env:") + env + "/state_mb:" + std::to_string(mb);
      Backend b = backend;
      benchmark::RegisterBenchmark(("BM_Snapshot_Create" + suffix).c_str(),
                                   [b, mb](benchmark::State& s) { BM_Snapshot_Create(s, b, mb); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("BM_Snapshot_Restore" + suffix).c_str(),
                                   [b, mb](benchmark::State& s) { BM_Snapshot_Restore(s, b, mb); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("BM_Rollback_FirstRecord" + suffix).c_str(),
                                   [b, mb](benchmark::State& s) { BM_Rollback_FirstRecord(s, b, mb); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::filesystem::create_directories(TRIBUTARY_BENCH_TMPDIR);
  tributary::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
