// Internal status helpers (abseil 20220623 ships no RETURN_IF_ERROR).
#ifndef TRIBUTARY_LIB_UTIL_STATUS_MACROS_H_
#define TRIBUTARY_LIB_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"

#define TRIBUTARY_RETURN_IF_ERROR(expr)            \
  do {                                             \
    ::absl::Status _tributary_st = (expr);         \
    if (!_tributary_st.ok()) return _tributary_st; \
  } while (0)

#define TRIBUTARY_CONCAT_INNER_(a, b) a##b
#define TRIBUTARY_CONCAT_(a, b) TRIBUTARY_CONCAT_INNER_(a, b)
#define TRIBUTARY_ASSIGN_OR_RETURN(lhs, expr) \
  TRIBUTARY_ASSIGN_OR_RETURN_IMPL_(TRIBUTARY_CONCAT_(_tributary_sor_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` is an identifier and `lhs`
// may be a declaration ("auto x"); parentheses would break both.
#define TRIBUTARY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return tmp.status();                    \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

namespace tributary {
// Drops a Status on purpose; grep for IgnoreError to find every such place.
inline void IgnoreError(const absl::Status&) {}
}  // namespace tributary

#endif  // TRIBUTARY_LIB_UTIL_STATUS_MACROS_H_
