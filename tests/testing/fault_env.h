// FaultEnv: an Env wrapper for tests that simulates power loss and injects
// I/O errors. After leveldb's db/fault_injection_test.cc (FaultInjectionTestEnv)
// and rocksdb's utilities/fault_injection_fs.h.
//
// What it models
// --------------
// * File data. For every file written through this Env it remembers the size
//   at the last successful WritableFile::Sync(). A file created here and never
//   synced counts as synced size 0. NewWritableFile on an existing file
//   (O_TRUNC) sets the synced size to 0. TruncateFile / TruncateTo are treated
//   as durable at once: synced size = min(synced size, new size). Files this
//   Env never wrote (they existed before, or were written behind its back) are
//   fully durable.
// * Directory entries. Creating, renaming and removing a file change a
//   directory entry, which becomes durable only at SyncDir(parent). Until then
//   the entry keeps its state as of the last SyncDir of its directory:
//     - a file created since is removed by the crash;
//     - a file removed since comes back, holding its synced bytes;
//     - a rename is undone: `from` comes back with the synced bytes of the
//       file that was there, and `to` is restored to its previous file (with
//       that file's synced bytes) or removed if it did not exist.
//   A rename carries the synced state with the file: renaming a synced file
//   and then SyncDir-ing keeps every synced byte under the new name.
//   Directories themselves (CreateDirs / RemoveDir) are not modelled: they are
//   always durable. LockFile is passed through and not tracked.
// * DropUnsyncedData() is the crash: it applies the rules above to the
//   underlying Env and then forgets all tracking (what is left is, by
//   definition, durable). It also invalidates every WritableFile handle
//   opened before it: their Append/Sync fail (Close succeeds), so a store
//   being torn down after the "crash" cannot write anything more. The usual
//   recipe is:
//
//     FaultEnv fenv(mem_env.get());
//     ... open the store on &fenv, write, sync some ...
//     REQUIRE_OK(fenv.DropUnsyncedData());   // power loss
//     store.reset();                          // its writes now fail harmlessly
//     ... reopen on &fenv and check that every synced record is there ...
//
// Faults
// ------
// * FailNth(op, n[, status]): the n-th future call of kind `op` (n = 1: the
//   next one) fails with `status` (default: Internal + InternalFailure
//   "injected I/O error"). Each FailNth fires once; several may be pending.
//   A failed call has no effect on the underlying Env (a failed Append writes
//   nothing, a failed Sync syncs nothing).
// * SetNoSpace(true): every Append fails with ResourceExhausted +
//   InternalFailure "No space left on device" (what the POSIX Env returns for
//   ENOSPC), until SetNoSpace(false).
// * SetReadOnly(true): every mutating call fails (Internal + InternalFailure
//   "Read-only file system"): New{Writable,Appendable}File, Append, Sync,
//   RenameFile, RemoveFile, TruncateFile, CreateDirs, RemoveDir, SyncDir,
//   LockFile. Reads still work.
// * CorruptByte(path, offset) flips every bit of one byte; TruncateTo(path,
//   size) cuts a file. Both bypass the fault switches above and edit the
//   file in place (open handles stay valid).
//
// Op::kOpen counts NewWritableFile and NewAppendableFile (opens for writing);
// opening for reading is Op::kOpenRead, a RandomAccessFile::Read is Op::kRead.
//
// Thread-safe: one mutex guards all state. Calls that write go to the target
// under that mutex (tests do not need write parallelism); reads do not.
#ifndef TRIBUTARY_TESTS_TESTING_FAULT_ENV_H_
#define TRIBUTARY_TESTS_TESTING_FAULT_ENV_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tributary/env.h"
#include "tributary/status.h"

namespace tributary::testing {

class FaultEnv : public EnvWrapper {
 public:
  enum class Op {
    kAppend,    // WritableFile::Append
    kSync,      // WritableFile::Sync
    kOpen,      // NewWritableFile, NewAppendableFile
    kRename,    // RenameFile
    kSyncDir,   // SyncDir
    kRemove,    // RemoveFile
    kTruncate,  // TruncateFile
    kOpenRead,  // NewRandomAccessFile
    kRead,      // RandomAccessFile::Read
  };
  static constexpr int kNumOps = 9;

  static std::string_view OpName(Op op) {
    switch (op) {
      case Op::kAppend: return "append";
      case Op::kSync: return "sync";
      case Op::kOpen: return "open";
      case Op::kRename: return "rename";
      case Op::kSyncDir: return "syncdir";
      case Op::kRemove: return "remove";
      case Op::kTruncate: return "truncate";
      case Op::kOpenRead: return "open-for-read";
      case Op::kRead: return "read";
    }
    return "?";
  }

  explicit FaultEnv(Env* target) : EnvWrapper(target) {}
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  // ---- fault switches ----------------------------------------------------

  // The n-th (1-based) future call of kind `op` fails with `status`; an OK
  // `status` means the default injected I/O error.
  void FailNth(Op op, int n, absl::Status status = absl::OkStatus()) {
    std::lock_guard<std::mutex> l(mu_);
    pending_.push_back({op, n < 1 ? 1 : n, std::move(status)});
  }
  // Drops every pending FailNth.
  void ClearFailures() {
    std::lock_guard<std::mutex> l(mu_);
    pending_.clear();
  }
  void SetNoSpace(bool on) {
    std::lock_guard<std::mutex> l(mu_);
    no_space_ = on;
  }
  void SetReadOnly(bool on) {
    std::lock_guard<std::mutex> l(mu_);
    read_only_ = on;
  }
  // After DropUnsyncedData(/*down=*/true): the machine is back.
  void SetDown(bool on) { SetReadOnly(on); }
  // Calls of kind `op` that reached the fault check (whether or not they
  // were failed by FailNth) since construction.
  int CallCount(Op op) const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_[static_cast<int>(op)];
  }

  // ---- crash simulation --------------------------------------------------

  // Power loss: see the header comment. Returns the first error of the
  // underlying Env while rewriting files (tracking is cleared regardless).
  // With `down`, the machine stays down: every mutating call fails (as
  // SetReadOnly does) until SetDown(false), so that threads of the crashed
  // store still running (a background checkpoint) cannot write after the
  // crash; the crash and the switch are one atomic step.
  absl::Status DropUnsyncedData(bool down = false) {
    std::lock_guard<std::mutex> l(mu_);
    ++generation_;
    if (down) read_only_ = true;
    absl::Status first;
    auto note = [&first](const absl::Status& s) {
      if (first.ok() && !s.ok()) first = s;
    };
    // 1. What each not-yet-durable entry must hold after the crash (read
    //    everything before changing anything, so renames can be undone in
    //    any order).
    std::vector<std::pair<std::string, std::optional<std::string>>> restore;
    for (const auto& [path, node] : undo_) {
      if (!node) {
        restore.emplace_back(path, std::nullopt);
      } else if (node->saved) {
        restore.emplace_back(path, node->saved->substr(0, std::min<uint64_t>(node->saved->size(), node->synced)));
      } else if (const std::string* live = LivePathLocked(node)) {
        auto content = ReadPrefix(*live, node->synced);
        note(content.status());
        restore.emplace_back(path, content.ok() ? std::optional<std::string>(*std::move(content))
                                                : std::nullopt);
      } else {
        restore.emplace_back(path, std::nullopt);
      }
    }
    // 2. Files whose entry is durable lose their unsynced tail.
    for (const auto& [path, node] : live_) {
      if (undo_.count(path)) continue;
      auto size = target()->GetFileSize(path);
      if (!size.ok()) {
        note(size.status());
        continue;
      }
      if (*size > node->synced) note(target()->TruncateFile(path, node->synced));
    }
    // 3. Entries go back to their durable state.
    for (const auto& [path, content] : restore) {
      if (target()->FileExists(path)) note(target()->RemoveFile(path));
    }
    for (const auto& [path, content] : restore) {
      if (content) note(WriteWholeFile(path, *content));
    }
    live_.clear();
    undo_.clear();
    return first;
  }

  // The synced size tracked for `path`; nullopt if the file is not tracked
  // (never written through this Env since the last DropUnsyncedData, so fully
  // durable).
  std::optional<uint64_t> SyncedSize(const std::string& path) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = live_.find(path);
    if (it == live_.end()) return std::nullopt;
    return it->second->synced;
  }

  // ---- direct damage -----------------------------------------------------

  // Flips every bit of the byte at `offset` of `path`, in place.
  absl::Status CorruptByte(const std::string& path, uint64_t offset) {
    std::lock_guard<std::mutex> l(mu_);
    auto size = target()->GetFileSize(path);
    if (!size.ok()) return size.status();
    if (offset >= *size) {
      return MakeError(absl::StatusCode::kOutOfRange, ErrorType::kInternalFailure,
                       "CorruptByte " + path + ": offset " + std::to_string(offset) +
                           " is past the end (size " + std::to_string(*size) + ")");
    }
    auto all = ReadPrefix(path, *size);
    if (!all.ok()) return all.status();
    std::string tail = all->substr(offset);
    tail[0] = static_cast<char>(~static_cast<unsigned char>(tail[0]));
    // Truncate + append (not NewWritableFile) so the file keeps its identity
    // and handles open on it stay valid (MemEnv replaces the file on
    // NewWritableFile).
    if (absl::Status s = target()->TruncateFile(path, offset); !s.ok()) return s;
    auto f = target()->NewAppendableFile(path);
    if (!f.ok()) return f.status();
    if (absl::Status s = (*f)->Append(tail); !s.ok()) return s;
    return (*f)->Close();
  }

  // Cuts `path` to `size` bytes (durably; the synced size shrinks with it).
  absl::Status TruncateTo(const std::string& path, uint64_t size) {
    std::lock_guard<std::mutex> l(mu_);
    absl::Status s = target()->TruncateFile(path, size);
    if (s.ok()) ShrinkSyncedLocked(path, size);
    return s;
  }

  // ---- Env ---------------------------------------------------------------

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status s = CheckLocked(Op::kOpen, "open", path, /*mutates=*/true); !s.ok()) return s;
    const bool existed = live_.count(path) > 0 || target()->FileExists(path);
    if (!existed) TouchEntryLocked(path);
    auto f = target()->NewWritableFile(path);
    if (!f.ok()) return f.status();
    std::shared_ptr<Node>& node = live_[path];
    if (!node) node = std::make_shared<Node>();
    node->synced = 0;  // O_TRUNC
    return std::unique_ptr<WritableFile>(new File(this, node, generation_, path, *std::move(f)));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status s = CheckLocked(Op::kOpen, "open", path, /*mutates=*/true); !s.ok()) return s;
    std::shared_ptr<Node> node;
    if (auto it = live_.find(path); it != live_.end()) {
      node = it->second;
    } else if (auto size = target()->GetFileSize(path); size.ok()) {
      node = std::make_shared<Node>();
      node->synced = *size;  // existed untracked: fully durable
    } else {
      TouchEntryLocked(path);
      node = std::make_shared<Node>();
    }
    auto f = target()->NewAppendableFile(path);
    if (!f.ok()) return f.status();
    live_[path] = node;
    return std::unique_ptr<WritableFile>(new File(this, node, generation_, path, *std::move(f)));
  }

  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (absl::Status s = CheckLocked(Op::kOpenRead, "open", path, /*mutates=*/false); !s.ok()) {
        return s;
      }
    }
    auto f = target()->NewRandomAccessFile(path);
    if (!f.ok()) return f.status();
    return std::unique_ptr<RandomAccessFile>(new Reader(this, path, *std::move(f)));
  }

  absl::Status RemoveFile(const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status s = CheckLocked(Op::kRemove, "unlink", path, true); !s.ok()) return s;
    TouchEntryLocked(path);
    SaveIfNeededLocked(path);
    absl::Status s = target()->RemoveFile(path);
    if (s.ok()) live_.erase(path);
    return s;
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status s = CheckLocked(Op::kRename, "rename", from, true); !s.ok()) return s;
    if (from == to) return target()->RenameFile(from, to);
    TouchEntryLocked(from);
    TouchEntryLocked(to);
    SaveIfNeededLocked(to);
    absl::Status s = target()->RenameFile(from, to);
    if (!s.ok()) return s;
    auto it = live_.find(from);
    if (it != live_.end()) {
      live_[to] = it->second;
      live_.erase(from);
    } else {
      live_.erase(to);
    }
    return s;
  }

  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status s = CheckLocked(Op::kTruncate, "truncate", path, true); !s.ok()) return s;
    absl::Status s = target()->TruncateFile(path, size);
    if (s.ok()) ShrinkSyncedLocked(path, size);
    return s;
  }

  absl::Status SyncDir(const std::string& dir) override {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status s = CheckLocked(Op::kSyncDir, "fsync", dir, true); !s.ok()) return s;
    absl::Status s = target()->SyncDir(dir);
    if (!s.ok()) return s;
    std::string d = dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    for (auto it = undo_.begin(); it != undo_.end();) {
      if (Parent(it->first) == d) {
        it = undo_.erase(it);
      } else {
        ++it;
      }
    }
    return s;
  }

  absl::Status CreateDirs(const std::string& dir) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (read_only_) return ReadOnlyError("mkdir", dir);
    }
    return target()->CreateDirs(dir);
  }
  absl::Status RemoveDir(const std::string& dir) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (read_only_) return ReadOnlyError("rmdir", dir);
    }
    return target()->RemoveDir(dir);
  }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (read_only_) return ReadOnlyError("lock", path);
    }
    return target()->LockFile(path);
  }

 private:
  // One file (an inode): follows renames.
  struct Node {
    uint64_t synced = 0;
    // Its synced bytes, kept when its last directory entry went away while
    // an un-synced directory change still refers to it.
    std::optional<std::string> saved;
  };

  struct Pending {
    Op op;
    int remaining;
    absl::Status status;
  };

  class File final : public WritableFile {
   public:
    File(FaultEnv* env, std::shared_ptr<Node> node, uint64_t generation, std::string path,
         std::unique_ptr<WritableFile> base)
        : env_(env), node_(std::move(node)), generation_(generation), path_(std::move(path)),
          base_(std::move(base)) {}
    absl::Status Append(std::string_view data) override {
      std::lock_guard<std::mutex> l(env_->mu_);
      if (absl::Status s = CheckHandleLocked(); !s.ok()) return s;
      if (env_->read_only_) return ReadOnlyError("write", path_);
      if (env_->no_space_) {
        return MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kInternalFailure,
                         "No space left on device: write " + path_ + " (injected)");
      }
      if (absl::Status s = env_->CountAndMaybeFailLocked(Op::kAppend, "write", path_); !s.ok()) {
        return s;
      }
      return base_->Append(data);
    }
    absl::Status Sync() override {
      std::lock_guard<std::mutex> l(env_->mu_);
      if (absl::Status s = CheckHandleLocked(); !s.ok()) return s;
      if (env_->read_only_) return ReadOnlyError("fdatasync", path_);
      if (absl::Status s = env_->CountAndMaybeFailLocked(Op::kSync, "fdatasync", path_); !s.ok()) {
        return s;
      }
      absl::Status s = base_->Sync();
      if (s.ok()) node_->synced = base_->Size();
      return s;
    }
    absl::Status Close() override {
      std::lock_guard<std::mutex> l(env_->mu_);
      return base_->Close();
    }
    uint64_t Size() const override {
      std::lock_guard<std::mutex> l(env_->mu_);
      return base_->Size();
    }

   private:
    absl::Status CheckHandleLocked() const {
      if (generation_ == env_->generation_) return absl::OkStatus();
      return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                       "write " + path_ + ": file handle opened before the simulated crash");
    }

    FaultEnv* const env_;
    const std::shared_ptr<Node> node_;
    const uint64_t generation_;
    const std::string path_;
    const std::unique_ptr<WritableFile> base_;
  };

  class Reader final : public RandomAccessFile {
   public:
    Reader(FaultEnv* env, std::string path, std::unique_ptr<RandomAccessFile> base)
        : env_(env), path_(std::move(path)), base_(std::move(base)) {}
    absl::StatusOr<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
      {
        std::lock_guard<std::mutex> l(env_->mu_);
        if (absl::Status s = env_->CountAndMaybeFailLocked(Op::kRead, "pread", path_); !s.ok()) {
          return s;
        }
      }
      return base_->Read(offset, n, scratch);
    }

   private:
    FaultEnv* const env_;
    const std::string path_;
    const std::unique_ptr<RandomAccessFile> base_;
  };

  static std::string Parent(const std::string& path) {
    size_t p = path.rfind('/');
    if (p == std::string::npos) return std::string();
    if (p == 0) return "/";
    return path.substr(0, p);
  }

  static absl::Status ReadOnlyError(std::string_view what, const std::string& path) {
    return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                     std::string(what) + " " + path + ": Read-only file system (injected)");
  }

  absl::Status CheckLocked(Op op, std::string_view what, const std::string& path, bool mutates) {
    if (mutates && read_only_) return ReadOnlyError(what, path);
    return CountAndMaybeFailLocked(op, what, path);
  }

  absl::Status CountAndMaybeFailLocked(Op op, std::string_view what, const std::string& path) {
    ++calls_[static_cast<int>(op)];
    std::optional<absl::Status> fire;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->op == op && --it->remaining <= 0) {
        if (!fire) {
          fire = it->status;
          it = pending_.erase(it);
          continue;
        }
        it->remaining = 1;  // two failures set for the same call: the next call
      }
      ++it;
    }
    if (!fire) return absl::OkStatus();
    if (!fire->ok()) return *fire;
    return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                     std::string(what) + " " + path + ": injected I/O error (" +
                         std::string(OpName(op)) + ")");
  }

  // Before the first change to `path`'s directory entry since the last
  // SyncDir of its directory, remembers what the entry durably holds.
  void TouchEntryLocked(const std::string& path) {
    if (undo_.count(path)) return;
    if (auto it = live_.find(path); it != live_.end()) {
      undo_[path] = it->second;
      return;
    }
    auto size = target()->GetFileSize(path);
    if (!size.ok()) {
      undo_[path] = nullptr;  // durably absent
      return;
    }
    auto node = std::make_shared<Node>();  // untracked: fully durable
    node->synced = *size;
    live_[path] = node;
    undo_[path] = node;
  }

  // `path`'s file is about to lose its directory entry: if an un-synced
  // directory change still refers to it, keep its synced bytes.
  void SaveIfNeededLocked(const std::string& path) {
    auto it = live_.find(path);
    if (it == live_.end() || it->second->saved) return;
    const std::shared_ptr<Node>& node = it->second;
    bool referenced = false;
    for (const auto& [p, n] : undo_) referenced = referenced || n == node;
    if (!referenced) return;
    auto content = ReadPrefix(path, node->synced);
    if (content.ok()) node->saved = *std::move(content);
  }

  void ShrinkSyncedLocked(const std::string& path, uint64_t size) {
    auto it = live_.find(path);
    if (it != live_.end()) it->second->synced = std::min(it->second->synced, size);
  }

  const std::string* LivePathLocked(const std::shared_ptr<Node>& node) const {
    for (const auto& [p, n] : live_) {
      if (n == node) return &p;
    }
    return nullptr;
  }

  absl::StatusOr<std::string> ReadPrefix(const std::string& path, uint64_t n) {
    auto f = target()->NewRandomAccessFile(path);
    if (!f.ok()) return f.status();
    std::string buf(n, '\0');
    auto got = (*f)->Read(0, n, buf.data());
    if (!got.ok()) return got.status();
    return std::string(*got);
  }

  absl::Status WriteWholeFile(const std::string& path, const std::string& content) {
    auto f = target()->NewWritableFile(path);
    if (!f.ok()) return f.status();
    if (absl::Status s = (*f)->Append(content); !s.ok()) return s;
    if (absl::Status s = (*f)->Sync(); !s.ok()) return s;
    return (*f)->Close();
  }

  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  bool no_space_ = false;
  bool read_only_ = false;
  std::vector<Pending> pending_;
  std::array<int, kNumOps> calls_{};
  // Files written through this Env since the last crash: path -> file.
  std::map<std::string, std::shared_ptr<Node>> live_;
  // Paths whose directory entry changed since the last SyncDir of their
  // directory -> the file the entry durably holds (nullptr: absent).
  std::map<std::string, std::shared_ptr<Node>> undo_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_TESTING_FAULT_ENV_H_
