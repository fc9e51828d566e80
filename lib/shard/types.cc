// Shard ids and the wire names of the enums in tributary/types.h.
#include <fmt/format.h>

#include <array>
#include <utility>

#include "tributary/status.h"
#include "tributary/types.h"

#include "shard/decimal.h"

namespace tributary {

std::string FormatShardId(uint32_t index) {
  char buf[20];
  return std::string(buf, shard::FormatShardIdTo(index, buf));
}

absl::StatusOr<uint32_t> ParseShardId(std::string_view id) {
  // As Kinesis reads a shard id (observed): the text between the first '-'
  // and the next one ("shardId-000000000007", "shard-7", "anything-7"), or
  // the whole id if there is no such text ("7"), must be decimal digits with
  // a value that fits a Java int.
  std::string_view digits = id;
  if (size_t dash = id.find('-'); dash != std::string_view::npos) {
    std::string_view rest = id.substr(dash + 1);
    rest = rest.substr(0, rest.find('-'));
    if (!rest.empty()) digits = rest;
  }
  bool ok = !digits.empty() && digits.size() <= 20;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || v > 0x7fffffffu) {
    return ValidationError(fmt::format("'{}' is not a shard id (expected shardId-NNNNNNNNNNNN)",
                                       id.substr(0, 128)));
  }
  return static_cast<uint32_t>(v);
}

namespace {

template <typename E, size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [e, n] : table) {
    if (e == v) return n;
  }
  return "UNKNOWN";
}

template <typename E, size_t N>
absl::StatusOr<E> Parse(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view s, std::string_view what) {
  for (const auto& [e, n] : table) {
    if (n == s) return e;
  }
  std::string allowed;
  for (const auto& [e, n] : table) {
    if (!allowed.empty()) allowed += ", ";
    allowed += n;
  }
  return ValidationError(fmt::format("{} '{}' is not one of: {}", what, s.substr(0, 64), allowed));
}

constexpr std::array<std::pair<StreamStatus, std::string_view>, 4> kStreamStatus{{
    {StreamStatus::kCreating, "CREATING"},
    {StreamStatus::kDeleting, "DELETING"},
    {StreamStatus::kActive, "ACTIVE"},
    {StreamStatus::kUpdating, "UPDATING"},
}};
constexpr std::array<std::pair<StreamMode, std::string_view>, 2> kStreamMode{{
    {StreamMode::kProvisioned, "PROVISIONED"},
    {StreamMode::kOnDemand, "ON_DEMAND"},
}};
constexpr std::array<std::pair<ShardState, std::string_view>, 3> kShardState{{
    {ShardState::kOpen, "OPEN"},
    {ShardState::kClosed, "CLOSED"},
    {ShardState::kExpired, "EXPIRED"},
}};
constexpr std::array<std::pair<ShardIteratorType, std::string_view>, 5> kIteratorType{{
    {ShardIteratorType::kTrimHorizon, "TRIM_HORIZON"},
    {ShardIteratorType::kLatest, "LATEST"},
    {ShardIteratorType::kAtSequenceNumber, "AT_SEQUENCE_NUMBER"},
    {ShardIteratorType::kAfterSequenceNumber, "AFTER_SEQUENCE_NUMBER"},
    {ShardIteratorType::kAtTimestamp, "AT_TIMESTAMP"},
}};
constexpr std::array<std::pair<ShardFilterType, std::string_view>, 6> kFilterType{{
    {ShardFilterType::kAfterShardId, "AFTER_SHARD_ID"},
    {ShardFilterType::kAtTrimHorizon, "AT_TRIM_HORIZON"},
    {ShardFilterType::kFromTrimHorizon, "FROM_TRIM_HORIZON"},
    {ShardFilterType::kAtLatest, "AT_LATEST"},
    {ShardFilterType::kAtTimestamp, "AT_TIMESTAMP"},
    {ShardFilterType::kFromTimestamp, "FROM_TIMESTAMP"},
}};
constexpr std::array<std::pair<ScalingType, std::string_view>, 1> kScalingType{{
    {ScalingType::kUniformScaling, "UNIFORM_SCALING"},
}};
constexpr std::array<std::pair<EncryptionType, std::string_view>, 2> kEncryptionType{{
    {EncryptionType::kNone, "NONE"},
    {EncryptionType::kKms, "KMS"},
}};

}  // namespace

std::string_view ToString(StreamStatus s) { return Name(kStreamStatus, s); }
std::string_view ToString(StreamMode m) { return Name(kStreamMode, m); }
std::string_view ToString(ShardState s) { return Name(kShardState, s); }
std::string_view ToString(ShardIteratorType t) { return Name(kIteratorType, t); }
std::string_view ToString(ShardFilterType t) { return Name(kFilterType, t); }
std::string_view ToString(ScalingType t) { return Name(kScalingType, t); }
std::string_view ToString(EncryptionType t) { return Name(kEncryptionType, t); }

absl::StatusOr<StreamMode> ParseStreamMode(std::string_view s) {
  return Parse(kStreamMode, s, "StreamMode");
}
absl::StatusOr<ShardIteratorType> ParseShardIteratorType(std::string_view s) {
  return Parse(kIteratorType, s, "ShardIteratorType");
}
absl::StatusOr<ShardFilterType> ParseShardFilterType(std::string_view s) {
  return Parse(kFilterType, s, "ShardFilter.Type");
}
absl::StatusOr<ScalingType> ParseScalingType(std::string_view s) {
  return Parse(kScalingType, s, "ScalingType");
}
absl::StatusOr<EncryptionType> ParseEncryptionType(std::string_view s) {
  return Parse(kEncryptionType, s, "EncryptionType");
}

}  // namespace tributary
