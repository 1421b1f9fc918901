#!/usr/bin/python3
"""End to end: both services answer grpc.health.v1 and server reflection, stop cleanly on
SIGINT and SIGTERM, refuse bad start-up flags, and the client finds the orchestrator
through DIM_SERVER."""
import json
import os
import signal
import subprocess
import sys
import unittest

import grpc  # python3-grpcio

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import DIM, DimTestCase, hospitals  # noqa: E402

# grpc.health.v1.HealthCheckResponse{status: SERVING} is field 1 = 1.
SERVING = b"\x08\x01"
# grpc.reflection.v1alpha.ServerReflectionRequest{list_services: ""} is field 7, empty.
LIST_SERVICES = b"\x3a\x00"


def health_check(address):
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        return check(b"", timeout=5)


def reflected_services(address):
    with grpc.insecure_channel(address) as channel:
        info = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        return b"".join(info(iter([LIST_SERVICES]), timeout=5))


class ServicesTest(DimTestCase):

    def test_health_and_reflection_on_both_services(self):
        orch = self.start_orchestrator()
        daemon = self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.assertEqual(health_check(orch.address), SERVING)
        self.assertEqual(health_check(daemon.address), SERVING)
        listed = reflected_services(orch.address)
        self.assertIn(b"dim.orchestrator.Orchestrator", listed)
        self.assertIn(b"grpc.health.v1.Health", listed)
        self.assertIn(b"dim.daemon.Daemon", reflected_services(daemon.address))

    def test_health_wait_nodes_returns_once_enough_nodes_are_active(self):
        orch = self.start_orchestrator()
        import subprocess
        from dim_harness import DIM
        waiting = subprocess.Popen([DIM, "--server", orch.address, "health", "--wait-nodes", "1",
                                    "--timeout", "30"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=self.env)
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        out, err = waiting.communicate(timeout=60)
        self.assertEqual(waiting.returncode, 0, err)
        self.assertIn("hospital-a  ACTIVE", out)
        r = self.dim("health", "--wait-nodes", "2", "--timeout", "0.5", server=orch)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("1 of 2 nodes active after waiting", r.stderr)
        # An orchestrator not there (yet) is waited for the same way.
        r = self.dim("health", "--wait-nodes", "1", "--timeout", "0.5", server="127.0.0.1:1")
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("cannot reach the orchestrator", r.stderr)

    def test_a_daemon_stopped_with_sigterm_deregisters(self):
        orch = self.start_orchestrator()
        daemon = self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        self.assertEqual(daemon.stop(signal.SIGTERM), 0)
        # At once, not after the heartbeat timeout (15 s), and with its reputation untouched.
        node = self.dim_json("health", server=orch)["nodes"][0]
        self.assertEqual((node["status"], node["reputation"]), ("INACTIVE", 1.0))
        self.assertIn("deregistered", node["error"])
        self.assertIn("[daemon hospital-a]", daemon.log())
        self.assertIn("deregistered from orchestrator", daemon.log())
        self.assertIn("[orchestrator] node hospital-a deregistered", orch.log())

    def test_stop_cleanly_on_sigint_and_sigterm(self):
        orch = self.start_orchestrator()
        daemon = self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.assertEqual(daemon.stop(signal.SIGINT), 0)
        self.assertIn("signal 2 received; stopping", daemon.log())
        self.assertEqual(orch.stop(signal.SIGTERM), 0)
        self.assertIn("signal 15 received; stopping", orch.log())
        self.assertTrue(orch.log().rstrip().endswith("stopped"))

    def test_dim_server_environment_variable(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        self.env["DIM_SERVER"] = orch.address
        r = self.dim("-o", "json", "submit", "-p", "collaborative", "-m", "heart_mlp", "--wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["result"]["aggregate"]["rows"], 240)
        r = self.dim("health")
        self.assertIn(f"orchestrator {orch.address}: SERVING", r.stdout)
        self.assertRegex(r.stdout, r"hospital-a +ACTIVE")

    def test_a_client_command_stays_small(self):
        # CI scripts run dim many times: a command must not pay for what it does not use
        # (cuBLAS, when built with CUDA, is loaded only for --device cuda).
        script = ("import resource, subprocess, sys; "
                  "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
                  "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", script, DIM, "--version"], check=True,
                             capture_output=True, text=True, env=self.env).stdout
        self.assertLess(int(out) / 1024, 64, "peak RSS of `dim --version` in MB")

    def test_bad_startup_flags_are_clear_errors(self):
        cases = [
            (["daemon", "serve", "--node-id", "n", "--dataset", "nodelimiter"], 2,
             "--dataset 'nodelimiter': expected NAME=VALUE"),
            (["daemon", "serve", "--node-id", "n", "--dataset", "d=/no/such/file.csv"], 4,
             "dataset 'd': "),
            (["daemon", "serve", "--dataset", "d=x.csv"], 2, "--node-id is required"),
            (["orchestrator", "serve", "--listen", "nonsense"], 2,
             "--listen: expected HOST:PORT, got 'nonsense'"),
            (["orchestrator", "serve", "--listen", "127.0.0.1:70000"], 2,
             "--listen: the port must be a number from 0 to 65535, got '70000'"),
            (["daemon", "serve", "--node-id", "a b"], 2,
             "--node-id: node id 'a b': no spaces, control characters, ',' or '='"),
            (["orchestrator", "serve", "--listen", "127.0.0.1:0", "--db",
              self.path("no/such/folder/x.db")], 2, "the folder"),
            (["orchestrator", "serve", "--listen", "127.0.0.1:0", "--db", self.path("x.db"),
              "--heartbeat-timeout", "nan"], 2,
             "--heartbeat-timeout: must be a finite number, got nan"),
            (["orchestrator", "serve", "--listen", "127.0.0.1:0", "--db", self.path("x.db"),
              "--node", "broken"], 2, "--node 'broken': expected NAME=VALUE"),
            (["daemon", "serve", "--node-id", "n", "--cache-max-bytes", "-1"], 2,
             "--cache-max-bytes: must not be negative"),
            (["daemon", "serve", "--node-id", "n", "--cache-max-bytes", "-5K"], 2,
             "--cache-max-bytes: must not be negative"),
            (["orchestrator", "serve", "--listen", "127.0.0.1:0", "--db", self.path("x.db"),
              "--max-model-bytes", "-1"], 2, "--max-model-bytes: must not be negative"),
            (["daemon", "serve", "--node-id", "n", "--abandon-after", "-1"], 2,
             "--abandon-after: must be >= 0, got -1"),
        ]
        for args, code, message in cases:
            with self.subTest(args=args):
                r = subprocess.run([DIM] + args, capture_output=True, text=True, timeout=30,
                                   env=self.env)
                self.assertEqual(r.returncode, code, r.stdout + r.stderr)
                self.assertIn(message, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
