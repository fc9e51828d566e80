// kinesisanalyticsv2 actions over an ApplicationManager (the mapping:
// docs/ENDPOINT.md "Managed Service for Apache Flink").
#include "endpoint/flink_actions.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "endpoint/flink_shapes.h"
#include "endpoint/json_codec.h"
#include "endpoint/validation/validator.h"
#include "util/status_macros.h"

namespace tributary::endpoint {
namespace {

using flink::Need;

absl::Status UnknownOperation(std::string_view m) {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation, m);
}
absl::Status Unsupported(std::string_view m) {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnsupportedOperation, m);
}

void Str(JsonWriter& out, std::string_view key, std::string_view value) {
  out.Key(key);
  out.String(value);
}
void Int(JsonWriter& out, std::string_view key, int64_t value) {
  out.Key(key);
  out.Int(value);
}
void Empty(JsonWriter& out) {
  out.StartObject();
  out.EndObject();
}
void Operation(JsonWriter& out, const OperationResult& r, bool with_detail) {
  out.StartObject();
  if (with_detail) {
    out.Key("ApplicationDetail");
    flink::WriteApplicationDetail(out, r.application_detail, false);
  }
  Str(out, "OperationId", r.operation_id);
  out.EndObject();
}

// ---------------------------------------------------------------- applications

absl::Status CreateApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  ApplicationManager& m = *ctx.applications;
  std::string name;
  ApplicationConfiguration config;
  std::map<std::string, std::string> tags;
  TRIBUTARY_RETURN_IF_ERROR(flink::DecodeCreate(in, m.RegisteredProcessors(),
                                                flink::Defaults{ctx.restart_delay}, &name, &config, &tags));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, m.CreateApplication(name, config, tags));
  out.StartObject();
  out.Key("ApplicationDetail");
  flink::WriteApplicationDetail(out, d, false);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DescribeApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view name;
  std::optional<bool> additional;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("IncludeAdditionalDetails", additional));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, ctx.applications->DescribeApplication(name));
  out.StartObject();
  out.Key("ApplicationDetail");
  flink::WriteApplicationDetail(out, d, additional.value_or(false));
  out.EndObject();
  return absl::OkStatus();
}

absl::Status ListApplications(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::optional<int64_t> limit;
  std::optional<std::string_view> token;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Limit", limit));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("NextToken", token));
  // Sorted by name; NextToken is the name of the first application of the
  // next page (a page starts at the first name >= it).
  std::vector<ApplicationSummary> all = ctx.applications->ListApplications();
  const size_t n = static_cast<size_t>(std::clamp<int64_t>(limit.value_or(50), 1, 50));
  auto it = all.begin();
  if (token) {
    it = std::lower_bound(all.begin(), all.end(), *token,
                          [](const ApplicationSummary& s, std::string_view t) { return s.application_name < t; });
  }
  out.StartObject();
  out.Key("ApplicationSummaries");
  out.StartArray();
  size_t written = 0;
  for (; it != all.end() && written < n; ++it, ++written) {
    out.StartObject();
    Str(out, "ApplicationName", it->application_name);
    Str(out, "ApplicationARN", it->application_arn);
    Str(out, "ApplicationStatus", ToString(it->application_status));
    Int(out, "ApplicationVersionId", it->application_version_id);
    Str(out, "RuntimeEnvironment", it->runtime_environment);
    Str(out, "ApplicationMode", "STREAMING");
    out.EndObject();
  }
  out.EndArray();
  if (it != all.end()) Str(out, "NextToken", it->application_name);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DeleteApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view name;
  absl::Time created;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "CreateTimestamp", created));
  TRIBUTARY_RETURN_IF_ERROR(ctx.applications->DeleteApplication(name, created));
  Empty(out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- lifecycle

absl::Status StartApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view name;
  std::optional<JsonObject> run_in;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("RunConfiguration", run_in));
  RunConfiguration run;
  if (run_in) TRIBUTARY_RETURN_IF_ERROR(flink::DecodeRun(*run_in, &run));
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, ctx.applications->StartApplication(name, run));
  Operation(out, r, false);
  return absl::OkStatus();
}

absl::Status StopApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view name;
  std::optional<bool> force;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Force", force));
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r,
                             ctx.applications->StopApplication(name, force.value_or(false)));
  Operation(out, r, false);
  return absl::OkStatus();
}

// The caller's view: CurrentApplicationVersionId and/or ConditionalToken.
struct View {
  int64_t version = 0;
  std::optional<std::string> token;
};

absl::StatusOr<View> ViewOf(const JsonObject& in) {
  std::optional<int64_t> version;
  std::optional<std::string_view> token;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("CurrentApplicationVersionId", version));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ConditionalToken", token));
  if (!version && !token) {
    return InvalidArgumentError("CurrentApplicationVersionId or ConditionalToken is required");
  }
  View v;
  v.version = version.value_or(0);
  if (token) v.token = std::string(*token);
  return v;
}

// UpdateApplication and the Add/Delete actions that make a version: the
// request's changes applied to the current configuration (as Describe reads
// it), committed by UpdateApplication with the caller's view, so a change
// made in between is ConcurrentModificationException, never overwritten.
absl::StatusOr<OperationResult> Update(ApplicationManager& m, std::string_view name, const View& view,
                                       const ApplicationConfiguration& config,
                                       const RunConfiguration& run) {
  UpdateApplicationRequest r;
  r.application_name = std::string(name);
  r.current_application_version_id = view.version;
  r.conditional_token = view.token;
  r.configuration = config;
  r.run_configuration = run;
  return m.UpdateApplication(r);
}

absl::Status UpdateApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  ApplicationManager& m = *ctx.applications;
  std::string_view name;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_ASSIGN_OR_RETURN(View view, ViewOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, m.DescribeApplication(name));
  ApplicationConfiguration config = d.configuration;
  RunConfiguration run;
  TRIBUTARY_RETURN_IF_ERROR(
      flink::ApplyUpdate(in, m.RegisteredProcessors(), d.application_version_id + 1, &config, &run));
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, Update(m, name, view, config, run));
  Operation(out, r, true);
  return absl::OkStatus();
}

absl::Status RollbackApplication(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view name;
  int64_t version = 0;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "CurrentApplicationVersionId", version));
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, ctx.applications->RollbackApplication(name, version));
  Operation(out, r, true);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- snapshots

absl::Status CreateApplicationSnapshot(const FlinkRequestContext& ctx, const JsonObject& in,
                                       JsonWriter& out) {
  std::string_view name, snapshot;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "SnapshotName", snapshot));
  TRIBUTARY_RETURN_IF_ERROR(ctx.applications->CreateApplicationSnapshot(name, snapshot));
  Empty(out);
  return absl::OkStatus();
}

absl::Status DescribeApplicationSnapshot(const FlinkRequestContext& ctx, const JsonObject& in,
                                         JsonWriter& out) {
  std::string_view name, snapshot;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "SnapshotName", snapshot));
  TRIBUTARY_ASSIGN_OR_RETURN(SnapshotDetails s, ctx.applications->DescribeApplicationSnapshot(name, snapshot));
  out.StartObject();
  out.Key("SnapshotDetails");
  flink::WriteSnapshot(out, s);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status Paging(const JsonObject& in, std::optional<int>* limit, std::optional<std::string>* token) {
  std::optional<int64_t> l;
  std::optional<std::string_view> t;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Limit", l));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("NextToken", t));
  if (l) *limit = static_cast<int>(std::clamp<int64_t>(*l, INT32_MIN, INT32_MAX));
  if (t) *token = std::string(*t);
  return absl::OkStatus();
}

absl::Status ListApplicationSnapshots(const FlinkRequestContext& ctx, const JsonObject& in,
                                      JsonWriter& out) {
  std::string_view name;
  std::optional<int> limit;
  std::optional<std::string> token;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Paging(in, &limit, &token));
  TRIBUTARY_ASSIGN_OR_RETURN(ListApplicationSnapshotsResult r,
                             ctx.applications->ListApplicationSnapshots(name, limit, token));
  out.StartObject();
  out.Key("SnapshotSummaries");
  out.StartArray();
  for (const SnapshotDetails& s : r.snapshots) flink::WriteSnapshot(out, s);
  out.EndArray();
  if (r.next_token) Str(out, "NextToken", *r.next_token);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DeleteApplicationSnapshot(const FlinkRequestContext& ctx, const JsonObject& in,
                                       JsonWriter& out) {
  std::string_view name, snapshot;
  absl::Time created;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "SnapshotName", snapshot));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "SnapshotCreationTimestamp", created));
  TRIBUTARY_RETURN_IF_ERROR(ctx.applications->DeleteApplicationSnapshot(name, snapshot, created));
  Empty(out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- versions

absl::Status ListApplicationVersions(const FlinkRequestContext& ctx, const JsonObject& in,
                                     JsonWriter& out) {
  std::string_view name;
  std::optional<int> limit;
  std::optional<std::string> token;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Paging(in, &limit, &token));
  TRIBUTARY_ASSIGN_OR_RETURN(ListApplicationVersionsResult r,
                             ctx.applications->ListApplicationVersions(name, limit, token));
  out.StartObject();
  out.Key("ApplicationVersionSummaries");
  out.StartArray();
  for (const ApplicationVersionSummary& v : r.versions) {
    out.StartObject();
    Int(out, "ApplicationVersionId", v.application_version_id);
    Str(out, "ApplicationStatus", ToString(v.application_status));
    out.EndObject();
  }
  out.EndArray();
  if (r.next_token) Str(out, "NextToken", *r.next_token);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DescribeApplicationVersion(const FlinkRequestContext& ctx, const JsonObject& in,
                                        JsonWriter& out) {
  std::string_view name;
  int64_t version = 0;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationVersionId", version));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail app, ctx.applications->DescribeApplication(name));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationVersionDetail v,
                             ctx.applications->DescribeApplicationVersion(name, version));
  out.StartObject();
  out.Key("ApplicationVersionDetail");
  flink::WriteVersionDetail(out, app, v);
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- operations

absl::Status ListApplicationOperations(const FlinkRequestContext& ctx, const JsonObject& in,
                                       JsonWriter& out) {
  ListApplicationOperationsRequest r;
  std::string_view name;
  std::optional<std::string_view> operation, status;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Paging(in, &r.limit, &r.next_token));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Operation", operation));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("OperationStatus", status));
  r.application_name = std::string(name);
  bool none = false;  // a filter no operation can match
  if (operation) {
    none = true;
    for (int t = 0; t <= static_cast<int>(OperationType::kJobRestart); ++t) {
      if (ToString(static_cast<OperationType>(t)) == *operation) {
        r.operation = static_cast<OperationType>(t);
        none = false;
      }
    }
  }
  if (status) {
    for (int t = 0; t <= static_cast<int>(OperationStatus::kFailed); ++t) {
      if (ToString(static_cast<OperationStatus>(t)) == *status) r.operation_status = static_cast<OperationStatus>(t);
    }
  }
  TRIBUTARY_ASSIGN_OR_RETURN(ListApplicationOperationsResult res, ctx.applications->ListApplicationOperations(r));
  out.StartObject();
  out.Key("ApplicationOperationInfoList");
  out.StartArray();
  if (!none) {
    for (const ApplicationOperationInfo& o : res.operations) flink::WriteOperation(out, o);
  }
  out.EndArray();
  if (!none && res.next_token) Str(out, "NextToken", *res.next_token);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DescribeApplicationOperation(const FlinkRequestContext& ctx, const JsonObject& in,
                                          JsonWriter& out) {
  std::string_view name, id;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "OperationId", id));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationOperationInfoDetails o,
                             ctx.applications->DescribeApplicationOperation(name, id));
  out.StartObject();
  out.Key("ApplicationOperationInfoDetails");
  flink::WriteOperationDetails(out, o);
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- tags

absl::Status TagResource(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view arn;
  std::vector<JsonObject> list;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ResourceARN", arn));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "Tags", list));
  std::map<std::string, std::string> tags;
  TRIBUTARY_RETURN_IF_ERROR(flink::DecodeTags(list, &tags));
  TRIBUTARY_RETURN_IF_ERROR(ctx.applications->TagResource(arn, tags));
  Empty(out);
  return absl::OkStatus();
}

absl::Status UntagResource(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view arn;
  std::vector<std::string_view> keys;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ResourceARN", arn));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "TagKeys", keys));
  TRIBUTARY_RETURN_IF_ERROR(
      ctx.applications->UntagResource(arn, std::vector<std::string>(keys.begin(), keys.end())));
  Empty(out);
  return absl::OkStatus();
}

absl::Status ListTagsForResource(const FlinkRequestContext& ctx, const JsonObject& in, JsonWriter& out) {
  std::string_view arn;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ResourceARN", arn));
  TRIBUTARY_ASSIGN_OR_RETURN(auto tags, ctx.applications->ListTagsForResource(arn));
  out.StartObject();
  out.Key("Tags");
  out.StartArray();
  for (const auto& [k, v] : tags) {
    out.StartObject();
    Str(out, "Key", k);
    Str(out, "Value", v);
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- logging, VPC, maintenance

// An id "<version>.<n>" not taken yet among `ids`.
template <class T>
std::string NewId(const std::vector<T>& items, int64_t version) {
  for (int n = static_cast<int>(items.size()) + 1;; ++n) {
    std::string id = fmt::format("{}.{}", version, n);
    if (std::none_of(items.begin(), items.end(), [&](const T& x) { return x.id == id; })) return id;
  }
}

absl::Status AddApplicationCloudWatchLoggingOption(const FlinkRequestContext& ctx, const JsonObject& in,
                                                   JsonWriter& out) {
  ApplicationManager& m = *ctx.applications;
  std::string_view name, arn;
  JsonObject option = in;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "CloudWatchLoggingOption", option));
  TRIBUTARY_RETURN_IF_ERROR(Need(option, "LogStreamARN", arn));
  std::optional<std::string_view> role;
  TRIBUTARY_RETURN_IF_ERROR(option.Get("RoleARN", role));
  TRIBUTARY_ASSIGN_OR_RETURN(View view, ViewOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, m.DescribeApplication(name));
  ApplicationConfiguration config = d.configuration;
  for (const CloudWatchLoggingOption& o : config.cloudwatch_logging_options) {
    if (o.log_stream_arn == arn) {
      return InvalidArgumentError(fmt::format(
          "application {} already logs to {} (CloudWatchLoggingOptionId {})", name, arn, o.id));
    }
  }
  config.cloudwatch_logging_options.push_back(
      {NewId(config.cloudwatch_logging_options, d.application_version_id + 1), std::string(arn),
       std::string(role.value_or(""))});
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, Update(m, name, view, config, RunConfiguration()));
  out.StartObject();
  Str(out, "ApplicationARN", r.application_detail.application_arn);
  Int(out, "ApplicationVersionId", r.application_detail.application_version_id);
  flink::WriteCloudWatchOptions(out, r.application_detail.configuration.cloudwatch_logging_options);
  Str(out, "OperationId", r.operation_id);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DeleteApplicationCloudWatchLoggingOption(const FlinkRequestContext& ctx,
                                                      const JsonObject& in, JsonWriter& out) {
  ApplicationManager& m = *ctx.applications;
  std::string_view name, id;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "CloudWatchLoggingOptionId", id));
  TRIBUTARY_ASSIGN_OR_RETURN(View view, ViewOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, m.DescribeApplication(name));
  ApplicationConfiguration config = d.configuration;
  auto& options = config.cloudwatch_logging_options;
  auto it = std::find_if(options.begin(), options.end(),
                         [&](const CloudWatchLoggingOption& o) { return o.id == id; });
  if (it == options.end()) {
    return ResourceNotFoundError(
        fmt::format("application {} has no CloudWatch logging option {}", name, id.substr(0, 64)));
  }
  options.erase(it);
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, Update(m, name, view, config, RunConfiguration()));
  out.StartObject();
  Str(out, "ApplicationARN", r.application_detail.application_arn);
  Int(out, "ApplicationVersionId", r.application_detail.application_version_id);
  flink::WriteCloudWatchOptions(out, r.application_detail.configuration.cloudwatch_logging_options);
  Str(out, "OperationId", r.operation_id);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status AddApplicationVpcConfiguration(const FlinkRequestContext& ctx, const JsonObject& in,
                                            JsonWriter& out) {
  ApplicationManager& m = *ctx.applications;
  std::string_view name;
  JsonObject vpc_in = in;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "VpcConfiguration", vpc_in));
  TRIBUTARY_ASSIGN_OR_RETURN(View view, ViewOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, m.DescribeApplication(name));
  ApplicationConfiguration config = d.configuration;
  TRIBUTARY_ASSIGN_OR_RETURN(
      VpcConfiguration vpc,
      flink::DecodeVpc(vpc_in, NewId(config.vpc_configurations, d.application_version_id + 1)));
  config.vpc_configurations.push_back(vpc);
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, Update(m, name, view, config, RunConfiguration()));
  out.StartObject();
  Str(out, "ApplicationARN", r.application_detail.application_arn);
  Int(out, "ApplicationVersionId", r.application_detail.application_version_id);
  out.Key("VpcConfigurationDescription");
  flink::WriteVpc(out, vpc);
  Str(out, "OperationId", r.operation_id);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status DeleteApplicationVpcConfiguration(const FlinkRequestContext& ctx, const JsonObject& in,
                                               JsonWriter& out) {
  ApplicationManager& m = *ctx.applications;
  std::string_view name, id;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "VpcConfigurationId", id));
  TRIBUTARY_ASSIGN_OR_RETURN(View view, ViewOf(in));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, m.DescribeApplication(name));
  ApplicationConfiguration config = d.configuration;
  auto& vpcs = config.vpc_configurations;
  auto it = std::find_if(vpcs.begin(), vpcs.end(), [&](const VpcConfiguration& v) { return v.id == id; });
  if (it == vpcs.end()) {
    return ResourceNotFoundError(
        fmt::format("application {} has no VPC configuration {}", name, id.substr(0, 64)));
  }
  vpcs.erase(it);
  TRIBUTARY_ASSIGN_OR_RETURN(OperationResult r, Update(m, name, view, config, RunConfiguration()));
  out.StartObject();
  Str(out, "ApplicationARN", r.application_detail.application_arn);
  Int(out, "ApplicationVersionId", r.application_detail.application_version_id);
  Str(out, "OperationId", r.operation_id);
  out.EndObject();
  return absl::OkStatus();
}

absl::Status UpdateApplicationMaintenanceConfiguration(const FlinkRequestContext& ctx,
                                                       const JsonObject& in, JsonWriter& out) {
  std::string_view name, start;
  JsonObject update = in;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationMaintenanceConfigurationUpdate", update));
  TRIBUTARY_RETURN_IF_ERROR(Need(update, "ApplicationMaintenanceWindowStartTimeUpdate", start));
  TRIBUTARY_ASSIGN_OR_RETURN(MaintenanceConfiguration mc,
                             ctx.applications->UpdateApplicationMaintenanceConfiguration(name, start));
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, ctx.applications->DescribeApplication(name));
  out.StartObject();
  Str(out, "ApplicationARN", d.application_arn);
  out.Key("ApplicationMaintenanceConfigurationDescription");
  out.StartObject();
  Str(out, "ApplicationMaintenanceWindowStartTime", mc.window_start);
  Str(out, "ApplicationMaintenanceWindowEndTime", mc.window_end);
  out.EndObject();
  out.EndObject();
  return absl::OkStatus();
}

// The URL of the application's section of the status page. The token only
// makes each URL distinct: the status page is open to whoever reaches the
// port, like the API (docs/ENDPOINT.md).
absl::Status CreateApplicationPresignedUrl(const FlinkRequestContext& ctx, const JsonObject& in,
                                           JsonWriter& out) {
  std::string_view name, type;
  std::optional<int64_t> seconds;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", name));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "UrlType", type));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("SessionExpirationDurationInSeconds", seconds));
  if (type != "FLINK_DASHBOARD_URL") {
    return InvalidArgumentError(fmt::format(
        "UrlType {} is for Studio notebooks; an Apache Flink application has FLINK_DASHBOARD_URL", type));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(ApplicationDetail d, ctx.applications->DescribeApplication(name));
  if (d.application_status == ApplicationStatus::kDeleting) {
    return ResourceInUseError(fmt::format("Application {} is DELETING", name));
  }
  const absl::Time now = absl::Now();
  const std::string key = fmt::format("{}\n{}", d.application_arn, absl::ToUnixNanos(now));
  const std::string host = ctx.host.empty() ? std::string("127.0.0.1:4567") : std::string(ctx.host);
  out.StartObject();
  Str(out, "AuthorizedUrl",
      fmt::format("http://{}/ui/applications/{}?authToken={:016x}&expires={}", host, name,
                  XXH3_64bits(key.data(), key.size()),
                  absl::ToUnixSeconds(now + absl::Seconds(seconds.value_or(12 * 3600)))));
  out.EndObject();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- the table

constexpr std::string_view kSql = "a SQL-application action: UnsupportedOperationException";

constexpr FlinkActionInfo kActions[] = {
    {"AddApplicationCloudWatchLoggingOption", FlinkActionStatus::kDone,
     "UpdateApplication with the option added (id <new version>.<n>); stored and reported",
     &AddApplicationCloudWatchLoggingOption},
    {"AddApplicationInput", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"AddApplicationInputProcessingConfiguration", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"AddApplicationOutput", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"AddApplicationReferenceDataSource", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"AddApplicationVpcConfiguration", FlinkActionStatus::kDone,
     "UpdateApplication with the VPC configuration added; stored and reported", &AddApplicationVpcConfiguration},
    {"CreateApplication", FlinkActionStatus::kDone,
     "ApplicationManager::CreateApplication; FileKey names the processor", &CreateApplication},
    {"CreateApplicationPresignedUrl", FlinkActionStatus::kDone,
     "a URL of the application's status page (GET /ui/applications/<name>)", &CreateApplicationPresignedUrl},
    {"CreateApplicationSnapshot", FlinkActionStatus::kDone, "ApplicationManager::CreateApplicationSnapshot",
     &CreateApplicationSnapshot},
    {"DeleteApplication", FlinkActionStatus::kDone, "ApplicationManager::DeleteApplication", &DeleteApplication},
    {"DeleteApplicationCloudWatchLoggingOption", FlinkActionStatus::kDone,
     "UpdateApplication with the option removed", &DeleteApplicationCloudWatchLoggingOption},
    {"DeleteApplicationInputProcessingConfiguration", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"DeleteApplicationOutput", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"DeleteApplicationReferenceDataSource", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"DeleteApplicationSnapshot", FlinkActionStatus::kDone, "ApplicationManager::DeleteApplicationSnapshot",
     &DeleteApplicationSnapshot},
    {"DeleteApplicationVpcConfiguration", FlinkActionStatus::kDone,
     "UpdateApplication with the VPC configuration removed", &DeleteApplicationVpcConfiguration},
    {"DescribeApplication", FlinkActionStatus::kDone,
     "ApplicationManager::DescribeApplication (IncludeAdditionalDetails: the job's health as JobPlanDescription)",
     &DescribeApplication},
    {"DescribeApplicationOperation", FlinkActionStatus::kDone,
     "ApplicationManager::DescribeApplicationOperation", &DescribeApplicationOperation},
    {"DescribeApplicationSnapshot", FlinkActionStatus::kDone, "ApplicationManager::DescribeApplicationSnapshot",
     &DescribeApplicationSnapshot},
    {"DescribeApplicationVersion", FlinkActionStatus::kDone, "ApplicationManager::DescribeApplicationVersion",
     &DescribeApplicationVersion},
    {"DiscoverInputSchema", FlinkActionStatus::kSqlOnly, kSql, nullptr},
    {"ListApplicationOperations", FlinkActionStatus::kDone,
     "ApplicationManager::ListApplicationOperations (JobRestart: every failure of the job)",
     &ListApplicationOperations},
    {"ListApplicationSnapshots", FlinkActionStatus::kDone, "ApplicationManager::ListApplicationSnapshots",
     &ListApplicationSnapshots},
    {"ListApplicationVersions", FlinkActionStatus::kDone, "ApplicationManager::ListApplicationVersions",
     &ListApplicationVersions},
    {"ListApplications", FlinkActionStatus::kDone, "ApplicationManager::ListApplications (paged by name)",
     &ListApplications},
    {"ListTagsForResource", FlinkActionStatus::kDone, "ApplicationManager::ListTagsForResource",
     &ListTagsForResource},
    {"RollbackApplication", FlinkActionStatus::kDone, "ApplicationManager::RollbackApplication",
     &RollbackApplication},
    {"StartApplication", FlinkActionStatus::kDone, "ApplicationManager::StartApplication (every ApplicationRestoreType)",
     &StartApplication},
    {"StopApplication", FlinkActionStatus::kDone, "ApplicationManager::StopApplication (Force)", &StopApplication},
    {"TagResource", FlinkActionStatus::kDone, "ApplicationManager::TagResource", &TagResource},
    {"UntagResource", FlinkActionStatus::kDone, "ApplicationManager::UntagResource", &UntagResource},
    {"UpdateApplication", FlinkActionStatus::kDone,
     "ApplicationManager::UpdateApplication (the deltas applied to the current configuration)",
     &UpdateApplication},
    {"UpdateApplicationMaintenanceConfiguration", FlinkActionStatus::kDone,
     "ApplicationManager::UpdateApplicationMaintenanceConfiguration; stored and reported",
     &UpdateApplicationMaintenanceConfiguration},
};

}  // namespace

absl::Span<const FlinkActionInfo> FlinkActions() { return kActions; }

const FlinkActionInfo* FindFlinkAction(std::string_view name) {
  for (const FlinkActionInfo& a : kActions) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Response HandleFlinkRequest(const FlinkRequestContext& context, std::string_view action,
                            std::string_view content_type, const std::string& body,
                            std::string* response_storage) {
  auto fail = [](const absl::Status& s) { return Endpoint::ErrorResponse(kJsonContentType, s); };
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media == kCborContentType) {
    return fail(SerializationError(
        "kinesisanalyticsv2 speaks JSON 1.1 only: send Content-Type application/x-amz-json-1.1"));
  }
  const FlinkActionInfo* info = FindFlinkAction(action);
  if (info == nullptr) {
    return fail(UnknownOperation(
        fmt::format("{} is not a kinesisanalyticsv2 action", action.substr(0, 100))));
  }
  if (context.applications == nullptr) {
    return fail(UnknownOperation(
        "this endpoint serves no applications (kinesisanalyticsv2): it was started without an "
        "ApplicationManager"));
  }
  if (!context.default_account) {
    return fail(MakeError(absl::StatusCode::kPermissionDenied, ErrorType::kAccessDenied,
                          "applications are served for the default account only; this request's "
                          "access key selects another account"));
  }
  thread_local Scratch scratch;
  scratch.Reset();
  if (body.empty()) {
    return fail(SerializationError("The request body is empty; send {} for an action without input"));
  }
  absl::StatusOr<JsonObject> in = ParseJsonRequest(body, &scratch);
  if (!in.ok()) return fail(in.status());
  if (absl::Status v = validation::RequestValidator::KinesisAnalyticsV2().Validate(action, *in); !v.ok()) {
    return fail(v);
  }
  if (info->status == FlinkActionStatus::kSqlOnly) {
    return fail(Unsupported(fmt::format(
        "{} is an action of SQL applications; tributary-server runs Apache Flink applications only",
        info->name)));
  }
  if (context.faults != nullptr) {  // test control fault rules (control.h)
    std::optional<std::string_view> app;
    if (!in->Get("ApplicationName", app).ok()) app.reset();  // validated above
    if (absl::Status f = context.faults->OnCall(info->name, "", app.value_or("")); !f.ok()) return fail(f);
  }
  Response r;
  if (response_storage != nullptr) {
    r.body.swap(*response_storage);
    r.body.clear();
  }
  absl::Status st;
  {
    JsonWriter out(&r.body);
    st = info->handler(context, *in, out);
  }
  if (!st.ok()) return fail(st);
  return r;
}

}  // namespace tributary::endpoint
