// CheckOrder (tributary/testing/check_order.h) as a library call, on an
// in-memory store: what a program gets without the CLI.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/testing/check_order.h"
#include "tributary/tributary.h"

namespace tributary::testing {
namespace {

CheckOrderOptions Short() {
  CheckOrderOptions o;
  o.stream = "orders";
  o.duration = absl::Milliseconds(800);
  o.reshards = 4;
  o.keys = 20;
  o.rate = 2000;
  o.poll_interval = absl::Milliseconds(10);
  o.drain_timeout = absl::Seconds(20);
  o.seed = 42;
  return o;
}

TEST_CASE("CheckOrder in process: the ordered consumer passes, and the stream it created is gone",
          "[check-order][engine]") {
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory());
  CheckOrderOptions o = Short();
  std::vector<std::string> lines;
  o.progress = [&](std::string_view line) { lines.emplace_back(line); };
  ASSIGN_OR_REQUIRE(CheckOrderReport r, CheckOrder(*store, o));
  INFO(r.ToString());
  CHECK(r.ok());
  CHECK(r.stream_created);
  CHECK(r.reshards_done == 4);
  CHECK(r.order.acknowledged > 0);
  CHECK(r.order.lost == 0);
  CHECK(r.order.out_of_order == 0);
  CHECK(r.drained);
  CHECK(r.seed == 42);
  CHECK(r.order.events.size() == 4);
  CHECK_FALSE(r.shard_lineage.empty());
  CHECK(r.shard_times.size() == r.shard_lineage.size());
  uint64_t written = 0;
  for (const CheckOrderReport::ShardTimes& t : r.shard_times) written += t.records_written;
  CHECK(written == r.order.acknowledged);
  CHECK(r.ToString().find("PASS") != std::string::npos);
  CHECK_FALSE(lines.empty());  // progress and one line per nemesis event
  CHECK_OK(store->WaitUntilDeleted("orders", absl::Seconds(10)));
}

TEST_CASE("CheckOrder in process: records of an earlier run in the stream are skipped as foreign",
          "[check-order][engine]") {
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory());
  CheckOrderOptions o = Short();
  o.keep_stream = true;
  o.reshards = 1;
  ASSIGN_OR_REQUIRE(CheckOrderReport first, CheckOrder(*store, o));
  CHECK(first.ok());
  o.seed = 43;  // another run id
  ASSIGN_OR_REQUIRE(CheckOrderReport second, CheckOrder(*store, o));
  CHECK(second.ok());
  CHECK_FALSE(second.stream_created);
  CHECK(second.order.foreign >= first.order.acknowledged);
  CHECK(second.order.lost == 0);
}

TEST_CASE("CheckOrder: bad options and a missing output stream are refused before anything runs",
          "[check-order][engine]") {
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory());
  CheckOrderOptions o = Short();
  o.writers = 0;
  CHECK(CheckOrder(*store, o).status().code() == absl::StatusCode::kInvalidArgument);
  o = Short();
  o.server_restarts = 1;  // no restart_server
  CHECK(CheckOrder(*store, o).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_ERROR(store->DescribeStreamSummary("orders"), ErrorType::kResourceNotFound);  // never created
  o = Short();
  o.consumer = CheckConsumer::kOutput;
  o.output_stream = "nowhere";
  CHECK_ERROR(CheckOrder(*store, o), ErrorType::kResourceNotFound);
  CHECK_OK(store->WaitUntilDeleted("orders", absl::Seconds(10)));  // not left behind
}

}  // namespace
}  // namespace tributary::testing
