// Catch2 helpers for absl::Status / absl::StatusOr<T> results of the Tributary API.
//
//   REQUIRE_OK(store->CreateStream("s", 1));          // Status or StatusOr<T>
//   CHECK_OK(store->Put("s", {.partition_key = "k"}));
//   ASSIGN_OR_REQUIRE(auto put, store->Put("s", {.partition_key = "k"}));
//   REQUIRE_ERROR(store->DeleteStream("nope"), tributary::ErrorType::kResourceNotFound);
//   CHECK_ERROR(...same...);
//   REQUIRE_ERROR_IN(expr, {ErrorType::kValidation, ErrorType::kInvalidArgument});
//
// On failure these print the absl code, the Kinesis error type and the message
// (via Catch::StringMaker<absl::Status>), never just "false".
#ifndef TRIBUTARY_TESTS_TESTING_STATUS_MATCHERS_H_
#define TRIBUTARY_TESTS_TESTING_STATUS_MATCHERS_H_

#include <catch2/catch.hpp>

#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tributary/status.h"
#include "tributary/types.h"

namespace tributary::testing {

inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// The name an ErrorType prints as in test output: the Kinesis wire name, or
// the enumerator for the non-wire types.
inline std::string ErrorTypeLabel(ErrorType t) {
  switch (t) {
    case ErrorType::kNone:
      return "kNone";
    case ErrorType::kWaiterTimeout:
      return "kWaiterTimeout";
    case ErrorType::kCorruption:
      return "kCorruption";
    default:
      return std::string(ErrorTypeName(t));
  }
}

// "OK" or "<absl code> [<Kinesis type>]: <message>".
inline std::string DescribeStatus(const absl::Status& s) {
  if (s.ok()) return "OK";
  std::string out = absl::StatusCodeToString(s.code());
  out += " [";
  out += ErrorTypeLabel(GetErrorType(s));
  out += "]: ";
  out += std::string(s.message().data(), s.message().size());
  return out;
}

class IsOkMatcher : public Catch::MatcherBase<absl::Status> {
 public:
  explicit IsOkMatcher(std::string expr = "") : expr_(std::move(expr)) {}
  bool match(const absl::Status& s) const override { return s.ok(); }
  std::string describe() const override {
    return expr_.empty() ? "is OK" : "is OK (expression: " + expr_ + ")";
  }

 private:
  std::string expr_;
};

// Matches a non-OK status whose Kinesis error type is one of `types`.
class HasErrorTypeMatcher : public Catch::MatcherBase<absl::Status> {
 public:
  explicit HasErrorTypeMatcher(std::vector<ErrorType> types) : types_(std::move(types)) {}
  bool match(const absl::Status& s) const override {
    if (s.ok()) return false;
    ErrorType got = GetErrorType(s);
    for (ErrorType t : types_) {
      if (t == got) return true;
    }
    return false;
  }
  std::string describe() const override {
    std::string out = "fails with Kinesis error type ";
    for (size_t i = 0; i < types_.size(); ++i) {
      if (i > 0) out += " or ";
      out += ErrorTypeLabel(types_[i]);
    }
    return out;
  }

 private:
  std::vector<ErrorType> types_;
};

// Matches a non-OK status with the given canonical absl code.
class HasCodeMatcher : public Catch::MatcherBase<absl::Status> {
 public:
  explicit HasCodeMatcher(absl::StatusCode code) : code_(code) {}
  bool match(const absl::Status& s) const override { return s.code() == code_; }
  std::string describe() const override {
    return "has absl code " + absl::StatusCodeToString(code_);
  }

 private:
  absl::StatusCode code_;
};

inline IsOkMatcher IsOk(std::string expr = "") { return IsOkMatcher(std::move(expr)); }
inline HasErrorTypeMatcher HasErrorType(ErrorType t) { return HasErrorTypeMatcher({t}); }
inline HasErrorTypeMatcher HasErrorTypeIn(std::initializer_list<ErrorType> ts) {
  return HasErrorTypeMatcher(std::vector<ErrorType>(ts));
}
inline HasCodeMatcher HasCode(absl::StatusCode code) { return HasCodeMatcher(code); }

}  // namespace tributary::testing

namespace Catch {
template <>
struct StringMaker<absl::Status> {
  static std::string convert(const absl::Status& s) { return tributary::testing::DescribeStatus(s); }
};
template <>
struct StringMaker<absl::StatusCode> {
  static std::string convert(absl::StatusCode c) { return absl::StatusCodeToString(c); }
};
template <>
struct StringMaker<tributary::ErrorType> {
  static std::string convert(tributary::ErrorType t) { return tributary::testing::ErrorTypeLabel(t); }
};
// The value enums print their wire names ("ACTIVE", "CLOSED", ...).
#define TRIBUTARY_TEST_ENUM_PRINTER(Enum)                                     \
  template <>                                                                 \
  struct StringMaker<tributary::Enum> {                                       \
    static std::string convert(tributary::Enum v) {                           \
      return std::string(tributary::ToString(v));                             \
    }                                                                         \
  };
TRIBUTARY_TEST_ENUM_PRINTER(StreamStatus)
TRIBUTARY_TEST_ENUM_PRINTER(StreamMode)
TRIBUTARY_TEST_ENUM_PRINTER(ShardState)
TRIBUTARY_TEST_ENUM_PRINTER(ShardIteratorType)
TRIBUTARY_TEST_ENUM_PRINTER(ShardFilterType)
TRIBUTARY_TEST_ENUM_PRINTER(ScalingType)
#undef TRIBUTARY_TEST_ENUM_PRINTER
}  // namespace Catch

#define TRIBUTARY_TEST_CONCAT_INNER_(a, b) a##b
#define TRIBUTARY_TEST_CONCAT_(a, b) TRIBUTARY_TEST_CONCAT_INNER_(a, b)

// The expression text shows up in the failure output as the argument of
// ToStatus(...), followed by the printed status and the expectation.
#define REQUIRE_OK(expr) REQUIRE_THAT(::tributary::testing::ToStatus(expr), ::tributary::testing::IsOk())
#define CHECK_OK(expr) CHECK_THAT(::tributary::testing::ToStatus(expr), ::tributary::testing::IsOk())

// REQUIRE_ERROR(expr, tributary::ErrorType::kX): expr fails with Kinesis type kX.
#define REQUIRE_ERROR(expr, type) \
  REQUIRE_THAT(::tributary::testing::ToStatus(expr), ::tributary::testing::HasErrorType(type))
#define CHECK_ERROR(expr, type) \
  CHECK_THAT(::tributary::testing::ToStatus(expr), ::tributary::testing::HasErrorType(type))
// REQUIRE_ERROR_IN(expr, {kA, kB}): expr fails with one of the listed types.
// Use only where the Kinesis contract genuinely allows either.
#define REQUIRE_ERROR_IN(expr, ...)                           \
  REQUIRE_THAT(::tributary::testing::ToStatus(expr),          \
               ::tributary::testing::HasErrorTypeIn(__VA_ARGS__))
#define CHECK_ERROR_IN(expr, ...)                             \
  CHECK_THAT(::tributary::testing::ToStatus(expr),            \
             ::tributary::testing::HasErrorTypeIn(__VA_ARGS__))

// ASSIGN_OR_REQUIRE(lhs, expr): evaluates the StatusOr `expr`, REQUIREs it is
// OK and move-assigns its value to `lhs` (which may be a declaration such as
// `auto x`). Expands to several statements; do not use as the body of an
// unbraced if/for.
#define ASSIGN_OR_REQUIRE(lhs, expr) \
  TRIBUTARY_ASSIGN_OR_REQUIRE_IMPL_(TRIBUTARY_TEST_CONCAT_(tributary_statusor_, __COUNTER__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` is an identifier and `lhs`
// may be a declaration ("auto x"); parentheses would break both.
#define TRIBUTARY_ASSIGN_OR_REQUIRE_IMPL_(tmp, lhs, expr)                      \
  auto tmp = (expr);                                                          \
  REQUIRE_THAT(::tributary::testing::ToStatus(tmp), ::tributary::testing::IsOk(#expr)); \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

#endif  // TRIBUTARY_TESTS_TESTING_STATUS_MATCHERS_H_
