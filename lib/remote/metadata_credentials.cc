// Credentials from the host: the EC2 instance metadata service (IMDSv2,
// with the IMDSv1 fallback only when allowed) and the container
// credentials endpoint (ECS task roles, EKS Pod Identity). Both answer the
// same JSON (AccessKeyId, SecretAccessKey, Token, Expiration).
#include <fmt/format.h>
#include <simdjson.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "remote/credential_cache.h"
#include "remote/credentials.h"
#include "remote/http_client.h"
#include "tributary/remote.h"
#include "tributary/status.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace tributary {
namespace {

using remote::CredentialCache;
using remote::HttpClient;
using remote::HttpOptions;
using remote::HttpResponse;

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool EnvTrue(const char* name) {
  std::optional<std::string> v = Env(name);
  return v && absl::EqualsIgnoreCase(*v, "true");
}

absl::Status Unavailable(std::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kAccessDenied, message);
}

// {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ..., "Expiration": ...}
absl::StatusOr<AwsCredentials> ParseCredentialJson(const std::string& body, std::string_view where) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(body).get_object().get(o) != simdjson::SUCCESS) {
    return Unavailable(fmt::format("{}: the answer is not a JSON object", where));
  }
  auto str = [&](const char* k) -> std::string {
    std::string_view v;
    return o[k].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  const std::string code = str("Code");
  if (!code.empty() && code != "Success") return Unavailable(fmt::format("{}: Code {}: {}", where, code, str("Message")));
  AwsCredentials c{str("AccessKeyId"), str("SecretAccessKey"), str("Token")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Unavailable(fmt::format("{}: the answer has no AccessKeyId/SecretAccessKey", where));
  }
  const std::string expiration = str("Expiration");
  if (!expiration.empty()) {
    std::optional<absl::Time> t = remote::ParseRfc3339(expiration);
    if (!t) return Unavailable(fmt::format("{}: Expiration '{}' is not RFC 3339", where, expiration));
    c.expiration = *t;
  }
  return c;
}

std::unique_ptr<HttpClient> MetadataClient(const std::string& url, const CredentialsProviderOptions& o,
                                           absl::Status* error) {
  HttpOptions h;
  h.url = url;
  h.connect_timeout = o.metadata_timeout;
  h.request_timeout = o.metadata_timeout;
  h.max_idle = 1;
  absl::StatusOr<std::unique_ptr<HttpClient>> c = HttpClient::Create(h);
  if (!c.ok()) {
    *error = c.status();
    return nullptr;
  }
  return std::move(c).value();
}

// Retries transport failures and 5xx (the agents restart, the IMDS throttles).
absl::StatusOr<HttpResponse> Ask(HttpClient& http, int attempts, std::string_view method, std::string_view path,
                                 const std::vector<std::string>& headers, std::string_view body = "") {
  absl::StatusOr<HttpResponse> r;
  for (int i = 0; i < std::max(1, attempts); ++i) {
    r = http.Request(method, path, headers, body);
    if (r.ok() && r->status < 500 && r->status != 429) break;
  }
  return r;
}

// ------------------------------------------------------------ IMDS

class InstanceMetadataProvider final : public CredentialsProvider {
 public:
  explicit InstanceMetadataProvider(const CredentialsProviderOptions& o)
      : options_(o),
        disabled_(EnvTrue("AWS_EC2_METADATA_DISABLED")),
        endpoint_(Endpoint()),
        v1_allowed_(o.imds_v1_fallback.value_or(!EnvTrue("AWS_EC2_METADATA_V1_DISABLED") &&
                                                !ProfileSaysV1Disabled())),
        cache_([this] { return Fetch(); }, o) {}

  absl::StatusOr<AwsCredentials> GetCredentials() override {
    if (disabled_) return Unavailable("instance metadata: disabled (AWS_EC2_METADATA_DISABLED=true)");
    return cache_.Get();
  }
  std::string Describe() const override {
    util::MutexLock l(&mu_);
    return fmt::format("instance metadata at {}{}", endpoint_, role_.empty() ? "" : " (role " + role_ + ")");
  }

 private:
  static std::string Endpoint() {
    if (auto e = Env("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
      std::string url = *e;
      while (!url.empty() && url.back() == '/') url.pop_back();
      return url;
    }
    if (auto m = Env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"); m && absl::EqualsIgnoreCase(*m, "IPv6")) {
      return "http://[fd00:ec2::254]";
    }
    return "http://169.254.169.254";
  }
  static bool ProfileSaysV1Disabled() {
    const std::string profile = remote::DefaultProfileName();
    absl::StatusOr<remote::IniSection> s =
        remote::ReadIniSection(remote::ConfigFilePath(), profile == "default" ? "default" : "profile " + profile);
    if (!s.ok() || !s->has_value()) return false;
    auto it = (*s)->find("ec2_metadata_v1_disabled");
    return it != (*s)->end() && absl::EqualsIgnoreCase(it->second, "true");
  }

  absl::StatusOr<AwsCredentials> Fetch() {
    const std::string where = "instance metadata at " + endpoint_;
    absl::Status error;
    std::unique_ptr<HttpClient> http = MetadataClient(endpoint_, options_, &error);
    if (http == nullptr) return error;
    const int n = options_.metadata_attempts;
    // IMDSv2: a session token first (6 hours; one per fetch is cheap).
    std::vector<std::string> headers;
    absl::StatusOr<HttpResponse> token =
        Ask(*http, n, "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 21600"});
    if (token.ok() && token->status == 200) {
      headers.push_back("X-aws-ec2-metadata-token: " + token->body);
    } else if (token.ok() && token->status == 400) {
      return Unavailable(fmt::format("{}: the IMDSv2 token request was refused (HTTP 400)", where));
    } else if (!v1_allowed_) {
      return Unavailable(fmt::format(
          "{}: no IMDSv2 token ({}), and the IMDSv1 fallback is disabled", where,
          token.ok() ? fmt::format("HTTP {}", token->status) : std::string(token.status().message())));
    }
    // else: IMDSv1, plain GETs.
    constexpr std::string_view kRoles = "/latest/meta-data/iam/security-credentials/";
    absl::StatusOr<HttpResponse> roles = Ask(*http, n, "GET", kRoles, headers);
    if (!roles.ok()) return Unavailable(fmt::format("{}: {}", where, std::string(roles.status().message())));
    if (roles->status != 200) {
      return Unavailable(fmt::format("{}: no instance profile role (HTTP {} for {})", where, roles->status, kRoles));
    }
    std::string role = roles->body.substr(0, roles->body.find('\n'));
    role = std::string(absl::StripAsciiWhitespace(role));
    if (role.empty()) return Unavailable(where + ": the instance has no instance profile role");
    absl::StatusOr<HttpResponse> creds = Ask(*http, n, "GET", std::string(kRoles) + role, headers);
    if (!creds.ok()) return Unavailable(fmt::format("{}: {}", where, std::string(creds.status().message())));
    if (creds->status != 200) {
      return Unavailable(fmt::format("{}: HTTP {} for the credentials of role {}", where, creds->status, role));
    }
    {
      util::MutexLock l(&mu_);
      role_ = role;
    }
    return ParseCredentialJson(creds->body, where + " role " + role);
  }

  const CredentialsProviderOptions options_;
  const bool disabled_;
  const std::string endpoint_;
  const bool v1_allowed_;
  mutable util::Mutex mu_;
  std::string role_ ABSL_GUARDED_BY(mu_);
  CredentialCache cache_;  // last: its refresh thread uses the members above
};

// ------------------------------------------------------------ containers

// http is allowed only to the loopback and to ECS's and EKS's agents.
bool AllowedHttpHost(const std::string& url) {
  std::string rest = url.substr(url.find("://") + 3);
  std::string host;
  if (!rest.empty() && rest[0] == '[') {
    host = rest.substr(1, rest.find(']') - 1);
  } else {
    host = rest.substr(0, rest.find_first_of(":/"));
  }
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || absl::EqualsIgnoreCase(host, "fd00:ec2::23");
}

class ContainerProvider final : public CredentialsProvider {
 public:
  explicit ContainerProvider(const CredentialsProviderOptions& o) : options_(o), cache_([this] { return Fetch(); }, o) {
    if (auto rel = Env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      std::string base = o.container_endpoint;
      while (!base.empty() && base.back() == '/') base.pop_back();
      url_ = base + (rel->front() == '/' ? "" : "/") + *rel;
    } else if (auto full = Env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      url_ = *full;
      if (absl::StartsWithIgnoreCase(url_, "http://") && !AllowedHttpHost(url_)) {
        config_error_ = fmt::format(
            "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI {} is http to a host that is neither a "
            "loopback address nor the ECS/EKS agent",
            url_);
      } else if (!absl::StartsWithIgnoreCase(url_, "http://") && !absl::StartsWithIgnoreCase(url_, "https://")) {
        config_error_ = fmt::format("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI {} is not a URL", url_);
      }
    }
  }

  absl::StatusOr<AwsCredentials> GetCredentials() override {
    if (url_.empty()) {
      return Unavailable(
          "container credentials: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set");
    }
    if (!config_error_.empty()) return Unavailable(config_error_);
    return cache_.Get();
  }
  std::string Describe() const override { return "container credentials at " + (url_.empty() ? "(unset)" : url_); }

 private:
  absl::StatusOr<AwsCredentials> Fetch() {
    const std::string where = "container credentials at " + url_;
    std::vector<std::string> headers;
    if (auto file = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      // EKS rotates the token file: read it at every fetch.
      std::ifstream in(*file);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) return Unavailable(fmt::format("{}: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}", where, *file));
      std::string token(absl::StripAsciiWhitespace(text.str()));
      headers.push_back("Authorization: " + token);
    } else if (auto token = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
      headers.push_back("Authorization: " + *token);
    }
    // The client is made for the whole URL; the request goes to its path.
    absl::Status error;
    std::unique_ptr<HttpClient> http = MetadataClient(url_, options_, &error);
    if (http == nullptr) return error;
    const std::string target = url_.substr(url_.find('/', url_.find("://") + 3) == std::string::npos
                                               ? url_.size()
                                               : url_.find('/', url_.find("://") + 3));
    absl::StatusOr<HttpResponse> r = Ask(*http, options_.metadata_attempts, "GET", target.empty() ? "/" : target, headers);
    if (!r.ok()) return Unavailable(fmt::format("{}: {}", where, std::string(r.status().message())));
    if (r->status != 200) {
      return Unavailable(fmt::format("{}: HTTP {}: {}", where, r->status, r->body.substr(0, 200)));
    }
    return ParseCredentialJson(r->body, where);
  }

  const CredentialsProviderOptions options_;
  std::string url_;
  std::string config_error_;
  CredentialCache cache_;  // last: its refresh thread uses the members above
};

}  // namespace

std::shared_ptr<CredentialsProvider> InstanceMetadataCredentialsProvider(const CredentialsProviderOptions& options) {
  return std::make_shared<InstanceMetadataProvider>(options);
}

std::shared_ptr<CredentialsProvider> ContainerCredentialsProvider(const CredentialsProviderOptions& options) {
  return std::make_shared<ContainerProvider>(options);
}

}  // namespace tributary
