// Helpers shared by the Tributary benchmarks: precomputed partition keys and
// payloads (so generating them is never measured), a process-wide in-memory
// store, and a stream that replaces itself before it holds too much memory.
#ifndef TRIBUTARY_BENCH_BENCH_COMMON_H_
#define TRIBUTARY_BENCH_BENCH_COMMON_H_

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tributary/tributary.h"

namespace tributary::bench {

// Number of distinct partition keys the benchmarks cycle through (a power of
// two, so the index is a mask).
inline constexpr size_t kNumKeys = 4096;

// Each stream is replaced by a fresh one (with timing paused) once it holds
// this many records or bytes, so a long run does not grow without bound.
inline constexpr int64_t kMaxRecordsPerStream = 1 << 20;
inline constexpr int64_t kMaxBytesPerStream = int64_t{256} << 20;

// The store keeps freed 4 MiB chunks for reuse up to this size. Sized above
// kMaxBytesPerStream (plus one partly used chunk per shard), so that after
// the first replacement appends reuse memory the way a store trimmed by
// retention does, and the numbers show the append path rather than
// first-touch page faults.
inline constexpr size_t kBenchPoolBytes = size_t{640} << 20;

// The benchmarks' environment knobs (bench/README.md): a number, or a
// comma-separated list of numbers, each with its default when unset.
inline double EnvNumber(const char* name, double dflt) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atof(v) : dflt;
}
inline std::vector<double> EnvNumbers(const char* name, const char* dflt) {
  const char* v = std::getenv(name);
  std::stringstream ss(v != nullptr ? v : dflt);
  std::vector<double> out;
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(std::atof(item.c_str()));
  }
  return out;
}

// "user-1000" .. "user-5095": typical short partition keys, one MD5 block each.
inline const std::vector<std::string>& Keys() {
  static const std::vector<std::string>* keys = [] {
    auto* v = new std::vector<std::string>();
    v->reserve(kNumKeys);
    for (size_t i = 0; i < kNumKeys; ++i) v->push_back("user-" + std::to_string(1000 + i));
    return v;
  }();
  return *keys;
}

// `n` deterministic pseudo-random bytes.
inline std::string Payload(size_t n) {
  std::mt19937_64 rng(n);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Aborts the benchmark program: used only in setup, where a failure means
// the numbers would be meaningless.
inline void CheckOk(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s failed: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

// The in-memory store every benchmark of a program uses. Sharing it keeps
// the chunk pool warm from one benchmark to the next.
inline Store& BenchStore() {
  static Store* store = [] {
    StoreOptions options;
    options.memory_pool_bytes = kBenchPoolBytes;
    auto s = Store::OpenInMemory(options);
    CheckOk(s.status(), "Store::OpenInMemory");
    return s->release();
  }();
  return *store;
}

// Fills the store's chunk pool by writing kMaxBytesPerStream of records to a
// throwaway stream and deleting it, so no benchmark pays first-touch page
// faults for memory a steady-state store would recycle.
inline void WarmChunkPool() {
  Store& store = BenchStore();
  CheckOk(store.CreateStream("warmup", 1), "CreateStream");
  const std::string data = Payload(64 << 10);
  std::vector<PutRecordInput> batch(64, PutRecordInput{"warmup", data, std::nullopt});
  for (int64_t bytes = 0; bytes < kMaxBytesPerStream; bytes += 64 * (64 << 10)) {
    CheckOk(store.PutBatch("warmup", batch).status(), "PutBatch");
  }
  CheckOk(store.DeleteStream("warmup"), "DeleteStream");
  CheckOk(store.WaitUntilDeleted("warmup", absl::Seconds(10)), "WaitUntilDeleted");
}

// A stream of `shard_count` shards on `store` (by default BenchStore()),
// deleted on destruction.
class BenchStream {
 public:
  explicit BenchStream(int shard_count, Store& store = BenchStore())
      : store_(store), shard_count_(shard_count) {
    Create();
  }
  ~BenchStream() { Delete(); }
  BenchStream(const BenchStream&) = delete;
  BenchStream& operator=(const BenchStream&) = delete;

  const std::string& name() const { return name_; }

  // Records that `records` records totalling `bytes` were written; replaces
  // the stream with an empty one (timing paused) once it is full.
  void Account(benchmark::State& state, int64_t records, int64_t bytes) {
    records_ += records;
    bytes_ += bytes;
    if (records_ < kMaxRecordsPerStream && bytes_ < kMaxBytesPerStream) return;
    state.PauseTiming();
    Delete();
    Create();
    state.ResumeTiming();
  }

 private:
  void Create() {
    static int next_id = 0;
    name_ = "bench-" + std::to_string(next_id++);
    CheckOk(store_.CreateStream(name_, shard_count_), "CreateStream");
    // Instant on local stores; a remote endpoint may keep it CREATING a while.
    CheckOk(store_.WaitUntilActive(name_, absl::Seconds(60)), "WaitUntilActive");
    records_ = 0;
    bytes_ = 0;
  }
  void Delete() {
    CheckOk(store_.DeleteStream(name_), "DeleteStream");
    CheckOk(store_.WaitUntilDeleted(name_, absl::Seconds(10)), "WaitUntilDeleted");
  }

  Store& store_;
  const int shard_count_;
  std::string name_;
  int64_t records_ = 0;
  int64_t bytes_ = 0;  // key + data
};

}  // namespace tributary::bench

#endif  // TRIBUTARY_BENCH_BENCH_COMMON_H_
