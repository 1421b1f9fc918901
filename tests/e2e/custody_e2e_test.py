#!/usr/bin/python3
"""End to end: each site owns its data (SPEC section 6). Real daemons with a site policy
(--policy) and a ledger (--ledger): rules refuse what the site does not allow, the privacy
budget is summed from the ledger and survives a restart, every release is recorded with the
sha256 of the exact bytes that left, a changed entry breaks the chain, and local mode keeps
the same rules."""
import hashlib
import json
import os
import signal
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import MODELS, DimTestCase, hospitals  # noqa: E402


class CustodyTestCase(DimTestCase):

    def write_policy(self, policy, name="policy.json"):
        path = self.path(name)
        with open(path, "w") as f:
            json.dump(policy, f)
        return path

    def start_node(self, orch, policy, name="daemon-a"):
        self.ledger = self.path("a.ledger.db")
        return self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch,
                                 extra=["--policy", policy, "--ledger", self.ledger], name=name)

    def submit(self, orch, *args, expect_exit=None):
        r = self.dim("-o", "json", "submit", "-p", "collaborative", "--nodes", "hospital-a",
                     "--wait", *args, server=orch)
        doc = json.loads(r.stdout)
        if expect_exit is not None:
            self.assertEqual(r.returncode, expect_exit, r.stdout + r.stderr)
        return doc

    def ledger_entries(self):
        return self.dim_json("daemon", "ledger", "--ledger", self.ledger)["entries"]


class BudgetTest(CustodyTestCase):

    def test_budget_is_kept_across_restarts_and_the_ledger_matches_the_releases(self):
        policy = self.write_policy({"*": {"differential_privacy": {"budget": 1.0}}})
        orch = self.start_orchestrator()
        daemon = self.start_node(orch, policy)
        self.wait_for_nodes(orch, ["hospital-a"])
        dp = ["-m", "heart_risk", "--dp-epsilon", "0.4", "--dp-clip", "0,1"]
        ran = [self.submit(orch, *dp, expect_exit=0)["job_id"] for _ in range(2)]
        # A dry run says what would happen, and spends nothing, runs nothing, stores nothing.
        dry = ["-o", "json", "submit", "-p", "collaborative", "--nodes", "hospital-a", "--dry-run"]
        r = self.dim(*dry, *dp, server=orch)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        node = json.loads(r.stdout)["nodes"][0]
        self.assertEqual((node["accepted"], node["epsilon"]), (False, 0.4))
        self.assertAlmostEqual(node["budget_left"], 0.2)
        self.assertIn("privacy budget exhausted", node["error"]["message"])
        small = ["-m", "heart_risk", "--dp-epsilon", "0.2", "--dp-clip", "0,1"]
        for _ in range(3):
            r = self.dim(*dry, *small, server=orch)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pipeline = {"pipeline": [{"step": 1, "model_id": "heart_risk", "node_id": "hospital-a",
                                  "input_source": "dataset:default"}]}
        r = self.dim("-o", "json", "submit", "-p", "chained", "--config-json", json.dumps(pipeline),
                     "--dry-run", server=orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["nodes"][0]["step"], "step 1")
        self.assertEqual(len(self.ledger_entries()), 2)
        self.assertEqual(len(self.dim_json("ls", server=orch)["jobs"]), 2)
        refused = self.submit(orch, *dp, expect_exit=1)
        self.assertEqual(refused["state"], "FAILED")
        why = ("dataset 'default' on node 'hospital-a': privacy budget exhausted: 0.8 of 1 "
               "spent, this job asks 0.4")
        self.assertIn(why, json.dumps(refused))
        # The budget reaches the orchestrator with the heartbeats.
        def policy_seen():
            nodes = self.dim_json("health", "--node", "hospital-a", server=orch)["nodes"]
            p = nodes[0]["datasets"][0].get("policy")
            return p if p and abs(p["privacy_spent"] - 0.8) < 1e-9 else None
        p = self.wait_until(policy_seen, what="the budget in dim health")
        self.assertEqual(p["privacy_budget"], 1.0)
        r = self.dim("health", "--node", "hospital-a", server=orch)
        self.assertIn("0.2 of 1", r.stdout)

        # The ledger lists exactly the two releases, with the sha256 of the bytes that left.
        entries = self.ledger_entries()
        self.assertEqual([e["job_id"] for e in entries], ran)
        self.assertEqual([e["epsilon"] for e in entries], [0.4, 0.4])
        self.assertEqual({e["rows"] for e in entries}, {240})
        import grpc
        _, _, d_pb2, d_grpc = self.grpc_stubs()
        address = self.dim_json("health", server=orch)["nodes"][0]["address"]
        stub = d_grpc.DaemonStub(grpc.insecure_channel(address))
        for e in entries:
            released = stub.GetJobStatus(d_pb2.GetJobStatusRequest(job_id=e["task_id"]),
                                         timeout=10).result_json
            self.assertEqual(hashlib.sha256(released.encode()).hexdigest(), e["release_sha256"])
        with open(os.path.join(MODELS, "heart_risk.onnx"), "rb") as f:
            model = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual({e["model_sha256"] for e in entries}, {model})

        # A restart counts what was spent: still refused.
        daemon.stop()
        self.start_node(orch, policy, name="daemon-a-2")
        self.wait_until(lambda: self.dim_json("health", server=orch)["nodes"][0]["address"]
                        not in ("", address), what="the restarted node's registration")
        self.wait_for_nodes(orch, ["hospital-a"])
        again = self.submit(orch, *dp, expect_exit=1)
        self.assertIn(why, json.dumps(again))
        self.assertEqual(len(self.ledger_entries()), 2)
        r = self.dim("daemon", "ledger", "verify", "--ledger", self.ledger)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 entries, chain intact", r.stdout)

        # Changing an entry afterwards breaks the chain there.
        with sqlite3.connect(self.ledger) as db:
            db.execute("UPDATE releases SET epsilon = 0.01 WHERE seq = 2")
        r = self.dim("daemon", "ledger", "verify", "--ledger", self.ledger)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("entry 2 is broken", r.stdout)
        doc = self.dim_json("daemon", "ledger", "verify", "--ledger", self.ledger,
                            expect_exit=1)
        self.assertEqual((doc["intact"], doc["broken"]["seq"]), (False, 2))


class RulesTest(CustodyTestCase):

    def test_rules_refuse_what_the_site_does_not_allow(self):
        policy = self.write_policy({
            "*": {"differential_privacy": {"required": True, "max_epsilon_per_job": 1}},
            "default": {"models": ["heart_risk"], "users": ["alice"], "min_samples": 20}})
        orch = self.start_orchestrator()
        daemon = self.start_node(orch, policy)
        self.wait_for_nodes(orch, ["hospital-a"])
        dp = ["--dp-epsilon", "0.5", "--dp-clip", "0,1"]
        cases = [
            (["-m", "heart_risk", "--user", "alice"], "differential privacy is required"),
            (["-m", "heart_mlp", "--user", "alice", *dp], "model 'heart_mlp' is not allowed "
                                                           "(models: heart_risk)"),
            (["-m", "heart_risk", "--user", "bob", *dp], "user 'bob' is not allowed (users: alice)"),
            (["-m", "heart_risk", "--user", "alice", "--dp-epsilon", "2", "--dp-clip", "0,1"],
             "max_epsilon_per_job 1, this job asks 2"),
        ]
        for args, why in cases:
            doc = self.submit(orch, *args, expect_exit=1)
            self.assertIn("dataset 'default' on node 'hospital-a': " + why, json.dumps(doc), args)
        doc = self.submit(orch, "-m", "heart_risk", "--user", "alice", *dp, expect_exit=0)
        self.assertEqual([e["job_id"] for e in self.ledger_entries()], [doc["job_id"]])
        self.assertEqual(self.ledger_entries()[0]["user"], "alice")
        # SIGHUP: the new policy lets bob in; a broken one keeps the old in force.
        self.write_policy({"*": {"differential_privacy": {"required": True}}})
        daemon.proc.send_signal(signal.SIGHUP)
        self.wait_until(lambda: "policy reloaded" in daemon.log(), what="the reload")
        self.submit(orch, "-m", "heart_mlp", "--user", "bob", *dp, expect_exit=0)
        # A comparative job is refused where DP is required: its votes carry no noise.
        r = self.dim("-o", "json", "submit", "-p", "comparative", "-m", "heart_risk,heart_mlp",
                     "--node", "hospital-a", "--user", "alice", "--wait", server=orch)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("comparative tasks release figures without noise", r.stdout)
        with open(policy, "w") as f:
            f.write("{\"*\": {\"min_samples\": -1}}")
        daemon.proc.send_signal(signal.SIGHUP)
        self.wait_until(lambda: "policy not reloaded" in daemon.log(), what="the refusal")
        self.assertIn("$.*.min_samples: must be a whole number, 0 or more, got -1", daemon.log())
        self.submit(orch, "-m", "heart_risk", "--user", "bob", expect_exit=1)

    def test_a_bad_policy_stops_the_start_naming_the_json_path(self):
        for policy, why in [
                ({"default": {"differential_privacy": {"budget": -1}}},
                 "$.default.differential_privacy.budget: must be a number greater than 0, got -1"),
                ({"default": {"patterns": ["federated"]}},
                 "$.default.patterns[0]: must be collaborative, comparative or chained"),
                ({"*": {"colour": "red"}}, "$.*.colour: unknown key"),
                ({"*": {"differential_privacy": {"clip": [1, 0]}}},
                 "$.*.differential_privacy.clip: must be [LO, HI] with LO < HI")]:
            path = self.write_policy(policy)
            r = self.dim("daemon", "serve", "--node-id", "n", "--listen", "127.0.0.1:0",
                         "--dataset", "default=" + hospitals()["a"], "--policy", path)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(why, r.stderr)


class LocalModeTest(CustodyTestCase):

    def test_local_mode_keeps_the_same_rules_and_budget(self):
        policy = self.write_policy({"*": {"differential_privacy": {"budget": 0.5}}})
        local = ["--local", "--models", MODELS,
                 "--local-node", "site=" + hospitals()["a"], "--local-policy", "site=" + policy]
        args = ["-o", "json", *local, "submit", "-p", "collaborative", "-m", "heart_risk",
                "--nodes", "site", "--dp-epsilon", "0.4", "--dp-clip", "0,1", "--wait"]
        r = self.dim(*args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.dim(*args)  # another process: the budget is read back from the ledger
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("privacy budget exhausted: 0.4 of 0.5 spent, this job asks 0.4", r.stdout)
        ledger = self.env["DIM_LOCAL_DB"] + ".ledger-site.db"
        entries = self.dim_json("daemon", "ledger", "--ledger", ledger)["entries"]
        self.assertEqual(len(entries), 1)
        dry = self.dim(*args[:-1], "--dry-run")
        self.assertEqual(dry.returncode, 1, dry.stdout + dry.stderr)
        self.assertIn("privacy budget exhausted", dry.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
