// KPL deaggregation (tributary/kpl.h). The protobuf message comes from
// aggregation.proto through protoc and the protobuf lite runtime.
#include "tributary/kpl.h"

#include <cstring>
#include <optional>
#include <utility>

#include "kpl/aggregation.pb.h"
#include "util/md5.h"

namespace tributary {
namespace {

constexpr size_t kMagicSize = 4;
constexpr size_t kDigestSize = 16;

// The user records of a valid aggregate, or nullopt if `record` is not one.
std::optional<std::vector<Record>> Expand(const Record& record) {
  std::string_view data = record.data;
  if (data.size() < kMagicSize + kDigestSize || !HasKplMagic(data)) return std::nullopt;
  std::string_view body = data.substr(kMagicSize, data.size() - kMagicSize - kDigestSize);
  util::Md5Digest digest = util::Md5(body);
  if (std::memcmp(digest.data(), data.data() + data.size() - kDigestSize, kDigestSize) != 0) {
    return std::nullopt;
  }
  kpl::pb::AggregatedRecord agg;
  if (!agg.ParseFromArray(body.data(), static_cast<int>(body.size()))) return std::nullopt;
  const int keys = agg.partition_key_table_size();
  for (const kpl::pb::Record& r : agg.records()) {
    if (r.partition_key_index() >= static_cast<uint64_t>(keys)) return std::nullopt;
  }
  std::vector<Record> out;
  out.reserve(static_cast<size_t>(agg.records_size()));
  int64_t sub = 0;
  for (kpl::pb::Record& r : *agg.mutable_records()) {
    Record u;
    u.sequence_number = record.sequence_number;
    u.approximate_arrival_timestamp = record.approximate_arrival_timestamp;
    u.partition_key = agg.partition_key_table(static_cast<int>(r.partition_key_index()));
    u.data = std::move(*r.mutable_data());
    u.sub_sequence_number = sub++;
    u.aggregated = true;
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace

bool HasKplMagic(std::string_view data) {
  return data.size() >= kMagicSize && std::memcmp(data.data(), kKplMagic.data(), kMagicSize) == 0;
}

std::vector<Record> DeaggregateRecord(const Record& record) {
  std::optional<std::vector<Record>> users = Expand(record);
  if (users.has_value()) return *std::move(users);
  return {record};
}

void DeaggregateRecords(std::vector<Record>* records) {
  size_t first = 0;
  while (first < records->size() && !HasKplMagic((*records)[first].data)) ++first;
  if (first == records->size()) return;  // the common case: nothing to do, nothing copied
  std::vector<Record> out;
  out.reserve(records->size());
  for (size_t i = 0; i < records->size(); ++i) {
    Record& r = (*records)[i];
    if (i < first || !HasKplMagic(r.data)) {
      out.push_back(std::move(r));
      continue;
    }
    std::optional<std::vector<Record>> users = Expand(r);
    if (!users.has_value()) {
      out.push_back(std::move(r));
      continue;
    }
    for (Record& u : *users) out.push_back(std::move(u));
  }
  *records = std::move(out);
}

}  // namespace tributary
