// ReadOnlyEnv: an Env that reads through to another Env and never changes a
// file, so that `tributary` can open a store with Store::Open without
// repairing it.
//
// Store::Open recovers as it opens: it truncates a torn tail, drops a torn
// segment header, removes directories the catalog does not name and creates
// missing directories. An inspection tool must not do any of that (verify
// would otherwise "fix" what it is asked to report), so every mutating call
// here succeeds without touching the disk and is remembered in skipped().
// The store's in-memory view is the repaired one, which is what its reads
// would return after a real reopen; the disk stays as it was.
//
// The directory lock is taken for real: a store open in another process
// stays out of reach (ResourceInUseException).
//
// Thread safety: safe for concurrent use.
#ifndef TRIBUTARY_TOOLS_TRIBUTARY_READ_ONLY_ENV_H_
#define TRIBUTARY_TOOLS_TRIBUTARY_READ_ONLY_ENV_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tributary/env.h"

namespace tributary::cli {

class ReadOnlyEnv final : public EnvWrapper {
 public:
  explicit ReadOnlyEnv(Env* target) : EnvWrapper(target) {}

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    Note("create " + p);
    return std::unique_ptr<WritableFile>(new DiscardFile(0));
  }
  // Opening the active segment for appends is routine at open; nothing is
  // appended by the tool, so it is not worth a note.
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    absl::StatusOr<uint64_t> size = target()->GetFileSize(p);
    return std::unique_ptr<WritableFile>(new DiscardFile(size.ok() ? *size : 0));
  }
  absl::Status RemoveFile(const std::string& p) override { return Skip("remove " + p); }
  absl::Status RemoveDir(const std::string& d) override { return Skip("remove directory " + d); }
  absl::Status CreateDirs(const std::string& d) override {
    if (target()->FileExists(d)) return absl::OkStatus();
    return Skip("create directory " + d);
  }
  absl::Status RenameFile(const std::string& f, const std::string& t) override {
    return Skip("rename " + f + " to " + t);
  }
  absl::Status TruncateFile(const std::string& p, uint64_t n) override {
    return Skip("truncate " + p + " to " + std::to_string(n) + " bytes");
  }
  absl::Status SyncDir(const std::string&) override { return absl::OkStatus(); }

  // The changes the store asked for and did not get, in order.
  std::vector<std::string> skipped() const {
    std::lock_guard<std::mutex> l(mu_);
    return skipped_;
  }

 private:
  // Accepts appends and forgets them.
  class DiscardFile final : public WritableFile {
   public:
    explicit DiscardFile(uint64_t size) : size_(size) {}
    absl::Status Append(std::string_view data) override {
      size_ += data.size();
      return absl::OkStatus();
    }
    absl::Status Sync() override { return absl::OkStatus(); }
    absl::Status Close() override { return absl::OkStatus(); }
    uint64_t Size() const override { return size_; }

   private:
    uint64_t size_;
  };

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
};

}  // namespace tributary::cli

#endif  // TRIBUTARY_TOOLS_TRIBUTARY_READ_ONLY_ENV_H_
