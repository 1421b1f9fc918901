// The axes of Squeeze, Unsqueeze and the Reduce operators: an attribute before the opset
// where they became an input (13 for Squeeze, Unsqueeze and ReduceSum, 18 for the other
// reductions), an int64 constant input from then on.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/infer/value_info.h"
#include "core/status.h"

namespace dim::core {

// `attribute` holds the attribute's axes (nullopt when it was absent). Returns the axes,
// nullopt when none are given, or INVALID_ARGUMENT when the input is not an int64
// constant or the wrong form (attribute vs input) is used for the opset.
Result<std::optional<std::vector<int64_t>>> ReadAxes(
    const std::vector<ValueInfo>& inputs, const std::optional<std::vector<int64_t>>& attribute,
    bool from_input);

// Normalises each axis to [0, rank); INVALID_ARGUMENT for one out of range or repeated.
Result<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int64_t rank);

}  // namespace dim::core
