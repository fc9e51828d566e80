// Byte encodings of the applications layer (spec: docs/FORMAT.md
// "Applications"). Little-endian, via util::Encoder/Decoder; files end with
// an XXH3-64 checksum of everything before it.
#ifndef TRIBUTARY_LIB_APPS_CODEC_H_
#define TRIBUTARY_LIB_APPS_CODEC_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "apps/model.h"

namespace tributary::apps {

inline constexpr char kMetaMagic[8] = {'T', 'R', 'B', 'A', 'P', 'P', 'S', '\1'};
inline constexpr char kCutMagic[8] = {'T', 'R', 'B', 'C', 'U', 'T', '\0', '\1'};
// APPS format versions: 1 (the first), 2 (property groups and the stored
// Managed Flink settings in configurations, JobRestart operations, tags,
// maintenance window, job fault override). Version 2 is written; both read.
inline constexpr uint32_t kMetaFormatVersion = 2;
inline constexpr uint32_t kMinMetaFormatVersion = 1;
inline constexpr uint32_t kCutFormatVersion = 1;

// The APPS file: every application plus the manager's incarnation counter.
std::string EncodeMeta(uint64_t next_incarnation, const std::map<std::string, AppState>& apps);
// DataLoss (kCorruption) naming `path` if damaged.
absl::Status DecodeMeta(std::string_view data, const std::string& path,
                        uint64_t* next_incarnation, std::map<std::string, AppState>* apps);

// A snapshot or checkpoint file, as one string (tests, small cuts).
std::string EncodeCut(const Cut& cut);
absl::StatusOr<Cut> DecodeCut(std::string_view data, const std::string& path);

// The same file as a sequence of pieces handed to `sink` in order; the
// workers' states are passed through, not copied (a 100 MB state is written
// without a 100 MB buffer). Stops at the first sink error.
absl::Status EncodeCutTo(const Cut& cut, const std::function<absl::Status(std::string_view)>& sink);

// Where DecodeCutFrom reads a cut file from, front to back.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads exactly n bytes into dst; false if they are not there.
  virtual bool Read(char* dst, size_t n) = 0;
  virtual uint64_t remaining() const = 0;
};
// Decodes a cut reading each state straight into its string; checks the
// trailing checksum over everything read. DataLoss (kCorruption) naming
// `path` if damaged.
absl::StatusOr<Cut> DecodeCutFrom(ByteSource* src, const std::string& path);

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_CODEC_H_
