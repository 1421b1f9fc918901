#include "cli/help_text.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <sstream>

namespace dim::cli {
namespace {

// Help lines are wrapped at this width; option names and placeholders take the first column.
constexpr size_t kLineWidth = 100;
constexpr size_t kNameColumn = 30;

// The global options a service reads (and its --config file may give); a service's help
// lists only these under "Global options".
const std::vector<std::string> kServiceGlobals = {"--log-level", "--log-format"};

// A space Wrap does not break at.
constexpr char kGlue = '\x1f';

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// `text` wrapped at kLineWidth, continuation lines indented to `indent`; the first line
// starts `first_used` columns in.
std::string Wrap(const std::string& text, size_t indent, size_t first_used) {
  std::string out;
  size_t used = first_used;
  std::istringstream words(text);
  std::string word;
  bool line_empty = true;
  while (words >> word) {
    if (!line_empty && used + 1 + word.size() > kLineWidth) {
      out += "\n" + std::string(indent, ' ');
      used = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++used;
    }
    out += word;
    used += word.size();
    line_empty = false;
  }
  std::replace(out.begin(), out.end(), kGlue, ' ');
  return out;
}

// A size in bytes as a person writes it: "1073741824" -> "1G" (as ByteSize reads it back).
std::string ShortSize(const std::string& bytes) {
  if (bytes.empty() || bytes.find_first_not_of("0123456789") != std::string::npos) return bytes;
  const unsigned long long n = std::stoull(bytes);
  if (n == 0) return bytes;
  for (const auto& [unit, size] :
       {std::pair{"G", 1ULL << 30}, {"M", 1ULL << 20}, {"K", 1ULL << 10}}) {
    if (n % size == 0) return std::to_string(n / size) + unit;
  }
  return bytes;
}

// An example command line, continued with " \" onto further lines where it is long; an
// option stays on the line of its value.
std::string ExampleLines(const std::string& example) {
  constexpr size_t kIndent = 2, kContinued = 6;
  std::string out(kIndent, ' ');
  size_t used = kIndent;
  std::vector<std::string> units;
  std::istringstream words(example);
  bool value_next = false;
  for (std::string w; words >> w;) {
    if (value_next && w[0] != '-') {
      units.back() += " " + w;
      value_next = false;
      continue;
    }
    units.push_back(w);
    value_next = w.size() > 1 && w[0] == '-' && w.find('=') == std::string::npos;
  }
  bool first = true;
  for (const std::string& word : units) {
    if (!first && used + 1 + word.size() + 2 > kLineWidth) {
      out += " \\\n" + std::string(kContinued, ' ');
      used = kContinued;
      first = true;
    }
    if (!first) {
      out += ' ';
      ++used;
    }
    out += word;
    used += word.size();
    first = false;
  }
  return out;
}

// "--name" or "-n, --name".
std::string OptionNames(const CLI::Option& opt) {
  std::string out;
  for (const auto& s : opt.get_snames()) out += (out.empty() ? "-" : ", -") + s;
  for (const auto& l : opt.get_lnames()) out += (out.empty() ? "--" : ", --") + l;
  return out;
}

// CLI11's names of its own value types: nothing a person should read.
bool IsGenericTypeName(const std::string& t) {
  return t.empty() || t == "TEXT" || t == "INT" || t == "UINT" || t == "FLOAT" || t == "ENUM" ||
         t == "BOOLEAN" || t == "CHAR" || t == "[TEXT,TEXT]";
}

// The root command.
const CLI::App& Root(const CLI::App& app) {
  const CLI::App* a = &app;
  while (a->get_parent() != nullptr) a = a->get_parent();
  return *a;
}

bool IsService(const CLI::App& app) {
  const std::string path = CommandPath(app);
  return path == "dim orchestrator serve" || path == "dim daemon serve";
}

// The options of `app` in `group` (named, not positional, not hidden), and those of its
// option groups.
std::vector<const CLI::Option*> NamedOptions(const CLI::App& app,
                                             const std::function<bool(const CLI::Option*)>& keep) {
  std::vector<const CLI::Option*> out = app.get_options([&](const CLI::Option* o) {
    return o->nonpositional() && !o->get_group().empty() && keep(o);
  });
  for (const CLI::App* group : app.get_subcommands({})) {
    if (!group->get_name().empty()) continue;  // a command, not an option group
    for (const CLI::Option* o : NamedOptions(*group, keep)) out.push_back(o);
  }
  return out;
}

}  // namespace

std::string CommandPath(const CLI::App& app) {
  std::string out;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    if (a->get_name().empty()) continue;
    out = a->get_name() + (out.empty() ? "" : " " + out);
  }
  return out;
}

std::string OptionPlaceholder(const CLI::Option& opt) {
  if (!opt.get_option_text().empty()) return opt.get_option_text();
  if (opt.get_expected_max() == 0) return "";  // a flag
  const std::string type = opt.get_type_name();
  // The type name set with ->type_name(), before the validators' descriptions (each after a
  // ':'; a ":PORT" is part of the name).
  size_t end = type.find(':');
  while (end != std::string::npos && type.compare(end, 5, ":PORT") == 0)
    end = type.find(':', end + 1);
  const std::string own = type.substr(0, end);
  if (!IsGenericTypeName(own)) return own;
  if (Contains(type, "HOST:PORT")) return "HOST:PORT";
  if (Contains(type, "SIZE")) return "SIZE";
  if (Contains(type, "SECONDS")) return "SECONDS";
  // {a,b,c} (IsMember) or {a->1,b->0} (a transformer): the words people type.
  if (const auto open = type.find('{'), close = type.find('}', open);
      open != std::string::npos && close != std::string::npos) {
    std::string out;
    std::istringstream items(type.substr(open + 1, close - open - 1));
    for (std::string item; std::getline(items, item, ',');) {
      out += (out.empty() ? "" : "|") + item.substr(0, item.find("->"));
    }
    return out;
  }
  if (Contains(type, "NUMBER") || own == "FLOAT") return "NUMBER";
  if (Contains(type, ":ID")) return "ID";
  if (Contains(type, "NAME")) return "NAME";
  if (own == "INT" || own == "UINT") return "N";
  if (opt.get_positional()) {
    std::string name = opt.get_name(true, false);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return name;
  }
  return "VALUE";
}

std::string HelpFormatter::make_option_name(const CLI::Option* opt, bool is_positional) const {
  if (is_positional) return OptionPlaceholder(*opt);
  return OptionNames(*opt);
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  const std::string placeholder = OptionPlaceholder(*opt);
  return placeholder.empty() ? std::string() : " " + placeholder;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
  std::string desc = opt->get_description();
  std::string def = opt->get_default_str();
  if (OptionPlaceholder(*opt) == "SIZE") def = ShortSize(def);
  // kGlue keeps "[default: X]" on one line when the description is wrapped.
  if (!def.empty() && def != "[]" && opt->get_expected_max() != 0) {
    desc += " [default:" + std::string(1, kGlue) + def + "]";
  }
  if (!opt->get_envname().empty()) {
    desc += " [env:" + std::string(1, kGlue) + opt->get_envname() + "]";
  }
  if (opt->get_required() && !opt->get_positional()) desc += " [required]";
  return desc;
}

std::string HelpFormatter::make_option(const CLI::Option* opt, bool is_positional) const {
  std::string left = "  " + make_option_name(opt, is_positional);
  if (!is_positional) left += make_option_opts(opt);
  std::string out = left;
  if (left.size() + 2 > kNameColumn) {
    out += "\n" + std::string(kNameColumn, ' ');
  } else {
    out += std::string(kNameColumn - left.size(), ' ');
  }
  return out + Wrap(make_option_desc(opt), kNameColumn, kNameColumn) + "\n";
}

std::string HelpFormatter::make_option_usage(const CLI::Option* opt) const {
  const std::string name = OptionPlaceholder(*opt);
  return opt->get_required() ? name : "[" + name + "]";
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
  std::string left = "  " + sub->get_name();
  std::string out = left;
  if (left.size() + 2 > kNameColumn) {
    out += "\n" + std::string(kNameColumn, ' ');
  } else {
    out += std::string(kNameColumn - left.size(), ' ');
  }
  return out + Wrap(sub->get_description(), kNameColumn, kNameColumn) + "\n";
}

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
  const bool root = app->get_parent() == nullptr;
  // (CLI11 passes a command's name alone when its help is asked of it rather than of dim.)
  const std::string path = CommandPath(*app);
  std::string out = "Usage: " + name;
  if (!root) out = "Usage: dim [GLOBAL OPTIONS]" + path.substr(path.find(' '));
  const auto named = NamedOptions(*app, [app](const CLI::Option* o) {
    return o != app->get_help_ptr() && o != app->get_help_all_ptr();
  });
  if (root || !named.empty()) out += " [OPTIONS]";
  for (const CLI::Option* p :
       app->get_options([](const CLI::Option* o) { return o->get_positional(); })) {
    out += " " + make_option_usage(p);
  }
  const auto commands = app->get_subcommands(
      [](const CLI::App* c) { return !c->get_disabled() && !c->get_name().empty(); });
  if (!commands.empty()) out += app->get_require_subcommand_min() > 0 ? " COMMAND" : " [COMMAND]";
  return out + "\n";
}

std::string HelpFormatter::make_help(const CLI::App* app, std::string name,
                                     CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  std::ostringstream out;
  const bool root = app->get_parent() == nullptr;
  if (!app->get_description().empty()) out << app->get_description() << "\n\n";
  out << make_usage(app, name);

  const auto positionals = app->get_options(
      [](const CLI::Option* o) { return o->get_positional() && !o->get_group().empty(); });
  if (!positionals.empty()) {
    out << "\nArguments:\n";
    for (const CLI::Option* p : positionals) out << make_option(p, true);
  }

  const auto own = NamedOptions(*app, [](const CLI::Option*) { return true; });
  if (!own.empty()) {
    out << (root ? "\nGlobal options (before or after the command):\n" : "\nOptions:\n");
    for (const CLI::Option* o : own) out << make_option(o, false);
  }

  const auto commands = app->get_subcommands(
      [](const CLI::App* c) { return !c->get_disabled() && !c->get_name().empty(); });
  if (!commands.empty()) {
    out << "\nCommands:\n";
    for (const CLI::App* c : commands) out << make_subcommand(c);
    if (root) {
      out << "\nSee 'dim COMMAND --help' for a command's options, and man dim for the whole.\n";
    }
  }

  if (!root) {
    const CLI::App& top = Root(*app);
    const bool service = IsService(*app);
    const auto globals = NamedOptions(top, [&top, service](const CLI::Option* o) {
      if (o == top.get_help_ptr() || o == top.get_help_all_ptr() || o == top.get_version_ptr()) {
        return false;
      }
      if (!service) return true;
      const std::string names = OptionNames(*o);
      return std::any_of(kServiceGlobals.begin(), kServiceGlobals.end(),
                         [&names](const std::string& g) { return names == g; });
    });
    if (!globals.empty()) {
      out << (service
                  ? "\nGlobal options (the ones a service reads; before or after the command):\n"
                  : "\nGlobal options (before or after the command):\n");
      for (const CLI::Option* o : globals) out << make_option(o, false);
    }
  }

  if (!app->get_footer().empty()) out << "\n" << app->get_footer() << "\n";
  return out.str();
}

std::vector<std::string> CommandExamples(const std::string& path) {
  // Ids and names as the README's quick start has them (examples/ holds the files).
  static const std::map<std::string, std::vector<std::string>> kExamples = {
      {"",
       {"dim orchestrator serve --listen 127.0.0.1:50051 --db orchestrator.db",
        "dim daemon serve --node-id hospital-a --dataset default=examples/data/hospital_a.csv "
        "--models examples/models --orchestrator 127.0.0.1:50051",
        "dim submit --pattern collaborative --model heart_mlp --wait",
        "dim --local --models examples/models --local-node hospital-a=examples/data/hospital_a.csv "
        "submit -p collaborative -m heart_mlp"}},
      {"orchestrator",
       {"dim orchestrator serve --listen 127.0.0.1:50051 --db orchestrator.db",
        "dim orchestrator serve --config /etc/dim/orchestrator.toml"}},
      {"orchestrator serve",
       {"dim orchestrator serve --listen 127.0.0.1:50051 --db orchestrator.db",
        "dim orchestrator serve --listen 127.0.0.1:50051 --metrics-listen 127.0.0.1:9464 "
        "--log-format json",
        "dim orchestrator serve --listen 10.0.0.1:50051 --db /var/lib/dim/jobs.db --tls-cert "
        "orch.crt --tls-key orch.key --tls-ca ca.crt --auth-tokens tokens",
        "dim orchestrator serve --config /etc/dim/orchestrator.toml --log-level debug"}},
      {"daemon",
       {"dim daemon serve --node-id hospital-a --dataset default=examples/data/hospital_a.csv "
        "--models examples/models --orchestrator 127.0.0.1:50051",
        "dim daemon ledger --ledger examples/models.ledger.db"}},
      {"daemon serve",
       {"dim daemon serve --node-id hospital-a --listen 127.0.0.1:50061 --dataset "
        "default=examples/data/hospital_a.csv --models examples/models --orchestrator "
        "127.0.0.1:50051",
        "dim daemon serve --node-id site-1 --dataset clinic=clinic.csv --policy policy.json "
        "--label region=eu --orchestrator 127.0.0.1:50051",
        "dim daemon serve --config /etc/dim/daemon-hospital-a.toml"}},
      {"daemon ledger",
       {"dim daemon ledger --ledger examples/models.ledger.db",
        "dim daemon ledger --ledger examples/models.ledger.db --dataset clinic --since "
        "2026-01-01 -o json",
        "dim daemon ledger verify --ledger examples/models.ledger.db"}},
      {"daemon ledger verify", {"dim daemon ledger verify --ledger examples/models.ledger.db"}},
      {"submit",
       {"dim submit --pattern collaborative --model heart_mlp --nodes "
        "hospital-a,hospital-b,hospital-c --wait",
        "dim submit -p comparative -m heart_mlp,heart_mlp_v2 --node hospital-a --consensus "
        "weighted_vote --weights 2,1 --wait",
        "dim submit -p chained --config pipeline.json --input-data rows.csv --wait",
        "dim submit -q -p collaborative -m heart_risk --dataset default --priority high"}},
      {"status",
       {"dim status job-a20f1e06d162393fc4c5",
        "dim status --watch job-a20f1e06d162393fc4c5 --timeout 60",
        "dim status job-a20f1e06d162393fc4c5 --events"}},
      {"result",
       {"dim result job-a20f1e06d162393fc4c5",
        "dim -o json result job-a20f1e06d162393fc4c5 > result.json"}},
      {"ls",
       {"dim ls", "dim ls --state running --user alice", "dim ls -n 50 --offset 50",
        "dim -o json ls --state failed"}},
      {"cancel",
       {"dim cancel job-a20f1e06d162393fc4c5", "dim -o json cancel job-a20f1e06d162393fc4c5"}},
      {"health",
       {"dim health", "dim health --node hospital-a", "dim health --wait-nodes 3 --timeout 30",
        "dim -o json health"}},
      {"model", {"dim model push examples/models/heart_mlp.onnx --name cardio", "dim model ls"}},
      {"model push",
       {"dim model push examples/models/heart_mlp.onnx --name cardio",
        "dim --local --models examples/models model push cardio.onnx"}},
      {"model ls",
       {"dim model ls", "dim -o json model ls", "dim --local --models examples/models model ls"}},
      {"cert",
       {"dim cert init ca/", "dim cert issue ca/ --role node hospital-a --dns a.example.org",
        "dim cert show ca/hospital-a.crt"}},
      {"cert init",
       {"dim cert init ca/", "dim cert init ca/ --name \"Hospital network CA\" --days 3650"}},
      {"cert issue",
       {"dim cert issue ca/ --role orchestrator orch --dns orch.example.org --ip 10.0.0.1",
        "dim cert issue ca/ --role node hospital-a --dns a.example.org",
        "dim cert issue ca/ --role admin ops"}},
      {"cert show", {"dim cert show ca/hospital-a.crt", "dim -o json cert show ca/orch.crt"}},
      {"audit",
       {"dim audit /var/log/dim/audit.log --refused",
        "dim audit audit.log --who alice --since 2026-01-01",
        "dim -o json audit audit.log --method CancelJob --limit 20"}},
  };
  const auto it = kExamples.find(path);
  return it == kExamples.end() ? std::vector<std::string>() : it->second;
}

namespace {

void SetUpHelp(CLI::App& app, const std::shared_ptr<HelpFormatter>& formatter) {
  app.formatter(formatter);
  std::string path = CommandPath(app);
  path = path.find(' ') == std::string::npos ? "" : path.substr(path.find(' ') + 1);
  if (const auto examples = CommandExamples(path); !examples.empty()) {
    std::string footer = "Examples:";
    for (const auto& e : examples) footer += "\n" + ExampleLines(e);
    app.footer(footer);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    SetUpHelp(*sub, formatter);
  }
}

}  // namespace

void SetUpHelp(CLI::App& app) { SetUpHelp(app, std::make_shared<HelpFormatter>()); }

}  // namespace dim::cli
