"""End to end: how the orchestrator places and queues work, with real processes. Node
selection by labels and reputation_min, what `dim health` shows of each node, the bounded
priority queues of the orchestrator and of a daemon, and following a job with WatchJob,
`dim submit --wait` and `dim status --watch`.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import SlowNodesTestCase  # noqa: E402


class SchedulingTest(SlowNodesTestCase):
    def test_labels_choose_the_nodes_and_health_shows_every_node_in_full(self):
        orch = self.start_orchestrator()
        for node_id, labels in {"eu-1": ["region=eu", "tier=gold"], "eu-2": ["region=eu"],
                                "us-1": ["region=us", "tier=gold"]}.items():
            extra = [arg for label in labels for arg in ("--label", label)]
            self.start_daemon(node_id, {"default": self.quick}, models=self.models,
                              orchestrator=orch, extra=extra)
        self.wait_for_nodes(orch, ["eu-1", "eu-2", "us-1"])

        job = self.dim_json("submit", "-p", "collaborative", "--config-json",
                            json.dumps({"model_id": "slow", "labels": {"region": "eu"}}),
                            "--wait", server=orch)
        self.assertEqual(job["state"], "COMPLETED")
        self.assertEqual(sorted(n["node_id"] for n in job["nodes"]), ["eu-1", "eu-2"])
        job = self.dim_json("submit", "-p", "collaborative", "--config-json",
                            json.dumps({"model_id": "slow", "labels": {"tier": "gold"},
                                        "max_nodes": 1, "reputation_min": 0.5}),
                            "--wait", server=orch)
        self.assertEqual(job["state"], "COMPLETED")
        self.assertIn(job["nodes"][0]["node_id"], ["eu-1", "us-1"])
        self.assertEqual(len(job["nodes"]), 1)
        # No node has the label: NOT_FOUND (exit 4) naming the filter, nothing stored.
        before = self.dim_json("ls", server=orch)["total"]
        r = self.dim("submit", "-p", "collaborative", "--config-json",
                     json.dumps({"model_id": "slow", "labels": {"region": "mars"}}), server=orch)
        self.assertEqual(r.returncode, 4)
        self.assertIn("$.labels: none of the nodes that could run this job (eu-1, eu-2, us-1) "
                      "has region=mars", r.stderr)
        r = self.dim("submit", "-p", "collaborative", "--config-json",
                     json.dumps({"model_id": "slow", "nodes": ["eu-1"], "labels": {"a": "b"}}),
                     server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("$.labels: only when the orchestrator chooses the nodes", r.stderr)
        self.assertEqual(self.dim_json("ls", server=orch)["total"], before)

        health = {n["node_id"]: n for n in self.dim_json("health", server=orch)["nodes"]}
        eu1 = health["eu-1"]
        self.assertEqual(eu1["labels"], {"region": "eu", "tier": "gold"})
        self.assertEqual(eu1["status"], "ACTIVE")
        self.assertEqual(eu1["source"], "registered")
        self.assertEqual(eu1["models"], ["slow"])
        self.assertEqual(eu1["datasets"][0]["rows"], 1000)
        self.assertGreaterEqual(eu1["resources"]["cpu_available"], 1)
        self.assertIn("memory_available_gb", eu1["resources"])
        self.assertEqual(eu1["reputation"], 1.0)
        self.assertGreaterEqual(eu1["tasks_succeeded"], 1)
        self.assertEqual(health["us-1"]["labels"], {"region": "us", "tier": "gold"})
        # The table, and one node in full.
        r = self.dim("health", server=orch)
        self.assertEqual(r.returncode, 0)
        for column in ("TASKS", "CPU", "MEMORY", "REP", "DATASETS", "MODELS", "LABELS"):
            self.assertIn(column, r.stdout)
        self.assertIn("region=eu,tier=gold", r.stdout)
        r = self.dim("health", "--node", "eu-2", server=orch)
        self.assertEqual(r.returncode, 0)
        self.assertIn("LABELS      region=eu", r.stdout)
        self.assertIn("REPUTATION  1.00 (", r.stdout)
        self.assertIn("default  1,000", r.stdout)
        self.assertNotIn("eu-1", r.stdout)
        r = self.dim("health", "--node", "ghost", server=orch)
        self.assertEqual(r.returncode, 4)

    def test_watch_job_streams_each_state_until_the_job_ends(self):
        orch = self.start_orchestrator()
        self.start_daemon("a", {"default": self.slow}, models=self.models, orchestrator=orch)
        self.wait_for_nodes(orch, ["a"])
        import grpc
        orchestrator_pb2, orchestrator_pb2_grpc, _, _ = self.grpc_stubs()
        job_id = self.submit(orch, {"model_id": "slow"})
        with grpc.insecure_channel(orch.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
            updates = list(stub.WatchJob(orchestrator_pb2.WatchJobRequest(job_id=job_id),
                                         timeout=60))
            states = [u.status for u in updates]
            self.assertEqual(states[-1], orchestrator_pb2.JOB_STATE_COMPLETED)
            self.assertIn(orchestrator_pb2.JOB_STATE_RUNNING, states)
            self.assertEqual(states, sorted(states))  # PENDING, RUNNING, COMPLETED in order
            self.assertEqual(updates[-1].progress.completed_steps, 1)
            self.assertTrue(updates[-1].result_json)
            # A job that already ended: one message.
            again = list(stub.WatchJob(orchestrator_pb2.WatchJobRequest(job_id=job_id),
                                       timeout=10))
            self.assertEqual(len(again), 1)
            with self.assertRaises(grpc.RpcError) as e:
                list(stub.WatchJob(orchestrator_pb2.WatchJobRequest(job_id="job-none"),
                                   timeout=10))
            self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
        # The CLI follows the same stream: exit code by the final state.
        failed = self.submit(orch, {"model_id": "slow", "columns": ["nope"]})
        r = self.dim("status", "--watch", failed, server=orch)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("FAILED", r.stdout)
        self.assertIn("nope", r.stdout)
        r = self.dim("status", "--watch", "job-none", server=orch)
        self.assertEqual(r.returncode, 4)
        # Giving up before the job ends: exit 7, the job goes on.
        slow = self.submit(orch, {"model_id": "slow"})
        r = self.dim("status", "--watch", "--timeout", "0.3", slow, server=orch)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("is still", r.stderr)
        r = self.dim("submit", "-p", "collaborative", "-m", "slow", "--wait", "--timeout", "0.3",
                     server=orch)
        self.assertEqual(r.returncode, 7, r.stderr)

    def test_full_orchestrator_queue_is_refused_and_priorities_order_the_rest(self):
        a = self.start_daemon("a", {"default": self.slow}, models=self.models)
        q = self.start_daemon("q", {"default": self.quick}, models=self.models)
        orch = self.start_orchestrator(extra=[
            "--node", f"a={a.address}", "--node", f"q={q.address}",
            "--max-concurrent-jobs", "1", "--max-queued-jobs", "3"])
        blocker = self.submit(orch, {"model_id": "slow", "nodes": ["a"]})
        self.wait_until(lambda: self.job(orch, blocker)["state"] == "RUNNING", what="blocker")
        quick = {"model_id": "slow", "nodes": ["q"]}
        low = self.submit(orch, quick, "--priority", "low")
        normal = self.submit(orch, quick)
        high = self.submit(orch, quick, "--priority", "high")
        r = self.dim("submit", "-p", "collaborative", "--config-json", json.dumps(quick),
                     server=orch)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the orchestrator's queue is full (3 jobs waiting); submit again later "
                      "(RESOURCE_EXHAUSTED)", r.stderr)
        self.assertEqual(self.dim_json("ls", server=orch)["total"], 4)
        started = {}
        for job_id in (low, normal, high):
            r = self.dim("status", "--watch", "--timeout", "60", job_id, server=orch)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            started[job_id] = self.job(orch, job_id)["started_at"]
        self.assertLess(started[high], started[normal])
        self.assertLess(started[normal], started[low])

    def test_full_daemon_queue_fails_the_task_with_resource_exhausted(self):
        orch = self.start_orchestrator(extra=["--max-concurrent-jobs", "3"])
        self.start_daemon("a", {"default": self.slow}, models=self.models, orchestrator=orch,
                          extra=["--max-concurrent-jobs", "1", "--max-queued", "1"])
        self.wait_for_nodes(orch, ["a"])
        jobs = [self.submit(orch, {"model_id": "slow"}) for _ in range(3)]
        ends = []
        for job_id in jobs:
            self.dim("status", "--watch", "--timeout", "60", job_id, server=orch)
            ends.append(self.job(orch, job_id))
        states = sorted(j["state"] for j in ends)
        self.assertEqual(states, ["COMPLETED", "COMPLETED", "FAILED"])
        failed = next(j for j in ends if j["state"] == "FAILED")
        self.assertIn("RESOURCE_EXHAUSTED", failed["error"])
        self.assertIn("a: ", failed["error"])
        # A full queue is not the node's fault: its reputation holds.
        node = self.dim_json("health", server=orch)["nodes"][0]
        self.assertEqual(node["reputation"], 1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
