// LeaseState: the contents of a lease table as plain data, with the
// table's operations (conditional writes included) and its file encoding.
//
// Both shipped tables run the same code on it: the in-memory table keeps one
// LeaseState under a mutex; the durable table loads it from <dir>/LEASES,
// applies one operation and writes it back, all under a file lock. The
// encoding is specified in docs/FORMAT.md ("Lease table").
//
// Not thread-safe: callers serialize.
#ifndef TRIBUTARY_LIB_CONSUME_LEASE_STATE_H_
#define TRIBUTARY_LIB_CONSUME_LEASE_STATE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tributary/lease_table.h"

namespace tributary::consume {

inline constexpr char kLeaseFileMagic[8] = {'T', 'R', 'B', 'L', 'E', 'A', 'S', '\1'};
// Version 2 added sub-sequence numbers to checkpoints and prepared
// checkpoints; version 1 files are still read (and rewritten as version 2).
inline constexpr uint32_t kLeaseFileVersion = 2;
inline constexpr uint32_t kOldestLeaseFileVersion = 1;

class LeaseState {
 public:
  // Each operation returns its result; `changed` (if not null) is set when
  // the state was modified and must be persisted.
  absl::StatusOr<std::optional<ScopeRecord>> GetScope(const LeaseScope& scope) const;
  absl::StatusOr<ScopeRecord> CreateScope(const LeaseScope& scope, const ScopeRecord& record, bool* changed);
  absl::Status DeleteScope(const LeaseScope& scope, bool* changed);
  absl::StatusOr<std::vector<Lease>> ListLeases(const LeaseScope& scope, bool unfinished_only = false) const;
  std::vector<LeaseScope> ListScopes() const;
  absl::StatusOr<std::optional<Lease>> GetLease(const LeaseScope& scope, std::string_view shard_id) const;
  absl::StatusOr<Lease> CreateLease(const LeaseScope& scope, const Lease& lease, bool* changed);
  absl::StatusOr<Lease> UpdateLease(const LeaseScope& scope, const Lease& lease, bool* changed);
  absl::Status DeleteLease(const LeaseScope& scope, std::string_view shard_id, uint64_t expected_version,
                           bool* changed);

  // The file image: magic, version, generation, scopes, XXH3-64.
  std::string Encode() const;
  // Parses a file image. DataLoss (kCorruption) naming `path` if it is
  // damaged or of an unknown version.
  static absl::StatusOr<LeaseState> Decode(std::string_view data, const std::string& path);

  uint64_t generation() const { return generation_; }
  void bump_generation() { ++generation_; }

 private:
  struct ScopeData {
    std::optional<ScopeRecord> record;
    std::map<std::string, Lease, std::less<>> leases;
  };
  using Key = std::pair<std::string, std::string>;  // consumer, stream
  static Key KeyOf(const LeaseScope& s) { return {s.consumer_name, s.stream_name}; }

  uint64_t generation_ = 0;  // writes so far (diagnostics)
  std::map<Key, ScopeData> scopes_;
};

// Validation shared by every table: non-empty names and shard id.
absl::Status ValidateScope(const LeaseScope& scope);
absl::Status ValidateLease(const Lease& lease);

}  // namespace tributary::consume

#endif  // TRIBUTARY_LIB_CONSUME_LEASE_STATE_H_
