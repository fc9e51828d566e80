// The check-order report as JSON (--json) and as a Graphviz picture (--svg).
#include <fmt/format.h>

#include <map>
#include <set>

#include "check_order.h"
#include "lineage/lineage_graph.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace tributary::cli {
namespace {

using testing::CheckOrderReport;
using testing::NemesisEvent;
using testing::OrderReport;
using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void Key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
void Ms(Writer& w, std::string_view k, absl::Duration d) {
  Key(w, k);
  w.Double(absl::ToDoubleMilliseconds(d));
}
void U(Writer& w, std::string_view k, uint64_t v) {
  Key(w, k);
  w.Uint64(v);
}
void Ids(Writer& w, std::string_view k, const std::vector<std::string>& ids) {
  Key(w, k);
  w.StartArray();
  for (const std::string& id : ids) Str(w, id);
  w.EndArray();
}

// DOT string literal contents.
std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string CheckOrderJson(const CheckOrderReport& r, std::string_view endpoint) {
  const OrderReport& o = r.order;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  Key(w, "ok");
  w.Bool(r.ok());
  Key(w, "endpoint");
  Str(w, endpoint);
  Key(w, "stream");
  Str(w, r.stream);
  Key(w, "stream_created");
  w.Bool(r.stream_created);
  Key(w, "consumer");
  Str(w, r.consumer);
  Key(w, "run");
  Str(w, fmt::format("{:016x}", r.run));
  U(w, "seed", r.seed);

  Key(w, "generator");
  w.StartObject();
  Key(w, "writers");
  w.Int(r.writers);
  Key(w, "keys");
  w.Int(r.keys);
  Key(w, "rate");
  w.Double(r.rate);
  U(w, "acknowledged", o.acknowledged);
  U(w, "put_records_calls", r.put_records_calls);
  U(w, "put_record_calls", r.put_record_calls);
  U(w, "failed_calls", r.failed_calls);
  U(w, "throttled_records", r.throttled_records);
  U(w, "ambiguous_records", r.ambiguous_records);
  U(w, "unacknowledged", r.unacknowledged);
  Ms(w, "write_ms", r.write_time);
  Key(w, "written_per_second");
  w.Double(r.written_per_second());
  w.EndObject();

  Key(w, "nemesis");
  w.StartObject();
  Key(w, "reshards_requested");
  w.Int(r.reshards_requested);
  Key(w, "reshards_done");
  w.Int(r.reshards_done);
  Key(w, "server_restarts");
  w.Int(r.server_restarts_done);
  Key(w, "consumer_restarts");
  w.Int(r.consumer_restarts_done);
  Key(w, "update_shard_count_unsupported");
  w.Bool(r.update_shard_count_unsupported);
  Key(w, "shards_at_start");
  w.Int(r.shards_at_start);
  Key(w, "shards_at_end");
  w.Int(r.shards_at_end);
  Key(w, "events");
  w.StartArray();
  for (const NemesisEvent& e : o.events) {
    w.StartObject();
    Key(w, "index");
    w.Int(e.index);
    Key(w, "kind");
    Str(w, testing::ToString(e.kind));
    Ms(w, "at_ms", e.at);
    Ms(w, "took_ms", e.took);
    Key(w, "ok");
    w.Bool(e.ok);
    Ids(w, "closed", e.closed);
    Ids(w, "opened", e.opened);
    Key(w, "detail");
    Str(w, e.detail);
    U(w, "violations", e.violations);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  Key(w, "consumer_result");
  w.StartObject();
  U(w, "deliveries", o.deliveries);
  U(w, "distinct", o.distinct);
  Key(w, "drained");
  w.Bool(r.drained);
  Ms(w, "drain_ms", r.drain_time);
  Ms(w, "last_delivery_ms", o.last_delivery);
  Key(w, "checked_per_second");
  w.Double(r.checked_per_second());
  w.EndObject();

  Key(w, "checker");
  w.StartObject();
  U(w, "keys", o.keys);
  U(w, "lost", o.lost);
  U(w, "out_of_order", o.out_of_order);
  U(w, "violations_within_shard", o.violations_within_shard);
  U(w, "violations_unattributed", o.violations_unattributed);
  U(w, "duplicates", o.duplicates);
  U(w, "redelivered_after_restart", o.redelivered_after_restart);
  U(w, "written_twice", o.written_twice);
  U(w, "true_duplicates", o.true_duplicates);
  U(w, "unacknowledged_delivered", o.unacknowledged_delivered);
  U(w, "foreign", o.foreign);
  U(w, "restarts", o.restarts);
  Key(w, "latency_ms");
  w.StartObject();
  U(w, "samples", o.latency.count);
  Ms(w, "p50", o.latency.p50);
  Ms(w, "p99", o.latency.p99);
  Ms(w, "max", o.latency.max);
  w.EndObject();
  Key(w, "violations");
  w.StartArray();
  for (const testing::OrderViolation& v : o.violations) {
    w.StartObject();
    Key(w, "key");
    Str(w, testing::ProbePartitionKey(v.key));
    U(w, "counter", v.counter);
    U(w, "after_counter", v.after_counter);
    Key(w, "shard");
    Str(w, v.shard);
    Key(w, "after_shard");
    Str(w, v.after_shard);
    Key(w, "read_from");
    Str(w, v.read_from);
    Key(w, "event");
    w.Int(v.event);
    Ms(w, "at_ms", v.at);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "lost_examples");
  w.StartArray();
  for (const testing::LostRecord& l : o.lost_examples) {
    w.StartObject();
    Key(w, "key");
    Str(w, testing::ProbePartitionKey(l.key));
    U(w, "counter", l.counter);
    Key(w, "shard");
    Str(w, l.shard);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "duplicate_examples");
  w.StartArray();
  for (const testing::DuplicateExample& d : o.duplicate_examples) {
    w.StartObject();
    Key(w, "key");
    Str(w, testing::ProbePartitionKey(d.key));
    U(w, "counter", d.counter);
    Key(w, "kind");
    Str(w, testing::ToString(d.kind));
    Key(w, "read_from");
    Str(w, d.read_from);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  Key(w, "shards");
  w.StartArray();
  std::map<std::string, const ShardDescription*> described;
  for (const ShardDescription& s : r.shard_lineage) described[s.shard_id] = &s;
  for (const CheckOrderReport::ShardTimes& t : r.shard_times) {
    w.StartObject();
    Key(w, "shard_id");
    Str(w, t.shard_id);
    auto d = described.find(t.shard_id);
    if (d != described.end()) {
      Key(w, "parent");
      d->second->parent_shard_id ? Str(w, *d->second->parent_shard_id) : (void)w.Null();
      Key(w, "adjacent_parent");
      d->second->adjacent_parent_shard_id ? Str(w, *d->second->adjacent_parent_shard_id) : (void)w.Null();
      Key(w, "hash_key_range");
      Str(w, lineage::RangePercent(d->second->hash_key_range));
      Key(w, "state");
      Str(w, ToString(d->second->state));
    }
    Ms(w, "opened_ms", t.opened);
    Key(w, "closed_ms");
    t.closed ? (void)w.Double(absl::ToDoubleMilliseconds(*t.closed)) : (void)w.Null();
    U(w, "records_written", t.records_written);
    w.EndObject();
  }
  w.EndArray();

  Key(w, "resources");
  w.StartObject();
  Ms(w, "total_ms", r.total_time);
  Key(w, "cpu_seconds");
  w.Double(r.cpu_seconds);
  Key(w, "server_cpu_seconds");
  r.server_cpu_seconds ? (void)w.Double(*r.server_cpu_seconds) : (void)w.Null();
  w.EndObject();

  U(w, "problem_count", r.problem_count);
  Ids(w, "problems", r.problems);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string CheckOrderDot(const CheckOrderReport& r) {
  const OrderReport& o = r.order;
  std::map<std::string, const ShardDescription*> described;
  for (const ShardDescription& s : r.shard_lineage) described[s.shard_id] = &s;
  std::string out = fmt::format("digraph \"check-order\" {{\n");
  out += "  rankdir=TB; nodesep=0.3; ranksep=0.35;\n";
  out += "  node [fontname=\"monospace\", fontsize=10];\n";
  out += fmt::format(
      "  labelloc=t; label=\"{}\";\n",
      Escape(fmt::format("check-order {}: stream {}, consumer {}: {} records, {} lost, {} order violations{}",
                         r.ok() ? "PASS" : "FAIL", r.stream, r.consumer, o.acknowledged, o.lost, o.out_of_order,
                         o.violations_within_shard > 0
                             ? fmt::format(" ({} within one shard)", o.violations_within_shard)
                             : "")));
  // Shards.
  for (const CheckOrderReport::ShardTimes& t : r.shard_times) {
    auto d = described.find(t.shard_id);
    const bool open = d != described.end() && d->second->state == ShardState::kOpen;
    std::string label = t.shard_id;
    if (d != described.end()) label += "\\n" + lineage::RangePercent(d->second->hash_key_range);
    label += fmt::format("\\nopen +{:.1f}s", absl::ToDoubleSeconds(t.opened));
    if (t.closed) label += fmt::format(" .. +{:.1f}s", absl::ToDoubleSeconds(*t.closed));
    label += fmt::format("\\n{} records", t.records_written);
    out += fmt::format("  \"{}\" [shape=box, label=\"{}\"{}];\n", Escape(t.shard_id), label,
                       open ? ", style=\"bold,filled\", fillcolor=\"#d8f0d8\""
                            : ", style=\"filled\", fillcolor=\"#eeeeee\"");
  }
  // Events, chained in time order by invisible edges (the time axis).
  std::set<std::string> listed;
  for (const CheckOrderReport::ShardTimes& t : r.shard_times) listed.insert(t.shard_id);
  std::string previous;
  std::set<std::string> via_event;  // children drawn through an event
  for (const NemesisEvent& e : o.events) {
    const std::string id = fmt::format("event-{}", e.index);
    const bool bad = e.violations > 0;
    std::string label = fmt::format("#{} +{:.1f}s\\n{}", e.index, absl::ToDoubleSeconds(e.at), testing::ToString(e.kind));
    if (!e.ok) label += "\\n(failed)";
    if (bad) label += fmt::format("\\n{} order violation{}", e.violations, e.violations == 1 ? "" : "s");
    out += fmt::format("  \"{}\" [shape=ellipse, label=\"{}\", style=filled, fillcolor=\"{}\"{}];\n", id, label,
                       bad ? "#f4b0b0" : (e.ok ? "#ffffff" : "#dddddd"), bad ? ", color=\"#c00000\", penwidth=2" : "");
    for (const std::string& c : e.closed) {
      if (listed.count(c)) {
        out += fmt::format("  \"{}\" -> \"{}\"{};\n", Escape(c), id, bad ? " [color=\"#c00000\", penwidth=2]" : "");
      }
    }
    for (const std::string& c : e.opened) {
      if (listed.count(c)) {
        out += fmt::format("  \"{}\" -> \"{}\";\n", id, Escape(c));
        via_event.insert(c);
      }
    }
    if (!previous.empty()) out += fmt::format("  \"{}\" -> \"{}\" [style=invis, weight=10];\n", previous, id);
    previous = id;
  }
  // Lineage edges the events did not explain (a stream that existed before).
  for (const ShardDescription& s : r.shard_lineage) {
    if (via_event.count(s.shard_id)) continue;
    for (const std::optional<std::string>& p : {s.parent_shard_id, s.adjacent_parent_shard_id}) {
      if (p && listed.count(*p)) out += fmt::format("  \"{}\" -> \"{}\";\n", Escape(*p), Escape(s.shard_id));
    }
  }
  out += "}\n";
  return out;
}

}  // namespace tributary::cli
