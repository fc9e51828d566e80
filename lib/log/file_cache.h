// FileCache: a bounded set of open segment files (LevelDB's table cache,
// PostgreSQL's virtual file descriptors).
//
// A durable store holds one cache; every open segment file of every shard
// log (the active segment's appendable handle, readers of any segment) is
// an entry in it, so the store's file descriptors are bounded by the
// cache's capacity (StoreOptions::max_open_files), not by the number of
// shards or segments. Past capacity the least recently used entry is
// dropped: its file closes once nobody holds it any more (a caller that
// got the value keeps it alive until it lets go), and its owner reopens it
// on next use. Closing never syncs: what a closed segment holds is made
// durable by the next checkpoint (log_store.h), which reopens it to sync.
//
// Owners embed a Slot per file they may open; the slot must not move while
// cached and releases its entry when destroyed.
//
// Thread-safe: one mutex guards the LRU list and every slot's value. Values
// are destroyed (files closed) outside it.
#ifndef TRIBUTARY_LIB_LOG_FILE_CACHE_H_
#define TRIBUTARY_LIB_LOG_FILE_CACHE_H_

#include <cstddef>
#include <memory>

#include "util/mutex.h"

namespace tributary::log {

class FileCache {
 public:
  // What a slot caches (an open file, maybe with derived state).
  class Value {
   public:
    virtual ~Value() = default;
  };

  class Slot {
   public:
    Slot() = default;
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    friend class FileCache;
    FileCache* cache_ = nullptr;  // set while cached
    std::shared_ptr<Value> value_;
    Slot* prev_ = nullptr;  // LRU links (towards the most recent)
    Slot* next_ = nullptr;
  };

  // REQUIRES: capacity >= 1.
  explicit FileCache(size_t capacity);
  // REQUIRES: every slot released (their owners destroyed first).
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // The value cached in `slot` (marked most recently used), or null.
  template <typename T>
  std::shared_ptr<T> Lookup(Slot* slot) {
    return std::static_pointer_cast<T>(LookupValue(slot));
  }
  // Caches `value` in `slot`, replacing what it held, and drops the least
  // recently used entries past capacity.
  void Insert(Slot* slot, std::shared_ptr<Value> value);
  // Drops `slot`'s entry, if any.
  void Erase(Slot* slot);

  size_t capacity() const { return capacity_; }
  // Entries cached now (each holds at most one open file).
  size_t size() const;

 private:
  std::shared_ptr<Value> LookupValue(Slot* slot);
  void UnlinkLocked(Slot* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable util::Mutex mu_;
  // Circular list through a sentinel: head_.next_ is the least recently used.
  Slot head_ ABSL_GUARDED_BY(mu_);
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::log

#endif  // TRIBUTARY_LIB_LOG_FILE_CACHE_H_
