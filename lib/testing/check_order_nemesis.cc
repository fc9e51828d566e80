// The nemesis of CheckOrder: reshards, server restarts and consumer
// restarts, spread over the write phase.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "absl/numeric/int128.h"
#include "check_order_internal.h"
#include "tributary/status.h"
#include "tributary/testing/reshard.h"

namespace tributary::testing::check_order {
namespace {

// How long a reshard may keep the stream UPDATING before the nemesis gives
// up waiting (Amazon Kinesis takes seconds; local peers are instant).
constexpr absl::Duration kActiveTimeout = absl::Minutes(5);

double PercentOf(absl::uint128 v) {
  return (static_cast<double>(absl::Uint128High64(v)) * 18446744073709551616.0 +
          static_cast<double>(absl::Uint128Low64(v))) /
         3.4028236692093846e38 * 100.0;
}

std::vector<std::string> Ids(const std::vector<ShardDescription>& shards) {
  std::vector<std::string> out;
  out.reserve(shards.size());
  for (const ShardDescription& s : shards) out.push_back(s.shard_id);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool Unsupported(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnimplemented || GetErrorType(s) == ErrorType::kUnknownOperation;
}

}  // namespace

absl::StatusOr<std::vector<ShardDescription>> OpenShards(Store& store, std::string_view stream) {
  absl::StatusOr<std::vector<ShardDescription>> all = ListAllShards(store, stream);
  if (!all.ok()) return all.status();
  std::vector<ShardDescription> open;
  for (ShardDescription& s : *all) {
    if (s.state == ShardState::kOpen) open.push_back(std::move(s));
  }
  std::sort(open.begin(), open.end(), [](const ShardDescription& a, const ShardDescription& b) {
    return a.hash_key_range.start < b.hash_key_range.start;
  });
  return open;
}

Nemesis::Nemesis(Run& run, Reader& reader) : run_(run), reader_(reader), rng_(run.run_id ^ 0x6e656d65736973) {}

Nemesis::~Nemesis() { Join(); }

void Nemesis::Start() {
  thread_ = std::thread([this] { Main(); });
}

void Nemesis::Join() {
  if (thread_.joinable()) thread_.join();
}

Nemesis::Stats Nemesis::stats() const { return stats_; }

void Nemesis::Main() {
  const CheckOrderOptions& o = run_.options;
  // Each kind spread evenly over the write phase, each time moved by up to
  // a third of the gap either way, then all in time order.
  std::vector<std::pair<absl::Duration, Op>> plan;
  auto spread = [&](int n, Op op) {
    const absl::Duration gap = o.duration / (n + 1);
    std::uniform_real_distribution<double> jitter(-1.0 / 3, 1.0 / 3);
    for (int i = 1; i <= n; ++i) plan.emplace_back(gap * i + gap * jitter(rng_), op);
  };
  spread(o.reshards, Op::kReshard);
  spread(o.server_restarts, Op::kServerRestart);
  spread(o.consumer_restarts, Op::kConsumerRestart);
  std::stable_sort(plan.begin(), plan.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  int index = 0;
  for (const auto& [at, op] : plan) {
    if (!Run::SleepUntil(run_.start + at, run_.stop_writing)) break;
    ++index;
    switch (op) {
      case Op::kReshard: Reshard(index); break;
      case Op::kServerRestart: ServerRestart(index); break;
      case Op::kConsumerRestart: ConsumerRestart(index); break;
    }
  }
  done_ = true;
}

void Nemesis::Reshard(int index) {
  const CheckOrderOptions& o = run_.options;
  const std::string& stream = o.stream;
  NemesisEvent e;
  e.index = index;
  const absl::Time began = absl::Now();
  e.at = began - run_.start;

  absl::StatusOr<std::vector<ShardDescription>> before;
  absl::Status st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    // One at a time per stream: a stream still UPDATING answers ResourceInUse.
    if (absl::Status w = run_.store.WaitUntilActive(stream, kActiveTimeout); !w.ok()) {
      st = w;
      continue;
    }
    before = OpenShards(run_.store, stream);
    if (!before.ok()) {
      st = before.status();
      continue;
    }
    const int open = static_cast<int>(before->size());
    std::vector<NemesisKind> kinds;
    if (open < o.max_shards) kinds.push_back(NemesisKind::kSplitShard);
    if (open > 1) kinds.push_back(NemesisKind::kMergeShards);
    if (o.update_shard_count && !stats_.update_shard_count_unsupported) kinds.push_back(NemesisKind::kUpdateShardCount);
    if (kinds.empty()) {
      st = absl::FailedPreconditionError("no reshard possible within max_shards");
      break;
    }
    if (o.update_shard_count && !update_shard_count_probed_) {
      update_shard_count_probed_ = true;
      e.kind = NemesisKind::kUpdateShardCount;
    } else {
      e.kind = kinds[rng_() % kinds.size()];
    }
    switch (e.kind) {
      case NemesisKind::kSplitShard: {
        // A random point in the middle half of a random shard wide enough.
        std::vector<const ShardDescription*> wide;
        for (const ShardDescription& s : *before) {
          if (s.hash_key_range.WidthMinusOne() >= 8) wide.push_back(&s);
        }
        if (wide.empty()) {
          st = absl::FailedPreconditionError("no shard wide enough to split");
          break;
        }
        const ShardDescription& s = *wide[rng_() % wide.size()];
        const absl::uint128 w = s.hash_key_range.WidthMinusOne();
        const absl::uint128 r = absl::MakeUint128(rng_(), rng_());
        const HashKey k(s.hash_key_range.start.value() + (w >> 2) + r % (w >> 1));
        e.detail = fmt::format("split {} at {:.2f}%", s.shard_id, PercentOf(k.value()));
        st = run_.store.SplitShard(stream, s.shard_id, k);
        break;
      }
      case NemesisKind::kMergeShards: {
        const size_t i = rng_() % (before->size() - 1);
        e.detail = fmt::format("merge {} and {}", (*before)[i].shard_id, (*before)[i + 1].shard_id);
        st = run_.store.MergeShards(stream, (*before)[i].shard_id, (*before)[i + 1].shard_id);
        break;
      }
      default: {
        int target = open + ((rng_() & 1) != 0 ? 1 : -1);
        if (target > o.max_shards) target = open - 1;
        if (target < 1) target = open + 1;
        e.detail = fmt::format("{} -> {} open shards", open, target);
        absl::StatusOr<UpdateShardCountResult> r = run_.store.UpdateShardCount(stream, target);
        st = r.status();
        if (Unsupported(st)) {
          stats_.update_shard_count_unsupported = true;
          run_.Progress(fmt::format("nemesis: UpdateShardCount is not supported by this endpoint ({}); "
                                    "using SplitShard and MergeShards only",
                                    st.ToString()));
          continue;  // choose again
        }
        break;
      }
    }
    if (st.ok() || GetErrorType(st) != ErrorType::kResourceInUse) break;
  }
  if (st.ok()) st = run_.store.WaitUntilActive(stream, kActiveTimeout);
  absl::StatusOr<std::vector<ShardDescription>> after = OpenShards(run_.store, stream);
  e.took = absl::Now() - began;
  if (before.ok() && after.ok()) {
    const std::vector<std::string> b = Ids(*before), a = Ids(*after);
    e.closed = Minus(b, a);
    e.opened = Minus(a, b);
  }
  e.ok = st.ok() && !e.closed.empty();
  if (!st.ok()) e.detail = fmt::format("{}{}failed: {}", e.detail, e.detail.empty() ? "" : ": ", st.ToString());
  if (e.ok) ++stats_.reshards_done;
  run_.Progress(fmt::format("nemesis #{} +{:.1f}s {} ({}){}", e.index, absl::ToDoubleSeconds(e.at), ToString(e.kind),
                            e.detail, e.ok ? fmt::format(", {} ms", absl::ToInt64Milliseconds(e.took)) : ""));
  run_.checker.Event(std::move(e));
}

void Nemesis::ServerRestart(int index) {
  NemesisEvent e;
  e.index = index;
  e.kind = NemesisKind::kServerRestart;
  const absl::Time began = absl::Now();
  e.at = began - run_.start;
  run_.checker.Restarted();
  absl::Status st = run_.options.restart_server ? run_.options.restart_server()
                                               : absl::FailedPreconditionError("no restart_server given");
  e.took = absl::Now() - began;
  e.ok = st.ok();
  e.detail = st.ok() ? "killed (SIGKILL) and started again" : st.ToString();
  if (e.ok) ++stats_.server_restarts_done;
  run_.Progress(fmt::format("nemesis #{} +{:.1f}s server restart ({}), {} ms", e.index,
                            absl::ToDoubleSeconds(e.at), e.detail, absl::ToInt64Milliseconds(e.took)));
  run_.checker.Event(std::move(e));
}

void Nemesis::ConsumerRestart(int index) {
  NemesisEvent e;
  e.index = index;
  e.kind = NemesisKind::kConsumerRestart;
  e.at = absl::Now() - run_.start;
  e.ok = reader_.RequestRestart(&e.detail);
  if (e.ok) ++stats_.consumer_restarts_done;
  run_.Progress(fmt::format("nemesis #{} +{:.1f}s consumer restart ({})", e.index, absl::ToDoubleSeconds(e.at),
                            e.detail));
  run_.checker.Event(std::move(e));
}

}  // namespace tributary::testing::check_order
