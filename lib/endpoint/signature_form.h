// The first checks AWS's front door makes on a request's authentication,
// before any signature is computed (docs/ENDPOINT.md "Signatures"): is there
// one, in the header or in the query string, and does it have every part.
// tributary-server makes them when it verifies signatures (--credentials)
// or only requires them (--require-signatures).
//
// Thread safety: pure functions.
#ifndef TRIBUTARY_LIB_ENDPOINT_SIGNATURE_FORM_H_
#define TRIBUTARY_LIB_ENDPOINT_SIGNATURE_FORM_H_

#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace tributary::endpoint {

// The value of query parameter `name` (raw, not percent-decoded); nullopt-
// like: `found` false if absent. "a" and "a=" are both present and empty.
std::string_view QueryParam(std::string_view query, std::string_view name, bool* found);

// AWS's answers, in AWS's order (observed):
//   * X-Amz-Algorithm in the query and an Authorization header:
//     InvalidSignatureException "Found both 'X-Amz-Algorithm' as a
//     query-string param and 'Authorization' as HTTP header.";
//   * X-Amz-Algorithm in the query: IncompleteSignatureException listing
//     each of X-Amz-Algorithm, -Credential, -Signature, -SignedHeaders and
//     -Date that is missing or empty ("AWS query-string parameters must
//     include 'X-Amz-Date'. Re-examine the query-string parameters.");
//   * an Authorization header: IncompleteSignatureException listing each of
//     Credential, Signature and SignedHeaders it lacks and, without an
//     X-Amz-Date or Date header, that ("Authorization header requires
//     'Signature' parameter. ... Authorization=<the header>");
//   * neither: MissingAuthenticationTokenException "Missing Authentication
//     Token".
// OK when the request carries every part (whether the signature is right
// is sigv4::Verify's question). `headers` are all the request's headers.
absl::Status CheckSignatureForm(
    std::string_view query, std::string_view authorization,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_SIGNATURE_FORM_H_
