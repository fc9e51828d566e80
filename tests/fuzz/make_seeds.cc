// Writes the seed corpora of the segment, catalog and token fuzz targets
// from real stores (so seeds are what the library writes and hands out):
//
//   build/test/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
//
// Files are named seed-*; inputs that once crashed a target are named
// crash-* and are never touched here. The endpoint seeds come from
// make_endpoint_seeds.py. Not part of ctest: run it when a format changes.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "fuzz/fixtures.h"
#include "fuzz/fuzz_util.h"
#include "tributary/tributary.h"
#include "util/coding.h"

namespace tributary::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, std::string_view data) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  FUZZ_CHECK(out.good(), "write " + (dir / name).string());
  std::printf("%s (%zu bytes)\n", (dir / name).c_str(), data.size());
}

std::string ReadAll(Env* env, const std::string& path) {
  auto size = env->GetFileSize(path);
  FUZZ_CHECK(size.ok(), path);
  auto f = env->NewRandomAccessFile(path);
  FUZZ_CHECK(f.ok(), path);
  std::string buf(*size, '\0');
  auto got = (*f)->Read(0, *size, buf.data());
  FUZZ_CHECK(got.ok(), path);
  return std::string(*got);
}

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  PutLE(&s, 0, v, 4);
  return s;
}

void SegmentSeeds(const fs::path& out) {
  auto env = NewMemEnv();
  ManualClock clock;
  StoreOptions o = SmallStoreOptions(&clock);
  o.env = env.get();
  o.segment_bytes = 4096;
  {
    auto store = *Store::Open("/db", o);
    FUZZ_CHECK(store->CreateStream("s", 1).ok(), "CreateStream");
    for (int i = 0; i < 40; ++i) {
      std::string data(static_cast<size_t>(10 + (i * 37) % 600), static_cast<char>('a' + i % 26));
      FUZZ_CHECK(store->Put("s", {"key-" + std::to_string(i % 5), data}).ok(), "Put");
      clock.Advance(absl::Milliseconds(1500));
    }
  }
  const std::string dir = "/db/streams/s.1/0";
  auto names = env->GetChildren(dir);
  FUZZ_CHECK(names.ok(), "list segments");
  std::sort(names->begin(), names->end());
  std::vector<std::string> segs;
  for (const std::string& n : *names) segs.push_back(ReadAll(env.get(), dir + "/" + n));
  FUZZ_CHECK(segs.size() >= 3, "want several segments");
  auto many = [&](uint8_t flags, size_t n) {
    std::string in(1, static_cast<char>(flags | ((n - 1) << 2)));
    for (size_t i = 0; i < n; ++i) {
      const std::string& s = segs[segs.size() - n + i];
      if (i + 1 < n) in += U32(static_cast<uint32_t>(s.size()));
      in += s;
    }
    return in;
  };
  Write(out, "seed-one-segment", many(0, 1));
  Write(out, "seed-two-segments", many(0, 2));
  Write(out, "seed-three-segments-fixup", many(3, 3));
  std::string torn = many(0, 1);
  torn.resize(torn.size() - 7);
  Write(out, "seed-torn-tail", torn);
  std::string flipped = many(0, 2);
  flipped[flipped.size() / 2] ^= 0x5a;
  Write(out, "seed-flipped-byte", flipped);
  Write(out, "seed-header-only", many(0, 1).substr(0, 1 + 32));
}

void CatalogSeeds(const fs::path& out) {
  auto env = NewMemEnv();
  ManualClock clock;
  StoreOptions o = SmallStoreOptions(&clock);
  o.env = env.get();
  {
    auto store = *Store::Open("/db", o);
    FUZZ_CHECK(store->CreateStream("s", 2).ok(), "CreateStream");
    FUZZ_CHECK(store->Put("s", {"k", "v"}).ok(), "Put");
    FUZZ_CHECK(store->SplitShard("s", "shardId-000000000000",
                                 "42535295865117307932921825928971026432")
                   .ok(),
               "SplitShard");
    FUZZ_CHECK(store->MergeShards("s", "shardId-000000000002", "shardId-000000000003").ok(),
               "MergeShards");
    FUZZ_CHECK(store->AddTagsToStream("s", {{"team", "a"}, {"env", "test"}}).ok(), "tags");
    FUZZ_CHECK(store->IncreaseStreamRetentionPeriod("s", 48).ok(), "retention");
    FUZZ_CHECK(store->RegisterStreamConsumer("s", "c1", {{"k", "v"}}).ok(), "consumer");
    FUZZ_CHECK(store->StartStreamEncryption("s", EncryptionType::kKms, "alias/k").ok(), "kms");
    FUZZ_CHECK(store->EnableEnhancedMonitoring("s", {"IncomingBytes"}).ok(), "monitoring");
    FUZZ_CHECK(store->PutResourcePolicy(store->StreamArn("s"), "{\"Version\":\"2012-10-17\"}").ok(),
               "policy");
    CreateStreamOptions od;
    od.mode = StreamMode::kOnDemand;
    FUZZ_CHECK(store->CreateStream("t", od).ok(), "CreateStream on-demand");
  }
  // A stream UPDATING with a pending split (update_delay).
  o.update_delay = absl::Minutes(1);
  {
    auto store = *Store::Open("/db", o);
    FUZZ_CHECK(store->CreateStream("u", 3).ok(), "CreateStream");
    FUZZ_CHECK(store->SplitShard("u", "shardId-000000000001",
                                 "170141183460469231731687303715884105728")
                   .ok(),
               "SplitShard pending");
  }
  const std::string cat = ReadAll(env.get(), "/db/CATALOG");
  Write(out, "seed-catalog", std::string(1, '\0') + cat);
  Write(out, "seed-catalog-fixup", std::string(1, '\1') + cat);
  // Each stream's blob on its own (blob mode).
  util::Decoder d(std::string_view(cat).substr(8, cat.size() - 16));
  uint32_t version = 0, count = 0;
  uint64_t next = 0;
  FUZZ_CHECK(d.U32(&version) && d.U64(&next) && d.U32(&count), "catalog header");
  for (uint32_t i = 0; i < count; ++i) {
    std::string name, blob;
    FUZZ_CHECK(d.Str(&name) && d.Str(&blob), "catalog entry");
    Write(out, "seed-blob-" + name,
          std::string(1, '\2') + std::string(1, static_cast<char>(name.size())) + name + blob);
  }
}

void TokenSeeds(const fs::path& out) {
  TokenFixture fx;
  Store& store = *fx.store;
  std::vector<std::pair<std::string, std::string>> tokens;
  auto shards = store.ListShards([] {
    ListShardsRequest r;
    r.stream = "s";
    return r;
  }());
  FUZZ_CHECK(shards.ok(), "ListShards");
  for (const ShardDescription& sh : shards->shards) {
    for (ShardIteratorType t : {ShardIteratorType::kTrimHorizon, ShardIteratorType::kLatest}) {
      GetShardIteratorRequest r;
      r.stream = "s";
      r.shard_id = sh.shard_id;
      r.type = t;
      auto it = store.GetShardIterator(r);
      FUZZ_CHECK(it.ok(), "GetShardIterator");
      tokens.push_back({"iterator-" + sh.shard_id + "-" + std::string(ToString(t)), *it});
    }
  }
  ListShardsRequest ls;
  ls.stream = "s";
  ls.max_results = 1;
  auto page = store.ListShards(ls);
  FUZZ_CHECK(page.ok() && page->next_token, "ListShards page");
  tokens.push_back({"listshards", *page->next_token});
  ListStreamsRequest lst;
  lst.limit = 1;
  auto streams = store.ListStreams(lst);
  FUZZ_CHECK(streams.ok() && streams->next_token, "ListStreams page");
  tokens.push_back({"liststreams", *streams->next_token});
  ListStreamConsumersRequest lc;
  lc.stream = "s";
  lc.max_results = 1;
  auto consumers = store.ListStreamConsumers(lc);
  FUZZ_CHECK(consumers.ok() && consumers->next_token, "ListStreamConsumers page");
  tokens.push_back({"listconsumers", *consumers->next_token});
  for (const auto& [name, tok] : tokens) {
    Write(out, "seed-" + name, std::string(1, '\0') + tok);
    std::string raw;
    FUZZ_CHECK(absl::Base64Unescape(tok, &raw) && raw.size() > 8, "base64");
    Write(out, "seed-body-" + name, std::string(1, '\1') + raw.substr(0, raw.size() - 8));
  }
}

}  // namespace
}  // namespace tributary::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  std::filesystem::path root(argv[1]);
  tributary::fuzz::SegmentSeeds(root / "segment");
  tributary::fuzz::CatalogSeeds(root / "catalog");
  tributary::fuzz::TokenSeeds(root / "token");
  return 0;
}
