#!/usr/bin/python3
"""Benchmarks dim's inference engine, CSV reader and node task path against named baselines.

Baselines, measured in the same run (SPEC section 3):
  * inference: PyTorch (Debian, with OpenBLAS) on the same MLP 64-256-256-2, same thread count,
    under torch.inference_mode(); goals dim/torch >= 1.0x at batch 4096 and >= 3x at batch 1.
  * CSV reading: the fixed goal of 200 MB/s.
  * node task (CsvReader -> Model::Run -> SummaryBuilder): peak RSS against the 256 MB goal.

Usage: meson compile -C build && /usr/bin/python3 bench/infer_bench.py --threads 2
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def _threads_from_argv(default=1):
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


# OpenBLAS sizes its own thread pool when it loads, whatever torch.set_num_threads says
# later: without this, PyTorch's matrix products (and the sgemm peak) use every core.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOALS = {1: 3.0, 4096: 1.0}  # batch -> minimum dim/torch ratio
CSV_GOAL_MB_S = 200.0
RSS_GOAL_MB = 256.0


def build_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 2)).eval()


def export(model, path, width):
    torch.onnx.export(model, torch.randn(1, width), path, opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def flops_per_row(path):
    """2 * in * out summed over the Gemm/MatMul weights of the ONNX graph."""
    graph = onnx.load(path).graph
    shapes = {init.name: list(init.dims) for init in graph.initializer}
    total = 0
    for node in graph.node:
        if node.op_type in ("Gemm", "MatMul") and node.input[1] in shapes:
            dims = shapes[node.input[1]]
            total += 2 * dims[0] * dims[1]
    return total


def blas_libraries():
    with open("/proc/self/maps") as maps:
        names = {line.split()[-1] for line in maps if "blas" in line.lower()}
    return sorted(os.path.basename(n) for n in names) or ["(none mapped)"]


def time_torch(model, batch, seconds, width):
    x = torch.randn(batch, width)
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        rows = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            model(x)
            rows += batch
        return rows / (time.perf_counter() - start)


def sgemm_peak(seconds, n=2048):
    """The machine's practical peak: OpenBLAS sgemm (through torch.mm) on n x n matrices."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or count < 3:
        torch.mm(a, b)
        count += 1
    return 2 * n ** 3 * count / (time.perf_counter() - start) / 1e9


def run_dim(bench, args):
    out = subprocess.run([bench] + args, check=True, capture_output=True, text=True).stdout
    results = []
    for line in out.splitlines():
        kind, *fields = line.split()
        results.append((kind, {k: float(v) for k, v in (f.split("=") for f in fields)}))
    return results


def write_csv(path, rows, width, seed=0):
    """Random normal data, written from 8 distinct 100,000-row blocks in turn (fast)."""
    rng = np.random.default_rng(seed)
    block_rows = min(100_000, rows)
    blocks = []
    for _ in range(8):
        data = rng.standard_normal((block_rows, width)).astype(np.float32)
        blocks.append("\n".join(",".join(f"{v:.6f}" for v in row) for row in data) + "\n")
    with open(path, "w") as f:
        f.write(",".join(f"c{i}" for i in range(width)) + "\n")
        written, i = 0, 0
        while written < rows:
            n = min(block_rows, rows - written)
            block = blocks[i % len(blocks)]
            if n < block_rows:
                block = "".join(block.splitlines(keepends=True)[:n])
            f.write(block)
            written += n
            i += 1


def verdict(ok):
    return "PASS" if ok else "BELOW"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dim-bench", default=os.path.join(ROOT, "build", "bench", "infer_bench"))
    p.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    p.add_argument("--batches", default="1,64,4096")
    p.add_argument("--csv-mb", type=float, default=200.0, help="size of the CSV-reading file")
    p.add_argument("--rows", type=int, default=10_000_000, help="rows of the summarised dataset")
    p.add_argument("--heart-model", default=os.path.join(ROOT, "examples", "models", "heart_mlp.onnx"))
    p.add_argument("--skip-csv", action="store_true")
    p.add_argument("--skip-summarise", action="store_true")
    args = p.parse_args()
    if not os.path.exists(args.dim_bench):
        sys.exit(f"no {args.dim_bench}: build it first (meson compile -C build), or pass --dim-bench")

    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    with tempfile.TemporaryDirectory(prefix="dim-bench-") as tmp:
        mlp = build_mlp()
        model_path = os.path.join(tmp, "mlp.onnx")
        export(mlp, model_path, 64)
        fpr = flops_per_row(model_path)

        torch.ones(64, 64) @ torch.ones(64, 64)  # load BLAS so it shows in the maps
        print(f"nproc={os.cpu_count()} threads={args.threads} torch={torch.__version__} "
              f"BLAS mapped: {', '.join(blas_libraries())}")
        print(f"model: MLP 64-256-256-2, {fpr} FLOP/row; {args.seconds:g} s per measurement")
        print(f"baseline: PyTorch (same model, torch.set_num_threads({args.threads}), inference_mode); "
              f"dim: {args.threads} thread(s) calling Model::Run")
        print()
        dim = {r["batch"]: r for kind, r in run_dim(args.dim_bench, [
            model_path, "--batches", args.batches, "--seconds", str(args.seconds),
            "--threads", str(args.threads), "--flops-per-row", str(fpr)]) if kind == "infer"}
        header = (f"{'batch':>6} {'dim rows/s':>12} {'torch rows/s':>13} {'dim/torch':>10} "
                  f"{'dim GFLOP/s':>12} {'torch GFLOP/s':>14} {'dim us/row':>11} {'goal':>7}  result")
        print(header)
        print("-" * len(header))
        for b in batches:
            t = time_torch(mlp, b, args.seconds, 64)
            d = dim[b]["rows_per_s"]
            ratio = d / t
            goal = GOALS.get(b)
            goal_s = f">={goal:g}x" if goal else "-"
            res = verdict(ratio >= goal) if goal else ""
            print(f"{b:>6} {d:>12.0f} {t:>13.0f} {ratio:>9.2f}x {d * fpr / 1e9:>12.2f} "
                  f"{t * fpr / 1e9:>14.2f} {1e6 / d:>11.2f} {goal_s:>7}  {res}")
        peak = sgemm_peak(args.seconds)
        best = max(dim[b]["rows_per_s"] for b in batches) * fpr / 1e9
        print(f"peak: OpenBLAS sgemm 2048x2048 (torch.mm, {args.threads} thread(s)) {peak:.1f} GFLOP/s; "
              f"dim's best above is {100 * best / peak:.0f}% of it")
        print()

        if not args.skip_csv:
            width = 8
            # about 76 bytes a row with 8 cells of "%.6f"
            csv_rows = max(1, int(args.csv_mb * 1e6 / 76))
            csv_path = os.path.join(tmp, "read.csv")
            write_csv(csv_path, csv_rows, width, seed=1)
            subprocess.run(["cat", csv_path], stdout=subprocess.DEVNULL, check=True)  # page cache
            (_, r), = run_dim(args.dim_bench, ["--csv", csv_path])
            print(f"CSV read (CsvReader, 4096-row batches, {width} columns, {r['bytes'] / 1e6:.0f} MB, "
                  f"{int(r['rows'])} rows, file in page cache): {r['mb_per_s']:.1f} MB/s "
                  f"vs goal {CSV_GOAL_MB_S:g} MB/s = {r['mb_per_s'] / CSV_GOAL_MB_S:.2f}x  "
                  f"{verdict(r['mb_per_s'] >= CSV_GOAL_MB_S)}")
            os.remove(csv_path)

        if not args.skip_summarise:
            data_path = os.path.join(tmp, "heart.csv")
            write_csv(data_path, args.rows, 8, seed=2)
            subprocess.run(["cat", data_path], stdout=subprocess.DEVNULL, check=True)
            (_, r), = run_dim(args.dim_bench, ["--summarise", args.heart_model, data_path])
            size_mb = os.path.getsize(data_path) / 1e6
            print(f"node task (CsvReader -> Model::Run heart_mlp -> SummaryBuilder, {int(r['rows'])} rows, "
                  f"{size_mb:.0f} MB): {r['rows_per_s']:.0f} rows/s, {r['seconds']:.1f} s; "
                  f"peak RSS {r['peak_rss_mb']:.1f} MB vs goal {RSS_GOAL_MB:g} MB  "
                  f"{verdict(r['peak_rss_mb'] <= RSS_GOAL_MB)}")
            os.remove(data_path)


if __name__ == "__main__":
    main()
