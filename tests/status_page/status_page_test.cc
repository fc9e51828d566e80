// The status page rendered in-process (lib/endpoint/status_page.h): what it
// shows for a known store, its routes and its errors. browser_test.py loads
// the same page from tributary-server in headless chromium.
#include "endpoint/status_page.h"

#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary::endpoint {
namespace {

struct Fixture {
  ManualClock clock;
  std::unique_ptr<Store> store;
  Fixture() {
    StoreOptions o;
    o.clock = &clock;
    store = *Store::OpenInMemory(o);
    REQUIRE_OK(store->CreateStream("orders", 2));
    REQUIRE_OK(store->CreateStream("empty", 1));
    for (int i = 0; i < 30; ++i) REQUIRE_OK(store->Put("orders", {"key-" + std::to_string(i), "v"}));
    ASSIGN_OR_REQUIRE(StreamDescription d, store->DescribeStream({"orders"}));
    REQUIRE_OK(store->SplitShard("orders", "shardId-000000000000", d.shards[0].hash_key_range.Midpoint()));
    clock.Advance(absl::Seconds(90));
  }
};

TEST_CASE("the status page shows every stream, shard, record count and the lineage", "[status_page]") {
  Fixture f;
  Response r = RenderStatusPage(*f.store, "/ui");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  const std::string& h = r.body;
  CHECK(h.find("data-stream=\"orders\"") != std::string::npos);
  CHECK(h.find("data-stream=\"empty\"") != std::string::npos);
  ASSIGN_OR_REQUIRE(std::vector<ShardStatistics> stats, f.store->GetShardStatistics("orders"));
  REQUIRE(stats.size() == 4);
  for (const ShardStatistics& s : stats) {
    // Each shard's row carries its id and its record count.
    std::regex row("<tr data-shard=\"" + s.shard_id + "\">.*?<td class=\"num\">" +
                   std::to_string(s.records) + "</td>");
    CHECK(std::regex_search(h, row));
  }
  CHECK(h.find("<dt>records</dt><dd>30</dd>") != std::string::npos);
  CHECK(h.find("90 s ago") != std::string::npos);  // newest record, on the store's clock
  // The lineage picture is inline SVG with the record counts on the boxes
  // (Graphviz escapes '-' as &#45;).
  CHECK(h.find("<svg") != std::string::npos);
  CHECK(h.find("<?xml") == std::string::npos);
  CHECK(h.find(">shardId&#45;000000000003</text>") != std::string::npos);
  CHECK(std::regex_search(h, std::regex(">\\d+ records</text>")));
}

TEST_CASE("the status page shows an ordered consumer's lag from its checkpoints", "[status_page]") {
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory(o));
  REQUIRE_OK(store->CreateStream("s", 1));
  for (int i = 0; i < 10; ++i) {
    REQUIRE_OK(store->Put("s", {"k", "v"}));
    clock.Advance(absl::Seconds(1));
  }
  ConsumerOptions co;
  co.stream = "s";
  co.consumer_name = "billing";
  co.max_records_per_batch = 4;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Consumer> consumer, Consumer::Create(*store, co));
  std::optional<RecordBatch> batch;
  for (int i = 0; i < 5 && !batch; ++i) {
    ASSIGN_OR_REQUIRE(batch, consumer->Poll());
  }
  REQUIRE(batch.has_value());
  REQUIRE(batch->records.size() == 4);
  REQUIRE_OK(consumer->Checkpoint(*batch));
  clock.Advance(absl::Seconds(80));  // the 5th record arrived at +4 s: now 86 s old

  Response r = RenderStatusPage(*store, "/ui");
  REQUIRE(r.status == 200);
  INFO(r.body);
  CHECK(std::regex_search(r.body, std::regex(
      "<tr data-lag-consumer=\"billing\"><td>billing</td><td>[^<]*</td><td class=\"num\">1</td>"
      "<td class=\"num\">0</td><td class=\"num\">86 s</td><td class=\"num\" data-records-behind=\"6\">6</td>")));
}

TEST_CASE("the status page finds ordered consumers in a durable store's lease table", "[status_page]") {
  std::unique_ptr<Env> env = NewMemEnv();
  StoreOptions o;
  o.env = env.get();
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::Open("/db", o));
  REQUIRE_OK(store->CreateStream("s", 1));
  for (int i = 0; i < 3; ++i) REQUIRE_OK(store->Put("s", {"k", "v"}));
  ConsumerOptions co;
  co.stream = "s";
  co.consumer_name = "audit";
  ASSIGN_OR_REQUIRE(std::unique_ptr<Consumer> consumer, Consumer::Create(*store, co));
  std::optional<RecordBatch> batch;
  for (int i = 0; i < 5 && !batch; ++i) {
    ASSIGN_OR_REQUIRE(batch, consumer->Poll());
  }
  REQUIRE(batch.has_value());
  REQUIRE_OK(consumer->Checkpoint(*batch));  // everything read: no lag
  Response r = RenderStatusPage(*store, "/ui");
  REQUIRE(r.status == 200);
  INFO(r.body);
  CHECK(r.body.find("<tr data-lag-consumer=\"audit\">") != std::string::npos);
  CHECK(r.body.find("data-records-behind=\"0\"") != std::string::npos);
}

TEST_CASE("the status page routes /ui, /ui/lineage/STREAM.svg and 404s the rest", "[status_page]") {
  Fixture f;
  CHECK(IsStatusPagePath("/ui"));
  CHECK(IsStatusPagePath("/ui/"));
  CHECK(IsStatusPagePath("/ui?refresh=1"));
  CHECK(IsStatusPagePath("/ui/lineage/orders.svg"));
  CHECK_FALSE(IsStatusPagePath("/uix"));
  CHECK_FALSE(IsStatusPagePath("/"));
  CHECK_FALSE(IsStatusPagePath("/healthcheck"));

  CHECK(RenderStatusPage(*f.store, "/ui/").status == 200);
  Response svg = RenderStatusPage(*f.store, "/ui/lineage/orders.svg");
  REQUIRE(svg.status == 200);
  CHECK(svg.content_type == "image/svg+xml");
  CHECK(svg.body.find("<svg") != std::string::npos);
  CHECK(svg.body.find(">shardId&#45;000000000002</text>") != std::string::npos);
  CHECK(RenderStatusPage(*f.store, "/ui/lineage/nope.svg").status == 404);
  CHECK(RenderStatusPage(*f.store, "/ui/other").status == 404);
}

TEST_CASE("the status page decodes %XX in a lineage path and keeps malformed escapes as they are",
          "[status_page]") {
  Fixture f;
  // %64 is 'd', either case of hex digit.
  CHECK(RenderStatusPage(*f.store, "/ui/lineage/or%64ers.svg").status == 200);
  CHECK(RenderStatusPage(*f.store, "/ui/lineage/%6F%72ders.svg").status == 200);
  CHECK(RenderStatusPage(*f.store, "/ui/lineage/%6f%72ders.svg").status == 200);
  // Not two hex digits: the text stays (sscanf("%2x") used to take a sign or
  // a space, turning "%-1" into byte 0xFF and "% 4" into byte 4).
  for (std::string_view bad : {"x%-1y", "x% 4y", "x%+fy", "x%4gy", "x%zzy"}) {
    INFO(bad);
    Response r = RenderStatusPage(*f.store, "/ui/lineage/" + std::string(bad) + ".svg");
    CHECK(r.status != 200);
    CHECK(r.body.find(std::string(bad)) != std::string::npos);
  }
}

TEST_CASE("the status page escapes what it shows and survives an empty store", "[status_page]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory());
  Response r = RenderStatusPage(*store, "/ui");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("No streams yet.") != std::string::npos);
  Response nf = RenderStatusPage(*store, "/ui/<script>");
  CHECK(nf.status == 404);
  CHECK(nf.body.find("<script>") == std::string::npos);
  CHECK(nf.body.find("&lt;script&gt;") != std::string::npos);
}

}  // namespace
}  // namespace tributary::endpoint
