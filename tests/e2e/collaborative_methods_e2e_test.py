#!/usr/bin/python3
"""End to end: the collaborative aggregation methods (weighted_average, median,
trimmed_mean), differential privacy and the nodes' min_samples policy, on real daemons,
checked against figures computed here from the independent numpy reference."""
import json
import os
import shutil
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from dim_harness import MODELS, DimTestCase, hospitals  # noqa: E402

# hospital-a2 holds the same file as hospital-a: their node means tie.
SITES = {"hospital-a": "a", "hospital-a2": "a", "hospital-b": "b", "hospital-c": "c"}
NODES = list(SITES)


def node_summaries(model, sites, task=None):
    csvs = [hospitals()[s] for s in sites]
    return reference.collaborative(os.path.join(MODELS, model + ".onnx"), csvs, task=task)["nodes"]


def trimmed(values, trim):
    values = sorted(values)
    cut = int(np.floor(trim * len(values)))
    return float(np.mean(values[cut:len(values) - cut]))


class CollaborativeMethodsTest(DimTestCase):

    def start_cluster(self, nodes=NODES, extra=()):
        orch = self.start_orchestrator()
        for node in nodes:
            self.start_daemon(node, {"default": hospitals()[SITES[node]]}, orchestrator=orch,
                              extra=extra)
        self.wait_for_nodes(orch, nodes)
        return orch

    def submit(self, orch, *args, nodes=NODES, model="heart_mlp"):
        doc = self.dim_json("submit", "-p", "collaborative", "-m", model, "--nodes",
                            ",".join(nodes), "--wait", *args, server=orch)
        self.assertEqual(doc["state"], "COMPLETED", doc)
        return doc["result"]

    def assert_columns(self, result, expected_means, expected_variances, refs):
        agg = result["aggregate"]
        self.assertEqual(agg["rows"], sum(r["rows"] for r in refs))
        self.assertEqual(agg["nodes_used"], len(refs))
        self.assertEqual(agg["class_counts"],
                         [int(v) for v in np.sum([r["class_counts"] for r in refs], axis=0)])
        for k, col in enumerate(agg["columns"]):
            self.assertAlmostEqual(col["mean"], expected_means[k], delta=1e-6, msg=f"column {k}")
            self.assertAlmostEqual(col["variance"], expected_variances[k], delta=1e-6)
            self.assertAlmostEqual(col["std"], np.sqrt(expected_variances[k]), delta=1e-6)
            self.assertAlmostEqual(col["min"], min(r["min"][k] for r in refs), delta=1e-6)
            self.assertAlmostEqual(col["max"], max(r["max"][k] for r in refs), delta=1e-6)
        # The per-node summaries stay in the result.
        self.assertEqual([n["summary"]["rows"] for n in result["nodes"]], [r["rows"] for r in refs])

    def test_every_method_matches_numpy_with_ties(self):
        orch = self.start_cluster()
        refs = node_summaries("heart_mlp", [SITES[n] for n in NODES])
        width = len(refs[0]["mean"])
        per = {key: [[r[key][k] for r in refs] for k in range(width)] for key in ("mean", "variance")}

        # median of 4 node means: the mean of the two middle ones (a and a2 tie).
        r = self.submit(orch, "--aggregation", "median")
        self.assertEqual(r["aggregation_method"], "median")
        self.assert_columns(r, [float(np.median(v)) for v in per["mean"]],
                            [float(np.median(v)) for v in per["variance"]], refs)

        # trimmed_mean, trim 0.25: floor(0.25 * 4) = 1 node dropped from each end.
        r = self.submit(orch, "--aggregation", "trimmed_mean", "--trim", "0.25")
        self.assertEqual((r["trim"], r["trimmed_per_end"]), (0.25, 1))
        self.assert_columns(r, [trimmed(v, 0.25) for v in per["mean"]],
                            [trimmed(v, 0.25) for v in per["variance"]], refs)

        # weighted_average with explicit weights, in the order of --nodes.
        w = np.array([1.0, 1.0, 2.0, 0.0])
        r = self.submit(orch, "--aggregation", "weighted_average", "--weights", "1,1,2,0")
        self.assertEqual(r["weights_source"], "config")
        self.assertEqual(r["weights"], dict(zip(NODES, (w / w.sum()).tolist())))
        means = [float(np.dot(w, m) / w.sum()) for m in per["mean"]]
        variances = [float(np.dot(w, np.array(v) + (np.array(m) - mu) ** 2) / w.sum())
                     for m, v, mu in zip(per["mean"], per["variance"], means)]
        self.assert_columns(r, means, variances, refs)

        # weighted_average with weights proportional to rows is the exact pooled result.
        pooled = reference.collaborative(os.path.join(MODELS, "heart_mlp.onnx"),
                                         [hospitals()[SITES[n]] for n in NODES])["pooled"]
        config = json.dumps({"model_id": "heart_mlp", "nodes": NODES, "aggregation": {
            "method": "weighted_average", "weights": {n: ref["rows"] for n, ref in zip(NODES, refs)}}})
        r = self.submit(orch, "--config-json", config)
        self.assert_columns(r, pooled["mean"], pooled["variance"], refs)

        # Without weights: each node's reputation, 1.0 for every node for now.
        r = self.submit(orch, "--aggregation", "weighted_average")
        self.assertEqual(r["weights_source"], "reputation")
        self.assertEqual(r["weights"], {n: 0.25 for n in NODES})
        self.assertAlmostEqual(r["aggregate"]["columns"][0]["mean"], float(np.mean(per["mean"][0])),
                               delta=1e-6)

    def test_failed_node_is_dropped_and_a_broken_quorum_fails(self):
        orch = self.start_orchestrator()
        nodes = ["hospital-a", "hospital-b", "hospital-c"]
        for node in nodes:
            self.start_daemon(node, {"default": hospitals()[SITES[node]]}, orchestrator=orch)
        # Seven rows: below the node's default min_samples (10), so the node refuses.
        small = self.path("small.csv")
        with open(hospitals()["a"]) as f:
            lines = f.read().splitlines()
        with open(small, "w") as f:
            f.write("\n".join(lines[:8]) + "\n")
        self.start_daemon("clinic-small", {"default": small}, orchestrator=orch)
        self.wait_for_nodes(orch, nodes + ["clinic-small"])
        all_nodes = nodes + ["clinic-small"]
        refs = node_summaries("heart_mlp", "abc")
        for method, expect in (("median", np.median), ("trimmed_mean", lambda v: trimmed(v, 0.1))):
            with self.subTest(method=method):
                r = self.submit(orch, "--aggregation", method, "--min-nodes", "3", nodes=all_nodes)
                self.assertEqual(r["aggregate"]["nodes_used"], 3)
                for k, col in enumerate(r["aggregate"]["columns"]):
                    self.assertAlmostEqual(col["mean"], float(expect([x["mean"][k] for x in refs])),
                                           delta=1e-6)
                failed = [n for n in r["nodes"] if n["status"] == "failed"]
                self.assertEqual([n["node_id"] for n in failed], ["clinic-small"])
                self.assertIn("FAILED_PRECONDITION: dataset 'default' has 7 rows, fewer than this "
                              "node's min_samples 10", failed[0]["error"])
        # A weighted node that fails: the others' weights are normalised again.
        r = self.submit(orch, "--aggregation", "weighted_average", "--weights", "1,1,3,5",
                        "--min-nodes", "3", nodes=all_nodes)
        self.assertEqual(r["weights"], {"hospital-a": 0.2, "hospital-b": 0.2, "hospital-c": 0.6})
        # Without the quorum the job fails, naming the node.
        res = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp", "--aggregation",
                       "median", "--nodes", ",".join(all_nodes), "--wait", server=orch)
        self.assertEqual(res.returncode, 1, res.stderr)
        # The nodes still running when clinic-small failed are stopped, not waited for.
        self.assertRegex(res.stderr, r"[0-3] of 4 nodes succeeded \(quorum 4\): "
                                     r"(.*; )?clinic-small: FAILED_PRECONDITION")

    def test_timed_out_node_is_dropped_with_its_error(self):
        orch = self.start_orchestrator()
        big = self.path("big.csv")
        with open(hospitals()["a"]) as f:
            header, rows = f.readline(), f.read()
        with open(big, "w") as f:
            f.write(header + rows * 12000)  # 2.88 million rows: about a second's work
        self.start_daemon("hospital-b", {"default": hospitals()["b"]}, orchestrator=orch)
        self.start_daemon("hospital-c", {"default": hospitals()["c"]}, orchestrator=orch)
        self.start_daemon("slow", {"default": big}, orchestrator=orch)
        nodes = ["hospital-b", "hospital-c", "slow"]
        self.wait_for_nodes(orch, nodes)
        config = json.dumps({"model_id": "heart_mlp", "nodes": nodes, "min_nodes": 2,
                             "timeout": 0.25, "aggregation": "median"})
        r = self.submit(orch, "--config-json", config, nodes=nodes)
        refs = node_summaries("heart_mlp", "bc")
        self.assertEqual(r["aggregate"]["nodes_used"], 2)
        for k, col in enumerate(r["aggregate"]["columns"]):
            self.assertAlmostEqual(col["mean"], float(np.median([x["mean"][k] for x in refs])),
                                   delta=1e-6)
        slow = r["nodes"][2]
        self.assertEqual((slow["node_id"], slow["status"]), ("slow", "failed"))
        self.assertIn("DEADLINE_EXCEEDED", slow["error"])

    def test_min_samples_is_the_daemons_to_set(self):
        orch = self.start_orchestrator()
        small = self.path("small.csv")
        with open(hospitals()["b"]) as f:
            lines = f.read().splitlines()
        with open(small, "w") as f:
            f.write("\n".join(lines[:8]) + "\n")
        self.start_daemon("lenient", {"default": small}, orchestrator=orch,
                          extra=["--min-samples", "5"])
        models = self.path("models")
        os.makedirs(models)
        for name in ("heart_mlp", "heart_mlp_copy"):
            shutil.copy(os.path.join(MODELS, "heart_mlp.onnx"), os.path.join(models, name + ".onnx"))
        self.start_daemon("strict", {"default": hospitals()["b"]}, orchestrator=orch,
                          models=models, extra=["--min-samples", "181"])
        self.wait_for_nodes(orch, ["lenient", "strict"])
        r = self.submit(orch, nodes=["lenient"])
        self.assertEqual(r["aggregate"]["rows"], 7)
        res = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp", "--nodes", "strict",
                       "--wait", server=orch)
        self.assertEqual(res.returncode, 1)
        self.assertIn("dataset 'default' has 180 rows, fewer than this node's min_samples 181",
                      res.stderr)
        # Comparative tasks keep their rows on the node: the policy does not apply.
        doc = self.dim_json("submit", "-p", "comparative", "-m", "heart_mlp,heart_mlp_copy",
                            "--node", "strict", "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED")

    def test_local_nodes_apply_the_default_min_samples(self):
        small = self.path("small.csv")
        with open(hospitals()["b"]) as f:
            lines = f.read().splitlines()
        with open(small, "w") as f:
            f.write("\n".join(lines[:8]) + "\n")
        r = self.dim("-o", "json", "--local", "--local-db", self.path("local.db"), "--models",
                     MODELS, "--local-node", f"a={hospitals()['a']}", "--local-node",
                     f"tiny={small}", "submit", "-p", "collaborative", "-m", "heart_mlp",
                     "--nodes", "a,tiny", "--aggregation", "median", "--min-nodes", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["result"]["aggregate"]["rows"], 240)
        tiny = [n for n in doc["result"]["nodes"] if n["node_id"] == "tiny"][0]
        self.assertEqual(tiny["status"], "failed")
        self.assertIn("has 7 rows, fewer than this node's min_samples 10", tiny["error"])

    def test_differential_privacy_noise_and_clipping(self):
        nodes = ["hospital-a", "hospital-b", "hospital-c"]
        orch = self.start_cluster(nodes)
        refs = node_summaries("heart_mlp", "abc")
        # A huge epsilon: noise too small to see; outputs are probabilities, so clipping to
        # [0, 1] changes nothing and the figures match the exact ones.
        r = self.submit(orch, "--dp-epsilon", "1e7", "--dp-clip", "0,1", nodes=nodes)
        self.assertEqual(r["differential_privacy"], {"epsilon": 1e7, "clip": [0.0, 1.0]})
        for node, ref in zip(r["nodes"], refs):
            for k, col in enumerate(node["summary"]["columns"]):
                self.assertAlmostEqual(col["mean"], ref["mean"][k], delta=1e-4)
            self.assertEqual(node["summary"]["class_counts"], ref["class_counts"])
        # A small epsilon: every run gives other figures, all within the clip range; min and
        # max are the clip bounds.
        runs = [self.submit(orch, "--aggregation", "median", "--dp-epsilon", "0.5",
                            "--dp-clip=0,0.2", nodes=nodes) for _ in range(2)]
        first = [n["summary"]["columns"][0]["mean"] for n in runs[0]["nodes"]]
        second = [n["summary"]["columns"][0]["mean"] for n in runs[1]["nodes"]]
        self.assertNotEqual(first, second)
        for run in runs:
            for node in run["nodes"]:
                for col in node["summary"]["columns"]:
                    self.assertTrue(0 <= col["mean"] <= 0.2, col)
                    self.assertEqual((col["min"], col["max"]), (0.0, 0.2))
        # Over many runs at a moderate epsilon the noisy mean centres on the exact clipped
        # mean: scale per mean = 1 * 7 / (240 * 10) = 0.003, so the average of 8 runs is
        # within 0.01 of it with overwhelming probability.
        exact = refs[0]["mean"][0]
        noisy = [self.submit(orch, "--dp-epsilon", "10", "--dp-clip", "0,1",
                             nodes=["hospital-a"])["aggregate"]["columns"][0]["mean"]
                 for _ in range(8)]
        self.assertGreater(len(set(noisy)), 1)
        self.assertAlmostEqual(float(np.mean(noisy)), exact, delta=0.01)

    def test_invalid_aggregation_configs_name_their_path(self):
        orch = self.start_cluster(["hospital-a", "hospital-b"])
        two = ["--nodes", "hospital-a,hospital-b"]
        cases = [
            (["--aggregation", "mean"], "$.aggregation.method: unknown method 'mean' (expected "
             "federated_averaging, weighted_average, median or trimmed_mean)"),
            (["--aggregation", "weighted_average", "--weights", "1,2,3", *two],
             "$.aggregation.weights: 3 weights for 2 nodes"),
            (["--aggregation", "weighted_average", "--weights", "1,-2", *two],
             "$.aggregation.weights[1]: must be >= 0, got -2"),
            (["--aggregation", "weighted_average", "--weights", "0,0", *two],
             "$.aggregation.weights: must not all be zero"),
            (["--config-json", json.dumps({"model_id": "heart_mlp", "nodes": ["hospital-a"],
                                           "aggregation": {"method": "weighted_average",
                                                           "weights": {"hospital-a": 1,
                                                                       "ghost": 1}}})],
             "$.aggregation.weights.ghost: node 'ghost' is not in $.nodes"),
            (["--config-json", json.dumps({"model_id": "heart_mlp", "aggregation": {
                "method": "weighted_average", "weights": {"hospital-a": 1}}})],
             "$.aggregation.weights: no weight for node 'hospital-b'"),
            (["--aggregation", "median", "--weights", "1,2", *two],
             "$.aggregation.weights: only for method weighted_average, not median"),
            (["--aggregation", "trimmed_mean", "--trim", "0.5"],
             "$.aggregation.trim: must be in [0, 0.5), got 0.5"),
            (["--dp-epsilon", "0", "--dp-clip", "0,1"],
             "$.aggregation.differential_privacy.epsilon: must be > 0, got 0"),
            (["--dp-epsilon", "1", "--dp-clip", "1,0"],
             "$.aggregation.differential_privacy.clip: lo must be < hi, got [1,0]"),
            (["--dp-epsilon", "1"], "$.aggregation.differential_privacy.clip: missing required key"),
            (["--dp-epsilon", "1", "--dp-clip", "0,1,2"], "--dp-clip: expected LO,HI"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                args = args if "--config-json" in args else ["-m", "heart_mlp", *args]
                r = self.dim("submit", "-p", "collaborative", *args, server=orch)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
        self.assertEqual(self.dim_json("ls", server=orch)["total"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
