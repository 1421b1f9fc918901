#!/usr/bin/python3
"""End to end: a collaborative job across real daemons, checked against an independent
numpy reference; restart on the same --db; bad inputs get their errors and the services
keep serving."""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from dim_harness import DATA, MODELS, DimTestCase, hospitals  # noqa: E402

NODES = ["hospital-a", "hospital-b", "hospital-c"]


class CollaborativeTest(DimTestCase):

    def start_cluster(self, register=True):
        """An orchestrator and three daemons, one per hospital dataset."""
        orch = self.start_orchestrator()
        for node, (site, path) in zip(NODES, hospitals().items()):
            self.start_daemon(node, {"default": path}, orchestrator=orch if register else None)
        self.wait_for_nodes(orch, NODES)
        return orch

    def assert_matches_reference(self, result, model, task=None, columns=None):
        csvs = [hospitals()[s] for s in "abc"]
        ref = reference.collaborative(os.path.join(MODELS, model + ".onnx"), csvs,
                                      columns=columns, task=task)
        pooled = ref["pooled"]
        agg = result["aggregate"]
        self.assertEqual(agg["rows"], pooled["rows"])
        self.assertEqual(agg["nodes_used"], 3)
        self.assertEqual(len(agg["columns"]), len(pooled["mean"]))
        for k, col in enumerate(agg["columns"]):
            for key in ("mean", "std", "min", "max", "variance"):
                self.assertAlmostEqual(col[key], pooled[key][k], delta=1e-6 + 1e-4 * abs(pooled[key][k]),
                                       msg=f"column {k} {key}")
        if "class_counts" in pooled:
            self.assertEqual(agg["class_counts"], pooled["class_counts"])
        else:
            self.assertNotIn("class_counts", agg)
        by_node = {n["node_id"]: n for n in result["nodes"]}
        for node, ref_node in zip(NODES, ref["nodes"]):
            self.assertEqual(by_node[node]["status"], "completed")
            self.assertEqual(by_node[node]["summary"]["rows"], ref_node["rows"])

    def test_registered_daemons_pool_exactly(self):
        orch = self.start_cluster()
        doc = self.dim_json("submit", "--pattern", "collaborative", "--model", "heart_mlp",
                            "--nodes", ",".join(NODES), "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED")
        self.assertEqual(doc["progress"], {"completed": 3, "total": 3, "percent": 100})
        self.assert_matches_reference(doc["result"], "heart_mlp")
        # The same result from `dim result`, and class counts known from the examples.
        res = self.dim_json("result", doc["job_id"], server=orch)
        self.assertEqual(res["result"]["aggregate"]["class_counts"], [324, 268, 128])

    def test_static_nodes_and_camel_case_config_from_stdin(self):
        daemons = [self.start_daemon(n, {"default": p}) for n, p in zip(NODES, hospitals().values())]
        orch = self.start_orchestrator(extra=[a for n, d in zip(NODES, daemons)
                                              for a in ("--node", f"{n}={d.address}")])
        self.wait_for_nodes(orch, NODES)
        config = json.dumps({"modelId": "heart_risk", "nodes": NODES,
                             "aggregation": {"method": "federated_averaging"},
                             "task": "classification", "minNodes": 3})
        r = self.dim("-o", "json", "submit", "-p", "collaborative", "--config", "-", "--wait",
                     server=orch, stdin=config)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assert_matches_reference(doc["result"], "heart_risk", task="classification")

    def test_nodes_chosen_by_dataset_when_none_named(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.start_daemon("hospital-b", {"cardio": hospitals()["b"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-b"])
        doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp",
                            "--dataset", "cardio", "--wait", server=orch)
        self.assertEqual([n["node_id"] for n in doc["nodes"]], ["hospital-b"])
        self.assertEqual(doc["result"]["aggregate"]["rows"], 180)

    def test_column_selection(self):
        orch = self.start_cluster()
        # heart_mlp takes 8 features: choosing them explicitly, in file order, changes nothing;
        # choosing too few fails on every node with a message naming the widths.
        cols = "age,bmi,systolic_bp,diastolic_bp,cholesterol,glucose,heart_rate,smoker"
        doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", "--columns", cols,
                            "--wait", server=orch)
        self.assert_matches_reference(doc["result"], "heart_mlp", columns=cols.split(","))
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp", "--columns", "age,bmi",
                     "--wait", server=orch)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("\"columns\" selects 2 feature columns but model 'heart_mlp' expects 8",
                      r.stdout)

    def test_quorum_drops_a_failing_node(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.start_daemon("hospital-b", {"default": hospitals()["b"]}, orchestrator=orch)
        # A node whose data does not fit the model: its task fails on the node.
        narrow = self.path("narrow.csv")
        with open(narrow, "w") as f:
            f.write("age,bmi\n" + "".join(f"{40 + i},{22 + i % 5}\n" for i in range(30)))
        self.start_daemon("clinic-x", {"default": narrow}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-b", "clinic-x"])
        nodes = "hospital-a,hospital-b,clinic-x"
        doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", "--nodes", nodes,
                            "--min-nodes", "2", "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED")
        agg = doc["result"]["aggregate"]
        self.assertEqual((agg["rows"], agg["nodes_used"]), (420, 2))
        failed = [n for n in doc["result"]["nodes"] if n["status"] == "failed"]
        self.assertEqual([n["node_id"] for n in failed], ["clinic-x"])
        self.assertIn("expects 8", failed[0]["error"])
        # Without the quorum the job fails, naming the node.
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp", "--nodes", nodes, "--wait",
                     server=orch)
        self.assertEqual(r.returncode, 1)
        # Nodes still running when clinic-x failed are stopped, not waited for.
        self.assertRegex(r.stderr, r"[0-2] of 3 nodes succeeded \(quorum 3\): (.*; )?clinic-x:")

    def test_jobs_survive_an_orchestrator_restart(self):
        db = self.path("jobs.db")
        orch = self.start_orchestrator(db=db)
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        done = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", "--wait",
                             "--user", "alice", server=orch)
        address = orch.address
        self.assertEqual(orch.stop(), 0)
        self.assertIn("stopped", orch.log())
        # Same --db, same address: the daemon registers again by itself.
        orch2 = self.start(["orchestrator", "serve", "--listen", address, "--db", db],
                           "orchestrator-2")
        status = self.dim_json("status", done["job_id"], server=orch2)
        self.assertEqual(status["state"], "COMPLETED")
        self.assertEqual(status["user_id"], "alice")
        listed = self.dim_json("ls", "--user", "alice", server=orch2)
        self.assertEqual([j["job_id"] for j in listed["jobs"]], [done["job_id"]])
        result = self.dim_json("result", done["job_id"], server=orch2)
        self.assertEqual(result["result"]["aggregate"]["rows"], 240)
        self.wait_for_nodes(orch2, ["hospital-a"])
        again = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", "--wait",
                              server=orch2)
        self.assertEqual(again["state"], "COMPLETED")

    def test_bad_inputs_get_their_error_and_services_keep_serving(self):
        orch = self.start_cluster()
        cases = [
            (["--config-json", "{bad"], 2, "invalid JSON at byte 2"),
            (["--config-json", '{"modelid": "heart_mlp"}'], 2,
             "$.modelid: unknown key (did you mean 'model_id'?)"),
            (["--config-json", '{"model_id": "heart_mlp", "nodes": ["hospital-a", 7]}'], 2,
             "$.nodes[1]: expected a string, got number"),
            (["-m", "no_such_model", "--nodes", "hospital-a"], 4,
             "$.model_id: model 'no_such_model' not found on node 'hospital-a'"),
            (["-m", "heart_mlp", "--nodes", "hospital-a", "--dataset", "genomes"], 4,
             "$.dataset: node 'hospital-a' has no dataset 'genomes' (it has: default)"),
            (["-m", "heart_mlp", "--nodes", "hospital-a,ghost"], 4,
             "$.nodes[1]: node 'ghost' not found"),
            (["-m", "heart_mlp", "--aggregation", "fedavg"], 2,
             "$.aggregation.method: unknown method 'fedavg'"),
        ]
        for args, code, message in cases:
            with self.subTest(args=args):
                r = self.dim("submit", "-p", "collaborative", *args, server=orch)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(r.stdout, "")
        r = self.dim("submit", "-p", "chained", "-m", "heart_mlp", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--model: a chained job names its models", r.stderr)
        # Straight to the server, bypassing the client's own JSON check.
        r = self.run_grpc_submit(orch, "{not json")
        self.assertIn("INVALID_ARGUMENT", r)
        self.assertIn("invalid JSON", r)
        # None of that left a job behind, and the services still run jobs.
        self.assertEqual(self.dim_json("ls", server=orch)["total"], 0)
        doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED")
        for s in self.services:
            self.assertIsNone(s.proc.poll(), f"{s.args[:2]} died")

    def run_grpc_submit(self, orch, config_json):
        """SubmitJob through stubs generated from proto/; returns 'CODE: details'."""
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "seed"))
        import python_example
        root = self.path("stubs")
        sys.path[:0] = [root, python_example.generate_stubs(root)]
        import grpc
        from dim.proto import orchestrator_pb2, orchestrator_pb2_grpc
        with grpc.insecure_channel(orch.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
            try:
                stub.SubmitJob(orchestrator_pb2.SubmitJobRequest(
                    user_id="u", pattern=orchestrator_pb2.PATTERN_COLLABORATIVE,
                    config_json=config_json), timeout=10)
            except grpc.RpcError as e:
                return f"{e.code().name}: {e.details()}"
        return "OK"

    def test_client_errors_and_exit_codes(self):
        orch = self.start_cluster()
        r = self.dim("status", "job-does-not-exist", server=orch)
        self.assertEqual((r.returncode, "job 'job-does-not-exist' not found" in r.stderr), (4, True))
        r = self.dim("-o", "json", "result", "job-does-not-exist", server=orch)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(json.loads(r.stdout)["error"]["code"], "NOT_FOUND")
        r = self.dim("health", "--node", "nope", server=orch)
        self.assertEqual(r.returncode, 4)
        r = self.dim("ls", server="127.0.0.1:1")
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot reach the orchestrator at 127.0.0.1:1", r.stderr)
        r = self.dim("submit", "-p", "collaborative", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("$.model_id: missing required key", r.stderr)
        r = self.dim("submit", "--bogus-flag", server=orch)
        self.assertEqual(r.returncode, 2)
        # A finished job cannot be cancelled.
        doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_risk", "--wait", server=orch)
        r = self.dim("cancel", doc["job_id"], server=orch)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already ended (COMPLETED)", r.stderr)
        # -q prints the id alone; status and health speak JSON with stable keys.
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_risk", "-q", server=orch)
        self.assertEqual(r.returncode, 0)
        job_id = r.stdout.strip()
        self.assertRegex(job_id, r"^job-[0-9a-f]{20}$")
        status = self.dim_json("status", job_id, server=orch)
        self.assertEqual(set(status) >= {"job_id", "state", "pattern", "progress", "nodes",
                                         "created_at", "error"}, True)
        health = self.dim_json("health", server=orch)
        self.assertEqual(sorted(n["node_id"] for n in health["nodes"]), NODES)
        self.assertEqual(health["nodes"][0]["datasets"][0]["rows"], 240)
        self.assertIn("heart_mlp", health["nodes"][0]["models"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
