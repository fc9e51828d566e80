// ScopedEnv: sets and unsets environment variables for one scope and
// restores them afterwards (the credential and region tests). Not thread-safe:
// use it where no other thread reads the environment.
#ifndef TRIBUTARY_TESTS_TESTING_SCOPED_ENV_H_
#define TRIBUTARY_TESTS_TESTING_SCOPED_ENV_H_

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace tributary::testing {

class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    Save(name);
    setenv(name, value.c_str(), 1);
  }
  void Unset(const char* name) {
    Save(name);
    unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto& [name, old] : saved_) {
      if (old) {
        setenv(name.c_str(), old->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  void Save(const char* name) {
    if (saved_.count(name)) return;
    const char* v = getenv(name);
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_TESTING_SCOPED_ENV_H_
