// Credentials and region from the usual AWS sources (tributary/remote.h).
// The shared credentials and config files are INI files, read with
// Boost.PropertyTree's INI parser.
#include <fmt/format.h>

#include <cstdlib>
#include <utility>

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "remote/credential_cache.h"
#include "remote/credentials.h"
#include "tributary/remote.h"
#include "util/mutex.h"
#include "util/status_macros.h"

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
    AwsCredentials c{*id, *secret, GetEnv("AWS_SESSION_TOKEN").value_or("")};
    if (auto e = GetEnv("AWS_CREDENTIAL_EXPIRATION")) {
      std::optional<absl::Time> t = remote::ParseRfc3339(*e);
      if (!t) return NoCredentials(fmt::format("environment: AWS_CREDENTIAL_EXPIRATION '{}' is not RFC 3339", *e));
      c.expiration = *t;
    }
    return c;
  }
  std::string Describe() const override { return "environment"; }
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

absl::StatusOr<ProfileKeys> ReadProfile(const std::string& profile, const std::string& credentials_file) {
  ProfileKeys keys;
  TRIBUTARY_ASSIGN_OR_RETURN(IniSection config,
                             ReadIniSection(ConfigFilePath(), profile == "default" ? "default" : "profile " + profile));
  if (config.has_value()) keys.insert(config->begin(), config->end());
  TRIBUTARY_ASSIGN_OR_RETURN(IniSection creds, ReadIniSection(credentials_file, profile));
  if (creds.has_value()) {
    for (auto& [k, v] : *creds) keys[k] = v;
  }
  return keys;
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

}  // namespace tributary
