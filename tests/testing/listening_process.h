// A child process that prints "listening on URL" on stdout once it serves
// (tributary-server, the kinesalite wrapper): started, its URL read, and
// stopped again when the object goes away. Shared by the tests
// (testing/remote_server.h wraps it in Catch2 checks) and by
// bench/remote_bench, so it uses no test framework.
//
// Thread safety: one thread at a time.
#ifndef TRIBUTARY_TESTS_TESTING_LISTENING_PROCESS_H_
#define TRIBUTARY_TESTS_TESTING_LISTENING_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace tributary::testing {

class ListeningProcess {
 public:
  struct Options {
    // Let the child's stderr through (its log); otherwise /dev/null.
    bool keep_stderr = false;
    // How long to wait for the "listening on" line.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(20);
  };

  // Starts argv[0] (searched in PATH) with argv. The child gets SIGKILL if
  // this process dies first, so an aborted run leaves nothing behind. On
  // failure returns nullptr and says why in *error (the child exited, or no
  // line in time: then it is stopped).
  static std::unique_ptr<ListeningProcess> Start(const std::vector<std::string>& argv, const Options& options,
                                                 std::string* error) {
    int fds[2];
    if (argv.empty() || pipe(fds) != 0) {
      *error = "cannot start a child (no command, or pipe failed)";
      return nullptr;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      *error = "fork failed";
      return nullptr;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent already died
      dup2(fds[1], STDOUT_FILENO);
      if (!options.keep_stderr) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, STDERR_FILENO);
      }
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    auto child = std::unique_ptr<ListeningProcess>(new ListeningProcess(pid));
    std::string line;
    bool exited = false;
    const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n <= 0) {  // the child exited (bad flags, missing binary)
        exited = true;
        break;
      }
      line.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    const std::string prefix = "listening on ";
    const size_t at = line.find(prefix);
    const size_t end = line.find('\n');
    if (at == std::string::npos || end == std::string::npos) {
      *error = argv[0] + " did not start: " + (exited ? "it exited" : "no 'listening on' line in time") +
               " (printed '" + line + "')";
      return nullptr;  // the destructor stops it
    }
    child->url_ = line.substr(at + prefix.size(), end - at - prefix.size());
    return child;
  }

  ~ListeningProcess() { Stop(); }
  ListeningProcess(const ListeningProcess&) = delete;
  ListeningProcess& operator=(const ListeningProcess&) = delete;

  const std::string& url() const { return url_; }

  // SIGTERM, then up to 10 s for it to exit, then SIGKILL. Idempotent.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; ++i) {
      gone = waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!gone) usleep(10000);
    }
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  // User + system CPU seconds the child has used so far (-1 if unknown).
  double CpuSeconds() const {
    std::ifstream f("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close_paren + 2));
    std::string field;
    // Fields after the command name start at 3 (state); utime and stime are 14 and 15.
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

 private:
  explicit ListeningProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_TESTING_LISTENING_PROCESS_H_
