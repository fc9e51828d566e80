// fleet_consumer: ordered consumers on many hosts sharing one Kinesis
// stream, their leases and checkpoints in DynamoDB.
//
//   fleet_consumer consume --kinesis URL --dynamodb URL --stream S --table T --worker ID --log FILE
//                          [--lease-seconds N] [--stats FILE]
//   fleet_consumer produce --kinesis URL --stream S --acked FILE --rate N --stop-file F
//   fleet_consumer setup|split|merge --kinesis URL --stream S
//   fleet_consumer verify --acked FILE --log FILE
//
// `consume` is what each host runs: a ConsumerWorker over the remote stream
// with the DynamoDB lease table (OpenDynamoDbLeaseTable creates the table on
// first use). Start it on N machines (or N processes) with distinct
// --worker ids: they share the shards, take over those of a worker that
// died (kill -9 included) once its leases expire, and read a shard's
// children only after its parents are done, so every key stays in order
// across splits and merges. Each batch goes to --log (one write, O_APPEND,
// shared by all workers) before it is checkpointed; --stats gets one line
// per second: "<unix ms> <DynamoDB requests so far> <records so far>".
// SIGTERM stops gracefully (checkpoint, release the leases).
//
// The other commands drive a demonstration (tests/remote/fleet_test.py):
// `produce` writes keyed records until --stop-file exists, appending each
// acknowledged one to --acked; `verify` feeds both files to the
// OrderingVerifier: per-key order, nothing acknowledged lost.
// Credentials and region come from the usual AWS sources (dummy ones for
// local peers).
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

using namespace tributary;

namespace {

std::map<std::string, std::string> flags;

std::string Flag(const std::string& name, const std::string& dflt = "") {
  auto it = flags.find(name);
  return it == flags.end() ? dflt : it->second;
}

int Fail(const std::string& what, const absl::Status& s) {
  fmt::print(stderr, "fleet_consumer: {}: {}\n", what, s.ToString());
  return 1;
}

absl::StatusOr<std::unique_ptr<Store>> OpenKinesis() {
  RemoteOptions o;
  o.endpoint_url = Flag("kinesis");
  o.poll_interval = absl::Milliseconds(50);
  return Store::OpenRemote(o);
}

// Appends every delivered record to the shared log, then checkpoints.
class Recorder final : public RecordProcessor {
 public:
  explicit Recorder(int fd, std::atomic<int64_t>* records) : fd_(fd), records_(records) {}
  void ProcessRecords(const RecordBatch& batch, Checkpointer& checkpointer) override {
    std::string lines;
    for (const Record& r : batch.records) {
      lines += fmt::format("{} {} {}\n", batch.shard_id, r.sequence_number.ToString(), r.partition_key);
    }
    if (::write(fd_, lines.data(), lines.size()) != static_cast<ssize_t>(lines.size())) std::abort();
    *records_ += static_cast<int64_t>(batch.records.size());
    (void)checkpointer.Checkpoint();  // a lost lease fails it: the next holder re-reads
  }
  void ShardEnded(Checkpointer& checkpointer) override { (void)checkpointer.Checkpoint(); }
  void ShutdownRequested(Checkpointer& checkpointer) override { (void)checkpointer.Checkpoint(); }

 private:
  const int fd_;
  std::atomic<int64_t>* const records_;
};

int Consume() {
  absl::StatusOr<std::unique_ptr<Store>> kinesis = OpenKinesis();
  if (!kinesis.ok()) return Fail("open " + Flag("kinesis"), kinesis.status());
  DynamoDbLeaseTableOptions t;
  t.table_name = Flag("table", "fleet-leases");
  t.endpoint_url = Flag("dynamodb");
  absl::StatusOr<std::unique_ptr<DynamoDbLeaseTable>> table = OpenDynamoDbLeaseTable(t);
  if (!table.ok()) return Fail("open lease table " + t.table_name, table.status());
  std::shared_ptr<DynamoDbLeaseTable> leases = std::move(table).value();

  const int fd = ::open(Flag("log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return Fail("open " + Flag("log"), absl::InternalError("cannot open"));
  std::atomic<int64_t> records{0};
  ConsumerOptions co;
  co.stream = Flag("stream");
  co.consumer_name = "fleet";
  co.worker_id = Flag("worker");
  co.lease_table = leases;
  co.lease_duration = absl::Seconds(std::stoi(Flag("lease-seconds", "10")));
  co.idle_interval = absl::Milliseconds(200);
  co.shard_sync_interval = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<ConsumerWorker>> worker = ConsumerWorker::Create(
      **kinesis, co, [&](const std::string&) { return std::make_unique<Recorder>(fd, &records); });
  if (!worker.ok()) return Fail("ConsumerWorker::Create", worker.status());

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread starts
  if (absl::Status s = (*worker)->Start(); !s.ok()) return Fail("Start", s);
  std::ofstream stats;
  if (!Flag("stats").empty()) stats.open(Flag("stats"), std::ios::app);
  fmt::print("worker {} consuming {}\n", co.worker_id, co.stream);
  std::fflush(stdout);
  for (;;) {
    timespec second{1, 0};
    if (sigtimedwait(&stop, nullptr, &second) > 0) break;
    if (stats.is_open()) {
      stats << absl::ToUnixMillis(absl::Now()) << ' ' << leases->stats().requests << ' ' << records.load() << '\n';
      stats.flush();
    }
  }
  absl::Status stopped = (*worker)->Stop();
  ::close(fd);
  return stopped.ok() ? 0 : Fail("Stop", stopped);
}

int Produce() {
  absl::StatusOr<std::unique_ptr<Store>> kinesis = OpenKinesis();
  if (!kinesis.ok()) return Fail("open", kinesis.status());
  std::ofstream acked(Flag("acked"), std::ios::app);
  const int rate = std::stoi(Flag("rate", "200"));  // records per second, in batches of rate/10
  const int per_batch = std::max(1, rate / 10);
  int64_t n = 0;
  while (access(Flag("stop-file").c_str(), F_OK) != 0) {
    const absl::Time next = absl::Now() + absl::Milliseconds(100);
    // PutRecordInput holds views: the strings live in keys/data meanwhile.
    std::vector<std::string> keys, data;
    keys.reserve(per_batch);
    data.reserve(per_batch);
    for (int i = 0; i < per_batch; ++i, ++n) {
      keys.push_back(fmt::format("key-{}", n % 40));
      data.push_back(std::to_string(n));
    }
    std::vector<PutRecordInput> batch;
    batch.reserve(per_batch);
    for (int i = 0; i < per_batch; ++i) batch.push_back({keys[i], data[i], std::nullopt});
    absl::StatusOr<PutBatchResult> r = (*kinesis)->PutBatch(Flag("stream"), batch);
    if (r.ok()) {
      for (size_t i = 0; i < batch.size(); ++i) {
        if (r->records[i].ok()) acked << batch[i].partition_key << ' ' << r->records[i].sequence_number->ToString() << '\n';
      }
      acked.flush();
    }
    absl::SleepFor(next - absl::Now());
  }
  return 0;
}

int Reshard(const std::string& what) {
  absl::StatusOr<std::unique_ptr<Store>> kinesis = OpenKinesis();
  if (!kinesis.ok()) return Fail("open", kinesis.status());
  Store& s = **kinesis;
  const std::string stream = Flag("stream");
  if (what == "setup") {
    if (absl::Status c = s.CreateStream(stream, 2); !c.ok()) return Fail("CreateStream", c);
    absl::Status w = s.WaitUntilActive(stream, absl::Minutes(1));
    return w.ok() ? 0 : Fail("WaitUntilActive", w);
  }
  ListShardsRequest req;
  req.stream = stream;
  absl::StatusOr<ListShardsResult> shards = s.ListShards(req);
  if (!shards.ok()) return Fail("ListShards", shards.status());
  std::vector<ShardDescription> open;
  for (const ShardDescription& d : shards->shards) {
    if (d.state == ShardState::kOpen) open.push_back(d);
  }
  std::sort(open.begin(), open.end(), [](auto& a, auto& b) { return a.hash_key_range.start < b.hash_key_range.start; });
  absl::Status r = what == "split" ? s.SplitShard(stream, open[0].shard_id, open[0].hash_key_range.Midpoint())
                                   : s.MergeShards(stream, open[0].shard_id, open[1].shard_id);
  if (!r.ok()) return Fail(what, r);
  absl::Status w = s.WaitUntilActive(stream, absl::Minutes(1));
  fmt::print("{} done: {} open shards before\n", what, open.size());
  return w.ok() ? 0 : Fail("WaitUntilActive", w);
}

int Verify() {
  testing::OrderingVerifier verifier;
  std::ifstream acked(Flag("acked")), log(Flag("log"));
  std::string key, seq, shard, extra, line;
  while (acked >> key >> seq) verifier.Acknowledged(key, *SequenceNumber::ParseAny(seq));
  // A worker killed in the middle of a write() may leave a torn line; its
  // records were not checkpointed, so another worker delivered them again.
  int torn = 0;
  while (std::getline(log, line)) {
    std::istringstream in(line);
    absl::StatusOr<SequenceNumber> n;
    if (!(in >> shard >> seq >> key) || (in >> extra) || shard.rfind("shardId-", 0) != 0 ||
        !(n = SequenceNumber::ParseAny(seq)).ok()) {
      ++torn;
      continue;
    }
    Record r;
    r.sequence_number = *n;
    r.partition_key = key;
    verifier.Delivered(shard, r);
  }
  if (torn > 0) fmt::print("{} torn log lines skipped\n", torn);
  testing::OrderingVerifier::Report report = verifier.Check();
  fmt::print("{}\n", report.ToString());
  return report.ok() && report.acknowledged > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  for (int i = 2; i + 1 < argc; i += 2) flags[std::string(argv[i]).substr(2)] = argv[i + 1];
  if (command == "consume") return Consume();
  if (command == "produce") return Produce();
  if (command == "setup" || command == "split" || command == "merge") return Reshard(command);
  if (command == "verify") return Verify();
  fmt::print(stderr, "usage: fleet_consumer consume|produce|setup|split|merge|verify --flag value ...\n");
  return 2;
}
