// StoreSource: a RecordSource over the public Store API.
//
// Lists the stream's shards (ListShards, refreshed when a shard ends and at
// least once per second of clock time, so new children are found), gives
// shard i to worker (i mod parallelism), and reads each shard with
// GetShardIterator (TRIM_HORIZON, or AFTER_SEQUENCE_NUMBER of its position)
// and GetRecords. A child shard is read only once every parent that is still
// listed was acknowledged to its end; a parent no longer listed has expired
// and holds nothing to wait for. An expired iterator is reopened after the
// last delivered record.
//
// This is the stand-in for the ordered consumer (issue #4) until it lands;
// see lib/apps/README.md.
#ifndef TRIBUTARY_LIB_APPS_STORE_SOURCE_H_
#define TRIBUTARY_LIB_APPS_STORE_SOURCE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apps/source.h"
#include "tributary/store.h"

namespace tributary::apps {

class StoreSource final : public RecordSource {
 public:
  // `store` is not owned and must outlive the source.
  StoreSource(Store* store, std::string stream);

  absl::Status Seek(int parallelism, const Positions& positions) override;
  absl::StatusOr<SourceBatch> Next(int worker, int max_records) override;
  void Ack(const Positions& processed) override;
  absl::Status Commit(const Positions&) override { return absl::OkStatus(); }

 private:
  struct Shard {
    std::string id;
    uint32_t index = 0;
    std::vector<std::string> parents;
    std::string delivered;       // last delivered sequence number
    bool delivered_end = false;  // GetRecords returned no next iterator
    bool acked_end = false;      // ... and the job processed it
    std::optional<std::string> iterator;
  };

  absl::Status Refresh();
  bool Eligible(const Shard& s) const;
  absl::Status OpenIterator(Shard* s);

  Store* const store_;
  const std::string stream_;
  int parallelism_ = 1;
  Positions seek_positions_;
  std::map<std::string, Shard> shards_;  // by shard id
  bool need_refresh_ = true;
  absl::Time last_refresh_ = absl::InfinitePast();
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_STORE_SOURCE_H_
