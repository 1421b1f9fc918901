// libFuzzer target for the job config reader: any bytes given as a job's config_json must
// parse into a config of each pattern or be refused with INVALID_ARGUMENT, never throw or
// crash; a config that parses must come back the same from its canonical JSON, and every
// message must be valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/job/chained_config.h"
#include "core/job/collaborative_config.h"
#include "core/job/comparative_config.h"
#include "core/text.h"

namespace {

// Parses `text` as one pattern's config: INVALID_ARGUMENT with a UTF-8 message, or a config
// whose canonical JSON parses again.
template <typename Parse, typename ToJson>
void Check(std::string_view text, Parse parse, ToJson to_json) {
  auto parsed = parse(text);
  if (!parsed.ok()) {
    if (parsed.status().code() != dim::core::StatusCode::kInvalidArgument) std::abort();
    if (!dim::core::IsValidUtf8(parsed.status().message())) std::abort();
    return;
  }
  if (!parse(dim::core::DumpJson(to_json(*parsed))).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(text, dim::core::ParseCollaborativeConfig, dim::core::CollaborativeConfigToJson);
  Check(text, dim::core::ParseComparativeConfig, dim::core::ComparativeConfigToJson);
  Check(
      text, [](std::string_view t) { return dim::core::ParseChainedConfig(t); },
      dim::core::ChainedConfigToJson);
  return 0;
}
