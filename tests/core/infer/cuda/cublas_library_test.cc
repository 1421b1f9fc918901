#include "core/infer/cuda/cublas_library.h"

#include <gtest/gtest.h>

#include <string>

namespace dim::core::cuda {
namespace {

TEST(CublasLibrary, LoadsTheToolkitsCublasWithEveryEntryPoint) {
  auto library = LoadCublas();
  ASSERT_TRUE(library.ok()) << library.status().ToString();
  const CublasLibrary& cublas = **library;
  EXPECT_NE(cublas.create, nullptr);
  EXPECT_NE(cublas.destroy, nullptr);
  EXPECT_NE(cublas.set_stream, nullptr);
  EXPECT_NE(cublas.set_math_mode, nullptr);
  EXPECT_NE(cublas.sgemm, nullptr);
  EXPECT_NE(cublas.sgemm_strided_batched, nullptr);
  // Calls that need no GPU answer as the library documents.
  EXPECT_EQ(std::string(cublas.status_name(CUBLAS_STATUS_ALLOC_FAILED)),
            "CUBLAS_STATUS_ALLOC_FAILED");
  EXPECT_EQ(&Cublas(), *library);
  // Loaded once: a second call returns the same library.
  auto again = LoadCublas();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *library);
}

}  // namespace
}  // namespace dim::core::cuda
