#include "sigv4/sigv4.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace tributary::sigv4 {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const uint8_t* p, size_t n) {
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

Key Hmac(const uint8_t* key, size_t key_len, std::string_view data) {
  Key out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(key_len),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void PercentEncode(std::string_view s, std::string* out) {
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back("0123456789ABCDEF"[c >> 4]);
      out->push_back("0123456789ABCDEF"[c & 15]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX sequences decoded; a '%' not followed by two hex digits stays as is.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Encoded(std::string_view s) {
  std::string out;
  PercentEncode(s, &out);
  return out;
}

// Trims and collapses runs of spaces/tabs to one space (AWS "Trimall").
std::string TrimAll(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
                  absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string_view> HeaderValue(const Request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (IEquals(k, name)) return v;
  }
  return std::nullopt;
}

absl::Status Fail(ErrorType type, std::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, type, message);
}

}  // namespace

std::string Scope::ToString() const {
  return fmt::format("{}/{}/{}/aws4_request", date, region, service);
}

std::string HexSha256(std::string_view data) {
  uint8_t md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

std::string FormatAmzDate(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseAmzDate(std::string_view amz_date) {
  // absl::ParseTime's %Y takes every digit it sees, so parse the fixed form by hand.
  if (amz_date.size() != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (amz_date[i] < '0' || amz_date[i] > '9') return -1;
      v = v * 10 + (amz_date[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2),
            sec = num(13, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      sec < 0 || sec > 60) {
    return std::nullopt;
  }
  absl::CivilSecond cs(y, mo, d, h, mi, sec);
  if (cs.day() != d) return std::nullopt;  // 20150231 normalizes to March
  return absl::FromCivil(cs, absl::UTCTimeZone());
}

std::string CanonicalUri(std::string_view path) {
  // Remove dot segments and empty segments, then encode each segment.
  std::vector<std::string_view> segments;
  for (absl::string_view seg : absl::StrSplit(absl::string_view(path.data(), path.size()), '/')) {
    std::string_view s(seg.data(), seg.size());
    if (s.empty() || s == ".") continue;
    if (s == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(s);
  }
  std::string out;
  for (std::string_view s : segments) {
    out.push_back('/');
    PercentEncode(s, &out);
  }
  // A trailing slash survives normalization ("/a/" stays "/a/").
  if (out.empty() || (path.size() > 1 && path.back() == '/')) out.push_back('/');
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!query.empty()) {
    for (absl::string_view part : absl::StrSplit(absl::string_view(query.data(), query.size()), '&')) {
      if (part.empty()) continue;
      size_t eq = part.find('=');
      std::string_view name(part.data(), eq == absl::string_view::npos ? part.size() : eq);
      std::string_view value = eq == absl::string_view::npos
                                   ? std::string_view()
                                   : std::string_view(part.data() + eq + 1, part.size() - eq - 1);
      params.emplace_back(Encoded(PercentDecode(name)), Encoded(PercentDecode(value)));
    }
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string SignedHeaderList(const Request& request) {
  std::vector<std::string> names;
  for (const auto& [k, v] : request.headers) names.push_back(absl::AsciiStrToLower(absl::string_view(k.data(), k.size())));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out.push_back(';');
    out += n;
  }
  return out;
}

std::string CanonicalRequest(const Request& request, std::string_view signed_headers,
                             std::string_view payload_hash) {
  std::string out;
  out.reserve(256);
  out.append(request.method);
  out.push_back('\n');
  out += CanonicalUri(request.path);
  out.push_back('\n');
  out += CanonicalQuery(request.query);
  out.push_back('\n');
  for (absl::string_view name :
       absl::StrSplit(absl::string_view(signed_headers.data(), signed_headers.size()), ';')) {
    std::string_view n(name.data(), name.size());
    out.append(n);
    out.push_back(':');
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (!IEquals(k, n)) continue;
      if (!first) out.push_back(',');
      out += TrimAll(v);
      first = false;
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  out.append(signed_headers);
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope.ToString(),
                     HexSha256(canonical_request));
}

Key SigningKey(std::string_view secret_access_key, const Scope& scope) {
  std::string k0 = fmt::format("AWS4{}", secret_access_key);
  Key k = Hmac(reinterpret_cast<const uint8_t*>(k0.data()), k0.size(), scope.date);
  OPENSSL_cleanse(k0.data(), k0.size());
  k = Hmac(k.data(), k.size(), scope.region);
  k = Hmac(k.data(), k.size(), scope.service);
  return Hmac(k.data(), k.size(), "aws4_request");
}

namespace {

// The signing key depends only on the secret and the scope (a day, a region,
// a service), yet deriving it costs four HMACs (a tenth of a remote Put's
// client CPU, docs/PERFORMANCE.md). Like the AWS SDKs, keep the last one:
// per thread, so no lock, which is all a client signing for one account and
// region needs. The secret itself is not kept, only the access key id and a
// 64-bit hash of the secret, so a changed secret derives a new key.
Key CachedSigningKey(const Credentials& credentials, const Scope& scope) {
  struct Entry {
    std::string access_key_id;
    size_t secret_hash = 0;
    Scope scope;
    Key key{};
    bool valid = false;
  };
  thread_local Entry cached;
  const size_t secret_hash = std::hash<std::string_view>()(credentials.secret_access_key);
  if (cached.valid && cached.secret_hash == secret_hash && cached.access_key_id == credentials.access_key_id &&
      cached.scope.date == scope.date && cached.scope.region == scope.region &&
      cached.scope.service == scope.service) {
    return cached.key;
  }
  cached.key = SigningKey(credentials.secret_access_key, scope);
  cached.access_key_id = credentials.access_key_id;
  cached.secret_hash = secret_hash;
  cached.scope = scope;
  cached.valid = true;
  return cached.key;
}

}  // namespace

std::string Signature(const Key& signing_key, std::string_view string_to_sign) {
  Key sig = Hmac(signing_key.data(), signing_key.size(), string_to_sign);
  return Hex(sig.data(), sig.size());
}

absl::StatusOr<SignedRequest> Sign(const Request& request, const Credentials& credentials,
                                   std::string_view region, std::string_view service,
                                   absl::Time time) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("SigV4: empty access key id or secret access key");
  }
  if (!HeaderValue(request, "host").has_value()) {
    return absl::InvalidArgumentError("SigV4: the request has no Host header to sign");
  }
  SignedRequest out;
  out.amz_date = FormatAmzDate(time);
  out.security_token = credentials.session_token;
  Request r = request;
  r.headers.clear();
  for (const auto& h : request.headers) {
    if (IEquals(h.first, "x-amz-date") || IEquals(h.first, "x-amz-security-token")) continue;
    r.headers.push_back(h);
  }
  r.headers.emplace_back("x-amz-date", out.amz_date);
  if (!out.security_token.empty()) r.headers.emplace_back("x-amz-security-token", out.security_token);
  Scope scope{out.amz_date.substr(0, 8), std::string(region), std::string(service)};
  const std::string signed_headers = SignedHeaderList(r);
  out.canonical_request = CanonicalRequest(r, signed_headers, HexSha256(r.payload));
  out.string_to_sign = StringToSign(out.amz_date, scope, out.canonical_request);
  out.signature = Signature(CachedSigningKey(credentials, scope), out.string_to_sign);
  out.authorization = fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                  credentials.access_key_id, scope.ToString(), signed_headers,
                                  out.signature);
  return out;
}

std::string_view AccessKeyIdOf(std::string_view header) {
  size_t p = header.find("Credential=");
  if (p == std::string_view::npos) return {};
  header.remove_prefix(p + 11);
  size_t end = header.find_first_of("/, ");
  return header.substr(0, end);
}

absl::StatusOr<Authorization> ParseAuthorization(std::string_view header) {
  auto incomplete = [&](std::string_view what) {
    return Fail(ErrorType::kIncompleteSignature,
                fmt::format("{} Authorization={}", what, header.substr(0, 512)));
  };
  std::string_view h = header;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (h.size() > kAlgorithm.size() && h[kAlgorithm.size()] != ' ')) {
    return incomplete(fmt::format("Authorization header requires the {} algorithm.", kAlgorithm));
  }
  h.remove_prefix(kAlgorithm.size());
  std::optional<std::string_view> credential, signed_headers, signature;
  for (absl::string_view part : absl::StrSplit(absl::string_view(h.data(), h.size()), ',')) {
    std::string_view p(part.data(), part.size());
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = p.substr(0, eq), value = p.substr(eq + 1);
    if (key == "Credential") credential = value;
    if (key == "SignedHeaders") signed_headers = value;
    if (key == "Signature") signature = value;
  }
  if (!credential) return incomplete("Authorization header requires 'Credential' parameter.");
  if (!signed_headers) return incomplete("Authorization header requires 'SignedHeaders' parameter.");
  if (!signature) return incomplete("Authorization header requires 'Signature' parameter.");
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(credential->data(), credential->size()), '/');
  if (parts.size() != 5 || parts[0].empty() || parts[4] != "aws4_request" ||
      parts[1].size() != 8) {
    return incomplete(fmt::format(
        "Credential should be scoped to a valid region, not '{}'. Credential must have the form "
        "<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.",
        parts.size() >= 3 ? parts[2] : std::string()));
  }
  Authorization a;
  a.access_key_id = parts[0];
  a.scope = Scope{parts[1], parts[2], parts[3]};
  a.signed_headers = std::string(*signed_headers);
  a.signature = std::string(*signature);
  return a;
}

namespace {

// The checks and the signature comparison both forms of authentication
// share: `auth` and `amz_date` from the header or the query string,
// `canonical_query` the query to sign (without X-Amz-Signature for the
// query form), `expires` the query form's X-Amz-Expires.
absl::StatusOr<Verified> VerifyParsed(const Request& request, const Authorization& auth,
                                      std::string_view amz_date, std::string_view canonical_query,
                                      std::optional<int64_t> expires, const CredentialLookup& lookup,
                                      absl::Time now, const VerifyOptions& options) {
  std::optional<absl::Time> when = ParseAmzDate(amz_date);
  if (!when.has_value()) {
    return Fail(ErrorType::kIncompleteSignature,
                fmt::format("X-Amz-Date '{}' is not of the form YYYYMMDD'T'HHMMSS'Z'.",
                            amz_date.substr(0, 64)));
  }
  if (auth.scope.date != amz_date.substr(0, 8)) {
    return Fail(ErrorType::kIncompleteSignature,
                fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                            "version of date from HTTP: '{}' != '{}', from '{}'.",
                            auth.scope.date, amz_date.substr(0, 8), amz_date));
  }
  if (!options.service.empty() && auth.scope.service != options.service) {
    return Fail(ErrorType::kIncompleteSignature,
                fmt::format("Credential should be scoped to correct service: '{}'.",
                            options.service));
  }
  std::vector<std::string_view> names;
  for (absl::string_view n : absl::StrSplit(auth.signed_headers, ';')) {
    names.emplace_back(n.data(), n.size());
  }
  if (std::find(names.begin(), names.end(), "host") == names.end()) {
    return Fail(ErrorType::kIncompleteSignature,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  std::optional<Credentials> creds = lookup(auth.access_key_id);
  if (!creds.has_value()) {
    return Fail(ErrorType::kUnrecognizedClient,
                "The security token included in the request is invalid.");
  }
  if (expires.has_value()) {
    // A presigned request is valid from its X-Amz-Date (give or take the
    // clock skew) for X-Amz-Expires seconds.
    if (now > *when + absl::Seconds(*expires) || *when > now + options.max_clock_skew) {
      return Fail(ErrorType::kInvalidSignature,
                  fmt::format("Signature expired: {} is now earlier than {} ({} - {} sec.)",
                              FormatAmzDate(*when + absl::Seconds(*expires)), FormatAmzDate(now),
                              FormatAmzDate(now), *expires));
    }
  } else if (absl::AbsDuration(now - *when) > options.max_clock_skew) {
    const bool early = *when < now;
    const absl::Time bound = early ? now - options.max_clock_skew : now + options.max_clock_skew;
    return Fail(ErrorType::kInvalidSignature,
                fmt::format("Signature {}: {} is now {} than {} ({} {} {} min.)",
                            early ? "expired" : "not yet current", amz_date,
                            early ? "earlier" : "later", FormatAmzDate(bound), FormatAmzDate(now),
                            early ? "-" : "+", absl::ToInt64Minutes(options.max_clock_skew)));
  }
  Request signed_request = request;
  signed_request.query = canonical_query;
  const std::string canonical =
      CanonicalRequest(signed_request, auth.signed_headers, HexSha256(request.payload));
  const std::string sts = StringToSign(amz_date, auth.scope, canonical);
  const std::string expected = Signature(SigningKey(creds->secret_access_key, auth.scope), sts);
  if (expected.size() != auth.signature.size() ||
      CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    return Fail(ErrorType::kInvalidSignature,
                fmt::format("The request signature we calculated does not match the signature "
                            "you provided. Check your AWS Secret Access Key and signing method. "
                            "Consult the service documentation for details.\n\nThe Canonical "
                            "String for this request should have been\n'{}'\n\nThe String-to-Sign "
                            "should have been\n'{}'\n",
                            canonical, sts));
  }
  return Verified{auth.access_key_id, auth.scope};
}

// The raw value of query parameter `name` (nullopt if absent).
std::optional<std::string_view> QueryValue(std::string_view query, std::string_view name) {
  for (absl::string_view part : absl::StrSplit(absl::string_view(query.data(), query.size()), '&')) {
    std::string_view p(part.data(), part.size());
    const size_t eq = p.find('=');
    if (p.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Verified> Verify(const Request& request, const CredentialLookup& lookup,
                                absl::Time now, const VerifyOptions& options) {
  if (QueryValue(request.query, "X-Amz-Algorithm").has_value()) {
    return VerifyPresigned(request, lookup, now, options);
  }
  std::optional<std::string_view> header = HeaderValue(request, "authorization");
  if (!header.has_value() || header->empty()) {
    return Fail(ErrorType::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  absl::StatusOr<Authorization> auth = ParseAuthorization(*header);
  if (!auth.ok()) return auth.status();
  std::optional<std::string_view> amz_date = HeaderValue(request, "x-amz-date");
  if (!amz_date.has_value()) {
    return Fail(ErrorType::kIncompleteSignature,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header.");
  }
  return VerifyParsed(request, *auth, *amz_date, request.query, std::nullopt, lookup, now, options);
}

absl::StatusOr<Verified> VerifyPresigned(const Request& request, const CredentialLookup& lookup,
                                         absl::Time now, const VerifyOptions& options) {
  auto param = [&](std::string_view name) -> std::string {
    std::optional<std::string_view> v = QueryValue(request.query, name);
    return v.has_value() ? PercentDecode(*v) : std::string();
  };
  auto incomplete = [](std::string_view what) {
    return Fail(ErrorType::kIncompleteSignature,
                fmt::format("{} Re-examine the query-string parameters.", what));
  };
  if (param("X-Amz-Algorithm") != kAlgorithm) {
    return incomplete(fmt::format("X-Amz-Algorithm only supports '{}'.", kAlgorithm));
  }
  const std::string credential = param("X-Amz-Credential");
  std::vector<std::string> parts = absl::StrSplit(credential, '/');
  if (parts.size() != 5 || parts[0].empty() || parts[4] != "aws4_request" || parts[1].size() != 8) {
    return incomplete("X-Amz-Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.");
  }
  Authorization a;
  a.access_key_id = parts[0];
  a.scope = Scope{parts[1], parts[2], parts[3]};
  a.signed_headers = param("X-Amz-SignedHeaders");
  a.signature = param("X-Amz-Signature");
  if (a.signed_headers.empty() || a.signature.empty()) {
    return incomplete("AWS query-string parameters must include 'X-Amz-SignedHeaders' and 'X-Amz-Signature'.");
  }
  int64_t expires = 0;
  const std::string expires_text = param("X-Amz-Expires");
  if (expires_text.empty()) {
    expires = 900;  // 15 minutes when the client does not say
  } else if (!absl::SimpleAtoi(expires_text, &expires) || expires < 1 || expires > 604800) {
    return incomplete("X-Amz-Expires must be a number of seconds from 1 to 604800.");
  }
  // The canonical query is every parameter but the signature.
  std::string query;
  for (absl::string_view part : absl::StrSplit(absl::string_view(request.query.data(), request.query.size()), '&')) {
    if (part.empty() || part.substr(0, part.find('=')) == "X-Amz-Signature") continue;
    if (!query.empty()) query += '&';
    query.append(part.data(), part.size());
  }
  return VerifyParsed(request, a, param("X-Amz-Date"), query, expires, lookup, now, options);
}

}  // namespace tributary::sigv4
