// AppStorage: the files of the applications layer (docs/FORMAT.md
// "Applications"), on the store's Env under <store dir>/apps, or on a private
// MemEnv for an in-memory store (same code path, nothing survives).
//
//   <root>/LOCK                             held while a manager has the directory
//   <root>/APPS                             every application's metadata; the commit point
//   <root>/app/<name>.<incarnation>/snap-<file id, 20 digits>.cut   a READY snapshot
//   <root>/app/<name>.<incarnation>/CHECKPOINT                      the running job's latest checkpoint
//
// Every file is written to "<path>.tmp", fdatasync'ed, renamed over <path>
// and the directory synced. A snapshot file is complete before the APPS
// file that marks it READY is renamed into place, so APPS never names a file
// that is not whole; files APPS does not name are removed at open.
//
// After a failed APPS write every later one fails too (the on-disk state is
// the last committed one); reopening recovers, as for the store's catalog.
//
// Not thread-safe: the manager serializes calls.
#ifndef TRIBUTARY_LIB_APPS_STORAGE_H_
#define TRIBUTARY_LIB_APPS_STORAGE_H_

#include <map>
#include <memory>
#include <string>

#include "apps/model.h"
#include "tributary/env.h"

namespace tributary::apps {

class AppStorage {
 public:
  // `env` is not owned unless `owned_env` holds it.
  static absl::StatusOr<std::unique_ptr<AppStorage>> Open(Env* env, std::string root,
                                                          std::unique_ptr<Env> owned_env);
  ~AppStorage();

  // Reads APPS (empty if absent). DataLoss (kCorruption) if damaged.
  absl::Status LoadMeta(uint64_t* next_incarnation, std::map<std::string, AppState>* apps);
  absl::Status WriteMeta(uint64_t next_incarnation, const std::map<std::string, AppState>& apps);

  std::string AppDir(const AppState& app) const;
  std::string SnapshotPath(const AppState& app, uint64_t file_id) const;
  std::string CheckpointPath(const AppState& app) const;

  absl::Status WriteCut(const std::string& path, const Cut& cut);
  absl::StatusOr<Cut> ReadCut(const std::string& path);
  bool Exists(const std::string& path) { return env_->FileExists(path); }
  absl::Status RemoveFile(const std::string& path);
  // Removes the application's directory and everything in it.
  absl::Status RemoveAppDir(const AppState& app);
  // Removes files and directories that `apps` does not reference.
  void RemoveOrphans(const std::map<std::string, AppState>& apps);

 private:
  AppStorage(Env* env, std::string root, std::unique_ptr<Env> owned_env)
      : owned_env_(std::move(owned_env)), env_(env), root_(std::move(root)) {}
  absl::Status WriteAtomically(const std::string& dir, const std::string& path,
                               std::string_view data);
  absl::StatusOr<std::string> ReadAll(const std::string& path);

  std::unique_ptr<Env> owned_env_;
  Env* const env_;
  const std::string root_;
  std::unique_ptr<FileLock> lock_;
  absl::Status meta_error_;  // sticky
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_STORAGE_H_
