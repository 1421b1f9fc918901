#!/usr/bin/python3
"""End to end: the PatternEngine service the orchestrator serves. Execute runs a whole job
spec and answers when the job has ended (result checked against the independent numpy
reference); bad specs fail the call with the JSON path and store no job; a failed job
answers with its error; a caller that goes away cancels its job; GetHealth answers."""
import json
import os
import sys
import time
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "seed"))
import python_example  # noqa: E402
import reference  # noqa: E402
from dim_harness import DATA, MODELS, DimTestCase, hospitals  # noqa: E402

NODES = ["hospital-a", "hospital-b"]


class PatternEngineTest(DimTestCase):

    def setUp(self):
        super().setUp()
        root = self.path("stubs")
        sys.path[:0] = [root, python_example.generate_stubs(root)]
        import grpc
        from dim.proto import pattern_engine_pb2, pattern_engine_pb2_grpc
        self.grpc = grpc
        self.pb = pattern_engine_pb2
        self.orch = self.start_orchestrator()
        for node, site in zip(NODES, "ab"):
            self.start_daemon(node, {"default": hospitals()[site]}, orchestrator=self.orch)
        self.wait_for_nodes(self.orch, NODES)
        self.channel = grpc.insecure_channel(self.orch.address)
        self.stub = pattern_engine_pb2_grpc.PatternEngineStub(self.channel)

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    def execute(self, spec, timeout=60, job_id=""):
        text = spec if isinstance(spec, str) else json.dumps(spec)
        return self.stub.Execute(self.pb.ExecuteRequest(job_id=job_id, spec_json=text),
                                 timeout=timeout)

    def jobs(self):
        return self.dim_json("ls", server=self.orch)["jobs"]

    def test_health(self):
        health = self.stub.GetHealth(self.pb.GetHealthRequest(), timeout=10)
        self.assertEqual(health.status, "healthy")
        self.assertEqual(health.pattern.split(","), ["collaborative", "comparative", "chained"])
        self.assertRegex(health.version, r"^\d+\.\d+\.\d+$")

    def test_execute_runs_the_job_to_its_end(self):
        spec = {"pattern": "collaborative", "userId": "ci",
                "config": {"model_id": "heart_mlp", "nodes": NODES}}
        resp = self.execute(spec)
        self.assertFalse(resp.error.code, resp.error.message)
        result = json.loads(resp.result_json)
        ref = reference.collaborative(os.path.join(MODELS, "heart_mlp.onnx"),
                                      [hospitals()[s] for s in "ab"])["pooled"]
        agg = result["aggregate"]
        self.assertEqual(agg["rows"], ref["rows"])
        self.assertEqual(agg["class_counts"], ref["class_counts"])
        for k, col in enumerate(agg["columns"]):
            self.assertAlmostEqual(col["mean"], ref["mean"][k], delta=1e-6)
        # The job is an ordinary one: listed, with its user, completed.
        status = self.dim_json("status", resp.job_id, server=self.orch)
        self.assertEqual(status["state"], "COMPLETED")
        self.assertEqual(status["user_id"], "ci")

        # config as a string of JSON, a priority, the other pattern: heart_mlp has 3 outputs
        # and heart_risk 1, so the node refuses to compare them and the job fails.
        spec = {"pattern": "comparative", "priority": "high",
                "config": json.dumps({"model_ids": ["heart_mlp", "heart_risk"],
                                      "node_id": "hospital-b"})}
        resp = self.execute(spec)
        self.assertEqual(resp.error.code, "FAILED")
        self.assertIn("heart_risk", resp.error.message)
        status = self.dim_json("status", resp.job_id, server=self.orch)
        self.assertEqual(status["priority"], "high")
        self.assertEqual(status["state"], "FAILED")

        # A pipeline over the caller's own rows: they come back through heart_risk.
        rows = [[63, 31, 145, 90, 233, 150, 72, 1], [41, 22, 118, 76, 190, 92, 64, 0]]
        spec = {"pattern": "chained",
                "config": {"pipeline": [{"step": 1, "model_id": "heart_risk",
                                         "node_id": "hospital-b", "input_source": "client_data"}],
                           "input_data": rows}}
        resp = self.execute(spec)
        self.assertFalse(resp.error.code, resp.error.message)
        result = json.loads(resp.result_json)
        want = reference.OnnxModel(os.path.join(MODELS, "heart_risk.onnx")).run(
            np.array(rows, dtype=np.float64))
        for got, w in zip(result["output_rows"], want[:, 0], strict=True):
            self.assertAlmostEqual(got[0], w, delta=1e-6)
        self.assertEqual(result["pipeline_trace"][0]["node_id"], "hospital-b")

    def test_bad_specs_fail_the_call_and_store_nothing(self):
        cases = [
            ("not json", self.grpc.StatusCode.INVALID_ARGUMENT, "spec_json: invalid JSON"),
            ({"pattern": "parallel", "config": {}}, self.grpc.StatusCode.INVALID_ARGUMENT,
             "spec_json: $.pattern: unknown pattern 'parallel'"),
            ({"pattern": "collaborative"}, self.grpc.StatusCode.INVALID_ARGUMENT,
             "spec_json: $.config: missing required key"),
            ({"pattern": "collaborative", "config": {"model_id": "heart_mlp"}, "prio": 1},
             self.grpc.StatusCode.INVALID_ARGUMENT, "spec_json: $.prio: unknown key"),
            ({"pattern": "collaborative", "config": {"model_id": "heart_mlp", "nodes": [1]}},
             self.grpc.StatusCode.INVALID_ARGUMENT,
             "spec_json: $.config.nodes[0]: expected a string, got number"),
            ({"pattern": "collaborative", "config": {"model_id": "heart_mlp", "nodes": ["x"]}},
             self.grpc.StatusCode.NOT_FOUND, "spec_json: $.config.nodes[0]:"),
            ({"pattern": "collaborative", "config": {"model_id": "nope"}},
             self.grpc.StatusCode.NOT_FOUND, "spec_json: $.config.model_id:"),
        ]
        for spec, code, message in cases:
            with self.subTest(spec=spec):
                with self.assertRaises(self.grpc.RpcError) as bad:
                    self.execute(spec, timeout=10)
                self.assertEqual(bad.exception.code(), code, bad.exception.details())
                self.assertIn(message, bad.exception.details())
        with self.assertRaises(self.grpc.RpcError) as bad:
            self.execute({"pattern": "collaborative", "config": {"model_id": "heart_mlp"}},
                         job_id="mine", timeout=10)
        self.assertEqual(bad.exception.code(), self.grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("job_id: dim chooses job ids", bad.exception.details())
        self.assertEqual(self.jobs(), [])
        # The service still serves.
        self.assertEqual(self.stub.GetHealth(self.pb.GetHealthRequest(), timeout=10).status,
                         "healthy")

    def test_a_failed_job_answers_with_its_error(self):
        resp = self.execute({"pattern": "collaborative",
                             "config": {"model_id": "heart_mlp", "columns": ["age", "bmi"]}})
        self.assertEqual(resp.error.code, "FAILED")
        self.assertIn("selects 2 feature columns but model 'heart_mlp' expects 8",
                      resp.error.message)
        self.assertEqual(resp.result_json, "")
        self.assertEqual(self.dim_json("status", resp.job_id, server=self.orch)["state"],
                         "FAILED")

    def test_a_caller_that_leaves_cancels_its_job(self):
        # A slow model (8 -> 1024 -> 1024 -> 1024 -> 3, about 4 MFLOP a row) over 28,800
        # rows: the job takes seconds, far past the caller's half-second deadline.
        models = self.path("slow-models")
        os.makedirs(models)
        rng = np.random.default_rng(0)
        widths = [8, 1024, 1024, 1024, 3]
        nodes, inits, prev = [], [], "input"
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
            w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
            inits.append(numpy_helper.from_array(w, f"w{i}"))
            nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"]))
            prev = f"h{i}"
        graph = helper.make_graph(
            nodes, "slow", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 8])],
            [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["N", 3])], inits)
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                  os.path.join(models, "slow.onnx"))
        long_csv = self.path("long.csv")
        with open(hospitals()["a"]) as f:
            header, rows = f.readline(), f.read()
        with open(long_csv, "w") as f:
            f.write(header + rows * 120)
        self.start_daemon("slow-node", {"long": long_csv}, models=models, orchestrator=self.orch)
        self.wait_for_nodes(self.orch, ["slow-node"])
        with self.assertRaises(self.grpc.RpcError) as gone:
            self.execute({"pattern": "collaborative",
                          "config": {"model_id": "slow", "dataset": "long"}}, timeout=0.5)
        self.assertEqual(gone.exception.code(), self.grpc.StatusCode.DEADLINE_EXCEEDED)
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        deadline = time.time() + 15
        while time.time() < deadline:
            state = self.dim_json("status", jobs[0]["job_id"], server=self.orch)["state"]
            if state not in ("PENDING", "RUNNING"):
                break
            time.sleep(0.05)
        self.assertEqual(state, "CANCELLED")


if __name__ == "__main__":
    unittest.main(verbosity=2)
