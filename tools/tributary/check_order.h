// `tributary check-order` (docs/CLI.md "check-order"): the command line
// around tributary::testing::CheckOrder (tributary/testing/check_order.h).
//
//   check_order.cc         flags, the store to check, the run, the exit code
//   check_order_server.cc  a tributary-server child the command starts and
//                          kills with SIGKILL (--server)
//   check_order_output.cc  the report as JSON (--json) and as a lineage
//                          picture (--svg, via Graphviz' dot)
#ifndef TRIBUTARY_TOOLS_TRIBUTARY_CHECK_ORDER_H_
#define TRIBUTARY_TOOLS_TRIBUTARY_CHECK_ORDER_H_

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tributary/testing/check_order.h"

namespace tributary::cli {

// Runs `tributary check-order ARGS...` (args after the command name) and
// returns the exit code: 0 nothing lost and order held, 1 otherwise or on
// an error, 2 usage error.
int CheckOrderCommand(const std::vector<std::string_view>& args);

// A tributary-server child on 127.0.0.1 with durable storage, which can be
// killed with SIGKILL and started again on the same port and directory.
// The child gets SIGKILL if this process dies: every incarnation is forked
// from one thread of this object's own, which lives as long as the object,
// because PR_SET_PDEATHSIG fires when the forking *thread* exits (a restart
// forked from the nemesis thread would die with it). One caller at a time.
class ServerProcess {
 public:
  // Starts `binary` (searched in PATH if it has no '/') with --data-dir
  // `data_dir`, port 0, plus `extra_flags`, and waits for its "listening on"
  // line. Its stderr goes to `log_path`.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(std::string binary, std::string data_dir,
                                                              std::vector<std::string> extra_flags,
                                                              std::string log_path);
  // SIGTERM, then waits (SIGKILL after 10 s).
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }
  // SIGKILL, reap, start again on the same port; returns once it listens.
  absl::Status Restart();
  // Stops it (as the destructor does); idempotent.
  void Stop();
  // CPU seconds (user + system) of every incarnation that has exited.
  double cpu_seconds() const { return cpu_seconds_; }

 private:
  ServerProcess() = default;
  // Runs `task` on the spawner thread and returns its result.
  absl::Status OnSpawner(std::function<absl::Status()> task);
  absl::Status Spawn(const std::string& port);
  void Reap(int signal);

  std::string binary_, data_dir_, log_path_;
  std::vector<std::string> extra_flags_;
  std::string url_, port_;
  pid_t pid_ = -1;
  double cpu_seconds_ = 0;

  // The spawner thread and its one-slot mailbox.
  std::thread spawner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<absl::Status()> task_;  // guarded by mu_
  std::optional<absl::Status> result_;  // guarded by mu_
  bool quit_ = false;                   // guarded by mu_
};

// The report as a JSON document (docs/CLI.md lists the fields).
std::string CheckOrderJson(const testing::CheckOrderReport& report, std::string_view endpoint);
// Graphviz source of the lineage over time: shards as boxes, nemesis events
// as ellipses between the shards they closed and opened, in time order;
// an event that caused order violations is red and says how many.
std::string CheckOrderDot(const testing::CheckOrderReport& report);

}  // namespace tributary::cli

#endif  // TRIBUTARY_TOOLS_TRIBUTARY_CHECK_ORDER_H_
