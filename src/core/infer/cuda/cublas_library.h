// cuBLAS, loaded with dlopen when the first CUDA executor is made, not at program start.
// Linked normally, libcublas and libcublasLt (about 0.5 GB of code) would be mapped and
// relocated by every dim command: 230 MB resident and 0.2 s for `dim --version`.
#pragma once

#include <cublas_v2.h>

#include "core/status.h"

namespace dim::core::cuda {

// The entry points dim uses.
struct CublasLibrary {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched = nullptr;
  decltype(&cublasGetStatusName) status_name = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

// Loads libcublas.so.<major> of the toolkit dim was built with (from the loader's path, the
// executable's run path, then the toolkit's library folder) once, and returns it; later
// calls return the same. FAILED_PRECONDITION naming the library when it cannot be loaded
// or lacks an entry point. Thread-safe.
Result<const CublasLibrary*> LoadCublas();

// The library LoadCublas loaded. Only after LoadCublas succeeded (every CUDA executor is
// made after it).
const CublasLibrary& Cublas();

}  // namespace dim::core::cuda
