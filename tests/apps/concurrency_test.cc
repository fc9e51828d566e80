// Reads never wait for a round: DescribeApplication and the other reads
// answer from the published state while Pump() is inside a processor, and
// changes wait for at most the one application being stepped.
#include "testing/app_fixture.h"

namespace tributary {
namespace {

// A processor whose Process blocks until the test lets it go.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false;
  bool open = false;
};

class Blocking final : public Processor {
 public:
  explicit Blocking(Gate* g) : g_(g) {}
  absl::Status Process(absl::Span<const InputRecord>) override {
    std::unique_lock<std::mutex> l(g_->mu);
    g_->inside = true;
    g_->cv.notify_all();
    g_->cv.wait(l, [this] { return g_->open; });
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override { return std::string(); }
  absl::Status RestoreState(std::string_view) override { return absl::OkStatus(); }

 private:
  Gate* g_;
};

TEST_CASE("reads answer while Pump() is inside a processor, changes to other applications wait "
          "only for that application's step",
          "[app][concurrency]") {
  Fixture f(1);
  Gate gate;
  REQUIRE_OK(f.mgr->RegisterProcessor(
      "blocking", "1.0", [&gate](const ProcessorContext&) -> absl::StatusOr<std::unique_ptr<Processor>> {
        return std::unique_ptr<Processor>(new Blocking(&gate));
      }));
  ApplicationConfiguration slow = Fixture::Config();
  slow.processor_name = "blocking";
  slow.parallelism = 1;
  f.CreateRunning(slow, "slow");
  f.CreateRunning(Fixture::Config(), "app");
  f.Put(5);

  std::thread pump([&f] { CHECK_OK(f.mgr->Pump()); });
  {
    std::unique_lock<std::mutex> l(gate.mu);
    REQUIRE(gate.cv.wait_for(l, std::chrono::seconds(60), [&gate] { return gate.inside; }));
  }
  // The pump is blocked inside "slow"'s round (the gate is closed): every
  // read below returns anyway.
  CHECK(f.Status("slow") == ApplicationStatus::kRunning);
  CHECK(f.Status("app") == ApplicationStatus::kRunning);
  CHECK(f.mgr->ListApplications().size() == 2);
  CHECK(f.Operations("slow").size() == 2);
  ASSIGN_OR_REQUIRE(auto versions, f.mgr->ListApplicationVersions("slow"));
  CHECK(versions.versions.size() == 1);
  CHECK_OK(f.mgr->DescribeApplicationVersion("app", 1));
  CHECK(f.Snapshots("slow").empty());
  {
    std::lock_guard<std::mutex> l(gate.mu);
    CHECK_FALSE(gate.open);  // still blocked: the reads did not wait for it
    gate.open = true;
  }
  gate.cv.notify_all();
  pump.join();
  f.Pump();
  CHECK(f.world.Total() == f.truth);  // "app" counted everything
}

}  // namespace
}  // namespace tributary
