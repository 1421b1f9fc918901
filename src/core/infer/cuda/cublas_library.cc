#include "core/infer/cuda/cublas_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace dim::core::cuda {
namespace {

CublasLibrary library;
Status load_status = Status::Internal("cuBLAS not loaded");

template <typename Fn>
bool Bind(void* handle, const char* symbol, Fn* fn) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, symbol));
  return *fn != nullptr;
}

Status Load() {
  const std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
#ifdef DIM_CUDA_LIBDIR
  if (handle == nullptr) {
    handle = dlopen((std::string(DIM_CUDA_LIBDIR) + "/" + soname).c_str(), RTLD_NOW | RTLD_LOCAL);
  }
#endif
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::FailedPrecondition("cannot load cuBLAS (" + soname +
                                      "): " + (why != nullptr ? why : "not found"));
  }
  // Kept loaded for the life of the process: executors may run until exit.
  const struct {
    const char* symbol;
    bool bound;
  } symbols[] = {
      {"cublasCreate_v2", Bind(handle, "cublasCreate_v2", &library.create)},
      {"cublasDestroy_v2", Bind(handle, "cublasDestroy_v2", &library.destroy)},
      {"cublasSetStream_v2", Bind(handle, "cublasSetStream_v2", &library.set_stream)},
      {"cublasSetMathMode", Bind(handle, "cublasSetMathMode", &library.set_math_mode)},
      {"cublasSgemm_v2", Bind(handle, "cublasSgemm_v2", &library.sgemm)},
      {"cublasSgemmStridedBatched",
       Bind(handle, "cublasSgemmStridedBatched", &library.sgemm_strided_batched)},
      {"cublasGetStatusName", Bind(handle, "cublasGetStatusName", &library.status_name)},
      {"cublasGetStatusString", Bind(handle, "cublasGetStatusString", &library.status_string)},
  };
  for (const auto& s : symbols) {
    if (!s.bound) {
      return Status::FailedPrecondition(soname + " has no " + s.symbol +
                                        "; is it the cuBLAS dim was built with?");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<const CublasLibrary*> LoadCublas() {
  static std::once_flag once;
  std::call_once(once, [] { load_status = Load(); });
  if (!load_status.ok()) return load_status;
  return &library;
}

const CublasLibrary& Cublas() { return library; }

}  // namespace dim::core::cuda
