// A real crash: a forked child writes to a durable store on the POSIX Env with
// sync on and reports every acknowledged record through a pipe; the parent
// kills it with SIGKILL at a random moment, reopens the store and checks that
// every acknowledged record is there, in order, exactly once, and that
// recovery removed at most a torn tail. The one place in the suite with a
// (short, bounded) real-time wait; nothing is asserted about timing.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "durable/durable_util.h"

namespace tributary::durable_test {
namespace {

std::string DataFor(long serial) { return Payload("serial-" + std::to_string(serial), 40 + serial % 900); }
std::string KeyFor(long serial) { return "key-" + std::to_string(serial % 23); }

// The child: writes records serial, serial+1, ... until killed. Each
// acknowledged record becomes one line "<serial> <shard> <sequence>\n"
// (a single write() of < PIPE_BUF bytes, so lines never interleave or tear).
[[noreturn]] void RunWriter(const std::string& dir, long serial, int fd) {
  StoreOptions o;
  o.segment_bytes = 16384;  // many rolls
  auto s = Store::Open(dir, o);
  if (!s.ok()) _exit(2);
  for (long i = serial;; ++i) {
    if (i % 7 == 0) {
      std::string k[3] = {KeyFor(i), KeyFor(i + 100), KeyFor(i + 200)};
      std::string v[3] = {DataFor(i), DataFor(i) + "/1", DataFor(i) + "/2"};
      std::vector<PutRecordInput> in;
      for (int j = 0; j < 3; ++j) in.push_back(testing::Input(k[j], v[j]));
      auto r = (*s)->PutBatch("s", in);
      if (!r.ok()) _exit(3);
      std::string lines;
      for (int j = 0; j < 3; ++j) {
        const auto& e = r->records[j];
        if (!e.ok()) _exit(4);
        lines += std::to_string(i) + "/" + std::to_string(j) + " " + e.shard_id->ToString() + " " +
                 e.sequence_number->ToString() + "\n";
      }
      if (::write(fd, lines.data(), lines.size()) != static_cast<ssize_t>(lines.size())) _exit(5);
    } else {
      auto r = (*s)->Put("s", testing::Input(KeyFor(i), DataFor(i)));
      if (!r.ok()) _exit(3);
      std::string line = std::to_string(i) + " " + r->shard_id.ToString() + " " +
                         r->sequence_number.ToString() + "\n";
      if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
    }
  }
}

struct Ack {
  std::string id;  // "<serial>" or "<serial>/<j>"
  std::string shard;
  std::string seq;
};

std::string ExpectedData(const std::string& id) {
  size_t slash = id.find('/');
  long serial = std::stol(id.substr(0, slash));
  std::string d = DataFor(serial);
  if (slash != std::string::npos && id.substr(slash + 1) != "0") d += "/" + id.substr(slash + 1);
  return d;
}

TEST_CASE("SIGKILL of a synced writer loses no acknowledged record", "[durable][crash]") {
  ScratchDir scratch;
  const std::string dir = scratch.path + "/store";
  {
    auto s = Store::Open(dir);
    REQUIRE_OK(s);
    REQUIRE_OK((*s)->CreateStream("s", 2));
  }
  std::mt19937 rng(Catch::rngSeed());
  std::vector<Ack> acked;
  long serial = 0;
  for (int round = 0; round < 10; ++round) {
    INFO("round " << round);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunWriter(dir, serial, fds[1]);
    }
    ::close(fds[1]);
    // Let it write: until the first acknowledgement (at most 2 s), then a
    // random 0..250 ms more; read the pipe meanwhile so the child never blocks.
    std::string buf;
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::seconds(2);
    bool got_first = false;
    std::chrono::steady_clock::time_point kill_at = deadline;
    while (std::chrono::steady_clock::now() < kill_at) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 5) > 0) {
        char tmp[4096];
        ssize_t n = ::read(fds[0], tmp, sizeof tmp);
        if (n <= 0) break;  // the child died on its own
        buf.append(tmp, static_cast<size_t>(n));
      }
      if (!got_first && !buf.empty()) {
        got_first = true;
        kill_at = std::min(deadline, std::chrono::steady_clock::now() +
                                         std::chrono::milliseconds(rng() % 250));
      }
    }
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    // What the child acknowledged before it died is still in the pipe.
    while (true) {
      char tmp[4096];
      ssize_t n = ::read(fds[0], tmp, sizeof tmp);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    INFO("child exit: " << (WIFSIGNALED(wstatus) ? "signal " + std::to_string(WTERMSIG(wstatus))
                                                 : "code " + std::to_string(WEXITSTATUS(wstatus))));
    REQUIRE(WIFSIGNALED(wstatus));  // it was writing, not failing
    std::istringstream in(buf);
    std::string line;
    long max_serial = serial - 1;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      Ack a;
      ls >> a.id >> a.shard >> a.seq;
      REQUIRE(!a.seq.empty());
      acked.push_back(a);
      max_serial = std::max(max_serial, std::stol(a.id.substr(0, a.id.find('/'))));
    }

    auto opened = Store::Open(dir);
    REQUIRE_OK(opened);
    Store& s = **opened;
    RecoveryReport rep = s.recovery();
    for (const std::string& p : rep.problems) {
      INFO("recovery problem: " << p);
      CHECK(p.find("torn tail") != std::string::npos);
    }
    CHECK(rep.truncated_bytes < uint64_t{64} * 1024);  // in uint64_t, the type of truncated_bytes
    auto all = AllRecords(s, "s");
    std::map<std::string, std::map<std::string, const Record*>> by_seq;  // shard -> seq -> record
    size_t present = 0;
    for (const auto& [id, recs] : all) {
      CheckStrictlyIncreasing(recs);
      for (const Record& r : recs) {
        ++present;
        CHECK(by_seq[id].emplace(r.sequence_number.ToString(), &r).second);
      }
    }
    std::map<std::string, std::string> last_seq;  // per shard, acknowledgement order
    for (const Ack& a : acked) {
      INFO("acknowledged " << a.id << " " << a.shard << " " << a.seq);
      auto it = by_seq[a.shard].find(a.seq);
      REQUIRE(it != by_seq[a.shard].end());
      CHECK(it->second->data == ExpectedData(a.id));
      if (last_seq.count(a.shard)) CHECK(last_seq[a.shard].compare(a.seq) < 0);  // 39-digit strings
      last_seq[a.shard] = a.seq;
    }
    // Beyond the acknowledged records, at most the batch in flight.
    CHECK(present <= acked.size() + 3 * static_cast<size_t>(round + 1));
    // Every record present is one the writer made, whole.
    for (const auto& [id, recs] : all) {
      for (const Record& r : recs) {
        CHECK(r.data.rfind("serial-", 0) == 0);
      }
    }
    serial = max_serial + 2;  // skip the possibly-in-flight serial
    if (serial % 7 == 0) ++serial;
  }
  CHECK(acked.size() > 10);
}

}  // namespace
}  // namespace tributary::durable_test
