// The numeric currency of src/core: a dense, row-major float matrix (rows are samples).
#pragma once

#include <Eigen/Core>

namespace dim::core {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace dim::core
