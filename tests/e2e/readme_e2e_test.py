#!/usr/bin/python3
"""End to end: README.md works when pasted. Every fenced shell block (sh, bash, shell,
console) is run, top to bottom, the way a reader pastes them from the repository root: in a
scratch folder that holds a copy of examples/, build/src/cli/dim (the binary under test),
tests/ and proto/, with that build/src/cli on PATH.

- A block marked with `<!-- readme-test: skip (REASON) -->` on the line right before it is
  not run (it installs packages, builds, or needs other machines); the test counts and
  prints those. Any other block that fails fails the test.
- `dim orchestrator serve ... &` and `dim daemon serve ... &` are started here, each on a
  port the OS picks (--listen 127.0.0.1:0), and the README's addresses are rewritten to
  the real ones in every later command (and back in the output compared with a console
  block); the client's default server (127.0.0.1:50051) is the orchestrator the README
  started there (DIM_SERVER). A block that starts an orchestrator first stops the services
  of the blocks before it ("with the services above stopped"). /tmp/ paths are made in the
  scratch folder.
- The other commands of a block run in bash with `set -e -o pipefail`: every command must
  succeed. Shell variables last for one block.
- In a console block, each `$ ` command runs on its own and the lines the README shows
  after it must appear in its output, in order, word by word, with job ids, times and
  durations matching any job id, time and duration, numbers within 1e-4 relative, and the
  machine's figures (cores, load, memory) anything.
- Each `dim submit --wait` (without -q or --dry-run) must print a COMPLETED job, and the
  key lines below (a consensus, a pipeline's chaining, ...) must appear in their blocks'
  output.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import DIM, EXAMPLES, SOURCE_ROOT, DimTestCase  # noqa: E402

README = os.path.join(SOURCE_ROOT, "README.md")
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->$")
SKIP = re.compile(r"^skip \((.+)\)$")
# The services' default addresses (SPEC section 4), for a serve command without --listen.
DEFAULT_LISTEN = {"orchestrator": "127.0.0.1:50051", "daemon": "127.0.0.1:50052"}
CLIENT_DEFAULT_SERVER = "127.0.0.1:50051"

# Key lines: for a block whose text holds the key, regular expressions its output must match
# (each somewhere, multiline).
KEY_LINES = {
    "-p comparative": [
        r"COMPLETED: comparative, majority_vote of 3 models on node hospital-a, dataset default",
        r"COMPLETED: comparative, average of 2 models on node hospital-\w",
        r"COMPLETED: comparative, weighted_vote of 2 models on node hospital-\w",
        r"COMPLETED: comparative, expert_review of 3 models on node hospital-\w",
        r"(?m)^agreement level \d+(\.\d+)?%",
        r"(?m)^heart_mlp_v3 +\d+(\.\d+)?% +",
        r"\d+ rows for review \(agreement below 0\.7\)",
    ],
    "-p chained": [
        r"COMPLETED: chained, 2 steps",
        r"(?m)^1 +classify +heart_mlp +hospital-a +client_data +completed",
        r"(?m)^2 +risk +heart_score +hospital-b +step_1_output +completed",
    ],
    "dim -o json result": [r"(?m)^720 \[324, 268, 128\]$"],
    "--node site-1=": [r"COMPLETED: collaborative, model heart_risk, dataset clinic, "
                       r"federated_averaging over 1 nodes?, 180 rows"],
    "dim model push": [r"COMPLETED: collaborative, model cardio, dataset default",
                       r"COMPLETED: collaborative, model sha256:[0-9a-f]{64}"],
    "dim --local --models examples/models": [
        r"COMPLETED: collaborative, model heart_mlp, dataset default, federated_averaging "
        r"over 3 nodes, 720 rows"],
}

_JOB_ID = re.compile(r"^job-[0-9a-z]+:?$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\d(T[\d:.]+Z?)?$")
_DURATION = re.compile(r"^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?$")
# The machine's own figures in `dim health`: free cores and load "2 (12%)", memory "21G
# (10% used)", tasks "0+0/2". On a line with one, every number matches any number.
_MACHINE = re.compile(r"\(\d+(\.\d+)?%\)?|\d+(\.\d+)?[KMGT]i?B?|\d+\+\d+/\d+")


class Block:
    def __init__(self, line, language, text, skip):
        self.line, self.language, self.text, self.skip = line, language, text, skip

    def where(self):
        return f"README.md:{self.line} ({self.language} block)"


def read_blocks(path=README):
    """The fenced blocks of a Markdown file: (shell blocks, count of the other blocks)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, others, i = [], 0, 0
    while i < len(lines):
        fence = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if not fence:
            i += 1
            continue
        indent, ticks, language = fence.group(1), fence.group(2), fence.group(3).lower()
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        previous = next((l.strip() for l in reversed(lines[:start - 1]) if l.strip()), "")
        marker = MARKER.match(previous)
        skip = None
        if marker:
            m = SKIP.match(marker.group(1))
            if not m:
                raise ValueError(f"README.md:{start - 1}: unknown readme-test marker "
                                 f"{marker.group(1)!r} (expected 'skip (REASON)')")
            skip = m.group(1)
        if language in SHELL_LANGUAGES:
            blocks.append(Block(start, language, "\n".join(body), skip))
        elif marker:
            raise ValueError(f"README.md:{start - 1}: a readme-test marker before a "
                             f"{language or 'plain'} block, which is not run anyway")
        else:
            others += 1
    return blocks, others


def split_commands(text):
    """The logical commands of a shell text: continuation lines joined, a here-document
    kept with its command. Blank lines and whole-line comments are dropped."""
    lines, commands, i = text.split("\n"), [], 0
    while i < len(lines):
        command = lines[i]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        i += 1
        heredoc = re.search(r"<<-?\s*(['\"]?)(\w+)\1", command)
        if heredoc:
            body = []
            while i < len(lines) and lines[i].strip() != heredoc.group(2):
                body.append(lines[i])
                i += 1
            body.append(lines[i] if i < len(lines) else heredoc.group(2))
            i += 1
            command = "\n".join([command] + body)
        if command.strip() and not command.strip().startswith("#"):
            commands.append(command)
    return commands


def service_of(command):
    """('orchestrator' | 'daemon', argv after `dim`) for `dim X serve ... &`, else None."""
    if "\n" in command:
        return None
    try:
        argv = shlex.split(command, comments=True)
    except ValueError:
        return None
    if len(argv) >= 4 and argv[0] == "dim" and argv[2] == "serve" and argv[-1] == "&" and \
            argv[1] in ("orchestrator", "daemon"):
        return argv[1], argv[1:-1]
    return None


def words_match(expected, actual):
    """Whether one line of a console block's output matches one line of real output."""
    want, got = expected.split(), actual.split()
    if len(want) != len(got):
        return False
    loose = any(_MACHINE.fullmatch(w) for w in want)
    for w, g in zip(want, got):
        if w == g:
            continue
        if _JOB_ID.match(w) and _JOB_ID.match(g):
            continue
        if _TIME.match(w) and _TIME.match(g):
            continue
        if _DURATION.match(w) and _DURATION.match(g):
            continue
        if loose and (_MACHINE.fullmatch(w) or _NUMBER.match(w)) and \
                (_MACHINE.fullmatch(g) or _NUMBER.match(g)):
            continue
        if _NUMBER.match(w) and _NUMBER.match(g) and w.endswith("%") == g.endswith("%"):
            a, b = float(w.rstrip("%")), float(g.rstrip("%"))
            if abs(a - b) <= 1e-4 * max(abs(a), abs(b)) + 1e-12:
                continue
        return False
    return True


class ReadmeTest(DimTestCase):

    def setUp(self):
        super().setUp()
        self.work = self.path("repo")
        os.makedirs(os.path.join(self.work, "build", "src", "cli"))
        os.symlink(os.path.abspath(DIM), os.path.join(self.work, "build", "src", "cli", "dim"))
        shutil.copytree(EXAMPLES, os.path.join(self.work, "examples"),
                        ignore=shutil.ignore_patterns("*.db", "*.db-*", "__pycache__"))
        for name in ("tests", "proto", "scripts"):
            os.symlink(os.path.join(SOURCE_ROOT, name), os.path.join(self.work, name))
        os.makedirs(os.path.join(self.work, "tmp"))
        os.makedirs(self.path("home"))
        # A reader's fresh shell: no dim settings, no profiles, dim on PATH (the README's
        # `export PATH="$PWD/build/src/cli:$PATH"`).
        for key in list(self.env):
            if key.startswith("DIM_") or key.startswith("XDG_"):
                del self.env[key]
        self.env["HOME"] = self.path("home")
        self.env["PATH"] = os.path.join(self.work, "build", "src", "cli") + os.pathsep + \
            self.env.get("PATH", "")
        self.addresses = {}  # README address -> the address the service really listens on
        self.cwd = os.getcwd()
        os.chdir(self.work)  # the services' relative paths (--db orchestrator.db, examples/)

    def tearDown(self):
        os.chdir(self.cwd)
        super().tearDown()

    # --- rewriting -------------------------------------------------------------------------

    @staticmethod
    def replace_addresses(text, mapping):
        """Each address of mapping (as a whole: not followed by a digit) by its value."""
        if not mapping:
            return text
        pattern = "|".join(re.escape(a) for a in sorted(mapping, key=len, reverse=True))
        return re.sub(f"({pattern})(?!\\d)", lambda m: mapping[m.group(1)], text)

    def rewrite(self, text):
        """README addresses -> real ones, /tmp/ -> the scratch folder's."""
        text = self.replace_addresses(text, self.addresses)
        return re.sub(r"(?<![\w./-])/tmp/", os.path.join(self.work, "tmp") + "/", text)

    def unrewrite(self, text):
        text = self.replace_addresses(text, {real: readme for readme, real in
                                             self.addresses.items()})
        return text.replace(os.path.join(self.work, "tmp") + "/", "/tmp/")

    # --- running ---------------------------------------------------------------------------

    def start_service(self, block, role, argv):
        args = list(argv)
        if "--listen" in args:
            k = args.index("--listen")
            readme_address = args[k + 1]
            args[k + 1] = "127.0.0.1:0"
        else:
            readme_address = DEFAULT_LISTEN[role]
            args += ["--listen", "127.0.0.1:0"]
        for k, arg in enumerate(args):
            if arg == "--orchestrator" and args[k + 1] not in self.addresses:
                self.fail(f"{block.where()}: the daemon registers with {args[k + 1]}, which no "
                          f"block started")
            args[k] = self.rewrite(arg)
        node = args[args.index("--node-id") + 1] if "--node-id" in args else role
        service = self.start(args, f"{len(self.services):02d}-{node}")
        self.addresses[readme_address] = service.address
        if role == "orchestrator" and readme_address == CLIENT_DEFAULT_SERVER:
            self.env["DIM_SERVER"] = service.address

    def stop_services(self):
        for s in reversed(self.services):
            s.stop()
        self.addresses = {}
        self.env.pop("DIM_SERVER", None)

    def bash(self, block, script, timeout=90):
        try:
            r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", self.rewrite(script)],
                               capture_output=True, text=True, env=self.env, cwd=self.work,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail(f"{block.where()} ran past {timeout} s:\n{script}\n--- output ---\n"
                      f"{e.stdout or ''}{e.stderr or ''}")
        output = self.unrewrite(r.stdout + r.stderr)
        if r.returncode != 0:
            self.fail(f"{block.where()} failed (exit {r.returncode}):\n{script}\n"
                      f"--- output ---\n{output}")
        return output

    def run_sh(self, block):
        """Runs a sh block; its whole output."""
        commands = split_commands(block.text)
        if any((service_of(c) or ("",))[0] == "orchestrator" for c in commands):
            self.stop_services()
        output, pending = [], []
        for command in commands + [None]:
            service = service_of(command) if command is not None else None
            if command is not None and service is None:
                pending.append(command)
                continue
            if pending:
                output.append(self.bash(block, "\n".join(pending)))
                pending = []
            if service is not None:
                self.start_service(block, *service)
        output = "".join(output)
        self.check_submits(block, commands, output)
        return output

    def run_console(self, block):
        """Runs each `$ ` command of a console block and compares the lines shown after it."""
        steps, lines = [], block.text.split("\n")
        for line in lines:
            if line.startswith("$ "):
                steps.append([line[2:], []])
            elif steps and steps[-1][0].endswith("\\") and not steps[-1][1]:
                steps[-1][0] = steps[-1][0][:-1] + " " + line.strip()
            elif steps:
                steps[-1][1].append(line)
            elif line.strip():
                self.fail(f"{block.where()}: output before the first `$ ` command: {line!r}")
        output = []
        for command, expected in steps:
            got = self.bash(block, command)
            output.append(got)
            self.compare(block, command, [l for l in expected if l.strip()], got.split("\n"))
            self.check_submits(block, [command], got)
        return "".join(output)

    # --- checks ----------------------------------------------------------------------------

    def compare(self, block, command, expected, actual):
        at = 0
        for want in expected:
            k = next((k for k in range(at, len(actual)) if words_match(want, actual[k])), None)
            if k is None:
                self.fail(f"{block.where()}: `{command}` printed no line like\n  {want}\n"
                          f"(after line {at} of its output):\n" + "\n".join(actual))
            at = k + 1

    def check_submits(self, block, commands, output):
        waits = 0
        for command in commands:
            try:
                argv = shlex.split(command.split("\n")[0], comments=True)
            except ValueError:
                continue
            # A local submit always waits.
            if "submit" in argv and ("--wait" in argv or "--local" in argv) and \
                    "-q" not in argv and "--dry-run" not in argv:
                waits += 1
        done = len(re.findall(r"(?m)^job \S+ COMPLETED: ", output))
        self.assertGreaterEqual(done, waits, f"{block.where()}: {waits} jobs should have "
                                f"COMPLETED, {done} did:\n{output}")

    def check_key_lines(self, block, output):
        for key, patterns in KEY_LINES.items():
            if key in block.text:
                for p in patterns:
                    self.assertRegex(output, p, f"{block.where()}: no line like /{p}/ in the "
                                     f"output of\n{block.text}\n--- output ---\n{output}")
                self.keys_seen.add(key)

    def test_every_shell_block_works_when_pasted(self):
        blocks, others = read_blocks()
        self.keys_seen = set()
        ran, skipped = [], []
        for block in blocks:
            if block.skip is not None:
                skipped.append(block)
                continue
            output = self.run_console(block) if block.language == "console" else \
                self.run_sh(block)
            self.check_key_lines(block, output)
            ran.append(block)
        print(f"\nREADME.md: {len(blocks)} shell blocks: {len(ran)} run, {len(skipped)} "
              f"skipped; {others} other blocks (json, text, code) not run", file=sys.stderr)
        for block in skipped:
            print(f"  skipped README.md:{block.line}: {block.skip}", file=sys.stderr)
        self.assertEqual(sorted(set(KEY_LINES) - self.keys_seen), [],
                         "key lines of blocks the README no longer has")


if __name__ == "__main__":
    unittest.main(verbosity=2)
