#!/usr/bin/python3
"""End to end: the original protocol README's Python and TypeScript examples, as written,
against a real orchestrator: a job id comes back and the job completes.

The README submits model 'model-abc' on node 'node-001', so the daemon here is node-001
with the example logistic model served under that name."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import MODELS, SOURCE_ROOT, DimTestCase, hospitals  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed")


class SeedExamplesTest(DimTestCase):

    def setUp(self):
        super().setUp()
        models = self.path("models")
        os.makedirs(models)
        shutil.copy(os.path.join(MODELS, "heart_risk.onnx"), os.path.join(models, "model-abc.onnx"))
        self.orch = self.start_orchestrator()
        self.start_daemon("node-001", {"default": hospitals()["a"]}, models=models,
                          orchestrator=self.orch)
        self.wait_for_nodes(self.orch, ["node-001"])

    def check_job_completed(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        lines = proc.stdout.split("\n")
        self.assertRegex(lines[0], r"^Job ID: job-[0-9a-f]{20}$")
        self.assertEqual(lines[1], "JOB_STATE_COMPLETED")
        job_id = lines[0].split(": ")[1]
        doc = self.dim_json("status", job_id, server=self.orch)
        self.assertEqual((doc["state"], doc["user_id"]), ("COMPLETED", "user-123"))
        self.assertEqual([n["node_id"] for n in doc["nodes"]], ["node-001"])

    def test_python_example(self):
        proc = subprocess.run([sys.executable, os.path.join(SEED, "python_example.py"),
                               self.orch.address], capture_output=True, text=True, timeout=120,
                              env=self.env)
        self.check_job_completed(proc)

    def test_typescript_example(self):
        if shutil.which("npm") is None:
            self.fail("npm is missing: scripts/install-deps.sh --test installs it")
        proc = subprocess.run([os.path.join(SEED, "typescript", "run.sh"), self.orch.address],
                              capture_output=True, text=True, timeout=600, cwd=SOURCE_ROOT,
                              env=self.env)
        self.check_job_completed(proc)


class SeedExamplesOverTlsTest(SeedExamplesTest):
    """The same examples against an orchestrator that serves TLS and authenticates users by
    token: only their channel changes (the CA in DIM_TLS_CA, the token in DIM_TOKEN)."""

    def setUp(self):
        DimTestCase.setUp(self)
        models = self.path("models")
        os.makedirs(models)
        shutil.copy(os.path.join(MODELS, "heart_risk.onnx"), os.path.join(models, "model-abc.onnx"))
        pki = self.path("pki")
        for args in (["init", pki], ["issue", pki, "--role", "orchestrator", "orch", "--ip",
                                     "127.0.0.1", "--dns", "localhost"]):
            r = self.dim("cert", *args)
            self.assertEqual(r.returncode, 0, r.stderr)
        tokens = self.path("tokens")
        with open(tokens, "w") as f:
            f.write("seed-example-token-0123456789 user-123 user\n")
        self.orch = self.start_orchestrator(extra=[
            "--tls-cert", os.path.join(pki, "orch.crt"), "--tls-key", os.path.join(pki, "orch.key"),
            "--auth-tokens", tokens])
        self.env.update(DIM_TLS_CA=os.path.join(pki, "ca.crt"),
                        DIM_TOKEN="seed-example-token-0123456789")
        self.start_daemon("node-001", {"default": hospitals()["a"]}, models=models,
                          orchestrator=self.orch, extra=["--tls-ca", os.path.join(pki, "ca.crt")])
        self.wait_for_nodes(self.orch, ["node-001"])

    def test_without_the_token_the_example_is_refused(self):
        env = dict(self.env)
        env.pop("DIM_TOKEN")
        proc = subprocess.run([sys.executable, os.path.join(SEED, "python_example.py"),
                               self.orch.address], capture_output=True, text=True, timeout=120,
                              env=env)
        self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
        self.assertIn("UNAUTHENTICATED", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
