// tributary-server inside a host program: the Kinesis API for a Store and
// the Managed Service for Apache Flink API (kinesisanalyticsv2) for an
// ApplicationManager whose processors the host registered, on one HTTP port.
//
// tributary-server itself is this plus a command line: it registers the
// built-in processors (RegisterBuiltinProcessors) and serves them. A host
// that wants its own processors behind the same wire API registers them on
// its ApplicationManager and starts a Server:
//
//   auto store = *Store::Open("/var/lib/app");
//   ApplicationManagerOptions mo;
//   mo.transition_time = absl::Milliseconds(500);
//   auto apps = *ApplicationManager::Open(store.get(), mo);
//   apps->RegisterProcessor("enricher", "1.0", make_enricher);
//   auto server = *Server::Start(store.get(), apps.get(), ServerOptions{.port = 4567});
//   // aws kinesisanalyticsv2 create-application ... FileKey=enricher-1.0.jar
//
// Application code is named on the wire by
// ApplicationCodeConfiguration.CodeContent.S3ContentLocation.FileKey as
// "<processor name>-<code version>.jar" (or ".zip"); docs/ENDPOINT.md
// "Managed Service for Apache Flink" has the whole mapping.
//
// Building: CMake target tributary::server (lib/server), added with the
// tools (TRIBUTARY_BUILD_TOOLS, on at top level) or by add_subdirectory of
// lib/server; it links the endpoint (lib/endpoint) and its dependencies.
// Not installed yet: `cmake --install` leaves this header out.
//
// Thread safety: Shutdown() and Wait() may be called from any thread; the
// accessors are safe at any time.
#ifndef TRIBUTARY_SERVER_H_
#define TRIBUTARY_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/application.h"
#include "tributary/store.h"

namespace tributary {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks a free port (see Server::port())
  int threads = 0;    // io threads; 0: one per hardware thread
  // When an ApplicationManager is given: call its StartRunner(pump_interval)
  // (and StopRunner when the server goes away). Off: the host pumps.
  bool run_applications = true;
  absl::Duration pump_interval = absl::Milliseconds(10);
};

class Server {
 public:
  // Serves Kinesis for `store` and, if `applications` is not null,
  // kinesisanalyticsv2 for it (its input and output streams are `store`'s).
  // Neither is owned; both must outlive the Server. Fails if the address
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Store* store,
                                                       ApplicationManager* applications,
                                                       const ServerOptions& options = {});
  // Shutdown() and Wait().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string url() const;  // "http://127.0.0.1:4567"
  uint16_t port() const;

  // Begins a graceful shutdown (stops accepting, finishes requests in
  // flight); returns at once. Idempotent.
  void Shutdown();
  // Blocks until the shutdown finished. REQUIRES: Shutdown() was called.
  void Wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The processors tributary-server has built in, each in code versions "1.0"
// and "2.0" (FileKey counter-1.0.jar, copy-2.0.jar, ...):
//   counter  counts records per partition key (its state: the counts, kept
//            in snapshots and checkpoints, merged into worker 0 on rescale);
//            with property group OutputStream0 key stream.name it writes,
//            after every batch, one record per key the batch touched to that
//            stream: partition key = the key, data = the key's count as
//            decimal text. 2.0 saves its state with a version line and reads
//            both forms.
//   copy     writes every input record (partition key and data) to
//            OutputStream0's stream.name (required: without it every batch
//            fails); 1.0 one PutRecord per record, 2.0 PutRecords batches.
//            Stateless; at-least-once like any side effect.
// Output goes to `store` (not owned; must outlive the manager's jobs).
absl::Status RegisterBuiltinProcessors(ApplicationManager& applications, Store& store);

}  // namespace tributary

#endif  // TRIBUTARY_SERVER_H_
