// SigV4 (lib/sigv4) against the AWS Signature Version 4 test suite
// (tests/sigv4/vectors, see its README), and Verify's error paths.
#include "sigv4/sigv4.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tributary/status.h"

namespace tributary::sigv4 {
namespace {

const Credentials kExample{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const absl::Time kSuiteTime = absl::FromUnixSeconds(1440938160);  // 2015-08-30T12:36:00Z
const std::string kToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoI"
    "YRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5V"
    "SXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc"
    "8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string VectorPath(const std::string& name, const std::string& ext) {
  return std::string(TRIBUTARY_SIGV4_VECTORS) + "/" + name + "/" + name + "." + ext;
}

// A parsed .req file; Request() views into it.
struct RawRequest {
  std::string method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;

  sigv4::Request View() const {
    sigv4::Request r;
    r.method = method;
    r.path = path;
    r.query = query;
    for (const auto& [k, v] : headers) r.headers.emplace_back(k, v);
    r.payload = body;
    return r;
  }
};

RawRequest ParseReq(const std::string& text) {
  RawRequest r;
  size_t line_end = text.find('\n');
  std::string first = text.substr(0, line_end);
  size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  r.method = first.substr(0, sp1);
  std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  size_t pos = line_end == std::string::npos ? text.size() : line_end + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    if (line.empty()) {  // the body follows
      r.body = text.substr(pos);
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {  // continuation of the previous header
      size_t s = line.find_first_not_of(" \t");
      r.headers.back().second += "," + line.substr(s);
      continue;
    }
    size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

const char* const kVectors[] = {
    "get-vanilla",
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-value",
    "get-vanilla-utf8-query",
    "get-header-key-duplicate",
    "get-header-value-multiline",
    "get-header-value-trim",
    "get-unreserved",
    "get-utf8",
    "post-header-key-sort",
    "post-sts-header-before",
    "post-vanilla",
    "post-vanilla-empty-query-value",
    "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters",
};

TEST_CASE("SigV4 signs every vector of the AWS test suite as AWS does", "[sigv4]") {
  const std::string name = GENERATE(from_range(std::begin(kVectors), std::end(kVectors)));
  INFO(name);
  std::optional<std::string> req_text = ReadFile(VectorPath(name, "req"));
  std::optional<std::string> authz = ReadFile(VectorPath(name, "authz"));
  REQUIRE(req_text.has_value());
  REQUIRE(authz.has_value());
  RawRequest raw = ParseReq(*req_text);
  Credentials creds = kExample;
  for (const auto& [k, v] : raw.headers) {
    if (k == "X-Amz-Security-Token") creds.session_token = v;
  }
  absl::StatusOr<SignedRequest> s = Sign(raw.View(), creds, "us-east-1", "service", kSuiteTime);
  REQUIRE(s.ok());
  CHECK(s->authorization == *authz);
  CHECK(s->amz_date == "20150830T123600Z");
  CHECK(s->security_token == creds.session_token);
  // The intermediate steps, where the suite publishes them.
  if (std::optional<std::string> creq = ReadFile(VectorPath(name, "creq"))) {
    CHECK(s->canonical_request == *creq);
  }
  if (std::optional<std::string> sts = ReadFile(VectorPath(name, "sts"))) {
    CHECK(s->string_to_sign == *sts);
  }
}

TEST_CASE("SigV4 verifies the suite's signed requests and rejects altered ones", "[sigv4]") {
  const std::string name = GENERATE(from_range(std::begin(kVectors), std::end(kVectors)));
  INFO(name);
  RawRequest raw = ParseReq(*ReadFile(VectorPath(name, "req")));
  raw.headers.emplace_back("Authorization", *ReadFile(VectorPath(name, "authz")));
  auto lookup = [](std::string_view id) -> std::optional<Credentials> {
    if (id == "AKIDEXAMPLE") return kExample;
    return std::nullopt;
  };
  VerifyOptions opts;
  opts.service = "service";
  absl::StatusOr<Verified> v = Verify(raw.View(), lookup, kSuiteTime + absl::Minutes(3), opts);
  REQUIRE(v.ok());
  CHECK(v->access_key_id == "AKIDEXAMPLE");
  CHECK(v->scope.ToString() == "20150830/us-east-1/service/aws4_request");

  RawRequest tampered = raw;
  tampered.body += "x";
  absl::Status st = Verify(tampered.View(), lookup, kSuiteTime, opts).status();
  CHECK(GetErrorType(st) == ErrorType::kInvalidSignature);
  CHECK(st.message().find("does not match") != absl::string_view::npos);
}

TEST_CASE("SigV4 signing key derivation matches AWS's worked example", "[sigv4]") {
  // The derived key of the AWS documentation's example (secret
  // wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830/us-east-1/iam).
  Key k = SigningKey(kExample.secret_access_key, Scope{"20150830", "us-east-1", "iam"});
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : k) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  CHECK(hex == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  CHECK(HexSha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("SigV4 canonical URI and query follow the non-S3 rules", "[sigv4]") {
  CHECK(CanonicalUri("/") == "/");
  CHECK(CanonicalUri("") == "/");
  CHECK(CanonicalUri("/example space/") == "/example%20space/");
  CHECK(CanonicalUri("/./") == "/");
  CHECK(CanonicalUri("/example/..") == "/");
  CHECK(CanonicalUri("/example/../..") == "/");
  CHECK(CanonicalUri("//example//") == "/example/");
  CHECK(CanonicalUri("/%41") == "/%2541");  // an encoded path is encoded again
  CHECK(CanonicalQuery("") == "");
  CHECK(CanonicalQuery("b=2&a=1&A=0") == "A=0&a=1&b=2");
  CHECK(CanonicalQuery("Param1") == "Param1=");
  CHECK(CanonicalQuery("k=a%20b") == "k=a%20b");
  CHECK(CanonicalQuery("k=a+b") == "k=a%2Bb");
}

sigv4::Request KinesisRequest(std::vector<std::pair<std::string_view, std::string_view>> extra) {
  sigv4::Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Host", "127.0.0.1:4567"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "Kinesis_20131202.ListStreams"}};
  for (auto& h : extra) r.headers.push_back(h);
  r.payload = "{}";
  return r;
}

TEST_CASE("SigV4 round trip: what Sign produces, Verify accepts", "[sigv4]") {
  const Credentials creds{"AKIAIOSFODNN7EXAMPLE", "secret", ""};
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  sigv4::Request r = KinesisRequest({});
  absl::StatusOr<SignedRequest> s = Sign(r, creds, "eu-west-1", "kinesis", now);
  REQUIRE(s.ok());
  CHECK(s->authorization.find("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20231114/eu-west-1/kinesis/aws4_request, "
                              "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=") == 0u);
  r.headers.emplace_back("X-Amz-Date", s->amz_date);
  r.headers.emplace_back("Authorization", s->authorization);
  auto lookup = [&](std::string_view id) -> std::optional<Credentials> {
    if (id == creds.access_key_id) return creds;
    return std::nullopt;
  };
  VerifyOptions opts;
  opts.service = "kinesis";
  CHECK(Verify(r, lookup, now, opts).ok());
  CHECK(AccessKeyIdOf(s->authorization) == "AKIAIOSFODNN7EXAMPLE");

  SECTION("a wrong secret is InvalidSignatureException") {
    auto other = [&](std::string_view) -> std::optional<Credentials> {
      return Credentials{creds.access_key_id, "another secret", ""};
    };
    CHECK(GetErrorType(Verify(r, other, now, opts).status()) == ErrorType::kInvalidSignature);
  }
  SECTION("an unknown access key id is UnrecognizedClientException") {
    auto none = [](std::string_view) -> std::optional<Credentials> { return std::nullopt; };
    absl::Status st = Verify(r, none, now, opts).status();
    CHECK(GetErrorType(st) == ErrorType::kUnrecognizedClient);
    CHECK(st.message() == "The security token included in the request is invalid.");
  }
  SECTION("a date outside the 15-minute window is InvalidSignatureException (expired)") {
    absl::Status st = Verify(r, lookup, now + absl::Minutes(16), opts).status();
    CHECK(GetErrorType(st) == ErrorType::kInvalidSignature);
    CHECK(st.message().find("Signature expired") == 0u);
    CHECK(Verify(r, lookup, now + absl::Minutes(14), opts).ok());
    CHECK(GetErrorType(Verify(r, lookup, now - absl::Minutes(16), opts).status()) ==
          ErrorType::kInvalidSignature);
  }
  SECTION("a scope of another service is IncompleteSignatureException") {
    opts.service = "dynamodb";
    CHECK(GetErrorType(Verify(r, lookup, now, opts).status()) == ErrorType::kIncompleteSignature);
  }
  SECTION("a header changed after signing breaks the signature") {
    for (auto& h : r.headers) {
      if (h.first == "X-Amz-Target") h.second = "Kinesis_20131202.DeleteStream";
    }
    CHECK(GetErrorType(Verify(r, lookup, now, opts).status()) == ErrorType::kInvalidSignature);
  }
}

TEST_CASE("SigV4 Sign reuses a signing key only for the same secret and scope", "[sigv4]") {
  // Sign keeps the last derived key per thread; every change of the inputs
  // must derive again. Each signature is checked against a key derived here.
  const absl::Time day1 = absl::FromUnixSeconds(1700000000);
  const absl::Time day2 = day1 + absl::Hours(24);
  sigv4::Request r = KinesisRequest({});
  struct Case {
    Credentials creds;
    std::string region;
    std::string service;
    absl::Time at;
  };
  const std::vector<Case> cases = {
      {{"AKIDCACHE", "secret-1", ""}, "eu-west-1", "kinesis", day1},
      {{"AKIDCACHE", "secret-1", ""}, "eu-west-1", "kinesis", day1},  // the cached key
      {{"AKIDCACHE", "secret-2", ""}, "eu-west-1", "kinesis", day1},  // same id, another secret
      {{"AKIDOTHER", "secret-2", ""}, "eu-west-1", "kinesis", day1},
      {{"AKIDOTHER", "secret-2", ""}, "us-east-1", "kinesis", day1},
      {{"AKIDOTHER", "secret-2", ""}, "us-east-1", "firehose", day1},
      {{"AKIDOTHER", "secret-2", ""}, "us-east-1", "firehose", day2},
      {{"AKIDCACHE", "secret-1", ""}, "eu-west-1", "kinesis", day1},  // back to the first
  };
  std::set<std::string> signatures;
  for (const Case& c : cases) {
    absl::StatusOr<SignedRequest> s = Sign(r, c.creds, c.region, c.service, c.at);
    REQUIRE(s.ok());
    const Scope scope{s->amz_date.substr(0, 8), c.region, c.service};
    CHECK(s->signature == Signature(SigningKey(c.creds.secret_access_key, scope), s->string_to_sign));
    signatures.insert(s->signature);
  }
  // Alike: the two repeats, and AKIDCACHE/AKIDOTHER with the same secret and
  // scope (the string to sign does not hold the access key id).
  CHECK(signatures.size() == cases.size() - 3);
}

TEST_CASE("SigV4 Verify names what is missing from an incomplete request", "[sigv4]") {
  auto any = [](std::string_view) -> std::optional<Credentials> { return kExample; };
  const absl::Time now = kSuiteTime;
  VerifyOptions opts;
  CHECK(GetErrorType(Verify(KinesisRequest({}), any, now, opts).status()) ==
        ErrorType::kMissingAuthenticationToken);
  auto incomplete = [&](std::string_view authz, std::string_view date) {
    std::vector<std::pair<std::string_view, std::string_view>> h = {{"Authorization", authz}};
    if (!date.empty()) h.emplace_back("X-Amz-Date", date);
    return GetErrorType(Verify(KinesisRequest(h), any, now, opts).status()) ==
           ErrorType::kIncompleteSignature;
  };
  const std::string good =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=00";
  CHECK(incomplete("Basic dXNlcjpwYXNz", "20150830T123600Z"));
  CHECK(incomplete("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "20150830T123600Z"));
  CHECK(incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
                   "Signature=00",
                   "20150830T123600Z"));
  CHECK(incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/us-east-1, SignedHeaders=host, Signature=00",
                   "20150830T123600Z"));
  CHECK(incomplete(good, ""));                  // no X-Amz-Date
  CHECK(incomplete(good, "yesterday"));         // malformed X-Amz-Date
  CHECK(incomplete(good, "20150831T123600Z"));  // scope date is not the request's date
  CHECK(incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
                   "SignedHeaders=x-amz-date, Signature=00",
                   "20150830T123600Z"));  // host not signed
  // With everything present the signature itself is checked.
  std::vector<std::pair<std::string_view, std::string_view>> h = {{"Authorization", good},
                                                                  {"X-Amz-Date", "20150830T123600Z"}};
  CHECK(GetErrorType(Verify(KinesisRequest(h), any, now, opts).status()) ==
        ErrorType::kInvalidSignature);
}

TEST_CASE("SigV4 Sign refuses a request without Host or credentials", "[sigv4]") {
  sigv4::Request r;
  r.headers = {{"X-Amz-Target", "x"}};
  CHECK(!Sign(r, kExample, "us-east-1", "kinesis", kSuiteTime).ok());
  r.headers.emplace_back("Host", "h");
  CHECK(!Sign(r, Credentials{}, "us-east-1", "kinesis", kSuiteTime).ok());
  CHECK(Sign(r, kExample, "us-east-1", "kinesis", kSuiteTime).ok());
}

TEST_CASE("SigV4 amz-date round-trips and rejects other forms", "[sigv4]") {
  CHECK(FormatAmzDate(kSuiteTime) == "20150830T123600Z");
  CHECK(ParseAmzDate("20150830T123600Z") == kSuiteTime);
  CHECK(!ParseAmzDate("2015-08-30T12:36:00Z").has_value());
  CHECK(!ParseAmzDate("20150830T123600").has_value());
}

}  // namespace
}  // namespace tributary::sigv4
