// ServerProcess: the tributary-server child of `check-order --server`.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "check_order.h"

namespace tributary::cli {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(30);

void IgnoreResult(const absl::Status&) {}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(std::string binary, std::string data_dir,
                                                                    std::vector<std::string> extra_flags,
                                                                    std::string log_path) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->binary_ = std::move(binary);
  p->data_dir_ = std::move(data_dir);
  p->extra_flags_ = std::move(extra_flags);
  p->log_path_ = std::move(log_path);
  ServerProcess* raw = p.get();
  p->spawner_ = std::thread([raw] {
    std::unique_lock<std::mutex> l(raw->mu_);
    while (true) {
      raw->cv_.wait(l, [raw] { return raw->quit_ || raw->task_ != nullptr; });
      if (raw->task_ == nullptr) return;  // quit
      std::function<absl::Status()> task = std::move(raw->task_);
      raw->task_ = nullptr;
      l.unlock();
      absl::Status s = task();
      l.lock();
      raw->result_ = std::move(s);
      raw->cv_.notify_all();
    }
  });
  if (absl::Status s = p->OnSpawner([raw] { return raw->Spawn("0"); }); !s.ok()) return s;
  // "http://127.0.0.1:PORT": restarts reuse the port, so the clients'
  // endpoint stays valid.
  p->port_ = p->url_.substr(p->url_.rfind(':') + 1);
  return p;
}

ServerProcess::~ServerProcess() {
  Stop();
  {
    std::lock_guard<std::mutex> l(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (spawner_.joinable()) spawner_.join();
}

absl::Status ServerProcess::OnSpawner(std::function<absl::Status()> task) {
  std::unique_lock<std::mutex> l(mu_);
  task_ = std::move(task);
  result_.reset();
  cv_.notify_all();
  cv_.wait(l, [this] { return result_.has_value(); });
  absl::Status s = std::move(*result_);
  result_.reset();
  return s;
}

absl::Status ServerProcess::Spawn(const std::string& port) {
  std::vector<std::string> argv = {binary_, "--data-dir", data_dir_, "--host", "127.0.0.1", "--port", port,
                                   "--create-delay", "0", "--delete-delay", "0"};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(fmt::format("pipe: {}", std::strerror(errno)));
  const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    if (log >= 0) ::close(log);
    return absl::InternalError(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    if (log >= 0) dup2(log, STDERR_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  ::close(fds[1]);
  if (log >= 0) ::close(log);
  pid_ = pid;
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  bool exited = false;
  while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      exited = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  const std::string prefix = "listening on ";
  const size_t at = out.find(prefix), end = out.find('\n');
  if (at == std::string::npos || end == std::string::npos) {
    Reap(SIGKILL);
    return absl::UnavailableError(fmt::format("{} did not start: {} (its log: {})", binary_,
                                              exited ? "it exited" : "no 'listening on' line within 30 s",
                                              log_path_));
  }
  url_ = out.substr(at + prefix.size(), end - at - prefix.size());
  return absl::OkStatus();
}

void ServerProcess::Reap(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  int status = 0;
  rusage usage{};
  pid_t r = -1;
  if (signal == SIGTERM) {
    for (int i = 0; i < 1000; ++i) {
      r = wait4(pid_, &status, WNOHANG, &usage);
      if (r == pid_) break;
      usleep(10000);
    }
    if (r != pid_) ::kill(pid_, SIGKILL);
  }
  if (r != pid_) {
    while ((r = wait4(pid_, &status, 0, &usage)) < 0 && errno == EINTR) {
    }
  }
  if (r == pid_) {
    cpu_seconds_ += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  pid_ = -1;
}

absl::Status ServerProcess::Restart() {
  return OnSpawner([this] {
    Reap(SIGKILL);
    // The port was just released; another process could take it in
    // between, so try a few times before giving up.
    absl::Status s;
    for (int attempt = 0; attempt < 5; ++attempt) {
      s = Spawn(port_);
      if (s.ok()) return s;
      usleep(100000);
    }
    return s;
  });
}

void ServerProcess::Stop() {
  if (!spawner_.joinable()) return;
  IgnoreResult(OnSpawner([this] {
    Reap(SIGTERM);
    return absl::OkStatus();
  }));
}

}  // namespace tributary::cli
