// A tributary-server child process for tests of the remote backend: started
// on a kernel-picked loopback port, stopped (SIGTERM, then waited for) when
// the object goes away. Also a kinesalite child (node), for the tests that
// check the remote backend against an implementation written elsewhere.
//
// The server binary's path comes from the TRIBUTARY_SERVER_PATH compile
// definition (tests/remote/CMakeLists.txt).
#ifndef TRIBUTARY_TESTS_TESTING_REMOTE_SERVER_H_
#define TRIBUTARY_TESTS_TESTING_REMOTE_SERVER_H_

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "testing/listening_process.h"
#include "testing/status_matchers.h"
#include "tributary/remote.h"
#include "tributary/tributary.h"

namespace tributary::testing {

// A child process that prints "listening on http://HOST:PORT" when ready
// (testing/listening_process.h), its start checked by Catch2.
class ListeningChild {
 public:
  // Starts argv[0] with argv; FAILs unless the line comes within 20 s.
  explicit ListeningChild(const std::vector<std::string>& argv) {
    std::string error;
    process_ = ListeningProcess::Start(argv, {}, &error);
    if (!process_) FAIL(error);
  }

  const std::string& url() const { return process_->url(); }
  // SIGTERM and wait (SIGKILL after 10 s); also done on destruction.
  void Stop() { process_->Stop(); }

 private:
  std::unique_ptr<ListeningProcess> process_;
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

#ifdef TRIBUTARY_DYNALITE_JS
// dynalite (npm, installed by scripts/setup into tests/remote/peers) on
// 127.0.0.1, port 0; new tables stay CREATING for `create_table_ms`.
// FAILs if it is not installed.
inline std::unique_ptr<ListeningChild> StartDynalite(int create_table_ms = 0) {
  const std::string script = TRIBUTARY_DYNALITE_JS;
  const std::string modules = script.substr(0, script.rfind('/')) + "/node_modules/dynalite";
  if (access(modules.c_str(), F_OK) != 0) {
    FAIL("dynalite is not installed in " << modules << ": run scripts/setup");
  }
  return std::make_unique<ListeningChild>(
      std::vector<std::string>{TRIBUTARY_NODE, script, "0", std::to_string(create_table_ms)});
}
#endif

#ifdef TRIBUTARY_MOTO_SERVER_PY
// moto's server (DynamoDB, STS, ...; a pip package of the machine image) on
// 127.0.0.1, port 0, run by the python3 that CMake found importing moto
// (TRIBUTARY_MOTO_PYTHON, empty when none did). FAILs, saying so, when moto
// is missing: the tests that need it never pass silently.
inline std::unique_ptr<ListeningChild> StartMoto() {
  const std::string python = TRIBUTARY_MOTO_PYTHON;
  if (python.empty()) {
    FAIL("moto is not installed: no python3 that imports moto.server was found when CMake configured "
         "tests/remote (install the pip package moto[server], then configure again)");
  }
  return std::make_unique<ListeningChild>(std::vector<std::string>{python, TRIBUTARY_MOTO_SERVER_PY, "0"});
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
