#!/usr/bin/python3
"""End to end: --local runs the same engine in-process and keeps its jobs in a local
SQLite file, so `dim ls --local` shows them afterwards."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from dim_harness import MODELS, DimTestCase, hospitals  # noqa: E402


class LocalModeTest(DimTestCase):

    def local(self, *args):
        nodes = [a for s, p in hospitals().items() for a in ("--local-node", f"hospital-{s}={p}")]
        return self.dim("--local", "--models", MODELS, *nodes, *args)

    def test_local_job_matches_reference_and_is_listed_afterwards(self):
        r = self.local("-o", "json", "submit", "-p", "collaborative", "-m", "heart_mlp")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["state"], "COMPLETED")
        ref = reference.collaborative(os.path.join(MODELS, "heart_mlp.onnx"),
                                      list(hospitals().values()))["pooled"]
        agg = doc["result"]["aggregate"]
        self.assertEqual(agg["rows"], ref["rows"])
        self.assertEqual(agg["class_counts"], ref["class_counts"])
        for k, col in enumerate(agg["columns"]):
            self.assertAlmostEqual(col["mean"], ref["mean"][k], delta=1e-6)
            self.assertAlmostEqual(col["std"], ref["std"][k], delta=1e-6)
        # A later process sees the job in the same local file, with no nodes given.
        listed = json.loads(self.dim("--local", "-o", "json", "ls").stdout)
        self.assertEqual([j["job_id"] for j in listed["jobs"]], [doc["job_id"]])
        status = self.dim("--local", "status", doc["job_id"])
        self.assertEqual(status.returncode, 0)
        self.assertIn("COMPLETED", status.stdout)
        result = self.dim("--local", "result", doc["job_id"])
        self.assertIn("federated_averaging over 3 nodes, 720 rows", result.stdout)

    def test_local_table_output_and_errors(self):
        r = self.local("submit", "-p", "collaborative", "-m", "heart_risk",
                       "--nodes", "hospital-a,hospital-c")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("over 2 nodes, 540 rows", r.stdout)
        r = self.local("submit", "-p", "collaborative", "-m", "missing_model")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("$.model_id: model 'missing_model' is on none of the nodes that hold "
                      "dataset 'default' (hospital-a, hospital-b, hospital-c)", r.stderr)
        r = self.local("submit", "-p", "collaborative", "-m", "heart_mlp", "--nodes", "elsewhere")
        self.assertEqual(r.returncode, 4)
        self.assertIn("$.nodes[0]: node 'elsewhere' not found", r.stderr)
        r = self.dim("--local", "--local-node", "bad-spec", "ls")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--local-node 'bad-spec'", r.stderr)
        r = self.dim("--local", "--local-node", "x=/no/such.csv", "ls")
        self.assertEqual(r.returncode, 4)
        self.assertIn("such.csv", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
