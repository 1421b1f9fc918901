// dim model push | ls: the orchestrator's model store, or with --local the --models folder.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/validators.h"
#include "core/clock.h"
#include "core/models/model_folder.h"
#include "core/models/model_ref.h"
#include "core/text.h"
#include "net/model_store_client.h"

namespace dim::cli {
namespace {

using nlohmann::json;

struct PushOptions {
  std::string file;
  std::string name;  // empty: the file's name without .onnx
};

// Where the commands keep models: the orchestrator (remote) or a folder (--local).
class ModelCatalog {
 public:
  virtual ~ModelCatalog() = default;
  virtual core::Result<core::StoredModel> Push(const std::string& name,
                                               const std::filesystem::path& file) = 0;
  virtual core::Result<std::vector<core::StoredModel>> List() = 0;
};

net::ModelStoreClientOptions ClientOptions(const GlobalOptions& options,
                                           net::ClientSecurity security) {
  net::ModelStoreClientOptions out;
  out.security = std::move(security);
  out.rpc_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(options.rpc_timeout_seconds * 1000));
  return out;
}

class RemoteCatalog final : public ModelCatalog {
 public:
  RemoteCatalog(const GlobalOptions& options, net::ClientSecurity security)
      : client_(options.server, ClientOptions(options, std::move(security))) {}
  core::Result<core::StoredModel> Push(const std::string& name,
                                       const std::filesystem::path& file) override {
    return client_.Push(name, file);
  }
  core::Result<std::vector<core::StoredModel>> List() override { return client_.List(); }

 private:
  net::ModelStoreClient client_;
};

class FolderCatalog final : public ModelCatalog {
 public:
  explicit FolderCatalog(std::filesystem::path dir) : dir_(std::move(dir)) {}
  core::Result<core::StoredModel> Push(const std::string& name,
                                       const std::filesystem::path& file) override {
    return core::InstallModelFile(dir_, name, file, clock_);
  }
  core::Result<std::vector<core::StoredModel>> List() override {
    return core::ListModelFolder(dir_);
  }

 private:
  std::filesystem::path dir_;
  core::SystemClock clock_;
};

core::Result<std::unique_ptr<ModelCatalog>> OpenCatalog(const GlobalOptions& options) {
  if (options.local)
    return std::unique_ptr<ModelCatalog>(std::make_unique<FolderCatalog>(options.models_dir));
  DIM_ASSIGN_OR_RETURN(net::ClientSecurity security, LoadClientSecurity(options));
  return std::unique_ptr<ModelCatalog>(
      std::make_unique<RemoteCatalog>(options, std::move(security)));
}

// Stable keys: name, sha256 (hex), model_id ("sha256:<hex>"), size_bytes, pushed_at.
json ModelToJson(const core::StoredModel& m) {
  return {{"name", m.name},
          {"sha256", m.sha256},
          {"model_id", core::Sha256ModelId(m.sha256)},
          {"size_bytes", m.size_bytes},
          {"pushed_at", m.pushed_at}};
}

// "532 B", "12.4 KiB", "3.0 MiB".
std::string HumanBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

int RunPush(const GlobalOptions& options, const PushOptions& o) {
  SetUpLogging(options, "warn");
  const std::string name = o.name.empty() ? std::filesystem::path(o.file).stem().string() : o.name;
  if (auto s = core::CheckModelName(name); !s.ok()) {
    return ReportError(options, s.WithPrefix(o.name.empty() ? "the file's name (give one with "
                                                              "--name)"
                                                            : "--name"));
  }
  auto catalog = OpenCatalog(options);
  if (!catalog.ok()) return ReportError(options, catalog.status());
  auto pushed = (*catalog)->Push(name, o.file);
  if (!pushed.ok()) return ReportError(options, pushed.status());
  if (options.output == OutputFormat::kJson) {
    PrintJson(ModelToJson(*pushed));
  } else {
    std::cout << "pushed model " << pushed->name << ": sha256:" << pushed->sha256 << ", "
              << core::GroupThousands(pushed->size_bytes) << " bytes"
              << (options.local ? " (in " + options.models_dir + ")" : std::string()) << '\n';
  }
  return kExitOk;
}

int RunList(const GlobalOptions& options) {
  SetUpLogging(options, "warn");
  auto catalog = OpenCatalog(options);
  if (!catalog.ok()) return ReportError(options, catalog.status());
  auto models = (*catalog)->List();
  if (!models.ok()) return ReportError(options, models.status());
  if (options.output == OutputFormat::kJson) {
    json list = json::array();
    for (const auto& m : *models) list.push_back(ModelToJson(m));
    PrintJson({{"models", std::move(list)}});
    return kExitOk;
  }
  Table table({"NAME", "SHA256", "SIZE", "PUSHED"});
  for (const auto& m : *models) {
    table.AddRow({m.name, m.sha256, HumanBytes(m.size_bytes), m.pushed_at});
  }
  table.Print(std::cout);
  return kExitOk;
}

}  // namespace

void AddModelCommands(CLI::App& app, GlobalOptions& options, int& exit_code) {
  auto* model = app.add_subcommand(
      "model", "Models: push an ONNX file to the orchestrator's store, list the store");
  model->require_subcommand(1);

  auto push_options = std::make_shared<PushOptions>();
  auto* push = model->add_subcommand(
      "push",
      "Check an ONNX model and store it under a name (with --local: copy it into --models)");
  push->add_option("file", push_options->file, "The ONNX file")->required();
  push->add_option("-n,--name", push_options->name,
                   "The model's name, as jobs give it (default: the file's name without .onnx)")
      ->check(Name());
  push->callback([&, push_options] { exit_code = RunPush(options, *push_options); });

  auto* ls = model->add_subcommand(
      "ls", "List the stored models: name, sha256, size, push time (with --local: --models)");
  ls->callback([&] { exit_code = RunList(options); });
}

}  // namespace dim::cli
