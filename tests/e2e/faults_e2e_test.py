"""End to end: faults, with real processes. Cancel reaches every node task; a daemon killed
with -9 during a collaborative job, with and without quorum; an orchestrator killed with -9
and started again on the same --db (its running task stops on the daemon, abandoned); a
daemon that restarts registers again and takes work.
Each test asserts the final states and the messages; nothing may hang.

The node tasks run a slow model (tens of microseconds a row) over a synthetic dataset, so
that they are still running when the test strikes.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import SlowNodesTestCase  # noqa: E402

SLOW_ROWS = SlowNodesTestCase.SLOW_ROWS
RESTART_REASON = "the orchestrator stopped while this job was running; submit it again"


class FaultsTest(SlowNodesTestCase):
    def start_nodes(self, orch, ids, dataset=None, extra=()):
        return {i: self.start_daemon(i, {"default": dataset or self.slow}, models=self.models,
                                     orchestrator=orch, extra=extra) for i in ids}

    def wait_running(self, orch, job_id, count):
        """Until `count` of the job's node tasks are running; the job's status."""
        def running():
            job = self.job(orch, job_id)
            busy = [n for n in job["nodes"] if n["status"] == "running"]
            return job if len(busy) >= count else None
        return self.wait_until(running, timeout=30, what=f"{count} running node tasks")

    def wait_state(self, orch, job_id, timeout):
        """Polls until the job ends; its status."""
        def ended():
            job = self.job(orch, job_id)
            return job if job["state"] in ("COMPLETED", "FAILED", "CANCELLED") else None
        return self.wait_until(ended, timeout=timeout, what=f"job {job_id} to end")

    def test_cancel_stops_every_node_task_within_a_second(self):
        orch = self.start_orchestrator()
        daemons = self.start_nodes(orch, ["a", "b"])
        self.wait_for_nodes(orch, ["a", "b"])
        job_id = self.submit(orch, {"model_id": "slow"})
        self.wait_running(orch, job_id, 2)
        start = time.time()
        r = self.dim("cancel", job_id, server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        job = self.wait_state(orch, job_id, timeout=1.0)
        self.assertLess(time.time() - start, 1.0)
        self.assertEqual(job["state"], "CANCELLED")
        self.assertEqual(job["error"], "cancelled by request")
        self.assertEqual([n["status"] for n in job["nodes"]], ["cancelled", "cancelled"])
        # Each daemon stopped its task at the next batch: it reports it cancelled, and runs
        # nothing any more, within the second.
        import grpc
        _, _, daemon_pb2, daemon_pb2_grpc = self.grpc_stubs()
        for node_id, daemon in daemons.items():
            with grpc.insecure_channel(daemon.address) as channel:
                stub = daemon_pb2_grpc.DaemonStub(channel)

                def stopped():
                    task = stub.GetJobStatus(daemon_pb2.GetJobStatusRequest(job_id=job_id),
                                             timeout=5)
                    health = stub.GetHealth(daemon_pb2.GetHealthRequest(), timeout=5)
                    return task.status == "cancelled" and health.active_jobs == 0
                self.wait_until(stopped, timeout=1.0, what=f"node {node_id} to stop its task")
        self.assertLess(time.time() - start, 2.0)
        # `dim status` exits 0; `dim status --watch` by the job's state (6: cancelled).
        r = self.dim("status", "--watch", job_id, server=orch)
        self.assertEqual(r.returncode, 6, r.stderr)

    def test_killed_daemon_within_quorum_completes_and_lists_the_node_failed(self):
        orch = self.start_orchestrator()
        daemons = self.start_nodes(orch, ["a", "b", "c"])
        self.wait_for_nodes(orch, ["a", "b", "c"])
        job_id = self.submit(orch, {"model_id": "slow", "min_nodes": 2})
        self.wait_running(orch, job_id, 3)
        daemons["b"].stop(signal.SIGKILL)
        job = self.wait_state(orch, job_id, timeout=60)
        self.assertEqual(job["state"], "COMPLETED", job)
        nodes = {n["node_id"]: n for n in job["nodes"]}
        self.assertEqual(nodes["a"]["status"], "completed")
        self.assertEqual(nodes["c"]["status"], "completed")
        self.assertEqual(nodes["b"]["status"], "failed")
        self.assertIn("UNAVAILABLE: node 'b' at", nodes["b"]["error"])
        self.assertIn("is unreachable", nodes["b"]["error"])
        result = self.dim_json("result", job_id, server=orch)["result"]
        self.assertEqual(result["aggregate"]["nodes_used"], 2)
        self.assertEqual(result["aggregate"]["rows"], 2 * SLOW_ROWS)
        # The failure counts against b's reputation; a and c gained.
        health = {n["node_id"]: n for n in self.dim_json("health", server=orch)["nodes"]}
        self.assertAlmostEqual(health["b"]["reputation"], 0.9)
        self.assertEqual(health["b"]["tasks_failed"], 1)
        self.assertEqual(health["a"]["tasks_succeeded"], 1)

    def test_killed_daemon_without_quorum_fails_naming_it_within_the_heartbeat_timeout(self):
        heartbeat_timeout = 4.0
        orch = self.start_orchestrator(extra=["--heartbeat-timeout", str(heartbeat_timeout)])
        daemons = self.start_nodes(orch, ["a", "b"])
        self.wait_for_nodes(orch, ["a", "b"])
        job_id = self.submit(orch, {"model_id": "slow"})  # quorum: both nodes
        self.wait_running(orch, job_id, 2)
        killed = time.time()
        daemons["b"].stop(signal.SIGKILL)
        job = self.wait_state(orch, job_id, timeout=heartbeat_timeout)
        self.assertLess(time.time() - killed, heartbeat_timeout)
        self.assertEqual(job["state"], "FAILED")
        self.assertIn("of 2 nodes succeeded (quorum 2)", job["error"])
        self.assertIn("b: UNAVAILABLE: node 'b' at", job["error"])
        nodes = {n["node_id"]: n for n in job["nodes"]}
        self.assertEqual(nodes["b"]["status"], "failed")
        # The quorum was lost: a's task was stopped rather than waited for.
        self.assertEqual(nodes["a"]["status"], "cancelled")
        self.assertIn("quorum of 2 can no longer be reached", nodes["a"]["error"])
        # `dim result` of a failed job exits 1 with the reason.
        r = self.dim("result", job_id, server=orch)
        self.assertEqual(r.returncode, 1)
        self.assertIn("quorum 2", r.stderr)

    def test_killed_orchestrator_restarts_on_the_same_db_with_every_acknowledged_job(self):
        # A task its orchestrator stops following is cancelled after --abandon-after.
        a = self.start_daemon("a", {"default": self.slow}, models=self.models,
                              extra=["--abandon-after", "0.3"])
        q = self.start_daemon("q", {"default": self.quick}, models=self.models)
        db = self.path("jobs.db")
        flags = ["--node", f"a={a.address}", "--node", f"q={q.address}",
                 "--max-concurrent-jobs", "1"]
        orch = self.start_orchestrator(db=db, extra=flags)
        done = self.dim_json("submit", "-p", "collaborative", "--config-json",
                             json.dumps({"model_id": "slow", "nodes": ["q"]}), "--wait",
                             server=orch)
        self.assertEqual(done["state"], "COMPLETED")
        running = self.submit(orch, {"model_id": "slow", "nodes": ["a"]})
        self.wait_running(orch, running, 1)
        # Queued behind the running job (one job at a time): acknowledged, not started.
        pending = [self.submit(orch, {"model_id": "slow", "nodes": ["q"]}) for _ in range(3)]
        for job_id in pending:
            self.assertEqual(self.job(orch, job_id)["state"], "PENDING")
        orch.stop(signal.SIGKILL)
        killed = time.time()
        # The running job's task, which nobody follows any more, stops on its daemon. (Watched
        # through the daemon's health: a look at the task itself counts as following it.)
        import grpc
        _, _, daemon_pb2, daemon_pb2_grpc = self.grpc_stubs()
        with grpc.insecure_channel(a.address) as channel:
            stub = daemon_pb2_grpc.DaemonStub(channel)

            def idle():
                health = stub.GetHealth(daemon_pb2.GetHealthRequest(), timeout=5)
                return health.active_jobs == 0 and health.queued_jobs == 0
            self.wait_until(idle, timeout=10, what="node a to stop the task")
            self.assertLess(time.time() - killed, 2.0)
            task = stub.GetJobStatus(daemon_pb2.GetJobStatusRequest(job_id=running), timeout=5)
            self.assertEqual(task.status, "cancelled", task.error)
            self.assertIn("abandoned: no one followed this task for 300ms", task.error)

        orch = self.start_orchestrator(db=db, extra=flags, name="orchestrator-restarted")
        listed = {j["job_id"]: j for j in self.dim_json("ls", server=orch)["jobs"]}
        self.assertEqual(set(listed), {done["job_id"], running, *pending})
        # The job that was running failed with the reason; the queued ones run now.
        job = self.job(orch, running)
        self.assertEqual(job["state"], "FAILED")
        self.assertEqual(job["error"], RESTART_REASON)
        for job_id in pending:
            r = self.dim("status", "--watch", "--timeout", "60", job_id, server=orch)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("COMPLETED", r.stdout)
        # The job finished before the crash kept its result.
        result = self.dim_json("result", done["job_id"], server=orch)["result"]
        self.assertEqual(result["aggregate"]["rows"], 1000)

    def test_restarted_daemon_registers_again_and_takes_work(self):
        orch = self.start_orchestrator(extra=["--heartbeat-timeout", "1.5"])
        first = self.start_daemon("a", {"default": self.quick}, models=self.models,
                                  orchestrator=orch)
        self.wait_for_nodes(orch, ["a"])
        job = self.dim_json("submit", "-p", "collaborative", "-m", "slow", "--wait", server=orch)
        self.assertEqual(job["state"], "COMPLETED")
        first.stop(signal.SIGKILL)

        def inactive():
            nodes = self.dim_json("health", server=orch)["nodes"]
            return nodes[0] if nodes[0]["status"] == "INACTIVE" else None
        node = self.wait_until(inactive, timeout=5, what="node a to become inactive")
        self.assertIn("no heartbeat for", node["error"])
        # An inactive node gets no new task: a job naming it fails at once, saying so.
        r = self.dim("-o", "json", "submit", "-p", "collaborative", "-m", "slow", "--nodes", "a",
                     "--wait", server=orch)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("node 'a' is inactive: no heartbeat for", json.loads(r.stdout)["error"])
        # Without named nodes there is nothing to choose from.
        r = self.dim("submit", "-p", "collaborative", "-m", "slow", server=orch)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("no active node holds dataset 'default'", r.stderr)

        second = self.start_daemon("a", {"default": self.quick}, models=self.models,
                                   orchestrator=orch, name="daemon-a-restarted")
        self.wait_for_nodes(orch, ["a"])
        node = self.dim_json("health", server=orch)["nodes"][0]
        self.assertEqual(node["address"], second.address)
        self.assertEqual(node["error"], "")
        job = self.dim_json("submit", "-p", "collaborative", "-m", "slow", "--wait", server=orch)
        self.assertEqual(job["state"], "COMPLETED")
        self.assertEqual(job["nodes"][0]["node_id"], "a")


if __name__ == "__main__":
    unittest.main(verbosity=2)
