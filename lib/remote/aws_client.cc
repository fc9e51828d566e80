// The shared AWS JSON client core (aws_client.h). Attempt() and Call() are
// the remote backend's former Attempt()/Exchange(), moved here unchanged in
// behaviour so the DynamoDB lease table uses the same code.
#include "remote/aws_client.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "remote/signing.h"
#include "tributary/status.h"
#include "util/status_macros.h"

namespace tributary::remote {

AwsClientOptions ClientOptionsFrom(const RemoteOptions& options) {
  AwsClientOptions o;
  o.endpoint_url = options.endpoint_url;
  o.region = options.region;
  o.credentials = options.credentials;
  o.retry = options.retry;
  o.connect_timeout = options.connect_timeout;
  o.request_timeout = options.request_timeout;
  o.max_idle_connections = options.max_idle_connections;
  o.verify_tls = options.verify_tls;
  o.ca_file = options.ca_file;
  o.clock = options.clock;
  return o;
}

AwsError ParseAwsError(const HttpResponse& response) {
  AwsError e;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(response.body.data(), response.body.size()).get_object().get(o) == simdjson::SUCCESS) {
    std::string_view v;
    if (o["__type"].get_string().get(v) == simdjson::SUCCESS) e.type = std::string(v);
    if (o["message"].get_string().get(v) == simdjson::SUCCESS || o["Message"].get_string().get(v) == simdjson::SUCCESS) {
      e.message = std::string(v);
    }
  }
  if (e.type.empty()) e.type = response.error_type;
  // "com.amazonaws.kinesis.v20131202#ResourceNotFoundException" and
  // "ResourceNotFoundException:http://internal.amazon.com/..." both occur.
  if (size_t hash = e.type.rfind('#'); hash != std::string::npos) e.type = e.type.substr(hash + 1);
  if (size_t colon = e.type.find(':'); colon != std::string::npos) e.type.resize(colon);
  if (e.message.empty()) e.message = response.body.substr(0, 512);
  return e;
}

AwsJsonClient::AwsJsonClient(const AwsJsonService& service, AwsClientOptions options, ErrorMapper map_error,
                             std::unique_ptr<HttpClient> http)
    : service_(service),
      options_(std::move(options)),
      map_error_(map_error),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock()),
      http_(std::move(http)),
      backoff_(options_.retry) {}

absl::StatusOr<std::unique_ptr<AwsJsonClient>> AwsJsonClient::Create(const AwsJsonService& service,
                                                                     const AwsClientOptions& options,
                                                                     ErrorMapper map_error) {
  if (options.credentials == nullptr) return InvalidArgumentError("an AWS client needs a credentials provider");
  HttpOptions h;
  h.url = options.endpoint_url;
  h.connect_timeout = options.connect_timeout;
  h.request_timeout = options.request_timeout;
  h.max_idle = options.max_idle_connections;
  h.verify_tls = options.verify_tls;
  h.ca_file = options.ca_file;
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(h));
  return std::unique_ptr<AwsJsonClient>(new AwsJsonClient(service, options, map_error, std::move(http)));
}

absl::StatusOr<HttpResponse> AwsJsonClient::Attempt(std::string_view action, const std::string& body) {
  TRIBUTARY_ASSIGN_OR_RETURN(AwsCredentials creds, options_.credentials->GetCredentials());
  const std::string target = fmt::format("{}{}", service_.target_prefix, action);
  JsonRequest req{http_->host(), http_->path(), service_.content_type, target, body};
  // Signed with wall time whatever options_.clock is: the server checks it.
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> headers,
                             SignedJsonHeaders(service_.signing_name, req, creds, options_.region, absl::Now()));
  return http_->Post(headers, body);
}

absl::StatusOr<std::string> AwsJsonClient::Call(std::string_view action, const std::string& body) {
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  absl::Status last;
  int attempt = 1;
  for (;; ++attempt) {
    attempts_.fetch_add(1, std::memory_order_relaxed);
    absl::StatusOr<HttpResponse> r = Attempt(action, body);
    int http_status = 0;
    if (r.ok()) {
      if (r->status == 200) return std::move(r->body);
      http_status = r->status;
      last = map_error_(*r, action);
    } else {
      last = r.status();
      // A credentials failure is not a transport failure: do not retry it.
      if (last.code() != absl::StatusCode::kUnavailable &&
          last.code() != absl::StatusCode::kDeadlineExceeded) {
        return last;
      }
    }
    if (attempt >= max_attempts || !IsRetryable(options_.retry, last, http_status)) break;
    clock_->SleepFor(backoff_.Next(attempt));
  }
  if (attempt > 1) {
    return MakeError(last.code(), GetErrorType(last),
                     fmt::format("{} (gave up after {} attempts)", std::string(last.message()), attempt));
  }
  return last;
}

}  // namespace tributary::remote
