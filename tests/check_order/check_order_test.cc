// `tributary check-order` end to end: the real CLI against tributary-server
// and kinesalite started on loopback by the tests, against a tributary-server
// the CLI starts (and kills with SIGKILL) itself, and against an in-process
// store. Each run's --json report is parsed and asserted on, so every test
// can fail: the ordered consumer must pass, the naive reader and a consumer
// that reorders on purpose must be caught.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rapidjson/document.h"
#include "testing/remote_server.h"
#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct CliRun {
  int exit_code = -1;
  std::string out, err, svg;
  rapidjson::Document json;
  std::string transcript;  // the command, its exit code and output: INFO it in the test
};

// Runs `tributary check-order ARGS --quiet --json F --svg F` in a scratch
// directory of its own.
CliRun CheckOrder(const std::vector<std::string>& args, bool svg = true) {
  static int next = 0;
  const fs::path dir = fs::path(TRIBUTARY_CHECK_ORDER_TEST_TMPDIR) /
                       (std::to_string(::getpid()) + "-" + std::to_string(next++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string cmd = std::string("'") + TRIBUTARY_CLI_PATH + "' check-order --quiet";
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " --json '" + (dir / "report.json").string() + "'";
  if (svg) cmd += " --svg '" + (dir / "lineage.svg").string() + "'";
  cmd += " >'" + (dir / "stdout").string() + "' 2>'" + (dir / "stderr").string() + "'";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(dir / "stdout");
  r.err = ReadFile(dir / "stderr");
  r.svg = ReadFile(dir / "lineage.svg");
  const std::string json = ReadFile(dir / "report.json");
  r.json.Parse(json.c_str());
  r.transcript = "$ " + cmd + "\n(exit " + std::to_string(r.exit_code) + ")\nstdout:\n" + r.out + "stderr:\n" + r.err;
  fs::remove_all(dir);
  return r;
}

uint64_t U(const rapidjson::Value& v, const char* object, const char* field) {
  REQUIRE(v.HasMember(object));
  REQUIRE(v[object].HasMember(field));
  return v[object][field].GetUint64();
}

// The assertions every run makes on its report.
void RequireReport(const CliRun& r) {
  REQUIRE_FALSE(r.json.HasParseError());
  REQUIRE(r.json.IsObject());
  CHECK(U(r.json, "generator", "acknowledged") > 0);
  CHECK(U(r.json, "consumer_result", "distinct") > 0);
}

int ViolatingEvents(const CliRun& r) {
  int n = 0;
  for (const auto& e : r.json["nemesis"]["events"].GetArray()) n += e["violations"].GetUint64() > 0 ? 1 : 0;
  return n;
}

// The ordered consumer passes with a dozen reshards.
void OrderedPasses(const std::string& url, bool has_update_shard_count, const std::string& seconds,
                   const std::string& rate) {
  CliRun r = CheckOrder({"--endpoint", url, "--seconds", seconds, "--reshards", "12", "--rate", rate, "--keys", "100",
                         "--consumer", "tributary", "--poll-interval", "20"});
  INFO(r.transcript);
  RequireReport(r);
  CHECK(r.exit_code == 0);
  CHECK(r.json["ok"].GetBool());
  CHECK(r.json["nemesis"]["reshards_done"].GetInt() == 12);
  CHECK(r.json["nemesis"]["update_shard_count_unsupported"].GetBool() == !has_update_shard_count);
  CHECK(U(r.json, "checker", "lost") == 0);
  CHECK(U(r.json, "checker", "out_of_order") == 0);
  CHECK(r.json["consumer_result"]["drained"].GetBool());
  CHECK(r.out.find("PASS") != std::string::npos);
  CHECK(r.svg.find("<svg") != std::string::npos);
}

// The naive reader (children read alongside their parents) breaks order,
// and the violations are pinned on reshards.
void NaiveCaught(const std::string& url) {
  CliRun r = CheckOrder({"--endpoint", url, "--seconds", "3", "--reshards", "12", "--rate", "2000", "--keys", "40",
                         "--consumer", "naive"});
  INFO(r.transcript);
  RequireReport(r);
  CHECK(r.exit_code == 1);
  CHECK_FALSE(r.json["ok"].GetBool());
  CHECK(U(r.json, "checker", "out_of_order") > 0);
  CHECK(U(r.json, "checker", "lost") == 0);
  CHECK(ViolatingEvents(r) > 0);
  CHECK(r.out.find("FAIL") != std::string::npos);
  CHECK(r.svg.find("order violation") != std::string::npos);
}

TEST_CASE("check-order on tributary-server: the ordered consumer passes a dozen reshards",
          "[check-order][tributary-server]") {
  auto server = StartTributaryServer();
  OrderedPasses(server->url(), /*has_update_shard_count=*/true, "3", "2000");
}

TEST_CASE("check-order on tributary-server: the naive reader is caught breaking order",
          "[check-order][tributary-server]") {
  auto server = StartTributaryServer();
  NaiveCaught(server->url());
}

TEST_CASE("check-order on kinesalite: the ordered consumer passes a dozen reshards", "[check-order][kinesalite]") {
  auto server = StartKinesalite();
  // kinesalite has no UpdateShardCount, and takes longer over a reshard
  // (one node process serves writers, readers and the nemesis): fewer
  // records compete with the dozen (a slow nemesis extends the write phase).
  OrderedPasses(server->url(), /*has_update_shard_count=*/false, "4", "1000");
}

TEST_CASE("check-order on kinesalite: the naive reader is caught breaking order", "[check-order][kinesalite]") {
  auto server = StartKinesalite();
  NaiveCaught(server->url());
}

TEST_CASE("check-order: a user's consumer that reorders on purpose is caught through its output stream",
          "[check-order][tributary-server][output]") {
  auto server = StartTributaryServer();
  {
    ASSIGN_OR_REQUIRE(auto store, Store::OpenRemote(LocalPeerOptions(server->url())));
    REQUIRE_OK(store->CreateStream("in", 2));
    REQUIRE_OK(store->CreateStream("out", 1));
    REQUIRE_OK(store->WaitUntilActive("in", absl::Seconds(30)));
    REQUIRE_OK(store->WaitUntilActive("out", absl::Seconds(30)));
  }
  ListeningChild consumer({TRIBUTARY_PYTHON, TRIBUTARY_REORDERING_CONSUMER, server->url(), "in", "out"});
  CliRun r = CheckOrder({"--endpoint", server->url(), "--stream", "in", "--consumer", "output:out", "--seconds", "3",
                         "--reshards", "4", "--rate", "500", "--keys", "20", "--poll-interval", "20"});
  INFO(r.transcript);
  consumer.Stop();
  RequireReport(r);
  CHECK(r.exit_code == 1);
  CHECK(r.json["consumer"].GetString() == std::string("output:out"));
  CHECK(U(r.json, "checker", "out_of_order") > 0);
  CHECK(U(r.json, "checker", "violations_within_shard") > 0);  // reversed pages: inside one shard
  CHECK(U(r.json, "checker", "lost") == 0);
  CHECK(r.json["consumer_result"]["drained"].GetBool());
  CHECK_FALSE(r.json["stream_created"].GetBool());
}

TEST_CASE("check-order with --server: SIGKILL restarts of tributary-server lose nothing",
          "[check-order][tributary-server][restart]") {
  CliRun r = CheckOrder({"--server", TRIBUTARY_SERVER_PATH, "--server-arg=--update-delay=0", "--seconds", "4",
                         "--reshards", "4", "--restarts", "2", "--rate", "1000", "--keys", "50", "--poll-interval",
                         "20"},
                        /*svg=*/false);
  INFO(r.transcript);
  RequireReport(r);
  CHECK(r.exit_code == 0);
  CHECK(r.json["nemesis"]["server_restarts"].GetInt() == 2);
  CHECK(U(r.json, "checker", "lost") == 0);
  CHECK(U(r.json, "checker", "out_of_order") == 0);
  CHECK(U(r.json, "checker", "restarts") == 2);
  CHECK(r.json["resources"]["server_cpu_seconds"].IsNumber());
}

TEST_CASE("check-order in process: a crashed consumer worker replays from its checkpoints, counted as such",
          "[check-order][in-process][restart]") {
  // No reshard, so no shard ever ends (and is checkpointed at SHARD_END),
  // and no checkpoint otherwise: each restart replays everything delivered.
  CliRun r = CheckOrder({"--seconds", "2", "--reshards", "0", "--consumer-restarts", "2", "--consumer-workers", "1",
                         "--checkpoint-every", "1000000", "--rate", "2000", "--keys", "50", "--poll-interval", "20"},
                        /*svg=*/false);
  INFO(r.transcript);
  RequireReport(r);
  CHECK(r.exit_code == 0);
  CHECK(r.json["nemesis"]["consumer_restarts"].GetInt() == 2);
  CHECK(U(r.json, "checker", "lost") == 0);
  CHECK(U(r.json, "checker", "out_of_order") == 0);
  CHECK(U(r.json, "checker", "redelivered_after_restart") > 0);
  CHECK(U(r.json, "checker", "true_duplicates") == 0);
}

TEST_CASE("check-order in process: the parents-first reader passes", "[check-order][in-process]") {
  CliRun r = CheckOrder({"--seconds", "1", "--reshards", "4", "--rate", "2000", "--keys", "50", "--consumer",
                         "parents-first", "--poll-interval", "20"});
  INFO(r.transcript);
  RequireReport(r);
  CHECK(r.exit_code == 0);
  CHECK(r.json["endpoint"].GetString() == std::string("in-process store"));
  CHECK(r.json["nemesis"]["reshards_done"].GetInt() == 4);
  CHECK(U(r.json, "checker", "out_of_order") == 0);
}

TEST_CASE("check-order: usage errors exit 2", "[check-order]") {
  CHECK(CheckOrder({"--consumer", "kcl"}, false).exit_code == 2);
  CHECK(CheckOrder({"--restarts", "1"}, false).exit_code == 2);
  CHECK(CheckOrder({"--rate", "fast"}, false).exit_code == 2);
  CHECK(CheckOrder({"--endpoint", "http://127.0.0.1:1", "--server", "x"}, false).exit_code == 2);
  CHECK(CheckOrder({"--consumer-restarts", "1", "--consumer", "naive"}, false).exit_code == 2);
  CHECK(CheckOrder({"--writers", "10", "--keys", "5"}, false).exit_code == 2);
}

}  // namespace
}  // namespace tributary::testing
