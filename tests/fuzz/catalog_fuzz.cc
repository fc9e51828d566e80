// Fuzz target: the catalog decoder (lib/stream/catalog.cc) and the stream
// blob decoder (StreamImpl::Restore), through Store::Open on a MemEnv.
// Format: docs/FORMAT.md "Catalog".
//
// Input: a flags byte, then
//   flags bit 1 clear: the CATALOG file itself; bit 0 set: its trailing
//                      XXH3 checksum is recomputed (so mutations get past it);
//   flags bit 1 set:   u8 name length, the stream name, then one stream
//                      blob, wrapped into a well-formed catalog.
//
// What must hold: Store::Open fails with an error that says what is wrong,
// or opens a store that answers every read call (values or clear errors),
// takes writes and reshards, lets time pass (pending changes are applied),
// and opens again afterwards.
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tributary/tributary.h"
#include "util/coding.h"
#include "util/status_macros.h"

namespace tributary::fuzz {
namespace {

constexpr char kDir[] = "/db";
constexpr char kMagic[8] = {'T', 'R', 'B', 'C', 'A', 'T', '\0', '\1'};

std::string WrapBlob(std::string_view name, std::string_view blob) {
  util::Encoder e;
  e.Raw(std::string_view(kMagic, 8));
  e.U32(1);    // catalog version
  e.U64(100);  // next incarnation
  e.U32(1);
  e.Str(name);
  e.Str(blob);
  e.U64(Xxh3(e.buffer()));
  return std::move(e.buffer());
}

void Exercise(Store& store, ManualClock& clock) {
  auto list = store.ListStreams({});
  CheckClearError(list.status(), "ListStreams");
  if (!list.ok()) return;
  for (const std::string& name : list->stream_names) {
    DescribeStreamRequest dr;
    dr.stream = name;
    auto d = store.DescribeStream(dr);
    CheckClearError(d.status(), "DescribeStream");
    CheckClearError(store.DescribeStreamSummary(name).status(), "DescribeStreamSummary");
    CheckClearError(store.ListTagsForStream(name).status(), "ListTagsForStream");
    ListStreamConsumersRequest cr;
    cr.stream = name;
    CheckClearError(store.ListStreamConsumers(cr).status(), "ListStreamConsumers");
    ListShardsRequest lr;
    lr.stream = name;
    auto shards = store.ListShards(lr);
    CheckClearError(shards.status(), "ListShards");
    std::string open_shard;
    if (shards.ok()) {
      for (const ShardDescription& sh : shards->shards) {
        if (sh.state == ShardState::kOpen && open_shard.empty()) open_shard = sh.shard_id;
        GetShardIteratorRequest gr;
        gr.stream = name;
        gr.shard_id = sh.shard_id;
        gr.type = ShardIteratorType::kTrimHorizon;
        auto it = store.GetShardIterator(gr);
        CheckClearError(it.status(), "GetShardIterator");
        if (it.ok()) CheckClearError(store.GetRecords(*it, 100).status(), "GetRecords");
      }
    }
    CheckClearError(store.Put(name, {"k", "v"}).status(), "Put");
    if (!open_shard.empty()) {
      CheckClearError(store.SplitShard(name, open_shard, "170141183460469231731687303715884105728"),
                      "SplitShard");
    }
    CheckClearError(store.UpdateShardCount(name, 3).status(), "UpdateShardCount");
  }
  // Pending changes, transitions and retention are applied as time passes.
  clock.Advance(absl::Hours(25));
  for (const std::string& name : list->stream_names) {
    DescribeStreamRequest dr;
    dr.stream = name;
    CheckClearError(store.DescribeStream(dr).status(), "DescribeStream after 25 h");
    CheckClearError(store.Put(name, {"k2", "v2"}).status(), "Put after 25 h");
  }
  CheckClearError(store.DescribeLimits().status(), "DescribeLimits");
}

}  // namespace
}  // namespace tributary::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tributary;
  using namespace tributary::fuzz;
  Input in(data, size);
  const uint8_t flags = in.U8();
  std::string catalog;
  if (flags & 2) {
    std::string_view name = in.Bytes(in.U8());
    catalog = WrapBlob(name, in.Rest());
  } else {
    catalog = std::string(in.Rest());
    if ((flags & 1) && catalog.size() >= 8) {
      PutLE(&catalog, catalog.size() - 8,
            Xxh3(std::string_view(catalog).substr(0, catalog.size() - 8)), 8);
    }
  }

  std::unique_ptr<Env> env = NewMemEnv();
  FUZZ_CHECK(env->CreateDirs(kDir).ok(), "mkdir");
  {
    auto f = env->NewWritableFile(std::string(kDir) + "/CATALOG");
    FUZZ_CHECK(f.ok() && (*f)->Append(catalog).ok() && (*f)->Close().ok(), "write CATALOG");
  }
  ManualClock clock;
  StoreOptions o;
  o.env = env.get();
  o.clock = &clock;
  o.memory_pool_bytes = 1 << 20;
  o.segment_bytes = 1 << 16;
  {
    auto store = Store::Open(kDir, o);
    if (!store.ok()) {
      CheckClearError(store.status(), "Store::Open");
      return 0;
    }
    Exercise(**store, clock);
  }
  // A store that opened once opens again, whatever happened in between.
  auto again = Store::Open(kDir, o);
  FUZZ_CHECK(again.ok(), "reopen: " + again.status().ToString());
  return 0;
}
