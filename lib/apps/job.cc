#include "apps/job.h"

#include <fmt/format.h>

#include "apps/errors.h"
#include "util/status_macros.h"

namespace tributary::apps {
namespace {

// Bounds the batches one worker takes in a round (a source that keeps
// returning empty end-of-shard batches cannot spin).
constexpr int kMaxPollsPerRound = 1000;

// "arn:aws:kinesis:<region>:<account>:stream/<name>" and "<name>" name the same stream.
std::string_view StreamName(std::string_view s) {
  size_t p = s.rfind(":stream/");
  return p == std::string_view::npos ? s : s.substr(p + 8);
}

}  // namespace

void MergePositions(Positions* into, const Positions& update) {
  for (const auto& [shard, p] : update) {
    ShardPosition& q = (*into)[shard];
    if (!p.sequence_number.empty()) q.sequence_number = p.sequence_number;
    q.finished = q.finished || p.finished;
  }
}

std::optional<absl::Time> RestartTracker::OnFailure(absl::Time now) {
  ++attempts_;
  switch (strategy_.type) {
    case RestartStrategyType::kNoRestart:
      return std::nullopt;
    case RestartStrategyType::kFixedDelay:
      if (strategy_.max_attempts && attempts_ > *strategy_.max_attempts) return std::nullopt;
      return now + strategy_.delay;
    case RestartStrategyType::kFailureRate:
      failures_.push_back(now);
      while (!failures_.empty() && failures_.front() <= now - strategy_.failure_interval) {
        failures_.pop_front();
      }
      if (static_cast<int>(failures_.size()) > strategy_.max_failures) return std::nullopt;
      return now + strategy_.delay;
  }
  return std::nullopt;
}

Job::Job(JobSpec spec, JobServices services, absl::Time now)
    : spec_(std::move(spec)),
      services_(std::move(services)),
      tracker_(spec_.config.restart_strategy),
      started_(now),
      checkpoint_(spec_.checkpoint),
      fault_(spec_.fault),
      fault_source_(spec_.fault_source) {}

void Job::SetFault(JobFault fault, std::string source) {
  fault_ = fault;
  fault_source_ = std::move(source);
}

Job::~Job() { Undeploy(); }

const Cut* Job::RestorePoint() const {
  if (checkpoint_) return &*checkpoint_;
  return spec_.restore.get();
}

void Job::Undeploy() {
  processors_.clear();
  source_.reset();
  processed_.clear();
}

absl::Status Job::Deploy(absl::Time now) {
  const ApplicationConfiguration& c = spec_.config;
  if (spec_.restore_error && !checkpoint_) return *spec_.restore_error;
  TRIBUTARY_ASSIGN_OR_RETURN(ProcessorFactory factory,
                             services_.lookup(c.processor_name, c.code_version));
  const Cut* cut = RestorePoint();
  bool restore_state = cut != nullptr && !cut->states.empty();
  bool restore_positions = cut != nullptr;
  if (cut != nullptr && cut->processor_name != c.processor_name) {
    if (!spec_.allow_non_restored_state) {
      return InvalidRequestError(fmt::format(
          "the state to restore was saved by processor '{}', the job runs '{}' (set "
          "allow_non_restored_state to start without it)",
          cut->processor_name, c.processor_name));
    }
    restore_state = false;
  }
  if (cut != nullptr && StreamName(cut->input_stream) != StreamName(c.input_stream)) {
    if (!spec_.allow_non_restored_state) {
      return InvalidRequestError(fmt::format(
          "the positions to restore belong to stream '{}', the job reads '{}' (set "
          "allow_non_restored_state to start without them)",
          cut->input_stream, c.input_stream));
    }
    restore_positions = false;
  }
  std::vector<std::unique_ptr<Processor>> procs;
  for (int w = 0; w < c.parallelism; ++w) {
    ProcessorContext ctx;
    ctx.application_name = spec_.application_name;
    ctx.application_version_id = spec_.version_id;
    ctx.runtime_environment = spec_.config.runtime_environment;
    ctx.processor_name = spec_.config.processor_name;
    ctx.code_version = spec_.config.code_version;
    ctx.worker = w;
    ctx.parallelism = c.parallelism;
    ctx.properties = &spec_.config.properties;
    ctx.property_groups = &spec_.config.property_groups;
    ctx.input_stream = spec_.config.input_stream;
    absl::StatusOr<std::unique_ptr<Processor>> p = factory(ctx);
    if (!p.ok()) return Annotate(p.status(), fmt::format("worker {}: create: ", w));
    if (*p == nullptr) return InternalFailureError(fmt::format("worker {}: the factory returned no processor", w));
    if (restore_state) {
      const bool same = cut->parallelism == c.parallelism &&
                        cut->states.size() == static_cast<size_t>(c.parallelism);
      absl::Status s = same ? (*p)->RestoreState(cut->states[static_cast<size_t>(w)])
                            : (*p)->RestoreRescaledState(cut->states);
      if (!s.ok()) {
        return Annotate(s, fmt::format("worker {}: {}: ", w,
                                       same ? "RestoreState" : "RestoreRescaledState"));
      }
    }
    procs.push_back(std::move(*p));
  }
  std::unique_ptr<RecordSource> src = services_.make_source(c.input_stream);
  Positions start = restore_positions ? cut->positions : Positions();
  TRIBUTARY_RETURN_IF_ERROR(src->Seek(c.parallelism, start));
  processors_ = std::move(procs);
  source_ = std::move(src);
  processed_ = std::move(start);
  status_ = JobStatus::kRunning;
  last_checkpoint_ = now;
  if (cut == nullptr) {
    restored_from_.reset();
  } else if (checkpoint_ && cut == &*checkpoint_) {
    restored_from_ = "checkpoint";
  } else {
    restored_from_ = spec_.restore_label;
  }
  return absl::OkStatus();
}

absl::Status Job::Round(absl::Time now, std::string* cause) {
  const ApplicationConfiguration& c = spec_.config;
  int64_t lag = 0;
  for (int w = 0; w < c.parallelism; ++w) {
    // Batches until the worker has nothing to read or processed its share
    // of the round. The next batch is asked for only after the previous one
    // was processed: the source counts a batch as processed when the same
    // worker asks again.
    int budget = c.max_batch_records;
    for (int polls = 0; polls < kMaxPollsPerRound && budget > 0; ++polls) {
      absl::StatusOr<SourceBatch> b = source_->Next(w, budget);
      if (!b.ok()) {
        *cause = fmt::format("worker {}: read: {}", w, Cause(b.status()));
        return b.status();
      }
      if (b->records.empty() && b->positions.empty()) break;
      if (!b->records.empty()) {
        absl::Status s = processors_[static_cast<size_t>(w)]->Process(b->records);
        if (!s.ok()) {
          *cause = fmt::format("worker {}: Process: {}", w, Cause(s));
          return s;
        }
        records_processed_ += static_cast<int64_t>(b->records.size());
        budget -= static_cast<int>(b->records.size());
      }
      source_->Ack(b->positions);
      MergePositions(&processed_, b->positions);
      lag = std::max(lag, b->millis_behind_latest);
    }
  }
  millis_behind_ = lag;
  last_healthy_ = now;
  consecutive_failures_ = 0;
  if (c.checkpoints.enabled && now - last_checkpoint_ >= c.checkpoints.interval) {
    absl::StatusOr<Cut> cut = TakeCut();
    if (!cut.ok()) {
      *cause = fmt::format("checkpoint: {}", Cause(cut.status()));
      return cut.status();
    }
    if (services_.save_checkpoint) {
      absl::Status s = services_.save_checkpoint(*cut);
      if (!s.ok()) {
        *cause = fmt::format("checkpoint: write: {}", Cause(s));
        return s;
      }
    }
    absl::Status s = source_->Commit(cut->positions);
    if (!s.ok()) {
      *cause = fmt::format("checkpoint: commit positions: {}", Cause(s));
      return s;
    }
    checkpoint_ = std::move(*cut);
    last_checkpoint_ = now;
  }
  return absl::OkStatus();
}

void Job::Fail(absl::Time now, const std::string& cause, StepResult* r) {
  Undeploy();
  ++consecutive_failures_;
  last_failure_ = cause;
  last_failure_time_ = now;
  std::optional<absl::Time> next = tracker_.OnFailure(now);
  RestartEvent e;
  e.time = now;
  e.application_version_id = spec_.version_id;
  e.attempt = tracker_.attempts();
  e.cause = cause;
  e.final = !next.has_value();
  r->failures.push_back(std::move(e));
  if (next) {
    status_ = JobStatus::kRestarting;
    next_restart_ = *next;
    ++restart_count_;
  } else {
    status_ = JobStatus::kFailed;
    r->failed_final = true;
  }
}

Job::StepResult Job::Step(absl::Time now) {
  StepResult r;
  if (fault_ == JobFault::kHang) {
    // The job never finishes deploying. A deployed job is taken down (its
    // workers discarded, as by a failure, so the next deploy restores one
    // cut) and hangs in its next deploy; a failed job stays failed.
    if (status_ != JobStatus::kFailed) {
      Undeploy();
      status_ = JobStatus::kStarting;
    }
    return r;
  }
  if (status_ == JobStatus::kStarting ||
      (status_ == JobStatus::kRestarting && now >= next_restart_)) {
    absl::Status s = Deploy(now);
    if (!s.ok()) {
      Undeploy();
      Fail(now, "start: " + Cause(s), &r);
      return r;
    }
    r.deployed = true;
  }
  if (status_ == JobStatus::kRunning) {
    if (fault_ == JobFault::kFail) {
      Fail(now,
           fmt::format("start: {}: the job failed right after it started (a fault on purpose)",
                       fault_source_),
           &r);
      return r;
    }
    std::string cause;
    const int64_t before = records_processed_;
    if (Round(now, &cause).ok()) {
      r.healthy_round = true;
    } else {
      Fail(now, cause, &r);
    }
    r.records = records_processed_ - before;
  }
  return r;
}

absl::StatusOr<Cut> Job::TakeCut() const {
  if (status_ != JobStatus::kRunning) {
    return ResourceInUseError(fmt::format("the job is not running (it is {})", ToString(status_)));
  }
  Cut c;
  c.job_id = spec_.job_id;
  c.application_version_id = spec_.version_id;
  c.processor_name = spec_.config.processor_name;
  c.code_version = spec_.config.code_version;
  c.runtime_environment = spec_.config.runtime_environment;
  c.input_stream = spec_.config.input_stream;
  c.parallelism = spec_.config.parallelism;
  c.states.reserve(processors_.size());
  for (size_t w = 0; w < processors_.size(); ++w) {
    absl::StatusOr<std::string> s = processors_[w]->SaveState();
    if (!s.ok()) {
      return Annotate(s.status(), fmt::format("worker {}: SaveState: ", w));
    }
    c.states.push_back(std::move(*s));
  }
  c.positions = processed_;
  return c;
}

absl::Status Job::CommitPositions() {
  if (status_ != JobStatus::kRunning) return absl::OkStatus();
  return source_->Commit(processed_);
}

JobHealth Job::Health(absl::Time now) const {
  JobHealth h;
  h.status = status_;
  h.parallelism = spec_.config.parallelism;
  h.restart_count = restart_count_;
  h.consecutive_failures = consecutive_failures_;
  h.last_failure = last_failure_;
  h.last_failure_time = last_failure_time_;
  h.last_healthy_batch_time = last_healthy_;
  h.time_since_last_healthy_batch = now - last_healthy_.value_or(started_);
  if (status_ == JobStatus::kRestarting) h.next_restart_time = next_restart_;
  h.records_processed = records_processed_;
  h.millis_behind_latest = millis_behind_;
  h.restored_from = restored_from_;
  return h;
}

}  // namespace tributary::apps
