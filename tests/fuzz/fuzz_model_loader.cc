// libFuzzer target for the ONNX model loader: any bytes must load or be refused with an
// error, and a model that loads must run on a small batch without crashing, hanging or
// asking for an absurd amount of memory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/infer/model.h"
#include "core/matrix.h"
#include "core/status.h"

namespace {

// The widest input a loaded model is run on. A fuzzed model may declare a huge input
// width; building a batch that wide would test the fuzzer's memory, not the model.
constexpr int64_t kMaxRunWidth = int64_t{1} << 16;

// Fixed, varied values (negative, zero, fractional) so every operator sees real numbers.
dim::core::Matrix MakeBatch(int64_t rows, int64_t width) {
  dim::core::Matrix batch(rows, width);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < width; ++c) {
      batch(r, c) = static_cast<float>((r * 7 + c * 3) % 11) * 0.5f - 2.0f;
    }
  }
  return batch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dim::core::StatusCode;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = dim::core::Model::LoadBytes(bytes, "fuzz");
  // Every problem with a file is INVALID_ARGUMENT; RESOURCE_EXHAUSTED from a small input
  // means the loader tried to allocate far more than the file could justify.
  if (!model.ok()) {
    if (model.status().code() != StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  const int64_t width = (*model)->input_width();
  if (width < 1 || width > kMaxRunWidth) return 0;
  for (int64_t rows : {1, 3}) {
    // A model that loads must run: the loader finds every problem, never Run. Only memory
    // for the batch may be lacking.
    auto output = (*model)->Run(MakeBatch(rows, width));
    if (output.ok()) {
      if (output->rows() != rows || output->cols() != (*model)->output_width()) std::abort();
    } else if (output.status().code() != StatusCode::kResourceExhausted) {
      std::abort();
    }
  }
  // A batch of the wrong width must be refused, not read out of bounds.
  auto wrong = (*model)->Run(MakeBatch(2, width + 1));
  if (wrong.ok() || wrong.status().code() != StatusCode::kInvalidArgument) std::abort();
  return 0;
}
