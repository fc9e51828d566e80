#include "consume/lease_state.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <limits>

#include "tributary/status.h"
#include "util/coding.h"

namespace tributary::consume {
namespace {

constexpr int64_t kPastSentinel = std::numeric_limits<int64_t>::min();
constexpr int64_t kFutureSentinel = std::numeric_limits<int64_t>::max();

int64_t EncodeTime(absl::Time t) {
  if (t == absl::InfinitePast()) return kPastSentinel;
  if (t == absl::InfiniteFuture()) return kFutureSentinel;
  return absl::ToUnixMicros(t);
}

absl::Time DecodeTime(int64_t v) {
  if (v == kPastSentinel) return absl::InfinitePast();
  if (v == kFutureSentinel) return absl::InfiniteFuture();
  return absl::FromUnixMicros(v);
}

absl::Status Corrupt(const std::string& path, std::string_view why) {
  return MakeError(absl::StatusCode::kDataLoss, ErrorType::kCorruption,
                   fmt::format("lease table {} is damaged ({})", path, why));
}

std::string ScopeName(const LeaseScope& s) {
  return fmt::format("consumer '{}' on stream '{}'", s.consumer_name, s.stream_name);
}

// A sub-sequence number on disk: -1 for none (a whole record).
constexpr int64_t kNoSub = -1;

int64_t EncodeSub(const std::optional<int64_t>& sub) { return sub ? *sub : kNoSub; }

bool DecodeSub(util::Decoder& d, uint32_t version, std::optional<int64_t>* out) {
  out->reset();
  if (version < 2) return true;
  int64_t v = 0;
  if (!d.I64(&v) || v < kNoSub) return false;
  if (v != kNoSub) *out = v;
  return true;
}

void EncodeCheckpoint(util::Encoder& e, const CheckpointPosition& c) {
  e.U8(static_cast<uint8_t>(c.kind));
  e.Str(c.kind == CheckpointPosition::Kind::kSequenceNumber ? c.sequence_number.ToString() : "");
  e.I64(EncodeTime(c.timestamp));
  e.I64(c.kind == CheckpointPosition::Kind::kSequenceNumber ? EncodeSub(c.sub_sequence_number) : kNoSub);
}

bool DecodeSequence(util::Decoder& d, SequenceNumber* out) {
  std::string s;
  if (!d.Str(&s)) return false;
  absl::StatusOr<SequenceNumber> seq = SequenceNumber::ParseAny(s);
  if (!seq.ok()) return false;
  *out = *seq;
  return true;
}

bool DecodeCheckpoint(util::Decoder& d, uint32_t version, CheckpointPosition* c) {
  uint8_t kind = 0;
  std::string seq;
  int64_t ts = 0;
  if (!d.U8(&kind) || !d.Str(&seq) || !d.I64(&ts) || !DecodeSub(d, version, &c->sub_sequence_number)) {
    return false;
  }
  switch (kind) {
    case static_cast<uint8_t>(CheckpointPosition::Kind::kTrimHorizon):
    case static_cast<uint8_t>(CheckpointPosition::Kind::kAtTimestamp):
    case static_cast<uint8_t>(CheckpointPosition::Kind::kShardEnd):
      if (!seq.empty() || c->sub_sequence_number) return false;
      break;
    case static_cast<uint8_t>(CheckpointPosition::Kind::kSequenceNumber): {
      absl::StatusOr<SequenceNumber> s = SequenceNumber::ParseAny(seq);
      if (!s.ok()) return false;
      c->sequence_number = *s;
      break;
    }
    default:
      return false;
  }
  c->kind = static_cast<CheckpointPosition::Kind>(kind);
  c->timestamp = DecodeTime(ts);
  return true;
}

}  // namespace

absl::Status ValidateScope(const LeaseScope& scope) {
  if (scope.consumer_name.empty() || scope.stream_name.empty()) {
    return InvalidArgumentError("a lease scope needs a consumer name and a stream name");
  }
  return absl::OkStatus();
}

absl::Status ValidateLease(const Lease& lease) {
  if (lease.shard_id.empty()) return InvalidArgumentError("a lease needs a shard id");
  if (lease.pending_checkpoint && lease.pending_checkpoint->state.size() > kMaxPendingStateBytes) {
    return InvalidArgumentError(fmt::format("pending checkpoint state of {} bytes exceeds {}",
                                            lease.pending_checkpoint->state.size(), kMaxPendingStateBytes));
  }
  const CheckpointPosition& c = lease.checkpoint;
  if (c.sub_sequence_number && (!c.has_sequence_number() || *c.sub_sequence_number < 0)) {
    return InvalidArgumentError(fmt::format(
        "checkpoint {} of shard {}: a sub-sequence number needs a sequence number and must be >= 0",
        c.ToString(), lease.shard_id));
  }
  if (lease.pending_checkpoint && lease.pending_checkpoint->sub_sequence_number &&
      *lease.pending_checkpoint->sub_sequence_number < 0) {
    return InvalidArgumentError(
        fmt::format("pending checkpoint of shard {}: sub-sequence number must be >= 0", lease.shard_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ScopeRecord>> LeaseState::GetScope(const LeaseScope& scope) const {
  auto it = scopes_.find(KeyOf(scope));
  if (it == scopes_.end()) return std::optional<ScopeRecord>();
  return it->second.record;
}

absl::StatusOr<ScopeRecord> LeaseState::CreateScope(const LeaseScope& scope, const ScopeRecord& record,
                                                    bool* changed) {
  ScopeData& d = scopes_[KeyOf(scope)];
  if (!d.record) {
    d.record = record;
    if (changed) *changed = true;
  }
  return *d.record;
}

absl::Status LeaseState::DeleteScope(const LeaseScope& scope, bool* changed) {
  if (scopes_.erase(KeyOf(scope)) > 0 && changed) *changed = true;
  return absl::OkStatus();
}

std::vector<LeaseScope> LeaseState::ListScopes() const {
  std::vector<LeaseScope> out;
  for (const auto& [key, data] : scopes_) {
    if (data.record.has_value() || !data.leases.empty()) out.push_back({key.first, key.second});
  }
  return out;
}

absl::StatusOr<std::vector<Lease>> LeaseState::ListLeases(const LeaseScope& scope,
                                                          bool unfinished_only) const {
  std::vector<Lease> out;
  auto it = scopes_.find(KeyOf(scope));
  if (it == scopes_.end()) return out;
  if (!unfinished_only) out.reserve(it->second.leases.size());
  for (const auto& [id, lease] : it->second.leases) {
    if (!unfinished_only || !lease.checkpoint.is_shard_end()) out.push_back(lease);
  }
  return out;
}

absl::StatusOr<std::optional<Lease>> LeaseState::GetLease(const LeaseScope& scope,
                                                          std::string_view shard_id) const {
  auto it = scopes_.find(KeyOf(scope));
  if (it == scopes_.end()) return std::optional<Lease>();
  auto l = it->second.leases.find(shard_id);
  if (l == it->second.leases.end()) return std::optional<Lease>();
  return std::optional<Lease>(l->second);
}

absl::StatusOr<Lease> LeaseState::CreateLease(const LeaseScope& scope, const Lease& lease, bool* changed) {
  ScopeData& d = scopes_[KeyOf(scope)];
  auto [it, inserted] = d.leases.try_emplace(lease.shard_id, lease);
  if (!inserted) {
    return MakeError(absl::StatusCode::kAlreadyExists, ErrorType::kResourceInUse,
                     fmt::format("the lease of shard {} of {} exists", lease.shard_id, ScopeName(scope)));
  }
  it->second.version = 1;
  if (changed) *changed = true;
  return it->second;
}

absl::StatusOr<Lease> LeaseState::UpdateLease(const LeaseScope& scope, const Lease& lease, bool* changed) {
  auto not_found = [&] {
    return ResourceNotFoundError(
        fmt::format("no lease of shard {} for {}", lease.shard_id, ScopeName(scope)));
  };
  auto s = scopes_.find(KeyOf(scope));
  if (s == scopes_.end()) return not_found();
  auto it = s->second.leases.find(lease.shard_id);
  if (it == s->second.leases.end()) return not_found();
  if (it->second.version != lease.version) {
    return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                     fmt::format("the lease of shard {} of {} changed (version {}, expected {})",
                                 lease.shard_id, ScopeName(scope), it->second.version, lease.version));
  }
  it->second = lease;
  it->second.version = lease.version + 1;
  if (changed) *changed = true;
  return it->second;
}

absl::Status LeaseState::DeleteLease(const LeaseScope& scope, std::string_view shard_id,
                                     uint64_t expected_version, bool* changed) {
  auto s = scopes_.find(KeyOf(scope));
  if (s == scopes_.end()) return absl::OkStatus();
  auto it = s->second.leases.find(shard_id);
  if (it == s->second.leases.end()) return absl::OkStatus();
  if (it->second.version != expected_version) {
    return MakeError(absl::StatusCode::kAborted, ErrorType::kResourceInUse,
                     fmt::format("the lease of shard {} of {} changed (version {}, expected {})", shard_id,
                                 ScopeName(scope), it->second.version, expected_version));
  }
  s->second.leases.erase(it);
  if (changed) *changed = true;
  return absl::OkStatus();
}

std::string LeaseState::Encode() const {
  util::Encoder e;
  e.Raw(std::string_view(kLeaseFileMagic, 8));
  e.U32(kLeaseFileVersion);
  e.U64(generation_);
  e.U32(static_cast<uint32_t>(scopes_.size()));
  for (const auto& [key, data] : scopes_) {
    e.Str(key.first);
    e.Str(key.second);
    e.U8(data.record.has_value());
    if (data.record) {
      const ScopeRecord& r = *data.record;
      e.Str(r.stream_arn);
      e.I64(EncodeTime(r.stream_creation_timestamp));
      e.U8(static_cast<uint8_t>(r.initial_position.type));
      e.I64(EncodeTime(r.initial_position.timestamp));
      e.I64(EncodeTime(r.created_at));
      e.U32(static_cast<uint32_t>(r.initial_shard_ids.size()));
      for (const std::string& id : r.initial_shard_ids) e.Str(id);
    }
    e.U32(static_cast<uint32_t>(data.leases.size()));
    for (const auto& [id, l] : data.leases) {
      e.Str(l.shard_id);
      e.U64(l.version);
      e.Str(l.owner);
      e.I64(EncodeTime(l.expires_at));
      EncodeCheckpoint(e, l.checkpoint);
      e.U8(l.pending_checkpoint.has_value());
      if (l.pending_checkpoint) {
        e.Str(l.pending_checkpoint->sequence_number.ToString());
        e.Str(l.pending_checkpoint->state);
        e.I64(EncodeSub(l.pending_checkpoint->sub_sequence_number));
      }
      e.U32(static_cast<uint32_t>(l.parent_shard_ids.size()));
      for (const std::string& p : l.parent_shard_ids) e.Str(p);
      e.U64(l.owner_switches);
      e.Str(l.handoff_to);
    }
  }
  e.U64(XXH3_64bits(e.buffer().data(), e.buffer().size()));
  return std::move(e.buffer());
}

absl::StatusOr<LeaseState> LeaseState::Decode(std::string_view data, const std::string& path) {
  if (data.size() < 8 + 4 + 8 + 4 + 8) return Corrupt(path, "truncated");
  const size_t n = data.size();
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) want |= uint64_t{static_cast<uint8_t>(data[n - 8 + i])} << (8 * i);
  if (XXH3_64bits(data.data(), n - 8) != want) return Corrupt(path, "checksum mismatch");
  if (data.substr(0, 8) != std::string_view(kLeaseFileMagic, 8)) return Corrupt(path, "bad magic");
  util::Decoder d(data.substr(8, n - 16));
  uint32_t version = 0, scopes = 0;
  LeaseState st;
  if (!d.U32(&version)) return Corrupt(path, "truncated header");
  if (version < kOldestLeaseFileVersion || version > kLeaseFileVersion) {
    return Corrupt(path, fmt::format("unknown format version {}", version));
  }
  if (!d.U64(&st.generation_) || !d.U32(&scopes)) return Corrupt(path, "truncated header");
  for (uint32_t i = 0; i < scopes; ++i) {
    Key key;
    uint8_t has_record = 0;
    if (!d.Str(&key.first) || !d.Str(&key.second) || !d.U8(&has_record) || has_record > 1) {
      return Corrupt(path, "truncated scope");
    }
    ScopeData sd;
    if (has_record) {
      ScopeRecord r;
      int64_t created = 0, ts = 0, at = 0;
      uint8_t type = 0;
      uint32_t ids = 0;
      if (!d.Str(&r.stream_arn) || !d.I64(&created) || !d.U8(&type) || !d.I64(&ts) || !d.I64(&at) ||
          !d.U32(&ids) || type < 1 || type > 3) {
        return Corrupt(path, "bad scope record");
      }
      r.stream_creation_timestamp = DecodeTime(created);
      r.initial_position.type = static_cast<InitialPosition::Type>(type);
      r.initial_position.timestamp = DecodeTime(ts);
      r.created_at = DecodeTime(at);
      for (uint32_t k = 0; k < ids; ++k) {
        std::string id;
        if (!d.Str(&id)) return Corrupt(path, "bad scope record");
        r.initial_shard_ids.push_back(std::move(id));
      }
      sd.record = std::move(r);
    }
    uint32_t leases = 0;
    if (!d.U32(&leases)) return Corrupt(path, "truncated scope");
    for (uint32_t k = 0; k < leases; ++k) {
      Lease l;
      int64_t expires = 0;
      uint8_t has_pending = 0;
      uint32_t parents = 0;
      if (!d.Str(&l.shard_id) || !d.U64(&l.version) || !d.Str(&l.owner) || !d.I64(&expires) ||
          !DecodeCheckpoint(d, version, &l.checkpoint) || !d.U8(&has_pending) || has_pending > 1) {
        return Corrupt(path, "bad lease");
      }
      l.expires_at = DecodeTime(expires);
      if (has_pending) {
        PendingCheckpoint p;
        if (!DecodeSequence(d, &p.sequence_number) || !d.Str(&p.state) ||
            !DecodeSub(d, version, &p.sub_sequence_number)) {
          return Corrupt(path, "bad lease");
        }
        l.pending_checkpoint = std::move(p);
      }
      if (!d.U32(&parents)) return Corrupt(path, "bad lease");
      for (uint32_t q = 0; q < parents; ++q) {
        std::string p;
        if (!d.Str(&p)) return Corrupt(path, "bad lease");
        l.parent_shard_ids.push_back(std::move(p));
      }
      if (!d.U64(&l.owner_switches) || !d.Str(&l.handoff_to)) return Corrupt(path, "bad lease");
      std::string id = l.shard_id;
      if (!sd.leases.emplace(std::move(id), std::move(l)).second) {
        return Corrupt(path, "duplicate lease");
      }
    }
    if (!st.scopes_.emplace(std::move(key), std::move(sd)).second) return Corrupt(path, "duplicate scope");
  }
  if (!d.done()) return Corrupt(path, "trailing bytes");
  return st;
}

}  // namespace tributary::consume
