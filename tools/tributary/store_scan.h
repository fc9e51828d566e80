// StoreScan: a read-only walk over a store directory's files, for
// `tributary verify` and `tributary stats`.
//
// It follows the directory layout of docs/FORMAT.md
// (streams/<name>.<incarnation>/<shard index>/<first counter>.seg), checks
// the catalog's checksum, every segment header and every record frame
// (checksum, length, type, key length), and that counters strictly increase
// and arrival times never decrease across a shard's segments. It is an
// independent reader of the format (lib/log/format.h constants, XXH3-64 from
// libxxhash), so it does not share a bug with the writer's reader, and it
// never opens a Store: nothing is truncated or removed.
//
// What counts as what (the recovery rules of docs/FORMAT.md):
//   error    corruption: a bad frame or header anywhere except at the tail of
//            a shard's last segment, counters out of order, a damaged catalog.
//   warning  what a crash legitimately leaves and Store::Open repairs: a torn
//            tail of the last segment, a torn header of the last segment,
//            directories of streams the catalog does not name, stray files.
//
// Beyond segments: each segment index file (<first counter>.idx) is checked
// against its segment (every entry must point at the record it names), the
// recovery point (RECOVERY) against the segments it records as durable, and
// the write-ahead log files it does not cover frame by frame. A damaged index
// or recovery point is a warning (the store detects it by its checksums and
// rebuilds from the segments); one that passes its checksums but disagrees
// with the segments is an error, as is a bad WAL frame that is not a torn
// tail.
#ifndef TRIBUTARY_TOOLS_TRIBUTARY_STORE_SCAN_H_
#define TRIBUTARY_TOOLS_TRIBUTARY_STORE_SCAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tributary/env.h"

namespace tributary::cli {

enum class Severity { kWarning, kError };

struct Finding {
  Severity severity = Severity::kError;
  std::string where;  // a path relative to the store directory
  std::string what;
};

struct ShardScan {
  uint32_t index = 0;
  uint64_t segments = 0;
  uint64_t records = 0;     // intact records, up to the first bad frame of each segment
  uint64_t data_bytes = 0;  // partition key + data of those records
  uint64_t file_bytes = 0;  // size of the segment files
  std::optional<uint64_t> first_counter;  // of the records found
  std::optional<uint64_t> last_counter;
};

struct StreamScan {
  std::string name;
  uint64_t incarnation = 0;
  bool in_catalog = false;  // false: left over, removed at the next Store::Open
  std::vector<ShardScan> shards;  // by index
};

struct StoreScan {
  std::vector<StreamScan> streams;  // by name, then incarnation
  std::vector<Finding> findings;
  uint64_t indexes = 0;     // segment index files checked against their segments
  uint64_t wal_files = 0;   // write-ahead log files checked (those not yet applied)
  uint64_t wal_frames = 0;  // intact frames in them
  int Count(Severity s) const {
    int n = 0;
    for (const Finding& f : findings) n += f.severity == s;
    return n;
  }
};

// Scans the store in `dir` through `env`. Fails only if `dir` cannot be
// listed; every problem with the store's contents becomes a Finding.
absl::StatusOr<StoreScan> ScanStore(Env* env, const std::string& dir);

}  // namespace tributary::cli

#endif  // TRIBUTARY_TOOLS_TRIBUTARY_STORE_SCAN_H_
