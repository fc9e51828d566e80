#include "endpoint/status_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "endpoint/flink_status_page.h"
#include "lineage/lineage_graph.h"
#include "tributary/lease_table.h"
#include "tributary/status.h"

namespace tributary::endpoint {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kSvg = "image/svg+xml";
constexpr std::string_view kLineagePrefix = "/ui/lineage/";

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A status message, escaped (absl::string_view is not std::string_view here).
std::string EscMsg(const absl::Status& s) { return Esc(std::string(s.message())); }

// Stream names are [a-zA-Z0-9_.-]; anything else is escaped in URLs anyway.
std::string UrlPart(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    // Exactly two hex digits; anything else ("%-1", "% 4", "%+f", which
    // sscanf's %x took) stays as it is.
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      const char* hex = s.data() + i + 1;
      auto [end, ec] = std::from_chars(hex, hex + 2, v, 16);
      if (ec == std::errc() && end == hex + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// A 39-digit sequence number shortened to its informative tail (the full
// number is in the cell's title).
std::string SeqCell(const std::optional<SequenceNumber>& seq) {
  if (!seq.has_value()) return "<td class=\"seq\"></td>";
  const std::string full = seq->ToString();
  return fmt::format("<td class=\"seq\" title=\"{}\">&hellip;{}</td>", full, full.substr(full.size() - 15));
}

std::string Time(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", t, absl::UTCTimeZone()); }

std::string Age(absl::Duration d) {
  if (d < absl::Seconds(1)) return fmt::format("{} ms", absl::ToInt64Milliseconds(d));
  if (d < absl::Minutes(2)) return fmt::format("{} s", absl::ToInt64Seconds(d));
  if (d < absl::Hours(2)) return fmt::format("{} min", absl::ToInt64Minutes(d));
  return fmt::format("{} h", absl::ToInt64Hours(d));
}

std::string Bytes(uint64_t b) {
  if (b < 10ull << 10) return fmt::format("{} B", b);
  if (b < 10ull << 20) return fmt::format("{:.1f} KiB", b / 1024.0);
  if (b < 10ull << 30) return fmt::format("{:.1f} MiB", b / 1048576.0);
  return fmt::format("{:.1f} GiB", b / 1073741824.0);
}

Response Page(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = kHtml;
  r.body = std::move(body);
  return r;
}

constexpr std::string_view kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1d1d1d; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.sub { color: #666; margin-top: 0; }
section.stream { border-top: 1px solid #ccc; padding-top: 0.6em; margin-top: 1.4em; }
h2 { font-size: 1.25em; margin: 0.3em 0; }
h3 { font-size: 1em; margin: 0.8em 0 0.2em; }
.badge { font-size: 0.7em; padding: 0.15em 0.5em; border-radius: 0.6em; background: #e4e4e4; vertical-align: middle; }
.ACTIVE, .OPEN { background: #d8f0d8; } .UPDATING, .CREATING { background: #fbeec1; }
.DELETING { background: #f6d0cc; } .CLOSED { background: #eeeeee; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; margin: 0.5em 0; }
dt { color: #666; } dd { margin: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }
th, td { white-space: nowrap; border-bottom: 1px solid #e2e2e2; padding: 0.25em 0.45em; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.seq { font-family: monospace; font-size: 0.85em; }
.lineage svg { max-width: 100%; height: auto; }
.note { color: #777; font-size: 0.85em; }
.scroll { overflow-x: auto; }
.error { color: #a40000; }
)";

absl::StatusOr<std::vector<std::string>> AllStreams(Store& store) {
  std::vector<std::string> names;
  ListStreamsRequest req;
  while (true) {
    absl::StatusOr<ListStreamsResult> page = store.ListStreams(req);
    if (!page.ok()) return page.status();
    for (std::string& n : page->stream_names) names.push_back(std::move(n));
    if (!page->has_more_streams || !page->next_token.has_value()) return names;
    req = ListStreamsRequest();
    req.next_token = page->next_token;
  }
}

absl::StatusOr<std::vector<ShardDescription>> AllShards(Store& store, const std::string& stream) {
  std::vector<ShardDescription> out;
  ListShardsRequest req;
  req.stream = stream;
  while (true) {
    absl::StatusOr<ListShardsResult> page = store.ListShards(req);
    if (!page.ok()) return page.status();
    for (ShardDescription& s : page->shards) out.push_back(std::move(s));
    if (!page->next_token.has_value()) return out;
    req = ListShardsRequest();
    req.next_token = page->next_token;
  }
}

std::vector<ConsumerDescription> AllConsumers(Store& store, const std::string& stream) {
  std::vector<ConsumerDescription> out;
  ListStreamConsumersRequest req;
  req.stream = stream;
  while (true) {
    absl::StatusOr<ListStreamConsumersResult> page = store.ListStreamConsumers(req);
    if (!page.ok()) return out;  // e.g. the stream is CREATING: no consumers to show
    for (ConsumerDescription& c : page->consumers) out.push_back(std::move(c));
    if (!page->next_token.has_value()) return out;
    req.next_token = page->next_token;
  }
}

// How far one ordered consumer (tributary/consumer.h) is behind on one
// stream, from its checkpoints in the store's lease table: for each lease
// not at SHARD_END, one GetRecords(limit 1) from the checkpoint tells the
// age of the first unprocessed record and how many follow it.
struct OrderedLag {
  std::string consumer;
  std::set<std::string> workers;  // holders of unexpired leases
  int reading = 0, finished = 0;
  int64_t max_millis = 0;
  int64_t records = 0;
  bool records_known = true;
};

std::vector<OrderedLag> OrderedConsumerLag(Store& store, const std::string& stream, absl::Time now) {
  std::vector<OrderedLag> out;
  absl::StatusOr<std::shared_ptr<LeaseTable>> table = LeaseTableFor(store);
  if (!table.ok()) return out;
  absl::StatusOr<std::vector<LeaseScope>> scopes = (*table)->ListScopes();
  if (!scopes.ok()) return out;
  for (const LeaseScope& scope : *scopes) {
    if (scope.stream_name != stream) continue;
    absl::StatusOr<std::vector<Lease>> leases = (*table)->ListLeases(scope);
    if (!leases.ok()) continue;
    OrderedLag lag;
    lag.consumer = scope.consumer_name;
    for (const Lease& l : *leases) {
      if (!l.owner.empty() && l.expires_at > now) lag.workers.insert(l.owner);
      if (l.checkpoint.is_shard_end()) {
        ++lag.finished;
        continue;
      }
      GetShardIteratorRequest req{stream, l.shard_id, ShardIteratorType::kTrimHorizon};
      if (l.checkpoint.has_sequence_number()) {
        // Inside a KPL aggregate, the aggregate itself is not done yet.
        req.type = l.checkpoint.is_within_aggregate() ? ShardIteratorType::kAtSequenceNumber
                                                      : ShardIteratorType::kAfterSequenceNumber;
        req.starting_sequence_number = l.checkpoint.sequence_number.ToString();
      } else if (l.checkpoint.kind == CheckpointPosition::Kind::kAtTimestamp) {
        req.type = ShardIteratorType::kAtTimestamp;
        req.timestamp = l.checkpoint.timestamp;
      }
      absl::StatusOr<std::string> it = store.GetShardIterator(req);
      if (!it.ok()) continue;  // the shard expired meanwhile
      ++lag.reading;
      absl::StatusOr<GetRecordsResult> r = store.GetRecords(*it, 1);
      if (!r.ok() || r->records.empty()) continue;  // caught up
      lag.max_millis = std::max(lag.max_millis,
                                absl::ToInt64Milliseconds(now - r->records[0].approximate_arrival_timestamp));
      if (r->records_behind_latest.has_value()) {
        lag.records += 1 + *r->records_behind_latest;
      } else {
        lag.records_known = false;
      }
    }
    out.push_back(std::move(lag));
  }
  return out;
}

// The lineage picture as inline SVG, with record counts on the boxes.
std::string LineageSvg(const std::string& stream, const std::vector<ShardDescription>& shards,
                       const std::map<std::string, const ShardStatistics*>& stats) {
  std::map<std::string, std::string> notes;
  for (const auto& [id, st] : stats) notes[id] = fmt::format("{} record{}", st->records, st->records == 1 ? "" : "s");
  const std::string dot = lineage::LineageDot(stream, shards, notes);
  absl::StatusOr<std::string> svg = lineage::RenderSvg(dot);
  if (!svg.ok()) {
    return fmt::format("<p class=\"error\">No picture: {}</p><details><summary>DOT source</summary><pre>{}</pre></details>",
                       EscMsg(svg.status()), Esc(dot));
  }
  size_t start = svg->find("<svg");  // drop the XML prolog and DOCTYPE for inlining
  return start == std::string::npos ? *svg : svg->substr(start);
}

std::string StreamSection(Store& store, const std::string& name, bool picture, absl::Time now) {
  std::string out = fmt::format("<section class=\"stream\" id=\"stream-{}\" data-stream=\"{}\">\n",
                                Esc(UrlPart(name)), Esc(name));
  absl::StatusOr<StreamDescriptionSummary> d = store.DescribeStreamSummary(name);
  if (!d.ok()) {
    return out + fmt::format("<h2>{}</h2><p class=\"error\">{}</p></section>\n", Esc(name),
                             EscMsg(d.status()));
  }
  const std::string status(ToString(d->stream_status));
  out += fmt::format("<h2>{} <span class=\"badge {}\">{}</span></h2>\n", Esc(name), status, status);
  absl::StatusOr<std::vector<ShardDescription>> shards = AllShards(store, name);
  absl::StatusOr<std::vector<ShardStatistics>> stats = store.GetShardStatistics(name);
  std::vector<ConsumerDescription> consumers = AllConsumers(store, name);
  out += "<dl>\n";
  out += fmt::format("<dt>ARN</dt><dd>{}</dd>\n", Esc(d->stream_arn));
  out += fmt::format("<dt>mode</dt><dd>{}</dd>\n", ToString(d->stream_mode));
  out += fmt::format("<dt>created</dt><dd>{} UTC</dd>\n", Time(d->stream_creation_timestamp));
  out += fmt::format("<dt>retention</dt><dd>{} hours</dd>\n", d->retention_period_hours);
  out += fmt::format("<dt>shards</dt><dd>{} open, {} listed (closed ones stay until their records expire)</dd>\n",
                     d->open_shard_count, shards.ok() ? shards->size() : 0);
  uint64_t total = 0;
  if (stats.ok()) {
    for (const ShardStatistics& s : *stats) total += s.records;
  }
  out += fmt::format("<dt>records</dt><dd>{}</dd>\n", total);
  out += fmt::format("<dt>consumers</dt><dd>{}</dd>\n", consumers.size());
  out += "</dl>\n";
  if (!shards.ok() || !stats.ok()) {
    return out + fmt::format("<p class=\"error\">{}</p></section>\n",
                             EscMsg(shards.ok() ? stats.status() : shards.status()));
  }
  std::map<std::string, const ShardStatistics*> by_id;
  for (const ShardStatistics& s : *stats) by_id[s.shard_id] = &s;

  if (picture) {
    out += "<div class=\"lineage\">" + LineageSvg(name, *shards, by_id) + "</div>\n";
  } else {
    out += fmt::format("<p><a href=\"/ui/lineage/{}.svg\">lineage picture</a></p>\n", UrlPart(name));
  }

  out += "<div class=\"scroll\"><table class=\"shards\">\n<tr><th>shard</th><th>state</th><th>hash keys</th><th>parents</th>"
         "<th>first sequence number</th><th>last sequence number</th><th>records</th><th>bytes</th>"
         "<th>newest record</th></tr>\n";
  for (const ShardDescription& s : *shards) {
    const ShardStatistics* st = by_id.count(s.shard_id) ? by_id[s.shard_id] : nullptr;
    std::string parents = Esc(s.parent_shard_id.value_or(""));
    if (s.adjacent_parent_shard_id) parents += "<br>+ " + Esc(*s.adjacent_parent_shard_id);
    std::optional<SequenceNumber> last = s.ending_sequence_number;
    if (!last && st != nullptr) last = st->last_sequence_number;
    const std::string state(ToString(s.state));
    out += fmt::format(
        "<tr data-shard=\"{}\"><td>{}</td><td><span class=\"badge {}\">{}</span></td><td>{}</td>"
        "<td>{}</td>{}{}<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
        Esc(s.shard_id), Esc(s.shard_id), state, state, lineage::RangePercent(s.hash_key_range),
        parents, SeqCell(s.starting_sequence_number), SeqCell(last), st ? st->records : 0,
        st ? Bytes(st->bytes) : "", st && st->newest_arrival ? Age(now - *st->newest_arrival) + " ago" : "");
  }
  out += "</table></div>\n";

  std::vector<OrderedLag> ordered = OrderedConsumerLag(store, name, now);
  if (!ordered.empty()) {
    out += "<h3>Ordered consumers (checkpoints in the lease table)</h3>\n"
           "<table class=\"lag\">\n<tr><th>consumer</th><th>workers</th><th>shards reading</th>"
           "<th>shards done</th><th>lag</th><th>records behind</th></tr>\n";
    for (const OrderedLag& l : ordered) {
      std::string workers;
      for (const std::string& w : l.workers) workers += (workers.empty() ? "" : ", ") + Esc(w);
      out += fmt::format(
          "<tr data-lag-consumer=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-records-behind=\"{}\">{}{}</td></tr>\n",
          Esc(l.consumer), Esc(l.consumer), workers.empty() ? "(none running)" : workers, l.reading,
          l.finished, Age(absl::Milliseconds(l.max_millis)), l.records, l.records,
          l.records_known ? "" : "+");
    }
    out += "</table>\n";
  }
  if (!consumers.empty()) {
    out += "<h3>Registered consumers (enhanced fan-out)</h3>\n"
           "<table class=\"consumers\">\n<tr><th>consumer</th><th>status</th><th>registered</th></tr>\n";
    for (const ConsumerDescription& c : consumers) {
      out += fmt::format("<tr data-consumer=\"{}\"><td>{}</td><td>{}</td><td>{} UTC</td></tr>\n",
                         Esc(c.consumer_name), Esc(c.consumer_name), ToString(c.consumer_status),
                         Time(c.consumer_creation_timestamp));
    }
    out += "</table>\n";
  }
  return out + "</section>\n";
}

Response Overview(Store& store, ApplicationManager* applications) {
  absl::StatusOr<std::vector<std::string>> names = AllStreams(store);
  if (!names.ok()) {
    return Page(500, fmt::format("<!doctype html><title>Tributary</title><p class=\"error\">{}</p>",
                                 EscMsg(names.status())));
  }
  Clock* clock = store.options().clock != nullptr ? store.options().clock : SystemClock();
  const absl::Time now = clock->Now();
  std::string body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<meta http-equiv=\"refresh\" content=\"10\">\n"
                     "<title>Tributary status</title>\n<style>" +
                     std::string(kStyle) + "</style></head>\n<body>\n";
  body += "<h1>Tributary status</h1>\n";
  body += fmt::format("<p class=\"sub\">{} stream{} &middot; {} UTC &middot; read-only, reloads every 10 s</p>\n",
                      names->size(), names->size() == 1 ? "" : "s", Time(now));
  if (applications != nullptr) body += ApplicationsSection(*applications);
  if (names->empty()) body += "<p>No streams yet.</p>\n";
  int n = 0;
  for (const std::string& name : *names) body += StreamSection(store, name, n++ < kMaxPictures, now);
  body += "</body></html>\n";
  return Page(200, std::move(body));
}

Response NotFound(std::string_view what) {
  return Page(404, fmt::format("<!doctype html><title>Not found</title><p>{} not found. "
                               "The status page is at <a href=\"/ui\">/ui</a>.</p>",
                               Esc(what)));
}

}  // namespace

bool IsStatusPagePath(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == kStatusPagePath || path.substr(0, kStatusPagePath.size() + 1) == "/ui/";
}

Response RenderStatusPage(Store& store, std::string_view target) {
  return RenderStatusPage(store, nullptr, target);
}

Response RenderStatusPage(const Endpoint& endpoint, std::string_view target) {
  return RenderStatusPage(*endpoint.store(), endpoint.applications(), target);
}

Response RenderStatusPage(Store& store, ApplicationManager* applications, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/ui" || path == "/ui/") return Overview(store, applications);
  if (applications != nullptr && path.substr(0, kApplicationsPagePrefix.size()) == kApplicationsPagePrefix) {
    return ApplicationPage(*applications, UrlDecode(path.substr(kApplicationsPagePrefix.size())), kStyle);
  }
  if (path.substr(0, kLineagePrefix.size()) == kLineagePrefix && path.size() > kLineagePrefix.size() + 4 &&
      path.substr(path.size() - 4) == ".svg") {
    const std::string stream =
        UrlDecode(path.substr(kLineagePrefix.size(), path.size() - kLineagePrefix.size() - 4));
    absl::StatusOr<std::vector<ShardDescription>> shards = AllShards(store, stream);
    if (!shards.ok()) {
      if (GetErrorType(shards.status()) == ErrorType::kResourceNotFound) return NotFound("Stream " + stream);
      return Page(500, EscMsg(shards.status()));
    }
    absl::StatusOr<std::string> svg = lineage::RenderSvg(lineage::LineageDot(stream, *shards));
    if (!svg.ok()) return Page(500, EscMsg(svg.status()));
    Response r;
    r.content_type = kSvg;
    r.body = std::move(*svg);
    return r;
  }
  return NotFound(path);
}

}  // namespace tributary::endpoint
