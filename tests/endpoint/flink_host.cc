// A C++ host that puts its own processor behind tributary-server's wire API
// (tributary/server.h): "shout" 1.0 writes every input record upper-cased to
// the stream of property group OutputStream0. flink_host_test.py drives it
// with boto3 like tributary-server (same "listening on" line, SIGTERM ends it).
//
// Usage: flink_host [--host H] [--port P] [--in-memory]
#include <csignal>
#include <cstdio>
#include <string>

#include "tributary/server.h"
#include "tributary/tributary.h"

using namespace tributary;

class Shout final : public Processor {
 public:
  Shout(Store* store, std::string output) : store_(store), output_(std::move(output)) {}
  absl::Status Process(absl::Span<const InputRecord> records) override {
    for (const InputRecord& r : records) {
      std::string data = r.record.data;
      for (char& c : data) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      absl::StatusOr<PutRecordResult> put = store_->Put(output_, {r.record.partition_key, data});
      if (!put.ok()) return put.status();
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override { return std::string(); }
  absl::Status RestoreState(std::string_view) override { return absl::OkStatus(); }

 private:
  Store* store_;
  std::string output_;
};

int main(int argc, char** argv) {
  ServerOptions so;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) so.host = argv[++i];
    else if (a == "--port" && i + 1 < argc) so.port = static_cast<uint16_t>(std::stoi(argv[++i]));
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StoreOptions o;
  o.create_delay = absl::ZeroDuration();
  std::unique_ptr<Store> store = *Store::OpenInMemory(o);
  ApplicationManagerOptions mo;
  mo.transition_time = absl::Milliseconds(100);
  std::unique_ptr<ApplicationManager> apps = *ApplicationManager::Open(store.get(), mo);
  Store* s = store.get();
  absl::Status st = apps->RegisterProcessor(
      "shout", "1.0", [s](const ProcessorContext& ctx) -> absl::StatusOr<std::unique_ptr<Processor>> {
        const auto& groups = *ctx.property_groups;
        auto g = groups.find("OutputStream0");
        if (g == groups.end() || !g->second.count("stream.name")) {
          return absl::FailedPreconditionError("shout needs OutputStream0 stream.name");
        }
        return std::unique_ptr<Processor>(new Shout(s, g->second.at("stream.name")));
      });
  if (!st.ok()) return 1;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(store.get(), apps.get(), so);
  if (!server.ok()) {
    std::fprintf(stderr, "flink_host: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("listening on %s\n", (*server)->url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server->reset();  // shuts down, stops the runner
  return 0;
}
