#!/usr/bin/python3
"""End to end: the command line reads well. Every command's --help shows readable
placeholders, the global options and examples, and none of CLI11's internals; an unknown
option is named as unknown; `dim ls` and `dim health` show the columns people look for; an
unreachable server is reported once, in words; and the shell completions offer the
server's job ids, nodes, models and datasets, without ever hanging or printing errors."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import DIM, SOURCE_ROOT, DimTestCase, hospitals  # noqa: E402

COMPLETIONS = os.path.join(SOURCE_ROOT, "completions")

# What CLI11 prints when left to itself: type names, validator descriptions, its labels.
CLI11_INTERNALS = ("TEXT", "ENUM", "INT:", "FLOAT", "UINT", "value in {", "->", "[Option Group",
                   "REQUIRED", "(Env:", "SUBCOMMAND", "Positionals:", "kb(=", "Excludes:",
                   "Needs:")

LS_COLUMNS = ["JOB", "STATE", "PATTERN", "MODEL", "DATASET", "USER", "NODES", "CREATED",
              "DURATION", "ERROR"]
HEALTH_COLUMNS = ["NODE", "STATUS", "ADDRESS", "LAST SEEN", "TASKS", "CPU", "MEMORY", "REP",
                  "DATASETS", "MODELS", "LABELS"]


def free_port():
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def columns(header, names):
    """The start of each column of a table's header line."""
    return [header.index(n) for n in names]


def cell(line, header, name, names):
    """The text of column `name` in a row of a table whose header is `header`."""
    starts = columns(header, names)
    i = names.index(name)
    end = starts[i + 1] if i + 1 < len(starts) else None
    return line[starts[i]:end].strip()


class CliTest(DimTestCase):

    def setUp(self):
        super().setUp()
        # The user's own profiles and settings stay out.
        self.env["HOME"] = self.tmp
        for name in ("DIM_CONFIG", "DIM_PROFILE", "DIM_TOKEN", "DIM_TLS_CA", "DIM_TLS_CERT",
                     "DIM_TLS_KEY", "XDG_CONFIG_HOME"):
            self.env.pop(name, None)

    def help_of(self, command):
        r = self.dim(*command, "--help")
        self.assertEqual(r.returncode, 0, f"dim {' '.join(command)} --help: {r.stderr}")
        self.assertEqual(r.stderr, "")
        return r.stdout

    def all_commands(self):
        """Every command, as the help texts list them: [[], ['orchestrator'], ...]."""
        found, todo = [], [[]]
        while todo:
            command = todo.pop(0)
            found.append(command)
            text = self.help_of(command)
            if "\nCommands:\n" not in text:
                continue
            listed = text.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
            for line in listed.splitlines():
                m = re.match(r"^  (\S+)", line)
                if m:
                    todo.append(command + [m.group(1)])
        return found

    # --- help ---------------------------------------------------------------------------

    def test_every_help_is_readable_lists_the_global_options_and_ends_with_examples(self):
        commands = self.all_commands()
        self.assertGreaterEqual(len(commands), 20, commands)
        for command in commands:
            with self.subTest(command=" ".join(command)):
                text = self.help_of(command)
                for internal in CLI11_INTERNALS:
                    self.assertNotIn(internal, text)
                self.assertIn("Global options", text)
                self.assertNotRegex(text, r"(?m)^  -\S*( \S+)? VALUE\b")
                examples = text.split("\nExamples:\n", 1)
                self.assertEqual(len(examples), 2, text)
                lines = examples[1].rstrip("\n").split("\n")
                self.assertTrue(lines[0].startswith("  dim "), lines)
                # Each example a command line, continued with a backslash where long.
                starts = [l for l in lines if not l.startswith("      ")]
                self.assertTrue(all(l.startswith("  dim ") for l in starts), lines)
                self.assertGreaterEqual(len(starts), 1)
                self.assertTrue(all(len(l) <= 100 for l in text.split("\n")), text)

    def test_help_shows_placeholders_defaults_and_environment(self):
        text = self.help_of([])
        self.assertRegex(text, r"(?m)^  --server HOST:PORT +Orchestrator address")
        self.assertRegex(text, r"(?m)^  -o, --output table\|json ")
        self.assertIn("[env: DIM_SERVER]", text)
        submit = self.help_of(["submit"])
        self.assertRegex(submit, r"(?m)^  -p, --pattern PATTERN .*\[required\]")
        self.assertRegex(submit, r"(?m)^  --priority low\|normal\|high .*\[default: normal\]")
        self.assertRegex(submit, r"(?m)^  --timeout SECONDS ")
        self.assertRegex(submit, r"(?m)^  --server HOST:PORT ")  # a global option
        serve = self.help_of(["orchestrator", "serve"])
        self.assertRegex(serve, r"(?m)^  --max-model-bytes SIZE .*\[default: 1G\]")
        self.assertRegex(serve, r"(?m)^  --listen HOST:PORT ")
        self.assertRegex(serve, r"(?m)^  --db FILE ")
        self.assertIn("--log-format text|json", serve)
        self.assertNotIn("--server HOST:PORT", serve)  # a service does not read it
        status = self.help_of(["status"])
        self.assertIn("Usage: dim [GLOBAL OPTIONS] status [OPTIONS] JOB", status)

    # --- usage errors -------------------------------------------------------------------

    def test_an_unknown_option_is_named_as_unknown(self):
        r = self.dim("submit", "--patern", "x")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("dim: error: unknown option --patern (did you mean --pattern?)", r.stderr)
        self.assertNotIn("required", r.stderr)
        self.assertEqual(r.stdout, "")
        r = self.dim("-o", "json", "submit", "--patern", "x")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(json.loads(r.stdout)["error"],
                         {"code": "INVALID_ARGUMENT",
                          "message": "unknown option --patern (did you mean --pattern?)"})
        r = self.dim("stauts", "job-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'stauts' (did you mean status?)", r.stderr)
        r = self.dim("ls", "--sever", "127.0.0.1:1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option --sever (did you mean --server?)", r.stderr)
        r = self.dim("-o", "xml", "ls")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--output: expected table|json, got 'xml'", r.stderr)
        r = self.dim("status")
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing JOB", r.stderr)

    # --- tables -------------------------------------------------------------------------

    def start_cluster(self):
        orch = self.start_orchestrator()
        a = hospitals()["a"]
        self.start_daemon("hospital-a", {"default": a}, orchestrator=orch)
        big = self.make_dataset("big", 12000)
        self.start_daemon("hospital-b", {"default": hospitals()["b"], "big": big},
                          orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-b"])
        return orch

    def test_ls_shows_model_dataset_duration_and_error(self):
        orch = self.start_cluster()
        done = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", "--wait",
                             server=orch)["job_id"]
        # Two models of different output widths: the job fails, with a long error.
        r = self.dim("-o", "json", "submit", "-p", "comparative", "-m", "heart_mlp,heart_risk",
                     "--node", "hospital-a", "--wait", server=orch)
        self.assertEqual(r.returncode, 1, r.stderr)
        failed = json.loads(r.stdout)
        self.assertEqual(failed["state"], "FAILED")
        r = self.dim("ls", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        header = lines[0]
        self.assertEqual(header.split(), ["JOB", "STATE", "PATTERN", "MODEL", "DATASET", "USER",
                                          "NODES", "CREATED", "DURATION", "ERROR"])
        rows = {l.split()[0]: l for l in lines[1:]}
        ok = rows[done]
        self.assertEqual(cell(ok, header, "MODEL", LS_COLUMNS), "heart_mlp")
        self.assertEqual(cell(ok, header, "DATASET", LS_COLUMNS), "default")
        self.assertRegex(cell(ok, header, "DURATION", LS_COLUMNS), r"^\d+(ms|\.\d\ds)$")
        self.assertEqual(cell(ok, header, "ERROR", LS_COLUMNS), "-")
        bad = rows[failed["job_id"]]
        self.assertEqual(cell(bad, header, "MODEL", LS_COLUMNS), "heart_mlp, heart_risk")
        error = cell(bad, header, "ERROR", LS_COLUMNS)
        self.assertNotEqual(error, "-")
        self.assertLessEqual(len(error), 60)
        self.assertNotIn("\n", error)
        self.assertTrue(failed["error"].startswith(error.rstrip("\u2026")), (error, failed))
        # -o json keeps its keys.
        listed = self.dim_json("ls", server=orch)
        self.assertEqual(sorted(listed), ["jobs", "limit", "offset", "total"])
        self.assertEqual(sorted(listed["jobs"][0]),
                         sorted(["job_id", "state", "pattern", "user_id", "priority", "progress",
                                 "nodes", "created_at", "started_at", "completed_at", "error"]))

    def test_health_shows_ages_readable_tasks_and_memory_and_short_model_lists(self):
        orch = self.start_cluster()
        r = self.dim("health", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        header = next(l for l in lines if l.startswith("NODE "))
        for name in HEALTH_COLUMNS:
            self.assertIn(name, header)
        b = next(l for l in lines if l.startswith("hospital-b "))
        self.assertRegex(cell(b, header, "LAST SEEN", HEALTH_COLUMNS), r"^\d+s ago$")
        self.assertRegex(cell(b, header, "TASKS", HEALTH_COLUMNS),
                         r"^\d+ running, \d+ queued / \d+$")
        self.assertRegex(cell(b, header, "MEMORY", HEALTH_COLUMNS),
                         r"^[\d,]+G free \(\d+% used\)$")
        # examples/models holds five models: two named, and how many more.
        self.assertEqual(cell(b, header, "MODELS", HEALTH_COLUMNS), "heart_mlp, heart_mlp_v2 +3")
        # Thousands separators: the dataset of 12,000 rows.
        self.assertIn("big(12,000)", cell(b, header, "DATASETS", HEALTH_COLUMNS))
        r = self.dim("health", "--node", "hospital-b", server=orch)
        self.assertRegex(r.stdout, r"(?m)^LAST SEEN +\S+Z \(\d+s ago\)$")
        self.assertRegex(r.stdout, r"(?m)^big +12,000 ")
        # -o json keeps its keys and raw values.
        node = next(n for n in self.dim_json("health", server=orch)["nodes"]
                    if n["node_id"] == "hospital-b")
        self.assertRegex(node["last_seen"], r"^\d{4}-\d\d-\d\dT[\d:.]+Z$")
        self.assertEqual(len(node["models"]), 5)
        self.assertIn(12000, [d["rows"] for d in node["datasets"]])

    # --- errors -------------------------------------------------------------------------

    def test_an_unreachable_server_is_reported_once_in_words(self):
        address = f"127.0.0.1:{free_port()}"
        for command in (["ls"], ["health"], ["status", "job-1"], ["model", "ls"],
                        ["submit", "-p", "collaborative", "-m", "heart_mlp"]):
            with self.subTest(command=command):
                r = self.dim("--server", address, *command)
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertEqual(r.stderr, f"dim: error: cannot reach the orchestrator at "
                                           f"{address} (connection refused); is it running? "
                                           f"(UNAVAILABLE)\n")
        r = self.dim("-o", "json", "--server", address, "ls")
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stderr.count("UNAVAILABLE"), 1, r.stderr)
        self.assertNotIn("failed to connect", r.stdout + r.stderr)

    def test_a_daemon_given_as_the_server_is_named_in_words(self):
        daemon = self.start_daemon("lonely", {"default": hospitals()["a"]})
        r = self.dim("ls", server=daemon)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn(f"{daemon.address} answers, but is not a dim orchestrator", r.stderr)
        self.assertNotIn("UNIMPLEMENTED", r.stderr)

    def test_a_failed_job_is_not_said_three_times(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        gone = self.start_daemon("hospital-c", {"default": hospitals()["c"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-c"])
        gone.stop(sig=9)
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp", "--nodes",
                     "hospital-a,hospital-c", "--wait", server=orch)
        self.assertEqual(r.returncode, 1, r.stderr)
        # The node's error once in the table, in words; the job's error without repeating it.
        self.assertEqual(r.stdout.count("is unreachable"), 1, r.stdout)
        self.assertRegex(r.stdout, r"hospital-c +failed .*is unreachable \(connection refused\)")
        self.assertNotIn("failed to connect to all addresses", r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^ERROR +1 of 2 nodes succeeded|^ERROR +0 of 2 nodes")

    # --- completions --------------------------------------------------------------------

    def bash_complete(self, words, server=None):
        """The words bash completion offers for `words` (the last one being completed), with
        --server ADDRESS first when given, split at ':' as bash splits it."""
        line = [DIM]
        if server is not None:
            host, port = server.address.rsplit(":", 1) if hasattr(server, "address") \
                else server.rsplit(":", 1)
            line += ["--server", host, ":", port]
        line += words
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
                  'COMPREPLY=(); _dim; printf "%s\\n" "${COMPREPLY[@]}"')
        start = time.time()
        r = subprocess.run(["bash", "-c", script, "bash", os.path.join(COMPLETIONS, "dim.bash"),
                            *line], capture_output=True, text=True, env=self.env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "completion printed errors")
        self.assertLess(time.time() - start, 10, "completion took too long")
        return [w for w in r.stdout.split("\n") if w]

    def submit_two_jobs(self, orch):
        ids = []
        for _ in range(2):
            r = self.dim("submit", "-q", "-p", "collaborative", "-m", "heart_mlp", "--wait",
                         server=orch)
            self.assertEqual(r.returncode, 0, r.stderr)
            ids.append(r.stdout.strip())
        return ids

    def test_bash_completes_jobs_nodes_models_and_datasets_from_the_server(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"], "clinic": hospitals()["b"]},
                          orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        ids = self.submit_two_jobs(orch)
        for command in ("status", "result"):
            self.assertEqual(sorted(self.bash_complete([command, ""], server=orch)), sorted(ids))
        self.assertEqual(self.bash_complete(["status", ids[0][:-3]], server=orch), [ids[0]])
        # Only a job that is pending or running can be cancelled; these have ended.
        self.assertEqual(self.bash_complete(["cancel", ""], server=orch), [])
        # After the job: nothing more.
        self.assertEqual(self.bash_complete(["status", ids[0], ""], server=orch), [])
        self.assertEqual(self.bash_complete(["submit", "--nodes", ""], server=orch),
                         ["hospital-a"])
        self.assertEqual(self.bash_complete(["health", "--node", "hos"], server=orch),
                         ["hospital-a"])
        self.assertIn("heart_mlp,heart_risk",
                      self.bash_complete(["submit", "-m", "heart_mlp,heart_r"], server=orch))
        self.assertEqual(self.bash_complete(["submit", "--dataset", ""], server=orch),
                         ["clinic", "default"])
        # The server from DIM_SERVER when the line names none.
        self.env["DIM_SERVER"] = orch.address
        self.assertEqual(sorted(self.bash_complete(["status", ""])), sorted(ids))

    def test_completion_of_an_unreachable_server_offers_nothing_and_says_nothing(self):
        address = f"127.0.0.1:{free_port()}"
        for words in (["status", ""], ["cancel", ""], ["submit", "--nodes", ""],
                      ["submit", "--dataset", ""], ["health", "--node", ""]):
            with self.subTest(words=words):
                self.assertEqual(self.bash_complete(words, server=address), [])

    @unittest.skipUnless(shutil.which("fish"), "fish is not installed")
    def test_fish_completes_jobs_and_nodes_from_the_server(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        ids = self.submit_two_jobs(orch)
        env = dict(self.env, PATH=os.path.dirname(os.path.abspath(DIM)) + ":" + self.env["PATH"])
        def complete(line):
            r = subprocess.run(["fish", "--no-config", "-c",
                                f"source {os.path.join(COMPLETIONS, 'dim.fish')}; "
                                f"complete -C '{line}'"],
                               capture_output=True, text=True, env=env, timeout=30)
            self.assertEqual(r.stderr, "")
            return sorted(l.split("\t")[0] for l in r.stdout.splitlines() if l)
        self.assertEqual(complete(f"dim --server {orch.address} status "), sorted(ids))
        self.assertEqual(complete(f"dim --server {orch.address} submit --nodes "), ["hospital-a"])
        self.assertEqual(complete(f"dim --server 127.0.0.1:{free_port()} status "), [])

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    def test_zsh_completes_jobs_and_nodes_from_the_server(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        ids = self.submit_two_jobs(orch)
        # The functions the completion's specs call, with _describe showing what it offers.
        script = ('autoload -Uz compinit && compinit -u -d "$TMPDIR/zcompdump"; source "$1"; '
                  '_describe() { print -l -- ${(P)4} }; '
                  '_dim_all_words=( "$2" --server "$3" status "" ); _dim_current=5; '
                  '_dim_jobs status; print -- ---; _dim_nodes; print -- ---; _dim_datasets')
        r = subprocess.run(["zsh", "-f", "-c", script, "zsh", os.path.join(COMPLETIONS, "_dim"),
                            DIM, orch.address], capture_output=True, text=True,
                           env=dict(self.env, TMPDIR=self.tmp), timeout=30)
        self.assertEqual(r.stderr, "")
        jobs, nodes, datasets = r.stdout.split("---\n")
        self.assertEqual(sorted(jobs.split()), sorted(ids))
        self.assertEqual(nodes.split(), ["hospital-a"])
        self.assertEqual(datasets.split(), ["default"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
