// The Managed Flink rollback story, in process: a stateful counting application
// on runtime 1.15 is upgraded to 1.18, the new job keeps failing while RUNNING,
// RollbackApplication brings 1.15 back from the latest snapshot, and every
// record is counted once. A ManualClock makes restart delays take no time.
//
//   upgrade_rollback                  the input stream in the same in-memory store
//   upgrade_rollback --endpoint URL   the input stream "clicks" at a Kinesis endpoint
//                                     (Store::OpenRemote; credentials from the usual
//                                     sources), the applications in a local store
//                                     (ApplicationManagerOptions::input_store); the
//                                     stream is deleted at the end
#include <fmt/format.h>

#include <map>
#include <set>
#include <sstream>

#include "tributary/remote.h"
#include "tributary/tributary.h"

using namespace tributary;
std::set<class Counter*> live;  // the workers of the running job
int64_t Counted();

// Counts records per partition key; the counts are its state.
class Counter : public Processor {
 public:
  explicit Counter(bool broken) : broken_(broken) { live.insert(this); }
  ~Counter() override { live.erase(this); }
  absl::Status Process(absl::Span<const InputRecord> records) override {
    if (broken_) return absl::InternalError("1.18 cannot read the 1.15 state");
    for (const InputRecord& r : records) ++counts_[r.record.partition_key];
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override {  // "user-1 42\n..."
    std::string s;
    for (const auto& [k, n] : counts_) s += fmt::format("{} {}\n", k, n);
    return s;
  }
  absl::Status RestoreState(std::string_view state) override {
    std::istringstream in{std::string(state)};
    for (std::string k; in >> k;) in >> counts_[k];
    return absl::OkStatus();
  }
  std::map<std::string, int64_t> counts_;
  bool broken_;
};

int64_t Counted() {  // records in the state of the running job's workers
  int64_t n = 0;
  for (Counter* c : live) for (const auto& [k, v] : c->counts_) n += v;
  return n;
}

int main(int argc, char** argv) {
  std::string endpoint;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--endpoint" && i + 1 < argc) {
      endpoint = argv[++i];
    } else {
      fmt::print(stderr, "usage: upgrade_rollback [--endpoint URL]\n");
      return 2;
    }
  }
  ManualClock clock;
  StoreOptions options;
  options.clock = &clock;
  auto local = *Store::OpenInMemory(options);  // Store::Open(dir) persists applications too
  std::unique_ptr<Store> remote;
  if (!endpoint.empty()) {
    RemoteOptions ro;
    ro.endpoint_url = endpoint;
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::OpenRemote(ro);
    if (!opened.ok()) {
      fmt::print(stderr, "open {}: {}\n", endpoint, opened.status().ToString());
      return 1;
    }
    remote = *std::move(opened);
  }
  Store* store = remote ? remote.get() : local.get();  // where the input stream lives
  ApplicationManagerOptions manager_options;
  manager_options.input_store = store;
  auto apps = *ApplicationManager::Open(local.get(), manager_options);
  for (bool broken : {false, true}) {  // code 1.0 works; 2.0 fails every batch
    (void)apps->RegisterProcessor("counter", broken ? "2.0" : "1.0",
                                  [broken](const ProcessorContext&) -> absl::StatusOr<std::unique_ptr<Processor>> {
                                    return std::make_unique<Counter>(broken);
                                  });
  }
  if (absl::Status s = store->CreateStream("clicks", 2); !s.ok()) {
    fmt::print(stderr, "CreateStream: {}\n", s.ToString());
    return 1;
  }
  (void)store->WaitUntilActive("clicks", absl::Minutes(2));
  int written = 0;
  auto put = [&](int n) {
    for (int i = 0; i < n; ++i, ++written) (void)store->Put("clicks", {"user-" + std::to_string(written % 5), "click"});
  };
  auto show = [&](std::string_view what) {
    ApplicationDetail d = *apps->DescribeApplication("TestApplication");
    fmt::print("{:<34} {:<12} v{} runtime {:<5} job {:<10} restarts {} counted {}/{}\n", what,
               ToString(d.application_status), d.application_version_id,
               d.configuration.runtime_environment, ToString(d.job.status), d.job.restart_count,
               Counted(), written);
  };
  ApplicationConfiguration config{.input_stream = "clicks", .processor_name = "counter",
                                  .code_version = "1.0", .runtime_environment = "1.15",
                                  .parallelism = 2};
  (void)apps->CreateApplication("TestApplication", config);
  (void)apps->StartApplication("TestApplication");
  put(100), (void)apps->Pump();
  show("running 1.15");
  (void)apps->CreateApplicationSnapshot("TestApplication", "before-upgrade");
  (void)apps->Pump(), put(50), (void)apps->Pump();
  show("snapshot at 100, then 50 more");
  config.runtime_environment = "1.18";
  config.code_version = "2.0";
  (void)apps->UpdateApplication({.application_name = "TestApplication",
                                 .current_application_version_id = 1,
                                 .configuration = config});
  show("UpdateApplication to 1.18");
  for (int i = 0; i < 3; ++i, clock.Advance(absl::Seconds(10))) put(10), (void)apps->Pump();
  show("RUNNING, but the job restarts");

  auto rb = *apps->RollbackApplication("TestApplication", 2);  // guarded by the current version
  show("RollbackApplication");
  (void)apps->Pump();
  show("1.15 again, latest snapshot");
  auto op = *apps->DescribeApplicationOperation("TestApplication", rb.operation_id);
  fmt::print("operation {}: {} {}\n", op.operation_id, ToString(op.operation), ToString(op.operation_status));
  ListApplicationVersionsResult versions = *apps->ListApplicationVersions("TestApplication");
  for (const auto& v : versions.versions) fmt::print("version {}: {}\n", v.application_version_id, ToString(v.application_status));
  const bool exact = Counted() == written;
  if (remote) (void)remote->DeleteStream("clicks");
  return exact ? 0 : 1;
}
