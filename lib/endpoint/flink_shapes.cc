// kinesisanalyticsv2 shapes, both ways (member names: botocore's
// kinesisanalyticsv2/2018-05-23/service-2.json and the API reference).
#include "endpoint/flink_shapes.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>

#include "util/status_macros.h"

namespace tributary::endpoint::flink {
namespace {

// Managed Flink's defaults for ConfigurationType DEFAULT (API reference,
// CheckpointConfiguration / MonitoringConfiguration / ParallelismConfiguration).
constexpr int64_t kDefaultCheckpointIntervalMs = 60'000;
constexpr int64_t kDefaultMinPauseMs = 5'000;
// Autoscaling by lag scales between 1 and this (or the configured
// parallelism, if larger).
constexpr int kAutoscalingMax = 8;

std::string FileKeyOf(const ProcessorInfo& p) { return fmt::format("{}-{}.jar", p.name, p.code_version); }

std::string KnownFileKeys(absl::Span<const ProcessorInfo> known) {
  std::string out;
  for (const ProcessorInfo& p : known) out += (out.empty() ? "" : ", ") + FileKeyOf(p);
  return out.empty() ? "none" : out;
}

absl::Status Unsupported(std::string_view m) {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnsupportedOperation, m);
}

void SetAutoscaling(ApplicationConfiguration* c, bool enabled) {
  c->autoscaling.enabled = enabled;
  c->autoscaling.min_parallelism = 1;
  c->autoscaling.max_parallelism = std::max(kAutoscalingMax, c->parallelism);
}

void DefaultCheckpoints(ApplicationConfiguration* c) {
  c->checkpoints.custom = false;
  c->checkpoints.enabled = true;
  c->checkpoints.interval = absl::Milliseconds(kDefaultCheckpointIntervalMs);
  c->checkpoints.min_pause = absl::Milliseconds(kDefaultMinPauseMs);
}

void DefaultMonitoring(ApplicationConfiguration* c) { c->monitoring = MonitoringConfiguration(); }

void DefaultParallelism(ApplicationConfiguration* c) {
  c->parallelism_custom = false;
  c->parallelism = 1;
  c->parallelism_per_kpu = 1;
  SetAutoscaling(c, true);
}

absl::Status ApplyCheckpoints(const JsonObject& in, bool update, ApplicationConfiguration* c) {
  std::optional<std::string_view> type;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "ConfigurationTypeUpdate" : "ConfigurationType", type));
  const bool custom = type ? *type == "CUSTOM" : c->checkpoints.custom;
  if (!custom) {
    DefaultCheckpoints(c);
    return absl::OkStatus();
  }
  if (!c->checkpoints.custom) DefaultCheckpoints(c);
  c->checkpoints.custom = true;
  std::optional<bool> enabled;
  std::optional<int64_t> interval, pause;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "CheckpointingEnabledUpdate" : "CheckpointingEnabled", enabled));
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "CheckpointIntervalUpdate" : "CheckpointInterval", interval));
  TRIBUTARY_RETURN_IF_ERROR(
      in.Get(update ? "MinPauseBetweenCheckpointsUpdate" : "MinPauseBetweenCheckpoints", pause));
  if (enabled) c->checkpoints.enabled = *enabled;
  if (interval) c->checkpoints.interval = absl::Milliseconds(*interval);
  if (pause) c->checkpoints.min_pause = absl::Milliseconds(*pause);
  return absl::OkStatus();
}

absl::Status ApplyMonitoring(const JsonObject& in, bool update, ApplicationConfiguration* c) {
  std::optional<std::string_view> type, metrics, log;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "ConfigurationTypeUpdate" : "ConfigurationType", type));
  const bool custom = type ? *type == "CUSTOM" : c->monitoring.custom;
  if (!custom) {
    DefaultMonitoring(c);
    return absl::OkStatus();
  }
  c->monitoring.custom = true;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "MetricsLevelUpdate" : "MetricsLevel", metrics));
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "LogLevelUpdate" : "LogLevel", log));
  if (metrics) c->monitoring.metrics_level = std::string(*metrics);
  if (log) c->monitoring.log_level = std::string(*log);
  return absl::OkStatus();
}

absl::Status GetInt32(const JsonObject& in, std::string_view key, std::optional<int>& out) {
  std::optional<int64_t> v;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(key, v));
  out.reset();
  if (v) out = static_cast<int>(std::clamp<int64_t>(*v, INT32_MIN, INT32_MAX));
  return absl::OkStatus();
}

absl::Status ApplyParallelism(const JsonObject& in, bool update, ApplicationConfiguration* c) {
  std::optional<std::string_view> type;
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "ConfigurationTypeUpdate" : "ConfigurationType", type));
  const bool custom = type ? *type == "CUSTOM" : c->parallelism_custom;
  if (!custom) {
    DefaultParallelism(c);
    return absl::OkStatus();
  }
  if (!c->parallelism_custom) SetAutoscaling(c, false);  // CUSTOM: autoscaling only when asked
  c->parallelism_custom = true;
  std::optional<int> parallelism, per_kpu;
  std::optional<bool> autoscaling;
  TRIBUTARY_RETURN_IF_ERROR(GetInt32(in, update ? "ParallelismUpdate" : "Parallelism", parallelism));
  TRIBUTARY_RETURN_IF_ERROR(GetInt32(in, update ? "ParallelismPerKPUUpdate" : "ParallelismPerKPU", per_kpu));
  TRIBUTARY_RETURN_IF_ERROR(in.Get(update ? "AutoScalingEnabledUpdate" : "AutoScalingEnabled", autoscaling));
  if (parallelism) c->parallelism = *parallelism;
  if (per_kpu) c->parallelism_per_kpu = *per_kpu;
  SetAutoscaling(c, autoscaling.value_or(c->autoscaling.enabled));
  return absl::OkStatus();
}

absl::Status DecodePropertyGroups(const std::vector<JsonObject>& groups, ApplicationConfiguration* c) {
  c->property_groups.clear();
  for (const JsonObject& g : groups) {
    std::string_view id;
    StringPairs map;
    TRIBUTARY_RETURN_IF_ERROR(Need(g, "PropertyGroupId", id));
    TRIBUTARY_RETURN_IF_ERROR(Need(g, "PropertyMap", map));
    if (c->property_groups.count(std::string(id))) {
      return InvalidArgumentError(fmt::format("PropertyGroupId '{}' appears twice", id));
    }
    std::map<std::string, std::string>& props = c->property_groups[std::string(id)];
    for (const auto& [k, v] : map) props[std::string(k)] = std::string(v);
  }
  return absl::OkStatus();
}

// CodeContent / CodeContentUpdate: the S3 location names the processor.
absl::Status ApplyS3Location(std::string_view bucket, std::string_view file_key,
                             std::optional<std::string_view> object_version,
                             absl::Span<const ProcessorInfo> known, ApplicationConfiguration* c) {
  TRIBUTARY_ASSIGN_OR_RETURN(ProcessorInfo p, ProcessorOfFileKey(file_key, known));
  c->processor_name = p.name;
  c->code_version = p.code_version;
  c->code.bucket_arn = std::string(bucket);
  c->code.file_key = std::string(file_key);
  c->code.object_version = std::string(object_version.value_or(""));
  return absl::OkStatus();
}

absl::Status InlineCode() {
  return InvalidArgumentError(
      "tributary-server runs processors registered with its ApplicationManager, named by "
      "ApplicationCodeConfiguration.CodeContent.S3ContentLocation.FileKey "
      "(<name>-<code version>.jar); inline code (TextContent, ZipFileContent) cannot run here");
}

absl::Status CheckContentType(std::optional<std::string_view> type) {
  if (type && *type != "ZIPFILE") {
    return InvalidArgumentError(fmt::format(
        "CodeContentType {} is for SQL applications; the code of an Apache Flink application is a "
        "ZIPFILE (a jar or zip in S3)",
        *type));
  }
  return absl::OkStatus();
}

absl::Status DecodeCode(const JsonObject& cfg, absl::Span<const ProcessorInfo> known,
                        ApplicationConfiguration* c) {
  std::string_view type;
  TRIBUTARY_RETURN_IF_ERROR(Need(cfg, "CodeContentType", type));
  TRIBUTARY_RETURN_IF_ERROR(CheckContentType(type));
  std::optional<JsonObject> content, s3;
  std::optional<std::string_view> text;
  std::optional<Blob> zip;
  TRIBUTARY_RETURN_IF_ERROR(cfg.Get("CodeContent", content));
  if (content) {
    TRIBUTARY_RETURN_IF_ERROR(content->Get("TextContent", text));
    TRIBUTARY_RETURN_IF_ERROR(content->Get("ZipFileContent", zip));
    TRIBUTARY_RETURN_IF_ERROR(content->Get("S3ContentLocation", s3));
  }
  if (text || zip) return InlineCode();
  if (!s3) {
    return InvalidArgumentError(fmt::format(
        "ApplicationCodeConfiguration.CodeContent.S3ContentLocation is required: its FileKey names "
        "the processor the application runs (known: {})",
        KnownFileKeys(known)));
  }
  std::string_view bucket, key;
  std::optional<std::string_view> version;
  TRIBUTARY_RETURN_IF_ERROR(Need(*s3, "BucketARN", bucket));
  TRIBUTARY_RETURN_IF_ERROR(Need(*s3, "FileKey", key));
  TRIBUTARY_RETURN_IF_ERROR(s3->Get("ObjectVersion", version));
  return ApplyS3Location(bucket, key, version, known, c);
}

absl::Status RefuseSqlAndZeppelin(const JsonObject& cfg, bool update) {
  for (std::string_view key : {update ? "SqlApplicationConfigurationUpdate" : "SqlApplicationConfiguration",
                               update ? "ZeppelinApplicationConfigurationUpdate"
                                      : "ZeppelinApplicationConfiguration"}) {
    std::optional<JsonObject> o;
    TRIBUTARY_RETURN_IF_ERROR(cfg.Get(key, o));
    if (o) {
      return Unsupported(fmt::format(
          "{}: tributary-server runs Apache Flink applications only (no SQL applications, no "
          "Studio notebooks)",
          key));
    }
  }
  return absl::OkStatus();
}

std::string VpcIdOf(const std::vector<std::string>& subnets) {
  std::string joined;
  for (const std::string& s : subnets) joined += s + ",";
  return fmt::format("vpc-{:016x}", XXH3_64bits(joined.data(), joined.size()));
}

std::vector<std::string> Strings(const std::vector<std::string_view>& v) {
  return std::vector<std::string>(v.begin(), v.end());
}

void Str(JsonWriter& out, std::string_view key, std::string_view value) {
  out.Key(key);
  out.String(value);
}
void Int(JsonWriter& out, std::string_view key, int64_t value) {
  out.Key(key);
  out.Int(value);
}
void Bool(JsonWriter& out, std::string_view key, bool value) {
  out.Key(key);
  out.Bool(value);
}
void Time(JsonWriter& out, std::string_view key, absl::Time t) {
  out.Key(key);
  out.Timestamp(t);
}

void WriteStringList(JsonWriter& out, std::string_view key, const std::vector<std::string>& v) {
  out.Key(key);
  out.StartArray();
  for (const std::string& s : v) out.String(s);
  out.EndArray();
}

void WriteRun(JsonWriter& out, const RunConfiguration& r) {
  out.Key("RunConfigurationDescription");
  out.StartObject();
  out.Key("ApplicationRestoreConfigurationDescription");
  out.StartObject();
  Str(out, "ApplicationRestoreType", ToString(r.restore_type));
  if (r.restore_type == ApplicationRestoreType::kRestoreFromCustomSnapshot) {
    Str(out, "SnapshotName", r.snapshot_name);
  }
  out.EndObject();
  out.Key("FlinkRunConfigurationDescription");
  out.StartObject();
  Bool(out, "AllowNonRestoredState", r.allow_non_restored_state);
  out.EndObject();
  out.EndObject();
}

// What JobPlanDescription carries here: the job's health (there is no Flink
// job graph to show), as JSON text.
std::string JobPlan(const ApplicationDetail& d) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  Str(w, "jobStatus", ToString(d.job.status));
  Int(w, "parallelism", d.job.parallelism);
  Int(w, "restartCount", d.job.restart_count);
  Int(w, "consecutiveFailures", d.job.consecutive_failures);
  if (d.job.last_failure) Str(w, "lastFailure", *d.job.last_failure);
  if (d.job.last_failure_time) Time(w, "lastFailureTime", *d.job.last_failure_time);
  if (d.job.next_restart_time) Time(w, "nextRestartTime", *d.job.next_restart_time);
  Int(w, "millisSinceLastHealthyBatch", absl::ToInt64Milliseconds(d.job.time_since_last_healthy_batch));
  Int(w, "recordsProcessed", d.job.records_processed);
  Int(w, "millisBehindLatest", d.job.millis_behind_latest);
  if (d.job.restored_from) Str(w, "restoredFrom", *d.job.restored_from);
  Str(w, "jobFault", ToString(d.job_fault));
  w.EndObject();
  return out;
}

// ApplicationConfigurationDescription and the members next to it that come
// from the configuration.
void WriteConfiguration(JsonWriter& out, const ApplicationConfiguration& c,
                        const std::optional<RunConfiguration>& run, int current_parallelism,
                        const std::string* job_plan) {
  out.Key("ApplicationConfigurationDescription");
  out.StartObject();
  out.Key("ApplicationCodeConfigurationDescription");
  out.StartObject();
  Str(out, "CodeContentType", "ZIPFILE");
  out.Key("CodeContentDescription");
  out.StartObject();
  out.Key("S3ApplicationCodeLocationDescription");
  out.StartObject();
  Str(out, "BucketARN", c.code.bucket_arn);
  Str(out, "FileKey", c.code.file_key.empty()
                          ? fmt::format("{}-{}.jar", c.processor_name, c.code_version)
                          : c.code.file_key);
  if (!c.code.object_version.empty()) Str(out, "ObjectVersion", c.code.object_version);
  out.EndObject();
  out.EndObject();
  out.EndObject();
  if (run) WriteRun(out, *run);
  out.Key("FlinkApplicationConfigurationDescription");
  out.StartObject();
  out.Key("CheckpointConfigurationDescription");
  out.StartObject();
  Str(out, "ConfigurationType", c.checkpoints.custom ? "CUSTOM" : "DEFAULT");
  Bool(out, "CheckpointingEnabled", c.checkpoints.enabled);
  Int(out, "CheckpointInterval", absl::ToInt64Milliseconds(c.checkpoints.interval));
  Int(out, "MinPauseBetweenCheckpoints", absl::ToInt64Milliseconds(c.checkpoints.min_pause));
  out.EndObject();
  out.Key("MonitoringConfigurationDescription");
  out.StartObject();
  Str(out, "ConfigurationType", c.monitoring.custom ? "CUSTOM" : "DEFAULT");
  Str(out, "MetricsLevel", c.monitoring.metrics_level);
  Str(out, "LogLevel", c.monitoring.log_level);
  out.EndObject();
  out.Key("ParallelismConfigurationDescription");
  out.StartObject();
  Str(out, "ConfigurationType", c.parallelism_custom ? "CUSTOM" : "DEFAULT");
  Int(out, "Parallelism", c.parallelism);
  Int(out, "ParallelismPerKPU", c.parallelism_per_kpu);
  Int(out, "CurrentParallelism", current_parallelism);
  Bool(out, "AutoScalingEnabled", c.autoscaling.enabled);
  out.EndObject();
  if (job_plan != nullptr) Str(out, "JobPlanDescription", *job_plan);
  out.EndObject();
  out.Key("EnvironmentPropertyDescriptions");
  out.StartObject();
  out.Key("PropertyGroupDescriptions");
  out.StartArray();
  for (const auto& [id, props] : c.property_groups) {
    out.StartObject();
    Str(out, "PropertyGroupId", id);
    out.Key("PropertyMap");
    out.StartObject();
    for (const auto& [k, v] : props) Str(out, k, v);
    out.EndObject();
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  out.Key("ApplicationSnapshotConfigurationDescription");
  out.StartObject();
  Bool(out, "SnapshotsEnabled", c.snapshots_enabled);
  out.EndObject();
  out.Key("ApplicationSystemRollbackConfigurationDescription");
  out.StartObject();
  Bool(out, "RollbackEnabled", c.system_rollback_enabled);
  out.EndObject();
  if (!c.vpc_configurations.empty()) {
    out.Key("VpcConfigurationDescriptions");
    out.StartArray();
    for (const VpcConfiguration& v : c.vpc_configurations) WriteVpc(out, v);
    out.EndArray();
  }
  if (c.encryption) {
    out.Key("ApplicationEncryptionConfigurationDescription");
    out.StartObject();
    if (!c.encryption->key_id.empty()) Str(out, "KeyId", c.encryption->key_id);
    Str(out, "KeyType", c.encryption->key_type);
    out.EndObject();
  }
  out.EndObject();
  if (!c.cloudwatch_logging_options.empty()) WriteCloudWatchOptions(out, c.cloudwatch_logging_options);
}

// ErrorString is at most 512 characters on the wire.
std::string_view Clip(std::string_view s, size_t n = 512) { return s.substr(0, n); }

}  // namespace

absl::Status MissingMember(std::string path) {
  if (!path.empty()) path[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(path[0])));
  return ValidationError(fmt::format(
      "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member "
      "must not be null",
      path));
}

absl::StatusOr<ProcessorInfo> ProcessorOfFileKey(std::string_view file_key,
                                                 absl::Span<const ProcessorInfo> known) {
  std::string_view base = file_key.substr(file_key.rfind('/') + 1);
  std::string_view stem;
  for (std::string_view ext : {".jar", ".zip"}) {
    if (base.size() > ext.size() && base.substr(base.size() - ext.size()) == ext) {
      stem = base.substr(0, base.size() - ext.size());
    }
  }
  size_t dash = std::string_view::npos;
  for (size_t i = stem.size(); i-- > 0;) {
    if (stem[i] == '-' && i + 1 < stem.size() && std::isdigit(static_cast<unsigned char>(stem[i + 1]))) {
      dash = i;
      break;
    }
  }
  if (dash != std::string_view::npos && dash > 0) {
    const std::string_view name = stem.substr(0, dash);
    const std::string_view version = stem.substr(dash + 1);
    for (const ProcessorInfo& p : known) {
      if (p.name == name && p.code_version == version) return p;
    }
  }
  return InvalidArgumentError(fmt::format(
      "FileKey '{}' does not name a processor this server runs: the code is named "
      "<processor>-<code version>.jar (or .zip); known: {}",
      file_key.substr(0, 256), KnownFileKeys(known)));
}

absl::Status DecodeTags(const std::vector<JsonObject>& list, std::map<std::string, std::string>* out) {
  for (const JsonObject& t : list) {
    std::string_view key;
    std::optional<std::string_view> value;
    TRIBUTARY_RETURN_IF_ERROR(Need(t, "Key", key));
    TRIBUTARY_RETURN_IF_ERROR(t.Get("Value", value));
    (*out)[std::string(key)] = std::string(value.value_or(""));
  }
  return absl::OkStatus();
}

absl::StatusOr<VpcConfiguration> DecodeVpc(const JsonObject& vpc, std::string id) {
  std::vector<std::string_view> subnets, groups;
  TRIBUTARY_RETURN_IF_ERROR(Need(vpc, "SubnetIds", subnets));
  TRIBUTARY_RETURN_IF_ERROR(Need(vpc, "SecurityGroupIds", groups));
  VpcConfiguration v;
  v.id = std::move(id);
  v.subnet_ids = Strings(subnets);
  v.security_group_ids = Strings(groups);
  v.vpc_id = VpcIdOf(v.subnet_ids);
  return v;
}

absl::Status DecodeRun(const JsonObject& run, RunConfiguration* out) {
  std::optional<JsonObject> flink, restore;
  std::optional<std::vector<JsonObject>> sql;
  TRIBUTARY_RETURN_IF_ERROR(run.Get("SqlRunConfigurations", sql));
  if (sql) return Unsupported("SqlRunConfigurations: tributary-server runs Apache Flink applications only");
  TRIBUTARY_RETURN_IF_ERROR(run.Get("FlinkRunConfiguration", flink));
  TRIBUTARY_RETURN_IF_ERROR(run.Get("ApplicationRestoreConfiguration", restore));
  if (flink) {
    std::optional<bool> allow;
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("AllowNonRestoredState", allow));
    if (allow) out->allow_non_restored_state = *allow;
  }
  if (restore) {
    std::string_view type;
    std::optional<std::string_view> snapshot;
    TRIBUTARY_RETURN_IF_ERROR(Need(*restore, "ApplicationRestoreType", type));
    TRIBUTARY_RETURN_IF_ERROR(restore->Get("SnapshotName", snapshot));
    bool found = false;
    for (ApplicationRestoreType t : {ApplicationRestoreType::kSkipRestoreFromSnapshot,
                                     ApplicationRestoreType::kRestoreFromLatestSnapshot,
                                     ApplicationRestoreType::kRestoreFromCustomSnapshot}) {
      if (ToString(t) == type) {
        out->restore_type = t;
        found = true;
      }
    }
    if (!found) {  // the validator's enum check comes first; kept for direct callers
      return ValidationError(fmt::format("ApplicationRestoreType '{}' is not valid", type.substr(0, 64)));
    }
    out->snapshot_name = std::string(snapshot.value_or(""));
    if (out->restore_type == ApplicationRestoreType::kRestoreFromCustomSnapshot && !snapshot) {
      return InvalidArgumentError(
          "ApplicationRestoreConfiguration.SnapshotName is required with RESTORE_FROM_CUSTOM_SNAPSHOT");
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeCreate(const JsonObject& in, absl::Span<const ProcessorInfo> known,
                          const Defaults& defaults, std::string* name,
                          ApplicationConfiguration* c, std::map<std::string, std::string>* tags) {
  std::string_view app, runtime, role;
  std::optional<std::string_view> description, mode;
  std::optional<JsonObject> cfg;
  std::optional<std::vector<JsonObject>> logging, tag_list;
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ApplicationName", app));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "RuntimeEnvironment", runtime));
  TRIBUTARY_RETURN_IF_ERROR(Need(in, "ServiceExecutionRole", role));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ApplicationDescription", description));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ApplicationMode", mode));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ApplicationConfiguration", cfg));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("CloudWatchLoggingOptions", logging));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("Tags", tag_list));
  if (mode && *mode == "INTERACTIVE") {
    return Unsupported("ApplicationMode INTERACTIVE (Studio notebooks) is not supported; use STREAMING");
  }
  *name = std::string(app);
  c->runtime_environment = std::string(runtime);
  c->service_execution_role = std::string(role);
  c->description = std::string(description.value_or(""));
  c->restart_strategy = RestartStrategy::FixedDelay(std::nullopt, defaults.restart_delay);
  c->snapshots_enabled = false;  // unless ApplicationSnapshotConfiguration says so
  DefaultCheckpoints(c);
  DefaultMonitoring(c);
  DefaultParallelism(c);
  if (!cfg) {
    return InvalidArgumentError(fmt::format(
        "ApplicationConfiguration.ApplicationCodeConfiguration is required: its "
        "S3ContentLocation.FileKey names the processor the application runs (known: {})",
        KnownFileKeys(known)));
  }
  TRIBUTARY_RETURN_IF_ERROR(RefuseSqlAndZeppelin(*cfg, false));
  std::optional<JsonObject> code, flink, env, snapshots, rollback, encryption;
  std::optional<std::vector<JsonObject>> vpcs;
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationCodeConfiguration", code));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("FlinkApplicationConfiguration", flink));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("EnvironmentProperties", env));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationSnapshotConfiguration", snapshots));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationSystemRollbackConfiguration", rollback));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationEncryptionConfiguration", encryption));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("VpcConfigurations", vpcs));
  if (!code) {
    return InvalidArgumentError(fmt::format(
        "ApplicationConfiguration.ApplicationCodeConfiguration is required: its "
        "S3ContentLocation.FileKey names the processor the application runs (known: {})",
        KnownFileKeys(known)));
  }
  TRIBUTARY_RETURN_IF_ERROR(DecodeCode(*code, known, c));
  if (flink) {
    std::optional<JsonObject> cp, mon, par;
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("CheckpointConfiguration", cp));
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("MonitoringConfiguration", mon));
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("ParallelismConfiguration", par));
    if (cp) TRIBUTARY_RETURN_IF_ERROR(ApplyCheckpoints(*cp, false, c));
    if (mon) TRIBUTARY_RETURN_IF_ERROR(ApplyMonitoring(*mon, false, c));
    if (par) TRIBUTARY_RETURN_IF_ERROR(ApplyParallelism(*par, false, c));
  }
  if (env) {
    std::vector<JsonObject> groups;
    TRIBUTARY_RETURN_IF_ERROR(Need(*env, "PropertyGroups", groups));
    TRIBUTARY_RETURN_IF_ERROR(DecodePropertyGroups(groups, c));
  }
  if (snapshots) {
    bool enabled = false;
    TRIBUTARY_RETURN_IF_ERROR(Need(*snapshots, "SnapshotsEnabled", enabled));
    c->snapshots_enabled = enabled;
  }
  if (rollback) {
    bool enabled = false;
    TRIBUTARY_RETURN_IF_ERROR(Need(*rollback, "RollbackEnabled", enabled));
    c->system_rollback_enabled = enabled;
  }
  if (encryption) {
    std::string_view type;
    std::optional<std::string_view> key;
    TRIBUTARY_RETURN_IF_ERROR(Need(*encryption, "KeyType", type));
    TRIBUTARY_RETURN_IF_ERROR(encryption->Get("KeyId", key));
    c->encryption = EncryptionConfiguration{std::string(type), std::string(key.value_or(""))};
  }
  if (vpcs) {
    int n = 0;
    for (const JsonObject& v : *vpcs) {
      TRIBUTARY_ASSIGN_OR_RETURN(VpcConfiguration vpc, DecodeVpc(v, fmt::format("1.{}", ++n)));
      c->vpc_configurations.push_back(std::move(vpc));
    }
  }
  if (logging) {
    int n = 0;
    for (const JsonObject& o : *logging) {
      std::string_view arn;
      TRIBUTARY_RETURN_IF_ERROR(Need(o, "LogStreamARN", arn));
      c->cloudwatch_logging_options.push_back({fmt::format("1.{}", ++n), std::string(arn), ""});
    }
  }
  if (tag_list) TRIBUTARY_RETURN_IF_ERROR(DecodeTags(*tag_list, tags));
  return absl::OkStatus();
}

absl::Status ApplyUpdate(const JsonObject& in, absl::Span<const ProcessorInfo> known,
                         int64_t new_version, ApplicationConfiguration* c, RunConfiguration* run) {
  std::optional<JsonObject> cfg, run_update;
  std::optional<std::string_view> role, runtime;
  std::optional<std::vector<JsonObject>> logging;
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ApplicationConfigurationUpdate", cfg));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("ServiceExecutionRoleUpdate", role));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("RunConfigurationUpdate", run_update));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("CloudWatchLoggingOptionUpdates", logging));
  TRIBUTARY_RETURN_IF_ERROR(in.Get("RuntimeEnvironmentUpdate", runtime));
  if (role) c->service_execution_role = std::string(*role);
  if (runtime) c->runtime_environment = std::string(*runtime);
  if (run_update) TRIBUTARY_RETURN_IF_ERROR(DecodeRun(*run_update, run));
  if (logging) {
    for (const JsonObject& u : *logging) {
      std::string_view id;
      std::optional<std::string_view> arn;
      TRIBUTARY_RETURN_IF_ERROR(Need(u, "CloudWatchLoggingOptionId", id));
      TRIBUTARY_RETURN_IF_ERROR(u.Get("LogStreamARNUpdate", arn));
      auto it = std::find_if(c->cloudwatch_logging_options.begin(), c->cloudwatch_logging_options.end(),
                             [&](const CloudWatchLoggingOption& o) { return o.id == id; });
      if (it == c->cloudwatch_logging_options.end()) {
        return InvalidArgumentError(fmt::format(
            "CloudWatchLoggingOptionId '{}' is not an option of this application (add one with "
            "AddApplicationCloudWatchLoggingOption)",
            id.substr(0, 64)));
      }
      if (arn) it->log_stream_arn = std::string(*arn);
    }
  }
  if (!cfg) return absl::OkStatus();
  TRIBUTARY_RETURN_IF_ERROR(RefuseSqlAndZeppelin(*cfg, true));
  std::optional<JsonObject> code, flink, env, snapshots, rollback, encryption;
  std::optional<std::vector<JsonObject>> vpcs;
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationCodeConfigurationUpdate", code));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("FlinkApplicationConfigurationUpdate", flink));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("EnvironmentPropertyUpdates", env));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationSnapshotConfigurationUpdate", snapshots));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationSystemRollbackConfigurationUpdate", rollback));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("ApplicationEncryptionConfigurationUpdate", encryption));
  TRIBUTARY_RETURN_IF_ERROR(cfg->Get("VpcConfigurationUpdates", vpcs));
  if (code) {
    std::optional<std::string_view> type;
    std::optional<JsonObject> content, s3;
    TRIBUTARY_RETURN_IF_ERROR(code->Get("CodeContentTypeUpdate", type));
    TRIBUTARY_RETURN_IF_ERROR(CheckContentType(type));
    TRIBUTARY_RETURN_IF_ERROR(code->Get("CodeContentUpdate", content));
    if (content) {
      std::optional<std::string_view> text;
      std::optional<Blob> zip;
      TRIBUTARY_RETURN_IF_ERROR(content->Get("TextContentUpdate", text));
      TRIBUTARY_RETURN_IF_ERROR(content->Get("ZipFileContentUpdate", zip));
      TRIBUTARY_RETURN_IF_ERROR(content->Get("S3ContentLocationUpdate", s3));
      if (text || zip) return InlineCode();
    }
    if (s3) {
      std::optional<std::string_view> bucket, key, version;
      TRIBUTARY_RETURN_IF_ERROR(s3->Get("BucketARNUpdate", bucket));
      TRIBUTARY_RETURN_IF_ERROR(s3->Get("FileKeyUpdate", key));
      TRIBUTARY_RETURN_IF_ERROR(s3->Get("ObjectVersionUpdate", version));
      const std::string old_key = c->code.file_key.empty()
                                      ? fmt::format("{}-{}.jar", c->processor_name, c->code_version)
                                      : c->code.file_key;
      const std::string new_bucket(bucket.value_or(c->code.bucket_arn));
      const std::string new_key(key.value_or(old_key));
      TRIBUTARY_RETURN_IF_ERROR(ApplyS3Location(
          new_bucket, new_key, version ? version : std::optional<std::string_view>(c->code.object_version),
          known, c));
    }
  }
  if (flink) {
    std::optional<JsonObject> cp, mon, par;
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("CheckpointConfigurationUpdate", cp));
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("MonitoringConfigurationUpdate", mon));
    TRIBUTARY_RETURN_IF_ERROR(flink->Get("ParallelismConfigurationUpdate", par));
    if (cp) TRIBUTARY_RETURN_IF_ERROR(ApplyCheckpoints(*cp, true, c));
    if (mon) TRIBUTARY_RETURN_IF_ERROR(ApplyMonitoring(*mon, true, c));
    if (par) TRIBUTARY_RETURN_IF_ERROR(ApplyParallelism(*par, true, c));
  }
  if (env) {
    std::vector<JsonObject> groups;
    TRIBUTARY_RETURN_IF_ERROR(Need(*env, "PropertyGroups", groups));
    TRIBUTARY_RETURN_IF_ERROR(DecodePropertyGroups(groups, c));  // replaces every group
  }
  if (snapshots) {
    bool enabled = false;
    TRIBUTARY_RETURN_IF_ERROR(Need(*snapshots, "SnapshotsEnabledUpdate", enabled));
    c->snapshots_enabled = enabled;
  }
  if (rollback) {
    bool enabled = false;
    TRIBUTARY_RETURN_IF_ERROR(Need(*rollback, "RollbackEnabledUpdate", enabled));
    c->system_rollback_enabled = enabled;
  }
  if (encryption) {
    std::string_view type;
    std::optional<std::string_view> key;
    TRIBUTARY_RETURN_IF_ERROR(Need(*encryption, "KeyTypeUpdate", type));
    TRIBUTARY_RETURN_IF_ERROR(encryption->Get("KeyIdUpdate", key));
    c->encryption = EncryptionConfiguration{std::string(type), std::string(key.value_or(""))};
  }
  if (vpcs) {
    for (const JsonObject& u : *vpcs) {
      std::string_view id;
      std::optional<std::vector<std::string_view>> subnets, groups;
      TRIBUTARY_RETURN_IF_ERROR(Need(u, "VpcConfigurationId", id));
      TRIBUTARY_RETURN_IF_ERROR(u.Get("SubnetIdUpdates", subnets));
      TRIBUTARY_RETURN_IF_ERROR(u.Get("SecurityGroupIdUpdates", groups));
      auto it = std::find_if(c->vpc_configurations.begin(), c->vpc_configurations.end(),
                             [&](const VpcConfiguration& v) { return v.id == id; });
      if (it == c->vpc_configurations.end()) {
        return InvalidArgumentError(fmt::format(
            "VpcConfigurationId '{}' is not a VPC configuration of this application", id.substr(0, 64)));
      }
      if (subnets) {
        it->subnet_ids = Strings(*subnets);
        it->vpc_id = VpcIdOf(it->subnet_ids);
      }
      if (groups) it->security_group_ids = Strings(*groups);
    }
  }
  (void)new_version;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- writing

void WriteCloudWatchOptions(JsonWriter& out, const std::vector<CloudWatchLoggingOption>& options) {
  out.Key("CloudWatchLoggingOptionDescriptions");
  out.StartArray();
  for (const CloudWatchLoggingOption& o : options) {
    out.StartObject();
    Str(out, "CloudWatchLoggingOptionId", o.id);
    Str(out, "LogStreamARN", o.log_stream_arn);
    if (!o.role_arn.empty()) Str(out, "RoleARN", o.role_arn);
    out.EndObject();
  }
  out.EndArray();
}

void WriteVpc(JsonWriter& out, const VpcConfiguration& v) {
  out.StartObject();
  Str(out, "VpcConfigurationId", v.id);
  Str(out, "VpcId", v.vpc_id);
  WriteStringList(out, "SubnetIds", v.subnet_ids);
  WriteStringList(out, "SecurityGroupIds", v.security_group_ids);
  out.EndObject();
}

void WriteApplicationDetail(JsonWriter& out, const ApplicationDetail& d, bool include_additional) {
  const ApplicationConfiguration& c = d.configuration;
  out.StartObject();
  Str(out, "ApplicationARN", d.application_arn);
  if (!c.description.empty()) Str(out, "ApplicationDescription", c.description);
  Str(out, "ApplicationName", d.application_name);
  Str(out, "RuntimeEnvironment", c.runtime_environment);
  if (!c.service_execution_role.empty()) Str(out, "ServiceExecutionRole", c.service_execution_role);
  Str(out, "ApplicationStatus", ToString(d.application_status));
  Int(out, "ApplicationVersionId", d.application_version_id);
  Time(out, "CreateTimestamp", d.create_timestamp);
  Time(out, "LastUpdateTimestamp", d.last_update_timestamp);
  const std::string plan = include_additional ? JobPlan(d) : std::string();
  WriteConfiguration(out, c, d.last_run_configuration,
                     d.job.parallelism > 0 ? d.job.parallelism : c.parallelism,
                     include_additional ? &plan : nullptr);
  out.Key("ApplicationMaintenanceConfigurationDescription");
  out.StartObject();
  Str(out, "ApplicationMaintenanceWindowStartTime", d.maintenance_window_start);
  Str(out, "ApplicationMaintenanceWindowEndTime", d.maintenance_window_end);
  out.EndObject();
  if (d.application_version_updated_from) {
    Int(out, "ApplicationVersionUpdatedFrom", *d.application_version_updated_from);
  }
  if (d.application_version_rolled_back_from) {
    Int(out, "ApplicationVersionRolledBackFrom", *d.application_version_rolled_back_from);
  }
  Time(out, "ApplicationVersionCreateTimestamp", d.application_version_create_timestamp);
  Str(out, "ConditionalToken", d.conditional_token);
  if (d.application_version_rolled_back_to) {
    Int(out, "ApplicationVersionRolledBackTo", *d.application_version_rolled_back_to);
  }
  Str(out, "ApplicationMode", "STREAMING");
  out.EndObject();
}

void WriteVersionDetail(JsonWriter& out, const ApplicationDetail& app, const ApplicationVersionDetail& v) {
  const ApplicationConfiguration& c = v.configuration;
  out.StartObject();
  Str(out, "ApplicationARN", app.application_arn);
  if (!c.description.empty()) Str(out, "ApplicationDescription", c.description);
  Str(out, "ApplicationName", app.application_name);
  Str(out, "RuntimeEnvironment", c.runtime_environment);
  if (!c.service_execution_role.empty()) Str(out, "ServiceExecutionRole", c.service_execution_role);
  Str(out, "ApplicationStatus", ToString(v.application_status));
  Int(out, "ApplicationVersionId", v.application_version_id);
  Time(out, "CreateTimestamp", app.create_timestamp);
  Time(out, "LastUpdateTimestamp", v.create_timestamp);
  WriteConfiguration(out, c, std::nullopt, c.parallelism, nullptr);
  if (v.application_version_updated_from) {
    Int(out, "ApplicationVersionUpdatedFrom", *v.application_version_updated_from);
  }
  if (v.application_version_rolled_back_from) {
    Int(out, "ApplicationVersionRolledBackFrom", *v.application_version_rolled_back_from);
  }
  Time(out, "ApplicationVersionCreateTimestamp", v.create_timestamp);
  if (v.application_version_rolled_back_to) {
    Int(out, "ApplicationVersionRolledBackTo", *v.application_version_rolled_back_to);
  }
  Str(out, "ApplicationMode", "STREAMING");
  out.EndObject();
}

void WriteSnapshot(JsonWriter& out, const SnapshotDetails& s) {
  out.StartObject();
  Str(out, "SnapshotName", s.snapshot_name);
  Str(out, "SnapshotStatus", ToString(s.snapshot_status));
  Int(out, "ApplicationVersionId", s.application_version_id);
  Time(out, "SnapshotCreationTimestamp", s.snapshot_creation_timestamp);
  Str(out, "RuntimeEnvironment", s.runtime_environment);
  out.EndObject();
}

void WriteOperation(JsonWriter& out, const ApplicationOperationInfo& o) {
  out.StartObject();
  Str(out, "Operation", ToString(o.operation));
  Str(out, "OperationId", o.operation_id);
  Time(out, "StartTime", o.start_time);
  if (o.end_time) Time(out, "EndTime", *o.end_time);
  Str(out, "OperationStatus", ToString(o.operation_status));
  out.EndObject();
}

void WriteOperationDetails(JsonWriter& out, const ApplicationOperationInfoDetails& o) {
  out.StartObject();
  Str(out, "Operation", ToString(o.operation));
  Time(out, "StartTime", o.start_time);
  if (o.end_time) Time(out, "EndTime", *o.end_time);
  Str(out, "OperationStatus", ToString(o.operation_status));
  if (o.application_version_change_details) {
    out.Key("ApplicationVersionChangeDetails");
    out.StartObject();
    Int(out, "ApplicationVersionUpdatedFrom",
        o.application_version_change_details->application_version_updated_from);
    Int(out, "ApplicationVersionUpdatedTo",
        o.application_version_change_details->application_version_updated_to);
    out.EndObject();
  }
  if (o.operation_failure_details) {
    out.Key("OperationFailureDetails");
    out.StartObject();
    if (o.operation_failure_details->rollback_operation_id) {
      Str(out, "RollbackOperationId", *o.operation_failure_details->rollback_operation_id);
    }
    out.Key("ErrorInfo");
    out.StartObject();
    Str(out, "ErrorString", Clip(o.operation_failure_details->error_string));
    out.EndObject();
    out.EndObject();
  }
  out.EndObject();
}

}  // namespace tributary::endpoint::flink
