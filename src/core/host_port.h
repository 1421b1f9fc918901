// HOST:PORT, as every address dim listens on or dials is written.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace dim::core {

struct HostPort {
  std::string host;  // as written: a name, an IPv4 address, or an IPv6 one in brackets
  unsigned port = 0;
};

// Splits `address` at its last ':'; the host is not resolved. INVALID_ARGUMENT "expected
// HOST:PORT, got 'x'" without a host or a port; "the port must be a number from L to 65535,
// got 'p'" for a port that is not one, or below `lowest_port`.
Result<HostPort> ParseHostPort(std::string_view address, unsigned lowest_port);

}  // namespace dim::core
