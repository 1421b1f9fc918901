"""Starts and stops real dim processes for end-to-end tests.

Services listen on 127.0.0.1 port 0; the address the OS chose is read from the service's
log. Every process started here is stopped in tearDown (SIGTERM, then SIGKILL).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

DIM = os.environ.get("DIM_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "src", "cli", "dim")
SOURCE_ROOT = os.environ.get("DIM_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE_ROOT, "examples")
MODELS = os.path.join(EXAMPLES, "models")
DATA = os.path.join(EXAMPLES, "data")

_LISTENING = re.compile(r"listening on (\S+)")


class Service:
    """One running `dim ... serve` process and its log file."""

    def __init__(self, args, log_path, env=None):
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen([DIM] + args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.address = self._wait_for_address()

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def _wait_for_address(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = _LISTENING.search(self.log())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"dim {' '.join(self.args)} exited {self.proc.returncode}:\n"
                                   + self.log())
            time.sleep(0.02)
        raise RuntimeError(f"dim {' '.join(self.args)} did not start:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class DimTestCase(unittest.TestCase):
    """A test with a scratch folder and helpers to start services and run the client."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dim-e2e-")
        self.services = []
        self.env = dict(os.environ)
        self.env.pop("DIM_SERVER", None)
        self.env["DIM_LOCAL_DB"] = os.path.join(self.tmp, "local.db")

    def tearDown(self):
        for s in reversed(self.services):
            s.stop()
        outcome = getattr(self, "_outcome", None)
        if outcome is not None and not outcome.success:
            for s in self.services:
                print(f"--- log of dim {' '.join(s.args[:2])} ({s.log_path}) ---\n{s.log()}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def make_models_folder(self, examples=("heart_mlp", "heart_risk")):
        """A "models" folder of the test's own (self.models) with copies of the examples;
        self.model(name) is the path of a model in it."""
        self.models = self.path("models")
        os.makedirs(self.models)
        for name in examples:
            shutil.copy(os.path.join(MODELS, name + ".onnx"), self.models)

    def model(self, name):
        return os.path.join(self.models, name + ".onnx")

    def start(self, args, name):
        service = Service(args, self.path(name + ".log"), env=self.env)
        self.services.append(service)
        return service

    def start_orchestrator(self, db=None, extra=(), name="orchestrator"):
        """`name` names the log file: give a restarted service a new one."""
        db = db or self.path("orchestrator.db")
        return self.start(["orchestrator", "serve", "--listen", "127.0.0.1:0", "--db", db,
                           *extra], name)

    def start_daemon(self, node_id, datasets, models=MODELS, orchestrator=None, extra=(),
                     name=None):
        args = ["daemon", "serve", "--node-id", node_id, "--listen", "127.0.0.1:0",
                "--models", models]
        for dataset, path in datasets.items():
            args += ["--dataset", f"{dataset}={path}"]
        if orchestrator:
            args += ["--orchestrator", orchestrator.address]
        return self.start(args + list(extra), name or "daemon-" + node_id)

    def dim(self, *args, server=None, stdin=None, timeout=60):
        """Runs the client; returns CompletedProcess with text stdout/stderr."""
        cmd = [DIM]
        if server is not None:
            cmd += ["--server", server.address if isinstance(server, Service) else server]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, input=stdin,
                              env=self.env, timeout=timeout)

    def dim_json(self, *args, server=None, expect_exit=0):
        r = self.dim("-o", "json", *args, server=server)
        self.assertEqual(r.returncode, expect_exit, f"dim {args}: {r.stdout}\n{r.stderr}")
        return json.loads(r.stdout)

    def wait_for_nodes(self, orchestrator, node_ids, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.dim("-o", "json", "health", server=orchestrator)
            if r.returncode == 0:
                active = {n["node_id"] for n in json.loads(r.stdout)["nodes"]
                          if n["status"] == "ACTIVE"}
                if set(node_ids) <= active:
                    return
            time.sleep(0.05)
        self.fail(f"nodes {node_ids} did not become active:\n{r.stdout}{r.stderr}")


    def wait_until(self, predicate, timeout=20, what="the condition"):
        """Polls predicate() until it returns something truthy, which is returned."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        self.fail(f"timed out after {timeout} s waiting for {what}")

    def job(self, orchestrator, job_id):
        return self.dim_json("status", job_id, server=orchestrator)

    def grpc_stubs(self):
        """The protocol's Python modules, generated from proto/ into the test's folder:
        (orchestrator_pb2, orchestrator_pb2_grpc, daemon_pb2, daemon_pb2_grpc)."""
        import sys
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "seed"))
        import python_example
        root = self.path("stubs")
        sys.path[:0] = [root, python_example.generate_stubs(root)]
        from dim.proto import (daemon_pb2, daemon_pb2_grpc, orchestrator_pb2,
                               orchestrator_pb2_grpc)
        return orchestrator_pb2, orchestrator_pb2_grpc, daemon_pb2, daemon_pb2_grpc

    def make_slow_model(self, folder, name="slow", inputs=8, width=1024, outputs=3):
        """An MLP inputs-width-width-outputs (MatMul, Relu, Softmax) that costs about 2·width²
        FLOPs a row: tens of microseconds, so a dataset of tens of thousands of rows keeps a
        node busy for seconds. Written to folder/name.onnx."""
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        rng = np.random.default_rng(0)
        nodes, weights, prev, fan_in = [], [], "x", inputs
        for i, fan_out in enumerate([width, width, outputs]):
            w = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
            weights.append(numpy_helper.from_array(w, f"w{i}"))
            nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"]))
            prev, fan_in = f"h{i}", fan_out
            if i < 2:
                nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
                prev = f"r{i}"
        nodes.append(helper.make_node("Softmax", [prev], ["y"], axis=1))
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", inputs])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])], weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        os.makedirs(folder, exist_ok=True)
        onnx.save(model, os.path.join(folder, name + ".onnx"))

    def make_dataset(self, name, rows, columns=8):
        """A CSV of `rows` rows of `columns` numbers (a 1,000-row block repeated); its path."""
        import numpy as np
        block = np.random.default_rng(1).random((1000, columns))
        text = "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in block)
        path = self.path(name + ".csv")
        with open(path, "w") as f:
            f.write(",".join(f"c{i}" for i in range(columns)) + "\n")
            for _ in range(rows // 1000):
                f.write(text)
        return path


class SlowNodesTestCase(DimTestCase):
    """For tests of node tasks that must still be running when the test acts: a slow model
    in self.models, a dataset a task over which runs for seconds (self.slow, SLOW_ROWS rows)
    and a quick one (self.quick)."""

    # About 45 µs a row on one core of the 2-core CI machine.
    SLOW_ROWS = 60_000

    def setUp(self):
        super().setUp()
        self.models = self.path("models")
        self.make_slow_model(self.models)
        self.slow = self.make_dataset("slow", self.SLOW_ROWS)
        self.quick = self.make_dataset("quick", 1000)

    def submit(self, orch, config, *flags):
        """Submits a collaborative job with this config (a dict); its id."""
        r = self.dim("submit", "-p", "collaborative", "--config-json", json.dumps(config), "-q",
                     *flags, server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()


def hospitals():
    return {s: os.path.join(DATA, f"hospital_{s}.csv") for s in "abc"}
