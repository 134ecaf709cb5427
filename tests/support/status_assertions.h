// Status assertions for engine-level tests: ASSERT_OK / EXPECT_OK,
// EXPECT_CODE (a StatusCode enumerator name), EXPECT_ERRNO (code and errno
// name), EXPECT_FAULT (fault kind at exactly an address); each prints the
// expression and the Status on failure. PrintTo lets GoogleTest print a
// Status in any assertion message.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ios>
#include <ostream>

#include "server/common/status.h"

namespace memserver {
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
}  // namespace memserver

#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    const ::memserver::Status _st = (expr);                               \
    ASSERT_TRUE(_st.ok()) << #expr << " -> " << _st.ToString();           \
  } while (0)
#define EXPECT_OK(expr)                                                   \
  do {                                                                    \
    const ::memserver::Status _st = (expr);                               \
    EXPECT_TRUE(_st.ok()) << #expr << " -> " << _st.ToString();           \
  } while (0)
// `expr` failed with StatusCode::code_ and errno name `errno_`.
#define EXPECT_ERRNO(expr, code_, errno_)                                 \
  do {                                                                    \
    const ::memserver::Status _st = (expr);                               \
    EXPECT_EQ(_st.code(), ::memserver::StatusCode::code_)                 \
        << #expr << " -> " << _st.ToString();                             \
    EXPECT_EQ(_st.errno_name(), errno_) << #expr << " -> " << _st.ToString(); \
  } while (0)
// `expr` failed with StatusCode::code_ (whatever its errno name).
#define EXPECT_CODE(expr, code_)                                          \
  do {                                                                    \
    const ::memserver::Status _st = (expr);                               \
    EXPECT_EQ(_st.code(), ::memserver::StatusCode::code_)                 \
        << #expr << " -> " << _st.ToString();                             \
  } while (0)
// `expr` faulted with FaultKind::kind_ at exactly `addr_`.
#define EXPECT_FAULT(expr, kind_, addr_)                                  \
  do {                                                                    \
    const ::memserver::Status _st = (expr);                               \
    EXPECT_EQ(_st.code(), ::memserver::StatusCode::kFailedPrecondition)   \
        << #expr << " -> " << _st.ToString();                             \
    EXPECT_EQ(_st.fault_kind(), ::memserver::FaultKind::kind_)            \
        << #expr << " -> " << _st.ToString();                             \
    EXPECT_EQ(_st.fault_address(), static_cast<uint64_t>(addr_))          \
        << std::hex << std::showbase << #expr << " -> " << _st.ToString();\
  } while (0)
