// remote_store_tests: the store tests (tests/stream/*.cc, the objects
// store_tests links) over the remote backend. Before main, StoreFixture's
// opener (testing/store_util.h) is replaced by one that starts a
// tributary-server of its own with the options' transition delays, shard
// limit, throughput switch, region and account, and opens a remote Store
// talking to it. The fixture's `clock` drives only the client's waits.
#include <string>
#include <utility>
#include <vector>

#include "testing/remote_server.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/remote.h"

namespace tributary::testing {
namespace {

TestStore OpenRemoteTestStore(StoreOptions options, ManualClock* /*clock*/) {
  auto ms = [](absl::Duration d) { return std::to_string(absl::ToInt64Milliseconds(d)); };
  std::vector<std::string> flags = {"--create-delay", ms(options.create_delay), "--update-delay",
                                    ms(options.update_delay), "--delete-delay", ms(options.delete_delay),
                                    "--shard-limit", std::to_string(options.shard_limit),
                                    "--region", options.region, "--account-id", options.account_id};
  if (options.throughput.enabled) flags.push_back("--throughput-limits");
  std::shared_ptr<ListeningChild> server = StartTributaryServer(flags);
  RemoteOptions ro = LocalPeerOptions(server->url());
  ro.region = options.region;
  ro.account_id = options.account_id;
  ro.deaggregate_kpl_records = options.deaggregate_kpl_records;
  auto opened = Store::OpenRemote(ro);
  REQUIRE_OK(opened);
  return TestStore{std::move(server), std::move(opened).value()};
}

[[maybe_unused]] const bool kRemoteOpenerSet = (test_store_opener = &OpenRemoteTestStore, true);

}  // namespace

TEST_CASE("the store tests of this executable run on a remote store with a server of its own") {
  StoreFixture a;
  StoreFixture b;
  REQUIRE(a.server != nullptr);
  REQUIRE(b.server != nullptr);
  REQUIRE(a.server != b.server);
  // A stream created through one fixture is not in the other's server.
  REQUIRE_OK(a->CreateStream("only-in-a", 1));
  auto listed = b->ListStreams();
  REQUIRE_OK(listed);
  CHECK(listed->stream_names.empty());
}
}  // namespace tributary::testing
