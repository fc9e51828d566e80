// Env: every byte of file I/O the library does goes through here.
//
// Modelled on leveldb's Env and rocksdb's FileSystem. The default is the
// POSIX file system (DefaultEnv()); NewMemEnv() gives a private in-memory
// file system for fast hermetic tests; a test can wrap either (EnvWrapper)
// to inject faults. Time is not part of the Env: it comes from
// StoreOptions::clock (tributary/clock.h).
//
// Paths are plain strings joined with '/'. All methods return a Status that
// carries a Kinesis error type (InternalFailure for I/O errors), so the
// store can pass them to callers unchanged.
#ifndef TRIBUTARY_ENV_H_
#define TRIBUTARY_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tributary {

// A file written sequentially. One thread at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  // Makes appended data durable (fdatasync). What was appended before a
  // successful Sync survives a crash or power loss.
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
  // Bytes appended so far (including what the file held when opened).
  virtual uint64_t Size() const = 0;
};

// A file read at arbitrary offsets. Safe for concurrent use.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at `offset` into `scratch`; returns the bytes read,
  // which may be fewer at the end of the file.
  virtual absl::StatusOr<std::string_view> Read(uint64_t offset, size_t n,
                                                char* scratch) const = 0;
};

// An exclusive lock on a store directory, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// A file system. Implementations are safe for concurrent use; the objects
// they return are as documented on each class. Errors are InternalFailure
// statuses naming the path and the OS error (NotFound for a missing file).
class Env {
 public:
  virtual ~Env() = default;

  // Creates or truncates `path`.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending, creating it if missing.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // True if `path` exists (file or directory); never fails.
  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`.
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // Removes a file (not a directory).
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Creates `dir` and missing parents; OK if it exists.
  virtual absl::Status CreateDirs(const std::string& dir) = 0;
  // Removes `dir`, which must be empty.
  virtual absl::Status RemoveDir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from`.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Cuts `path` to `size` bytes (recovery drops torn tails this way).
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the directory's entries (creates, renames, removes) durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if missing). Fails with
  // ResourceInUseException if another process (or this one) holds it.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// The POSIX file system. Never null; lives for the whole process.
Env* DefaultEnv();

// A private in-memory file system. "Sync" is a no-op: nothing is lost
// unless the Env itself is destroyed. Safe for concurrent use.
std::unique_ptr<Env> NewMemEnv();

// Forwards every call to `target` (not owned); override what a test needs.
// As thread-safe as `target` and the overrides.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return target_->NewWritableFile(p);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return target_->NewAppendableFile(p);
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return target_->NewRandomAccessFile(p);
  }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& d) override {
    return target_->GetChildren(d);
  }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& p) override { return target_->GetFileSize(p); }
  absl::Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  absl::Status CreateDirs(const std::string& d) override { return target_->CreateDirs(d); }
  absl::Status RemoveDir(const std::string& d) override { return target_->RemoveDir(d); }
  absl::Status RenameFile(const std::string& f, const std::string& t) override {
    return target_->RenameFile(f, t);
  }
  absl::Status TruncateFile(const std::string& p, uint64_t n) override {
    return target_->TruncateFile(p, n);
  }
  absl::Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return target_->LockFile(p);
  }

 private:
  Env* target_;
};

}  // namespace tributary

#endif  // TRIBUTARY_ENV_H_
