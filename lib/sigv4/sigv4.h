// AWS Signature Version 4 (SigV4) for HTTP requests: signing (a client of a
// Kinesis endpoint) and verification (tributary-server).
//
// The algorithm, as AWS specifies it ("Create a signed AWS API request"):
//   1. CanonicalRequest: method, canonical URI, canonical query string,
//      canonical headers, signed header names, hex SHA-256 of the payload,
//      joined by '\n'.
//   2. StringToSign: "AWS4-HMAC-SHA256", the request time (X-Amz-Date form,
//      20150830T123600Z), the credential scope (date/region/service/
//      aws4_request) and the hex SHA-256 of the canonical request.
//   3. SigningKey: HMAC-SHA256 chained over "AWS4" + secret, date, region,
//      service and "aws4_request".
//   4. Signature: hex HMAC-SHA256 of the string to sign under that key.
// SHA-256 and HMAC come from OpenSSL; nothing cryptographic is written here.
// Each step is a public function so tests check it against the published
// test suite (tests/sigv4/vectors).
//
// Canonical URI: the path's segments percent-encoded (RFC 3986 unreserved
// characters kept), with "." and ".." segments and empty segments removed
// (the non-S3 rule). Because the path is taken as the client sent it, a
// client that percent-encoded its path gets it encoded a second time, which
// is what AWS does for every service but S3.
// Canonical query: each name and value percent-decoded, then encoded, then
// the pairs sorted by name and value; "a" and "a=" both become "a=".
// Canonical headers: names lower-cased, values trimmed with inner runs of
// spaces collapsed to one; repeated headers joined with "," in order.
//
// Thread safety: every function is pure (no shared state).
#ifndef TRIBUTARY_LIB_SIGV4_SIGV4_H_
#define TRIBUTARY_LIB_SIGV4_SIGV4_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/status.h"

namespace tributary::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// How far a request's X-Amz-Date may be from the verifier's clock (AWS: 15 min).
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(15);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials
};

// An HTTP request as it is (or will be) sent. Views must outlive the call.
struct Request {
  std::string_view method = "POST";
  std::string_view path = "/";   // the path of the request target, before '?'
  std::string_view query;        // after '?', without it; may be empty
  // Every header, names in any case, in the order sent. Repeated names are
  // allowed (they are joined with ','). Must include Host for Sign().
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view payload;  // the body
};

// The credential scope: <date>/<region>/<service>/aws4_request.
struct Scope {
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::string ToString() const;
};

// Lower-case hex.
std::string HexSha256(std::string_view data);
using Key = std::array<uint8_t, 32>;

// "20150830T123600Z" (the X-Amz-Date form) of `t`, in UTC.
std::string FormatAmzDate(absl::Time t);
// Parses the X-Amz-Date form; nullopt if malformed.
std::optional<absl::Time> ParseAmzDate(std::string_view amz_date);

std::string CanonicalUri(std::string_view path);
std::string CanonicalQuery(std::string_view query);

// The canonical request over the headers named in `signed_headers`
// (lower-case, ';'-separated, sorted: "host;x-amz-date"). A header named there
// but absent from the request contributes "name:" (it then cannot verify).
std::string CanonicalRequest(const Request& request, std::string_view signed_headers,
                             std::string_view payload_hash);
// The SignedHeaders value that names every header of `request`.
std::string SignedHeaderList(const Request& request);

std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request);
Key SigningKey(std::string_view secret_access_key, const Scope& scope);
std::string Signature(const Key& signing_key, std::string_view string_to_sign);

// ---------------------------------------------------------------- signing

struct SignedRequest {
  std::string authorization;   // the Authorization header's value
  std::string amz_date;        // the X-Amz-Date header's value
  std::string security_token;  // X-Amz-Security-Token's value; empty: send none
  // The intermediate steps, for debugging and tests.
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Signs `request` at `time`. Every header of the request is signed, plus
// X-Amz-Date (and X-Amz-Security-Token when credentials carry a session
// token); X-Amz-Date / X-Amz-Security-Token headers already in `request`
// are replaced by the ones this call returns. The caller sends the returned
// headers with the request, unchanged.
// InvalidArgument if the request has no Host header or the credentials are
// empty.
absl::StatusOr<SignedRequest> Sign(const Request& request, const Credentials& credentials,
                                   std::string_view region, std::string_view service,
                                   absl::Time time);

// ---------------------------------------------------------------- verifying

// The parts of an Authorization header:
// AWS4-HMAC-SHA256 Credential=<key>/<scope>, SignedHeaders=<list>, Signature=<hex>
struct Authorization {
  std::string access_key_id;
  Scope scope;
  std::string signed_headers;
  std::string signature;
};

// Parses an Authorization header. IncompleteSignatureException if it is not
// a complete SigV4 header.
absl::StatusOr<Authorization> ParseAuthorization(std::string_view header);

// Only the access key id of a SigV4 Authorization header ("" if the header
// is absent or has no Credential=). Cheap: no allocation beyond the result.
std::string_view AccessKeyIdOf(std::string_view authorization_header);

struct VerifyOptions {
  // The service the credential scope must name ("kinesis"); empty: any.
  std::string service;
  absl::Duration max_clock_skew = kMaxClockSkew;
};

struct Verified {
  std::string access_key_id;
  Scope scope;
};

// Looks up the credentials of an access key id; nullopt if unknown.
using CredentialLookup = std::function<std::optional<Credentials>(std::string_view access_key_id)>;

// Verifies the SigV4 signature of `request` (its Authorization and
// X-Amz-Date headers) at time `now`. A failure is an Unauthenticated status
// carrying the AWS error type a client expects, with AWS's message:
//   MissingAuthenticationTokenException: no Authorization header;
//   IncompleteSignatureException: a malformed Authorization header, no
//     X-Amz-Date, a scope date that is not the request's date, a scope of
//     another service, or Host not among the signed headers;
//   UnrecognizedClientException: `lookup` does not know the access key id;
//   InvalidSignatureException: the signature does not match, or X-Amz-Date
//     is more than max_clock_skew away from `now` ("Signature expired").
//   A request whose query string has X-Amz-Algorithm is verified as a
//   presigned one (VerifyPresigned).
absl::StatusOr<Verified> Verify(const Request& request, const CredentialLookup& lookup,
                                absl::Time now, const VerifyOptions& options);

// Verifies a presigned request: the signature in the query string
// (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires (default
// 900 s), X-Amz-SignedHeaders, X-Amz-Signature), signed over the canonical
// request whose query is every parameter but X-Amz-Signature and whose
// payload hash is the body's SHA-256, as the AWS SDKs' presigners do for a
// non-S3 service. Valid from X-Amz-Date (less the clock skew) until
// X-Amz-Expires seconds later; then InvalidSignatureException "Signature
// expired". Other failures as Verify's.
absl::StatusOr<Verified> VerifyPresigned(const Request& request, const CredentialLookup& lookup,
                                         absl::Time now, const VerifyOptions& options);

}  // namespace tributary::sigv4

#endif  // TRIBUTARY_LIB_SIGV4_SIGV4_H_
