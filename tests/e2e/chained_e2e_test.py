#!/usr/bin/python3
"""End to end: chained jobs (a pipeline of models, each step on its own node) on real
daemons and in --local mode, checked against an independent numpy reference (reference.OnnxModel
run step after step); retries, rollback and fallback nodes with a daemon that is down; bad
pipelines get their error through the CLI and leave nothing behind.

Models (written into each test's scratch folder, which the daemons serve):
  heart_mlp, heart_risk   the committed examples (8 features -> 3 softmax outputs; -> 1)
  scale3                  Gemm 3 -> 3: x * [2, 3, 4] + [1, 0, -1]
  sum3                    Gemm 3 -> 1: the row's sum
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
from dim_harness import DimTestCase, hospitals  # noqa: E402


def gemm_model(path, weights, bias):
    weights = np.asarray(weights, dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"])], "gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", weights.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", weights.shape[1]])],
        [numpy_helper.from_array(weights, "w"),
         numpy_helper.from_array(np.asarray(bias, dtype=np.float32), "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def step(k, model, node, source, **extra):
    return dict(step=k, model_id=model, node_id=node, input_source=source, **extra)


class ChainedTest(DimTestCase):

    def setUp(self):
        super().setUp()
        self.make_models_folder()
        gemm_model(self.model("scale3"), np.diag([2.0, 3.0, 4.0]), [1.0, 0.0, -1.0])
        gemm_model(self.model("sum3"), np.ones((3, 1)), [0.0])

    def run_models(self, names, x):
        for name in names:
            x = reference.OnnxModel(self.model(name)).run(x)
        return x

    def start_cluster(self, sites=("a", "b", "c")):
        """An orchestrator and daemons hospital-<site>, each with its hospital's rows as
        dataset "default" and every model."""
        orch = self.start_orchestrator()
        self.daemons = {}
        for s in sites:
            self.daemons[s] = self.start_daemon(f"hospital-{s}", {"default": hospitals()[s]},
                                                models=self.models, orchestrator=orch)
        self.wait_for_nodes(orch, [f"hospital-{s}" for s in sites])
        return orch

    def write_config(self, config, name="pipeline.json"):
        path = self.path(name)
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def client_rows(self, count=5):
        """The client's own rows: the first rows of hospital_c, as a CSV file."""
        with open(hospitals()["c"]) as f:
            lines = f.readlines()[:count + 1]
        path = self.path("rows.csv")
        with open(path, "w") as f:
            f.writelines(lines)
        return path, reference.read_csv(path)[1]

    def submit(self, config, *args, server=None, expect_exit=0):
        return self.dim_json("submit", "-p", "chained", "--config", self.write_config(config),
                             "--wait", *args, server=server, expect_exit=expect_exit)

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read()

    def assert_rows(self, got, want):
        """float32 through several models against the float64 reference."""
        np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=2e-5)

    def assert_summary(self, got, ref):
        self.assertEqual(got["rows"], ref["rows"])
        for c, col in enumerate(got["columns"]):
            for key in ("mean", "std", "min", "max"):
                self.assertAlmostEqual(col[key], ref[key][c], delta=1e-5 * max(1, abs(ref[key][c])))
        self.assertEqual(got.get("class_counts"), ref.get("class_counts"))

    def test_client_rows_flow_across_nodes_and_come_back(self):
        orch = self.start_cluster(("a", "b"))
        rows_csv, x = self.client_rows()
        config = {"pipeline": [
            step(1, "heart_mlp", "hospital-a", "client_data", name="classify"),
            step(2, "scale3", "hospital-b", "step_1_output", name="scale"),
            step(3, "sum3", "hospital-a", "step_2_output", name="total")]}
        job = self.submit(config, "--input-data", rows_csv, server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)
        result = job["result"]
        want = self.run_models(["heart_mlp", "scale3", "sum3"], x)
        self.assert_rows(result["output_rows"], want)
        self.assertEqual(result["output_shape"], [5, 1])
        self.assert_summary(result["output"], reference.summarise(want))
        trace = result["pipeline_trace"]
        self.assertEqual([t["node_id"] for t in trace], ["hospital-a", "hospital-b", "hospital-a"])
        self.assertEqual([t["status"] for t in trace], ["completed"] * 3)
        self.assertEqual([t["attempts"] for t in trace], [1, 1, 1])
        self.assertEqual([t["output_shape"] for t in trace], [[5, 3], [5, 3], [5, 1]])
        self.assertEqual([t["name"] for t in trace], ["classify", "scale", "total"])
        self.assertEqual(job["progress"]["completed"], 3)
        # The table shows the trace and the rows.
        r = self.dim("result", job["job_id"], server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("chained, 3 steps", r.stdout)
        self.assertIn("output rows:", r.stdout)
        self.assertRegex(r.stdout, r"2\s+scale\s+scale3\s+hospital-b\s+step_1_output\s+completed")
        # Columns chosen by name from the client's header, in another order.
        config = {"pipeline": [step(1, "sum3", "hospital-b", "client_data",
                                    columns=["bmi", "age", "smoker"])]}
        r = self.dim("-o", "json", "submit", "-p", "chained", "--config",
                     self.write_config(config), "--input-data", "-", "--wait", server=orch,
                     stdin=self.read(rows_csv))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)["result"]["output_rows"]
        np.testing.assert_allclose(np.array(got)[:, 0], x[:, 1] + x[:, 0] + x[:, 7], rtol=1e-6)

    def test_rows_as_json_and_as_binary_give_identical_results(self):
        """The same client rows through the same pipeline: inside the config's input_data
        (JSON, as the seed's clients send them), as --input-data CSV and .npy (sent as a
        float32 tensor), and as a tensor from a raw gRPC client; every path gives the same
        output rows, bit for bit, and `dim result --rows-out` writes them as .npy and CSV."""
        import grpc
        orch = self.start_cluster(("a", "b"))
        rows_csv, x = self.client_rows(40)
        pipeline = [step(1, "heart_mlp", "hospital-a", "client_data"),
                    step(2, "scale3", "hospital-b", "step_1_output")]
        x32 = x.astype(np.float32)
        as_json = self.submit({"pipeline": pipeline, "input_data": x32.tolist()}, server=orch)
        self.assertEqual(as_json["state"], "COMPLETED", as_json)
        want = np.array(as_json["result"]["output_rows"], dtype=np.float32)
        self.assertEqual(want.shape, (40, 3))
        self.assert_rows(want, self.run_models(["heart_mlp", "scale3"], x))

        np.save(self.path("rows32.npy"), x32)
        np.save(self.path("rows64.npy"), x)
        for rows_file in (rows_csv, self.path("rows32.npy"), self.path("rows64.npy")):
            job = self.submit({"pipeline": pipeline}, "--input-data", rows_file, server=orch)
            self.assertEqual(job["state"], "COMPLETED", job)
            got = np.array(job["result"]["output_rows"], dtype=np.float32)
            np.testing.assert_array_equal(got, want, err_msg=rows_file)

        job_id = job["job_id"]
        r = self.dim("result", job_id, "--rows-out", self.path("out.npy"), server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = np.load(self.path("out.npy"))
        self.assertEqual(out.dtype, np.float32)
        np.testing.assert_array_equal(out, want)
        r = self.dim("result", job_id, "--rows-out", self.path("out.csv"), server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        header, values = reference.read_csv(self.path("out.csv"))
        self.assertEqual(header, ["output_0", "output_1", "output_2"])
        np.testing.assert_array_equal(values.astype(np.float32), want)
        # Files that are not such rows are refused before anything is sent.
        np.save(self.path("ints.npy"), x.astype(np.int64))
        np.save(self.path("flat.npy"), x32[0])
        for bad, message in (("ints.npy", "dtype '<i8': expected '<f4' or '<f8'"),
                             ("flat.npy", "shape: expected a 2-D array")):
            r = self.dim("submit", "-p", "chained", "--config",
                         self.write_config({"pipeline": pipeline}), "--input-data",
                         self.path(bad), server=orch)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(f"--input-data {self.path(bad)}: {message}", r.stderr)
        # Rows that came as input_data are kept in binary too.
        r = self.dim("result", as_json["job_id"], "--rows-out", self.path("json.npy"),
                     server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        np.testing.assert_array_equal(np.load(self.path("json.npy")), want)

        # A raw gRPC client: rows in, rows out as tensors; and the seed's GetJobResult (no
        # rows_as_tensor) still finds output_rows inside result_json.
        o_pb2, o_grpc, _, _ = self.grpc_stubs()
        from dim.proto import common_pb2
        with grpc.insecure_channel(orch.address) as channel:
            stub = o_grpc.OrchestratorStub(channel)
            tensor = common_pb2.Tensor(dtype="float32", shape=list(x32.shape),
                                                    data=x32.astype("<f4").tobytes())
            resp = stub.SubmitJob(o_pb2.SubmitJobRequest(
                pattern=3, config_json=json.dumps({"pipeline": pipeline}), input_rows=tensor),
                timeout=10)
            self.assertTrue(resp.job_id, resp)

            def ended():
                st = stub.GetJobStatus(o_pb2.GetJobStatusRequest(job_id=resp.job_id), timeout=5)
                return st.status >= 3
            self.wait_until(ended, what="the raw client's job to end")
            binary = stub.GetJobResult(o_pb2.GetJobResultRequest(job_id=resp.job_id,
                                                                 rows_as_tensor=True), timeout=5)
            self.assertNotIn("output_rows", json.loads(binary.result_json))
            self.assertEqual(list(binary.output_rows.shape), [40, 3])
            got = np.frombuffer(binary.output_rows.data, dtype="<f4").reshape(40, 3)
            np.testing.assert_array_equal(got, want)
            seed = stub.GetJobResult(o_pb2.GetJobResultRequest(job_id=resp.job_id), timeout=5)
            self.assertFalse(seed.HasField("output_rows"))
            np.testing.assert_array_equal(
                np.array(json.loads(seed.result_json)["output_rows"], dtype=np.float32), want)
            # A tensor that lies about its size is refused, naming the field.
            bad = common_pb2.Tensor(dtype="float32", shape=[40, 8], data=b"\0" * 12)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.SubmitJob(o_pb2.SubmitJobRequest(
                    pattern=3, config_json=json.dumps({"pipeline": pipeline}), input_rows=bad),
                    timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("input_rows.data: 12 bytes", caught.exception.details())

    def test_rows_too_many_for_one_message_stream_in_chunks(self):
        """70,000 rows x 8 (more than the 500,000 numbers one message carries) stream in
        chunks through a two-step pipeline: the output rows, read back with GetJobRows into
        `--rows-out`, equal those of the same rows sent as jobs that each fit one message (to
        float32 rounding); a raw client's stream that starts with rows, or breaks off,
        stores nothing."""
        import grpc
        orch = self.start_cluster(("a", "b"))
        rng = np.random.default_rng(7)
        x = rng.normal(50, 20, size=(70000, 8)).astype(np.float32)
        np.save(self.path("big.npy"), x)
        pipeline = [step(1, "heart_mlp", "hospital-a", "client_data"),
                    step(2, "scale3", "hospital-b", "step_1_output")]
        job = self.submit({"pipeline": pipeline}, "--input-data", self.path("big.npy"),
                          server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)
        result = job["result"]
        chunks = result["chunks"]
        self.assertGreaterEqual(chunks, 2)
        self.assertEqual(result["output_shape"], [70000, 3])
        self.assertNotIn("output_rows", result)
        self.assertEqual([t["attempts"] for t in result["pipeline_trace"]], [chunks, chunks])
        self.assertEqual([n["rows_done"] for n in job["nodes"]], [70000, 70000])
        r = self.dim("result", job["job_id"], "--rows-out", self.path("big-out.npy"), server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = np.load(self.path("big-out.npy"))
        self.assertEqual(got.shape, (70000, 3))
        # The same rows as jobs of one message each.
        parts = []
        for name, part in (("p1.npy", x[:62500]), ("p2.npy", x[62500:])):
            np.save(self.path(name), part)
            one = self.submit({"pipeline": pipeline}, "--input-data", self.path(name),
                              server=orch)
            self.assertEqual(one["state"], "COMPLETED", one)
            self.assertNotIn("chunks", one["result"])
            r = self.dim("result", one["job_id"], "--rows-out", self.path("part-" + name),
                         server=orch)
            self.assertEqual(r.returncode, 0, r.stderr)
            parts.append(np.load(self.path("part-" + name)))
        # Equal to float32 rounding: a model run twice on the same rows on one node may
        # differ in the last bit on a few rows, chunked or not.
        np.testing.assert_allclose(got, np.concatenate(parts), rtol=1e-6, atol=1e-7)
        self.assert_summary(result["output"], reference.summarise(got.astype(np.float64)))
        r = self.dim("result", job["job_id"], "--rows-out", self.path("big-out.csv"), server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        header, values = reference.read_csv(self.path("big-out.csv"))
        self.assertEqual(len(values), 70000)
        np.testing.assert_array_equal(values.astype(np.float32), got)

        o_pb2, o_grpc, _, _ = self.grpc_stubs()
        from dim.proto import common_pb2
        with grpc.insecure_channel(orch.address) as channel:
            stub = o_grpc.OrchestratorStub(channel)
            status = stub.GetJobResult(o_pb2.GetJobResultRequest(job_id=job["job_id"]), timeout=5)
            self.assertEqual(list(status.streamed_output_shape), [70000, 3])
            tensors = list(stub.GetJobRows(o_pb2.GetJobRowsRequest(job_id=job["job_id"]),
                                           timeout=30))
            streamed = np.concatenate([np.frombuffer(t.data, dtype="<f4").reshape(list(t.shape))
                                       for t in tensors])
            np.testing.assert_array_equal(streamed, got)
            chunk = common_pb2.Tensor(dtype="float32", shape=[2, 8],
                                      data=x[:2].astype("<f4").tobytes())
            job_msg = o_pb2.SubmitJobChunk(job=o_pb2.SubmitJobRequest(
                pattern=3, config_json=json.dumps({"pipeline": pipeline})))
            # Rows before the job.
            with self.assertRaises(grpc.RpcError) as caught:
                stub.SubmitJobStream(iter([o_pb2.SubmitJobChunk(rows=chunk), job_msg]),
                                     timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("must be the job, not rows", caught.exception.details())
            # A chunk that lies about its size is named by its place in the stream.
            bad = common_pb2.Tensor(dtype="float32", shape=[2, 8], data=b"\0" * 12)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.SubmitJobStream(iter([job_msg, o_pb2.SubmitJobChunk(rows=chunk),
                                           o_pb2.SubmitJobChunk(rows=bad)]), timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("rows[1].data: 12 bytes", caught.exception.details())

            # A stream that breaks off leaves no job.
            def broken():
                yield job_msg
                yield o_pb2.SubmitJobChunk(rows=chunk)
                raise RuntimeError("the client fails mid-stream")
            with self.assertRaises(grpc.RpcError):
                stub.SubmitJobStream(broken(), timeout=10)
            # A small job through the stream runs as any other.
            # A stream that ends without its end message, or with the wrong count, is refused.
            for tail in ([], [o_pb2.SubmitJobChunk(end=3)]):
                with self.assertRaises(grpc.RpcError) as caught:
                    stub.SubmitJobStream(iter([job_msg, o_pb2.SubmitJobChunk(rows=chunk)] + tail),
                                         timeout=10)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("end: the stream says it carried 3 rows; 2 came",
                          caught.exception.details())
            resp = stub.SubmitJobStream(iter([job_msg, o_pb2.SubmitJobChunk(rows=chunk),
                                              o_pb2.SubmitJobChunk(end=2)]),
                                        timeout=10)
            self.assertTrue(resp.job_id)
        # The CLI's streamed job, the two parts and the raw client's job: nothing else.
        self.assertEqual(self.dim_json("ls", server=orch)["total"], 4)

    def test_dataset_rows_stay_on_their_node(self):
        orch = self.start_cluster(("a", "b"))
        config = {"pipeline": [
            step(1, "heart_mlp", "hospital-a", "dataset:default"),
            step(2, "scale3", "hospital-a", "step_1_output"),
            step(3, "sum3", "hospital-a", "step_2_output")]}
        job = self.submit(config, server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)
        result = job["result"]
        _, x = reference.read_csv(hospitals()["a"])
        want = self.run_models(["heart_mlp", "scale3", "sum3"], x)
        self.assert_summary(result["output"], reference.summarise(want))
        self.assertNotIn("output_rows", result)
        self.assertEqual(result["output_shape"], [240, 1])
        self.assertEqual([t["output_shape"] for t in result["pipeline_trace"]],
                         [[240, 3], [240, 3], [240, 1]])
        # Nothing per row: no list in the result is longer than a row of figures.
        def lists(v):
            if isinstance(v, dict):
                return [n for item in v.values() for n in lists(item)]
            if isinstance(v, list):
                return [len(v)] + [n for item in v for n in lists(item)]
            return []
        self.assertLess(max(lists(result)), 10)
        # A step on another node may not read those rows: refused at submit, with the path.
        config["pipeline"][1]["node_id"] = "hospital-b"
        r = self.dim("submit", "-p", "chained", "--config", self.write_config(config),
                     server=orch)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("$.pipeline[1].node_id: step 2 reads step 1's output", r.stderr)
        self.assertIn("dataset 'default' on node 'hospital-a'", r.stderr)

    def test_a_step_that_fails_then_succeeds_on_retry(self):
        orch = self.start_cluster(("a", "b"))
        rows_csv, x = self.client_rows()
        address = self.daemons["b"].address
        self.daemons["b"].stop()
        config = {"pipeline": [step(1, "heart_mlp", "hospital-a", "client_data"),
                               step(2, "scale3", "hospital-b", "step_1_output")],
                  "error_handling": {"on_failure": "retry", "max_retries": 8}}
        r = self.dim("submit", "-p", "chained", "--config", self.write_config(config),
                     "--input-data", rows_csv, "-q", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        job_id = r.stdout.strip()
        # Once step 2 has failed on the stopped node, the node comes back on its address.
        deadline = time.time() + 20
        while time.time() < deadline:
            status = self.dim_json("status", job_id, server=orch)
            if "hospital-b" in status["nodes"][1]["error"]:
                break
            time.sleep(0.02)
        else:
            self.fail(f"step 2 never failed: {status}")
        # (It deregistered when it stopped, so it registers again as it comes back.)
        self.start(["daemon", "serve", "--node-id", "hospital-b", "--listen", address,
                    "--models", self.models, "--dataset", "default=" + hospitals()["b"],
                    "--orchestrator", orch.address],
                   "daemon-hospital-b-again")
        job = self.dim_json("status", job_id, server=orch)
        deadline = time.time() + 30
        while job["state"] in ("PENDING", "RUNNING") and time.time() < deadline:
            time.sleep(0.05)
            job = self.dim_json("status", job_id, server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)
        job = self.dim_json("result", job_id, server=orch)
        step2 = job["result"]["pipeline_trace"][1]
        self.assertEqual(step2["status"], "completed")
        self.assertEqual(step2["node_id"], "hospital-b")
        self.assertGreaterEqual(step2["attempts"], 2)
        print(f"step 2 succeeded on attempt {step2['attempts']}", file=sys.stderr)
        self.assertEqual(len(step2["attempt_errors"]), step2["attempts"] - 1)
        self.assertIn("UNAVAILABLE", step2["attempt_errors"][0])
        want = self.run_models(["heart_mlp", "scale3"], x)
        self.assert_rows(job["result"]["output_rows"], want)

    def test_fallback_node_and_rollback_and_fail_fast(self):
        orch = self.start_cluster(("a", "b", "c"))
        rows_csv, x = self.client_rows()
        self.daemons["b"].stop()
        want = self.run_models(["heart_mlp", "scale3"], x)
        pipeline = [step(1, "heart_mlp", "hospital-a", "client_data"),
                    step(2, "scale3", "hospital-b", "step_1_output")]
        # retry with a fallback node: the second attempt runs on hospital-c.
        job = self.submit({"pipeline": pipeline,
                           "error_handling": {"on_failure": "retry", "max_retries": 1,
                                              "fallback_nodes": {"2": ["hospital-c"]}}},
                          "--input-data", rows_csv, server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)
        trace = job["result"]["pipeline_trace"]
        self.assertEqual(trace[1]["node_id"], "hospital-c")
        self.assertEqual(trace[1]["attempts"], 2)
        self.assertIn("hospital-b", trace[1]["attempt_errors"][0])
        self.assertEqual(trace[0]["attempts"], 1)
        self.assertEqual(job["nodes"][1]["node_id"], "hospital-c")
        self.assert_rows(job["result"]["output_rows"], want)
        # rollback_and_retry runs step 1 again before step 2's second attempt.
        job = self.submit({"pipeline": pipeline,
                           "error_handling": {"onFailure": "rollback_and_retry", "maxRetries": 1,
                                              "fallbackNodes": {"2": ["hospital-c"]}}},
                          "--input-data", rows_csv, server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)
        trace = job["result"]["pipeline_trace"]
        self.assertEqual([t["attempts"] for t in trace], [2, 2])
        self.assertEqual(trace[1]["node_id"], "hospital-c")
        # fail_fast: the job fails at once, naming the step and the node, and keeps the trace.
        pipeline.append(step(3, "sum3", "hospital-a", "step_2_output"))
        job = self.submit({"pipeline": pipeline}, "--input-data", rows_csv, server=orch,
                          expect_exit=1)
        self.assertEqual(job["state"], "FAILED")
        self.assertIn("step 2 'step_2' failed on node 'hospital-b' after 1 attempt", job["error"])
        self.assertEqual([t["status"] for t in job["result"]["pipeline_trace"]],
                         ["completed", "failed", "skipped"])
        r = self.dim("result", job["job_id"], server=orch)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"3\s+step_3\s+sum3\s+hospital-a\s+step_2_output\s+skipped")

    def test_bad_pipelines_get_their_error_and_nothing_is_stored(self):
        orch = self.start_cluster(("a",))
        ok = step(1, "heart_mlp", "hospital-a", "dataset:default")
        cases = [
            ({"pipeline": []}, 2, "$.pipeline: a pipeline needs at least 1 step"),
            ({"pipeline": [ok, step(3, "scale3", "hospital-a", "step_1_output")]}, 2,
             "$.pipeline[1].step: steps must be numbered 1..N in order: expected 2, got 3"),
            ({"pipeline": [ok, step(2, "scale3", "hospital-a", "step_2_output")]}, 2,
             "$.pipeline[1].input_source: step 2 reads step 2's output, which is not an "
             "earlier step"),
            ({"pipeline": [step(1, "heart_mlp", "hospital-a", "client_data")]}, 2,
             "$.pipeline[0].input_source: client_data needs the job's input_data"),
            ({"pipeline": [ok], "error_handling": {"on_failure": "pray"}}, 2,
             "$.error_handling.on_failure: unknown on_failure 'pray'"),
            ({"pipeline": [ok], "error_handling": {"max_retries": 2}}, 2,
             "$.error_handling.max_retries: only used with retry or rollback_and_retry"),
            ({"pipeline": [step(1, "heart_mlp", "hospital-z", "dataset:default")]}, 4,
             "$.pipeline[0].node_id: node 'hospital-z' not found (known nodes: hospital-a)"),
            ({"pipeline": [step(1, "ghost", "hospital-a", "dataset:default")]}, 4,
             "$.pipeline[0].model_id: model 'ghost' not found on node 'hospital-a'"),
            ({"pipeline": [dict(ok, colour="red")]}, 2, "$.pipeline[0].colour: unknown key"),
        ]
        for config, code, message in cases:
            with self.subTest(config=config):
                r = self.dim("submit", "-p", "chained", "--config", self.write_config(config),
                             server=orch)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
        r = self.dim("submit", "-p", "chained", "-m", "heart_mlp", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--model: a chained job names its models", r.stderr)
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_mlp", "--input-data",
                     "x.csv", server=orch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--input-data is for --pattern chained", r.stderr)
        self.assertEqual(self.dim_json("ls", server=orch)["total"], 0)
        # The services still run jobs.
        job = self.submit({"pipeline": [ok]}, server=orch)
        self.assertEqual(job["state"], "COMPLETED", job)

    def test_local_mode(self):
        rows_csv, x = self.client_rows()
        config = self.write_config({"pipeline": [
            step(1, "heart_mlp", "site", "client_data"),
            step(2, "scale3", "site", "step_1_output"),
            step(3, "heart_mlp", "site", "dataset:default"),
            step(4, "sum3", "site", "step_3_output")]})
        r = self.dim("--local", "--models", self.models, "--local-node",
                     "site=" + hospitals()["b"], "-o", "json", "submit", "-p", "chained",
                     "--config", config, "--input-data", rows_csv, "--wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout)["result"]
        _, xb = reference.read_csv(hospitals()["b"])
        self.assert_summary(result["output"],
                            reference.summarise(self.run_models(["heart_mlp", "sum3"], xb)))
        self.assertNotIn("output_rows", result)  # the last step read a dataset
        self.assertEqual(result["pipeline_trace"][1]["output_shape"], [5, 3])


if __name__ == "__main__":
    unittest.main(verbosity=2)
