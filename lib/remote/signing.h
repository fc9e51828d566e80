// The headers of one AWS JSON-protocol request (Kinesis, DynamoDB), signed
// with AWS Signature Version 4 (lib/sigv4) for lib/remote's clients.
#ifndef TRIBUTARY_LIB_REMOTE_SIGNING_H_
#define TRIBUTARY_LIB_REMOTE_SIGNING_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/remote.h"

namespace tributary::remote {

inline constexpr std::string_view kKinesisContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kKinesisTargetPrefix = "Kinesis_20131202.";

struct KinesisRequest {
  std::string_view host;  // the Host header as sent ("host" or "host:port")
  std::string_view path;  // the URL's path ("/" when it has none)
  std::string_view action;  // "PutRecord", ...
  std::string_view body;
};

// "Name: value" lines to send besides Host: Content-Type, X-Amz-Target,
// X-Amz-Date, X-Amz-Security-Token (with a session token) and
// Authorization, signed for service "kinesis" in `region` at `now`.
// Host, Content-Type and X-Amz-Target are among the signed headers.
absl::StatusOr<std::vector<std::string>> SignedKinesisHeaders(const KinesisRequest& request,
                                                              const AwsCredentials& credentials,
                                                              std::string_view region, absl::Time now);

// Any JSON-protocol service: the same headers, for SigV4 service `service`
// ("kinesis", "dynamodb"), with `content_type` and X-Amz-Target `target`
// ("DynamoDB_20120810.PutItem").
struct JsonRequest {
  std::string_view host;
  std::string_view path;
  std::string_view content_type;
  std::string_view target;
  std::string_view body;
};
absl::StatusOr<std::vector<std::string>> SignedJsonHeaders(std::string_view service, const JsonRequest& request,
                                                           const AwsCredentials& credentials,
                                                           std::string_view region, absl::Time now);

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_SIGNING_H_
