// An in-memory Env for tests: a map of path -> contents, shared by every
// handle. Directories are implicit (any path prefix), except that
// GetChildren of a directory nobody created or wrote under is NotFound.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <set>

#include "tributary/env.h"
#include "tributary/status.h"
#include "util/mutex.h"

namespace tributary {
namespace {

absl::Status NotFound(std::string_view what, const std::string& path) {
  return MakeError(absl::StatusCode::kNotFound, ErrorType::kInternalFailure,
                   fmt::format("{} {}: No such file or directory", what, path));
}

struct FileData {
  util::Mutex mu;
  std::string bytes ABSL_GUARDED_BY(mu);
};

class MemFs {
 public:
  util::Mutex mu;
  std::map<std::string, std::shared_ptr<FileData>> files ABSL_GUARDED_BY(mu);
  std::set<std::string> dirs ABSL_GUARDED_BY(mu);
  std::set<std::string> locks ABSL_GUARDED_BY(mu);
};

class MemWritableFile final : public WritableFile {
 public:
  explicit MemWritableFile(std::shared_ptr<FileData> f) : f_(std::move(f)) {}
  absl::Status Append(std::string_view data) override {
    util::MutexLock l(&f_->mu);
    f_->bytes.append(data.data(), data.size());
    return absl::OkStatus();
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  uint64_t Size() const override {
    util::MutexLock l(&f_->mu);
    return f_->bytes.size();
  }

 private:
  std::shared_ptr<FileData> f_;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::shared_ptr<FileData> f) : f_(std::move(f)) {}
  absl::StatusOr<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
    util::MutexLock l(&f_->mu);
    if (offset >= f_->bytes.size()) return std::string_view();
    size_t got = std::min<size_t>(n, f_->bytes.size() - offset);
    std::memcpy(scratch, f_->bytes.data() + offset, got);
    return std::string_view(scratch, got);
  }

 private:
  std::shared_ptr<FileData> f_;
};

class MemLock final : public FileLock {
 public:
  MemLock(MemFs* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ~MemLock() override {
    util::MutexLock l(&fs_->mu);
    fs_->locks.erase(path_);
  }

 private:
  MemFs* fs_;
  std::string path_;
};

std::string Parent(const std::string& path) {
  size_t p = path.rfind('/');
  return p == std::string::npos ? std::string() : path.substr(0, p);
}

// A MemEnv must outlive the locks and files it hands out (as a file system
// outlives its handles).
class MemEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    if (!ParentExistsLocked(path)) return NotFound("open", path);
    auto& f = fs_.files[path];
    if (!f) {
      f = std::make_shared<FileData>();
    } else {
      util::MutexLock fl(&f->mu);  // truncate in place: open handles see it, as on POSIX
      f->bytes.clear();
    }
    return std::unique_ptr<WritableFile>(new MemWritableFile(f));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    if (!ParentExistsLocked(path)) return NotFound("open", path);
    auto& f = fs_.files[path];
    if (!f) f = std::make_shared<FileData>();
    return std::unique_ptr<WritableFile>(new MemWritableFile(f));
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    auto it = fs_.files.find(path);
    if (it == fs_.files.end()) return NotFound("open", path);
    return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(it->second));
  }
  bool FileExists(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    return fs_.files.count(path) > 0 || fs_.dirs.count(path) > 0;
  }
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    util::MutexLock l(&fs_.mu);
    std::set<std::string> out;
    const std::string prefix = dir + "/";
    bool exists = fs_.dirs.count(dir) > 0;
    auto collect = [&](const std::string& p) {
      if (p.compare(0, prefix.size(), prefix) != 0) return;
      exists = true;
      std::string rest = p.substr(prefix.size());
      out.insert(rest.substr(0, rest.find('/')));
    };
    for (const auto& [p, f] : fs_.files) collect(p);
    for (const auto& d : fs_.dirs) collect(d);
    if (!exists) return NotFound("opendir", dir);
    return std::vector<std::string>(out.begin(), out.end());
  }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    auto it = fs_.files.find(path);
    if (it == fs_.files.end()) return NotFound("stat", path);
    util::MutexLock fl(&it->second->mu);
    return it->second->bytes.size();
  }
  absl::Status RemoveFile(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    if (fs_.files.erase(path) == 0) return NotFound("unlink", path);
    return absl::OkStatus();
  }
  absl::Status CreateDirs(const std::string& dir) override {
    util::MutexLock l(&fs_.mu);
    for (std::string d = dir; !d.empty(); d = Parent(d)) {
      if (fs_.files.count(d)) {
        return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kInternalFailure,
                         fmt::format("mkdir {}: Not a directory (a file has that name)", d));
      }
    }
    for (std::string d = dir; !d.empty(); d = Parent(d)) fs_.dirs.insert(d);
    return absl::OkStatus();
  }
  absl::Status RemoveDir(const std::string& dir) override {
    util::MutexLock l(&fs_.mu);
    if (!fs_.dirs.count(dir)) return NotFound("rmdir", dir);
    const std::string prefix = dir + "/";
    auto under = [&](const std::string& p) { return p.compare(0, prefix.size(), prefix) == 0; };
    for (const auto& [p, f] : fs_.files) {
      if (under(p)) {
        return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kInternalFailure,
                         fmt::format("rmdir {}: Directory not empty", dir));
      }
    }
    for (const auto& d : fs_.dirs) {
      if (under(d)) {
        return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kInternalFailure,
                         fmt::format("rmdir {}: Directory not empty", dir));
      }
    }
    fs_.dirs.erase(dir);
    return absl::OkStatus();
  }
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    util::MutexLock l(&fs_.mu);
    auto it = fs_.files.find(from);
    if (it == fs_.files.end()) return NotFound("rename", from);
    if (from == to) return absl::OkStatus();
    if (!ParentExistsLocked(to)) return NotFound("rename", to);
    fs_.files[to] = it->second;
    fs_.files.erase(from);
    return absl::OkStatus();
  }
  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    util::MutexLock l(&fs_.mu);
    auto it = fs_.files.find(path);
    if (it == fs_.files.end()) return NotFound("truncate", path);
    util::MutexLock fl(&it->second->mu);
    it->second->bytes.resize(size);
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string&) override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    util::MutexLock l(&fs_.mu);
    if (!fs_.locks.insert(path).second) {
      return ResourceInUseError(fmt::format("store directory is locked ({} is held)", path));
    }
    if (!fs_.files.count(path)) fs_.files[path] = std::make_shared<FileData>();
    return std::unique_ptr<FileLock>(new MemLock(&fs_, path));
  }

 private:
  // Paths without a '/' live in the root, which always exists.
  bool ParentExistsLocked(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_.mu) {
    std::string p = Parent(path);
    return p.empty() || fs_.dirs.count(p) > 0;
  }
  MemFs fs_;
};

}  // namespace

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<MemEnv>(); }

}  // namespace tributary
