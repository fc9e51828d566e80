#include "remote/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "tributary/status.h"

namespace tributary::remote {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<HttpResponse*>(user)->body.append(data, size * n);
  return size * n;
}

// Keeps the two headers the client reads; the rest are ignored.
size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    absl::string_view value = absl::StripAsciiWhitespace(
        absl::string_view(line.data() + colon + 1, line.size() - colon - 1));
    auto* r = static_cast<HttpResponse*>(user);
    if (absl::EqualsIgnoreCase(absl::string_view(name.data(), name.size()), "x-amzn-ErrorType")) {
      r->error_type.assign(value.data(), value.size());
    } else if (absl::EqualsIgnoreCase(absl::string_view(name.data(), name.size()), "x-amzn-RequestId")) {
      r->request_id.assign(value.data(), value.size());
    }
  }
  return size * n;
}

absl::Status TransportError(CURLcode code, const char* detail, const std::string& url) {
  std::string msg = fmt::format("HTTP request to {} failed: {} ({})", url, curl_easy_strerror(code),
                                detail[0] != '\0' ? detail : "no detail");
  absl::StatusCode c = absl::StatusCode::kUnavailable;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      c = absl::StatusCode::kDeadlineExceeded;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      c = absl::StatusCode::kFailedPrecondition;
      break;
    default:
      break;
  }
  return MakeError(c, ErrorType::kInternalFailure, msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpOptions& options) {
  GlobalInit();
  CURLU* u = curl_url();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> guard(u, curl_url_cleanup);
  if (curl_url_set(u, CURLUPART_URL, options.url.c_str(), 0) != CURLUE_OK) {
    return InvalidArgumentError(fmt::format("endpoint URL '{}' is not a URL", options.url));
  }
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  char* path = nullptr;
  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u, CURLUPART_HOST, &host, 0);
  curl_url_get(u, CURLUPART_PORT, &port, 0);  // absent when the URL has none
  curl_url_get(u, CURLUPART_PATH, &path, 0);
  std::string s = scheme ? scheme : "";
  std::string h = host ? host : "";
  std::string p = port ? port : "";
  std::string pa = path && path[0] != '\0' ? path : "/";
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  if ((s != "http" && s != "https") || h.empty()) {
    return InvalidArgumentError(
        fmt::format("endpoint URL '{}' must be http://HOST[:PORT] or https://HOST[:PORT]", options.url));
  }
  std::string host_header = p.empty() ? h : h + ":" + p;
  if (options.max_idle < 0) return InvalidArgumentError("max_idle_connections must be >= 0");
  std::string origin = s + "://" + (h.find(':') != std::string::npos && h[0] != '[' ? "[" + h + "]" : h) +
                       (p.empty() ? "" : ":" + p);
  return std::unique_ptr<HttpClient>(
      new HttpClient(options, std::move(host_header), std::move(pa), std::move(origin)));
}

HttpClient::HttpClient(HttpOptions options, std::string host, std::string path, std::string origin)
    : options_(std::move(options)), host_(std::move(host)), path_(std::move(path)), origin_(std::move(origin)) {}

HttpClient::~HttpClient() {
  util::MutexLock l(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

int HttpClient::connections_opened() const {
  util::MutexLock l(&mu_);
  return opened_;
}

void* HttpClient::Acquire() {
  {
    util::MutexLock l(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
    ++opened_;
  }
  CURL* c = curl_easy_init();
  if (c == nullptr) return nullptr;
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
  // A handle's own connection cache: one live connection per handle.
  curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
  return c;
}

void HttpClient::Release(void* handle) {
  {
    util::MutexLock l(&mu_);
    if (static_cast<int>(idle_.size()) < options_.max_idle) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<HttpResponse> HttpClient::Post(const std::vector<std::string>& headers,
                                              std::string_view body) {
  CURL* c = static_cast<CURL*>(Acquire());
  if (c == nullptr) return InternalFailureError("curl_easy_init failed");
  curl_slist* list = nullptr;
  std::string host = "Host: " + host_;
  list = curl_slist_append(list, host.c_str());
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  // No "Expect: 100-continue" round trip for bodies over 1 KiB, and no
  // default Accept header: exactly the headers that were signed go out.
  list = curl_slist_append(list, "Expect:");
  list = curl_slist_append(list, "Accept:");
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    // The connection may be half-used: do not put it back.
    curl_easy_cleanup(c);
    return TransportError(rc, error, options_.url);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  Release(c);
  return response;
}

absl::StatusOr<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                                 const std::vector<std::string>& headers, std::string_view body) {
  CURL* c = static_cast<CURL*>(Acquire());
  if (c == nullptr) return InternalFailureError("curl_easy_init failed");
  const std::string url = origin_ + std::string(target);
  const std::string verb(method);
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (verb == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (verb != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, verb.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    curl_easy_cleanup(c);
    return TransportError(rc, error, url);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  // Back to what Post() expects of a pooled handle.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  Release(c);
  return response;
}

}  // namespace tributary::remote
