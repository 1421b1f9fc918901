#!/usr/bin/python3
"""End to end: models pushed to the orchestrator (`dim model push | ls`), fetched by daemons
that start with an empty --models folder, verified by sha256 and kept in an on-disk cache
with a size limit (least recently used first out); corrupt pushes and corrupt transfers get
clear errors and leave nothing behind."""
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from dim_harness import DATA, MODELS, DimTestCase, hospitals  # noqa: E402

MLP = os.path.join(MODELS, "heart_mlp.onnx")
RISK = os.path.join(MODELS, "heart_risk.onnx")

_STUBS = {}


def stubs():
    """The protocol's Python stubs (generated once per process): (daemon_pb2, daemon_pb2_grpc)."""
    if not _STUBS:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "seed"))
        import python_example
        root = tempfile.mkdtemp(prefix="dim-stubs-")
        sys.path[:0] = [root, python_example.generate_stubs(root)]
        from dim.proto import daemon_pb2, daemon_pb2_grpc
        _STUBS["daemon"] = (daemon_pb2, daemon_pb2_grpc)
    return _STUBS["daemon"]


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class ModelsTest(DimTestCase):

    def daemon_call(self, daemon, method):
        """GetStats or GetHealth of a daemon, straight over gRPC."""
        import grpc
        pb, pb_grpc = stubs()
        with grpc.insecure_channel(daemon.address) as channel:
            stub = pb_grpc.DaemonStub(channel)
            request = getattr(pb, method + "Request")()
            return getattr(stub, method)(request, timeout=10)

    def push(self, path, name, orch, expect_exit=0):
        return self.dim_json("model", "push", path, "--name", name, server=orch,
                             expect_exit=expect_exit)

    def start_fetching_daemon(self, node, site, orch, extra=()):
        cache = self.path("cache-" + node)
        os.makedirs(cache)
        daemon = self.start_daemon(node, {"default": hospitals()[site]}, models=cache,
                                   orchestrator=orch, extra=extra)
        return daemon, cache

    def run_job(self, orch, model, nodes):
        return self.dim_json("submit", "-p", "collaborative", "-m", model, "--nodes",
                             ",".join(nodes), "--wait", server=orch)

    def test_pushed_model_is_fetched_verified_cached_and_reported(self):
        orch = self.start_orchestrator()
        pushed = self.push(MLP, "fetched_mlp", orch)
        digest = sha256_of(MLP)
        self.assertEqual(pushed["name"], "fetched_mlp")
        self.assertEqual(pushed["sha256"], digest)
        self.assertEqual(pushed["model_id"], "sha256:" + digest)
        self.assertEqual(pushed["size_bytes"], os.path.getsize(MLP))
        self.assertRegex(pushed["pushed_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        # The table: NAME SHA256 SIZE PUSHED.
        r = self.dim("model", "ls", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "SHA256", "SIZE", "PUSHED"])
        self.assertEqual(lines[1].split()[:2], ["fetched_mlp", digest])
        listed = self.dim_json("model", "ls", server=orch)["models"]
        self.assertEqual([(m["name"], m["sha256"], m["size_bytes"]) for m in listed],
                         [("fetched_mlp", digest, os.path.getsize(MLP))])

        a, cache_a = self.start_fetching_daemon("hospital-a", "a", orch)
        b, cache_b = self.start_fetching_daemon("hospital-b", "b", orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-b"])
        self.assertEqual(os.listdir(cache_a), [])
        self.assertEqual(list(self.daemon_call(a, "GetHealth").cached_models), [])

        # The orchestrator accepts the model for nodes that can fetch it, without --nodes too.
        doc = self.run_job(orch, "fetched_mlp", ["hospital-a", "hospital-b"])
        self.assertEqual(doc["state"], "COMPLETED", doc)
        ref = reference.collaborative(MLP, [hospitals()["a"], hospitals()["b"]])["pooled"]
        agg = doc["result"]["aggregate"]
        self.assertEqual(agg["rows"], ref["rows"])
        self.assertEqual(agg["class_counts"], ref["class_counts"])
        for k, col in enumerate(agg["columns"]):
            for key in ("mean", "std", "min", "max"):
                self.assertAlmostEqual(col[key], ref[key][k], delta=1e-6 + 1e-4 * abs(ref[key][k]))

        # Each daemon now holds the file, byte for byte, and says so.
        for daemon, cache in ((a, cache_a), (b, cache_b)):
            with open(os.path.join(cache, "fetched_mlp.onnx"), "rb") as f, open(MLP, "rb") as g:
                self.assertEqual(f.read(), g.read())
            self.assertIn(f"model 'fetched_mlp' fetched: sha256:{digest} verified", daemon.log())
            self.assertEqual(list(self.daemon_call(daemon, "GetHealth").cached_models),
                             ["fetched_mlp"])
            stats = self.daemon_call(daemon, "GetStats")
            self.assertEqual(stats.cached_models_count, 1)
            self.assertEqual(stats.cache_size_bytes, os.path.getsize(MLP))
            self.assertEqual(stats.cache_fetched_models, 1)
            self.assertEqual(stats.cache_misses, 1)
            self.assertEqual(stats.cache_evictions, 0)
        self.wait_for_health_models(orch, "hospital-a", "fetched_mlp")

        # Again, by name and by digest: served from the cache, no second fetch.
        again = self.dim_json("submit", "-p", "collaborative", "-m", "sha256:" + digest,
                              "--wait", server=orch)
        self.assertEqual(again["state"], "COMPLETED", again)
        self.assertEqual(again["result"]["aggregate"]["rows"], ref["rows"])
        self.assertEqual(sorted(n["node_id"] for n in again["nodes"]), ["hospital-a", "hospital-b"])
        self.run_job(orch, "fetched_mlp", ["hospital-a"])
        self.assertEqual(a.log().count("model 'fetched_mlp' fetched"), 1)
        stats = self.daemon_call(a, "GetStats")
        self.assertEqual((stats.cache_misses, stats.cache_hits), (1, 2))

        # A model the store does not have is still unknown, with the usual exit code.
        r = self.dim("submit", "-p", "collaborative", "-m", "ghost", "--nodes", "hospital-a",
                     server=orch)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("$.model_id: model 'ghost' not found on node 'hospital-a'", r.stderr)

    def wait_for_health_models(self, orch, node, model, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            health = self.dim_json("health", server=orch)
            models = [n["models"] for n in health["nodes"] if n["node_id"] == node]
            if models and model in models[0]:
                return
            time.sleep(0.1)
        self.fail(f"`dim health` never listed {model} on {node}: {health}")

    def test_bad_pushes_are_refused_with_clear_errors(self):
        orch = self.start_orchestrator()
        junk = self.path("junk.onnx")
        with open(junk, "wb") as f:
            f.write(b"this is not an ONNX model \xff\xfe")
        r = self.dim("model", "push", junk, "--name", "junk", server=orch)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("model 'junk'", r.stderr)
        self.assertIn("INVALID_ARGUMENT", r.stderr)
        self.assertEqual(r.stdout, "")
        truncated = self.path("truncated.onnx")
        with open(MLP, "rb") as f, open(truncated, "wb") as g:
            g.write(f.read()[:1000])
        r = self.dim("-o", "json", "model", "push", truncated, "--name", "truncated", server=orch)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(json.loads(r.stdout)["error"]["code"], "INVALID_ARGUMENT")
        r = self.dim("model", "push", MLP, "--name", "../escape", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a plain name", r.stderr)
        r = self.dim("model", "push", self.path("missing.onnx"), "--name", "m", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.onnx", r.stderr)
        r = self.dim("model", "ls", server="127.0.0.1:1")
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot reach the orchestrator at 127.0.0.1:1", r.stderr)
        r = self.dim("model", server=orch)
        self.assertEqual(r.returncode, 2)
        # Nothing was stored, the orchestrator still serves, and a good push works.
        self.assertEqual(self.dim_json("model", "ls", server=orch)["models"], [])
        self.assertEqual(self.push(RISK, "heart_risk", orch)["size_bytes"], os.path.getsize(RISK))
        self.assertIsNone(orch.proc.poll())

    def test_corrupt_transfer_fails_the_task_and_leaves_nothing_cached(self):
        db = self.path("orchestrator.db")
        orch = self.start_orchestrator(db=db)
        digest = self.push(MLP, "m", orch)["sha256"]
        # The stored copy goes bad on the orchestrator's disk after the push.
        blob = os.path.join(db + ".models", "blobs", digest)
        with open(blob, "r+b") as f:
            first = f.read(1)
            f.seek(0)
            f.write(bytes([first[0] ^ 0x5A]))
        bad = sha256_of(blob)
        daemon, cache = self.start_fetching_daemon("hospital-a", "a", orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        r = self.dim("-o", "json", "submit", "-p", "collaborative", "-m", "m", "--nodes",
                     "hospital-a", "--wait", server=orch)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        error = json.loads(r.stdout)["nodes"][0]["error"]
        self.assertIn(f"model 'm' from orchestrator {orch.address} has sha256 {bad}, "
                      f"expected {digest}", error)
        self.assertEqual(os.listdir(cache), [])
        self.assertEqual(self.daemon_call(daemon, "GetStats").cache_fetch_failures, 1)

    def test_a_small_cache_evicts_the_least_recently_used_fetched_model(self):
        orch = self.start_orchestrator()
        for name in ("m1", "m2", "m3"):
            self.push(MLP, name, orch)
        size = os.path.getsize(MLP)
        # Room for two fetched models; a model put there by hand neither counts nor goes.
        daemon, cache = self.start_fetching_daemon(
            "hospital-a", "a", orch, extra=["--cache-max-bytes", str(2 * size + 100)])
        shutil.copy(RISK, os.path.join(cache, "by_hand.onnx"))
        self.wait_for_nodes(orch, ["hospital-a"])
        for name in ("m1", "m2", "m1", "m3"):  # m2 is then the least recently used
            self.assertEqual(self.run_job(orch, name, ["hospital-a"])["state"], "COMPLETED")
        self.assertEqual(sorted(f for f in os.listdir(cache) if f.endswith(".onnx")),
                         ["by_hand.onnx", "m1.onnx", "m3.onnx"])
        self.assertRegex(daemon.log(), r"model 'm2' evicted from the cache \(sha256:[0-9a-f]{64}, "
                                       rf"{size} bytes; least recently used\)")
        stats = self.daemon_call(daemon, "GetStats")
        self.assertEqual(stats.cache_evictions, 1)
        self.assertEqual(stats.cache_fetched_models, 2)
        self.assertEqual(stats.cache_fetched_bytes, 2 * size)
        self.assertEqual(stats.cache_max_bytes, 2 * size + 100)
        self.assertEqual(stats.cached_models_count, 3)
        # m2 comes back when used again; m1 is now the oldest and goes.
        self.assertEqual(self.run_job(orch, "m2", ["hospital-a"])["state"], "COMPLETED")
        self.assertEqual(sorted(f for f in os.listdir(cache) if f.endswith(".onnx")),
                         ["by_hand.onnx", "m2.onnx", "m3.onnx"])

    def test_the_store_survives_an_orchestrator_restart(self):
        db = self.path("jobs.db")
        orch = self.start_orchestrator(db=db)
        self.push(MLP, "heart_mlp", orch)
        self.push(RISK, "heart_mlp", orch)  # the name now points at the other file
        self.assertEqual(orch.stop(), 0)
        orch2 = self.start(["orchestrator", "serve", "--listen", "127.0.0.1:0", "--db", db],
                           "orchestrator-2")
        listed = self.dim_json("model", "ls", server=orch2)["models"]
        self.assertEqual([(m["name"], m["sha256"]) for m in listed],
                         [("heart_mlp", sha256_of(RISK))])
        self.assertIn("model store in " + db + ".models (1 models", orch2.log())

    def test_local_push_copies_into_the_models_folder(self):
        folder = self.path("local-models")
        r = self.dim("--local", "--models", folder, "model", "push", MLP, "--name", "mine")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pushed model mine: sha256:" + sha256_of(MLP), r.stdout)
        self.assertTrue(os.path.exists(os.path.join(folder, "mine.onnx")))
        listed = self.dim_json("--local", "--models", folder, "model", "ls")["models"]
        self.assertEqual([(m["name"], m["sha256"], m["size_bytes"]) for m in listed],
                         [("mine", sha256_of(MLP), os.path.getsize(MLP))])
        # The pushed model runs in local mode.
        doc = self.dim_json("--local", "--models", folder, "--local-node",
                            "n1=" + hospitals()["a"], "submit", "-p", "collaborative",
                            "-m", "mine")
        self.assertEqual(doc["state"], "COMPLETED")
        # So does its content id: the local node finds the file by its sha256.
        doc = self.dim_json("--local", "--models", folder, "--local-node",
                            "n1=" + hospitals()["a"], "submit", "-p", "collaborative",
                            "-m", "sha256:" + sha256_of(MLP))
        self.assertEqual(doc["state"], "COMPLETED")
        self.assertEqual(doc["result"]["aggregate"]["rows"], 240)
        r = self.dim("--local", "--models", folder, "-o", "json", "submit", "-p", "collaborative",
                     "--local-node", "n1=" + hospitals()["a"], "-m", "sha256:" + "0" * 64)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        r = self.dim("--local", "--models", folder, "model", "push", self.path("none.onnx"))
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
