// The fixture of the applications tests (tests/application_tests.cc,
// tests/apps/*_test.cc): tributary/application.h over a Store, driven step
// by step with Pump() on a ManualClock. Test-only; everything is in an
// anonymous namespace, so each test unit gets its own copy.
//
// The processors here count records per partition key. Their state is the
// counts; the tests compare the counts of the live workers with the records
// actually written ("truth"), so a lost record or a record counted twice in
// state fails the comparison. `effects` counts every Process call per key
// (at-least-once side effects), which is allowed to exceed the truth.
#ifndef TRIBUTARY_TESTS_TESTING_APP_FIXTURE_H_
#define TRIBUTARY_TESTS_TESTING_APP_FIXTURE_H_

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "apps/codec.h"
#include "testing/fault_env.h"
#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using Counts = std::map<std::string, int64_t>;

// What the test processors do; one per registered (name, code version).
struct Behavior {
  bool fail_process = false;  // every batch fails ("1.18 cannot read this state")
  bool fail_create = false;   // the factory fails (the job never starts)
  bool fail_restore = false;  // RestoreState fails
  bool rescalable = true;     // implements RestoreRescaledState
  int fail_first_batches = 0;  // the first N Process calls (across instances) fail
  int fail_at_call = 0;        // the Nth Process call (across instances, 1-based) fails
};

class Counter;

// Shared by every processor instance of one test.
struct World {
  std::map<const Counter*, int> live;  // instance -> worker
  Counts effects;                      // Process calls per key, replays included
  std::map<std::string, std::string> last_seq;  // per key, for the order check
  int order_violations = 0;
  int process_failures = 0;
  int restores = 0;
  int creations = 0;
  bool fail_all_restores = false;  // the test flips it: every RestoreState fails
  int batches = 0;

  Counts Total() const;
  ProcessorFactory Factory(Behavior b);
};

std::string Encode(const Counts& c) {
  std::string out;
  for (const auto& [k, v] : c) out += k + "=" + std::to_string(v) + "\n";
  return out;
}

absl::Status Decode(std::string_view s, Counts* c) {
  while (!s.empty()) {
    size_t nl = s.find('\n');
    size_t eq = s.find('=');
    if (nl == std::string_view::npos || eq == std::string_view::npos || eq > nl) {
      return absl::DataLossError("bad counter state");
    }
    (*c)[std::string(s.substr(0, eq))] += std::stoll(std::string(s.substr(eq + 1, nl - eq - 1)));
    s.remove_prefix(nl + 1);
  }
  return absl::OkStatus();
}

class Counter final : public Processor {
 public:
  Counter(World* w, const ProcessorContext& ctx, Behavior b, int* calls)
      : world_(w), worker_(ctx.worker), b_(b), calls_(calls) {
    world_->live[this] = worker_;
    ++world_->creations;
  }
  ~Counter() override { world_->live.erase(this); }

  absl::Status Process(absl::Span<const InputRecord> records) override {
    ++world_->batches;
    const int call = ++*calls_;
    if (b_.fail_process || call <= b_.fail_first_batches || call == b_.fail_at_call) {
      ++world_->process_failures;
      return absl::InternalError("state schema of 1.15 is incompatible with this code");
    }
    for (const InputRecord& r : records) {
      const std::string& key = r.record.partition_key;
      const std::string seq = r.record.sequence_number.ToString();
      std::string& last = world_->last_seq[key];
      if (!last.empty() && seq <= last) ++world_->order_violations;
      last = seq;
      ++counts_[key];
      ++world_->effects[key];
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override { return Encode(counts_); }
  absl::Status RestoreState(std::string_view state) override {
    ++world_->restores;
    if (b_.fail_restore || world_->fail_all_restores) {
      return absl::DataLossError("cannot read the saved state");
    }
    counts_.clear();
    return Decode(state, &counts_);
  }
  absl::Status RestoreRescaledState(absl::Span<const std::string> states) override {
    if (!b_.rescalable) return Processor::RestoreRescaledState(states);
    ++world_->restores;
    counts_.clear();
    if (worker_ != 0) return absl::OkStatus();  // counts add up: worker 0 takes them all
    for (const std::string& s : states) {
      absl::Status st = Decode(s, &counts_);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  const Counts& counts() const { return counts_; }

 private:
  World* world_;
  int worker_;
  Behavior b_;
  int* calls_;  // Process calls of every instance of this factory
  Counts counts_;
};

Counts World::Total() const {
  Counts out;
  for (const auto& [c, w] : live) {
    for (const auto& [k, v] : c->counts()) out[k] += v;
  }
  for (auto it = out.begin(); it != out.end();) it = it->second == 0 ? out.erase(it) : std::next(it);
  return out;
}

ProcessorFactory World::Factory(Behavior b) {
  auto calls = std::make_shared<int>(0);
  return [this, b, calls](const ProcessorContext& ctx) -> absl::StatusOr<std::unique_ptr<Processor>> {
    if (b.fail_create) return absl::FailedPreconditionError("main() failed: missing connector");
    return std::unique_ptr<Processor>(new Counter(this, ctx, b, calls.get()));
  };
}

// A ManualClock, a store with stream "input", a manager with the counter
// processors registered:
//   counter 1.0  healthy                       counter 2.0  fails every batch
//   counter 3.0  fails to start (factory)      counter 4.0  cannot restore rescaled state
//   counter 5.0  fails RestoreState            other 1.0    healthy, another processor name
struct Fixture {
  explicit Fixture(int shards = 2, std::string dir = "", Env* env = nullptr) : dir_(std::move(dir)), env_(env) {
    OpenStore();
    REQUIRE_OK(store->CreateStream("input", shards));
    OpenManager();
  }

  void OpenStore() {
    StoreOptions o;
    o.clock = &clock;
    o.env = env_;
    if (dir_.empty()) {
      ASSIGN_OR_REQUIRE(store, Store::OpenInMemory(o));
    } else {
      ASSIGN_OR_REQUIRE(store, Store::Open(dir_, o));
    }
  }
  void OpenManager() {
    ASSIGN_OR_REQUIRE(mgr, ApplicationManager::Open(store.get(), options));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "1.0", world.Factory({})));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "2.0", world.Factory({.fail_process = true})));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "3.0", world.Factory({.fail_create = true})));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "4.0", world.Factory({.rescalable = false})));
    REQUIRE_OK(mgr->RegisterProcessor("counter", "5.0", world.Factory({.fail_restore = true})));
    REQUIRE_OK(mgr->RegisterProcessor("other", "1.0", world.Factory({})));
  }
  // Opens the manager again on the same store, with `options` as they are now
  // (on an in-memory store the applications are gone: use it before any).
  void ReopenManager() {
    mgr.reset();
    OpenManager();
  }
  // Closes manager and store (as a process exit would) and opens both again.
  void Reopen() {
    mgr.reset();
    store.reset();
    OpenStore();
    OpenManager();
  }

  void Put(int n, int keys = 10) {
    for (int i = 0; i < n; ++i) {
      std::string key = "k" + std::to_string(next_ % keys);
      ++next_;
      REQUIRE_OK(store->Put("input", {key, "v" + std::to_string(next_)}));
      ++truth[key];
    }
  }
  void Pump(int n = 1) {
    for (int i = 0; i < n; ++i) REQUIRE_OK(mgr->Pump());
  }
  ApplicationDetail Describe(const std::string& app = "app") {
    ASSIGN_OR_REQUIRE(ApplicationDetail d, mgr->DescribeApplication(app));
    return d;
  }
  ApplicationStatus Status(const std::string& app = "app") { return Describe(app).application_status; }
  int64_t Version(const std::string& app = "app") { return Describe(app).application_version_id; }

  static ApplicationConfiguration Config(std::string code = "1.0", std::string runtime = "1.15",
                                         int parallelism = 2) {
    ApplicationConfiguration c;
    c.input_stream = "input";
    c.processor_name = "counter";
    c.code_version = std::move(code);
    c.runtime_environment = std::move(runtime);
    c.parallelism = parallelism;
    return c;
  }
  // Creates "app" and brings it to RUNNING.
  void CreateRunning(ApplicationConfiguration c = Config(), const std::string& app = "app") {
    REQUIRE_OK(mgr->CreateApplication(app, c));
    REQUIRE_OK(mgr->StartApplication(app));
    Pump();
    REQUIRE(Status(app) == ApplicationStatus::kRunning);
  }
  UpdateApplicationRequest Update(ApplicationConfiguration c, const std::string& app = "app") {
    UpdateApplicationRequest r;
    r.application_name = app;
    r.current_application_version_id = Version(app);
    r.configuration = std::move(c);
    return r;
  }
  // Every operation, oldest first (all pages).
  std::vector<ApplicationOperationInfo> Operations(const std::string& app = "app") {
    ListApplicationOperationsRequest r;
    r.application_name = app;
    std::vector<ApplicationOperationInfo> out;
    while (true) {
      ASSIGN_OR_REQUIRE(auto res, mgr->ListApplicationOperations(r));
      out.insert(out.end(), res.operations.begin(), res.operations.end());
      if (!res.next_token) return out;
      r.next_token = res.next_token;
    }
  }
  ApplicationOperationInfoDetails Operation(const std::string& id, const std::string& app = "app") {
    ASSIGN_OR_REQUIRE(auto d, mgr->DescribeApplicationOperation(app, id));
    return d;
  }
  std::vector<SnapshotDetails> Snapshots(const std::string& app = "app") {
    ASSIGN_OR_REQUIRE(auto r, mgr->ListApplicationSnapshots(app));
    return r.snapshots;
  }

  ManualClock clock;
  ApplicationManagerOptions options;  // for OpenManager (a test may change it, then Reopen)
  std::string dir_;
  Env* env_;
  std::unique_ptr<Store> store;
  World world;  // declared before mgr: processors die before the world
  std::unique_ptr<ApplicationManager> mgr;
  Counts truth;
  int next_ = 0;
};

inline std::vector<OperationType> Types(const std::vector<ApplicationOperationInfo>& ops) {
  std::vector<OperationType> out;
  for (const auto& o : ops) out.push_back(o.operation);
  return out;
}

// The operations that are not job restarts (the system records one per
// failure of a job).
inline std::vector<OperationType> CallTypes(const std::vector<ApplicationOperationInfo>& ops) {
  std::vector<OperationType> out;
  for (const auto& o : ops) {
    if (o.operation != OperationType::kJobRestart) out.push_back(o.operation);
  }
  return out;
}

}  // namespace
}  // namespace tributary

namespace Catch {
#define TRIBUTARY_APP_ENUM_PRINTER(Enum)                                                      \
  template <>                                                                                 \
  struct StringMaker<tributary::Enum> {                                                       \
    static std::string convert(tributary::Enum v) { return std::string(tributary::ToString(v)); } \
  };
TRIBUTARY_APP_ENUM_PRINTER(ApplicationStatus)
TRIBUTARY_APP_ENUM_PRINTER(OperationStatus)
TRIBUTARY_APP_ENUM_PRINTER(OperationType)
TRIBUTARY_APP_ENUM_PRINTER(SnapshotStatus)
TRIBUTARY_APP_ENUM_PRINTER(JobStatus)
#undef TRIBUTARY_APP_ENUM_PRINTER
}  // namespace Catch

#endif  // TRIBUTARY_TESTS_TESTING_APP_FIXTURE_H_
