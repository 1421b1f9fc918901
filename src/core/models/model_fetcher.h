// Where a daemon gets a model it does not have: the orchestrator's model store, over gRPC
// in src/net (ModelStoreClient), or a fake in tests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dim::core {

// What the source says a model is, before sending it.
struct ModelHeader {
  std::string name;    // the name it is stored under, if any
  std::string sha256;  // 64 lowercase hex digits
  int64_t size_bytes = 0;
};

// Implementations are thread-safe: several models may be fetched at once.
class ModelFetcher {
 public:
  virtual ~ModelFetcher() = default;

  // Where models come from, for messages: "orchestrator 127.0.0.1:50051".
  virtual std::string source() const = 0;

  // What the source holds under `model_id` (a plain name or "sha256:<hex>"), without the
  // content. NOT_FOUND; UNAVAILABLE when the source cannot be reached.
  virtual Result<ModelHeader> Resolve(const std::string& model_id) = 0;

  // Streams the model: `on_header` once, with what the source announces, before any bytes;
  // then `on_data` with each piece of the content, in order. The first error a callback
  // returns stops the transfer and is returned. NOT_FOUND; UNAVAILABLE or
  // DEADLINE_EXCEEDED when the transfer fails. The caller checks the content against the
  // header (the fetcher need not).
  virtual Status Fetch(const std::string& model_id,
                       const std::function<Status(const ModelHeader&)>& on_header,
                       const std::function<Status(std::string_view)>& on_data) = 0;
};

}  // namespace dim::core
