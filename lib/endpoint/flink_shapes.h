// The kinesisanalyticsv2 shapes <-> tributary::ApplicationConfiguration and
// friends (names as in the API reference / botocore's service model). Only
// mapping: the request validator has checked member types, required members,
// lengths, patterns and enums before these run; the ApplicationManager
// checks everything that depends on state.
#ifndef TRIBUTARY_LIB_ENDPOINT_FLINK_SHAPES_H_
#define TRIBUTARY_LIB_ENDPOINT_FLINK_SHAPES_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "endpoint/json_codec.h"
#include "tributary/application.h"

namespace tributary::endpoint::flink {

// "1 validation error detected: Value null at 'applicationName' failed to
// satisfy constraint: Member must not be null" (AWS's form).
absl::Status MissingMember(std::string path);

// A required member (ValidationException if absent).
template <class T>
absl::Status Need(const JsonObject& in, std::string_view key, T& out) {
  std::optional<T> v;
  absl::Status s = in.Get(key, v);
  if (!s.ok()) return s;
  if (!v) return MissingMember(in.Path(key));
  out = std::move(*v);
  return absl::OkStatus();
}

// The processor a FileKey names: "<path>/<name>-<code version>.jar" or
// ".zip"; the code version starts after the last '-' followed by a digit.
// InvalidArgumentException naming the known FileKeys otherwise.
absl::StatusOr<ProcessorInfo> ProcessorOfFileKey(std::string_view file_key,
                                                 absl::Span<const ProcessorInfo> known);

// Defaults of the wire that the library leaves open.
struct Defaults {
  absl::Duration restart_delay = absl::Seconds(10);
};

// CreateApplication's request -> name, configuration (version 1), tags.
absl::Status DecodeCreate(const JsonObject& in, absl::Span<const ProcessorInfo> known,
                          const Defaults& defaults, std::string* name,
                          ApplicationConfiguration* config, std::map<std::string, std::string>* tags);

// UpdateApplication's deltas applied to `config` (the current version's),
// making what version `new_version` will be; `run` gets RunConfigurationUpdate.
absl::Status ApplyUpdate(const JsonObject& in, absl::Span<const ProcessorInfo> known,
                         int64_t new_version, ApplicationConfiguration* config,
                         RunConfiguration* run);

// RunConfiguration (StartApplication) or RunConfigurationUpdate.
absl::Status DecodeRun(const JsonObject& run, RunConfiguration* out);

// A VpcConfiguration of the request as the library keeps it, with its id.
absl::StatusOr<VpcConfiguration> DecodeVpc(const JsonObject& vpc, std::string id);

// Tags: [{"Key", "Value"}].
absl::Status DecodeTags(const std::vector<JsonObject>& list, std::map<std::string, std::string>* out);

// ---- writing
// ApplicationDetail of the current version (`include_additional`:
// IncludeAdditionalDetails, which adds JobPlanDescription: the job's health).
void WriteApplicationDetail(JsonWriter& out, const ApplicationDetail& d, bool include_additional);
// ApplicationVersionDetail: the application as it was under `v`.
void WriteVersionDetail(JsonWriter& out, const ApplicationDetail& app, const ApplicationVersionDetail& v);
void WriteSnapshot(JsonWriter& out, const SnapshotDetails& s);
void WriteCloudWatchOptions(JsonWriter& out, const std::vector<CloudWatchLoggingOption>& options);
void WriteVpc(JsonWriter& out, const VpcConfiguration& v);
void WriteOperation(JsonWriter& out, const ApplicationOperationInfo& o);
void WriteOperationDetails(JsonWriter& out, const ApplicationOperationInfoDetails& o);

}  // namespace tributary::endpoint::flink

#endif  // TRIBUTARY_LIB_ENDPOINT_FLINK_SHAPES_H_
