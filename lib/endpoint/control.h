// Control: tributary-server's test control API (--test-control), the wire
// side of the testing toolkit (include/tributary/testing.h) for tests in any
// language. JSON in and out under /_tributary/ (docs/ENDPOINT.md "Test
// control" has every call):
//
//   POST   /_tributary/reset              every stream, consumer, application and
//   POST   /moto-api/reset                snapshot gone at once; fault rules cleared -> {}
//   GET    /_tributary/clock              {"now_ms": T, "manual": bool}
//   POST   /_tributary/clock              {"advance_ms": N} (--manual-clock only) -> {"now_ms": T}
//   POST   /_tributary/faults             a rule (testing::FaultRule as JSON) -> {"id": "fault-1"}
//   GET    /_tributary/faults             {"rules": [...]} with remaining counts
//   DELETE /_tributary/faults[/ID]        clears all rules, or one -> {}
//   POST   /_tributary/applications/NAME  {"job": "fail" | "hang" | "recover"} -> {}
//
// The Endpoint routes every request whose path IsControlPath() here, by
// method and path, whatever the transport (HTTP/1.1, HTTP/2), after checking
// its signature when the endpoint verifies signatures. Fault rules go into
// the same testing::Faults object the server installed as its stores'
// StoreOptions::fault_injector, so a rule added over the wire and one added
// in C++ are one and the same (lib/testing/faults.cc).
//
// Every call is logged (ControlOptions::log) with its method, path, body and
// answer, refused ones included.
//
// Thread safety: Handle() is safe for concurrent use.
#ifndef TRIBUTARY_LIB_ENDPOINT_CONTROL_H_
#define TRIBUTARY_LIB_ENDPOINT_CONTROL_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "endpoint/endpoint.h"
#include "tributary/clock.h"
#include "tributary/testing/faults.h"

namespace tributary::endpoint {

// Whether `path` belongs to the control API: /_tributary/... or
// /moto-api/reset. Such requests never reach a Kinesis action.
bool IsControlPath(std::string_view path);

// What POST /_tributary/applications/NAME asks of a Managed Flink
// application's job: fail now, hang, or recover (the faults of
// ApplicationManager::SetJobFault: kFail, kHang, kNone).
enum class JobCommand { kFail, kHang, kRecover };

struct ControlOptions {
  // The fault rules (not owned; required): the injector of every store the
  // endpoint serves.
  testing::Faults* faults = nullptr;
  // The server's clock when it runs on a ManualClock (--manual-clock): then
  // POST /_tributary/clock moves it. Null: the clock is read-only.
  ManualClock* manual_clock = nullptr;
  // The clock GET /_tributary/clock reads (null: SystemClock()).
  Clock* clock = nullptr;
  // Resets what lives beside the stores (applications and their snapshots);
  // run by reset before the stores are emptied. May be empty.
  std::function<absl::Status()> reset_applications;
  // Makes an application's job fail, hang or recover; NotFound
  // (ResourceNotFoundException) for an unknown application. Empty: the
  // call answers UnsupportedOperationException.
  std::function<absl::Status(std::string_view application, JobCommand fault)> application_job;
  // One line per call (default: stderr, "tributary-server: control: ...").
  std::function<void(std::string_view line)> log;
};

class Control {
 public:
  explicit Control(ControlOptions options);

  // Answers a control request (REQUIRES: IsControlPath(request.path)).
  // `endpoint` is the endpoint it came through: reset empties its stores.
  Response Handle(const Request& request, const Endpoint& endpoint) const;

  // For Endpoint: the answer to a control request whose signature did not
  // verify (`status`), logged like any control call.
  Response Refuse(const Request& request, const absl::Status& status) const;

  // For Endpoint: the answer to a control path when no Control is
  // configured (tributary-server without --test-control): 404, saying how
  // to turn it on.
  static Response Disabled(const Request& request);

 private:
  absl::StatusOr<std::string> Dispatch(const Request& request, const Endpoint& endpoint,
                                       int* http_status) const;
  void Log(const Request& request, const Response& response) const;

  ControlOptions options_;
};

// A fault check for an action the Store does not check itself (everything
// but PutRecord, PutRecords, GetShardIterator, GetRecords): asks the
// store's StoreOptions::fault_injector, if any (FaultInjector::OnCall).
absl::Status CheckActionFault(const Store& store, std::string_view action, std::string_view stream,
                              std::string_view application);

// tributary-server's exposure rules, checked before it listens on `host`:
//   * on an address that is not loopback (or a name that resolves to one
//     that is not), signatures must be verified (`signatures_verified`) or
//     explicitly waived (`allow_unauthenticated`);
//   * the control API (`test_control`) on such an address needs verified
//     signatures, waiver or not.
// FailedPrecondition with the message to print otherwise; the resolver's
// error for a host that does not resolve.
absl::Status CheckExposure(std::string_view host, bool signatures_verified, bool allow_unauthenticated,
                           bool test_control);

// Whether every address `host` resolves to is a loopback address
// (127.0.0.0/8, ::1).
absl::StatusOr<bool> IsLoopbackHost(std::string_view host);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_CONTROL_H_
