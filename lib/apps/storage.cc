#include "apps/storage.h"

#include <fmt/format.h>

#include <cstring>
#include <set>

#include "apps/codec.h"
#include "util/status_macros.h"

namespace tributary::apps {

absl::StatusOr<std::unique_ptr<AppStorage>> AppStorage::Open(Env* env, std::string root,
                                                             std::unique_ptr<Env> owned_env) {
  std::unique_ptr<AppStorage> s(new AppStorage(env, std::move(root), std::move(owned_env)));
  TRIBUTARY_RETURN_IF_ERROR(s->env_->CreateDirs(s->root_ + "/app"));
  absl::StatusOr<std::unique_ptr<FileLock>> lock = s->env_->LockFile(s->root_ + "/LOCK");
  if (!lock.ok()) {
    if (GetErrorType(lock.status()) == ErrorType::kResourceInUse) {
      return ResourceInUseError(fmt::format(
          "the applications of {} are open in another ApplicationManager", s->root_));
    }
    return lock.status();
  }
  s->lock_ = std::move(*lock);
  return s;
}

AppStorage::~AppStorage() = default;

std::string AppStorage::AppDir(const AppState& app) const {
  return fmt::format("{}/app/{}.{}", root_, app.name, app.incarnation);
}
std::string AppStorage::SnapshotPath(const AppState& app, uint64_t file_id) const {
  return fmt::format("{}/snap-{:020d}.cut", AppDir(app), file_id);
}
std::string AppStorage::CheckpointPath(const AppState& app) const {
  return AppDir(app) + "/CHECKPOINT";
}

absl::StatusOr<std::string> AppStorage::ReadAll(const std::string& path) {
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path));
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, env_->NewRandomAccessFile(path));
  std::string buf(size, '\0');
  TRIBUTARY_ASSIGN_OR_RETURN(std::string_view data, f->Read(0, size, buf.data()));
  if (data.size() != size) {
    return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                     fmt::format("{}: read {} of {} bytes", path, data.size(), size));
  }
  if (data.data() != buf.data()) return std::string(data);
  return buf;
}

absl::Status AppStorage::LoadMeta(uint64_t* next_incarnation,
                                  std::map<std::string, AppState>* apps) {
  const std::string path = root_ + "/APPS";
  *next_incarnation = 1;
  apps->clear();
  if (!env_->FileExists(path)) return absl::OkStatus();
  TRIBUTARY_ASSIGN_OR_RETURN(std::string data, ReadAll(path));
  return DecodeMeta(data, path, next_incarnation, apps);
}

absl::Status AppStorage::WriteAtomically(const std::string& dir, const std::string& path,
                                         std::string_view data) {
  const std::string tmp = path + ".tmp";
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env_->NewWritableFile(tmp));
  TRIBUTARY_RETURN_IF_ERROR(f->Append(data));
  TRIBUTARY_RETURN_IF_ERROR(f->Sync());
  TRIBUTARY_RETURN_IF_ERROR(f->Close());
  TRIBUTARY_RETURN_IF_ERROR(env_->RenameFile(tmp, path));
  return env_->SyncDir(dir);
}

absl::Status AppStorage::WriteMeta(uint64_t next_incarnation,
                                   const std::map<std::string, AppState>& apps) {
  if (!meta_error_.ok()) return meta_error_;
  absl::Status s = WriteAtomically(root_, root_ + "/APPS", EncodeMeta(next_incarnation, apps));
  if (!s.ok()) meta_error_ = s;
  return s;
}

absl::Status AppStorage::WriteCut(const std::string& path, const Cut& cut) {
  const std::string dir = path.substr(0, path.rfind('/'));
  TRIBUTARY_RETURN_IF_ERROR(env_->CreateDirs(dir));
  const std::string tmp = path + ".tmp";
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env_->NewWritableFile(tmp));
  // Small pieces are gathered; states go to the file as they are.
  std::string pending;
  auto flush = [&]() -> absl::Status {
    if (pending.empty()) return absl::OkStatus();
    absl::Status s = f->Append(pending);
    pending.clear();
    return s;
  };
  TRIBUTARY_RETURN_IF_ERROR(EncodeCutTo(cut, [&](std::string_view piece) -> absl::Status {
    if (piece.size() < (64 << 10)) {
      pending.append(piece.data(), piece.size());
      return pending.size() < (1 << 20) ? absl::OkStatus() : flush();
    }
    TRIBUTARY_RETURN_IF_ERROR(flush());
    return f->Append(piece);
  }));
  TRIBUTARY_RETURN_IF_ERROR(flush());
  TRIBUTARY_RETURN_IF_ERROR(f->Sync());
  TRIBUTARY_RETURN_IF_ERROR(f->Close());
  TRIBUTARY_RETURN_IF_ERROR(env_->RenameFile(tmp, path));
  return env_->SyncDir(dir);
}

namespace {

// Reads a file front to back with positional reads straight into the
// caller's buffer.
class FileSource final : public ByteSource {
 public:
  FileSource(RandomAccessFile* f, uint64_t size) : f_(f), size_(size) {}
  bool Read(char* dst, size_t n) override {
    if (n > size_ - offset_) return false;
    size_t done = 0;
    while (done < n) {
      absl::StatusOr<std::string_view> got = f_->Read(offset_, n - done, dst + done);
      if (!got.ok()) {
        status_ = got.status();
        return false;
      }
      if (got->empty()) return false;
      if (got->data() != dst + done) std::memcpy(dst + done, got->data(), got->size());
      done += got->size();
      offset_ += got->size();
    }
    return true;
  }
  uint64_t remaining() const override { return size_ - offset_; }
  const absl::Status& status() const { return status_; }

 private:
  RandomAccessFile* f_;
  const uint64_t size_;
  uint64_t offset_ = 0;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<Cut> AppStorage::ReadCut(const std::string& path) {
  TRIBUTARY_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path));
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, env_->NewRandomAccessFile(path));
  FileSource src(f.get(), size);
  absl::StatusOr<Cut> cut = DecodeCutFrom(&src, path);
  if (!src.status().ok()) return src.status();  // an I/O error, not damage
  return cut;
}

absl::Status AppStorage::RemoveFile(const std::string& path) {
  if (!env_->FileExists(path)) return absl::OkStatus();
  return env_->RemoveFile(path);
}

absl::Status AppStorage::RemoveAppDir(const AppState& app) {
  const std::string dir = AppDir(app);
  if (!env_->FileExists(dir)) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> names = env_->GetChildren(dir);
  if (names.ok()) {
    for (const std::string& n : *names) TRIBUTARY_RETURN_IF_ERROR(env_->RemoveFile(dir + "/" + n));
  }
  return env_->RemoveDir(dir);
}

void AppStorage::RemoveOrphans(const std::map<std::string, AppState>& apps) {
  std::map<std::string, const AppState*> dirs;  // directory name -> app
  for (const auto& [name, app] : apps) dirs[fmt::format("{}.{}", app.name, app.incarnation)] = &app;
  absl::StatusOr<std::vector<std::string>> names = env_->GetChildren(root_ + "/app");
  if (!names.ok()) return;
  for (const std::string& d : *names) {
    const std::string dir = root_ + "/app/" + d;
    auto it = dirs.find(d);
    absl::StatusOr<std::vector<std::string>> files = env_->GetChildren(dir);
    std::set<std::string> keep;
    if (it != dirs.end()) {
      keep.insert("CHECKPOINT");
      for (const SnapshotRecord& s : it->second->snapshots) {
        if (s.file_id != 0) keep.insert(fmt::format("snap-{:020d}.cut", s.file_id));
      }
    }
    if (files.ok()) {
      for (const std::string& f : *files) {
        if (!keep.count(f)) IgnoreError(env_->RemoveFile(dir + "/" + f));
      }
    }
    if (it == dirs.end()) IgnoreError(env_->RemoveDir(dir));
  }
  IgnoreError(RemoveFile(root_ + "/APPS.tmp"));
}

}  // namespace tributary::apps
