#include "endpoint/signature_form.h"

#include <fmt/format.h>

#include <cctype>
#include <string>

#include "tributary/status.h"

namespace tributary::endpoint {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool HasHeader(const std::vector<std::pair<std::string_view, std::string_view>>& headers,
               std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return true;
  }
  return false;
}

// Whether the Authorization header has a "<name>=<value>" parameter; AWS
// separates them by spaces, commas, or both.
bool HasParam(std::string_view header, std::string_view name) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    size_t end = i;
    while (end < header.size() && header[end] != ' ' && header[end] != ',') ++end;
    std::string_view token = header.substr(i, end - i);
    if (token.size() > name.size() && token.substr(0, name.size()) == name && token[name.size()] == '=') {
      return true;
    }
    i = end;
  }
  return false;
}

}  // namespace

std::string_view QueryParam(std::string_view query, std::string_view name, bool* found) {
  *found = false;
  size_t i = 0;
  while (i <= query.size()) {
    size_t end = query.find('&', i);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(i, end - i);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      *found = true;
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    i = end + 1;
  }
  return {};
}

absl::Status CheckSignatureForm(
    std::string_view query, std::string_view authorization,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers) {
  bool query_auth = false;
  QueryParam(query, "X-Amz-Algorithm", &query_auth);
  if (query_auth && !authorization.empty()) {
    return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kInvalidSignature,
                     "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as "
                     "HTTP header.");
  }
  if (query_auth) {
    std::string missing;
    for (std::string_view p : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                               "X-Amz-SignedHeaders", "X-Amz-Date"}) {
      bool found = false;
      if (QueryParam(query, p, &found).empty()) {
        fmt::format_to(std::back_inserter(missing), "AWS query-string parameters must include '{}'. ", p);
      }
    }
    if (missing.empty()) return absl::OkStatus();
    return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kIncompleteSignature,
                     missing + "Re-examine the query-string parameters.");
  }
  if (!authorization.empty()) {
    std::string missing;
    for (std::string_view p : {"Credential", "Signature", "SignedHeaders"}) {
      if (!HasParam(authorization, p)) {
        fmt::format_to(std::back_inserter(missing), "Authorization header requires '{}' parameter. ", p);
      }
    }
    if (!HasHeader(headers, "x-amz-date") && !HasHeader(headers, "date")) {
      missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    }
    if (missing.empty()) return absl::OkStatus();
    return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kIncompleteSignature,
                     fmt::format("{}Authorization={}", missing, authorization));
  }
  return MakeError(absl::StatusCode::kUnauthenticated, ErrorType::kMissingAuthenticationToken,
                   "Missing Authentication Token");
}

}  // namespace tributary::endpoint
