// Write path: Store::Put and Store::PutBatch on an in-memory store, next to
// the physical floor of a Put (MD5 of the partition key plus one copy of the
// record), which the write path is measured against:
//
//   BM_Put/<record bytes>/<shards>        one record per call
//   BM_PutBatch/<record bytes>/<shards>   500 records per call
//   BM_Md5PlusCopy/<record bytes>         the floor: EVP MD5 + memcpy
//   BM_Md5OneShotPlusCopy/<record bytes>  the floor with OpenSSL's one-shot MD5()
//
// Targets: Put >= 50% of BM_Md5PlusCopy's rate at the same record size;
// PutBatch of 1 KiB records above 1 GB/s. Bytes processed count record data
// only. Numbers mean something in Release builds only, for example in the
// build/release tree scripts/demo configures:
//   cmake --build build/release --target append_bench
//   build/release/bench/append_bench --benchmark_min_time=0.5
#define OPENSSL_SUPPRESS_DEPRECATED 1  // MD5(), for the one-shot floor only

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/md5.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"
#include "tributary/tributary.h"

namespace tributary::bench {
namespace {

constexpr int kBatchSize = 500;

void BM_Put(benchmark::State& state) {
  const size_t record_bytes = static_cast<size_t>(state.range(0));
  BenchStream stream(static_cast<int>(state.range(1)));
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& key = keys[i++ & (kNumKeys - 1)];
    auto result = BenchStore().Put(stream.name(), PutRecordInput{key, data, std::nullopt});
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
    stream.Account(state, 1, static_cast<int64_t>(key.size() + record_bytes));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(record_bytes));
}

void BM_PutBatch(benchmark::State& state) {
  const size_t record_bytes = static_cast<size_t>(state.range(0));
  BenchStream stream(static_cast<int>(state.range(1)));
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  // kNumKeys / kBatchSize batches, each with its own keys, used in turn.
  std::vector<std::vector<PutRecordInput>> batches(kNumKeys / kBatchSize);
  int64_t batch_bytes = 0;  // key + data of one batch (about the same for all)
  for (size_t b = 0; b < batches.size(); ++b) {
    batch_bytes = 0;
    for (int r = 0; r < kBatchSize; ++r) {
      const std::string& key = keys[b * kBatchSize + r];
      batches[b].push_back(PutRecordInput{key, data, std::nullopt});
      batch_bytes += static_cast<int64_t>(key.size() + record_bytes);
    }
  }
  size_t i = 0;
  for (auto _ : state) {
    auto result = BenchStore().PutBatch(stream.name(), batches[i++ % batches.size()]);
    if (!result.ok() || result->failed_record_count != 0) {
      state.SkipWithError(result.ok() ? "PutBatch: some records failed"
                                      : result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
    stream.Account(state, kBatchSize, batch_bytes);
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
  state.SetBytesProcessed(state.iterations() * kBatchSize * static_cast<int64_t>(record_bytes));
}

// Destination of the floor's copies: a large, pre-touched buffer written as
// a ring, so the copies go to memory the way a store's appends do, without
// page faults.
constexpr size_t kRingBytes = size_t{256} << 20;
char* Ring() {
  static char* ring = [] {
    char* r = new char[kRingBytes];
    std::memset(r, 0, kRingBytes);
    return r;
  }();
  return ring;
}

void BM_Md5PlusCopy(benchmark::State& state) {
  const size_t record_bytes = static_cast<size_t>(state.range(0));
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  // The fast EVP path: the MD5 implementation is fetched once and the
  // context reused, so no per-call provider lookup or allocation.
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (md5 == nullptr || ctx == nullptr) {
    state.SkipWithError("OpenSSL: MD5 unavailable");
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md5);
    return;
  }
  char* ring = Ring();
  size_t offset = 0;
  size_t i = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  for (auto _ : state) {
    const std::string& key = keys[i++ & (kNumKeys - 1)];
    EVP_DigestInit_ex2(ctx, md5, nullptr);
    EVP_DigestUpdate(ctx, key.data(), key.size());
    EVP_DigestFinal_ex(ctx, digest, &digest_len);
    benchmark::DoNotOptimize(digest);
    if (offset + record_bytes > kRingBytes) offset = 0;
    std::memcpy(ring + offset, data.data(), record_bytes);
    benchmark::ClobberMemory();
    offset += record_bytes;
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md5);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(record_bytes));
}

// The same floor with OpenSSL's deprecated one-shot MD5(), which skips the
// EVP provider dispatch (the library uses it on the Put path).
void BM_Md5OneShotPlusCopy(benchmark::State& state) {
  const size_t record_bytes = static_cast<size_t>(state.range(0));
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  char* ring = Ring();
  size_t offset = 0;
  size_t i = 0;
  unsigned char digest[MD5_DIGEST_LENGTH];
  for (auto _ : state) {
    const std::string& key = keys[i++ & (kNumKeys - 1)];
    MD5(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    benchmark::DoNotOptimize(digest);
    if (offset + record_bytes > kRingBytes) offset = 0;
    std::memcpy(ring + offset, data.data(), record_bytes);
    benchmark::ClobberMemory();
    offset += record_bytes;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(record_bytes));
}

BENCHMARK(BM_Put)
    ->ArgsProduct({{100, 1024}, {1, 4, 16, 64, 256}});
BENCHMARK(BM_PutBatch)
    ->ArgsProduct({{100, 1024}, {1, 4, 16, 64, 256}});
BENCHMARK(BM_Md5PlusCopy)->Arg(100)->Arg(1024);
BENCHMARK(BM_Md5OneShotPlusCopy)->Arg(100)->Arg(1024);

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tributary::bench::WarmChunkPool();
  tributary::bench::Ring();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
