// TempDir for this suite: the shared one (tests/support/temp_dir.h).
#pragma once

#include "tests/support/temp_dir.h"

namespace memserver::memload {

using ::memserver::test::TempDir;

}  // namespace memserver::memload
