// Credentials and region from the usual AWS sources (tributary/remote.h).
// The shared credentials and config files are INI files, read with
// Boost.PropertyTree's INI parser.
#include <fmt/format.h>

#include <cstdlib>
#include <utility>

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "remote/credentials.h"
#include "tributary/remote.h"
#include "util/mutex.h"

namespace tributary {
namespace {

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

absl::Status NoCredentials(std::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kAccessDenied, message);
}

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(AwsCredentials c) : c_(std::move(c)) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    if (c_.access_key_id.empty() || c_.secret_access_key.empty()) {
      return NoCredentials("static credentials: access key id or secret access key is empty");
    }
    return c_;
  }
  std::string Describe() const override { return "static credentials"; }

 private:
  const AwsCredentials c_;
};

class EnvironmentProvider final : public CredentialsProvider {
 public:
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    std::optional<std::string> id = GetEnv("AWS_ACCESS_KEY_ID");
    std::optional<std::string> secret = GetEnv("AWS_SECRET_ACCESS_KEY");
    if (!id || !secret) {
      return NoCredentials("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set");
    }
    return AwsCredentials{*id, *secret, GetEnv("AWS_SESSION_TOKEN").value_or("")};
  }
  std::string Describe() const override { return "environment"; }
};

class ProfileProvider final : public CredentialsProvider {
 public:
  ProfileProvider(std::optional<std::string> profile, std::optional<std::string> file)
      : profile_(profile ? *profile : remote::DefaultProfileName()),
        file_(file ? *file : remote::CredentialsFilePath()) {}

  absl::StatusOr<AwsCredentials> GetCredentials() override {
    util::MutexLock l(&mu_);
    if (!loaded_) {
      loaded_ = true;
      result_ = Load();
    }
    return result_;
  }
  std::string Describe() const override {
    return fmt::format("profile {} in {}", profile_, file_);
  }

 private:
  absl::StatusOr<AwsCredentials> Load() const {
    // The credentials file names sections by profile; the config file uses
    // "profile NAME" for every profile but "default".
    auto from = [&](const std::string& path, const std::string& section) -> std::optional<AwsCredentials> {
      absl::StatusOr<remote::IniSection> s = remote::ReadIniSection(path, section);
      if (!s.ok() || !s->has_value()) return std::nullopt;
      const auto& kv = **s;
      auto get = [&](const char* k) -> std::string {
        auto it = kv.find(k);
        return it == kv.end() ? "" : it->second;
      };
      AwsCredentials c{get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token")};
      if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
      return c;
    };
    if (auto c = from(file_, profile_)) return *c;
    const std::string config_section = profile_ == "default" ? "default" : "profile " + profile_;
    if (auto c = from(remote::ConfigFilePath(), config_section)) return *c;
    return NoCredentials(fmt::format(
        "profile '{}': no aws_access_key_id/aws_secret_access_key in {} or {}", profile_, file_,
        remote::ConfigFilePath()));
  }

  const std::string profile_;
  const std::string file_;
  util::Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  absl::StatusOr<AwsCredentials> result_ ABSL_GUARDED_BY(mu_);
};

class ChainProvider final : public CredentialsProvider {
 public:
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    absl::StatusOr<AwsCredentials> env = env_.GetCredentials();
    if (env.ok()) return env;
    absl::StatusOr<AwsCredentials> prof = profile_.GetCredentials();
    if (prof.ok()) return prof;
    return NoCredentials(fmt::format("no AWS credentials found: {}; {}", std::string(env.status().message()),
                                     std::string(prof.status().message())));
  }
  std::string Describe() const override { return "environment, then " + profile_.Describe(); }

 private:
  EnvironmentProvider env_;
  ProfileProvider profile_{std::nullopt, std::nullopt};
};

}  // namespace

namespace remote {

std::string HomeDir() { return GetEnv("HOME").value_or(""); }

std::string DefaultProfileName() { return GetEnv("AWS_PROFILE").value_or("default"); }

std::string CredentialsFilePath() {
  if (auto f = GetEnv("AWS_SHARED_CREDENTIALS_FILE")) return *f;
  return HomeDir() + "/.aws/credentials";
}

std::string ConfigFilePath() {
  if (auto f = GetEnv("AWS_CONFIG_FILE")) return *f;
  return HomeDir() + "/.aws/config";
}

absl::StatusOr<IniSection> ReadIniSection(const std::string& path, const std::string& section) {
  namespace pt = boost::property_tree;
  pt::ptree tree;
  try {
    pt::read_ini(path, tree);
  } catch (const pt::ini_parser_error& e) {
    // A missing file is "no such section"; a malformed one is an error.
    if (std::string(e.message()).find("cannot open file") != std::string::npos) return IniSection();
    return InvalidArgumentError(fmt::format("{}: {}", path, e.what()));
  }
  // '\x01' as the path separator: section names may contain '.' and ' '.
  auto child = tree.get_child_optional(pt::ptree::path_type(section, '\x01'));
  if (!child) return IniSection();
  std::map<std::string, std::string> kv;
  for (const auto& [key, value] : *child) kv[key] = value.data();
  return IniSection(std::move(kv));
}

std::optional<std::string> RegionFromEnvironment() {
  if (auto r = GetEnv("AWS_REGION")) return r;
  if (auto r = GetEnv("AWS_DEFAULT_REGION")) return r;
  const std::string profile = DefaultProfileName();
  const std::string section = profile == "default" ? "default" : "profile " + profile;
  absl::StatusOr<IniSection> s = ReadIniSection(ConfigFilePath(), section);
  if (s.ok() && s->has_value()) {
    auto it = (*s)->find("region");
    if (it != (*s)->end() && !it->second.empty()) return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> EndpointFromEnvironment() {
  if (auto e = GetEnv("AWS_ENDPOINT_URL_KINESIS")) return e;
  return GetEnv("AWS_ENDPOINT_URL");
}

std::optional<std::string> ServiceEndpointFromEnvironment(std::string_view service) {
  const std::string name = "AWS_ENDPOINT_URL_" + std::string(service);
  if (auto e = GetEnv(name.c_str())) return e;
  return GetEnv("AWS_ENDPOINT_URL");
}

}  // namespace remote

std::shared_ptr<CredentialsProvider> StaticCredentialsProvider(AwsCredentials credentials) {
  return std::make_shared<StaticProvider>(std::move(credentials));
}

std::shared_ptr<CredentialsProvider> EnvironmentCredentialsProvider() {
  return std::make_shared<EnvironmentProvider>();
}

std::shared_ptr<CredentialsProvider> ProfileCredentialsProvider(std::optional<std::string> profile,
                                                                std::optional<std::string> file) {
  return std::make_shared<ProfileProvider>(std::move(profile), std::move(file));
}

std::shared_ptr<CredentialsProvider> DefaultCredentialsProvider() {
  return std::make_shared<ChainProvider>();
}

}  // namespace tributary
