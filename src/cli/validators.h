// CLI11 checks shared by the commands, so that every option of a kind refuses the same bad
// values with the same words (CLI11 puts the option's name first: "--timeout: ...").
#pragma once

#include <CLI/CLI.hpp>

namespace dim::cli {

// A number of seconds: finite, > 0 (or >= 0 with allow_zero), at most a year. Refuses "nan",
// "inf" and 1e300, which would otherwise overflow a deadline.
CLI::Validator Seconds(bool allow_zero = false);
// A finite number (no nan or inf; one too close to zero reads as 0); its range is checked
// where the config is.
CLI::Validator FiniteNumber();
// Text that is valid UTF-8 (paths may be any bytes).
CLI::Validator Utf8Text();
// A name or id: valid UTF-8, not empty.
CLI::Validator Name();
// A node id (core::CheckNodeId).
CLI::Validator NodeId();
// HOST:PORT with a port in 0..65535 (1..65535 unless allow_port_zero); IPv6 hosts in brackets.
// `env`, when given, names the environment variable the value may come from, in messages.
CLI::Validator HostPort(bool allow_port_zero, std::string env = {});
// A size in bytes with an optional suffix (500M, 2G); a negative one is refused by name
// (AsSizeValue alone takes "-1" as a huge size, or reports "-5K" as an overflow).
CLI::Validator ByteSize();

}  // namespace dim::cli
