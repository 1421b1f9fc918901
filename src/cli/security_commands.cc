// dim cert init | issue | show: provisioning; dim audit: reading an orchestrator's audit log.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/validators.h"
#include "core/clock.h"
#include "core/custody/custody.h"
#include "core/custody/ledger.h"
#include "core/regular_file.h"
#include "core/security/audit_log.h"
#include "core/security/certificate.h"
#include "core/text.h"

namespace dim::cli {
namespace {

using nlohmann::json;

struct CertOptions {
  std::string dir;
  std::string name;
  std::string ca_name = "dim CA";
  std::string role;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  int days = 0;  // 0: 3650 for a CA, 365 for a certificate
  std::string file;
};

std::string Iso(int64_t unix_seconds) {
  return core::FormatIso8601(
      std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json CertToJson(const core::CertificateInfo& c, const std::string& file) {
  return {{"file", file},
          {"name", c.name},
          {"role", c.role ? std::string(core::RoleName(*c.role)) : std::string()},
          {"organizational_units", c.units},
          {"subject", c.subject},
          {"issuer", c.issuer},
          {"dns", c.dns},
          {"ips", c.ips},
          {"not_before", Iso(c.not_before)},
          {"not_after", Iso(c.not_after)},
          {"expired", c.not_after < NowSeconds()},
          {"is_ca", c.is_ca},
          {"serial", c.serial},
          {"sha256", c.sha256}};
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "-" : out;
}

int RunInit(const GlobalOptions& options, const CertOptions& o) {
  SetUpLogging(options, "warn");
  const int days = o.days == 0 ? 3650 : o.days;
  if (auto s = core::CreateAuthority(o.dir, o.ca_name, days); !s.ok()) {
    return ReportError(options, s);
  }
  const std::string crt = (std::filesystem::path(o.dir) / "ca.crt").string();
  if (options.output == OutputFormat::kJson) {
    auto info = core::ReadCertificateFile(crt);
    if (!info.ok()) return ReportError(options, info.status());
    PrintJson(CertToJson(*info, crt));
  } else {
    std::cout << "CA '" << o.ca_name << "' made in " << o.dir << ": " << crt
              << " (give it to every service and client as --tls-ca) and ca.key (keep it "
                 "secret), valid "
              << days << " days\n";
  }
  return kExitOk;
}

int RunIssue(const GlobalOptions& options, const CertOptions& o) {
  SetUpLogging(options, "warn");
  core::IssueRequest request;
  request.name = o.name;
  request.role = core::ParseRole(o.role).value_or(core::Role::kUser);
  request.dns = o.dns;
  request.ips = o.ips;
  request.days = o.days == 0 ? 365 : o.days;
  auto crt = core::IssueCertificate(o.dir, request);
  if (!crt.ok()) return ReportError(options, crt.status());
  auto info = core::ReadCertificateFile(*crt);
  if (!info.ok()) return ReportError(options, info.status());
  if (options.output == OutputFormat::kJson) {
    PrintJson(CertToJson(*info, crt->string()));
  } else {
    std::filesystem::path key = *crt;
    key.replace_extension(".key");
    std::cout << "issued " << o.role << " certificate '" << o.name << "': " << crt->string()
              << " and " << key.string() << " (mode 0600), valid until " << Iso(info->not_after)
              << (info->dns.empty() && info->ips.empty()
                      ? std::string()
                      : ", for " + Joined(info->dns) + " / " + Joined(info->ips))
              << '\n';
  }
  return kExitOk;
}

int RunShow(const GlobalOptions& options, const CertOptions& o) {
  SetUpLogging(options, "warn");
  auto info = core::ReadCertificateFile(o.file);
  if (!info.ok()) return ReportError(options, info.status());
  if (options.output == OutputFormat::kJson) {
    PrintJson(CertToJson(*info, o.file));
    return kExitOk;
  }
  const auto& c = *info;
  const bool expired = c.not_after < NowSeconds();
  Table t({"FIELD", "VALUE"});
  t.AddRow({"name", c.name.empty() ? "-" : c.name});
  t.AddRow({"role", c.role ? std::string(core::RoleName(*c.role))
                           : (c.is_ca ? "- (a CA)" : "- (no OU names a dim role)")});
  t.AddRow({"subject", c.subject});
  t.AddRow({"issuer", c.issuer});
  t.AddRow({"dns", Joined(c.dns)});
  t.AddRow({"ip", Joined(c.ips)});
  t.AddRow({"valid from", Iso(c.not_before)});
  t.AddRow({"expires", Iso(c.not_after) + (expired ? " (EXPIRED)" : "")});
  t.AddRow({"ca", c.is_ca ? "yes" : "no"});
  t.AddRow({"serial", c.serial});
  t.AddRow({"sha256", c.sha256});
  t.Print(std::cout);
  return kExitOk;
}

struct AuditOptions {
  std::string file;
  std::string identity;
  std::string method;
  std::string job;
  std::string since;
  bool refused = false;
  int limit = 100;
};

int RunAudit(const GlobalOptions& options, const AuditOptions& o) {
  SetUpLogging(options, "warn");
  auto file = core::OpenRegularFile(o.file, "audit log " + o.file);
  if (!file.ok()) return ReportError(options, file.status());
  std::deque<core::AuditEntry> kept;
  size_t bad = 0;
  std::string line;
  char buf[8192];
  const auto take = [&](const std::string& text) {
    if (text.empty()) return;
    auto entry = core::ParseAuditLine(text);
    if (!entry.ok()) {
      ++bad;
      return;
    }
    const auto& e = *entry;
    if (!o.identity.empty() && e.identity != o.identity) return;
    if (!o.method.empty() && e.method != o.method) return;
    if (!o.job.empty() && e.job_id != o.job) return;
    if (!o.since.empty() && e.time < o.since) return;
    if (o.refused && e.outcome == "OK") return;
    kept.push_back(e);
    if (o.limit > 0 && kept.size() > static_cast<size_t>(o.limit)) kept.pop_front();
  };
  // Line by line, the last --limit matches kept: the log may be larger than memory.
  constexpr size_t kMaxLineBytes = 1 << 20;
  while (std::fgets(buf, sizeof buf, file->get()) != nullptr) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      take(line);
      line.clear();
    } else if (line.size() > kMaxLineBytes) {
      ++bad;
      line.clear();
      int c;
      while ((c = std::fgetc(file->get())) != EOF && c != '\n') {
      }
    }
  }
  take(line);
  if (bad > 0) std::cerr << "dim audit: " << bad << " lines are not audit entries; skipped\n";
  if (options.output == OutputFormat::kJson) {
    json entries = json::array();
    for (const auto& e : kept) entries.push_back(core::ParseUntrustedJson(core::AuditLine(e)));
    PrintJson({{"entries", std::move(entries)}, {"skipped_lines", bad}});
    return kExitOk;
  }
  Table t({"TIME", "WHO", "ROLE", "METHOD", "JOB/NODE", "OUTCOME", "PEER"});
  for (const auto& e : kept) {
    std::string outcome = e.code.empty() ? e.outcome : e.code;
    if (!e.message.empty()) outcome += ": " + core::Snippet(e.message, 80);
    t.AddRow({e.time, e.identity.empty() ? "-" : e.identity, e.role.empty() ? "-" : e.role,
              e.method, !e.job_id.empty() ? e.job_id : (e.node_id.empty() ? "-" : e.node_id),
              outcome, e.peer});
  }
  t.Print(std::cout);
  return kExitOk;
}

struct LedgerOptions {
  std::string ledger;
  std::string since;
  std::string dataset;
};

std::string LedgerFile(const GlobalOptions& options, const LedgerOptions& o) {
  return o.ledger.empty() ? core::DefaultLedgerPath(options.models_dir) : o.ledger;
}

// Opens an existing ledger (a mistyped path must not become a new, empty ledger).
core::Result<std::unique_ptr<core::Ledger>> OpenLedger(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::Status::NotFound("no ledger at " + path + " (give --ledger PATH)");
  }
  return core::Ledger::Open(path);
}

json EntryToJson(const core::LedgerEntry& e) {
  return {{"seq", e.seq},
          {"time", e.time},
          {"job_id", e.job_id},
          {"task_id", e.task_id},
          {"user", e.user},
          {"pattern", e.pattern},
          {"dataset", e.dataset},
          {"model_sha256", e.model_sha256},
          {"rows", e.rows},
          {"epsilon", e.epsilon},
          {"release_sha256", e.release_sha256},
          {"prev_sha256", e.prev_sha256},
          {"entry_sha256", e.entry_sha256}};
}

int RunLedger(const GlobalOptions& options, const LedgerOptions& o) {
  SetUpLogging(options, "warn");
  auto ledger = OpenLedger(LedgerFile(options, o));
  if (!ledger.ok()) return ReportError(options, ledger.status());
  auto entries = (*ledger)->List(o.since, o.dataset);
  if (!entries.ok()) return ReportError(options, entries.status());
  if (options.output == OutputFormat::kJson) {
    json list = json::array();
    for (const auto& e : *entries) list.push_back(EntryToJson(e));
    PrintJson({{"ledger", LedgerFile(options, o)}, {"entries", std::move(list)}});
    return kExitOk;
  }
  Table t({"SEQ", "TIME", "JOB", "TASK", "USER", "PATTERN", "DATASET", "ROWS", "EPSILON",
           "RELEASED (SHA256)"});
  for (const auto& e : *entries) {
    t.AddRow({std::to_string(e.seq), e.time, e.job_id, e.task_id, e.user.empty() ? "-" : e.user,
              e.pattern, e.dataset, core::GroupThousands(e.rows),
              e.epsilon > 0 ? core::ShortNumber(e.epsilon) : "-", e.release_sha256.substr(0, 16)});
  }
  t.Print(std::cout);
  return kExitOk;
}

int RunLedgerVerify(const GlobalOptions& options, const LedgerOptions& o) {
  SetUpLogging(options, "warn");
  const std::string path = LedgerFile(options, o);
  auto ledger = OpenLedger(path);
  if (!ledger.ok()) return ReportError(options, ledger.status());
  auto entries = (*ledger)->List();
  auto broken = (*ledger)->Verify();
  if (!broken.ok() || !entries.ok()) {
    return ReportError(options, broken.ok() ? entries.status() : broken.status());
  }
  if (options.output == OutputFormat::kJson) {
    json doc = {{"ledger", path}, {"entries", entries->size()}, {"intact", !broken->has_value()}};
    if (*broken) doc["broken"] = {{"seq", (*broken)->first}, {"why", (*broken)->second}};
    PrintJson(doc);
  } else if (*broken) {
    std::cout << path << ": entry " << (*broken)->first << " is broken: " << (*broken)->second
              << '\n';
  } else {
    std::cout << path << ": "
              << core::Counted(static_cast<int64_t>(entries->size()), "entry", "entries")
              << ", chain intact\n";
  }
  return *broken ? kExitJobFailed : kExitOk;
}

}  // namespace

void AddSecurityCommands(CLI::App& app, GlobalOptions& options, int& exit_code) {
  auto o = std::make_shared<CertOptions>();
  auto* cert = app.add_subcommand("cert", "Make and read certificates (a CA, and what it signs)");
  cert->require_subcommand(1);

  auto* init = cert->add_subcommand(
      "init", "Make a CA in DIR: DIR/ca.crt and DIR/ca.key (ECDSA P-256, key mode 0600)");
  init->add_option("DIR", o->dir, "Folder of the CA (made if missing)")->required();
  init->add_option("--name", o->ca_name, "The CA's name (its CN)")
      ->capture_default_str()
      ->type_name("NAME");
  init->add_option("--days", o->days, "Days the CA is valid (default 3650)")
      ->check(CLI::Range(1, 36500));
  init->callback([&, o] { exit_code = RunInit(options, *o); });

  auto* issue = cert->add_subcommand(
      "issue", "Sign a certificate with DIR's CA: DIR/NAME.crt and DIR/NAME.key (mode 0600)");
  issue->add_option("DIR", o->dir, "Folder of the CA (dim cert init)")->required();
  issue->add_option("NAME", o->name, "Its holder: node id, user name or orchestrator name (CN)")
      ->required();
  issue->add_option("--role", o->role, "orchestrator, node, user or admin (the OU)")
      ->required()
      ->check(CLI::IsMember({"orchestrator", "node", "user", "admin"}));
  issue->add_option("--dns", o->dns, "A DNS name clients dial this service by (repeatable)")
      ->type_name("NAME");
  issue->add_option("--ip", o->ips, "An IP address clients dial this service by (repeatable)")
      ->type_name("IP");
  issue->add_option("--days", o->days, "Days the certificate is valid (default 365)")
      ->check(CLI::Range(1, 36500));
  issue->callback([&, o] { exit_code = RunIssue(options, *o); });

  auto* show =
      cert->add_subcommand("show", "Print a certificate's name, role, SANs, issuer and expiry");
  show->add_option("FILE", o->file, "A PEM certificate")->required();
  show->callback([&, o] { exit_code = RunShow(options, *o); });

  // dim daemon ledger [verify]: under `dim daemon`, which AddServeCommands made.
  if (CLI::App* daemon = app.get_subcommand("daemon"); daemon != nullptr) {
    auto l = std::make_shared<LedgerOptions>();
    auto* ledger = daemon->add_subcommand(
        "ledger", "Print a node's ledger: every release that left it, hash-chained");
    ledger
        ->add_option("--ledger", l->ledger,
                     "The ledger file (default: the global --models path + .ledger.db)")
        ->type_name("FILE");
    ledger->add_option("--since", l->since, "Only entries at or after this time (ISO 8601, UTC)")
        ->type_name("TIME");
    ledger->add_option("--dataset", l->dataset, "Only entries of this dataset")
        ->type_name("DATASET");
    ledger->callback([&, l, ledger] {
      if (ledger->get_subcommands().empty()) exit_code = RunLedger(options, *l);
    });
    auto* verify = ledger->add_subcommand(
        "verify", "Recompute the ledger's hash chain; exit 1 naming the first broken entry");
    verify->callback([&, l] { exit_code = RunLedgerVerify(options, *l); });
    ledger->fallthrough();
  }

  auto a = std::make_shared<AuditOptions>();
  auto* audit = app.add_subcommand(
      "audit", "Read an orchestrator's audit log (--audit-log FILE): who did what, newest last");
  audit->add_option("FILE", a->file, "The audit log")->required();
  audit->add_option("--who", a->identity, "Only entries of this identity (user or node)")
      ->type_name("NAME");
  audit->add_option("--method", a->method, "Only this call (SubmitJob, CancelJob, ...)")
      ->type_name("METHOD");
  audit->add_option("--job", a->job, "Only entries of this job")->type_name("JOB");
  audit->add_option("--since", a->since, "Only entries at or after this time (ISO 8601, UTC)")
      ->type_name("TIME");
  audit->add_flag("--refused", a->refused, "Only refused calls");
  audit->add_option("--limit", a->limit, "The last N matching entries (0: all)")
      ->check(CLI::Range(0, 100000000))
      ->capture_default_str();
  audit->callback([&, a] { exit_code = RunAudit(options, *a); });
}

}  // namespace dim::cli
