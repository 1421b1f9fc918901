#!/usr/bin/python3
"""End to end: comparative jobs (several models, one node's data, the vote taken on the node)
on real daemons, through the gRPC API and in --local mode, checked against an independent
numpy reference (reference.comparative); bad configs get their errors through the CLI.

Models (written into each test's scratch folder, which the daemons serve):
  heart_mlp, heart_risk   the committed examples (3 softmax outputs; 1 sigmoid output)
  mlp_low, mlp_high       heart_mlp with its last bias raised for class 0 / class 2, so they
                          disagree with it on some rows
  const_a, const_b,       Gemm with zero weights: every row gets the bias, [0.75, 0.25, 0],
  const_c                 [0.25, 0.75, 0] and [0, 0.25, 0.75]: exact ties by construction
"""
import json
import os
import sys
import time
import unittest

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from dim_harness import MODELS, DimTestCase, hospitals  # noqa: E402

THREE = ["heart_mlp", "mlp_low", "mlp_high"]
CONSTANTS = {"const_a": [0.75, 0.25, 0.0], "const_b": [0.25, 0.75, 0.0],
             "const_c": [0.0, 0.25, 0.75]}
# The keys of the node's figures, compared with the reference one by one.
FIGURES = ["rows", "classes", "class_counts", "no_consensus", "model_class_counts",
           "review_count"]


def shifted_mlp(path, delta):
    model = onnx.load(os.path.join(MODELS, "heart_mlp.onnx"))
    for i, t in enumerate(model.graph.initializer):
        if t.name == "4.bias":  # the last Gemm's bias: the class logits
            bias = numpy_helper.to_array(t) + np.asarray(delta, dtype=np.float32)
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(bias, t.name))
    onnx.save(model, path)


def constant_model(path, bias):
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["features", "w", "b"], ["output"])], "constant",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(np.zeros((8, 3), dtype=np.float32), "w"),
         numpy_helper.from_array(np.asarray(bias, dtype=np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


class ComparativeTest(DimTestCase):

    def setUp(self):
        super().setUp()
        self.make_models_folder()
        shifted_mlp(self.model("mlp_low"), [0.8, 0.0, 0.0])
        shifted_mlp(self.model("mlp_high"), [0.0, 0.0, 0.9])
        for name, bias in CONSTANTS.items():
            constant_model(self.model(name), bias)

    def start_cluster(self):
        """An orchestrator and daemons hospital-a and hospital-c (dataset "default"; c also
        holds it as "cardio"), both serving every model."""
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, models=self.models,
                          orchestrator=orch)
        self.start_daemon("hospital-c", {"default": hospitals()["c"], "cardio": hospitals()["c"]},
                          models=self.models, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-c"])
        return orch

    def expected(self, models, site, method, weights=None, min_agreement=1.0):
        ref = reference.comparative([self.model(m) for m in models], hospitals()[site], method,
                                    weights, min_agreement)
        return ref

    def assert_vote(self, result, ref, robust=True):
        """The result's figures equal the reference's; with robust, the reference's classes
        are far enough from a tie that float32 rounding cannot change one."""
        if robust:
            self.assertGreater(ref["margin"], 2e-5, "test data too close to a tie")
        for key in FIGURES:
            self.assertEqual(result[key], ref[key], key)
        self.assertAlmostEqual(result["agreement_level"], ref["agreement_level"], places=12)
        for got, want in zip(result["model_agreement"], ref["model_agreement"], strict=True):
            self.assertAlmostEqual(got, want, places=12)
        for got, want in zip(result["pairwise_agreement"], ref["pairwise_agreement"], strict=True):
            for g, w in zip(got, want, strict=True):
                self.assertAlmostEqual(g, w, places=12)
        if "review_rows" in ref:
            self.assertEqual(result["review_rows"], ref["review_rows"])
            self.assertEqual(result["review_rows_truncated"], ref["review_rows_truncated"])
        else:
            self.assertNotIn("review_rows", result)

    def assert_no_data_values(self, result, site):
        """Only figures leave the node: no number with a fraction in the result is a cell of
        the dataset, and no list is as long as the dataset except the capped review rows."""
        _, x = reference.read_csv(hospitals()[site])
        cells = {round(float(v), 6) for v in x.ravel() if v != int(v)}
        numbers, lists = [], []

        def walk(v, key=None):
            if isinstance(v, dict):
                for k, item in v.items():
                    walk(item, k)
            elif isinstance(v, list):
                if key != "review_rows":
                    lists.append(len(v))
                for item in v:
                    walk(item, key)
            elif isinstance(v, float):
                numbers.append(v)
        walk(result)
        self.assertEqual([v for v in numbers if round(v, 6) in cells], [])
        self.assertLess(max(lists), 10)
        self.assertLessEqual(len(result.get("review_rows", [])), 1000)

    def submit(self, *args, server=None, expect_exit=0):
        return self.dim_json("submit", "-p", "comparative", "--wait", *args, server=server,
                             expect_exit=expect_exit)

    def test_every_method_matches_the_reference(self):
        orch = self.start_cluster()
        cases = [
            ("majority_vote", [], {}),
            ("weighted_vote", ["--weights", "1,2,0.5"], {"weights": [1, 2, 0.5]}),
            ("average", [], {}),
            ("unanimous", [], {}),
            ("expert_review", ["--min-agreement", "0.7"], {"min_agreement": 0.7}),
        ]
        for method, flags, params in cases:
            with self.subTest(method=method):
                # --model repeated and comma-separated alike.
                doc = self.submit("--model", "heart_mlp", "--model", "mlp_low,mlp_high",
                                  "--node", "hospital-c", "--consensus", method, *flags,
                                  server=orch)
                self.assertEqual(doc["state"], "COMPLETED")
                self.assertEqual(doc["progress"], {"completed": 1, "total": 1, "percent": 100})
                self.assertEqual([n["node_id"] for n in doc["nodes"]], ["hospital-c"])
                result = doc["result"]
                self.assertEqual(result["pattern"], "comparative")
                self.assertEqual(result["consensus_method"], method)
                self.assertEqual(result["model_ids"], THREE)
                self.assertEqual(result["node_id"], "hospital-c")
                self.assertEqual(result["node"]["status"], "completed")
                ref = self.expected(THREE, "c", method, **params)
                self.assert_vote(result, ref)
                self.assert_no_data_values(result, "c")
                if method == "weighted_vote":
                    self.assertEqual(result["weights"], [1, 2, 0.5])
                if method == "expert_review":
                    self.assertEqual(result["min_agreement"], 0.7)
                    self.assertGreater(result["review_count"], 0)
                if method == "unanimous":
                    self.assertGreater(result["no_consensus"], 0)
                    self.assertEqual(sum(result["class_counts"]) + result["no_consensus"], 300)
        # The methods really differ on these models and rows.
        counts = {m: self.expected(THREE, "c", m, **p)["class_counts"] for m, _, p in cases}
        self.assertGreater(len({json.dumps(c) for c in counts.values()}), 2)

    def test_exact_ties_go_to_the_lowest_class(self):
        orch = self.start_cluster()
        pair = ["--model", "const_a,const_b", "--node", "hospital-a"]
        # Each row: const_a says class 0, const_b class 1, and their mean is [0.5, 0.5, 0].
        for method, flags, want in [
            ("majority_vote", [], [240, 0, 0]),
            ("average", [], [240, 0, 0]),
            ("weighted_vote", ["--weights", "1,2"], [0, 240, 0]),
            ("weighted_vote", ["--weights", "1,1"], [240, 0, 0]),
            ("unanimous", [], [0, 0, 0]),
            ("expert_review", [], [240, 0, 0]),
        ]:
            with self.subTest(method=method, flags=flags):
                result = self.submit(*pair, "--consensus", method, *flags, server=orch)["result"]
                self.assertEqual(result["class_counts"], want)
                self.assertEqual(result["agreement_level"], 0.5)
                self.assertEqual(result["pairwise_agreement"], [[1.0, 0.0], [0.0, 1.0]])
                weights = [float(w) for w in flags[1].split(",")] if flags else None
                self.assert_vote(result, self.expected(["const_a", "const_b"], "a", method,
                                                       weights), robust=False)
                if method == "unanimous":
                    self.assertEqual(result["no_consensus"], 240)
                if method == "expert_review":  # default min_agreement 1: every row
                    self.assertEqual(result["review_count"], 240)
                    self.assertEqual(result["review_rows"], list(range(240)))
                    self.assertFalse(result["review_rows_truncated"])
        # Three models, three different classes on every row: a three-way tie, class 0.
        result = self.submit("--model", "const_c,const_b,const_a", "--node", "hospital-a",
                             server=orch)["result"]
        self.assertEqual(result["class_counts"], [240, 0, 0])
        self.assertEqual(result["model_agreement"], [0.0, 0.0, 1.0])
        self.assertAlmostEqual(result["agreement_level"], 1 / 3, places=12)

    def test_node_is_chosen_and_the_result_reads_as_a_table(self):
        orch = self.start_cluster()
        # Both nodes hold "default" and every model: the first by id is chosen.
        doc = self.submit("-m", "heart_mlp,mlp_low", server=orch)
        self.assertEqual([n["node_id"] for n in doc["nodes"]], ["hospital-a"])
        self.assert_vote(doc["result"], self.expected(["heart_mlp", "mlp_low"], "a",
                                                      "majority_vote"))
        # Only hospital-c holds "cardio".
        doc = self.submit("-m", "heart_mlp", "-m", "mlp_high", "--dataset", "cardio",
                          "--consensus", "average", server=orch)
        self.assertEqual(doc["result"]["node_id"], "hospital-c")
        self.assertEqual(doc["result"]["dataset"], "cardio")
        self.assert_vote(doc["result"], self.expected(["heart_mlp", "mlp_high"], "c", "average"))
        # A config file in camelCase, and `dim result` as a table.
        config = json.dumps({"modelIds": THREE, "nodeId": "hospital-a",
                             "consensus": {"method": "expert_review", "minAgreement": 0.5},
                             "columns": ["age", "bmi", "systolic_bp", "diastolic_bp",
                                         "cholesterol", "glucose", "heart_rate", "smoker"]})
        r = self.dim("-o", "json", "submit", "-p", "comparative", "--config", "-", "--wait",
                     server=orch, stdin=config)
        self.assertEqual(r.returncode, 0, r.stderr)
        job = json.loads(r.stdout)
        ref = self.expected(THREE, "a", "expert_review", min_agreement=0.5)
        self.assert_vote(job["result"], ref)
        table = self.dim("result", job["job_id"], server=orch)
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertIn(f"job {job['job_id']} COMPLETED: comparative, expert_review of 3 models "
                      "on node hospital-a, dataset default, 240 rows", table.stdout)
        level = f"{100 * ref['agreement_level']:.1f}%"
        self.assertIn(f"agreement level {level}, min agreement 0.5", table.stdout)
        for name in THREE:
            self.assertIn(name, table.stdout)
        self.assertIn(f"{ref['review_count']} rows for review (agreement below 0.5)",
                      table.stdout)
        # The same document with -o json.
        again = self.dim_json("result", job["job_id"], server=orch)
        self.assertEqual(again["result"], job["result"])

    def test_grpc_api(self):
        orch = self.start_cluster()
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "seed"))
        import python_example
        root = self.path("stubs")
        sys.path[:0] = [root, python_example.generate_stubs(root)]
        import grpc
        from dim.proto import orchestrator_pb2, orchestrator_pb2_grpc
        config = {"model_ids": ["heart_mlp", "mlp_high"], "node_id": "hospital-a",
                  "consensus": "average"}
        with grpc.insecure_channel(orch.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
            submitted = stub.SubmitJob(orchestrator_pb2.SubmitJobRequest(
                user_id="u", pattern=orchestrator_pb2.PATTERN_COMPARATIVE,
                config_json=json.dumps(config)), timeout=10)
            deadline = time.time() + 30
            while time.time() < deadline:
                status = stub.GetJobStatus(orchestrator_pb2.GetJobStatusRequest(
                    job_id=submitted.job_id), timeout=10)
                if status.status == orchestrator_pb2.JOB_STATE_COMPLETED:
                    break
                time.sleep(0.05)
            self.assertEqual(status.status, orchestrator_pb2.JOB_STATE_COMPLETED, status.error)
            self.assertEqual(status.pattern, orchestrator_pb2.PATTERN_COMPARATIVE)
            self.assertEqual([n.node_id for n in status.nodes], ["hospital-a"])
            result = stub.GetJobResult(orchestrator_pb2.GetJobResultRequest(
                job_id=submitted.job_id), timeout=10)
            self.assert_vote(json.loads(result.result_json),
                             self.expected(["heart_mlp", "mlp_high"], "a", "average"))
            # A bad config straight to the server: INVALID_ARGUMENT with its path.
            with self.assertRaises(grpc.RpcError) as bad:
                stub.SubmitJob(orchestrator_pb2.SubmitJobRequest(
                    user_id="u", pattern=orchestrator_pb2.PATTERN_COMPARATIVE,
                    config_json='{"model_ids": ["heart_mlp", "mlp_low"], "consensus": "mode"}'),
                    timeout=10)
            self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("$.consensus: unknown consensus method 'mode'", bad.exception.details())

    def test_local_mode(self):
        def local(*args):
            return self.dim("--local", "--models", self.models, "--local-node",
                            f"hospital-b={hospitals()['b']}", "--local-node",
                            f"hospital-c={hospitals()['c']}", *args)
        for method in ("majority_vote", "average"):
            with self.subTest(method=method):
                r = local("-o", "json", "submit", "-p", "comparative", "-m", ",".join(THREE),
                          "--node", "hospital-b", "--consensus", method)
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout)
                self.assertEqual(doc["state"], "COMPLETED")
                self.assert_vote(doc["result"], self.expected(THREE, "b", method))
        r = local("submit", "-p", "comparative", "-m", "const_a,const_b", "--consensus",
                  "unanimous")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("unanimous of 2 models on node hospital-b", r.stdout)
        self.assertIn("180 rows without a unanimous class", r.stdout)
        r = local("submit", "-p", "comparative", "-m", "heart_mlp")
        self.assertEqual(r.returncode, 2)
        self.assertIn("$.model_ids: a comparison needs at least 2 models, got 1", r.stderr)

    def test_bad_configs_get_their_error_and_nothing_is_stored(self):
        orch = self.start_cluster()
        two = ["-m", "heart_mlp,mlp_low"]
        cases = [
            (["-m", "heart_mlp"], 2, "$.model_ids: a comparison needs at least 2 models, got 1"),
            (["-m", "heart_mlp,heart_mlp"], 2, "$.model_ids[1]: duplicate 'heart_mlp' (also at [0])"),
            (two + ["--consensus", "plurality"], 2,
             "$.consensus.method: unknown consensus method 'plurality' (expected majority_vote, "
             "weighted_vote, average, unanimous or expert_review)"),
            (two + ["--consensus", "weighted_vote", "--weights", "1,2,3"], 2,
             "$.consensus.weights: 3 weights for 2 models"),
            (two + ["--consensus", "weighted_vote"], 2,
             "$.consensus.weights: missing required key"),
            (two + ["--consensus", "weighted_vote", "--weights", "1,-2"], 2,
             "$.consensus.weights[1]: must be >= 0, got -2"),
            (two + ["--consensus", "weighted_vote", "--weights", "0,0"], 2,
             "$.consensus.weights: must not all be zero"),
            (two + ["--weights", "1,2"], 2,
             "$.consensus.weights: only the weighted_vote method takes weights"),
            (two + ["--consensus", "expert_review", "--min-agreement", "1.5"], 2,
             "$.consensus.min_agreement: must be between 0 and 1, got 1.5"),
            (two + ["--min-agreement", "0.5"], 2,
             "$.consensus.min_agreement: only the expert_review method takes min_agreement"),
            (["--config-json", '{"model_ids": ["heart_mlp", "mlp_low"], "consensus_method": "x"}'],
             2, "$.consensus_method: unknown key"),
            (["--config-json", '{"modelIds": ["heart_mlp", "mlp_low"], "nodes": ["hospital-a"]}'],
             2, "$.nodes: unknown key"),
            (two + ["--node", "hospital-z"], 4,
             "$.node_id: node 'hospital-z' not found (known nodes: hospital-a, hospital-c)"),
            (["-m", "heart_mlp,ghost", "--node", "hospital-a"], 4,
             "$.model_ids[1]: model 'ghost' not found on node 'hospital-a'"),
            (["-m", "heart_mlp,ghost"], 4,
             "$.model_ids: no active node that holds dataset 'default' has all the models "
             "(hospital-a lacks 'ghost'; hospital-c lacks 'ghost')"),
            (two + ["--dataset", "genomes"], 4, "$.dataset: no active node holds dataset 'genomes'"),
            (two + ["--dataset", "cardio", "--node", "hospital-a"], 4,
             "$.dataset: node 'hospital-a' has no dataset 'cardio' (it has: default)"),
        ]
        for args, code, message in cases:
            with self.subTest(args=args):
                r = self.dim("submit", "-p", "comparative", *args, server=orch)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(r.stdout, "")
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp,mlp_low", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--model: the collaborative pattern takes one model, got 2", r.stderr)
        self.assertEqual(self.dim_json("ls", server=orch)["total"], 0)
        # Models with different outputs: the node refuses the vote, naming both.
        r = self.dim("submit", "-p", "comparative", "-m", "heart_mlp,heart_risk", "--wait",
                     server=orch)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("models 'heart_mlp' and 'heart_risk' have different output widths "
                      "(3 and 1)", r.stderr)
        self.assertIn("INVALID_ARGUMENT", r.stderr)
        # The services still run jobs.
        doc = self.submit(*two, server=orch)
        self.assertEqual(doc["state"], "COMPLETED")
        for s in self.services:
            self.assertIsNone(s.proc.poll(), f"{s.args[:2]} died")


if __name__ == "__main__":
    unittest.main(verbosity=2)
