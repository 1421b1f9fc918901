#!/usr/bin/python3
"""End to end: hostile input (issue 13). Bytes that are not UTF-8, files that never end
(FIFOs, folders), numbers that are not numbers, two servers on one port, nodes that lie,
input whose cost grows faster than its size, and an orchestrator killed with a full queue.

Each case asserts the exit code or gRPC status and the message it must carry. After each
service-level case the services are still running, `dim health` answers, and every job
they acknowledged is still answered by `dim status`. Every subprocess, call and wait is
bounded in time; a process that is still running at its limit is killed and counts as a
failure."""
import collections
import json
import os
import resource
import signal
import subprocess
import sys
import time
import unittest

import grpc  # python3-grpcio

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import DATA, DIM, MODELS, DimTestCase, SlowNodesTestCase, hospitals  # noqa: E402

RESTART_REASON = "the orchestrator stopped while this job was running; submit it again"
HEADER = b"age,bmi,systolic_bp,diastolic_bp,cholesterol,glucose,heart_rate,smoker"
LATIN1_CELL = b"h\xe9pital"  # "hôpital" as a Latin-1 export writes it: not UTF-8
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
# assertRan's code for "exited by itself with a code > 0".
NONZERO = "non-zero"

# What one dim process did; code is None when it was killed at its time limit.
Ran = collections.namedtuple("Ran", "args code out err seconds")

_stubs = None


def proc_status_kb(pid, field):
    """A field of /proc/PID/status in kB (VmRSS, VmSize)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def show(data):
    return data[-2000:].decode("utf-8", errors="backslashreplace")


class HostileMixin:
    """Helpers for DimTestCase: runs dim with byte arguments under a time limit, checks
    that what it prints is strict UTF-8 (and JSON where asked), and keeps every job id a
    service acknowledged (self.acked) to check they are all still answered."""

    def setUp(self):
        super().setUp()
        self.acked = []

    # --- the client, bounded --------------------------------------------------------------

    def run_dim(self, *args, timeout=20):
        """Runs dim with args (str or bytes: bytes go through unchanged), stdin closed."""
        cmd = [os.fsencode(DIM)] + [a if isinstance(a, bytes) else os.fsencode(a) for a in args]
        start = time.time()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env)
        try:
            out, err = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code = None
        return Ran(args, code, out, err, time.time() - start)

    def on(self, orch, *args, timeout=20):
        """dim --server ORCH ARGS."""
        return self.run_dim("--server", orch.address, *args, timeout=timeout)

    def strict(self, data, what):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(f"{what} is not valid UTF-8 ({e}): {data[:300]!r}")

    def assertRan(self, ran, code, *fragments, within=None):
        """ran exited by itself with `code` (or NONZERO), within `within` seconds, and its
        stderr is strict UTF-8 holding every fragment; its stderr."""
        shown = (f"dim {ran.args!r}: exit {ran.code} after {ran.seconds:.1f}s\n"
                 f"stdout: {show(ran.out)}\nstderr: {show(ran.err)}")
        self.assertIsNotNone(ran.code, "still running at its time limit, killed; " + shown)
        if within is not None:
            self.assertLess(ran.seconds, within, shown)
        if code == NONZERO:
            self.assertGreater(ran.code, 0, shown)
        else:
            self.assertEqual(ran.code, code, shown)
        err = self.strict(ran.err, f"stderr of dim {ran.args!r}")
        for fragment in fragments:
            self.assertIn(fragment, err, shown)
        return err

    def json_out(self, ran):
        """ran's stdout, which must be one JSON document in strict UTF-8."""
        text = self.strict(ran.out, f"stdout of dim {ran.args!r}")
        try:
            return json.loads(text)
        except ValueError as e:
            self.fail(f"stdout of dim {ran.args!r} is not JSON ({e}): {text[:500]!r}")

    # --- files ------------------------------------------------------------------------------

    def fifo(self, name):
        """A named pipe nobody ever writes to."""
        path = self.path(name)
        os.mkfifo(path)
        return path

    def write_csv(self, name, header=HEADER, rows=20, cell=None):
        """A CSV of `header` and the first `rows` rows of hospital a; with `cell` (bytes), the
        last row's first cell is that. Written through a rename; its path."""
        with open(os.path.join(DATA, "hospital_a.csv"), "rb") as f:
            lines = f.read().splitlines()[1:rows + 1]
        if cell is not None:
            lines[-1] = cell + lines[-1][lines[-1].index(b","):]
        path = self.path(name + ".csv")
        with open(path + ".tmp", "wb") as f:
            f.write(header + b"\n" + b"\n".join(lines) + b"\n")
        os.replace(path + ".tmp", path)
        return path

    # --- services ---------------------------------------------------------------------------

    def node(self, orch, node_id, dataset, **kw):
        """A daemon with the example models and one dataset, registered with orch."""
        return self.start_daemon(node_id, {"default": dataset}, orchestrator=orch, **kw)

    def submit(self, orch, config, *flags, timeout=60):
        """`dim -o json submit -p collaborative --config-json CONFIG FLAGS` on orch: (Ran, its
        document or None). The job id it acknowledged goes to self.acked."""
        r = self.on(orch, "-o", "json", "submit", "-p", "collaborative", "--config-json",
                    json.dumps(config), *flags, timeout=timeout)
        try:
            doc = json.loads(r.out.decode("utf-8"))
        except ValueError:  # not UTF-8, or not JSON
            return r, None
        if isinstance(doc, dict) and doc.get("job_id"):
            self.acked.append(doc["job_id"])
        return r, doc

    def jobs(self, orch):
        """Every job on orch: {job_id: its `dim ls -o json` entry}."""
        r = self.on(orch, "-o", "json", "ls", "-n", "1000")
        self.assertRan(r, 0)
        return {j["job_id"]: j for j in self.json_out(r)["jobs"]}

    def wait_nodes(self, orch, node_ids, timeout=20):
        """Until every one of node_ids is ACTIVE on orch; the nodes of `dim health -o json`."""
        deadline = time.time() + timeout
        while True:
            r = self.on(orch, "-o", "json", "health", timeout=10)
            if r.code == 0:
                nodes = self.json_out(r)["nodes"]
                if set(node_ids) <= {n["node_id"] for n in nodes if n["status"] == "ACTIVE"}:
                    return nodes
            if time.time() > deadline:
                self.fail(f"nodes {node_ids} not active after {timeout}s:\n{show(r.out)}"
                          f"{show(r.err)}")
            time.sleep(0.05)

    def assert_alive_and_accounted(self, orch, *daemons):
        """The services still run, `dim health` answers, and every acknowledged job is still
        answered by `dim status`."""
        for s in (orch, *daemons):
            self.assertIsNone(s.proc.poll(), f"dim {' '.join(s.args[:2])} exited "
                                             f"{s.proc.returncode}:\n{s.log()[-3000:]}")
        self.assertRan(self.on(orch, "health", timeout=15), 0)
        for job_id in self.acked:
            with self.subTest(acknowledged_job=job_id):
                r = self.on(orch, "-o", "json", "status", job_id, timeout=15)
                self.assertRan(r, 0)
                self.assertEqual(self.json_out(r)["job_id"], job_id)

    # --- gRPC -------------------------------------------------------------------------------

    def orchestrator_stub(self, orch):
        """(orchestrator_pb2, a stub on orch)."""
        global _stubs
        if _stubs is None:
            _stubs = self.grpc_stubs()
        orchestrator_pb2, orchestrator_pb2_grpc, _, _ = _stubs
        channel = grpc.insecure_channel(orch.address, options=[
            ("grpc.max_send_message_length", 64 << 20)])
        self.addCleanup(channel.close)
        return orchestrator_pb2, orchestrator_pb2_grpc.OrchestratorStub(channel)

    def assertRpcFails(self, method, request, code, *fragments, within=None):
        """The call fails with `code` within `within` seconds, its details holding every
        fragment; the error. (A job id it acknowledged instead goes to self.acked.)"""
        limit = (within or 10) + 3
        start = time.time()
        try:
            response = method(request, timeout=limit)
        except grpc.RpcError as e:
            elapsed = time.time() - start
            details = e.details() or ""
            shown = f"{e.code().name} after {elapsed:.2f}s: {details[:500]!r}"
            self.assertEqual(e.code(), code, shown)
            for fragment in fragments:
                self.assertIn(fragment, details, shown)
            if within is not None:
                self.assertLess(elapsed, within, shown)
            return e
        if getattr(response, "job_id", ""):
            self.acked.append(response.job_id)
        self.fail(f"expected {code.name}, the call succeeded after {time.time() - start:.2f}s: "
                  f"{str(response)[:500]}")


class CliHostileInputTest(HostileMixin, DimTestCase):
    """The client, in local mode: it refuses what it cannot use, with exit code 2 and the
    flag or file named, and never hangs or aborts."""

    def local(self, *args, timeout=20):
        nodes = [a for s, p in hospitals().items() for a in ("--local-node", f"hospital-{s}={p}")]
        return self.run_dim("--local", "--models", MODELS, *nodes, *args, timeout=timeout)

    def submit_local(self, *args, output="table", timeout=20):
        return self.local("-o", output, "submit", "-p", "collaborative", *args, timeout=timeout)

    def test_latin1_model_and_dataset_arguments_are_refused_naming_the_flag(self):
        for flag, rest in (("--model", []), ("--dataset", ["-m", "heart_mlp"])):
            for output in ("table", "json"):
                with self.subTest(flag=flag, output=output):
                    r = self.submit_local(*rest, flag, b"h\xe9", output=output)
                    self.assertRan(r, 2, flag, "not valid UTF-8")
                    if output == "json" and r.out.strip():  # a usage error may print none
                        self.json_out(r)

    def test_json_parse_error_is_cut_on_a_character_boundary(self):
        for output in ("table", "json"):
            with self.subTest(output=output):
                r = self.submit_local("--config-json", '{"model_id": é}', output=output)
                self.assertRan(r, 2, "invalid JSON at byte")
                if output == "json":
                    self.assertIn("invalid JSON at byte", self.json_out(r)["error"]["message"])

    def test_config_that_is_a_folder_or_a_fifo_is_not_a_regular_file(self):
        for what, path in (("folder", self.tmp), ("fifo", self.fifo("config.json"))):
            with self.subTest(config=what):
                r = self.submit_local("--config", path, timeout=8)
                self.assertRan(r, 2, "not a regular file", within=5)

    def test_timeout_and_trim_that_are_not_numbers_are_refused_naming_the_flag(self):
        for value in ("nan", "1e300", "-1"):
            with self.subTest(timeout=value):
                r = self.submit_local("-m", "heart_mlp", "--wait", "--timeout", value)
                self.assertRan(r, 2, "--timeout")
        r = self.submit_local("-m", "heart_mlp", "--aggregation", "trimmed_mean", "--trim", "nan")
        self.assertRan(r, 2, "--trim")

    def test_server_port_out_of_range(self):
        r = self.run_dim("--server", "127.0.0.1:99999", "ls", timeout=15)
        self.assertRan(r, 2, "port")

    def test_model_push_and_local_node_of_a_fifo_are_not_regular_files(self):
        fifo = self.fifo("model.onnx")
        models = self.path("models")
        os.makedirs(models)
        with self.subTest("model push --local"):
            r = self.run_dim("--local", "--models", models, "model", "push", fifo, "--name", "x",
                             timeout=8)
            self.assertRan(r, 2, "not a regular file", within=5)
        with self.subTest("--local-node"):
            r = self.run_dim("--local", "--local-node", f"a={fifo}", "ls", timeout=8)
            self.assertRan(r, 2, "not a regular file", within=5)
        with self.subTest("model push to an orchestrator"):
            orch = self.start_orchestrator()
            r = self.on(orch, "model", "push", fifo, "--name", "x", timeout=8)
            self.assertRan(r, 2, "not a regular file", within=5)
            self.assert_alive_and_accounted(orch)

    def test_json_output_of_a_local_job_on_latin1_data_is_valid_json(self):
        csv = self.write_csv("latin1-cell", cell=LATIN1_CELL)
        r = self.run_dim("--local", "--models", MODELS, "--local-node", f"a={csv}", "-o", "json",
                         "submit", "-p", "collaborative", "-m", "heart_mlp", timeout=30)
        self.assertIn(r.code, (1, 2), f"exit {r.code}: {show(r.out)}{show(r.err)}")
        doc = self.json_out(r)
        self.assertIn("not a number", json.dumps(doc, ensure_ascii=False))
        self.strict(r.err, "stderr")


    def test_usage_errors_with_json_output_are_json_documents(self):
        for args, fragment in ((["-o", "json", "ls", "--limit", "0"], "--limit"),
                               (["--output=json", "ls", "--bogus"], "--bogus"),
                               (["-o", "json", "submit", "-p", "collaborative", "-m", "m",
                                 "--trim", "abc"], "--trim")):
            with self.subTest(args=args):
                r = self.run_dim(*args)
                self.assertRan(r, 2, "dim: error:", fragment)
                doc = self.json_out(r)
                self.assertEqual(doc["error"]["code"], "INVALID_ARGUMENT")
                self.assertIn(fragment, doc["error"]["message"])

    def test_privacy_settings_that_would_overflow_are_refused_at_submit(self):
        r = self.submit_local("-m", "heart_mlp", "--dp-epsilon", "1e-300", "--dp-clip", "0,1")
        self.assertRan(r, 2, "$.aggregation.differential_privacy.epsilon: must be at least 1e-06")
        r = self.submit_local("-m", "heart_mlp", "--dp-epsilon", "1", "--dp-clip", "1e38,1e39")
        self.assertRan(r, 2, "clip: bounds must be within float's range")

    def test_empty_names_and_bad_dim_server_are_refused_by_name(self):
        models = self.path("models")
        os.makedirs(models)
        r = self.run_dim("--local", "--models", models, "model", "push",
                         os.path.join(MODELS, "heart_mlp.onnx"), "--name", "")
        self.assertRan(r, 2, "--name: must not be empty")
        self.assertEqual(os.listdir(models), [])
        env = dict(self.env, DIM_SERVER="127.0.0.1:0")
        proc = subprocess.run([DIM, "health"], capture_output=True, env=env, timeout=20)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(b"given here or in DIM_SERVER", proc.stderr)


class ServiceHostileInputTest(HostileMixin, DimTestCase):
    """Orchestrator and daemons: hostile start-up flags, bytes and peers leave them running
    and every acknowledged job answered."""

    def test_daemon_refuses_a_fifo_dataset_a_file_as_models_and_an_empty_node_id(self):
        orch = self.start_orchestrator()
        daemon = ["daemon", "serve", "--listen", "127.0.0.1:0", "--orchestrator", orch.address]
        dataset = ["--dataset", f"default={hospitals()['a']}"]
        cases = [
            ("fifo dataset", ["--node-id", "n", "--models", MODELS, "--dataset",
                              f"d={self.fifo('data.csv')}"], NONZERO, "not a regular file"),
            ("file as models", ["--node-id", "n", "--models", "/etc/passwd", *dataset], NONZERO,
             "not a directory"),
            ("empty node id", ["--node-id", "", "--models", MODELS, *dataset], 2, None),
        ]
        for what, args, code, message in cases:
            with self.subTest(what):
                r = self.run_dim(*daemon, *args, timeout=6)
                self.assertRan(r, code, *([message] if message else []), within=5)
        self.assert_alive_and_accounted(orch)

    def test_a_daemon_given_as_the_server_is_named_as_not_an_orchestrator(self):
        daemon = self.start_daemon("lonely", {"default": hospitals()["a"]})
        for args in (["health"], ["status", "job-1"], ["ls"]):
            with self.subTest(args=args):
                r = self.run_dim("--server", daemon.address, *args)
                self.assertRan(r, 3, "answers, but is not a dim orchestrator")

    def test_latin1_cell_fails_the_job_and_every_json_stays_valid(self):
        orch = self.start_orchestrator()
        # The daemon starts on clean data; the file then gains a Latin-1 cell (same rows),
        # which the task reads.
        csv = self.write_csv("cells")
        daemon = self.node(orch, "latin-cell", csv)
        self.wait_nodes(orch, ["latin-cell"])
        self.write_csv("cells", cell=LATIN1_CELL)
        r, _ = self.submit(orch, {"model_id": "heart_mlp", "nodes": ["latin-cell"]}, "--wait")
        self.assertEqual(r.code, 1, f"{show(r.out)}\n{show(r.err)}")
        doc = self.json_out(r)
        self.assertEqual(doc["state"], "FAILED")
        self.assertIn("not a number", doc["error"])
        status = self.on(orch, "-o", "json", "status", doc["job_id"])
        self.assertRan(status, 0)
        self.assertEqual(self.json_out(status)["state"], "FAILED")
        self.assert_alive_and_accounted(orch, daemon)

    def test_latin1_column_name_joins_decoded_as_latin1(self):
        orch = self.start_orchestrator()
        csv = self.write_csv("header", header=b"\xe2ge" + HEADER[len(b"age"):])
        daemon = self.node(orch, "latin-header", csv)
        nodes = {n["node_id"]: n for n in self.wait_nodes(orch, ["latin-header"], timeout=10)}
        columns = nodes["latin-header"]["datasets"][0]["columns"]
        self.assertEqual(columns[0], "\u00e2ge")
        self.assertEqual(columns[1:], HEADER.decode().split(",")[1:])
        self.assert_alive_and_accounted(orch, daemon)

    def test_a_second_server_on_a_port_in_use_refuses_to_start(self):
        orch = self.start_orchestrator()
        daemon = self.node(orch, "hospital-a", hospitals()["a"])
        self.wait_nodes(orch, ["hospital-a"])
        r, _ = self.submit(orch, {"model_id": "heart_mlp", "nodes": ["hospital-a"]}, "--wait")
        self.assertRan(r, 0)
        intruders = {
            "orchestrator": ["orchestrator", "serve", "--listen", orch.address, "--db",
                             self.path("second.db")],
            "daemon": ["daemon", "serve", "--node-id", "intruder", "--listen", orch.address,
                       "--models", MODELS, "--dataset", f"default={hospitals()['b']}"],
        }
        for what, args in intruders.items():
            with self.subTest(intruder=what):
                r = self.run_dim(*args, timeout=6)
                self.assertRan(r, NONZERO, "address already in use", within=5)
        self.assert_alive_and_accounted(orch, daemon)

    def test_nodes_that_lie_are_refused_and_the_real_node_keeps_its_work(self):
        orch = self.start_orchestrator()
        daemon = self.node(orch, "hospital-a", hospitals()["a"])
        self.wait_nodes(orch, ["hospital-a"])
        pb2, stub = self.orchestrator_stub(orch)

        def register(node_id, **changes):
            fields = dict(node_id=node_id, address="127.0.0.1:1", models=["heart_mlp"],
                          datasets=[pb2.DatasetInfo(name="default", rows=240,
                                                    columns=HEADER.decode().split(","))],
                          max_concurrent_jobs=2, version="hostile")
            fields.update(changes)
            return pb2.RegisterNodeRequest(**fields)

        with self.subTest("hijack of an active node id"):
            self.assertRpcFails(stub.RegisterNode, register("hospital-a"),
                                grpc.StatusCode.ALREADY_EXISTS, "hospital-a")
        liars = {
            "liar-rows": dict(datasets=[pb2.DatasetInfo(name="default", rows=-5)]),
            "liar-capacity": dict(max_concurrent_jobs=-1),
            "liar-no-port": dict(address="nonsense"),
            "liar-port-0": dict(address="127.0.0.1:0"),
            "liar-port-70000": dict(address="127.0.0.1:70000"),
        }
        for node_id, changes in liars.items():
            with self.subTest(node_id):
                self.assertRpcFails(stub.RegisterNode, register(node_id, **changes),
                                    grpc.StatusCode.INVALID_ARGUMENT)
        listed = {n.node_id: n for n in stub.ListNodes(pb2.ListNodesRequest(), timeout=5).nodes}
        self.assertEqual(set(listed), {"hospital-a"})
        self.assertEqual(listed["hospital-a"].address, daemon.address)
        r, _ = self.submit(orch, {"model_id": "heart_mlp", "nodes": ["hospital-a"]}, "--wait")
        self.assertRan(r, 0)
        self.assertEqual(self.json_out(r)["state"], "COMPLETED")
        self.assert_alive_and_accounted(orch, daemon)

    def submit_request(self, pb2, **changes):
        fields = dict(user_id="hostile", pattern=pb2.PATTERN_COLLABORATIVE,
                      priority=pb2.PRIORITY_NORMAL,
                      config_json=json.dumps({"model_id": "heart_mlp", "nodes": ["hospital-a"]}))
        fields.update(changes)
        return pb2.SubmitJobRequest(**fields)

    def test_unknown_pattern_or_priority_is_refused_and_nothing_is_stored(self):
        orch = self.start_orchestrator()
        daemon = self.node(orch, "hospital-a", hospitals()["a"])
        self.wait_nodes(orch, ["hospital-a"])
        pb2, stub = self.orchestrator_stub(orch)

        def total():
            return stub.ListJobs(pb2.ListJobsRequest(), timeout=5).total
        self.acked.append(stub.SubmitJob(self.submit_request(pb2), timeout=10).job_id)
        self.assertEqual(total(), 1)
        for field, value in (("pattern", 99), ("priority", -5)):
            with self.subTest(field=field, value=value):
                self.assertRpcFails(stub.SubmitJob, self.submit_request(pb2, **{field: value}),
                                    grpc.StatusCode.INVALID_ARGUMENT)
                self.assertEqual(total(), 1)
        self.assert_alive_and_accounted(orch, daemon)

    def test_deep_json_and_long_node_lists_are_refused_quickly_in_little_memory(self):
        orch = self.start_orchestrator()
        daemon = self.node(orch, "hospital-a", hospitals()["a"])
        self.wait_nodes(orch, ["hospital-a"])
        # Whatever happens, the orchestrator may not take this machine's memory with it.
        cap = (proc_status_kb(orch.proc.pid, "VmSize") << 10) + (4 << 30)
        resource.prlimit(orch.proc.pid, resource.RLIMIT_AS, (cap, cap))
        pb2, stub = self.orchestrator_stub(orch)
        with self.subTest("100000 nested arrays"):
            deep = "[" * 100_000 + "]" * 100_000
            self.assertRpcFails(stub.SubmitJob, self.submit_request(pb2, config_json=deep),
                                grpc.StatusCode.INVALID_ARGUMENT, "deeper than 64", within=2)
        with self.subTest("500000 node ids"):
            many = json.dumps({"model_id": "heart_mlp",
                               "nodes": [f"n{i}" for i in range(500_000)]})
            self.assertRpcFails(stub.SubmitJob, self.submit_request(pb2, config_json=many),
                                grpc.StatusCode.INVALID_ARGUMENT, "nodes", within=3)
        self.assertLess(proc_status_kb(orch.proc.pid, "VmRSS") / 1024, 300,
                        "the orchestrator's RSS in MB")
        self.assert_alive_and_accounted(orch, daemon)

    def test_a_huge_job_id_is_not_found_with_a_short_message(self):
        orch = self.start_orchestrator()
        pb2, stub = self.orchestrator_stub(orch)
        e = self.assertRpcFails(stub.GetJobStatus, pb2.GetJobStatusRequest(job_id="x" * 20_000),
                                grpc.StatusCode.NOT_FOUND)
        self.assertLess(len((e.details() or "").encode()), 1000)
        self.assert_alive_and_accounted(orch)


class RestartHostileInputTest(HostileMixin, SlowNodesTestCase):
    """An orchestrator killed with -9 and a full queue, started again on the same --db and
    address: the queued jobs wait for their node to register again and then run."""

    # One task over this many rows keeps the node busy while the queue fills up.
    SLOW_ROWS = 150_000
    QUEUED = 20

    def all_ended(self, orch):
        """Every job on orch, once every acknowledged one has ended; else None."""
        jobs = self.jobs(orch)
        ended = all(jobs.get(j, {}).get("state") in TERMINAL for j in self.acked)
        return jobs if ended else None

    def test_killed_orchestrator_keeps_its_queue_until_the_node_is_back(self):
        db = self.path("jobs.db")
        flags = ["--max-concurrent-jobs", "1"]
        orch = self.start_orchestrator(db=db, extra=flags)
        address = orch.address
        daemon = self.start_daemon("hospital-a", {"slow": self.slow, "quick": self.quick},
                                   models=self.models, orchestrator=orch,
                                   extra=["--max-concurrent-jobs", "1", "--abandon-after", "0.5"])
        self.wait_nodes(orch, ["hospital-a"])
        quick = {"model_id": "slow", "nodes": ["hospital-a"], "dataset": "quick"}
        r, running = self.submit(orch, dict(quick, dataset="slow"))
        self.assertRan(r, 0)
        self.wait_until(lambda: self.jobs(orch)[running["job_id"]]["state"] == "RUNNING",
                        timeout=20, what="the slow job to run")
        for _ in range(self.QUEUED):
            self.assertRan(self.submit(orch, quick)[0], 0)
        before = {job_id: job["state"] for job_id, job in self.jobs(orch).items()}
        orch.stop(signal.SIGKILL)
        self.assertGreaterEqual(list(before.values()).count("PENDING"), 5, before)

        orch = self.start(["orchestrator", "serve", "--listen", address, "--db", db, *flags],
                          "orchestrator-restarted")
        # At once, before the daemon's next heartbeat tells it to register again.
        after, _ = self.submit(orch, quick)
        ended = self.wait_until(lambda: self.all_ended(orch), timeout=60,
                                what="every acknowledged job to end")
        with self.subTest("a submit right after the restart"):
            self.assertRan(after, 0)
        for job_id in self.acked:
            job = ended[job_id]
            with self.subTest(job=job_id, state_at_kill=before.get(job_id)):
                self.assertNotIn("not found", job.get("error", ""))
                if before.get(job_id) == "RUNNING":
                    self.assertEqual((job["state"], job.get("error")), ("FAILED", RESTART_REASON))
                else:
                    self.assertEqual(job["state"], "COMPLETED", job.get("error"))
        self.assert_alive_and_accounted(orch, daemon)


if __name__ == "__main__":
    unittest.main(verbosity=2)
