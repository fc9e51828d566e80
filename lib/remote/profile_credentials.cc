// Credentials from the shared files and what they point at: static keys,
// roles assumed through STS (source_profile, credential_source, web
// identity), credential_process and SSO; the web identity provider of the
// environment; and the chains (tributary/remote.h).
#include <fmt/format.h>
#include <openssl/sha.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "remote/credential_cache.h"
#include "remote/credentials.h"
#include "remote/http_client.h"
#include "remote/sts.h"
#include "tributary/remote.h"
#include "tributary/status.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace tributary {
namespace {

using remote::CredentialCache;
using remote::ProfileKeys;

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

absl::Status NotHere(std::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kAccessDenied, message);
}

std::string Get(const ProfileKeys& keys, const char* name) {
  auto it = keys.find(name);
  return it == keys.end() ? "" : it->second;
}

std::string ProfileName(const CredentialsProviderOptions& o) {
  return o.profile.empty() ? remote::DefaultProfileName() : o.profile;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return NotHere(fmt::format("{}: cannot read {}", what, path));
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

// ------------------------------------------------------------ credential_process

// What a credential_process may write before it is cut off (the Java SDK's
// processOutputLimit is 64,000 bytes; credentials are a few hundred).
constexpr size_t kMaxProcessOutput = size_t{64} << 10;

// Runs `command` with /bin/sh -c, as the SDKs do, in a process group of its
// own, and collects its standard output (standard error stays the host's).
// Bounded: past `timeout` (real time: it waits on a real process, not on
// the injected clock) or kMaxProcessOutput bytes, the whole group (sh and
// what it started) is killed and the fetch fails, so a script waiting on a
// prompt cannot hang the caller forever.
// Fills *out rather than returning StatusOr<std::string>, which GCC 12 at -O3
// reports as maybe-uninitialized once moved out (see log/log_store.cc).
absl::Status RunBounded(const std::string& command, absl::Duration timeout, const std::string& what,
                        std::string* out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return NotHere(fmt::format("{}: cannot make a pipe: {}", what, std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::string sh = "sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return NotHere(fmt::format("{}: cannot start it: {}", what, std::strerror(rc)));
  }
  // Waits on the pipe (until end of file) and on the process (pidfd; where
  // pidfd_open is refused, as under some seccomp profiles, the exit is
  // awaited once the pipe is closed).
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const absl::Time deadline = absl::Now() + timeout;
  bool eof = false, exited = false, over_time = false, too_much = false;
  int status = 0;
  char buf[4096];
  while (!(eof && (exited || pidfd < 0))) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      over_time = true;
      break;
    }
    pollfd p[2] = {{eof ? -1 : fds[0], POLLIN, 0}, {exited ? -1 : pidfd, POLLIN, 0}};
    const int n = ::poll(p, 2, static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60'000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (p[0].revents != 0) {
      const ssize_t r = ::read(fds[0], buf, sizeof(buf));
      if (r > 0) {
        out->append(buf, static_cast<size_t>(r));
        if (out->size() > kMaxProcessOutput) {
          too_much = true;
          break;
        }
      } else if (r == 0 || errno != EINTR) {
        eof = true;
      }
    }
    if (p[1].revents != 0 && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
  }
  ::close(fds[0]);
  if (pidfd >= 0) ::close(pidfd);
  if (over_time || too_much) ::kill(-pid, SIGKILL);
  if (!exited) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (over_time) {
    return NotHere(fmt::format("{}: did not finish within {}; killed", what, absl::FormatDuration(timeout)));
  }
  if (too_much) return NotHere(fmt::format("{}: wrote more than {} bytes; killed", what, kMaxProcessOutput));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return NotHere(fmt::format("{}: exited with {}", what,
                               WIFEXITED(status) ? fmt::format("status {}", WEXITSTATUS(status))
                                                 : fmt::format("signal {}", WTERMSIG(status))));
  }
  return absl::OkStatus();
}

absl::StatusOr<AwsCredentials> RunCredentialProcess(const std::string& command, Clock* clock, absl::Duration timeout) {
  const std::string what = fmt::format("credential_process `{}`", command);
  std::string out;
  TRIBUTARY_RETURN_IF_ERROR(RunBounded(command, timeout, what, &out));
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(out).get_object().get(o) != simdjson::SUCCESS) {
    return NotHere(what + ": its output is not a JSON object");
  }
  int64_t version = 0;
  if (o["Version"].get_int64().get(version) != simdjson::SUCCESS || version != 1) {
    return NotHere(what + ": its output needs \"Version\": 1");
  }
  auto str = [&](const char* k) -> std::string {
    std::string_view v;
    return o[k].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  AwsCredentials c{str("AccessKeyId"), str("SecretAccessKey"), str("SessionToken")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return NotHere(what + ": its output has no AccessKeyId/SecretAccessKey");
  }
  if (std::string e = str("Expiration"); !e.empty()) {
    std::optional<absl::Time> t = remote::ParseRfc3339(e);
    if (!t) return NotHere(fmt::format("{}: Expiration '{}' is not RFC 3339", what, e));
    if (*t <= clock->Now()) return NotHere(fmt::format("{}: its credentials expired at {}", what, e));
    c.expiration = *t;
  }
  return c;
}

// ------------------------------------------------------------ SSO

std::string Sha1Hex(std::string_view s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  for (unsigned char c : d) out += fmt::format("{:02x}", c);
  return out;
}

bool HasSso(const ProfileKeys& keys) {
  return !Get(keys, "sso_account_id").empty() || !Get(keys, "sso_session").empty() ||
         !Get(keys, "sso_start_url").empty();
}

// One call to an SSO service (the portal, SSO-OIDC), which is asked once
// per credential refresh: a client for that call alone, no connection kept.
// `path` is appended to the endpoint's own path, if it has one.
absl::StatusOr<remote::HttpResponse> SsoCall(const std::string& endpoint, std::string_view method,
                                             std::string_view path, const std::vector<std::string>& headers,
                                             std::string_view body) {
  remote::HttpOptions h;
  h.url = endpoint;
  h.max_idle = 0;
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<remote::HttpClient> http, remote::HttpClient::Create(h));
  const std::string base = http->path() == "/" ? "" : http->path();
  return http->Request(method, base + std::string(path), headers, body);
}

// The SDKs' SSO token provider refreshes a token this close to its expiry.
constexpr absl::Duration kSsoRefreshWindow = absl::Minutes(5);

// Refreshes the access token of an sso-session cache file (`text`, read
// from `cache`) as the SDKs do: SSO-OIDC CreateToken with the refresh_token
// grant, using the clientId, clientSecret and refreshToken `aws sso login`
// stored, at AWS_ENDPOINT_URL_SSO_OIDC, else https://oidc.<region>.amazonaws.com.
// The new accessToken, expiresAt and refreshToken are written back to the
// file (a temporary file renamed over it; every other member kept), so the
// AWS CLI and other SDKs on the host see the refreshed token too.
absl::Status RefreshSsoToken(const std::string& what, const std::string& cache, const std::string& text,
                             const std::string& region, Clock* clock, std::string* access_token) {
  rapidjson::Document d;
  if (d.Parse(text.data(), text.size()).HasParseError() || !d.IsObject()) {
    return NotHere(fmt::format("{}: {} is not a JSON object", what, cache));
  }
  // HasMember and operator[], not FindMember: comparing RapidJSON 1.1's
  // member iterators is ambiguous in C++20 (clang's -Wambiguous-reversed-operator).
  auto str = [&](const char* k) -> std::string {
    if (!d.HasMember(k) || !d[k].IsString()) return std::string();
    return std::string(d[k].GetString(), d[k].GetStringLength());
  };
  const std::string client_id = str("clientId"), client_secret = str("clientSecret"), refresh = str("refreshToken");
  if (client_id.empty() || client_secret.empty() || refresh.empty()) {
    return NotHere(fmt::format("{}: {} holds no clientId, clientSecret and refreshToken to refresh it with", what, cache));
  }
  const absl::Time now = clock->Now();
  if (std::string reg = str("registrationExpiresAt"); !reg.empty()) {
    std::optional<absl::Time> t = remote::ParseRfc3339(reg);
    if (t && *t <= now) return NotHere(fmt::format("{}: the client registration expired at {}", what, reg));
  }
  const std::string endpoint = remote::ServiceEndpointFromEnvironment("SSO_OIDC").value_or(
      fmt::format("https://oidc.{}.amazonaws.com", region));
  // RapidJSON throughout: the cache file is edited in place, so it is a
  // RapidJSON document, and the CreateToken call reads and writes the same way.
  rapidjson::StringBuffer request;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(request);
    w.StartObject();
    w.Key("clientId");
    w.String(client_id.data(), static_cast<rapidjson::SizeType>(client_id.size()));
    w.Key("clientSecret");
    w.String(client_secret.data(), static_cast<rapidjson::SizeType>(client_secret.size()));
    w.Key("grantType");
    w.String("refresh_token");
    w.Key("refreshToken");
    w.String(refresh.data(), static_cast<rapidjson::SizeType>(refresh.size()));
    w.EndObject();
  }
  absl::StatusOr<remote::HttpResponse> r =
      SsoCall(endpoint, "POST", "/token", {"Content-Type: application/json"},
              std::string_view(request.GetString(), request.GetSize()));
  if (!r.ok()) return NotHere(fmt::format("{}: CreateToken at {}: {}", what, endpoint, std::string(r.status().message())));
  if (r->status != 200) {
    return NotHere(fmt::format("{}: CreateToken at {}: HTTP {}: {}", what, endpoint, r->status, r->body.substr(0, 200)));
  }
  rapidjson::Document answer;
  auto member = [&](const char* k) -> const rapidjson::Value* {
    return answer.IsObject() && answer.HasMember(k) ? &answer[k] : nullptr;
  };
  answer.Parse(r->body.data(), r->body.size());
  const rapidjson::Value* token = answer.HasParseError() ? nullptr : member("accessToken");
  const rapidjson::Value* expires = answer.HasParseError() ? nullptr : member("expiresIn");
  if (token == nullptr || !token->IsString() || token->GetStringLength() == 0 || expires == nullptr ||
      !expires->IsInt64() || expires->GetInt64() <= 0) {
    return NotHere(fmt::format("{}: CreateToken at {} answered without accessToken and expiresIn", what, endpoint));
  }
  const std::string_view fresh(token->GetString(), token->GetStringLength());
  const int64_t expires_in = expires->GetInt64();
  auto set = [&](const char* k, std::string_view v) {
    rapidjson::Value value(v.data(), static_cast<rapidjson::SizeType>(v.size()), d.GetAllocator());
    if (d.HasMember(k)) {
      d[k] = std::move(value);
    } else {
      d.AddMember(rapidjson::Value(k, d.GetAllocator()), std::move(value), d.GetAllocator());
    }
  };
  set("accessToken", fresh);
  set("expiresAt", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now + absl::Seconds(expires_in), absl::UTCTimeZone()));
  if (const rapidjson::Value* next = member("refreshToken");
      next != nullptr && next->IsString() && next->GetStringLength() > 0) {
    set("refreshToken", std::string_view(next->GetString(), next->GetStringLength()));
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  d.Accept(writer);
  // Mode 0600, as the AWS CLI writes the cache: it holds the client secret
  // and the refresh token.
  const std::string tmp = fmt::format("{}.tributary-{}", cache, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return NotHere(fmt::format("{}: cannot write {}: {}", what, tmp, std::strerror(errno)));
  const bool written = ::write(fd, out.GetString(), out.GetSize()) == static_cast<ssize_t>(out.GetSize());
  if (::close(fd) != 0 || !written) {
    std::remove(tmp.c_str());
    return NotHere(fmt::format("{}: cannot write {}", what, tmp));
  }
  if (std::rename(tmp.c_str(), cache.c_str()) != 0) {
    std::remove(tmp.c_str());
    return NotHere(fmt::format("{}: cannot replace {}: {}", what, cache, std::strerror(errno)));
  }
  *access_token = std::string(fresh);
  return absl::OkStatus();
}

absl::StatusOr<AwsCredentials> FetchSso(const std::string& profile, const ProfileKeys& keys, Clock* clock) {
  const std::string what = fmt::format("SSO of profile '{}'", profile);
  std::string start_url = Get(keys, "sso_start_url"), region = Get(keys, "sso_region"), cache_key = start_url;
  const std::string session = Get(keys, "sso_session");
  if (!session.empty()) {
    TRIBUTARY_ASSIGN_OR_RETURN(remote::IniSection s,
                               remote::ReadIniSection(remote::ConfigFilePath(), "sso-session " + session));
    if (!s.has_value()) return NotHere(fmt::format("{}: no [sso-session {}] in {}", what, session, remote::ConfigFilePath()));
    start_url = Get(*s, "sso_start_url");
    region = Get(*s, "sso_region");
    cache_key = session;
  }
  const std::string account = Get(keys, "sso_account_id"), role = Get(keys, "sso_role_name");
  if (account.empty() || role.empty() || region.empty() || cache_key.empty()) {
    return NotHere(what + ": needs sso_account_id, sso_role_name and sso_session (or sso_start_url and sso_region)");
  }
  const std::string cache = fmt::format("{}/.aws/sso/cache/{}.json", remote::HomeDir(), Sha1Hex(cache_key));
  absl::StatusOr<std::string> text = ReadFile(cache, what);
  if (!text.ok()) return NotHere(fmt::format("{}: no cached token {} (run `aws sso login`)", what, cache));
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  std::string_view token, expires;
  if (parser.parse(*text).get_object().get(o) != simdjson::SUCCESS ||
      o["accessToken"].get_string().get(token) != simdjson::SUCCESS ||
      o["expiresAt"].get_string().get(expires) != simdjson::SUCCESS) {
    return NotHere(fmt::format("{}: {} has no accessToken/expiresAt", what, cache));
  }
  std::optional<absl::Time> token_expires = remote::ParseRfc3339(expires);
  std::string access_token(token);
  bool valid = token_expires && *token_expires > clock->Now();
  // sso-session tokens are refreshed near their expiry (the legacy
  // sso_start_url profiles have no refresh token); a failed refresh falls
  // back on the cached token while it is still valid, as in the SDKs.
  std::string refresh_failure;
  if (!session.empty() && (!token_expires || *token_expires - clock->Now() <= kSsoRefreshWindow)) {
    absl::Status refreshed = RefreshSsoToken(what, cache, *text, region, clock, &access_token);
    if (refreshed.ok()) {
      valid = true;
    } else {
      refresh_failure = fmt::format("; refreshing it failed: {}", std::string(refreshed.message()));
    }
  }
  if (!valid) {
    return NotHere(fmt::format("{}: the SSO token in {} expired at {}{} (run `aws sso login`)", what, cache, expires,
                               refresh_failure));
  }
  std::string endpoint = remote::ServiceEndpointFromEnvironment("SSO").value_or(
      fmt::format("https://portal.sso.{}.amazonaws.com", region));
  absl::StatusOr<remote::HttpResponse> r =
      SsoCall(endpoint, "GET", fmt::format("/federation/credentials?account_id={}&role_name={}", account, role),
              {"x-amz-sso_bearer_token: " + access_token}, "");
  if (!r.ok()) return NotHere(fmt::format("{}: GetRoleCredentials at {}: {}", what, endpoint, std::string(r.status().message())));
  if (r->status != 200) {
    return NotHere(fmt::format("{}: GetRoleCredentials at {}: HTTP {}: {}", what, endpoint, r->status,
                               r->body.substr(0, 200)));
  }
  simdjson::dom::object rc;
  if (parser.parse(r->body).get_object().get(o) != simdjson::SUCCESS ||
      o["roleCredentials"].get_object().get(rc) != simdjson::SUCCESS) {
    return NotHere(what + ": GetRoleCredentials answered without roleCredentials");
  }
  auto str = [&](const char* k) -> std::string {
    std::string_view v;
    return rc[k].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  AwsCredentials c{str("accessKeyId"), str("secretAccessKey"), str("sessionToken")};
  int64_t expiration_ms = 0;
  if (c.access_key_id.empty() || c.secret_access_key.empty() ||
      rc["expiration"].get_int64().get(expiration_ms) != simdjson::SUCCESS) {
    return NotHere(what + ": roleCredentials lacks accessKeyId, secretAccessKey or expiration");
  }
  c.expiration = absl::FromUnixMillis(expiration_ms);
  return c;
}

// ------------------------------------------------------------ profiles

// A profile's credentials, in the order the SDKs use within a profile:
// role_arn (with source_profile, credential_source or a web identity),
// then SSO, credential_process and static keys (`kinds` selects which).
enum Kinds : unsigned { kStaticOrRole = 1, kProcess = 2, kSso = 4, kAll = 7 };

absl::StatusOr<AwsCredentials> ResolveProfile(const std::string& profile, const std::string& credentials_file,
                                              const CredentialsProviderOptions& options, unsigned kinds, int depth);

absl::StatusOr<AwsCredentials> StaticKeys(const std::string& profile, const ProfileKeys& keys,
                                          const std::string& credentials_file) {
  AwsCredentials c{Get(keys, "aws_access_key_id"), Get(keys, "aws_secret_access_key"), Get(keys, "aws_session_token")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return NotHere(fmt::format("profile '{}': no aws_access_key_id/aws_secret_access_key or role_arn in {} or {}",
                               profile, credentials_file, remote::ConfigFilePath()));
  }
  return c;
}

absl::StatusOr<AwsCredentials> AssumeProfileRole(const std::string& profile, const ProfileKeys& keys,
                                                 const std::string& credentials_file,
                                                 const CredentialsProviderOptions& options, int depth) {
  remote::AssumeRoleRequest req;
  req.role_arn = Get(keys, "role_arn");
  req.session_name = Get(keys, "role_session_name");
  if (req.session_name.empty()) req.session_name = remote::DefaultSessionName();
  req.external_id = Get(keys, "external_id");
  if (std::string d = Get(keys, "duration_seconds"); !d.empty()) req.duration_seconds = std::atoi(d.c_str());
  const std::string what = fmt::format("profile '{}' (role {})", profile, req.role_arn);
  if (std::string file = Get(keys, "web_identity_token_file"); !file.empty()) {
    TRIBUTARY_ASSIGN_OR_RETURN(req.web_identity_token, ReadFile(file, what));
    return remote::AssumeRoleWithWebIdentity(req);
  }
  absl::StatusOr<AwsCredentials> source;
  const std::string source_profile = Get(keys, "source_profile");
  const std::string credential_source = Get(keys, "credential_source");
  if (!source_profile.empty()) {
    if (depth >= 5) return NotHere(what + ": source_profile chain longer than 5 (a loop?)");
    // A profile that names itself uses its own static keys.
    source = source_profile == profile
                 ? StaticKeys(profile, keys, credentials_file)
                 : ResolveProfile(source_profile, credentials_file, options, kAll, depth + 1);
  } else if (credential_source == "Environment") {
    source = EnvironmentCredentialsProvider()->GetCredentials();
  } else if (credential_source == "Ec2InstanceMetadata") {
    source = InstanceMetadataCredentialsProvider(options)->GetCredentials();
  } else if (credential_source == "EcsContainer") {
    source = ContainerCredentialsProvider(options)->GetCredentials();
  } else {
    return NotHere(fmt::format("{}: role_arn needs source_profile, credential_source (Environment, "
                               "Ec2InstanceMetadata, EcsContainer) or web_identity_token_file{}",
                               what, credential_source.empty() ? "" : "; not " + credential_source));
  }
  if (!source.ok()) return NotHere(fmt::format("{}: its source credentials: {}", what, std::string(source.status().message())));
  return remote::AssumeRole(req, *source);
}

absl::StatusOr<AwsCredentials> ResolveProfile(const std::string& profile, const std::string& credentials_file,
                                              const CredentialsProviderOptions& options, unsigned kinds, int depth) {
  Clock* clock = options.clock != nullptr ? options.clock : SystemClock();
  TRIBUTARY_ASSIGN_OR_RETURN(ProfileKeys keys, remote::ReadProfile(profile, credentials_file));
  if (keys.empty()) {
    return NotHere(fmt::format("profile '{}': not in {} or {}", profile, credentials_file, remote::ConfigFilePath()));
  }
  if (!Get(keys, "role_arn").empty()) {
    if (!(kinds & kStaticOrRole)) return NotHere(fmt::format("profile '{}': assumes a role", profile));
    return AssumeProfileRole(profile, keys, credentials_file, options, depth);
  }
  if (HasSso(keys)) {
    if (!(kinds & kSso)) return NotHere(fmt::format("profile '{}': uses SSO", profile));
    return FetchSso(profile, keys, clock);
  }
  if (std::string command = Get(keys, "credential_process"); !command.empty()) {
    if (!(kinds & kProcess)) return NotHere(fmt::format("profile '{}': uses credential_process", profile));
    return RunCredentialProcess(command, clock, options.credential_process_timeout);
  }
  if (!(kinds & kStaticOrRole)) {
    return NotHere(fmt::format("profile '{}': no {}", profile, kinds == kProcess ? "credential_process" : "SSO settings"));
  }
  return StaticKeys(profile, keys, credentials_file);
}

// One kind of profile source, cached (static keys have no expiration, so
// they are read once, as before).
class ProfileSourceProvider final : public CredentialsProvider {
 public:
  ProfileSourceProvider(std::string label, std::string profile, std::string file, unsigned kinds,
                        const CredentialsProviderOptions& options)
      : label_(std::move(label)),
        profile_(std::move(profile)),
        file_(std::move(file)),
        kinds_(kinds),
        options_(options),
        cache_([this] { return ResolveProfile(profile_, file_, options_, kinds_, 0); }, options) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override { return cache_.Get(); }
  std::string Describe() const override { return fmt::format("{} of profile {} in {}", label_, profile_, file_); }

 private:
  const std::string label_;
  const std::string profile_;
  const std::string file_;
  const unsigned kinds_;
  const CredentialsProviderOptions options_;
  CredentialCache cache_;  // last
};

// ------------------------------------------------------------ web identity

class WebIdentityProvider final : public CredentialsProvider {
 public:
  explicit WebIdentityProvider(const CredentialsProviderOptions& options)
      : token_file_(Env("AWS_WEB_IDENTITY_TOKEN_FILE").value_or("")),
        role_arn_(Env("AWS_ROLE_ARN").value_or("")),
        session_name_(Env("AWS_ROLE_SESSION_NAME").value_or(remote::DefaultSessionName())),
        cache_([this] { return Fetch(); }, options) {}
  absl::StatusOr<AwsCredentials> GetCredentials() override {
    if (token_file_.empty() || role_arn_.empty()) {
      return NotHere("web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set");
    }
    return cache_.Get();
  }
  std::string Describe() const override { return fmt::format("web identity (role {})", role_arn_); }

 private:
  absl::StatusOr<AwsCredentials> Fetch() {
    remote::AssumeRoleRequest req;
    req.role_arn = role_arn_;
    req.session_name = session_name_;
    // Kubernetes rotates the projected token: read it at every refresh.
    TRIBUTARY_ASSIGN_OR_RETURN(req.web_identity_token, ReadFile(token_file_, "web identity"));
    absl::StatusOr<AwsCredentials> c = remote::AssumeRoleWithWebIdentity(req);
    if (!c.ok()) return NotHere(fmt::format("web identity (role {}): {}", role_arn_, std::string(c.status().message())));
    return c;
  }
  const std::string token_file_;
  const std::string role_arn_;
  const std::string session_name_;
  CredentialCache cache_;  // last
};

// ------------------------------------------------------------ chains

class ChainProvider final : public CredentialsProvider {
 public:
  ChainProvider(std::string name, std::vector<std::shared_ptr<CredentialsProvider>> providers)
      : name_(std::move(name)), providers_(std::move(providers)) {}

  absl::StatusOr<AwsCredentials> GetCredentials() override {
    int last;
    {
      util::MutexLock l(&mu_);
      last = last_;
    }
    if (last >= 0) {
      absl::StatusOr<AwsCredentials> c = providers_[last]->GetCredentials();
      if (c.ok()) return c;
    }
    std::string tried;
    for (size_t i = 0; i < providers_.size(); ++i) {
      absl::StatusOr<AwsCredentials> c = providers_[i]->GetCredentials();
      if (c.ok()) {
        util::MutexLock l(&mu_);
        last_ = static_cast<int>(i);
        return c;
      }
      tried += fmt::format("\n  {}. {}", i + 1, std::string(c.status().message()));
    }
    return NotHere(fmt::format("no AWS credentials found; {} tried:{}", name_, tried));
  }

  std::string Describe() const override {
    util::MutexLock l(&mu_);
    if (last_ >= 0) return fmt::format("{}: {}", name_, providers_[last_]->Describe());
    std::string all;
    for (const auto& p : providers_) all += (all.empty() ? "" : ", ") + p->Describe();
    return fmt::format("{} ({})", name_, all);
  }

 private:
  const std::string name_;
  const std::vector<std::shared_ptr<CredentialsProvider>> providers_;
  mutable util::Mutex mu_;
  int last_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace

std::shared_ptr<CredentialsProvider> ProfileCredentialsProvider(std::optional<std::string> profile,
                                                                std::optional<std::string> file,
                                                                const CredentialsProviderOptions& options) {
  return std::make_shared<ProfileSourceProvider>("keys or role", profile ? *profile : ProfileName(options),
                                                 file ? *file : remote::CredentialsFilePath(), kStaticOrRole,
                                                 options);
}

std::shared_ptr<CredentialsProvider> ProcessCredentialsProvider(const CredentialsProviderOptions& options) {
  return std::make_shared<ProfileSourceProvider>("credential_process", ProfileName(options),
                                                 remote::CredentialsFilePath(), kProcess, options);
}

std::shared_ptr<CredentialsProvider> SsoCredentialsProvider(const CredentialsProviderOptions& options) {
  return std::make_shared<ProfileSourceProvider>("SSO", ProfileName(options), remote::CredentialsFilePath(), kSso,
                                                 options);
}

std::shared_ptr<CredentialsProvider> WebIdentityCredentialsProvider(const CredentialsProviderOptions& options) {
  return std::make_shared<WebIdentityProvider>(options);
}

std::shared_ptr<CredentialsProvider> CredentialsProviderChain(
    std::vector<std::shared_ptr<CredentialsProvider>> providers) {
  return std::make_shared<ChainProvider>("credentials chain", std::move(providers));
}

std::shared_ptr<CredentialsProvider> DefaultCredentialsProvider(const CredentialsProviderOptions& options) {
  return std::make_shared<ChainProvider>(
      "the default chain",
      std::vector<std::shared_ptr<CredentialsProvider>>{
          EnvironmentCredentialsProvider(), WebIdentityCredentialsProvider(options),
          ProfileCredentialsProvider(std::nullopt, std::nullopt, options), ProcessCredentialsProvider(options),
          SsoCredentialsProvider(options), ContainerCredentialsProvider(options),
          InstanceMetadataCredentialsProvider(options)});
}

}  // namespace tributary
