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
                               self.orch.address], capture_output=True, text=True, timeout=120)
        self.check_job_completed(proc)

    def test_typescript_example(self):
        if shutil.which("npm") is None:
            self.fail("npm is missing: scripts/install-deps.sh --test installs it")
        proc = subprocess.run([os.path.join(SEED, "typescript", "run.sh"), self.orch.address],
                              capture_output=True, text=True, timeout=600, cwd=SOURCE_ROOT)
        self.check_job_completed(proc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
