// Value types of the Tributary data model: hash keys and their ranges,
// sequence numbers, shard ids, and the enums of stream and shard state.
//
// All types here are small regular values: copyable, comparable, and safe to
// share between threads once constructed. None of them allocate except the
// string conversions.
#ifndef TRIBUTARY_TYPES_H_
#define TRIBUTARY_TYPES_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"

namespace tributary {

// A point of the 128-bit hash-key space [0, 2^128-1]. A record's hash key is
// the MD5 digest of its partition key read as a big-endian unsigned 128-bit
// integer, or the record's ExplicitHashKey.
class HashKey {
 public:
  constexpr HashKey() = default;
  constexpr explicit HashKey(absl::uint128 v) : value_(v) {}

  static constexpr HashKey Min() { return HashKey(0); }
  static constexpr HashKey Max() { return HashKey(absl::Uint128Max()); }

  // MD5(partition_key) as a big-endian integer, as Kinesis routes records.
  static HashKey FromPartitionKey(std::string_view partition_key);

  // Parses the decimal form Kinesis uses ("0" .. "340282366920938463463374607431768211455",
  // no sign, no leading zeros except "0"). InvalidArgument (ValidationException)
  // on anything else, naming `what` in the message.
  static absl::StatusOr<HashKey> Parse(std::string_view decimal,
                                       std::string_view what = "hash key");

  constexpr absl::uint128 value() const { return value_; }
  std::string ToString() const;  // decimal

  friend constexpr bool operator==(HashKey a, HashKey b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(HashKey a, HashKey b) { return a.value_ != b.value_; }
  friend constexpr bool operator<(HashKey a, HashKey b) { return a.value_ < b.value_; }
  friend constexpr bool operator<=(HashKey a, HashKey b) { return a.value_ <= b.value_; }
  friend constexpr bool operator>(HashKey a, HashKey b) { return a.value_ > b.value_; }
  friend constexpr bool operator>=(HashKey a, HashKey b) { return a.value_ >= b.value_; }
  friend std::ostream& operator<<(std::ostream& os, HashKey k) { return os << k.ToString(); }

 private:
  absl::uint128 value_ = 0;
};

// A range of hash keys, CLOSED ON BOTH ENDS as in Kinesis: [start, end].
// REQUIRES (for every range the library returns): start <= end.
struct HashKeyRange {
  HashKey start;
  HashKey end;

  static constexpr HashKeyRange All() { return {HashKey::Min(), HashKey::Max()}; }

  constexpr bool Contains(HashKey k) const { return start <= k && k <= end; }
  // True if `next` starts right after this range ends (this.end + 1 == next.start).
  constexpr bool IsFollowedBy(const HashKeyRange& next) const {
    return end != HashKey::Max() && HashKey(end.value() + 1) == next.start;
  }
  // Number of keys in the range minus one (the full range does not fit otherwise).
  constexpr absl::uint128 WidthMinusOne() const { return end.value() - start.value(); }
  // The key that splits the range into two halves of equal width (the
  // right half gets the extra key when the width is odd): the natural
  // NewStartingHashKey for SplitShard. For the full range it is 2^127.
  // REQUIRES: start < end.
  HashKey Midpoint() const { return HashKey(start.value() + (WidthMinusOne() >> 1) + 1); }

  friend constexpr bool operator==(const HashKeyRange& a, const HashKeyRange& b) {
    return a.start == b.start && a.end == b.end;
  }
  friend constexpr bool operator!=(const HashKeyRange& a, const HashKeyRange& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const HashKeyRange& r) {
    return os << "[" << r.start << ", " << r.end << "]";
  }
};

// How a stream lays out its sequence numbers (docs/CONCEPTS.md "Sequence
// numbers"). Chosen when the stream is created and kept in the catalog, so a
// stream keeps its layout for life; both read back. Values reach disk
// (the catalog's stream record): never renumber.
enum class SequenceFormat : uint8_t {
  // 39 digits: 10^38 + (counter << 32 | shard index). Every stream created
  // before Kinesis' layout existed in Tributary has it.
  kTributary = 0,
  // 56 digits, Kinesis' own layout (version 2, below). The default for new
  // streams.
  kKinesis = 1,
};

// A record's sequence number. Within one shard sequence numbers strictly
// increase in append order; every sequence number of a child shard is greater
// than every sequence number of each of its parents; two records of one
// stream never share a sequence number.
//
// A Tributary store issues one of two layouts, per stream (SequenceFormat):
//
//   kTributary: the 128-bit value 10^38 + (counter << 32 | shard_index),
//     exactly 39 decimal digits.
//   kKinesis: Kinesis' own "version 2" layout, 188 bits, 56 decimal digits
//     (the layout kinesalite reverse-engineered), from the most significant
//     end: 4 bits 2; 36 bits the shard's creation time in seconds since the
//     epoch; 4 bits the shard index's low 4 bits; 64 bits the counter (top
//     bit 0); 8 bits 0; 36 bits the record's arrival time in seconds; 32 bits
//     the shard index; 4 bits 2 (the version).
//
// In both, `counter` is the shard's append counter (children start above
// their parents' counters) and `shard_index` the numeric part of the shard
// id. Kinesis' layout orders by creation time first: a child's creation
// time is kept above its parents' (a second later if they were created in
// the same second), so children still sort after their parents.
//
// Other Kinesis implementations (Amazon Kinesis, kinesalite, ...) issue
// numbers of up to 56 digits too. A SequenceNumber holds any number below
// 2^256 (77 digits) so that records read from a remote store
// (tributary/remote.h) carry their server's numbers unchanged; ParseAny
// reads them. Comparison is numeric in all cases.
class SequenceNumber {
 public:
  constexpr SequenceNumber() = default;

  // kTributary's layout.
  static SequenceNumber FromParts(uint64_t counter, uint32_t shard_index);
  // kKinesis' layout. REQUIRES: 0 <= shard_created_s, record_s < 2^36;
  // counter < 2^63; shard_index < 2^31.
  static SequenceNumber FromKinesisParts(int64_t shard_created_s, uint32_t shard_index, uint64_t counter,
                                         int64_t record_s);
  // Parses a decimal sequence number (Kinesis pattern 0|([1-9]\d{0,128}))
  // that a Tributary store issued. InvalidArgument (ValidationException) if
  // it is not a number; InvalidArgument (InvalidArgumentException) if it is a
  // number Tributary never issues (wrong offset or out of range), naming
  // `what`.
  static absl::StatusOr<SequenceNumber> Parse(std::string_view decimal,
                                              std::string_view what = "sequence number");
  // Parses any decimal sequence number below 2^256, whoever issued it (the
  // remote backend reads its server's numbers with it). ValidationException
  // if it is not a number, InvalidArgumentException if it is 2^256 or more.
  static absl::StatusOr<SequenceNumber> ParseAny(std::string_view decimal,
                                                 std::string_view what = "sequence number");

  // True if the number has one of the two layouts a Tributary store issues
  // (kTributary's, or Kinesis' version 2 with a shard index below 2^31), so
  // counter() and shard_index() mean something: every number a Tributary
  // store or tributary-server issues. Another implementation's number in
  // Kinesis' layout has them too (its counter need not be dense). False
  // for other numbers.
  bool has_counter() const;
  // REQUIRES: has_counter().
  uint64_t counter() const;
  uint32_t shard_index() const;
  // True for a number in Kinesis' version 2 layout (kKinesis).
  bool is_kinesis_layout() const;
  // The low 128 bits: the whole value of every number a Tributary store
  // issues (wide() is false for them).
  constexpr absl::uint128 value() const { return value_; }
  // Bits 128..255: zero except for other implementations' wide numbers.
  constexpr absl::uint128 high() const { return high_; }
  // True for a number of 2^128 or more (only other implementations issue them).
  constexpr bool wide() const { return high_ != 0; }
  bool valid() const { return value_ != 0 || high_ != 0; }

  std::string ToString() const;  // decimal; 39 or 56 digits for Tributary's numbers
  // Writes the decimal digits to `buf` (at least 80 bytes) and returns how
  // many; no allocation (responses carry one number per record).
  size_t ToChars(char* buf) const;

  friend constexpr bool operator==(SequenceNumber a, SequenceNumber b) {
    return a.value_ == b.value_ && a.high_ == b.high_;
  }
  friend constexpr bool operator!=(SequenceNumber a, SequenceNumber b) { return !(a == b); }
  friend constexpr bool operator<(SequenceNumber a, SequenceNumber b) {
    return a.high_ != b.high_ ? a.high_ < b.high_ : a.value_ < b.value_;
  }
  friend constexpr bool operator<=(SequenceNumber a, SequenceNumber b) { return !(b < a); }
  friend constexpr bool operator>(SequenceNumber a, SequenceNumber b) { return b < a; }
  friend constexpr bool operator>=(SequenceNumber a, SequenceNumber b) { return !(a < b); }
  friend std::ostream& operator<<(std::ostream& os, SequenceNumber s) { return os << s.ToString(); }

 private:
  constexpr explicit SequenceNumber(absl::uint128 v, absl::uint128 high = 0) : value_(v), high_(high) {}
  absl::uint128 value_ = 0;  // 0 (and high_ 0): no sequence number
  absl::uint128 high_ = 0;   // bits 128..255
};

// Shard ids look like "shardId-000000000007": the prefix and the shard's
// index in its stream, zero-padded to 12 digits. Indexes are assigned in
// creation order and never reused within a stream.
std::string FormatShardId(uint32_t index);

// A shard id as a value: the shard's index, printed as "shardId-%012d".
// Put results carry this instead of a std::string so an append does not
// allocate; it converts to std::string and compares with strings.
class ShardId {
 public:
  constexpr ShardId() = default;
  constexpr explicit ShardId(uint32_t index) : index_(index) {}
  constexpr uint32_t index() const { return index_; }
  std::string ToString() const { return FormatShardId(index_); }
  operator std::string() const { return ToString(); }  // NOLINT: drop-in for strings

  friend constexpr bool operator==(ShardId a, ShardId b) { return a.index_ == b.index_; }
  friend constexpr bool operator!=(ShardId a, ShardId b) { return a.index_ != b.index_; }
  friend constexpr bool operator<(ShardId a, ShardId b) { return a.index_ < b.index_; }
  friend bool operator==(ShardId a, std::string_view s) { return a.ToString() == s; }
  friend bool operator!=(ShardId a, std::string_view s) { return !(a == s); }
  friend bool operator==(std::string_view s, ShardId a) { return a == s; }
  friend bool operator!=(std::string_view s, ShardId a) { return !(a == s); }
  friend std::ostream& operator<<(std::ostream& os, ShardId id) { return os << id.ToString(); }

 private:
  uint32_t index_ = 0;
};
// Reads a shard id as Kinesis does: the digits between the first '-' and
// the next one ("shardId-000000000007", but also "shard-7" or "x-7"), or
// the whole id when it has no such part ("7"); any zero padding; the value
// must fit a Java int (at most 2147483647). Anything else is InvalidArgument
// (ValidationException); calls that look a shard up report
// ResourceNotFoundException for such an id.
absl::StatusOr<uint32_t> ParseShardId(std::string_view shard_id);

// StreamStatus and StreamMode values are persisted in the catalog: never renumber.
enum class StreamStatus { kCreating = 0, kDeleting = 1, kActive = 2, kUpdating = 3 };
enum class StreamMode { kProvisioned = 0, kOnDemand = 1 };
// OPEN: writable and readable. CLOSED: resharded away, readable until its
// records expire. EXPIRED: every record expired; never listed again.
enum class ShardState { kOpen, kClosed, kExpired };
enum class ShardIteratorType {
  kTrimHorizon, kLatest, kAtSequenceNumber, kAfterSequenceNumber, kAtTimestamp
};
enum class ShardFilterType {
  kAfterShardId, kAtTrimHorizon, kFromTrimHorizon, kAtLatest, kAtTimestamp, kFromTimestamp
};
enum class ScalingType { kUniformScaling };
enum class EncryptionType { kNone = 0, kKms = 1 };

// Wire names ("ACTIVE", "ON_DEMAND", "TRIM_HORIZON", ...) and their parsers.
std::string_view ToString(StreamStatus s);
std::string_view ToString(StreamMode m);
std::string_view ToString(ShardState s);
std::string_view ToString(ShardIteratorType t);
std::string_view ToString(ShardFilterType t);
std::string_view ToString(ScalingType t);
std::string_view ToString(EncryptionType t);
absl::StatusOr<StreamMode> ParseStreamMode(std::string_view s);
absl::StatusOr<ShardIteratorType> ParseShardIteratorType(std::string_view s);
absl::StatusOr<ShardFilterType> ParseShardFilterType(std::string_view s);
absl::StatusOr<ScalingType> ParseScalingType(std::string_view s);
absl::StatusOr<EncryptionType> ParseEncryptionType(std::string_view s);

}  // namespace tributary

#endif  // TRIBUTARY_TYPES_H_
