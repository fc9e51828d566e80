// The callback API: ConsumerWorker drives a Consumer and calls one
// RecordProcessor per held shard.
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "consume/consumer_impl.h"
#include "tributary/consumer.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace tributary {

absl::Status Checkpointer::Checkpoint() { return impl_->CheckpointLast(shard_id_); }
absl::Status Checkpointer::Checkpoint(SequenceNumber sequence_number) {
  return impl_->Checkpoint(shard_id_, sequence_number);
}
absl::Status Checkpointer::PrepareCheckpoint(SequenceNumber sequence_number, std::string_view state) {
  return impl_->PrepareCheckpoint(shard_id_, sequence_number, state);
}
absl::Status Checkpointer::Checkpoint(const Record& record) {
  return impl_->Checkpoint(shard_id_, PositionAfter(record));
}
absl::Status Checkpointer::PrepareCheckpoint(const Record& record, std::string_view state) {
  return impl_->PrepareCheckpoint(shard_id_, PositionAfter(record), state);
}
absl::Status Checkpointer::CommitCheckpoint() { return impl_->CommitCheckpoint(shard_id_); }

namespace consume {

class WorkerImpl final : public ConsumerListener {
 public:
  static absl::StatusOr<std::unique_ptr<WorkerImpl>> Create(Store& store, ConsumerOptions options,
                                                            RecordProcessorFactory factory,
                                                            WorkerOptions worker_options) {
    if (!factory) return InvalidArgumentError("ConsumerWorker needs a RecordProcessorFactory");
    const absl::Duration idle = worker_options.idle_wait_duration > absl::ZeroDuration()
                                    ? worker_options.idle_wait_duration
                                    : options.idle_interval;
    std::unique_ptr<WorkerImpl> w(new WorkerImpl(std::move(factory), std::move(worker_options), idle));
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<ConsumerImpl> impl,
                               ConsumerImpl::Create(store, std::move(options), w.get()));
    w->impl_ = impl.get();
    w->consumer_.reset(new Consumer(std::move(impl)));
    return w;
  }

  ~WorkerImpl() override { Halt(); }

  absl::StatusOr<bool> RunOnce() {
    absl::StatusOr<std::optional<RecordBatch>> batch = impl_->Poll();
    absl::StatusOr<bool> result = Dispatch(batch);
    retired_.clear();  // processors finished during this step
    return result;
  }

  absl::Status Start() {
    if (thread_.joinable())
      return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kResourceInUse,
                       "the worker thread is already running");
    stop_.store(false);
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  absl::Status Stop() {
    Halt();
    absl::Status s = impl_->Shutdown();
    retired_.clear();
    return s;
  }

  void Halt() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  absl::Status last_error() const {
    util::MutexLock l(&mu_);
    return error_;
  }

  Consumer& consumer() { return *consumer_; }

  // ---- ConsumerListener
  void OnLeaseAcquired(const ShardStart& start) override {
    std::unique_ptr<RecordProcessor> p = factory_(start.shard_id);
    if (p) p->Initialize(start);
    Retire(start.shard_id);  // an earlier processor of the shard, if any
    processors_[start.shard_id] = std::move(p);
  }
  void OnShardEnded(const std::string& shard_id) override {
    if (RecordProcessor* p = Find(shard_id)) {
      Checkpointer cp(impl_, shard_id);
      p->ShardEnded(cp);
    }
    Retire(shard_id);
  }
  void OnShutdownRequested(const std::string& shard_id) override {
    if (RecordProcessor* p = Find(shard_id)) {
      Checkpointer cp(impl_, shard_id);
      p->ShutdownRequested(cp);
    }
    Retire(shard_id);
  }
  void OnLeaseLost(const std::string& shard_id) override {
    if (RecordProcessor* p = Find(shard_id)) p->LeaseLost();
    Retire(shard_id);
  }

 private:
  WorkerImpl(RecordProcessorFactory factory, WorkerOptions worker_options, absl::Duration idle)
      : factory_(std::move(factory)), worker_options_(std::move(worker_options)), idle_(idle) {}

  absl::StatusOr<bool> Dispatch(absl::StatusOr<std::optional<RecordBatch>>& batch) {
    TRIBUTARY_RETURN_IF_ERROR(batch.status());
    if (!batch->has_value()) return false;
    const RecordBatch& b = **batch;
    RecordProcessor* p = Find(b.shard_id);
    if (p == nullptr) {
      return InternalFailureError(
          fmt::format("no RecordProcessor for shard {} (the factory returned null)", b.shard_id));
    }
    Checkpointer cp(impl_, b.shard_id);
    p->ProcessRecords(b, cp);
    return true;
  }

  RecordProcessor* Find(const std::string& shard_id) {
    auto it = processors_.find(shard_id);
    return it == processors_.end() ? nullptr : it->second.get();
  }

  // Processors are destroyed after the step, never inside their own callback.
  void Retire(const std::string& shard_id) {
    auto it = processors_.find(shard_id);
    if (it == processors_.end()) return;
    if (it->second) retired_.push_back(std::move(it->second));
    processors_.erase(it);
  }

  void Loop() {
    while (!stop_.load()) {
      absl::StatusOr<bool> r = RunOnce();
      if (!r.ok()) {
        util::MutexLock l(&mu_);
        error_ = r.status();
      }
      if (!r.ok() || !*r) Wait(idle_);
    }
  }

  void Wait(absl::Duration d) {
    if (worker_options_.idle_wait) {
      worker_options_.idle_wait(d);
      return;
    }
    // On the store's clock, in slices, so Stop() is not held up for long.
    Clock* clock = impl_->clock();
    while (d > absl::ZeroDuration() && !stop_.load()) {
      const absl::Duration slice = std::min(d, absl::Milliseconds(100));
      clock->SleepFor(slice);
      d -= slice;
    }
  }

  RecordProcessorFactory factory_;
  const WorkerOptions worker_options_;
  const absl::Duration idle_;
  std::unique_ptr<Consumer> consumer_;
  ConsumerImpl* impl_ = nullptr;  // owned by consumer_
  std::map<std::string, std::unique_ptr<RecordProcessor>> processors_;
  std::vector<std::unique_ptr<RecordProcessor>> retired_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable util::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace consume

absl::StatusOr<std::unique_ptr<ConsumerWorker>> ConsumerWorker::Create(Store& store, ConsumerOptions options,
                                                                       RecordProcessorFactory factory,
                                                                       WorkerOptions worker_options) {
  TRIBUTARY_ASSIGN_OR_RETURN(
      std::unique_ptr<consume::WorkerImpl> impl,
      consume::WorkerImpl::Create(store, std::move(options), std::move(factory), std::move(worker_options)));
  return std::unique_ptr<ConsumerWorker>(new ConsumerWorker(std::move(impl)));
}

ConsumerWorker::ConsumerWorker(std::unique_ptr<consume::WorkerImpl> impl) : impl_(std::move(impl)) {}
ConsumerWorker::~ConsumerWorker() = default;
absl::StatusOr<bool> ConsumerWorker::RunOnce() { return impl_->RunOnce(); }
absl::Status ConsumerWorker::Start() { return impl_->Start(); }
absl::Status ConsumerWorker::Stop() { return impl_->Stop(); }
void ConsumerWorker::Halt() { impl_->Halt(); }
absl::Status ConsumerWorker::last_error() const { return impl_->last_error(); }
Consumer& ConsumerWorker::consumer() { return impl_->consumer(); }

}  // namespace tributary
