#include "stream/catalog.h"

#include <fmt/format.h>
#include <xxhash.h>

#include "tributary/status.h"
#include "util/coding.h"
#include "util/status_macros.h"

namespace tributary::stream {
namespace {

constexpr char kMagic[8] = {'T', 'R', 'B', 'C', 'A', 'T', '\0', '\1'};
constexpr uint32_t kCatalogVersion = 1;

absl::Status Corrupt(const std::string& path, std::string_view why) {
  return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                   fmt::format("catalog {} is damaged ({}); the store will not open over it", path,
                               why));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(Env* env, const std::string& dir) {
  std::unique_ptr<Catalog> c(new Catalog(env, dir));
  const std::string path = dir + "/CATALOG";
  if (env->FileExists(path)) {
    TRIBUTARY_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, env->NewRandomAccessFile(path));
    std::string buf(size, '\0');
    TRIBUTARY_ASSIGN_OR_RETURN(std::string_view data, f->Read(0, size, buf.data()));
    if (data.size() != size || size < 8 + 4 + 8 + 4 + 8) return Corrupt(path, "truncated");
    uint64_t want = 0;
    for (int i = 0; i < 8; ++i) want |= uint64_t{static_cast<uint8_t>(data[size - 8 + i])} << (8 * i);
    if (XXH3_64bits(data.data(), size - 8) != want) return Corrupt(path, "checksum mismatch");
    if (std::string_view(data.data(), 8) != std::string_view(kMagic, 8)) return Corrupt(path, "bad magic");
    util::Decoder d(data.substr(8, size - 16));
    uint32_t version = 0, count = 0;
    if (!d.U32(&version) || version != kCatalogVersion) return Corrupt(path, "unknown version");
    if (!d.U64(&c->loaded_next_incarnation_) || !d.U32(&count)) return Corrupt(path, "truncated header");
    for (uint32_t i = 0; i < count; ++i) {
      std::string name, blob;
      if (!d.Str(&name) || !d.Str(&blob)) return Corrupt(path, "truncated stream entry");
      c->loaded_[name] = std::move(blob);
    }
    if (!d.done()) return Corrupt(path, "trailing bytes");
  }
  util::MutexLock l(&c->mu_);
  c->blobs_ = c->loaded_;
  c->next_incarnation_ = c->loaded_next_incarnation_;
  return c;
}

absl::Status Catalog::Put(const std::string& name, std::string blob, uint64_t next_incarnation) {
  util::MutexLock l(&mu_);
  if (!error_.ok()) return error_;
  blobs_[name] = std::move(blob);
  next_incarnation_ = std::max(next_incarnation_, next_incarnation);
  return WriteLocked();
}

absl::Status Catalog::Remove(const std::string& name) {
  util::MutexLock l(&mu_);
  if (!error_.ok()) return error_;
  blobs_.erase(name);
  return WriteLocked();
}

absl::Status Catalog::WriteLocked() {
  util::Encoder e;
  e.Raw(std::string_view(kMagic, 8));
  e.U32(kCatalogVersion);
  e.U64(next_incarnation_);
  e.U32(static_cast<uint32_t>(blobs_.size()));
  for (const auto& [name, blob] : blobs_) {
    e.Str(name);
    e.Str(blob);
  }
  e.U64(XXH3_64bits(e.buffer().data(), e.buffer().size()));
  const std::string tmp = dir_ + "/CATALOG.tmp";
  absl::Status s = [&]() -> absl::Status {
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env_->NewWritableFile(tmp));
    TRIBUTARY_RETURN_IF_ERROR(f->Append(e.buffer()));
    TRIBUTARY_RETURN_IF_ERROR(f->Sync());
    TRIBUTARY_RETURN_IF_ERROR(f->Close());
    TRIBUTARY_RETURN_IF_ERROR(env_->RenameFile(tmp, dir_ + "/CATALOG"));
    return env_->SyncDir(dir_);
  }();
  if (!s.ok()) error_ = s;
  return s;
}

}  // namespace tributary::stream
