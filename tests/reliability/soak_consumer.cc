// soak_consumer: the soak's checkpointing reader (tests/reliability/soak.py,
// docs/RELIABILITY.md "Soak"). One worker of the ordered consumer
// (tributary/consumer.h) reading a stream of tributary-server through the
// remote backend (Store::OpenRemote), with its leases and checkpoints in a
// durable lease table (OpenDurableLeaseTable) in a directory of its own.
//
//   soak_consumer --endpoint URL --stream NAME --consumer NAME --worker ID
//                 --lease-dir DIR --out FILE [--checkpoint-every N]
//
// Every delivered record is "processed" by appending a line to FILE; the
// lines of a batch are written and fdatasync'ed before the consumer
// checkpoints, so FILE always holds everything a checkpoint covers. Lines
// (fields separated by tabs; keys and data C-escaped):
//
//   S <pid>                          this process started
//   D <shard> <seq>|END|START        a lease's durable checkpoint, as the table
//                                    held it when this process started
//   R <shard> <seq> <key> <data>     a record delivered
//   C <shard> <seq>                  Checkpoint(shard, seq) returned OK (durable)
//   E <shard>                        the shard is at SHARD_END (the Poll after
//                                    its last batch returned OK)
//
// A shard is checkpointed once N records of it were delivered since its last
// checkpoint (N = 0: after every batch). The process is meant to be killed
// (SIGKILL) and started again on the same files: it resumes after its
// durable checkpoints, so records delivered after them are delivered again
// (at least once; the verifier checks that only those are). A line cut short
// by a kill is dropped at the next start (it was never checkpointed).
// Errors of Poll, Checkpoint and start-up (the server is down or restarting)
// are reported on stderr and retried with a bounded backoff; the program
// never gives up on them. SIGTERM or SIGINT stop it cleanly (exit 0).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "tributary/tributary.h"

using namespace tributary;  // NOLINT(google-build-using-namespace): a small program

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

struct Args {
  std::string endpoint, stream, consumer, worker, lease_dir, out;
  int checkpoint_every = 50;
};

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--endpoint") a->endpoint = v;
    else if (k == "--stream") a->stream = v;
    else if (k == "--consumer") a->consumer = v;
    else if (k == "--worker") a->worker = v;
    else if (k == "--lease-dir") a->lease_dir = v;
    else if (k == "--out") a->out = v;
    else if (k == "--checkpoint-every") {
      if (!absl::SimpleAtoi(v, &a->checkpoint_every) || a->checkpoint_every < 0) return false;
    } else {
      return false;
    }
  }
  return !a->endpoint.empty() && !a->stream.empty() && !a->consumer.empty() && !a->worker.empty() &&
         !a->lease_dir.empty() && !a->out.empty();
}

// The output file, append-only. Lines are collected and written with one
// write(2) per batch, then synced on demand.
class Output {
 public:
  bool Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return false;
    // Drop a line a kill cut short: it was never checkpointed.
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return false;
    off_t end = st.st_size;
    while (end > 0) {
      char c = 0;
      if (::pread(fd_, &c, 1, end - 1) != 1) return false;
      if (c == '\n') break;
      --end;
    }
    return end == st.st_size || ::ftruncate(fd_, end) == 0;
  }
  ~Output() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Add(const std::string& line) { pending_ += line + "\n"; }
  // Writes what was added; with `sync`, also fdatasync.
  bool Flush(bool sync) {
    size_t at = 0;
    while (at < pending_.size()) {
      ssize_t n = ::write(fd_, pending_.data() + at, pending_.size() - at);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      at += static_cast<size_t>(n);
    }
    pending_.clear();
    return !sync || ::fdatasync(fd_) == 0;
  }

 private:
  int fd_ = -1;
  std::string pending_;
};

// Sleeps up to `d` in slices, returning early on SIGTERM.
void Nap(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!g_stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(20)));
  }
}

// Backoff after consecutive failures: 20 ms doubling, at most 1 s.
std::chrono::milliseconds Backoff(int failures) {
  return std::chrono::milliseconds(std::min(1000, 20 << std::min(failures, 6)));
}

void Report(const char* what, const absl::Status& s) {
  fmt::print(stderr, "soak_consumer[{}]: {}: {}\n", ::getpid(), what, s.ToString());
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    fmt::print(stderr,
               "usage: soak_consumer --endpoint URL --stream NAME --consumer NAME --worker ID "
               "--lease-dir DIR --out FILE [--checkpoint-every N]\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  Output out;
  if (!out.Open(args.out)) {
    fmt::print(stderr, "soak_consumer: cannot open {}: {}\n", args.out, std::strerror(errno));
    return 1;
  }
  out.Add(fmt::format("S\t{}", ::getpid()));
  if (!out.Flush(true)) return 1;

  RemoteOptions ro;
  ro.endpoint_url = args.endpoint;
  ro.region = "us-east-1";
  ro.credentials = StaticCredentialsProvider({"AKIDTRIBUTARYSOAK", "tributary-soak-secret", ""});
  // The loop below retries; the store only smooths over short blips.
  ro.retry.max_attempts = 2;
  ro.connect_timeout = absl::Seconds(1);
  ro.request_timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<Store>> store = Store::OpenRemote(ro);
  if (!store.ok()) {
    Report("OpenRemote", store.status());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<LeaseTable>> table = OpenDurableLeaseTable(DefaultEnv(), args.lease_dir);
  if (!table.ok()) {
    Report("OpenDurableLeaseTable", table.status());
    return 1;
  }

  // What this run resumes from, for the verifier: every lease's durable
  // checkpoint as the table holds it now.
  if (absl::StatusOr<std::vector<Lease>> leases = (*table)->ListLeases({args.consumer, args.stream});
      leases.ok()) {
    for (const Lease& l : *leases) {
      out.Add(fmt::format("D\t{}\t{}", l.shard_id,
                          l.checkpoint.is_shard_end() ? "END"
                          : l.checkpoint.has_sequence_number() ? l.checkpoint.sequence_number.ToString()
                                                               : "START"));
    }
    if (!out.Flush(true)) return 1;
  } else {
    Report("ListLeases", leases.status());
  }

  ConsumerOptions co;
  co.stream = args.stream;
  co.consumer_name = args.consumer;
  co.worker_id = args.worker;  // a restart takes its own leases back at once
  co.lease_table = std::shared_ptr<LeaseTable>(std::move(*table));
  co.idle_interval = absl::Milliseconds(100);
  co.shard_sync_interval = absl::Seconds(5);
  co.throttle_backoff = absl::Milliseconds(100);

  std::unique_ptr<Consumer> consumer;
  int failures = 0;
  while (!consumer && !g_stop.load()) {
    absl::StatusOr<std::unique_ptr<Consumer>> c = Consumer::Create(**store, co);
    if (c.ok()) {
      consumer = std::move(c).value();
    } else {
      Report("Consumer::Create", c.status());
      Nap(Backoff(failures++));
    }
  }

  std::map<std::string, int> unchecked;  // shard -> records delivered since its checkpoint
  std::map<std::string, SequenceNumber> last;  // shard -> last record delivered
  std::string ended;                     // the shard whose last batch came last
  failures = 0;
  while (!g_stop.load()) {
    absl::StatusOr<std::optional<RecordBatch>> b = consumer->Poll();
    // A Poll checkpoints the shard whose last batch came last at SHARD_END
    // first thing, and then may still fail (listing shards, taking leases):
    // the shard is finished once this worker no longer holds it.
    if (!ended.empty()) {
      const std::vector<HeldShard> held = consumer->held();
      if (std::none_of(held.begin(), held.end(), [&](const HeldShard& h) { return h.shard_id == ended; })) {
        out.Add(fmt::format("E\t{}", ended));
        unchecked.erase(ended);
        last.erase(ended);
        ended.clear();
      }
    }
    if (!b.ok()) {
      Report("Poll", b.status());
      if (!out.Flush(false)) break;
      Nap(Backoff(failures++));
      continue;
    }
    failures = 0;
    if (!b->has_value()) {
      if (!out.Flush(false)) break;
      Nap(std::chrono::milliseconds(20));
      continue;
    }
    const RecordBatch& batch = **b;
    for (const Record& r : batch.records) {
      out.Add(fmt::format("R\t{}\t{}\t{}\t{}", batch.shard_id, r.sequence_number.ToString(),
                          absl::CEscape(r.partition_key), absl::CEscape(r.data)));
    }
    unchecked[batch.shard_id] += static_cast<int>(batch.records.size());
    last[batch.shard_id] = batch.last_sequence_number();
    if (batch.shard_end) ended = batch.shard_id;
    // Processed = written and synced; only then may a checkpoint cover it.
    if (!out.Flush(true)) break;
    // Checkpoint every shard that is due (a failed one is retried after the
    // next batch; the records stay uncheckpointed meanwhile).
    for (auto& [shard, n] : unchecked) {
      if (n == 0 || n < args.checkpoint_every) continue;
      absl::Status s = consumer->Checkpoint(shard, last[shard]);
      if (s.ok()) {
        out.Add(fmt::format("C\t{}\t{}", shard, last[shard].ToString()));
        n = 0;
      } else {
        Report("Checkpoint", s);
      }
    }
    if (!out.Flush(false)) break;  // the C lines: the verifier's view of the checkpoints
  }
  const bool ok = out.Flush(true);
  if (!ok) fmt::print(stderr, "soak_consumer: writing {}: {}\n", args.out, std::strerror(errno));
  return ok ? 0 : 1;
}
