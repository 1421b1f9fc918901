// The models a node can run: DIR/NAME.onnx serves model id NAME.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/infer/device.h"
#include "core/infer/model.h"
#include "core/status.h"

namespace dim::core {

// Thread-safe. Loaded models are kept (keyed by id and file modification time) so a model
// is parsed once, not once per task. Every model is loaded for one device.
class ModelRepository final {
 public:
  explicit ModelRepository(std::filesystem::path dir, Device device = Device::kCpu);

  const std::filesystem::path& dir() const { return dir_; }
  Device device() const { return device_; }

  // NOT_FOUND naming the id and the folder; INVALID_ARGUMENT for an id that is not a plain
  // name or a model that fails to load (the loader's message); the loader's
  // FAILED_PRECONDITION or RESOURCE_EXHAUSTED when the device cannot take it.
  Result<std::shared_ptr<const Model>> Get(const std::string& model_id);

  // Ids of the *.onnx files in the folder, sorted.
  std::vector<std::string> List() const;

 private:
  std::filesystem::path dir_;
  Device device_;
  std::mutex mu_;
  struct Entry {
    std::filesystem::file_time_type mtime;
    std::shared_ptr<const Model> model;
  };
  std::map<std::string, Entry> loaded_;
};

}  // namespace dim::core
