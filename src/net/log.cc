#include "net/log.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

namespace dim::net {
namespace {

struct Context {
  std::string job;
  std::string task;
};
thread_local Context current;

// "%*": "job J: " or "job J task T: " while a LogScope is in force.
class ContextFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (current.job.empty()) return;
    std::string text = "job " + current.job;
    if (!current.task.empty()) text += " task " + current.task;
    text += ": ";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<ContextFlag>();
  }
};

std::string UtcMillis(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return buf;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string role, std::string node_id)
      : role_(std::move(role)), node_id_(std::move(node_id)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["time"] = UtcMillis(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string(level.data(), level.size());
    if (!role_.empty()) line["process"] = role_;
    if (!node_id_.empty()) line["node"] = node_id_;
    if (!current.job.empty()) line["job"] = current.job;
    if (!current.task.empty()) line["task"] = current.task;
    line["message"] = std::string(msg.payload.data(), msg.payload.size());
    // Bytes that are not UTF-8 (a file name, a peer's message) become U+FFFD: the line stays
    // valid JSON.
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(role_, node_id_);
  }

 private:
  std::string role_;
  std::string node_id_;
};

}  // namespace

LogScope::LogScope(std::string job_id, std::string task_id)
    : saved_job_(std::exchange(current.job, std::move(job_id))),
      saved_task_(std::exchange(current.task, std::move(task_id))) {}

LogScope::~LogScope() {
  current.job = std::move(saved_job_);
  current.task = std::move(saved_task_);
}

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter(std::string role, std::string node_id) {
  return std::make_unique<JsonFormatter>(std::move(role), std::move(node_id));
}

std::unique_ptr<spdlog::formatter> MakeTextLogFormatter(std::string process) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<ContextFlag>('*');
  // A service's lines say which process wrote them ("orchestrator", "daemon hospital-a"):
  // logs of several services end up side by side.
  std::string pattern = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ ";
  if (!process.empty()) pattern += "[" + process + "] ";
  formatter->set_pattern(pattern + "%*%v");
  return formatter;
}

}  // namespace dim::net
