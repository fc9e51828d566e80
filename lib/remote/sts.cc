// STS over the Query protocol (sts.h). Answers are XML, read with
// Boost.PropertyTree's XML parser (as the shared files are read with its
// INI parser); requests are signed by lib/sigv4.
#include "remote/sts.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>
#include <sstream>
#include <vector>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include "absl/strings/ascii.h"

#include "remote/credential_cache.h"
#include "remote/credentials.h"
#include "remote/http_client.h"
#include "sigv4/sigv4.h"
#include "tributary/status.h"
#include "util/status_macros.h"

namespace tributary::remote {
namespace {

std::string FormEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Form(std::string_view action, const AssumeRoleRequest& r) {
  std::string body = fmt::format("Action={}&Version=2011-06-15&RoleArn={}&RoleSessionName={}", action,
                                 FormEscape(r.role_arn), FormEscape(r.session_name));
  if (!r.external_id.empty()) body += "&ExternalId=" + FormEscape(r.external_id);
  if (r.duration_seconds) body += fmt::format("&DurationSeconds={}", *r.duration_seconds);
  if (!r.web_identity_token.empty()) body += "&WebIdentityToken=" + FormEscape(r.web_identity_token);
  return body;
}

absl::Status StsError(std::string_view action, const HttpResponse& r) {
  namespace pt = boost::property_tree;
  std::string code = "HTTP " + std::to_string(r.status), message = r.body.substr(0, 300);
  try {
    pt::ptree tree;
    std::istringstream in(r.body);
    pt::read_xml(in, tree);
    code = tree.get<std::string>("ErrorResponse.Error.Code", code);
    message = tree.get<std::string>("ErrorResponse.Error.Message", message);
  } catch (const std::exception&) {
  }
  const bool server = r.status >= 500 || code == "Throttling";
  return MakeError(server ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnauthenticated,
                   server ? ErrorType::kInternalFailure : ErrorType::kAccessDenied,
                   fmt::format("STS {}: {}: {}", action, code, message));
}

absl::StatusOr<AwsCredentials> Send(std::string_view action, const AssumeRoleRequest& request,
                                    const AwsCredentials* source) {
  HttpOptions h;
  h.url = StsEndpoint();
  h.connect_timeout = absl::Seconds(5);
  h.request_timeout = absl::Seconds(10);
  h.max_idle = 0;
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(h));
  const std::string body = Form(action, request);
  constexpr std::string_view kType = "application/x-www-form-urlencoded; charset=utf-8";
  std::vector<std::string> headers = {fmt::format("Content-Type: {}", kType), "Accept:"};
  if (source != nullptr) {
    sigv4::Request r;
    r.method = "POST";
    r.path = http->path();
    r.headers = {{"Host", http->host()}, {"Content-Type", kType}};
    r.payload = body;
    sigv4::Credentials c{source->access_key_id, source->secret_access_key, source->session_token};
    const std::string region = RegionFromEnvironment().value_or("us-east-1");
    TRIBUTARY_ASSIGN_OR_RETURN(sigv4::SignedRequest s, sigv4::Sign(r, c, region, "sts", absl::Now()));
    headers.push_back("X-Amz-Date: " + s.amz_date);
    if (!s.security_token.empty()) headers.push_back("X-Amz-Security-Token: " + s.security_token);
    headers.push_back("Authorization: " + s.authorization);
  }
  headers.push_back("Host: " + http->host());
  absl::StatusOr<HttpResponse> answer;
  for (int attempt = 1; attempt <= 3; ++attempt) {  // transport failures and 5xx only
    answer = http->Request("POST", http->path(), headers, body);
    if (answer.ok() && answer->status < 500) break;
  }
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) return StsError(action, *answer);
  namespace pt = boost::property_tree;
  try {
    pt::ptree tree;
    std::istringstream in(answer->body);
    pt::read_xml(in, tree);
    const std::string prefix = fmt::format("{}Response.{}Result.Credentials.", action, action);
    AwsCredentials c;
    c.access_key_id = tree.get<std::string>(prefix + "AccessKeyId");
    c.secret_access_key = tree.get<std::string>(prefix + "SecretAccessKey");
    c.session_token = tree.get<std::string>(prefix + "SessionToken");
    std::optional<absl::Time> expires = ParseRfc3339(tree.get<std::string>(prefix + "Expiration"));
    if (!expires) throw pt::ptree_error("Expiration is not RFC 3339");
    c.expiration = *expires;
    return c;
  } catch (const std::exception& e) {
    return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                     fmt::format("STS {} at {}: the answer does not decode ({})", action, h.url, e.what()));
  }
}

}  // namespace

std::string StsEndpoint() {
  if (auto e = ServiceEndpointFromEnvironment("STS")) return *e;
  std::optional<std::string> region = RegionFromEnvironment();
  if (!region) return "https://sts.amazonaws.com";
  return fmt::format("https://sts.{}.amazonaws.com{}", *region, region->rfind("cn-", 0) == 0 ? ".cn" : "");
}

std::string DefaultSessionName() { return fmt::format("tributary-{}", absl::ToUnixMicros(absl::Now())); }

absl::StatusOr<AwsCredentials> AssumeRole(const AssumeRoleRequest& request, const AwsCredentials& source) {
  return Send("AssumeRole", request, &source);
}

absl::StatusOr<AwsCredentials> AssumeRoleWithWebIdentity(const AssumeRoleRequest& request) {
  return Send("AssumeRoleWithWebIdentity", request, nullptr);
}

}  // namespace tributary::remote
