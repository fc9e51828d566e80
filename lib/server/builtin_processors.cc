// The processors built into tributary-server: counter and copy, code
// versions 1.0 and 2.0 (tributary/server.h says what each does).
#include <fmt/format.h>

#include <charconv>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tributary/server.h"

namespace tributary {
namespace {

// The stream named by property group OutputStream0 key stream.name, or "".
std::string OutputStream(const ProcessorContext& ctx) {
  if (ctx.property_groups == nullptr) return "";
  auto group = ctx.property_groups->find(std::string(kOutputPropertyGroup));
  if (group == ctx.property_groups->end()) return "";
  auto it = group->second.find(std::string(kStreamNameKey));
  return it == group->second.end() ? "" : it->second;
}

absl::Status NoOutput(std::string_view processor) {
  return absl::FailedPreconditionError(fmt::format(
      "{} needs an output stream: set property group {} key {}", processor, kOutputPropertyGroup,
      kStreamNameKey));
}

// ---------------------------------------------------------------- counter

// State, 1.0: "<count> <key>\n" per key (the count first, so a key may hold
// any character but a newline). 2.0: the line "counter-state 2" first.
constexpr std::string_view kCounterV2Header = "counter-state 2\n";

class Counter final : public Processor {
 public:
  Counter(Store* store, std::string output, bool v2)
      : store_(store), output_(std::move(output)), v2_(v2) {}

  absl::Status Process(absl::Span<const InputRecord> records) override {
    std::set<std::string> touched;
    for (const InputRecord& r : records) {
      ++counts_[r.record.partition_key];
      if (!output_.empty()) touched.insert(r.record.partition_key);
    }
    if (touched.empty()) return absl::OkStatus();
    // One record per key, in batches of at most 500 (PutRecords' limit).
    std::vector<std::string> data;
    std::vector<PutRecordInput> batch;
    data.reserve(touched.size());
    batch.reserve(std::min<size_t>(touched.size(), 500));
    for (const std::string& key : touched) {
      data.push_back(std::to_string(counts_[key]));
      batch.push_back(PutRecordInput{key, data.back()});
      if (batch.size() == 500) {
        absl::Status s = Flush(batch);
        if (!s.ok()) return s;
      }
    }
    return Flush(batch);
  }

  absl::StatusOr<std::string> SaveState() override {
    std::string out(v2_ ? kCounterV2Header : "");
    for (const auto& [key, n] : counts_) out += fmt::format("{} {}\n", n, key);
    return out;
  }

  absl::Status RestoreState(std::string_view state) override {
    counts_.clear();
    return Merge(state);
  }

  absl::Status RestoreRescaledState(absl::Span<const std::string> states) override {
    counts_.clear();
    for (const std::string& s : states) {
      if (absl::Status st = Merge(s); !st.ok()) return st;
    }
    if (!first_worker_) counts_.clear();  // counts add up: worker 0 takes them all
    return absl::OkStatus();
  }

  void set_first_worker(bool first) { first_worker_ = first; }

 private:
  absl::Status Flush(std::vector<PutRecordInput>& batch) {
    if (batch.empty()) return absl::OkStatus();
    absl::StatusOr<PutBatchResult> r = store_->PutBatch(output_, batch);
    batch.clear();
    if (!r.ok()) return r.status();
    if (r->failed_record_count > 0) {
      for (const PutBatchEntryResult& e : r->records) {
        if (!e.ok()) {
          return absl::UnavailableError(fmt::format("writing counts to {}: {}: {}", output_,
                                                    e.error_code, e.error_message));
        }
      }
    }
    return absl::OkStatus();
  }

  // Adds the counts of one saved state (either form) to counts_.
  absl::Status Merge(std::string_view s) {
    if (s.substr(0, kCounterV2Header.size()) == kCounterV2Header) s.remove_prefix(kCounterV2Header.size());
    while (!s.empty()) {
      size_t nl = s.find('\n');
      size_t sp = s.find(' ');
      if (nl == std::string_view::npos || sp == std::string_view::npos || sp > nl) {
        return absl::DataLossError("counter: the saved state is not '<count> <key>' lines");
      }
      int64_t n = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + sp, n);
      if (ec != std::errc() || p != s.data() + sp || n < 0) {
        return absl::DataLossError("counter: a count in the saved state is not a number");
      }
      counts_[std::string(s.substr(sp + 1, nl - sp - 1))] += n;
      s.remove_prefix(nl + 1);
    }
    return absl::OkStatus();
  }

  Store* const store_;
  const std::string output_;
  const bool v2_;
  bool first_worker_ = true;
  std::map<std::string, int64_t> counts_;
};

// ---------------------------------------------------------------- copy

class Copy final : public Processor {
 public:
  Copy(Store* store, std::string output, bool v2) : store_(store), output_(std::move(output)), v2_(v2) {}

  absl::Status Process(absl::Span<const InputRecord> records) override {
    if (output_.empty()) return NoOutput(v2_ ? "copy 2.0" : "copy 1.0");
    if (!v2_) {
      for (const InputRecord& r : records) {
        absl::StatusOr<PutRecordResult> put =
            store_->Put(output_, PutRecordInput{r.record.partition_key, r.record.data});
        if (!put.ok()) return put.status();
      }
      return absl::OkStatus();
    }
    std::vector<PutRecordInput> batch;
    for (size_t i = 0; i < records.size(); i += 500) {
      batch.clear();
      for (size_t j = i; j < records.size() && j < i + 500; ++j) {
        batch.push_back(PutRecordInput{records[j].record.partition_key, records[j].record.data});
      }
      absl::StatusOr<PutBatchResult> r = store_->PutBatch(output_, batch);
      if (!r.ok()) return r.status();
      for (const PutBatchEntryResult& e : r->records) {
        if (!e.ok()) {
          return absl::UnavailableError(
              fmt::format("copying to {}: {}: {}", output_, e.error_code, e.error_message));
        }
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SaveState() override { return std::string(); }
  absl::Status RestoreState(std::string_view) override { return absl::OkStatus(); }
  absl::Status RestoreRescaledState(absl::Span<const std::string>) override { return absl::OkStatus(); }

 private:
  Store* const store_;
  const std::string output_;
  const bool v2_;
};

}  // namespace

absl::Status RegisterBuiltinProcessors(ApplicationManager& applications, Store& store) {
  Store* s = &store;
  for (const bool v2 : {false, true}) {
    const std::string version = v2 ? "2.0" : "1.0";
    absl::Status st = applications.RegisterProcessor(
        "counter", version,
        [s, v2](const ProcessorContext& ctx) -> absl::StatusOr<std::unique_ptr<Processor>> {
          auto c = std::make_unique<Counter>(s, OutputStream(ctx), v2);
          c->set_first_worker(ctx.worker == 0);
          return std::unique_ptr<Processor>(std::move(c));
        });
    if (!st.ok()) return st;
    st = applications.RegisterProcessor(
        "copy", version, [s, v2](const ProcessorContext& ctx) -> absl::StatusOr<std::unique_ptr<Processor>> {
          return std::unique_ptr<Processor>(new Copy(s, OutputStream(ctx), v2));
        });
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace tributary
