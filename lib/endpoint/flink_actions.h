// The Managed Service for Apache Flink API (kinesisanalyticsv2, 2018-05-23,
// JSON 1.1, X-Amz-Target: KinesisAnalytics_20180523.<Action>) over a
// tributary::ApplicationManager. Every action of the API is listed with its
// status; the served ones decode the request (after the request validator,
// endpoint/validation), call the ApplicationManager method of the same name
// and encode the result. No semantics are decided here beyond the mapping:
// docs/ENDPOINT.md "Managed Service for Apache Flink" has the table and the
// mapping (FileKey -> processor, defaults of ConfigurationType DEFAULT,
// update deltas -> the whole new configuration).
//
// Thread safety: HandleFlinkRequest is safe for concurrent use (the
// ApplicationManager is).
#ifndef TRIBUTARY_LIB_ENDPOINT_FLINK_ACTIONS_H_
#define TRIBUTARY_LIB_ENDPOINT_FLINK_ACTIONS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "endpoint/endpoint.h"
#include "tributary/application.h"
#include "tributary/fault_injector.h"

namespace tributary::endpoint {

class JsonObject;
class JsonWriter;

inline constexpr std::string_view kFlinkTargetPrefix = "KinesisAnalytics_20180523.";

// Whether an X-Amz-Target names a kinesisanalyticsv2 action.
inline bool IsFlinkTarget(std::string_view target) {
  return target.substr(0, kFlinkTargetPrefix.size()) == kFlinkTargetPrefix;
}

// What the kinesisanalyticsv2 mapping needs besides the request.
struct FlinkRequestContext {
  ApplicationManager* applications = nullptr;  // null: applications are not served
  // The request's account is the default one (applications live there only).
  bool default_account = true;
  std::string_view host;  // the request's Host header (CreateApplicationPresignedUrl)
  // The restart strategy the wire cannot express: fixed delay, unlimited
  // attempts (Managed Flink's default), with this delay.
  absl::Duration restart_delay = absl::Seconds(10);
  // The store's StoreOptions::fault_injector (tributary-server
  // --test-control): asked about every action after its request validated
  // (FaultInjector::OnCall with the ApplicationName). Null: none.
  FaultInjector* faults = nullptr;
};

enum class FlinkActionStatus {
  kDone,     // served, mapped onto the ApplicationManager
  kSqlOnly,  // an action of SQL applications: UnsupportedOperationException
};

using FlinkHandler = absl::Status (*)(const FlinkRequestContext&, const JsonObject&, JsonWriter&);

struct FlinkActionInfo {
  std::string_view name;  // as in X-Amz-Target: KinesisAnalytics_20180523.<name>
  FlinkActionStatus status;
  std::string_view note;  // how it maps
  FlinkHandler handler;   // null for kSqlOnly
};

// Every action of the kinesisanalyticsv2 API (33), sorted by name.
absl::Span<const FlinkActionInfo> FlinkActions();
const FlinkActionInfo* FindFlinkAction(std::string_view name);

// Answers one request whose target is kFlinkTargetPrefix + `action`.
// JSON 1.1 only (a CBOR request is SerializationException); the response
// body goes into `response_storage`'s memory when given.
Response HandleFlinkRequest(const FlinkRequestContext& context, std::string_view action,
                            std::string_view content_type, const std::string& body,
                            std::string* response_storage);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_FLINK_ACTIONS_H_
