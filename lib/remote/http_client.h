// HttpClient: HTTP/1.1 POSTs to one endpoint over libcurl, with a pool of
// keep-alive connections (one curl easy handle each), connect and request
// timeouts, and TLS verification for https URLs.
//
// Thread safety: Post() may be called from any number of threads; each call
// takes an idle connection from the pool or opens a new one, and gives it
// back afterwards (at most max_idle are kept).
#ifndef TRIBUTARY_LIB_REMOTE_HTTP_CLIENT_H_
#define TRIBUTARY_LIB_REMOTE_HTTP_CLIENT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace tributary::remote {

struct HttpOptions {
  std::string url;  // http://host[:port][/path] or https://...
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration request_timeout = absl::Seconds(30);
  int max_idle = 8;
  bool verify_tls = true;
  std::string ca_file;  // PEM CAs to trust instead of the system's ("": the system's)
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string error_type;  // x-amzn-ErrorType header, if any
  std::string request_id;  // x-amzn-RequestId header, if any
};

// A transport failure (nothing or no complete answer received). The status
// code tells the retry policy what happened: DeadlineExceeded for a timeout,
// Unavailable for a refused, reset or closed connection, FailedPrecondition
// for a problem that retrying cannot fix (TLS certificate, bad URL). All carry
// ErrorType::kInternalFailure.
class HttpClient {
 public:
  // InvalidArgument for a URL that is not http(s)://host...
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const HttpOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The Host header value requests carry ("host" or "host:port").
  const std::string& host() const { return host_; }
  // The URL's path ("/" when it has none): what the request line carries.
  const std::string& path() const { return path_; }
  const std::string& url() const { return options_.url; }

  // POSTs `body` with `headers` ("Name: value" each; Host is added).
  absl::StatusOr<HttpResponse> Post(const std::vector<std::string>& headers, std::string_view body);

  // Any method ("GET", "PUT", "POST") to `target` (the path and query, from
  // '/', appended to the URL's scheme and authority) with `headers` and
  // `body`: the credential endpoints (instance metadata, container, STS,
  // SSO) are plain REST calls. Errors as for Post().
  absl::StatusOr<HttpResponse> Request(std::string_view method, std::string_view target,
                                       const std::vector<std::string>& headers, std::string_view body);

  // Connections opened so far (tests check reuse with it).
  int connections_opened() const;

 private:
  HttpClient(HttpOptions options, std::string host, std::string path, std::string origin);
  void* Acquire();              // a CURL*
  void Release(void* handle);   // back to the pool, or closed if the pool is full

  const HttpOptions options_;
  const std::string host_;
  const std::string path_;
  const std::string origin_;  // scheme://host[:port], for Request()
  mutable util::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
  int opened_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_HTTP_CLIENT_H_
