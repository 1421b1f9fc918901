#!/usr/bin/python3
"""dim beside ONNX Runtime on the models sites have: a 300-tree depth-8 gradient-boosted
classifier (ai.onnx.ml TreeEnsembleClassifier, trained with XGBoost and converted by
tests/ml/onnx_ml_convert.py) and the MLP 64-256-256-2 of infer_bench.py, at several batch
sizes and thread counts, measured in the same run (SPEC section 3).

Baseline: onnxruntime-node (CPU) with the same thread count, the better of one stream of
runs with N intra-op threads and N concurrent streams of one-thread runs. dim: N threads
calling Model::Run (build/bench/infer_bench). Goals (issue 17): dim >= 1.0x ONNX Runtime on
the tree ensemble at batch >= 64, >= 1.1x on the MLP at every batch. Also prints the
resident memory each engine adds for each model.

Usage: ninja -C build && /usr/bin/python3 bench/ml_bench.py [--threads 1,2] [--seconds 2]
       [--batches 1,64,4096,100000] [--only trees|mlp]
Needs python3-onnx, python3-numpy, python3-xgboost and python3-sklearn (Debian), node and
npm (onnxruntime-node is installed from tests/ml/ort/package-lock.json on first use).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "ml"))
GOALS = {"trees": (1.0, 64), "mlp": (1.1, 1)}  # model -> (minimum dim/ORT, from batch)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def mlp_model():
    """MLP 64-256-256-2 (Gemm + Relu), dynamic batch, opset 13, seeded weights."""
    rng = np.random.default_rng(0)
    sizes = [64, 256, 256, 2]
    nodes, inits, prev = [], [], "input"
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        w = (rng.standard_normal((b, a)) / np.sqrt(a)).astype(np.float32)
        bias = (rng.standard_normal(b) * 0.1).astype(np.float32)
        inits += [helper.make_tensor(f"w{i}", TensorProto.FLOAT, w.shape, w.ravel()),
                  helper.make_tensor(f"b{i}", TensorProto.FLOAT, bias.shape, bias)]
        out = f"h{i}" if i < len(sizes) - 2 else "output"
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out + "_pre" if out != "output" else out], transB=1))
        if out != "output":
            nodes.append(helper.make_node("Relu", [out + "_pre"], [out]))
        prev = out
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 2])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), 64


def tree_model():
    import onnx_ml_convert  # tests/ml: trains XGBoost, converts its trees
    model = onnx_ml_convert.gradient_boosted_classifier(n_trees=300, depth=8, seed=0)
    width = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    return model, width


def ensure_ort():
    if os.path.isdir(os.path.join(ROOT, "tests", "ml", "ort", "node_modules", "onnxruntime-node")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--onnxruntime-node-install-cuda=skip"],
                   cwd=os.path.join(ROOT, "tests", "ml", "ort"), check=True,
                   stdout=subprocess.DEVNULL)


def parse(lines, prefix):
    """{batch: (rows_per_s, mode)} keeping the best mode, and the model's rss_mb."""
    best, rss = {}, None
    for line in lines.splitlines():
        if line.startswith("model rss_mb="):
            rss = float(line.split("=", 1)[1])
        if not line.startswith(prefix + " "):
            continue
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        batch, rate = int(fields["batch"]), float(fields["rows_per_s"])
        if batch not in best or rate > best[batch][0]:
            best[batch] = (rate, fields.get("mode", ""))
    return best, rss


def run(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--batches", default="1,64,4096,100000")
    p.add_argument("--only", choices=["trees", "mlp"])
    p.add_argument("--dim-bench", default=os.path.join(ROOT, "build", "bench", "infer_bench"))
    a = p.parse_args()
    ensure_ort()
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores); ONNX Runtime: onnxruntime-node "
          "1.31.1 (CPU)")
    misses = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("trees", tree_model), ("mlp", mlp_model)):
            if a.only and a.only != name:
                continue
            model, width = make()
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(model, path)
            goal, from_batch = GOALS[name]
            print(f"\n{name}: {os.path.getsize(path) / 1e6:.2f} MB file; goal dim/ORT >= "
                  f"{goal:.1f}x at batch >= {from_batch}")
            print(f"{'threads':>7} {'batch':>7} {'dim rows/s':>13} {'ORT rows/s':>13} "
                  f"{'ORT mode':>8} {'dim/ORT':>8}  goal")
            for threads in a.threads.split(","):
                common = ["--batches", a.batches, "--seconds", str(a.seconds), "--threads", threads]
                dim_rates, dim_rss = parse(run([a.dim_bench, path] + common), "infer")
                ort_rates, ort_rss = parse(
                    run(["node", os.path.join(ROOT, "bench", "ort_bench.js"), path] + common,
                        env=dict(os.environ, DIM_BENCH_WIDTH=str(width))), "ort")
                for batch in sorted(dim_rates):
                    d, (o, mode) = dim_rates[batch][0], ort_rates[batch]
                    ratio = d / o
                    verdict = ""
                    if batch >= from_batch:
                        verdict = "PASS" if ratio >= goal else "MISS"
                        misses += verdict == "MISS"
                    print(f"{threads:>7} {batch:>7} {d:>13,.0f} {o:>13,.0f} {mode:>8} "
                          f"{ratio:>7.2f}x  {verdict}")
            print(f"memory the model adds: dim {dim_rss:.1f} MiB, ONNX Runtime {ort_rss:.1f} MiB")
    print(f"\n{misses} goal(s) missed")


if __name__ == "__main__":
    main()
