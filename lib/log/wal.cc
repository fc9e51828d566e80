#include "log/wal.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>

#include "log/format.h"
#include "log/record_frame.h"
#include "util/status_macros.h"

namespace tributary::log {

std::string Wal::FileName(const std::string& dir, uint64_t number) {
  return fmt::format("{}/{:020d}.wal", dir, number);
}

absl::StatusOr<std::shared_ptr<WritableFile>> Wal::NewFile(Env* env, const std::string& dir,
                                                           uint64_t number) {
  const std::string path = FileName(dir, number);
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env->NewWritableFile(path));
  std::string hdr(kWalMagic, 8);
  PutU32(&hdr, kWalFormatVersion);
  PutU32(&hdr, 0);
  PutU64(&hdr, number);
  PutU64(&hdr, XXH3_64bits(hdr.data(), hdr.size()));
  // The header and the directory entry are durable before any frame is
  // acknowledged from this file.
  absl::Status s = f->Append(hdr);
  if (s.ok()) s = f->Sync();
  if (s.ok()) s = env->SyncDir(dir);
  if (!s.ok()) {
    IgnoreError(f->Close());
    return s;
  }
  return std::shared_ptr<WritableFile>(std::move(f));
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Create(Env* env, std::string dir, uint64_t number) {
  std::unique_ptr<Wal> w(new Wal(env, std::move(dir)));
  TRIBUTARY_ASSIGN_OR_RETURN(std::shared_ptr<WritableFile> f, NewFile(env, w->dir_, number));
  util::MutexLock l(&w->mu_);
  w->file_ = std::move(f);
  w->number_ = number;
  return w;
}

void Wal::Fail(const absl::Status& s) {
  if (error_.ok()) error_ = s;
  failed_.store(true, std::memory_order_release);
}

absl::StatusOr<uint64_t> Wal::Append(std::string_view frame) {
  util::MutexLock l(&mu_);
  if (!error_.ok()) return error_;
  absl::Status s = file_->Append(frame);
  if (!s.ok()) {
    // The file may now end in a partial frame: nothing more goes after it.
    Fail(s);
    return s;
  }
  lsn_ += frame.size();
  return lsn_;
}

absl::Status Wal::Sync(uint64_t lsn) {
  util::MutexLock l(&sync_mu_);
  while (synced_ < lsn) {
    if (!sync_error_.ok()) return sync_error_;
    if (syncing_) {
      sync_cv_.Wait(&sync_mu_);
      continue;
    }
    // Become the leader: one fdatasync covers every frame written so far.
    syncing_ = true;
    sync_mu_.Unlock();
    std::shared_ptr<WritableFile> f;
    uint64_t target = 0;
    absl::Status s;
    {
      util::MutexLock wl(&mu_);
      f = file_;
      target = lsn_;
      s = error_;
    }
    if (s.ok()) s = f->Sync();
    if (!s.ok()) {
      util::MutexLock wl(&mu_);
      Fail(s);
    }
    sync_mu_.Lock();
    syncing_ = false;
    if (s.ok()) {
      synced_ = std::max(synced_, target);
    } else if (sync_error_.ok()) {
      sync_error_ = s;
    }
    sync_cv_.SignalAll();
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Wal::Rotate(uint64_t number) {
  uint64_t at = 0;
  {
    util::MutexLock l(&mu_);
    if (!error_.ok()) return error_;
    // Everything in the old file becomes durable first: a waiter whose
    // frame is in it is then covered, whatever file a leader syncs next.
    absl::Status s = file_->Sync();
    absl::StatusOr<std::shared_ptr<WritableFile>> f =
        s.ok() ? NewFile(env_, dir_, number) : absl::StatusOr<std::shared_ptr<WritableFile>>(s);
    if (!f.ok()) {
      Fail(f.status());
      util::MutexLock sl(&sync_mu_);
      if (sync_error_.ok()) sync_error_ = f.status();
      sync_cv_.SignalAll();
      return f.status();
    }
    // Not closed here: a sync leader may still be syncing it. It closes when
    // the last holder lets go.
    file_ = std::move(*f);
    number_ = number;
    at = lsn_;
  }
  util::MutexLock sl(&sync_mu_);
  synced_ = std::max(synced_, at);
  sync_cv_.SignalAll();
  return at;
}

uint64_t Wal::number() const {
  util::MutexLock l(&mu_);
  return number_;
}

uint64_t Wal::lsn() const {
  util::MutexLock l(&mu_);
  return lsn_;
}


}  // namespace tributary::log
