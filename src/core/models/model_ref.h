// How jobs, daemons and the model store name a model: a plain name ("heart_mlp"), or its
// content as "sha256:<64 hex digits>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dim::core {

inline constexpr std::string_view kSha256Prefix = "sha256:";

// Letters, digits, '-', '_' and '.', 1 to 200 of them, and neither "." nor "..": a name that
// is also a file name (NAME.onnx) in any folder.
bool IsPlainModelName(std::string_view name);

// The hex digest of a "sha256:<hex>" id (64 hex digits, either case; returned lowercase),
// or nothing when `id` is not one.
std::optional<std::string> Sha256OfModelId(std::string_view id);

// "sha256:<hex>" for a digest.
std::string Sha256ModelId(std::string_view hex);

// OK for a plain name; INVALID_ARGUMENT "model name 'x' is not a plain name (letters,
// digits, '-', '_', '.')" otherwise. For names that models are stored under.
Status CheckModelName(std::string_view name);

// OK for a plain name or a "sha256:<hex>" id; INVALID_ARGUMENT naming the id otherwise.
Status CheckModelId(std::string_view id);

}  // namespace dim::core
