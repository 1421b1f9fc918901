#include "core/host_port.h"

#include <charconv>

#include "core/text.h"

namespace dim::core {

Result<HostPort> ParseHostPort(std::string_view address, unsigned lowest_port) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("expected HOST:PORT, got '" + Snippet(address) + "'");
  }
  const std::string_view port = address.substr(colon + 1);
  unsigned n = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (ec != std::errc() || end != port.data() + port.size() || n > 65535 || n < lowest_port) {
    return Status::InvalidArgument("the port must be a number from " +
                                   std::to_string(lowest_port) + " to 65535, got '" +
                                   Snippet(port) + "'");
  }
  return HostPort{std::string(address.substr(0, colon)), n};
}

}  // namespace dim::core
