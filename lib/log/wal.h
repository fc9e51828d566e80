// Wal: the durable store's write-ahead log (format: docs/FORMAT.md
// "Write-ahead log").
//
// Every append to every shard log of a store is first written here as one
// frame, then to the shard's segment file. A synced write waits for
// Sync(lsn): one fdatasync of the current WAL file covers every frame
// written before it started, whatever shards they belong to (group commit
// across shards), so the cost of a synced batch does not grow with the
// number of shards it touches. Segment files are synced only by
// checkpoints (log_store.h), after which the WAL files they cover are
// deleted.
//
// LSNs are byte positions in the sequence of everything this Wal wrote
// since it was opened (they are not persisted).
//
// After a failed write or sync the Wal refuses everything with that error
// (the file may end in a partial frame, or the page cache state is
// unknown); reopening the store recovers from what is on disk.
//
// Thread-safe.
#ifndef TRIBUTARY_LIB_LOG_WAL_H_
#define TRIBUTARY_LIB_LOG_WAL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tributary/env.h"
#include "util/mutex.h"

namespace tributary::log {

class Wal {
 public:
  // "<dir>/<number, 20 digits>.wal"
  static std::string FileName(const std::string& dir, uint64_t number);

  // Creates WAL file `number` in `dir` (the header is written and synced,
  // and the directory entry made durable, before it is used).
  static absl::StatusOr<std::unique_ptr<Wal>> Create(Env* env, std::string dir, uint64_t number);

  // Writes `frame` (a whole frame, checksum included); returns the LSN
  // just past it.
  absl::StatusOr<uint64_t> Append(std::string_view frame) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns once every frame up to `lsn` is durable.
  absl::Status Sync(uint64_t lsn) ABSL_LOCKS_EXCLUDED(mu_, sync_mu_);
  // Makes everything written so far durable and starts file `number`; later
  // appends go there. Returns the LSN at the switch.
  absl::StatusOr<uint64_t> Rotate(uint64_t number) ABSL_LOCKS_EXCLUDED(mu_, sync_mu_);

  uint64_t number() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t lsn() const ABSL_LOCKS_EXCLUDED(mu_);
  // OK, or the error that stopped the Wal.
  absl::Status error() const ABSL_LOCKS_EXCLUDED(mu_) {
    if (!failed_.load(std::memory_order_acquire)) return absl::OkStatus();
    util::MutexLock l(&mu_);
    return error_;
  }

 private:
  Wal(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  static absl::StatusOr<std::shared_ptr<WritableFile>> NewFile(Env* env, const std::string& dir,
                                                               uint64_t number);
  void Fail(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const env_;
  const std::string dir_;

  mutable util::Mutex mu_;  // taken before sync_mu_ when both are held
  std::shared_ptr<WritableFile> file_ ABSL_GUARDED_BY(mu_);
  uint64_t number_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t lsn_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> failed_{false};

  // Group commit: one thread syncs, the others wait for it.
  util::Mutex sync_mu_;
  util::CondVar sync_cv_;
  bool syncing_ ABSL_GUARDED_BY(sync_mu_) = false;
  uint64_t synced_ ABSL_GUARDED_BY(sync_mu_) = 0;
  absl::Status sync_error_ ABSL_GUARDED_BY(sync_mu_);
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_WAL_H_
