#include "log/file_cache.h"

#include <utility>
#include <vector>

namespace tributary::log {

FileCache::Slot::~Slot() {
  if (cache_ != nullptr) cache_->Erase(this);
}

FileCache::FileCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {
  util::MutexLock l(&mu_);
  head_.prev_ = head_.next_ = &head_;
}

FileCache::~FileCache() {
  // Owners release their slots first; whatever is left is dropped here.
  util::MutexLock l(&mu_);
  while (head_.next_ != &head_) {
    Slot* s = head_.next_;
    UnlinkLocked(s);
    s->value_.reset();
  }
}

void FileCache::UnlinkLocked(Slot* s) {
  s->prev_->next_ = s->next_;
  s->next_->prev_ = s->prev_;
  s->prev_ = s->next_ = nullptr;
  s->cache_ = nullptr;
  --size_;
}

std::shared_ptr<FileCache::Value> FileCache::LookupValue(Slot* slot) {
  util::MutexLock l(&mu_);
  if (slot->cache_ == nullptr) return nullptr;
  // Move to the most recent end (just before the sentinel).
  if (slot->next_ != &head_) {
    slot->prev_->next_ = slot->next_;
    slot->next_->prev_ = slot->prev_;
    slot->prev_ = head_.prev_;
    slot->next_ = &head_;
    head_.prev_->next_ = slot;
    head_.prev_ = slot;
  }
  return slot->value_;
}

void FileCache::Insert(Slot* slot, std::shared_ptr<Value> value) {
  std::vector<std::shared_ptr<Value>> dropped;  // closed outside the lock
  {
    util::MutexLock l(&mu_);
    if (slot->cache_ != nullptr) {
      UnlinkLocked(slot);
      dropped.push_back(std::move(slot->value_));
    }
    slot->value_ = std::move(value);
    slot->cache_ = this;
    slot->prev_ = head_.prev_;
    slot->next_ = &head_;
    head_.prev_->next_ = slot;
    head_.prev_ = slot;
    ++size_;
    while (size_ > capacity_ && head_.next_ != slot) {
      Slot* victim = head_.next_;
      UnlinkLocked(victim);
      dropped.push_back(std::move(victim->value_));
    }
  }
}

void FileCache::Erase(Slot* slot) {
  std::shared_ptr<Value> dropped;
  util::MutexLock l(&mu_);
  if (slot->cache_ == nullptr) return;
  UnlinkLocked(slot);
  dropped = std::move(slot->value_);
  // `dropped` is destroyed after the lock is released (declared before it).
}

size_t FileCache::size() const {
  util::MutexLock l(&mu_);
  return size_;
}

}  // namespace tributary::log
