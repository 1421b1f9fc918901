#!/usr/bin/python3
"""End to end: the data of a node never leaves it. A dataset of distinctive values is fed to
a real daemon; after collaborative jobs (every method, with and without differential
privacy), a comparative job and a chained pipeline (a step reading another's output) on it,
none of its values, in any rendering, appears in any
message the daemon sent (its task replies, health, stats and description, as the daemon
itself answers them; what the orchestrator stored, which holds every task result and every
registration and heartbeat figure it reports; and both services' logs)."""
import json
import os
import re
import shutil
import sys
import unittest

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import DATA, MODELS, DimTestCase, hospitals  # noqa: E402

ROWS = 30


def distinctive_rows():
    """30 rows x 8 columns of values found nowhere else: 7-digit integer parts that step by
    1009 per row and 37 per column, with three decimals."""
    return [[f"{7310000 + 1009 * i + 37 * j}.{(31 * i + 7 * j) % 900 + 100}" for j in range(8)]
            for i in range(ROWS)]


def renderings(cell):
    """The ways a cell could be written out: as in the file, as a double, as the float the
    daemon parses it into (and that float's shortest forms), and its integer part."""
    x = float(cell)
    f = np.float32(x)
    return {cell, repr(x), repr(float(f)), "%.9g" % f, "%.7g" % f, "%.8e" % x, str(int(x))}


class NodePrivacyTest(DimTestCase):

    def test_no_input_value_leaves_the_daemon(self):
        with open(os.path.join(DATA, "hospital_a.csv")) as f:
            header = f.readline().strip()
        rows = distinctive_rows()
        secret = self.path("secret.csv")
        with open(secret, "w") as f:
            f.write(header + "\n" + "".join(",".join(r) + "\n" for r in rows))
        needles = set().union(*(renderings(c) for r in rows for c in r))
        # heart_mlp's outputs are probabilities: nothing like the inputs, so a value found
        # in a message can only have come from the data.
        models = self.path("models")
        os.makedirs(models)
        for name in ("heart_mlp", "heart_mlp_copy"):
            shutil.copy(os.path.join(MODELS, "heart_mlp.onnx"), os.path.join(models, name + ".onnx"))
        identity = helper.make_graph(  # 3 -> 3, for a second pipeline step
            [helper.make_node("Gemm", ["x", "w", "b"], ["y"])], "identity3",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
            [numpy_helper.from_array(np.eye(3, dtype=np.float32), "w"),
             numpy_helper.from_array(np.zeros(3, dtype=np.float32), "b")])
        save(helper.make_model(identity, opset_imports=[helper.make_opsetid("", 13)]),
             os.path.join(models, "identity3.onnx"))

        orch = self.start_orchestrator()
        daemon = self.start_daemon("vault", {"default": secret}, models=models, orchestrator=orch)
        self.start_daemon("hospital-b", {"default": hospitals()["b"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["vault", "hospital-b"])

        messages = []
        jobs = []
        both = ["--nodes", "vault,hospital-b"]
        for args in (["--aggregation", "federated_averaging"], ["--aggregation", "median"],
                     ["--aggregation", "trimmed_mean", "--trim", "0.2"],
                     ["--aggregation", "weighted_average", "--weights", "2,1"],
                     ["--dp-epsilon", "1", "--dp-clip", "0,1"]):
            doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_mlp", *both,
                                "--wait", *args, server=orch)
            self.assertEqual(doc["state"], "COMPLETED", doc)
            self.assertEqual(doc["result"]["nodes"][0]["summary"]["rows"], ROWS)
            jobs.append(doc["job_id"])
        doc = self.dim_json("submit", "-p", "comparative", "-m", "heart_mlp,heart_mlp_copy",
                            "--node", "vault", "--consensus", "expert_review", "--wait",
                            server=orch)
        self.assertEqual(doc["state"], "COMPLETED", doc)
        jobs.append(doc["job_id"])
        pipeline = {"pipeline": [
            {"step": 1, "model_id": "heart_mlp", "node_id": "vault", "input_source": "dataset:default"},
            {"step": 2, "model_id": "identity3", "node_id": "vault", "input_source": "step_1_output"}]}
        doc = self.dim_json("submit", "-p", "chained", "--config-json", json.dumps(pipeline),
                            "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED", doc)
        self.assertEqual(doc["result"]["output_shape"], [ROWS, 3])
        jobs.append(doc["job_id"])
        # The daemon knows a pipeline's steps by task ids of their own.
        tasks = jobs[:-1] + [f"{doc['job_id']}.step{k}.try1" for k in (1, 2)]

        # What the orchestrator stored and reports.
        for job in jobs:
            for command in ("status", "result"):
                r = self.dim("-o", "json", command, job, server=orch)
                self.assertEqual(r.returncode, 0, r.stderr)
                messages.append(r.stdout)
        for args in (["ls"], ["health"]):
            r = self.dim("-o", "json", *args, server=orch)
            self.assertEqual(r.returncode, 0, r.stderr)
            messages.append(r.stdout)
        # The daemon's own replies, straight from it.
        messages.extend(self.daemon_replies(daemon, tasks))
        messages.append(daemon.log())
        messages.append(orch.log())

        # The capture is not vacuous: it holds the vault's task results and description.
        everything = "\n".join(messages)
        self.assertIn('\\"rows\\":30', everything)
        self.assertIn("vault", everything)
        # A value counts where it stands as a number of its own: inside a longer run of digits
        # ("0.47337318" of a probability) it is another number.
        leaked = sorted(n for n in needles
                        if re.search(r"(?<![0-9.])" + re.escape(n) + r"(?![0-9])", everything))
        self.assertEqual(leaked, [], "input values left the node")
        # The check would catch a leak: the file itself is full of them.
        with open(secret) as f:
            content = f.read()
        self.assertGreater(sum(n in content for n in needles), 2 * ROWS * 8)

    def daemon_replies(self, daemon, jobs):
        """GetJobStatus of every task, GetHealth, GetStats and DescribeNode, as text."""
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "seed"))
        import python_example
        root = self.path("stubs")
        sys.path[:0] = [root, python_example.generate_stubs(root)]
        import grpc
        from google.protobuf import json_format
        from dim.proto import daemon_pb2, daemon_pb2_grpc
        out = []
        with grpc.insecure_channel(daemon.address) as channel:
            stub = daemon_pb2_grpc.DaemonStub(channel)
            for job in jobs:
                reply = stub.GetJobStatus(daemon_pb2.GetJobStatusRequest(job_id=job), timeout=10)
                self.assertEqual(reply.status, "completed")
                out.append(str(reply))
                out.append(json_format.MessageToJson(reply))
            for call, request in ((stub.GetHealth, daemon_pb2.GetHealthRequest()),
                                  (stub.GetStats, daemon_pb2.GetStatsRequest()),
                                  (stub.DescribeNode, daemon_pb2.DescribeNodeRequest())):
                out.append(str(call(request, timeout=10)))
        return out


if __name__ == "__main__":
    unittest.main(verbosity=2)
