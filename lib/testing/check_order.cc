// CheckOrder: the run (stream set-up, phases, report) and the summary table.
#include "tributary/testing/check_order.h"

#include <sys/resource.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

#include "check_order_internal.h"
#include "tributary/status.h"
#include "tributary/testing/reshard.h"
#include "util/status_macros.h"

namespace tributary::testing {

// ---------------------------------------------------------------- consumer kinds

std::string ToString(CheckConsumer kind, std::string_view output_stream) {
  switch (kind) {
    case CheckConsumer::kTributary: return "tributary";
    case CheckConsumer::kNaive: return "naive";
    case CheckConsumer::kParentsFirst: return "parents-first";
    case CheckConsumer::kOutput: return fmt::format("output:{}", output_stream);
  }
  return "?";
}

absl::Status ParseCheckConsumer(std::string_view text, CheckConsumer* kind, std::string* output_stream) {
  output_stream->clear();
  if (text == "tributary") {
    *kind = CheckConsumer::kTributary;
  } else if (text == "naive") {
    *kind = CheckConsumer::kNaive;
  } else if (text == "parents-first") {
    *kind = CheckConsumer::kParentsFirst;
  } else if (text.substr(0, 7) == "output:" && text.size() > 7) {
    *kind = CheckConsumer::kOutput;
    *output_stream = std::string(text.substr(7));
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "unknown consumer '{}' (want tributary, naive, parents-first or output:STREAM)", text));
  }
  return absl::OkStatus();
}

namespace check_order {

// ---------------------------------------------------------------- Run

namespace {
constexpr size_t kMaxProblems = 10;
}  // namespace

Run::Run(const CheckOrderOptions& o, Store& s, uint64_t id, absl::Time t)
    : options(o),
      store(s),
      writer_store(o.writer_store != nullptr ? *o.writer_store : s),
      run_id(id),
      start(t),
      checker(OrderChecker::Options{t, 5, static_cast<uint32_t>(std::max(1, o.keys))}) {}

const std::string& Run::read_stream() const {
  return options.consumer == CheckConsumer::kOutput ? options.output_stream : options.stream;
}

void Run::Deliver(std::string_view shard_id, absl::Span<const Record> records, bool from_written_stream) {
  thread_local std::vector<OrderChecker::Delivery> batch;
  batch.clear();
  uint64_t foreign = 0;
  for (const Record& r : records) {
    std::optional<OrderProbe> p = DecodeProbe(r.data);
    if (!p || p->run != run_id) {
      ++foreign;
      continue;
    }
    OrderChecker::Delivery d;
    d.key = p->key;
    d.counter = p->counter;
    if (from_written_stream) d.sequence_number = r.sequence_number;
    d.shard_id = shard_id;
    d.put_unix_micros = p->put_unix_micros;
    batch.push_back(d);
  }
  checker.Delivered(batch, absl::Now());
  if (foreign != 0) checker.Foreign(foreign);
}

bool Run::SleepUntil(absl::Time until, const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    absl::SleepFor(std::min(left, absl::Milliseconds(10)));
  }
  return false;
}

void Run::Progress(std::string_view line) {
  if (!options.progress) return;
  util::MutexLock l(&mu_);
  options.progress(line);
}

void Run::Problem(std::string line) {
  util::MutexLock l(&mu_);
  ++problem_count_;
  if (problems_.size() < kMaxProblems) problems_.push_back(std::move(line));
}

std::vector<std::string> Run::problems() const {
  util::MutexLock l(&mu_);
  return problems_;
}

uint64_t Run::problem_count() const {
  util::MutexLock l(&mu_);
  return problem_count_;
}

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

}  // namespace
}  // namespace check_order

absl::Status ValidateCheckOrderOptions(const CheckOrderOptions& o) {
  auto bad = [](std::string m) { return absl::InvalidArgumentError(m); };
  if (o.stream.empty()) return bad("stream is empty");
  if (o.shards < 1) return bad(fmt::format("shards must be at least 1, got {}", o.shards));
  if (o.duration <= absl::ZeroDuration()) return bad("duration must be positive");
  if (o.drain_timeout < absl::ZeroDuration()) return bad("drain_timeout must not be negative");
  if (o.writers < 1 || o.writers > 256) return bad(fmt::format("writers must be 1..256, got {}", o.writers));
  if (o.keys < o.writers) return bad(fmt::format("keys ({}) must be at least writers ({})", o.keys, o.writers));
  if (o.rate < 0) return bad("rate must not be negative");
  if (o.batch_size < 1 || o.batch_size > 500) return bad(fmt::format("batch size must be 1..500, got {}", o.batch_size));
  if (o.put_record_ratio < 0 || o.put_record_ratio > 1) return bad("put_record_ratio must be in 0..1");
  if (o.reshards < 0) return bad("reshards must not be negative");
  if (o.max_shards < 1) return bad("max_shards must be at least 1");
  if (o.server_restarts < 0 || o.consumer_restarts < 0) return bad("restarts must not be negative");
  if (o.server_restarts > 0 && !o.restart_server) {
    return bad("server restarts need a server this run can restart (restart_server)");
  }
  if (o.consumer_restarts > 0 && o.consumer != CheckConsumer::kTributary && o.consumer != CheckConsumer::kOutput) {
    return bad(fmt::format("consumer restarts apply to the tributary and output consumers, not {}",
                           ToString(o.consumer)));
  }
  if (o.consumer == CheckConsumer::kOutput && (o.output_stream.empty() || o.output_stream == o.stream)) {
    return bad("the output consumer needs an output stream other than the stream written");
  }
  if (o.consumer_workers < 1 || o.consumer_workers > 64) return bad("consumer_workers must be 1..64");
  if (o.poll_interval < absl::ZeroDuration()) return bad("poll_interval must not be negative");
  return absl::OkStatus();
}

// ---------------------------------------------------------------- CheckOrder

absl::StatusOr<CheckOrderReport> CheckOrder(Store& store, const CheckOrderOptions& options) {
  using namespace check_order;  // NOLINT(google-build-using-namespace): this file's own internals
  if (absl::Status s = ValidateCheckOrderOptions(options); !s.ok()) return s;
  const uint64_t seed = options.seed != 0 ? options.seed : static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  const uint64_t run_id = SplitMix64(seed);

  CheckOrderReport report;
  report.stream = options.stream;
  report.consumer = ToString(options.consumer, options.output_stream);
  report.run = run_id;
  report.seed = seed;
  report.writers = options.writers;
  report.keys = options.keys;
  report.rate = options.rate;
  report.reshards_requested = options.reshards;

  // The stream: used if it exists, else created.
  absl::StatusOr<StreamDescriptionSummary> summary = store.DescribeStreamSummary(options.stream);
  if (!summary.ok() && GetErrorType(summary.status()) != ErrorType::kResourceNotFound) return summary.status();
  if (!summary.ok()) {
    if (absl::Status s = store.CreateStream(options.stream, options.shards); !s.ok()) return s;
    report.stream_created = true;
  }
  // An error before the run starts leaves no stream of ours behind.
  auto fail = [&](absl::Status s) {
    if (report.stream_created && !options.keep_stream) tributary::IgnoreError(store.DeleteStream(options.stream));
    return s;
  };
  if (absl::Status s = store.WaitUntilActive(options.stream, absl::Minutes(5)); !s.ok()) return fail(s);
  if (options.consumer == CheckConsumer::kOutput) {
    absl::StatusOr<StreamDescriptionSummary> out = store.DescribeStreamSummary(options.output_stream);
    if (!out.ok()) return fail(out.status());
  }
  absl::StatusOr<std::vector<ShardDescription>> initial = OpenShards(store, options.stream);
  if (!initial.ok()) return fail(initial.status());
  report.shards_at_start = static_cast<int>(initial->size());

  const double cpu_before = CpuSeconds();
  Run run(options, store, run_id, absl::Now());
  std::unique_ptr<Reader> reader = MakeReader(run);
  if (absl::Status s = reader->Start(); !s.ok()) return fail(s);
  Generator generator(run);
  Nemesis nemesis(run, *reader);
  generator.Start();
  nemesis.Start();

  auto progress = [&](std::string_view phase) {
    run.Progress(fmt::format("+{:.1f}s {}: {} acknowledged, {} delivered, {} outstanding, {} out of order",
                             absl::ToDoubleSeconds(absl::Now() - run.start), phase, run.checker.acknowledged(),
                             run.checker.deliveries(), run.checker.outstanding(), run.checker.out_of_order()));
  };
  absl::Time next_progress = run.start + absl::Seconds(1);
  // The write phase lasts `duration`; if the nemesis is behind its plan
  // (a slow endpoint), writing goes on until it is done, up to twice that.
  auto writing = [&] {
    const absl::Duration elapsed = absl::Now() - run.start;
    return !generator.finished() &&
           (elapsed < options.duration || (!nemesis.done() && elapsed < 2 * options.duration));
  };
  while (writing()) {
    absl::SleepFor(absl::Milliseconds(10));
    if (absl::Now() >= next_progress) {
      progress("writing");
      next_progress += absl::Seconds(1);
    }
  }
  run.stop_writing = true;
  generator.Join();
  nemesis.Join();
  const absl::Time write_end = absl::Now();

  while (run.checker.outstanding() > 0 && absl::Now() - write_end < options.drain_timeout) {
    absl::SleepFor(absl::Milliseconds(10));
    if (absl::Now() >= next_progress) {
      progress("draining");
      next_progress += absl::Seconds(1);
    }
  }
  report.drained = run.checker.outstanding() == 0;
  run.stop_reading = true;
  reader->Stop();
  const absl::Time end = absl::Now();
  report.cpu_seconds = CpuSeconds() - cpu_before;
  report.write_time = write_end - run.start;
  report.drain_time = end - write_end;
  report.total_time = end - run.start;

  const Generator::Stats g = generator.stats();
  report.put_records_calls = g.put_records_calls;
  report.put_record_calls = g.put_record_calls;
  report.failed_calls = g.failed_calls;
  report.throttled_records = g.throttled_records;
  report.ambiguous_records = g.ambiguous_records;
  report.unacknowledged = g.unacknowledged;
  const Nemesis::Stats n = nemesis.stats();
  report.reshards_done = n.reshards_done;
  report.server_restarts_done = n.server_restarts_done;
  report.consumer_restarts_done = n.consumer_restarts_done;
  report.update_shard_count_unsupported = n.update_shard_count_unsupported;
  report.order = run.checker.Finish();
  report.problems = run.problems();
  report.problem_count = run.problem_count();

  // The lineage, and when each shard opened and closed.
  absl::StatusOr<std::vector<ShardDescription>> lineage = ListAllShards(store, options.stream);
  if (lineage.ok()) {
    report.shard_lineage = std::move(*lineage);
  } else {
    report.problems.push_back(fmt::format("listing the shards at the end: {}", lineage.status().ToString()));
  }
  std::map<std::string, CheckOrderReport::ShardTimes> times;
  for (const ShardDescription& s : report.shard_lineage) {
    CheckOrderReport::ShardTimes& t = times[s.shard_id];
    t.shard_id = s.shard_id;
    if (s.state == ShardState::kOpen) ++report.shards_at_end;
  }
  for (const NemesisEvent& e : report.order.events) {
    if (!e.ok) continue;
    for (const std::string& id : e.closed) times[id].closed = e.at + e.took;
    for (const std::string& id : e.opened) times[id].opened = e.at + e.took;
  }
  for (auto& [id, t] : times) {
    t.shard_id = id;
    absl::StatusOr<uint32_t> index = ParseShardId(id);
    if (index.ok()) {
      auto it = g.records_per_shard.find(*index);
      if (it != g.records_per_shard.end()) t.records_written = it->second;
    }
    report.shard_times.push_back(t);
  }

  if (report.stream_created && !options.keep_stream) {
    if (absl::Status s = store.DeleteStream(options.stream); !s.ok()) {
      report.problems.push_back(fmt::format("deleting stream {}: {}", options.stream, s.ToString()));
    }
  }
  return report;
}

// ---------------------------------------------------------------- report

double CheckOrderReport::written_per_second() const {
  const double s = absl::ToDoubleSeconds(write_time);
  return s > 0 ? static_cast<double>(order.acknowledged) / s : 0;
}

double CheckOrderReport::checked_per_second() const {
  const double s = absl::ToDoubleSeconds(order.last_delivery);
  return s > 0 ? static_cast<double>(order.distinct) / s : 0;
}

namespace {

// 1234567 -> "1,234,567".
std::string Grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Millis(absl::Duration d) {
  const double ms = absl::ToDoubleMilliseconds(d);
  return ms < 10 ? fmt::format("{:.1f} ms", ms) : fmt::format("{:.0f} ms", ms);
}

std::string Seconds(absl::Duration d) { return fmt::format("{:.1f} s", absl::ToDoubleSeconds(d)); }

// "shardId-000000000007" -> "7" (shorter in tables); other ids as they are.
std::string Short(const std::string& id) {
  absl::StatusOr<uint32_t> i = ParseShardId(id);
  return i.ok() ? std::to_string(*i) : id;
}

std::string ShortList(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) {
    if (!out.empty()) out += ',';
    out += Short(id);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string CheckOrderReport::ToString() const {
  const OrderReport& o = order;
  std::string out;
  out += fmt::format("check-order: stream {} ({}), consumer {}, run {:016x}, seed {}\n", stream,
                     stream_created ? "created for the run" : "existing", consumer, run, seed);
  out += "\n";
  out += fmt::format("{:<12}{} writers over {} keys, {}; {} records acknowledged in {} ({}/s)\n", "generator",
                     writers, keys, rate > 0 ? fmt::format("{:.0f} records/s asked", rate) : "as fast as possible",
                     Grouped(o.acknowledged), Seconds(write_time), Grouped(static_cast<uint64_t>(written_per_second())));
  out += fmt::format("{:<12}PutRecords {} calls, PutRecord {} calls; {} failed calls, {} records throttled, "
                     "{} retried after an unknown outcome, {} unacknowledged at the end\n",
                     "", Grouped(put_records_calls), Grouped(put_record_calls), Grouped(failed_calls),
                     Grouped(throttled_records), Grouped(ambiguous_records), Grouped(unacknowledged));
  std::map<NemesisKind, int> kinds;
  for (const NemesisEvent& e : o.events) kinds[e.kind] += e.ok ? 1 : 0;
  out += fmt::format("{:<12}{} of {} reshards done ({} SplitShard, {} MergeShards, {} UpdateShardCount{}); "
                     "{} server restarts, {} consumer restarts; shards {} -> {} open, {} in all\n",
                     "nemesis", reshards_done, reshards_requested, kinds[NemesisKind::kSplitShard],
                     kinds[NemesisKind::kMergeShards], kinds[NemesisKind::kUpdateShardCount],
                     update_shard_count_unsupported ? ": not supported by the endpoint" : "", server_restarts_done,
                     consumer_restarts_done, shards_at_start, shards_at_end, shard_lineage.size());
  out += fmt::format("{:<12}{} deliveries, {} distinct records; {} after the writers stopped\n", "consumer",
                     Grouped(o.deliveries), Grouped(o.distinct),
                     drained ? fmt::format("caught up {}", Seconds(drain_time))
                             : fmt::format("gave up after {} (drain timeout)", Seconds(drain_time)));
  out += "\n";
  out += fmt::format("{:<26}{:>12}  {}\n", "RESULT", ok() ? "PASS" : "FAIL",
                     ok() ? "nothing lost, per-key order held"
                          : order.lost > 0 && order.out_of_order > 0 ? "records lost and per-key order broken"
                          : order.lost > 0                           ? "records lost"
                                                                     : "per-key order broken");
  auto line = [&](std::string_view name, uint64_t n, std::string note) {
    out += fmt::format("  {:<24}{:>12}  {}\n", name, Grouped(n), note);
  };
  std::string lost_note = "acknowledged, never delivered";
  if (!o.lost_examples.empty()) {
    const LostRecord& l = o.lost_examples.front();
    lost_note += fmt::format("; first: {} #{} (written to {})", ProbePartitionKey(l.key), l.counter,
                             l.shard.empty() ? "?" : l.shard);
  }
  line("lost", o.lost, lost_note);
  std::string order_note;
  if (!o.violations.empty()) {
    const OrderViolation& v = o.violations.front();
    order_note = fmt::format("first: {} #{} (written to {}) delivered after #{} (written to {}), ",
                             ProbePartitionKey(v.key), v.counter, v.shard.empty() ? "?" : v.shard, v.after_counter,
                             v.after_shard.empty() ? "?" : v.after_shard);
    if (v.event != 0) {
      order_note += fmt::format("straddling reshard #{}", v.event);
    } else if (!v.shard.empty() && v.shard == v.after_shard) {
      order_note += "both in one shard";
    } else {
      order_note += "no reshard known";
    }
  } else {
    order_note = "first deliveries of a key in counter order";
  }
  line("order violations", o.out_of_order, order_note);
  line("duplicates", o.duplicates,
       fmt::format("{} redelivered after a restart, {} written twice by a retry, {} true duplicates",
                   Grouped(o.redelivered_after_restart), Grouped(o.written_twice), Grouped(o.true_duplicates)));
  line("unacknowledged seen", o.unacknowledged_delivered, "delivered but never acknowledged (allowed)");
  if (o.foreign != 0) line("foreign records", o.foreign, "not this run's (skipped)");
  out += fmt::format("  {:<24}{:>12}  p99 {}, max {} ({} samples)\n", "latency put->delivery",
                     fmt::format("p50 {}", Millis(o.latency.p50)), Millis(o.latency.p99), Millis(o.latency.max),
                     Grouped(o.latency.count));
  out += fmt::format("  {:<24}{:>12}  checked {}/s; {:.2f} s CPU in this process ({:.2f} us per record)\n",
                     "throughput", fmt::format("{}/s", Grouped(static_cast<uint64_t>(written_per_second()))),
                     Grouped(static_cast<uint64_t>(checked_per_second())), cpu_seconds,
                     o.distinct > 0 ? cpu_seconds * 1e6 / static_cast<double>(o.distinct) : 0.0);
  if (server_cpu_seconds.has_value()) {
    out += fmt::format("  {:<24}{:>12}  {:.2f} s CPU in the server ({:.2f} us per record)\n", "server", "",
                       *server_cpu_seconds,
                       o.distinct > 0 ? *server_cpu_seconds * 1e6 / static_cast<double>(o.distinct) : 0.0);
  }
  if (o.out_of_order > 0) {
    out += fmt::format("  {:<24}{:>12}  within one shard {}, unattributed {}\n", "violations by cause", "",
                       Grouped(o.violations_within_shard), Grouped(o.violations_unattributed));
  }
  if (!o.events.empty()) {
    out += "\n";
    out += fmt::format("{:>3}  {:>7}  {:<17} {:<14} {:<14} {:>8}  {:>10}  {}\n", "#", "AT", "NEMESIS", "CLOSED",
                       "OPENED", "TOOK", "VIOLATIONS", "DETAIL");
    for (const NemesisEvent& e : o.events) {
      out += fmt::format("{:>3}  {:>7}  {:<17} {:<14} {:<14} {:>8}  {:>10}  {}{}\n", e.index,
                         fmt::format("+{:.1f}s", absl::ToDoubleSeconds(e.at)), testing::ToString(e.kind),
                         ShortList(e.closed), ShortList(e.opened), Millis(e.took), Grouped(e.violations),
                         e.ok ? "" : "FAILED ", e.detail);
    }
  }
  if (!problems.empty()) {
    out += fmt::format("\n{} problem{} while running (retried); the first:\n", Grouped(problem_count),
                       problem_count == 1 ? "" : "s");
    for (const std::string& p : problems) out += fmt::format("  {}\n", p);
  }
  return out;
}

}  // namespace tributary::testing
