// Catalog: the durable record of a store's streams (format: docs/FORMAT.md
// "Catalog").
//
// The catalog keeps one opaque blob per stream (StreamImpl serializes
// itself) plus the store-wide incarnation counter, and rewrites the whole
// file on every change: CATALOG.tmp is written and fdatasync'ed, renamed
// over CATALOG, and the directory is synced. The rename is the commit point.
// Metadata changes (create, delete, reshard, retention, tags) are rare, so a
// full rewrite is cheap and recovery never has to replay anything.
//
// After a failed write the catalog refuses every further change (the
// on-disk state is the last committed one) and the store reports itself
// unhealthy; reopening the store recovers.
//
// Thread-safe; its mutex is a leaf lock (taken under stream locks).
#ifndef TRIBUTARY_LIB_STREAM_CATALOG_H_
#define TRIBUTARY_LIB_STREAM_CATALOG_H_

#include <map>
#include <memory>
#include <string>

#include "tributary/env.h"
#include "util/mutex.h"

namespace tributary::stream {

class Catalog {
 public:
  // Reads <dir>/CATALOG if present. Corruption (bad checksum, truncated) is
  // a DataLoss error: the store refuses to open rather than guess.
  static absl::StatusOr<std::unique_ptr<Catalog>> Open(Env* env, const std::string& dir);

  const std::map<std::string, std::string>& loaded() const { return loaded_; }
  // The store has restored its streams from loaded(): drops that copy (a
  // second copy of every stream's metadata, ~100 bytes per shard).
  void ReleaseLoaded() { std::map<std::string, std::string>().swap(loaded_); }
  uint64_t loaded_next_incarnation() const { return loaded_next_incarnation_; }

  absl::Status Put(const std::string& name, std::string blob, uint64_t next_incarnation)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Like Put, but the blob is produced under the catalog's lock, so of two
  // concurrent updates of one stream the one written last also saw the
  // other's changes (used for counter reservations bumped by appends).
  template <typename Fn>
  absl::Status Update(const std::string& name, uint64_t next_incarnation, Fn&& make_blob)
      ABSL_LOCKS_EXCLUDED(mu_) {
    util::MutexLock l(&mu_);
    if (!error_.ok()) return error_;
    blobs_[name] = make_blob();
    next_incarnation_ = std::max(next_incarnation_, next_incarnation);
    return WriteLocked();
  }
  absl::Status Remove(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Catalog(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  absl::Status WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const env_;
  const std::string dir_;
  std::map<std::string, std::string> loaded_;
  uint64_t loaded_next_incarnation_ = 1;

  util::Mutex mu_;
  std::map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
  uint64_t next_incarnation_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_CATALOG_H_
