#include "apps/codec.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cstring>

#include "util/coding.h"
#include "util/status_macros.h"

namespace tributary::apps {
namespace {

using util::Decoder;
using util::Encoder;

absl::Status Corrupt(const std::string& path, std::string_view why) {
  return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                   fmt::format("application file {} is damaged ({})", path, why));
}

// ---- encoding helpers
void I32(Encoder* e, int v) { e->U32(static_cast<uint32_t>(v)); }
void Bool(Encoder* e, bool v) { e->U8(v ? 1 : 0); }
void Dur(Encoder* e, absl::Duration d) { e->I64(absl::ToInt64Nanoseconds(d)); }
void Time(Encoder* e, absl::Time t) { e->I64(absl::ToUnixNanos(t)); }
void OptI64(Encoder* e, const std::optional<int64_t>& v) {
  Bool(e, v.has_value());
  if (v) e->I64(*v);
}
void OptStr(Encoder* e, const std::optional<std::string>& v) {
  Bool(e, v.has_value());
  if (v) e->Str(*v);
}
void OptTime(Encoder* e, const std::optional<absl::Time>& v) {
  Bool(e, v.has_value());
  if (v) Time(e, *v);
}

// ---- decoding helpers: each returns false on truncated or invalid input
bool I32(Decoder* d, int* v) {
  int32_t x;
  if (!d->I32(&x)) return false;
  *v = x;
  return true;
}
bool Bool(Decoder* d, bool* v) {
  uint8_t x;
  if (!d->U8(&x) || x > 1) return false;
  *v = x == 1;
  return true;
}
bool Dur(Decoder* d, absl::Duration* v) {
  int64_t x;
  if (!d->I64(&x)) return false;
  *v = absl::Nanoseconds(x);
  return true;
}
bool Time(Decoder* d, absl::Time* v) {
  int64_t x;
  if (!d->I64(&x)) return false;
  *v = absl::FromUnixNanos(x);
  return true;
}
bool OptI64(Decoder* d, std::optional<int64_t>* v) {
  bool has;
  if (!Bool(d, &has)) return false;
  v->reset();
  if (!has) return true;
  int64_t x;
  if (!d->I64(&x)) return false;
  *v = x;
  return true;
}
bool OptStr(Decoder* d, std::optional<std::string>* v) {
  bool has;
  if (!Bool(d, &has)) return false;
  v->reset();
  if (!has) return true;
  std::string x;
  if (!d->Str(&x)) return false;
  *v = std::move(x);
  return true;
}
bool OptTime(Decoder* d, std::optional<absl::Time>* v) {
  bool has;
  if (!Bool(d, &has)) return false;
  v->reset();
  if (!has) return true;
  absl::Time x;
  if (!Time(d, &x)) return false;
  *v = x;
  return true;
}
template <typename E>
bool Enum(Decoder* d, E* v, int max) {
  uint8_t x;
  if (!d->U8(&x) || x > max) return false;
  *v = static_cast<E>(x);
  return true;
}
template <typename E>
void Enum(Encoder* e, E v) {
  e->U8(static_cast<uint8_t>(v));
}

// ---- configuration
void Put(Encoder* e, const ApplicationConfiguration& c) {
  e->Str(c.input_stream);
  e->Str(c.processor_name);
  e->Str(c.code_version);
  e->Str(c.runtime_environment);
  I32(e, c.parallelism);
  e->U32(static_cast<uint32_t>(c.properties.size()));
  for (const auto& [k, v] : c.properties) {
    e->Str(k);
    e->Str(v);
  }
  Bool(e, c.snapshots_enabled);
  Bool(e, c.checkpoints.enabled);
  Dur(e, c.checkpoints.interval);
  Enum(e, c.restart_strategy.type);
  Dur(e, c.restart_strategy.delay);
  Bool(e, c.restart_strategy.max_attempts.has_value());
  I32(e, c.restart_strategy.max_attempts.value_or(0));
  I32(e, c.restart_strategy.max_failures);
  Dur(e, c.restart_strategy.failure_interval);
  Bool(e, c.autoscaling.enabled);
  I32(e, c.autoscaling.min_parallelism);
  I32(e, c.autoscaling.max_parallelism);
  e->I64(c.autoscaling.scale_up_millis_behind);
  Dur(e, c.autoscaling.scale_up_after);
  e->I64(c.autoscaling.scale_down_millis_behind);
  Dur(e, c.autoscaling.scale_down_after);
  Bool(e, c.system_rollback_enabled);
  Bool(e, c.restart_loop_rollback.enabled);
  I32(e, c.restart_loop_rollback.max_restarts);
  Dur(e, c.restart_loop_rollback.within);
  I32(e, c.max_batch_records);
  // version 2
  e->U32(static_cast<uint32_t>(c.property_groups.size()));
  for (const auto& [group, props] : c.property_groups) {
    e->Str(group);
    e->U32(static_cast<uint32_t>(props.size()));
    for (const auto& [k, v] : props) {
      e->Str(k);
      e->Str(v);
    }
  }
  Bool(e, c.checkpoints.custom);
  Dur(e, c.checkpoints.min_pause);
  e->Str(c.description);
  e->Str(c.service_execution_role);
  e->Str(c.code.bucket_arn);
  e->Str(c.code.file_key);
  e->Str(c.code.object_version);
  Bool(e, c.monitoring.custom);
  e->Str(c.monitoring.metrics_level);
  e->Str(c.monitoring.log_level);
  Bool(e, c.parallelism_custom);
  I32(e, c.parallelism_per_kpu);
  e->U32(static_cast<uint32_t>(c.cloudwatch_logging_options.size()));
  for (const CloudWatchLoggingOption& o : c.cloudwatch_logging_options) {
    e->Str(o.id);
    e->Str(o.log_stream_arn);
    e->Str(o.role_arn);
  }
  e->U32(static_cast<uint32_t>(c.vpc_configurations.size()));
  for (const VpcConfiguration& v : c.vpc_configurations) {
    e->Str(v.id);
    e->Str(v.vpc_id);
    e->U32(static_cast<uint32_t>(v.subnet_ids.size()));
    for (const std::string& x : v.subnet_ids) e->Str(x);
    e->U32(static_cast<uint32_t>(v.security_group_ids.size()));
    for (const std::string& x : v.security_group_ids) e->Str(x);
  }
  Bool(e, c.encryption.has_value());
  if (c.encryption) {
    e->Str(c.encryption->key_type);
    e->Str(c.encryption->key_id);
  }
}

// A u32 count followed by that many strings.
bool GetStrings(Decoder* d, std::vector<std::string>* out) {
  uint32_t n;
  if (!d->U32(&n) || n > d->remaining()) return false;
  out->clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string x;
    if (!d->Str(&x)) return false;
    out->push_back(std::move(x));
  }
  return true;
}

// The members version 2 added to a configuration.
bool GetV2(Decoder* d, ApplicationConfiguration* c) {
  uint32_t groups;
  if (!d->U32(&groups) || groups > d->remaining()) return false;
  c->property_groups.clear();
  for (uint32_t g = 0; g < groups; ++g) {
    std::string id;
    uint32_t n;
    if (!d->Str(&id) || !d->U32(&n) || n > d->remaining()) return false;
    std::map<std::string, std::string>& props = c->property_groups[id];
    for (uint32_t i = 0; i < n; ++i) {
      std::string k, v;
      if (!d->Str(&k) || !d->Str(&v)) return false;
      props[k] = v;
    }
  }
  if (!Bool(d, &c->checkpoints.custom) || !Dur(d, &c->checkpoints.min_pause) ||
      !d->Str(&c->description) || !d->Str(&c->service_execution_role) ||
      !d->Str(&c->code.bucket_arn) || !d->Str(&c->code.file_key) ||
      !d->Str(&c->code.object_version) || !Bool(d, &c->monitoring.custom) ||
      !d->Str(&c->monitoring.metrics_level) || !d->Str(&c->monitoring.log_level) ||
      !Bool(d, &c->parallelism_custom) || !I32(d, &c->parallelism_per_kpu)) {
    return false;
  }
  uint32_t n;
  if (!d->U32(&n) || n > d->remaining()) return false;
  c->cloudwatch_logging_options.clear();
  for (uint32_t i = 0; i < n; ++i) {
    CloudWatchLoggingOption o;
    if (!d->Str(&o.id) || !d->Str(&o.log_stream_arn) || !d->Str(&o.role_arn)) return false;
    c->cloudwatch_logging_options.push_back(std::move(o));
  }
  if (!d->U32(&n) || n > d->remaining()) return false;
  c->vpc_configurations.clear();
  for (uint32_t i = 0; i < n; ++i) {
    VpcConfiguration v;
    if (!d->Str(&v.id) || !d->Str(&v.vpc_id) || !GetStrings(d, &v.subnet_ids) ||
        !GetStrings(d, &v.security_group_ids)) {
      return false;
    }
    c->vpc_configurations.push_back(std::move(v));
  }
  bool has_encryption;
  if (!Bool(d, &has_encryption)) return false;
  c->encryption.reset();
  if (has_encryption) {
    EncryptionConfiguration x;
    if (!d->Str(&x.key_type) || !d->Str(&x.key_id)) return false;
    c->encryption = std::move(x);
  }
  return true;
}

bool Get(Decoder* d, ApplicationConfiguration* c, uint32_t version) {
  uint32_t n;
  if (!d->Str(&c->input_stream) || !d->Str(&c->processor_name) || !d->Str(&c->code_version) ||
      !d->Str(&c->runtime_environment) || !I32(d, &c->parallelism) || !d->U32(&n)) {
    return false;
  }
  c->properties.clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!d->Str(&k) || !d->Str(&v)) return false;
    c->properties[k] = v;
  }
  bool has_max;
  int max_attempts;
  if (!Bool(d, &c->snapshots_enabled) || !Bool(d, &c->checkpoints.enabled) ||
      !Dur(d, &c->checkpoints.interval) || !Enum(d, &c->restart_strategy.type, 2) ||
      !Dur(d, &c->restart_strategy.delay) || !Bool(d, &has_max) || !I32(d, &max_attempts) ||
      !I32(d, &c->restart_strategy.max_failures) || !Dur(d, &c->restart_strategy.failure_interval) ||
      !Bool(d, &c->autoscaling.enabled) || !I32(d, &c->autoscaling.min_parallelism) ||
      !I32(d, &c->autoscaling.max_parallelism) || !d->I64(&c->autoscaling.scale_up_millis_behind) ||
      !Dur(d, &c->autoscaling.scale_up_after) || !d->I64(&c->autoscaling.scale_down_millis_behind) ||
      !Dur(d, &c->autoscaling.scale_down_after) || !Bool(d, &c->system_rollback_enabled) ||
      !Bool(d, &c->restart_loop_rollback.enabled) ||
      !I32(d, &c->restart_loop_rollback.max_restarts) || !Dur(d, &c->restart_loop_rollback.within) ||
      !I32(d, &c->max_batch_records)) {
    return false;
  }
  c->restart_strategy.max_attempts = has_max ? std::optional<int>(max_attempts) : std::nullopt;
  return version < 2 || GetV2(d, c);
}

void Put(Encoder* e, const RunConfiguration& r) {
  Enum(e, r.restore_type);
  e->Str(r.snapshot_name);
  Bool(e, r.allow_non_restored_state);
}
bool Get(Decoder* d, RunConfiguration* r) {
  return Enum(d, &r->restore_type, 2) && d->Str(&r->snapshot_name) &&
         Bool(d, &r->allow_non_restored_state);
}

void Put(Encoder* e, const ApplicationVersionDetail& v) {
  e->I64(v.application_version_id);
  Enum(e, v.application_status);
  Put(e, v.configuration);
  Time(e, v.create_timestamp);
  e->Str(v.created_by_operation_id);
  OptI64(e, v.application_version_updated_from);
  OptI64(e, v.application_version_rolled_back_from);
  OptI64(e, v.application_version_rolled_back_to);
}
bool Get(Decoder* d, ApplicationVersionDetail* v, uint32_t version) {
  return d->I64(&v->application_version_id) && Enum(d, &v->application_status, 9) &&
         Get(d, &v->configuration, version) && Time(d, &v->create_timestamp) &&
         d->Str(&v->created_by_operation_id) && OptI64(d, &v->application_version_updated_from) &&
         OptI64(d, &v->application_version_rolled_back_from) &&
         OptI64(d, &v->application_version_rolled_back_to);
}

void Put(Encoder* e, const ApplicationOperationInfoDetails& o) {
  e->Str(o.operation_id);
  Enum(e, o.operation);
  Enum(e, o.operation_status);
  Time(e, o.start_time);
  OptTime(e, o.end_time);
  Enum(e, o.initiated_by);
  OptStr(e, o.reason);
  Bool(e, o.application_version_change_details.has_value());
  if (o.application_version_change_details) {
    e->I64(o.application_version_change_details->application_version_updated_from);
    e->I64(o.application_version_change_details->application_version_updated_to);
  }
  Bool(e, o.operation_failure_details.has_value());
  if (o.operation_failure_details) {
    OptStr(e, o.operation_failure_details->rollback_operation_id);
    e->Str(o.operation_failure_details->error_string);
  }
}
bool Get(Decoder* d, ApplicationOperationInfoDetails* o, uint32_t version) {
  bool has_change, has_failure;
  if (!d->Str(&o->operation_id) || !Enum(d, &o->operation, version < 2 ? 7 : 8) ||
      !Enum(d, &o->operation_status, 3) || !Time(d, &o->start_time) || !OptTime(d, &o->end_time) ||
      !Enum(d, &o->initiated_by, 1) || !OptStr(d, &o->reason) || !Bool(d, &has_change)) {
    return false;
  }
  o->application_version_change_details.reset();
  if (has_change) {
    ApplicationVersionChangeDetails c;
    if (!d->I64(&c.application_version_updated_from) || !d->I64(&c.application_version_updated_to)) {
      return false;
    }
    o->application_version_change_details = c;
  }
  if (!Bool(d, &has_failure)) return false;
  o->operation_failure_details.reset();
  if (has_failure) {
    OperationFailureDetails f;
    if (!OptStr(d, &f.rollback_operation_id) || !d->Str(&f.error_string)) return false;
    o->operation_failure_details = std::move(f);
  }
  return true;
}

void Put(Encoder* e, const SnapshotRecord& s) {
  const SnapshotDetails& x = s.details;
  e->Str(x.snapshot_name);
  Enum(e, x.snapshot_status);
  e->I64(x.application_version_id);
  e->Str(x.runtime_environment);
  e->Str(x.processor_name);
  e->Str(x.code_version);
  I32(e, x.parallelism);
  Time(e, x.snapshot_creation_timestamp);
  Enum(e, x.trigger);
  e->U64(x.size_bytes);
  OptStr(e, x.failure);
  e->U64(s.file_id);
}
bool Get(Decoder* d, SnapshotRecord* s, uint32_t) {
  SnapshotDetails& x = s->details;
  return d->Str(&x.snapshot_name) && Enum(d, &x.snapshot_status, 3) &&
         d->I64(&x.application_version_id) && d->Str(&x.runtime_environment) &&
         d->Str(&x.processor_name) && d->Str(&x.code_version) && I32(d, &x.parallelism) &&
         Time(d, &x.snapshot_creation_timestamp) && Enum(d, &x.trigger, 3) &&
         d->U64(&x.size_bytes) && OptStr(d, &x.failure) && d->U64(&s->file_id);
}

void Put(Encoder* e, const RestartEvent& r) {
  Time(e, r.time);
  e->I64(r.application_version_id);
  I32(e, r.attempt);
  e->Str(r.cause);
  Bool(e, r.final);
}
bool Get(Decoder* d, RestartEvent* r, uint32_t) {
  return Time(d, &r->time) && d->I64(&r->application_version_id) && I32(d, &r->attempt) &&
         d->Str(&r->cause) && Bool(d, &r->final);
}

void Put(Encoder* e, const AppState& a) {
  e->Str(a.name);
  e->Str(a.arn);
  e->U64(a.incarnation);
  Enum(e, a.status);
  e->I64(a.version_id);
  Time(e, a.create_time);
  Time(e, a.last_update_time);
  OptI64(e, a.updated_from);
  OptI64(e, a.rolled_back_from);
  OptI64(e, a.rolled_back_to);
  Bool(e, a.last_run.has_value());
  if (a.last_run) Put(e, *a.last_run);
  e->U32(static_cast<uint32_t>(a.versions.size()));
  for (const auto& v : a.versions) Put(e, v);
  e->U32(static_cast<uint32_t>(a.operations.size()));
  for (const auto& o : a.operations) Put(e, o);
  e->U32(static_cast<uint32_t>(a.snapshots.size()));
  for (const auto& s : a.snapshots) Put(e, s);
  e->U32(static_cast<uint32_t>(a.restarts.size()));
  for (const auto& r : a.restarts) Put(e, r);
  e->Str(a.current_operation);
  Bool(e, a.plan.active);
  e->U64(a.plan.job_id);
  e->Str(a.plan.restore_snapshot);
  Bool(e, a.plan.allow_non_restored_state);
  e->U64(a.next_operation);
  e->U64(a.next_file);
  e->U64(a.next_job);
  e->I64(a.loop_rule_fired_version);
  // version 2
  e->U32(static_cast<uint32_t>(a.tags.size()));
  for (const auto& [k, v] : a.tags) {
    e->Str(k);
    e->Str(v);
  }
  e->Str(a.maintenance_window_start);
  e->U8(a.fault_override ? static_cast<uint8_t>(1 + static_cast<int>(*a.fault_override)) : 0);
}

template <typename T, typename C>
bool GetList(Decoder* d, C* out, uint32_t version) {
  uint32_t n;
  if (!d->U32(&n) || n > d->remaining()) return false;  // every entry takes >= 1 byte
  out->clear();
  for (uint32_t i = 0; i < n; ++i) {
    T x;
    if (!Get(d, &x, version)) return false;
    out->push_back(std::move(x));
  }
  return true;
}

bool GetV2(Decoder* d, AppState* a) {
  uint32_t n;
  if (!d->U32(&n) || n > d->remaining()) return false;
  a->tags.clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!d->Str(&k) || !d->Str(&v)) return false;
    a->tags[k] = v;
  }
  uint8_t fault;
  if (!d->Str(&a->maintenance_window_start) || !d->U8(&fault) || fault > 3) return false;
  a->fault_override.reset();
  if (fault != 0) a->fault_override = static_cast<JobFault>(fault - 1);
  return true;
}

bool Get(Decoder* d, AppState* a, uint32_t version) {
  bool has_run;
  if (!d->Str(&a->name) || !d->Str(&a->arn) || !d->U64(&a->incarnation) ||
      !Enum(d, &a->status, 9) || !d->I64(&a->version_id) || !Time(d, &a->create_time) ||
      !Time(d, &a->last_update_time) || !OptI64(d, &a->updated_from) ||
      !OptI64(d, &a->rolled_back_from) || !OptI64(d, &a->rolled_back_to) || !Bool(d, &has_run)) {
    return false;
  }
  a->last_run.reset();
  if (has_run) {
    RunConfiguration r;
    if (!Get(d, &r)) return false;
    a->last_run = r;
  }
  return GetList<ApplicationVersionDetail>(d, &a->versions, version) &&
         GetList<ApplicationOperationInfoDetails>(d, &a->operations, version) &&
         GetList<SnapshotRecord>(d, &a->snapshots, version) &&
         GetList<RestartEvent>(d, &a->restarts, version) && d->Str(&a->current_operation) &&
         Bool(d, &a->plan.active) && d->U64(&a->plan.job_id) &&
         d->Str(&a->plan.restore_snapshot) && Bool(d, &a->plan.allow_non_restored_state) &&
         d->U64(&a->next_operation) && d->U64(&a->next_file) && d->U64(&a->next_job) &&
         d->I64(&a->loop_rule_fired_version) && (version < 2 || GetV2(d, a));
}

void Seal(Encoder* e) { e->U64(XXH3_64bits(e->buffer().data(), e->buffer().size())); }

// Checks magic, version (min_version..version) and checksum; returns the
// body between them and the version found.
absl::StatusOr<std::string_view> Unseal(std::string_view data, const char (&magic)[8],
                                        uint32_t min_version, uint32_t version,
                                        const std::string& path, uint32_t* found) {
  if (data.size() < 8 + 4 + 8) return Corrupt(path, "truncated");
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) {
    want |= uint64_t{static_cast<uint8_t>(data[data.size() - 8 + i])} << (8 * i);
  }
  if (XXH3_64bits(data.data(), data.size() - 8) != want) return Corrupt(path, "checksum mismatch");
  if (data.substr(0, 8) != std::string_view(magic, 8)) return Corrupt(path, "bad magic");
  Decoder d(data.substr(8, 4));
  uint32_t v = 0;
  if (!d.U32(&v) || v < min_version || v > version) {
    return Corrupt(path, fmt::format("format version {} (this build reads {}..{})", v,
                                     min_version, version));
  }
  *found = v;
  return data.substr(12, data.size() - 20);
}

}  // namespace

std::string EncodeMeta(uint64_t next_incarnation, const std::map<std::string, AppState>& apps) {
  Encoder e;
  e.Raw(std::string_view(kMetaMagic, 8));
  e.U32(kMetaFormatVersion);
  e.U64(next_incarnation);
  e.U32(static_cast<uint32_t>(apps.size()));
  for (const auto& [name, app] : apps) {
    Encoder a;
    Put(&a, app);
    e.Str(a.buffer());
  }
  Seal(&e);
  return std::move(e.buffer());
}

absl::Status DecodeMeta(std::string_view data, const std::string& path, uint64_t* next_incarnation,
                        std::map<std::string, AppState>* apps) {
  uint32_t version = 0;
  absl::StatusOr<std::string_view> body =
      Unseal(data, kMetaMagic, kMinMetaFormatVersion, kMetaFormatVersion, path, &version);
  if (!body.ok()) return body.status();
  Decoder d(*body);
  uint32_t n;
  if (!d.U64(next_incarnation) || !d.U32(&n)) return Corrupt(path, "truncated header");
  apps->clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string blob;
    if (!d.Str(&blob)) return Corrupt(path, "truncated application entry");
    Decoder a(blob);
    AppState app;
    if (!Get(&a, &app, version) || !a.done() || app.versions.empty() ||
        app.version_id != static_cast<int64_t>(app.versions.size())) {
      return Corrupt(path, fmt::format("application entry {} does not decode", i));
    }
    std::string name = app.name;
    apps->emplace(std::move(name), std::move(app));
  }
  if (!d.done()) return Corrupt(path, "trailing bytes");
  return absl::OkStatus();
}

absl::Status EncodeCutTo(const Cut& c, const std::function<absl::Status(std::string_view)>& sink) {
  XXH3_state_t* h = XXH3_createState();
  XXH3_64bits_reset(h);
  auto put = [&](std::string_view piece) {
    XXH3_64bits_update(h, piece.data(), piece.size());
    return sink(piece);
  };
  absl::Status s = [&]() -> absl::Status {
    Encoder e;
    e.Raw(std::string_view(kCutMagic, 8));
    e.U32(kCutFormatVersion);
    e.U64(c.job_id);
    e.I64(c.application_version_id);
    e.Str(c.processor_name);
    e.Str(c.code_version);
    e.Str(c.runtime_environment);
    e.Str(c.input_stream);
    I32(&e, c.parallelism);
    e.U32(static_cast<uint32_t>(c.states.size()));
    TRIBUTARY_RETURN_IF_ERROR(put(e.buffer()));
    for (const std::string& state : c.states) {
      Encoder len;
      len.U32(static_cast<uint32_t>(state.size()));
      TRIBUTARY_RETURN_IF_ERROR(put(len.buffer()));
      TRIBUTARY_RETURN_IF_ERROR(put(state));
    }
    Encoder tail;
    tail.U32(static_cast<uint32_t>(c.positions.size()));
    for (const auto& [shard, p] : c.positions) {
      tail.Str(shard);
      tail.Str(p.sequence_number);
      Bool(&tail, p.finished);
    }
    TRIBUTARY_RETURN_IF_ERROR(put(tail.buffer()));
    Encoder sum;
    sum.U64(XXH3_64bits_digest(h));
    return sink(sum.buffer());  // the checksum is not part of what it covers
  }();
  XXH3_freeState(h);
  return s;
}

std::string EncodeCut(const Cut& c) {
  std::string out;
  out.reserve(c.StateBytes() + 256 + 64 * c.positions.size());
  IgnoreError(EncodeCutTo(c, [&out](std::string_view piece) {
    out.append(piece.data(), piece.size());
    return absl::OkStatus();
  }));
  return out;
}

namespace {

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view s) : s_(s) {}
  bool Read(char* dst, size_t n) override {
    if (n > s_.size()) return false;
    std::memcpy(dst, s_.data(), n);
    s_.remove_prefix(n);
    return true;
  }
  uint64_t remaining() const override { return s_.size(); }

 private:
  std::string_view s_;
};

// Reads the body of a cut file (everything but the trailing checksum),
// hashing what it reads.
class BodyReader {
 public:
  explicit BodyReader(ByteSource* src) : src_(src), h_(XXH3_createState()) { XXH3_64bits_reset(h_); }
  ~BodyReader() { XXH3_freeState(h_); }
  uint64_t body_left() const { return src_->remaining() < 8 ? 0 : src_->remaining() - 8; }
  bool Read(char* dst, size_t n) {
    if (n > body_left() || !src_->Read(dst, n)) return false;
    XXH3_64bits_update(h_, dst, n);
    return true;
  }
  bool U32(uint32_t* v) { return Fixed(v, 4); }
  bool U64(uint64_t* v) { return Fixed(v, 8); }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!U64(&x)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  bool I32(int* v) {
    uint32_t x;
    if (!U32(&x)) return false;
    *v = static_cast<int32_t>(x);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!U32(&n) || n > body_left()) return false;
    s->resize(n);
    return Read(s->data(), n);
  }
  uint64_t digest() const { return XXH3_64bits_digest(h_); }

 private:
  template <typename T>
  bool Fixed(T* v, int n) {
    char b[8];
    if (!Read(b, static_cast<size_t>(n))) return false;
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) x |= uint64_t{static_cast<uint8_t>(b[i])} << (8 * i);
    *v = static_cast<T>(x);
    return true;
  }
  ByteSource* src_;
  XXH3_state_t* h_;
};

}  // namespace

absl::StatusOr<Cut> DecodeCutFrom(ByteSource* src, const std::string& path) {
  if (src->remaining() < 8 + 4 + 8) return Corrupt(path, "truncated");
  BodyReader r(src);
  char magic[8];
  uint32_t version = 0;
  if (!r.Read(magic, 8) || std::string_view(magic, 8) != std::string_view(kCutMagic, 8)) {
    return Corrupt(path, "bad magic");
  }
  if (!r.U32(&version) || version != kCutFormatVersion) {
    return Corrupt(path, fmt::format("format version {} (this build reads {})", version,
                                     kCutFormatVersion));
  }
  Cut c;
  uint32_t n;
  if (!r.U64(&c.job_id) || !r.I64(&c.application_version_id) || !r.Str(&c.processor_name) ||
      !r.Str(&c.code_version) || !r.Str(&c.runtime_environment) || !r.Str(&c.input_stream) ||
      !r.I32(&c.parallelism) || !r.U32(&n) || n > r.body_left() / 4) {
    return Corrupt(path, "truncated header");
  }
  c.states.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (!r.Str(&c.states[i])) return Corrupt(path, "truncated state");
  }
  if (!r.U32(&n)) return Corrupt(path, "truncated positions");
  for (uint32_t i = 0; i < n; ++i) {
    std::string shard;
    ShardPosition p;
    uint32_t finished = 0;
    char f;
    if (!r.Str(&shard) || !r.Str(&p.sequence_number) || !r.Read(&f, 1) || f > 1) {
      return Corrupt(path, "truncated position");
    }
    finished = static_cast<uint8_t>(f);
    p.finished = finished == 1;
    c.positions[shard] = std::move(p);
  }
  if (src->remaining() != 8) return Corrupt(path, "trailing bytes");
  char sum[8];
  if (!src->Read(sum, 8)) return Corrupt(path, "truncated checksum");
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) want |= uint64_t{static_cast<uint8_t>(sum[i])} << (8 * i);
  if (want != r.digest()) return Corrupt(path, "checksum mismatch");
  return c;
}

absl::StatusOr<Cut> DecodeCut(std::string_view data, const std::string& path) {
  StringSource src(data);
  return DecodeCutFrom(&src, path);
}

}  // namespace tributary::apps
