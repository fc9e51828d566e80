// ReadOnlyEnv: an Env that reads through to another Env and never changes a
// file, so that `tributary` can open a store with Store::Open without
// repairing it.
//
// Store::Open recovers as it opens: it replays the write-ahead log into
// segments, truncates a torn tail, drops a torn segment header, removes
// directories the catalog does not name, writes a recovery point and
// creates missing directories. An inspection tool must not do any of that
// (verify would otherwise "fix" what it is asked to report). So every
// change lands in an in-memory overlay instead of the disk: files written,
// appended to, truncated, renamed or removed read back as changed through
// this Env, and the disk stays as it was. The store's view is the repaired
// one, which is what its reads would return after a real reopen. Each
// change is remembered in skipped() (except appends to an open file).
//
// The directory lock is taken for real: a store open in another process
// stays out of reach (ResourceInUseException).
//
// Thread safety: safe for concurrent use.
#ifndef TRIBUTARY_TOOLS_TRIBUTARY_READ_ONLY_ENV_H_
#define TRIBUTARY_TOOLS_TRIBUTARY_READ_ONLY_ENV_H_

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tributary/env.h"
#include "tributary/status.h"

namespace tributary::cli {

class ReadOnlyEnv final : public EnvWrapper {
 public:
  explicit ReadOnlyEnv(Env* target) : EnvWrapper(target) {}

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    Note("create " + p);
    std::lock_guard<std::mutex> l(mu_);
    auto node = std::make_shared<Node>();
    files_[p] = node;
    return std::unique_ptr<WritableFile>(new OverlayFile(this, node));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    std::lock_guard<std::mutex> l(mu_);
    std::shared_ptr<Node> node = MaterializeLocked(p);
    if (node == nullptr) {
      node = std::make_shared<Node>();
      files_[p] = node;
    }
    return std::unique_ptr<WritableFile>(new OverlayFile(this, node));
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    std::shared_ptr<Node> node;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(p);
      if (it == files_.end()) return target()->NewRandomAccessFile(p);
      node = it->second;
    }
    if (node == nullptr) return NotFound(p);
    return std::unique_ptr<RandomAccessFile>(new OverlayReader(this, node));
  }
  bool FileExists(const std::string& p) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(p);
      if (it != files_.end()) return it->second != nullptr;
      if (dirs_.count(p)) return true;
    }
    return target()->FileExists(p);
  }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& p) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(p);
      if (it != files_.end()) {
        if (it->second == nullptr) return NotFound(p);
        return it->second->base_size + it->second->tail.size();
      }
    }
    return target()->GetFileSize(p);
  }
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& d) override {
    std::set<std::string> names;
    absl::StatusOr<std::vector<std::string>> real = target()->GetChildren(d);
    std::lock_guard<std::mutex> l(mu_);
    if (!real.ok() && !dirs_.count(d)) return real.status();
    if (real.ok()) names.insert(real->begin(), real->end());
    const std::string prefix = d + "/";
    for (const auto& [path, node] : files_) {
      if (path.compare(0, prefix.size(), prefix) != 0 || path.find('/', prefix.size()) != std::string::npos) continue;
      if (node == nullptr) {
        names.erase(path.substr(prefix.size()));
      } else {
        names.insert(path.substr(prefix.size()));
      }
    }
    for (const std::string& dir : dirs_) {
      if (dir.compare(0, prefix.size(), prefix) == 0 && dir.find('/', prefix.size()) == std::string::npos) {
        names.insert(dir.substr(prefix.size()));
      }
    }
    return std::vector<std::string>(names.begin(), names.end());
  }
  absl::Status RemoveFile(const std::string& p) override {
    Note("remove " + p);
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(p);
    if (it == files_.end() && !target()->FileExists(p)) return NotFound(p);
    if (it != files_.end() && it->second == nullptr) return NotFound(p);
    files_[p] = nullptr;
    return absl::OkStatus();
  }
  absl::Status RemoveDir(const std::string& d) override { return Skip("remove directory " + d); }
  absl::Status CreateDirs(const std::string& d) override {
    if (target()->FileExists(d)) return absl::OkStatus();
    Note("create directory " + d);
    std::lock_guard<std::mutex> l(mu_);
    for (std::string cur = d; !cur.empty() && !target()->FileExists(cur);) {
      dirs_.insert(cur);
      const size_t slash = cur.rfind('/');
      if (slash == std::string::npos || slash == 0) break;
      cur.resize(slash);
    }
    return absl::OkStatus();
  }
  absl::Status RenameFile(const std::string& f, const std::string& t) override {
    Note("rename " + f + " to " + t);
    std::lock_guard<std::mutex> l(mu_);
    std::shared_ptr<Node> node = MaterializeLocked(f);
    if (node == nullptr) return NotFound(f);
    files_[t] = node;
    files_[f] = nullptr;
    return absl::OkStatus();
  }
  absl::Status TruncateFile(const std::string& p, uint64_t n) override {
    Note("truncate " + p + " to " + std::to_string(n) + " bytes");
    std::lock_guard<std::mutex> l(mu_);
    std::shared_ptr<Node> node = MaterializeLocked(p);
    if (node == nullptr) return NotFound(p);
    if (n <= node->base_size) {
      node->base_size = n;
      node->tail.clear();
    } else {
      node->tail.resize(n - node->base_size, '\0');
    }
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string&) override { return absl::OkStatus(); }

  // The changes the store asked for and did not get, in order.
  std::vector<std::string> skipped() const {
    std::lock_guard<std::mutex> l(mu_);
    return skipped_;
  }

 private:
  // A file as the overlay sees it: the first base_size bytes of the real
  // file base_path, then `tail`.
  struct Node {
    std::string base_path;
    uint64_t base_size = 0;
    std::string tail;
  };

  class OverlayFile final : public WritableFile {
   public:
    OverlayFile(ReadOnlyEnv* env, std::shared_ptr<Node> node) : env_(env), node_(std::move(node)) {}
    absl::Status Append(std::string_view data) override {
      std::lock_guard<std::mutex> l(env_->mu_);
      node_->tail.append(data.data(), data.size());
      return absl::OkStatus();
    }
    absl::Status Sync() override { return absl::OkStatus(); }
    absl::Status Close() override { return absl::OkStatus(); }
    uint64_t Size() const override {
      std::lock_guard<std::mutex> l(env_->mu_);
      return node_->base_size + node_->tail.size();
    }

   private:
    ReadOnlyEnv* env_;
    std::shared_ptr<Node> node_;
  };

  class OverlayReader final : public RandomAccessFile {
   public:
    OverlayReader(ReadOnlyEnv* env, std::shared_ptr<Node> node) : env_(env), node_(std::move(node)) {}
    absl::StatusOr<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
      std::string base_path;
      uint64_t base_size = 0;
      std::string tail_part;
      {
        std::lock_guard<std::mutex> l(env_->mu_);
        base_path = node_->base_path;
        base_size = node_->base_size;
        const uint64_t end = base_size + node_->tail.size();
        if (offset + n > base_size && offset < end) {
          const uint64_t from = std::max(offset, base_size) - base_size;
          tail_part = node_->tail.substr(from, std::min<uint64_t>(offset + n, end) - base_size - from);
        }
      }
      size_t got = 0;
      if (offset < base_size) {
        absl::StatusOr<std::unique_ptr<RandomAccessFile>> f = env_->target()->NewRandomAccessFile(base_path);
        if (!f.ok()) return f.status();
        const size_t want = static_cast<size_t>(std::min<uint64_t>(n, base_size - offset));
        absl::StatusOr<std::string_view> r = (*f)->Read(offset, want, scratch);
        if (!r.ok()) return r.status();
        if (r->data() != scratch) std::memmove(scratch, r->data(), r->size());
        got = r->size();
        if (got < want) return std::string_view(scratch, got);
      }
      std::memcpy(scratch + got, tail_part.data(), tail_part.size());
      return std::string_view(scratch, got + tail_part.size());
    }

   private:
    ReadOnlyEnv* env_;
    std::shared_ptr<Node> node_;
  };

  // The overlay node of `p`, made from the real file if the overlay has
  // none yet; null if the file does not exist (or was removed).
  std::shared_ptr<Node> MaterializeLocked(const std::string& p) {
    auto it = files_.find(p);
    if (it != files_.end()) return it->second;
    absl::StatusOr<uint64_t> size = target()->GetFileSize(p);
    if (!size.ok()) return nullptr;
    auto node = std::make_shared<Node>();
    node->base_path = p;
    node->base_size = *size;
    files_[p] = node;
    return node;
  }

  static absl::Status NotFound(const std::string& p) {
    return MakeError(absl::StatusCode::kNotFound, ErrorType::kInternalFailure,
                     "open " + p + ": No such file or directory");
  }
  absl::Status Skip(std::string what) {
    Note(std::move(what));
    return absl::OkStatus();
  }
  void Note(std::string what) {
    std::lock_guard<std::mutex> l(mu_);
    skipped_.push_back(std::move(what));
  }

  mutable std::mutex mu_;
  std::vector<std::string> skipped_;  // guarded by mu_
  // Files the overlay changed: path -> node (null: removed). Guarded by mu_.
  std::map<std::string, std::shared_ptr<Node>> files_;
  std::set<std::string> dirs_;  // directories created in the overlay; guarded by mu_
};

}  // namespace tributary::cli

#endif  // TRIBUTARY_TOOLS_TRIBUTARY_READ_ONLY_ENV_H_
