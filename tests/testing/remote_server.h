// A tributary-server child process for tests of the remote backend: started
// on a kernel-picked loopback port, stopped (SIGTERM, then waited for) when
// the object goes away. Also a kinesalite child (node), for the tests that
// check the remote backend against an implementation written elsewhere.
//
// The server binary's path comes from the TRIBUTARY_SERVER_PATH compile
// definition (tests/remote/CMakeLists.txt).
#ifndef TRIBUTARY_TESTS_TESTING_REMOTE_SERVER_H_
#define TRIBUTARY_TESTS_TESTING_REMOTE_SERVER_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/remote.h"
#include "tributary/tributary.h"

namespace tributary::testing {

// A child process that prints "listening on http://HOST:PORT" when ready.
class ListeningChild {
 public:
  // Starts argv[0] with argv; REQUIREs the line within 20 s.
  explicit ListeningChild(const std::vector<std::string>& argv) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      int devnull = open("/dev/null", O_WRONLY);  // the servers' logs are noise here
      if (devnull >= 0) dup2(devnull, STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    const std::string prefix = "listening on ";
    size_t at = line.find(prefix);
    size_t end = line.find('\n');
    if (at == std::string::npos || end == std::string::npos) {
      Stop();
      FAIL("child " << argv[0] << " did not start: got '" << line << "'");
    }
    url_ = line.substr(at + prefix.size(), end - at - prefix.size());
  }
  ~ListeningChild() { Stop(); }
  ListeningChild(const ListeningChild&) = delete;
  ListeningChild& operator=(const ListeningChild&) = delete;

  const std::string& url() const { return url_; }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// tributary-server --in-memory on 127.0.0.1, port 0, instant transitions
// (later `flags` override), plus `flags`.
inline std::unique_ptr<ListeningChild> StartTributaryServer(std::vector<std::string> flags = {}) {
  std::vector<std::string> argv = {TRIBUTARY_SERVER_PATH, "--in-memory", "--host", "127.0.0.1",
                                   "--port", "0", "--threads", "2", "--create-delay", "0",
                                   "--update-delay", "0", "--delete-delay", "0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::make_unique<ListeningChild>(argv);
}

#ifdef TRIBUTARY_KINESALITE_JS
// kinesalite (npm, installed by scripts/setup into tests/remote/peers) on
// 127.0.0.1, port 0, instant transitions. FAILs if it is not installed.
inline std::unique_ptr<ListeningChild> StartKinesalite() {
  const std::string script = TRIBUTARY_KINESALITE_JS;
  const std::string modules = script.substr(0, script.rfind('/')) + "/node_modules/kinesalite";
  if (access(modules.c_str(), F_OK) != 0) {
    FAIL("kinesalite is not installed in " << modules << ": run scripts/setup");
  }
  return std::make_unique<ListeningChild>(std::vector<std::string>{TRIBUTARY_NODE, script, "0"});
}
#endif

// Options for a remote store on a local peer: fixed dummy credentials (no
// environment or file is read), the peer's default account id (so StreamArn needs no call), no retry waits longer
// than a few ms.
inline RemoteOptions LocalPeerOptions(const std::string& url) {
  RemoteOptions o;
  o.endpoint_url = url;
  o.region = "us-east-1";
  o.account_id = "000000000000";
  o.credentials = StaticCredentialsProvider({"AKIDTRIBUTARYTEST", "tributary-test-secret", ""});
  o.retry.initial_backoff = absl::Milliseconds(5);
  o.retry.max_backoff = absl::Milliseconds(50);
  o.poll_interval = absl::Milliseconds(5);
  return o;
}

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_TESTING_REMOTE_SERVER_H_
