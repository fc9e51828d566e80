// remote_tour: the ordered consumer over a remote Kinesis stream.
//
//   remote_tour --endpoint URL [--stream NAME] [--keys N] [--per-key N]
//
// Against any Kinesis-compatible endpoint (tributary-server, kinesalite,
// Amazon Kinesis; credentials and region from the usual AWS sources, dummy
// ones are fine for local peers): creates a 2-shard stream, writes keyed
// records, splits a shard, writes more, merges the two children, writes
// more, then reads everything back through the ordered consumer (checkpoints
// and leases in a local in-memory store) and checks that every key's records
// arrived in order and that none is missing. Deletes the stream. Exits 0
// only if order and completeness held.
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <thread>

#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

using namespace tributary;

namespace {

int Fail(const std::string& what, const absl::Status& s) {
  fmt::print(stderr, "remote_tour: {}: {}\n", what, s.ToString());
  return 1;
}

// Writes `per_key` records for each of `keys` keys, in batches, and tells the
// verifier which ones the store acknowledged.
absl::Status Write(Store& store, const std::string& stream, int keys, int per_key, int phase,
                   testing::OrderingVerifier& verifier, int* written) {
  std::vector<std::string> pk, data;
  for (int n = 0; n < per_key; ++n) {
    for (int k = 0; k < keys; ++k) {
      pk.push_back(fmt::format("key-{}", k));
      data.push_back(fmt::format("phase {} record {} of key-{}", phase, n, k));
    }
  }
  // One key's records go in order, one batch after another (a batch keeps
  // the order of one key's records).
  for (size_t at = 0; at < pk.size(); at += 250) {
    std::vector<PutRecordInput> batch;
    for (size_t i = at; i < std::min(pk.size(), at + 250); ++i) batch.push_back({pk[i], data[i], std::nullopt});
    absl::StatusOr<PutBatchResult> r = store.PutBatch(stream, batch);
    if (!r.ok()) return r.status();
    for (size_t i = 0; i < batch.size(); ++i) {
      const PutBatchEntryResult& e = r->records[i];
      if (!e.ok()) return InternalFailureError(fmt::format("record {} failed: {} {}", at + i, e.error_code, e.error_message));
      verifier.Acknowledged(batch[i].partition_key, *e.sequence_number);
      ++*written;
    }
  }
  return absl::OkStatus();
}

std::vector<ShardDescription> OpenShards(Store& store, const std::string& stream) {
  // Every shard, then the open ones (not every peer implements ShardFilter).
  std::vector<ShardDescription> open;
  ListShardsRequest req;
  req.stream = stream;
  absl::StatusOr<ListShardsResult> r = store.ListShards(req);
  if (r.ok()) {
    for (const ShardDescription& d : r->shards) {
      if (d.state == ShardState::kOpen) open.push_back(d);
    }
  }
  std::sort(open.begin(), open.end(), [](auto& a, auto& b) { return a.hash_key_range.start < b.hash_key_range.start; });
  return open;
}

}  // namespace

int main(int argc, char** argv) {
  RemoteOptions options;
  std::string stream = "remote-tour";
  int keys = 20, per_key = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--endpoint") options.endpoint_url = value();
    else if (a == "--stream") stream = value();
    else if (a == "--keys") keys = std::atoi(value().c_str());
    else if (a == "--per-key") per_key = std::atoi(value().c_str());
    else {
      fmt::print(stderr, "usage: remote_tour --endpoint URL [--stream NAME] [--keys N] [--per-key N]\n");
      return 2;
    }
  }
  if (options.endpoint_url.empty() || keys < 1 || per_key < 1) {
    fmt::print(stderr, "usage: remote_tour --endpoint URL [--stream NAME] [--keys N] [--per-key N]\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::OpenRemote(options);
  if (!opened.ok()) return Fail("open " + options.endpoint_url, opened.status());
  Store& store = **opened;
  const absl::Duration wait = absl::Minutes(2);

  if (absl::Status s = store.CreateStream(stream, 2); !s.ok()) return Fail("CreateStream", s);
  if (absl::Status s = store.WaitUntilActive(stream, wait); !s.ok()) return Fail("WaitUntilActive", s);

  testing::OrderingVerifier verifier;
  int written = 0;
  if (absl::Status s = Write(store, stream, keys, per_key, 1, verifier, &written); !s.ok()) return Fail("write", s);

  // Split the first shard in the middle of its range.
  std::vector<ShardDescription> open = OpenShards(store, stream);
  if (open.size() != 2) return Fail("ListShards", InternalFailureError(fmt::format("{} open shards, want 2", open.size())));
  if (absl::Status s = store.SplitShard(stream, open[0].shard_id, open[0].hash_key_range.Midpoint()); !s.ok()) {
    return Fail("SplitShard", s);
  }
  if (absl::Status s = store.WaitUntilActive(stream, wait); !s.ok()) return Fail("WaitUntilActive", s);
  if (absl::Status s = Write(store, stream, keys, per_key, 2, verifier, &written); !s.ok()) return Fail("write", s);

  // Merge the two children (now the first two open shards by range).
  open = OpenShards(store, stream);
  if (open.size() != 3) return Fail("ListShards", InternalFailureError(fmt::format("{} open shards, want 3", open.size())));
  if (absl::Status s = store.MergeShards(stream, open[0].shard_id, open[1].shard_id); !s.ok()) {
    return Fail("MergeShards", s);
  }
  if (absl::Status s = store.WaitUntilActive(stream, wait); !s.ok()) return Fail("WaitUntilActive", s);
  if (absl::Status s = Write(store, stream, keys, per_key, 3, verifier, &written); !s.ok()) return Fail("write", s);

  // Read everything back through the ordered consumer; its leases and
  // checkpoints live in a local in-memory store.
  std::unique_ptr<Store> local = *Store::OpenInMemory();
  ConsumerOptions co;
  co.stream = stream;
  co.consumer_name = "remote-tour";
  co.lease_table = *LeaseTableFor(*local);
  co.idle_interval = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<Consumer>> consumer = Consumer::Create(store, co);
  if (!consumer.ok()) return Fail("Consumer::Create", consumer.status());
  int delivered = 0, batches = 0;
  const absl::Time deadline = absl::Now() + wait;
  while (delivered < written && absl::Now() < deadline) {
    absl::StatusOr<std::optional<RecordBatch>> b = (*consumer)->Poll();
    if (!b.ok()) return Fail("Poll", b.status());
    if (!b->has_value()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    verifier.Delivered(**b);
    delivered += static_cast<int>((*b)->records.size());
    ++batches;
    if (absl::Status s = (*consumer)->Checkpoint(**b); !s.ok()) return Fail("Checkpoint", s);
  }
  if (absl::Status s = (*consumer)->Shutdown(); !s.ok()) return Fail("Shutdown", s);

  testing::OrderingVerifier::Report report = verifier.Check();
  fmt::print("{}: wrote {} records of {} keys through a split and a merge; the ordered consumer "
             "delivered {} in {} batches\n",
             options.endpoint_url, written, keys, delivered, batches);
  fmt::print("per-key order: {} out of order, {} missing, {} duplicates\n", report.out_of_order,
             report.missing, report.duplicates);
  for (const std::string& p : report.problems) fmt::print("  {}\n", p);

  if (absl::Status s = store.DeleteStream(stream); !s.ok()) return Fail("DeleteStream", s);
  if (absl::Status s = store.WaitUntilDeleted(stream, wait); !s.ok()) return Fail("WaitUntilDeleted", s);
  const bool ok = report.ok() && delivered >= written;
  fmt::print("{}\n", ok ? "order and completeness held" : "FAILED");
  return ok ? 0 : 1;
}
