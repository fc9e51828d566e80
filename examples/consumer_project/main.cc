// The quick start of README.md as a program: create a stream, write keyed
// records, split a shard, read the closed parent to its end. Exits non-zero
// if anything is not as documented.
#include <iostream>
#include <string>

#include "tributary/tributary.h"

int main() {
  using namespace tributary;
  std::unique_ptr<Store> store = *Store::OpenInMemory();
  if (!store->CreateStream("orders", 2).ok()) return 1;
  std::string shard;  // MD5("customer-42") picks the shard
  for (const char* order : {"order #1", "order #2"}) {
    absl::StatusOr<PutRecordResult> put = store->Put("orders", {"customer-42", order});
    if (!put.ok()) return 1;
    shard = put->shard_id;
  }
  if (!store->SplitShard("orders", shard, "255211775190703847597530955573826158592").ok()) return 1;

  GetShardIteratorRequest request{"orders", shard, ShardIteratorType::kTrimHorizon};
  GetRecordsResult r = *store->GetRecords(*store->GetShardIterator(request));
  for (const Record& rec : r.records) std::cout << rec.partition_key << ": " << rec.data << "\n";
  std::cout << shard << " -> " << r.child_shards.size() << " children\n";
  return r.records.size() == 2 && r.child_shards.size() == 2 && !r.next_shard_iterator.has_value() ? 0 : 1;
}
