// Applications (tributary/application.h) whose input is a remote stream
// (ApplicationManagerOptions::input_store = a Store::OpenRemote on a
// tributary-server started by the test), while the manager, its snapshots,
// checkpoints and the consumers' leases live in a local store. Driven with
// Pump() on a ManualClock (the local store's, also the remote store's, where
// it only paces client-side waits).
//
// The processor counts records per partition key; the tests compare the
// counts held by the live workers with what was written ("truth"), so a
// record lost or counted twice in state fails, and check that each key's
// sequence numbers arrive increasing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "testing/remote_server.h"
#include "testing/status_matchers.h"
#include "tributary/remote.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::LocalPeerOptions;
using testing::StartTributaryServer;
using Counts = std::map<std::string, int64_t>;

class KeyCounter;

struct World {
  std::map<const KeyCounter*, int> live;
  Counts effects;                               // every processed record, replays included
  std::map<std::string, SequenceNumber> last;  // per key, for the order check
  int order_violations = 0;

  Counts Total() const;
  ProcessorFactory Factory(bool fail);
};

class KeyCounter final : public Processor {
 public:
  KeyCounter(World* w, bool fail) : world_(w), fail_(fail) { world_->live[this] = 0; }
  ~KeyCounter() override { world_->live.erase(this); }

  absl::Status Process(absl::Span<const InputRecord> records) override {
    if (fail_) return absl::InternalError("version 2.0 cannot read this state");
    for (const InputRecord& r : records) {
      const std::string& key = r.record.partition_key;
      auto it = world_->last.find(key);
      if (it != world_->last.end() && !(it->second < r.record.sequence_number)) ++world_->order_violations;
      world_->last.insert_or_assign(key, r.record.sequence_number);
      ++counts_[key];
      ++world_->effects[key];
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override {
    std::string out;
    for (const auto& [k, v] : counts_) out += k + "=" + std::to_string(v) + "\n";
    return out;
  }
  absl::Status RestoreState(std::string_view s) override {
    counts_.clear();
    while (!s.empty()) {
      size_t nl = s.find('\n');
      size_t eq = s.find('=');
      if (nl == std::string_view::npos || eq == std::string_view::npos || eq > nl) {
        return absl::DataLossError("bad counter state");
      }
      counts_[std::string(s.substr(0, eq))] = std::stoll(std::string(s.substr(eq + 1, nl - eq - 1)));
      s.remove_prefix(nl + 1);
    }
    return absl::OkStatus();
  }
  const Counts& counts() const { return counts_; }

 private:
  World* world_;
  bool fail_;
  Counts counts_;
};

Counts World::Total() const {
  Counts out;
  for (const auto& [c, w] : live) {
    for (const auto& [k, v] : c->counts()) out[k] += v;
  }
  return out;
}

ProcessorFactory World::Factory(bool fail) {
  return [this, fail](const ProcessorContext&) -> absl::StatusOr<std::unique_ptr<Processor>> {
    return std::unique_ptr<Processor>(new KeyCounter(this, fail));
  };
}

enum class Peer { kTributaryServer, kKinesalite };

// A peer (tributary-server, or kinesalite) with stream "input" (2 shards), a
// remote store on it, and a manager on a local store (in memory, or durable
// on a MemEnv) reading from the remote one. Processor "counter" 1.0 counts,
// 2.0 fails every batch.
struct RemoteAppFixture {
  explicit RemoteAppFixture(bool durable = false, Peer peer = Peer::kTributaryServer) {
    server = peer == Peer::kKinesalite ? testing::StartKinesalite() : StartTributaryServer();
    RemoteOptions ro = LocalPeerOptions(server->url());
    ro.clock = &clock;
    ASSIGN_OR_REQUIRE(remote, Store::OpenRemote(ro));
    REQUIRE_OK(remote->CreateStream("input", 2));
    REQUIRE_OK(remote->WaitUntilActive("input", absl::Seconds(30)));
    if (durable) env = NewMemEnv();
    OpenLocal();
  }

  void OpenLocal() {
    StoreOptions o;
    o.clock = &clock;
    if (env) {
      o.env = env.get();
      ASSIGN_OR_REQUIRE(local, Store::Open("/apps-store", o));
    } else {
      ASSIGN_OR_REQUIRE(local, Store::OpenInMemory(o));
    }
    ApplicationManagerOptions mo;
    mo.input_store = remote.get();
    ASSIGN_OR_REQUIRE(mgr, ApplicationManager::Open(local.get(), mo));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "1.0", world.Factory(false)));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "2.0", world.Factory(true)));
  }
  // Closes the manager and the local store (as a process exit would) and
  // opens both again; the remote stream is untouched.
  void ReopenLocal() {
    mgr.reset();
    local.reset();
    OpenLocal();
  }

  // `n` records over `keys` keys, written with one PutRecords call.
  void Put(int n, int keys = 12) {
    std::vector<std::string> key(static_cast<size_t>(n)), data(static_cast<size_t>(n));
    std::vector<PutRecordInput> batch;  // views of key and data
    for (size_t i = 0; i < key.size(); ++i, ++next) {
      key[i] = "key-" + std::to_string(next % keys);
      data[i] = "v" + std::to_string(next);
      batch.push_back({key[i], data[i], std::nullopt});
      ++truth[key[i]];
    }
    ASSIGN_OR_REQUIRE(PutBatchResult r, remote->PutBatch("input", batch));
    REQUIRE(r.failed_record_count == 0);
  }
  // Pumps until the workers' counts are the truth (bounded: each Pump is a
  // few requests to the server, answered at once).
  void PumpUntilCaughtUp(int max_rounds = 100) {
    for (int i = 0; i < max_rounds && world.Total() != truth; ++i) REQUIRE_OK(mgr->Pump());
    ApplicationDetail d = Describe();
    INFO("job " << ToString(d.job.status) << " processed " << d.job.records_processed << " failure "
                << d.job.last_failure.value_or("none"));
    std::string got, want;
    for (const auto& [k, v] : world.Total()) got += k + "=" + std::to_string(v) + " ";
    for (const auto& [k, v] : truth) want += k + "=" + std::to_string(v) + " ";
    INFO("counted " << got << "; written " << want);
    REQUIRE(world.Total() == truth);
  }
  ApplicationDetail Describe() {
    ASSIGN_OR_REQUIRE(ApplicationDetail d, mgr->DescribeApplication("app"));
    return d;
  }
  std::vector<ShardDescription> OpenShards() {
    ASSIGN_OR_REQUIRE(StreamDescription d, remote->DescribeStream({"input"}));
    std::vector<ShardDescription> out;
    for (const ShardDescription& s : d.shards) {
      if (!s.ending_sequence_number) out.push_back(s);
    }
    return out;
  }
  static ApplicationConfiguration Config(std::string code = "1.0") {
    ApplicationConfiguration c;
    c.input_stream = "input";
    c.processor_name = "counter";
    c.code_version = std::move(code);
    c.runtime_environment = "1.15";
    c.parallelism = 2;
    c.checkpoints.interval = absl::ZeroDuration();  // after every round
    c.max_batch_records = 7;  // parents are far from drained when their children appear
    return c;
  }

  ManualClock clock;
  std::unique_ptr<testing::ListeningChild> server;
  std::unique_ptr<Store> remote;
  std::unique_ptr<Env> env;  // the local durable store's files, if durable
  std::unique_ptr<Store> local;
  World world;  // before mgr: processors die before the world
  std::unique_ptr<ApplicationManager> mgr;
  Counts truth;
  int next = 0;
};

TEST_CASE("an application reads a remote stream in per-key order across a remote split and merge",
          "[remote][app]") {
  RemoteAppFixture f;
  REQUIRE_OK(f.mgr->CreateApplication("app", RemoteAppFixture::Config()));
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(60);
  REQUIRE_OK(f.mgr->Pump());
  REQUIRE(f.Describe().application_status == ApplicationStatus::kRunning);
  REQUIRE(f.world.Total() != f.truth);  // max_batch_records keeps the parents going

  std::vector<ShardDescription> open = f.OpenShards();
  REQUIRE(open.size() == 2);
  REQUIRE_OK(f.remote->SplitShard("input", open[0].shard_id, open[0].hash_key_range.Midpoint()));
  REQUIRE_OK(f.remote->WaitUntilActive("input", absl::Seconds(30)));
  f.Put(60);
  REQUIRE_OK(f.mgr->Pump());
  open = f.OpenShards();
  REQUIRE(open.size() == 3);
  std::sort(open.begin(), open.end(),
            [](auto& a, auto& b) { return a.hash_key_range.start < b.hash_key_range.start; });
  REQUIRE_OK(f.remote->MergeShards("input", open[1].shard_id, open[2].shard_id));
  REQUIRE_OK(f.remote->WaitUntilActive("input", absl::Seconds(30)));
  f.Put(60);

  f.PumpUntilCaughtUp();
  CHECK(f.world.order_violations == 0);
  CHECK(f.world.effects == f.truth);  // nothing processed twice
  CHECK(f.Describe().job.status == JobStatus::kRunning);

  // The consumer's leases are in the local store's table, one per shard
  // (2 + 2 children of the split + 1 of the merge); the remote store has none.
  ASSIGN_OR_REQUIRE(auto table, LeaseTableFor(*f.local));
  ASSIGN_OR_REQUIRE(std::vector<LeaseScope> scopes, table->ListScopes());
  REQUIRE(scopes.size() == 1);
  CHECK(scopes[0].stream_name == "input");
  ASSIGN_OR_REQUIRE(std::vector<Lease> leases, table->ListLeases(scopes[0]));
  CHECK(leases.size() == 5);
  ASSIGN_OR_REQUIRE(auto remote_table, LeaseTableFor(*f.remote));
  ASSIGN_OR_REQUIRE(std::vector<LeaseScope> remote_scopes, remote_table->ListScopes());
  CHECK(remote_scopes.empty());

  // Deleting the application removes its leases from the local table.
  REQUIRE_OK(f.mgr->StopApplication("app", /*force=*/true));
  REQUIRE_OK(f.mgr->Pump());
  REQUIRE_OK(f.mgr->DeleteApplication("app"));
  REQUIRE_OK(f.mgr->Pump());
  ASSIGN_OR_REQUIRE(scopes, table->ListScopes());
  CHECK(scopes.empty());
}

TEST_CASE("an application over a remote stream: snapshot, failing update, rollback from the "
          "snapshot, exact counts",
          "[remote][app][rollback]") {
  RemoteAppFixture f;
  REQUIRE_OK(f.mgr->CreateApplication("app", RemoteAppFixture::Config()));
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(50);
  f.PumpUntilCaughtUp();
  REQUIRE_OK(f.mgr->CreateApplicationSnapshot("app", "before-upgrade"));
  REQUIRE_OK(f.mgr->Pump());
  ASSIGN_OR_REQUIRE(SnapshotDetails snap, f.mgr->DescribeApplicationSnapshot("app", "before-upgrade"));
  CHECK(snap.snapshot_status == SnapshotStatus::kReady);

  f.Put(30);
  f.PumpUntilCaughtUp();
  UpdateApplicationRequest up;
  up.application_name = "app";
  up.current_application_version_id = 1;
  up.configuration = RemoteAppFixture::Config("2.0");
  ASSIGN_OR_REQUIRE(OperationResult u, f.mgr->UpdateApplication(up));
  CHECK(u.application_detail.application_version_id == 2);
  f.Put(20);
  REQUIRE_OK(f.mgr->Pump());
  f.clock.Advance(absl::Seconds(10));
  REQUIRE_OK(f.mgr->Pump());
  ApplicationDetail d = f.Describe();
  CHECK(d.configuration.code_version == "2.0");
  CHECK(d.job.restart_count >= 1);
  REQUIRE(d.job.last_failure.has_value());
  CHECK_THAT(*d.job.last_failure, Catch::Contains("cannot read this state"));

  ASSIGN_OR_REQUIRE(OperationResult rb, f.mgr->RollbackApplication("app", 2));
  CHECK(rb.application_detail.application_status == ApplicationStatus::kRollingBack);
  f.Put(10);
  f.PumpUntilCaughtUp();
  d = f.Describe();
  CHECK(d.application_status == ApplicationStatus::kRunning);
  CHECK(d.application_version_id == 3);
  CHECK(d.configuration.code_version == "1.0");
  CHECK(d.application_version_rolled_back_from == 2);
  // Restored from the snapshot the update took (the latest READY one), then
  // read the remote stream from that snapshot's positions: exact counts.
  ASSIGN_OR_REQUIRE(auto snaps, f.mgr->ListApplicationSnapshots("app"));
  REQUIRE(snaps.snapshots.size() == 2);
  CHECK(snaps.snapshots[1].trigger == SnapshotTrigger::kBeforeUpdate);
  CHECK(d.job.restored_from == snaps.snapshots[1].snapshot_name);
  CHECK(f.world.Total() == f.truth);
  CHECK(f.world.order_violations == 0);
}

TEST_CASE("a manager on a durable local store resumes from its checkpoint against the same "
          "remote stream after a reopen",
          "[remote][app][durable]") {
  RemoteAppFixture f(/*durable=*/true);
  REQUIRE_OK(f.mgr->CreateApplication("app", RemoteAppFixture::Config()));
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(80);
  f.PumpUntilCaughtUp();
  const Counts effects_before = f.world.effects;

  f.ReopenLocal();
  CHECK(f.world.live.empty());
  CHECK(f.Describe().application_status == ApplicationStatus::kRunning);
  f.Put(40);  // written to the remote stream while the manager was "down"
  f.PumpUntilCaughtUp();
  CHECK(f.Describe().job.restored_from == "checkpoint");
  // Only the new records were processed: the checkpoint's positions held.
  int64_t processed = 0;
  for (const auto& [k, v] : f.world.effects) {
    processed += v - (effects_before.count(k) ? effects_before.at(k) : 0);
  }
  CHECK(processed == 40);
  CHECK(f.world.order_violations == 0);
}

TEST_CASE("kinesalite: an application stops with a snapshot and restarts from it, its 56-digit "
          "sequence numbers restored",
          "[remote][app][kinesalite]") {
  RemoteAppFixture f(/*durable=*/true, Peer::kKinesalite);
  REQUIRE_OK(f.mgr->CreateApplication("app", RemoteAppFixture::Config()));
  REQUIRE_OK(f.mgr->StartApplication("app"));
  f.Put(40);
  f.PumpUntilCaughtUp();
  REQUIRE(f.world.last.begin()->second.ToString().size() > 39);  // not Tributary's numbers
  REQUIRE_OK(f.mgr->StopApplication("app"));  // takes a snapshot
  REQUIRE_OK(f.mgr->Pump());
  REQUIRE(f.Describe().application_status == ApplicationStatus::kReady);
  const Counts effects_before = f.world.effects;

  f.ReopenLocal();
  f.Put(20);
  REQUIRE_OK(f.mgr->StartApplication("app"));  // RESTORE_FROM_LATEST_SNAPSHOT
  f.PumpUntilCaughtUp();
  ASSIGN_OR_REQUIRE(auto snaps, f.mgr->ListApplicationSnapshots("app"));
  REQUIRE(snaps.snapshots.size() == 1);
  CHECK(snaps.snapshots[0].trigger == SnapshotTrigger::kOnStop);
  CHECK(f.Describe().job.restored_from == snaps.snapshots[0].snapshot_name);
  int64_t processed = 0;
  for (const auto& [k, v] : f.world.effects) {
    processed += v - (effects_before.count(k) ? effects_before.at(k) : 0);
  }
  CHECK(processed == 20);  // resumed after the snapshot's positions
  CHECK(f.world.order_violations == 0);
}

TEST_CASE("ApplicationManager::Open refuses a remote store and says to use input_store", "[remote][app]") {
  auto server = StartTributaryServer();
  ASSIGN_OR_REQUIRE(auto remote, Store::OpenRemote(LocalPeerOptions(server->url())));
  absl::StatusOr<std::unique_ptr<ApplicationManager>> m = ApplicationManager::Open(remote.get());
  CHECK_ERROR(m, ErrorType::kInvalidArgument);
  CHECK_THAT(std::string(m.status().message()), Catch::Contains("input_store"));
}

}  // namespace
}  // namespace tributary
