// Tests of the `tributary` command-line tool (tools/tributary, docs/CLI.md).
//
// Each test builds a small durable store through the public API in a fresh
// directory under the build tree, closes it, runs the real binary on it and
// checks stdout, stderr and the exit code:
//   stream "orders": 2 shards; shard 0 gets text, binary and filler records
//   (4 KiB segments, so it spans several); then shard 0 is split (children
//   2 and 3) and 3 is merged with 1 (child 4), so the lineage has both a
//   split and a merge; a few records go to the children.
//   stream "empty": 1 shard, no records.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/tributary.h"

#ifndef TRIBUTARY_CLI_PATH
#error "TRIBUTARY_CLI_PATH must name the tributary binary"
#endif
#ifndef TRIBUTARY_CLI_TEST_TMPDIR
#error "TRIBUTARY_CLI_TEST_TMPDIR must name a scratch directory under the build tree"
#endif

namespace tributary::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kTextRecords = 10;    // "hello 0" .. "hello 9", keys key-0 .. key-9
constexpr int kFillerRecords = 100;
// Records of shard 0: text, then binary, "base64:"-prefixed text, a tab, then filler.
constexpr int kShard0Records = kTextRecords + 3 + kFillerRecords;
constexpr int kShard1Records = 5;
constexpr int kChildRecords = 4;  // to shard 2 (key 0) and 4 (key max)

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  return lines;
}

bool Contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// A scratch directory per test case, emptied first and removed afterwards.
class Scratch {
 public:
  Scratch() {
    static int next = 0;
    dir_ = fs::path(TRIBUTARY_CLI_TEST_TMPDIR) / fmt_id(::getpid(), next++);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }

  // Runs the CLI with `args` (each single-quoted for the shell).
  Result Cli(const std::vector<std::string>& args) const {
    std::string cmd = "'" + std::string(TRIBUTARY_CLI_PATH) + "'";
    for (const std::string& a : args) cmd += " '" + a + "'";
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    cmd += " >'" + out.string() + "' 2>'" + err.string() + "'";
    int status = std::system(cmd.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    UNSCOPED_INFO("$ tributary ... (exit " << r.exit_code << ")\nstdout:\n" << r.out << "stderr:\n" << r.err);
    return r;
  }

 private:
  static std::string fmt_id(int pid, int n) { return std::to_string(pid) + "-" + std::to_string(n); }
  fs::path dir_;
};

// The store described at the top of the file, in <scratch>/store.
struct TestStore : Scratch {
  TestStore() {
    store_dir = (dir() / "store").string();
    StoreOptions options;
    options.segment_bytes = 4096;
    options.sync = Sync::kNo;
    auto opened = Store::Open(store_dir, options);
    REQUIRE_OK(opened);
    Store& s = **opened;
    REQUIRE_OK(s.CreateStream("orders", 2));
    REQUIRE_OK(s.CreateStream("empty", 1));
    REQUIRE_OK(s.AddTagsToStream("orders", {{"env", "test"}}));
    auto put = [&](std::string key, std::string data, std::string_view hash) {
      auto r = s.Put("orders", PutRecordInput{key, data, hash});
      REQUIRE_OK(r);
      return r->sequence_number.ToString();
    };
    constexpr std::string_view kLow = "0";
    constexpr std::string_view kHigh = "340282366920938463463374607431768211455";
    for (int i = 0; i < kTextRecords; ++i) {
      shard0_seqs.push_back(put("key-" + std::to_string(i), "hello " + std::to_string(i), kLow));
    }
    shard0_seqs.push_back(put("bin", std::string("\x00\x01\xff", 3), kLow));
    shard0_seqs.push_back(put("pfx", "base64:not really", kLow));
    shard0_seqs.push_back(put("tab", "a\tb", kLow));
    for (int i = 0; i < kFillerRecords; ++i) {
      shard0_seqs.push_back(put("filler-" + std::to_string(i), std::string(180, 'x'), kLow));
    }
    for (int i = 0; i < kShard1Records; ++i) put("one-" + std::to_string(i), "to shard 1", kHigh);
    REQUIRE_OK(s.SplitShard("orders", "shardId-000000000000", HashKeyRange{HashKey::Min(), HashKey(absl::MakeUint128(1ull << 63, 0) - 1)}.Midpoint()));
    REQUIRE_OK(s.MergeShards("orders", "shardId-000000000003", "shardId-000000000001"));
    for (int i = 0; i < kChildRecords / 2; ++i) put("low-" + std::to_string(i), "to shard 2", kLow);
    for (int i = 0; i < kChildRecords / 2; ++i) put("high-" + std::to_string(i), "to shard 4", kHigh);
  }

  // The segment files of `shard` of "orders", in order.
  std::vector<fs::path> Segments(int shard) const {
    std::vector<fs::path> segs;
    for (const auto& stream_dir : fs::directory_iterator(fs::path(store_dir) / "streams")) {
      if (stream_dir.path().filename().string().rfind("orders.", 0) != 0) continue;
      for (const auto& f : fs::directory_iterator(stream_dir.path() / std::to_string(shard))) {
        if (f.path().extension() == ".seg") segs.push_back(f.path());  // not the .idx files
      }
    }
    std::sort(segs.begin(), segs.end());
    return segs;
  }

  std::string store_dir;
  std::vector<std::string> shard0_seqs;
};

void FlipByte(const fs::path& p, uint64_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x01));
}

// Offset of a data byte of the first record of a segment: 32-byte segment
// header, 12-byte frame header, 19-byte fixed body, then the key (docs/FORMAT.md).
constexpr uint64_t kFirstRecordKeyOffset = 32 + 12 + 19;

TEST_CASE("streams lists every stream with its status and mode", "[cli]") {
  TestStore t;
  Result r = t.Cli({"streams", t.store_dir});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("STREAM", 0) == 0);
  CHECK(std::regex_search(lines[1], std::regex(R"(^empty +ACTIVE +PROVISIONED +1 +\d{4}-\d\d-\d\dT)")));
  CHECK(std::regex_search(lines[2], std::regex(R"(^orders +ACTIVE +PROVISIONED +2 +\d{4}-)")));
  CHECK(r.err.empty());
}

TEST_CASE("describe prints a stream's settings, shard counts and tags", "[cli]") {
  TestStore t;
  Result r = t.Cli({"describe", t.store_dir, "orders"});
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.out, "name:             orders\n"));
  CHECK(Contains(r.out, "arn:              arn:aws:kinesis:us-east-1:000000000000:stream/orders\n"));
  CHECK(Contains(r.out, "status:           ACTIVE\n"));
  CHECK(Contains(r.out, "retention:        24 hours\n"));
  CHECK(Contains(r.out, "open shards:      2\n"));
  CHECK(Contains(r.out, "shards:           5 (3 closed or expired)\n"));
  CHECK(Contains(r.out, "tags:             env=test\n"));

  SECTION("an unknown stream is an error") {
    Result u = t.Cli({"describe", t.store_dir, "nope"});
    CHECK(u.exit_code == 1);
    CHECK(Contains(u.err, "nope"));
    CHECK(Contains(u.err, "not found"));
  }
}

TEST_CASE("shards draws the lineage as a tree, merge children under both parents", "[cli]") {
  TestStore t;
  Result r = t.Cli({"shards", t.store_dir, "orders"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] == "orders: 5 shards, 2 open");
  const std::string seq = R"(\d{56})";  // Kinesis' layout, the default
  CHECK(std::regex_search(lines[1], std::regex("^shardId-000000000000 +0.00%-50.00% +CLOSED +" + seq + R"(\.\.)" + seq + "$")));
  CHECK(std::regex_search(lines[2], std::regex(R"(^\|-- shardId-000000000002 +0.00%-25.00% +OPEN +)" + seq + R"(\.\.$)")));
  CHECK(std::regex_search(lines[3], std::regex(R"(^`-- shardId-000000000003 +25.00%-50.00% +CLOSED )")));
  CHECK(std::regex_search(lines[4], std::regex(R"(^    `-- shardId-000000000004 +25.00%-100.00% +OPEN )")));
  CHECK(std::regex_search(lines[5], std::regex(R"(^shardId-000000000001 +50.00%-100.00% +CLOSED )")));
  CHECK(lines[6] == "`-- shardId-000000000004 (merge child, drawn under shardId-000000000003)");

  SECTION("--dot prints a Graphviz digraph") {
    Result d = t.Cli({"shards", t.store_dir, "orders", "--dot"});
    REQUIRE(d.exit_code == 0);
    CHECK(d.out.rfind("digraph \"orders\" {\n", 0) == 0);
    CHECK(Contains(d.out, "\"shardId-000000000000\" -> \"shardId-000000000002\";\n"));
    CHECK(Contains(d.out, "\"shardId-000000000000\" -> \"shardId-000000000003\";\n"));
    CHECK(Contains(d.out, "\"shardId-000000000003\" -> \"shardId-000000000004\";\n"));
    CHECK(Contains(d.out, "\"shardId-000000000001\" -> \"shardId-000000000004\" [style=dashed"));
    CHECK(Contains(d.out, "\"shardId-000000000004\" [label=\"shardId-000000000004\\n25.00%-100.00%\\nOPEN\""));
    CHECK(d.out.substr(d.out.size() - 2) == "}\n");
  }
  SECTION("--svg draws it with Graphviz' dot") {
    Result d = t.Cli({"shards", t.store_dir, "orders", "--svg"});
    REQUIRE(d.exit_code == 0);
    CHECK(Contains(d.out, "<svg"));
    CHECK(d.out.find("</svg>") != std::string::npos);
    for (int i = 0; i <= 4; ++i) CHECK(Contains(d.out, ">shardId&#45;00000000000" + std::to_string(i) + "</text>"));  // dot escapes -
    CHECK(Contains(d.out, ">merge</text>"));
    CHECK(Contains(d.out, ">25.00%&#45;100.00%</text>"));
  }
  SECTION("--dot and --svg exclude each other") {
    Result d = t.Cli({"shards", t.store_dir, "orders", "--dot", "--svg"});
    CHECK(d.exit_code == 2);
    CHECK(Contains(d.err, "exclude each other"));
  }
}

TEST_CASE("dump prints one record per line, text as is and bytes as base64", "[cli]") {
  TestStore t;
  Result r = t.Cli({"dump", t.store_dir, "orders", "shardId-000000000000"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == static_cast<size_t>(kShard0Records));
  const std::regex line(R"(^(\d{56})\t(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]+)\t([^\t]*)$)");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    REQUIRE(std::regex_match(lines[i], m, line));
    CHECK(m[1] == t.shard0_seqs[i]);
  }
  CHECK(Contains(lines[0], "\tkey-0\thello 0"));
  CHECK(Contains(lines[10], "\tbin\tbase64:AAH/"));
  CHECK(Contains(lines[11], "\tpfx\tbase64:YmFzZTY0Om5vdCByZWFsbHk="));  // would look encoded
  CHECK(Contains(lines[12], "\ttab\tbase64:YQli"));                       // a tab would split the line

  SECTION("--hex prints all data in hex") {
    Result h = t.Cli({"dump", t.store_dir, "orders", "0", "--hex", "--limit", "11"});
    REQUIRE(h.exit_code == 0);
    std::vector<std::string> hl = Lines(h.out);
    REQUIRE(hl.size() == 11);
    CHECK(Contains(hl[0], "\tkey-0\thex:68656c6c6f2030"));
    CHECK(Contains(hl[10], "\tbin\thex:0001ff"));
  }
  SECTION("--from starts at a sequence number, --limit stops early") {
    Result f = t.Cli({"dump", t.store_dir, "orders", "shardId-000000000000", "--from", t.shard0_seqs[5],
                      "--limit=3"});
    REQUIRE(f.exit_code == 0);
    std::vector<std::string> fl = Lines(f.out);
    REQUIRE(fl.size() == 3);
    CHECK(fl[0].rfind(t.shard0_seqs[5] + "\t", 0) == 0);
    CHECK(Contains(fl[2], "\tkey-7\thello 7"));
  }
  SECTION("a child shard holds only its own records") {
    Result c = t.Cli({"dump", t.store_dir, "orders", "2"});
    REQUIRE(c.exit_code == 0);
    CHECK(Lines(c.out).size() == kChildRecords / 2);
  }
  SECTION("an unknown shard is an error") {
    Result u = t.Cli({"dump", t.store_dir, "orders", "shardId-000000000042"});
    CHECK(u.exit_code == 1);
    CHECK(Contains(u.err, "shardId-000000000042"));
  }
}

TEST_CASE("stats counts records, bytes and segments per shard", "[cli]") {
  TestStore t;
  Result r = t.Cli({"stats", t.store_dir});
  REQUIRE(r.exit_code == 0);
  // label -> {segments, records}
  std::map<std::string, std::pair<int, int>> rows;
  for (const std::string& l : Lines(r.out)) {
    std::smatch m;
    if (std::regex_match(l, m, std::regex(R"(^(\S+|  \S+) +(\d+) +(\d+) +(\d+) +(\d+)$)"))) {
      rows[m[1]] = {std::stoi(m[2]), std::stoi(m[3])};
    }
  }
  REQUIRE(rows.count("orders"));
  CHECK(rows["orders"].second == kShard0Records + kShard1Records + kChildRecords);
  CHECK(rows["empty"] == std::make_pair(1, 0));
  CHECK(rows["  shardId-000000000000"].second == kShard0Records);
  CHECK(rows["  shardId-000000000000"].first == static_cast<int>(t.Segments(0).size()));
  CHECK(rows["  shardId-000000000000"].first > 2);
  CHECK(rows["  shardId-000000000001"].second == kShard1Records);
  CHECK(rows["  shardId-000000000003"].second == 0);
}

TEST_CASE("verify passes a clean store and fails after a flipped byte", "[cli][corruption]") {
  TestStore t;
  Result clean = t.Cli({"verify", t.store_dir});
  REQUIRE(clean.exit_code == 0);
  CHECK(clean.out.rfind("OK: 2 stream directories, 6 shards,", 0) == 0);
  CHECK(Contains(clean.out, std::to_string(kShard0Records + kShard1Records + kChildRecords) + " records checked: 0 errors, 0 warnings"));

  std::vector<fs::path> segs = t.Segments(0);
  REQUIRE(segs.size() > 2);

  SECTION("in a sealed segment: verify and reads report it") {
    FlipByte(segs[0], kFirstRecordKeyOffset + 2);
    Result v = t.Cli({"verify", t.store_dir});
    CHECK(v.exit_code == 1);
    CHECK(Contains(v.out, "ERROR   streams/orders."));
    CHECK(Contains(v.out, segs[0].filename().string() + ": corrupt record at offset 32 (checksum mismatch)"));
    CHECK(Contains(v.out, "CORRUPT: "));
    CHECK(Contains(v.out, ": 1 error,"));

    Result d = t.Cli({"dump", t.store_dir, "orders", "0"});
    CHECK(d.exit_code == 1);
    CHECK(Contains(d.err, "checksum mismatch"));
    CHECK(d.out.empty());  // bad bytes are never printed as data
  }
  SECTION("in the middle of the active segment: an error, not a torn tail") {
    FlipByte(segs.back(), kFirstRecordKeyOffset + 2);
    Result v = t.Cli({"verify", t.store_dir});
    CHECK(v.exit_code == 1);
    CHECK(Contains(v.out, segs.back().filename().string() + ": corrupt record at offset 32 (checksum mismatch)"));
  }
  SECTION("in a segment header") {
    FlipByte(segs[1], 12);  // shard index
    Result v = t.Cli({"verify", t.store_dir});
    CHECK(v.exit_code == 1);
    CHECK(Contains(v.out, segs[1].filename().string() + ": segment header checksum mismatch"));
  }
  SECTION("a torn tail is a warning, and the tool leaves it on disk") {
    const uint64_t size = fs::file_size(segs.back());
    { std::ofstream(segs.back(), std::ios::app | std::ios::binary) << std::string("\x07\x00\x00", 3); }
    Result v = t.Cli({"verify", t.store_dir});
    CHECK(v.exit_code == 0);
    CHECK(Contains(v.out, "warning " ));
    CHECK(Contains(v.out, "torn tail at offset " + std::to_string(size) + " (partial record header): 3 bytes"));
    CHECK(Contains(v.out, "0 errors, 1 warning\n"));
    Result d = t.Cli({"dump", t.store_dir, "orders", "0"});
    CHECK(d.exit_code == 0);
    CHECK(Lines(d.out).size() == static_cast<size_t>(kShard0Records));
    CHECK(Contains(d.err, "torn tail"));
    CHECK(fs::file_size(segs.back()) == size + 3);  // not truncated
  }
}

TEST_CASE("a store open in another process is refused with a clear error", "[cli]") {
  TestStore t;
  auto held = Store::Open(t.store_dir);
  REQUIRE_OK(held);
  for (const char* cmd : {"streams", "verify", "stats"}) {
    Result r = t.Cli({cmd, t.store_dir});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "is in use by another process"));
  }
}

TEST_CASE("a directory that is not a store is refused and left alone", "[cli]") {
  Scratch s;
  const std::string empty = (s.dir() / "empty").string();
  fs::create_directories(empty);
  for (const char* cmd : {"streams", "verify", "stats"}) {
    Result r = s.Cli({cmd, empty});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "is not a tributary store"));
  }
  CHECK(fs::is_empty(empty));
  Result missing = s.Cli({"streams", (s.dir() / "missing").string()});
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "is not a directory"));
  CHECK(!fs::exists(s.dir() / "missing"));
}

TEST_CASE("usage errors exit with code 2 and say what is wrong", "[cli][usage]") {
  Scratch s;
  const std::string d = s.dir().string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "usage: tributary <command>"},
      {{"frobnicate", d}, "unknown command 'frobnicate'"},
      {{"streams"}, "streams: expected 1 argument, got 0"},
      {{"describe", d}, "usage: tributary describe DIR STREAM"},
      {{"dump", d, "orders"}, "dump: expected 3 arguments, got 2"},
      {{"shards", d, "orders", "--hex"}, "shards: unknown flag '--hex'"},
      {{"shards", d, "orders", "--dot=yes"}, "shards: --dot takes no value"},
      {{"dump", d, "orders", "0", "--limit"}, "dump: --limit needs a value"},
      {{"dump", d, "orders", "0", "--limit", "0"}, "dump: --limit wants a positive integer, got '0'"},
      {{"dump", d, "orders", "0", "--from", "12ab"}, "dump: --from wants a decimal sequence number"},
      {{"dump", d, "orders", "99999999999"}, "dump: shard number 99999999999 is out of range"},
  };
  for (const Case& c : cases) {
    Result r = s.Cli(c.args);
    CHECK(r.exit_code == 2);
    CHECK(Contains(r.err, c.message));
    CHECK(r.out.empty());
  }
  Result help = s.Cli({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(Contains(help.out, "verify   DIR"));
  Result dump_help = s.Cli({"dump", "--help"});
  CHECK(dump_help.exit_code == 0);
  CHECK(Contains(dump_help.out, "usage: tributary dump DIR STREAM SHARD [--from SEQ] [--limit N] [--hex]"));
  Result version = s.Cli({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == "tributary " TRIBUTARY_VERSION "\n");
}

}  // namespace
}  // namespace tributary::testing
