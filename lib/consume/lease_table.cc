// The shipped LeaseTables: in memory, and the durable file <dir>/LEASES
// (format: docs/FORMAT.md "Lease table").
#include "tributary/lease_table.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/time/time.h"
#include "consume/lease_state.h"
#include "tributary/status.h"
#include "tributary/store.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace tributary {

std::string InitialPosition::ToString() const {
  switch (type) {
    case Type::kTrimHorizon:
      return "TRIM_HORIZON";
    case Type::kLatest:
      return "LATEST";
    case Type::kAtTimestamp:
      return "AT_TIMESTAMP(" + absl::FormatTime(absl::RFC3339_full, timestamp, absl::UTCTimeZone()) + ")";
  }
  return "?";
}

std::string CheckpointPosition::ToString() const {
  switch (kind) {
    case Kind::kTrimHorizon:
      return "TRIM_HORIZON";
    case Kind::kAtTimestamp:
      return "AT_TIMESTAMP(" + absl::FormatTime(absl::RFC3339_full, timestamp, absl::UTCTimeZone()) + ")";
    case Kind::kSequenceNumber:
      return sub_sequence_number ? fmt::format("{}/{}", sequence_number.ToString(), *sub_sequence_number)
                                 : sequence_number.ToString();
    case Kind::kShardEnd:
      return "SHARD_END";
  }
  return "?";
}

CheckpointPosition PositionAfter(const Record& record) {
  return record.aggregated
             ? CheckpointPosition::AfterUserRecord(record.sequence_number, record.sub_sequence_number)
             : CheckpointPosition::After(record.sequence_number);
}

absl::StatusOr<std::vector<Lease>> LeaseTable::ListUnfinishedLeases(const LeaseScope& scope) {
  absl::StatusOr<std::vector<Lease>> all = ListLeases(scope);
  if (!all.ok()) return all.status();
  std::vector<Lease> out;
  for (Lease& l : *all) {
    if (!l.checkpoint.is_shard_end()) out.push_back(std::move(l));
  }
  return out;
}

namespace {

using consume::LeaseState;

class InMemoryLeaseTable final : public LeaseTable {
 public:
  absl::StatusOr<std::optional<ScopeRecord>> GetScope(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.GetScope(scope);
  }
  absl::StatusOr<ScopeRecord> CreateScope(const LeaseScope& scope, const ScopeRecord& record) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.CreateScope(scope, record, nullptr);
  }
  absl::Status DeleteScope(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.DeleteScope(scope, nullptr);
  }
  absl::StatusOr<std::vector<Lease>> ListLeases(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.ListLeases(scope);
  }
  absl::StatusOr<std::vector<LeaseScope>> ListScopes() override {
    util::MutexLock l(&mu_);
    return state_.ListScopes();
  }
  absl::StatusOr<std::vector<Lease>> ListUnfinishedLeases(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.ListLeases(scope, /*unfinished_only=*/true);
  }
  absl::StatusOr<std::optional<Lease>> GetLease(const LeaseScope& scope, std::string_view shard_id) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.GetLease(scope, shard_id);
  }
  absl::StatusOr<Lease> CreateLease(const LeaseScope& scope, const Lease& lease) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateLease(lease));
    util::MutexLock l(&mu_);
    return state_.CreateLease(scope, lease, nullptr);
  }
  absl::StatusOr<Lease> UpdateLease(const LeaseScope& scope, const Lease& lease) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateLease(lease));
    util::MutexLock l(&mu_);
    return state_.UpdateLease(scope, lease, nullptr);
  }
  absl::Status DeleteLease(const LeaseScope& scope, std::string_view shard_id,
                           uint64_t expected_version) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    util::MutexLock l(&mu_);
    return state_.DeleteLease(scope, shard_id, expected_version, nullptr);
  }

 private:
  util::Mutex mu_;
  LeaseState state_ ABSL_GUARDED_BY(mu_);
};

// Every operation: take this process's mutex for the file, then the file
// lock (other processes), read LEASES, apply, write it back if it changed.
// The process mutex keeps threads of one process from contending on the
// file lock, which only fails fast (Env::LockFile does not block).
class DurableLeaseTable final : public LeaseTable {
 public:
  DurableLeaseTable(Env* env, std::string dir)
      : env_(env),
        dir_(std::move(dir)),
        path_(dir_ + "/LEASES"),
        tmp_(dir_ + "/LEASES.tmp"),
        lock_path_(dir_ + "/LEASES.lock"),
        process_mu_(ProcessMutex(env, dir_)) {}

  absl::StatusOr<std::optional<ScopeRecord>> GetScope(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool*) { return s.GetScope(scope); });
  }
  absl::StatusOr<ScopeRecord> CreateScope(const LeaseScope& scope, const ScopeRecord& record) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool* changed) { return s.CreateScope(scope, record, changed); });
  }
  absl::Status DeleteScope(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool* changed) { return s.DeleteScope(scope, changed); });
  }
  absl::StatusOr<std::vector<Lease>> ListLeases(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool*) { return s.ListLeases(scope); });
  }
  absl::StatusOr<std::vector<LeaseScope>> ListScopes() override {
    return Run([&](LeaseState& s, bool*) -> absl::StatusOr<std::vector<LeaseScope>> { return s.ListScopes(); });
  }
  absl::StatusOr<std::vector<Lease>> ListUnfinishedLeases(const LeaseScope& scope) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool*) { return s.ListLeases(scope, /*unfinished_only=*/true); });
  }
  absl::StatusOr<std::optional<Lease>> GetLease(const LeaseScope& scope, std::string_view shard_id) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool*) { return s.GetLease(scope, shard_id); });
  }
  absl::StatusOr<Lease> CreateLease(const LeaseScope& scope, const Lease& lease) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateLease(lease));
    return Run([&](LeaseState& s, bool* changed) { return s.CreateLease(scope, lease, changed); });
  }
  absl::StatusOr<Lease> UpdateLease(const LeaseScope& scope, const Lease& lease) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateLease(lease));
    return Run([&](LeaseState& s, bool* changed) { return s.UpdateLease(scope, lease, changed); });
  }
  absl::Status DeleteLease(const LeaseScope& scope, std::string_view shard_id,
                           uint64_t expected_version) override {
    TRIBUTARY_RETURN_IF_ERROR(consume::ValidateScope(scope));
    return Run([&](LeaseState& s, bool* changed) {
      return s.DeleteLease(scope, shard_id, expected_version, changed);
    });
  }

 private:
  // One mutex per (Env, directory) in this process.
  static std::shared_ptr<util::Mutex> ProcessMutex(Env* env, const std::string& dir) {
    static util::Mutex registry_mu;
    static auto* registry = new std::map<std::pair<Env*, std::string>, std::weak_ptr<util::Mutex>>();
    util::MutexLock l(&registry_mu);
    std::weak_ptr<util::Mutex>& slot = (*registry)[{env, dir}];
    std::shared_ptr<util::Mutex> mu = slot.lock();
    if (!mu) {
      mu = std::make_shared<util::Mutex>();
      slot = mu;
    }
    return mu;
  }

  // Env::LockFile fails at once when another process holds the lock; the
  // holder keeps it for one read-modify-write, so retry with a short backoff
  // (this is lock contention, not a timed wait: it never reads the clock).
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile() {
    constexpr int kFastTries = 20;
    constexpr int kMaxTries = kFastTries + 10000;  // ~10 s in all
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::unique_ptr<FileLock>> lock = env_->LockFile(lock_path_);
      if (lock.ok() || GetErrorType(lock.status()) != ErrorType::kResourceInUse || attempt >= kMaxTries) {
        if (!lock.ok() && GetErrorType(lock.status()) == ErrorType::kResourceInUse) {
          return MakeError(absl::StatusCode::kUnavailable, ErrorType::kResourceInUse,
                           fmt::format("lease table {} stayed locked by another process", path_));
        }
        return lock;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(attempt < kFastTries ? 50 : 1000));
    }
  }

  absl::StatusOr<LeaseState> Load() {
    if (!env_->FileExists(path_)) return LeaseState();
    TRIBUTARY_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path_));
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, env_->NewRandomAccessFile(path_));
    std::string buf(size, '\0');
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view data, f->Read(0, size, buf.data()));
    return LeaseState::Decode(data, path_);
  }

  absl::Status Write(const LeaseState& state) {
    const std::string image = state.Encode();
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env_->NewWritableFile(tmp_));
    TRIBUTARY_RETURN_IF_ERROR(f->Append(image));
    TRIBUTARY_RETURN_IF_ERROR(f->Sync());
    TRIBUTARY_RETURN_IF_ERROR(f->Close());
    TRIBUTARY_RETURN_IF_ERROR(env_->RenameFile(tmp_, path_));
    return env_->SyncDir(dir_);
  }

  template <typename Fn>
  auto Run(Fn&& fn) -> decltype(fn(std::declval<LeaseState&>(), nullptr)) {
    util::MutexLock l(process_mu_.get());
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, LockFile());
    TRIBUTARY_ASSIGN_OR_RETURN(LeaseState state, Load());
    bool changed = false;
    auto result = fn(state, &changed);
    if (result.ok() && changed) {
      state.bump_generation();
      // The rename is the commit point; a failed write leaves the old file.
      TRIBUTARY_RETURN_IF_ERROR(Write(state));
    }
    return result;
  }

  Env* const env_;
  const std::string dir_;
  const std::string path_;
  const std::string tmp_;
  const std::string lock_path_;
  const std::shared_ptr<util::Mutex> process_mu_;
};

}  // namespace

std::unique_ptr<LeaseTable> NewInMemoryLeaseTable() { return std::make_unique<InMemoryLeaseTable>(); }

absl::StatusOr<std::unique_ptr<LeaseTable>> OpenDurableLeaseTable(Env* env, std::string_view directory) {
  if (env == nullptr) env = DefaultEnv();
  std::string dir(directory);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return InvalidArgumentError("OpenDurableLeaseTable needs a directory");
  TRIBUTARY_RETURN_IF_ERROR(env->CreateDirs(dir));
  return std::unique_ptr<LeaseTable>(new DurableLeaseTable(env, std::move(dir)));
}

absl::StatusOr<std::shared_ptr<LeaseTable>> LeaseTableFor(Store& store) {
  absl::Status error;
  std::shared_ptr<void> table =
      store.GetOrCreateAttachment("tributary.consume.lease_table", [&]() -> std::shared_ptr<void> {
        if (store.directory().empty()) return std::shared_ptr<LeaseTable>(NewInMemoryLeaseTable());
        absl::StatusOr<std::unique_ptr<LeaseTable>> t = OpenDurableLeaseTable(store.env(), store.directory());
        if (!t.ok()) {
          error = t.status();
          return nullptr;
        }
        return std::shared_ptr<LeaseTable>(std::move(t).value());
      });
  if (!error.ok()) return error;
  return std::static_pointer_cast<LeaseTable>(table);
}

}  // namespace tributary
