#!/usr/bin/python3
"""Independent reference for dim's end-to-end tests (uses no dim code).

It evaluates an ONNX model with a tiny float64 numpy interpreter (the graph's initializers
read with onnx.numpy_helper) and summarises the outputs the naive way: all rows of a node,
or of all nodes pooled, are concatenated and the statistics computed directly with numpy.
That is deliberately unlike dim's streaming, per-node-then-pooled code.

CLI:
    reference.py collaborative --model M.onnx --csv a.csv --csv b.csv \
        [--columns c1,c2] [--task classification|regression]
    reference.py outputs --model M.onnx --csv a.csv [--columns c1,c2]   # raw output rows
    reference.py self-check --model M.onnx --csv a.csv                   # float32 vs float64

`collaborative` prints one JSON document:
    {"model": ..., "task": ..., "output_width": k,
     "nodes": [{"node": "<csv stem>", "csv": path, <summary>}, ...],
     "pooled": <summary>}
with <summary> = {"rows": n, "mean": [k], "variance": [k] (population, ddof=0),
                  "std": [k], "min": [k], "max": [k], "class_counts": [...]}.
class_counts is present only when the output width is > 1 (argmax, ties to the lowest
index, length = width) or the task is "classification" (width 1: value >= 0.5 is class 1,
else class 0; length 2).

Module use: read_csv(), OnnxModel(path).run(x), summarise(y, task), collaborative(...),
comparative(model_paths, csv, method, weights, min_agreement) (the comparative vote).
Requires python3-numpy and python3-onnx.
"""

import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

SUPPORTED_OPS = ("Gemm", "MatMul", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Identity")


# ----------------------------------------------------------------------------- CSV

def read_csv(path, columns=None):
    """Returns (header, matrix float64 [rows, len(selected columns)])."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        rows = []
        for lineno, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                raise ValueError(f"{path}:{lineno}: {len(rec)} cells, header has {len(header)}")
            rows.append([float(c) for c in rec])
    data = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    if columns:
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; header is {header}")
        data = data[:, [header.index(c) for c in columns]]
        header = list(columns)
    return header, data


# ------------------------------------------------------------------ ONNX interpreter

def _attrs(node):
    out = {}
    for a in node.attribute:
        out[a.name] = onnx.helper.get_attribute_value(a)
    return out


def _softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


class OnnxModel:
    """A float64 numpy evaluator for the small set of operators the examples use."""

    def __init__(self, path, dtype=np.float64):
        self.path = path
        self.dtype = dtype
        self.model = onnx.load(path)
        g = self.model.graph
        self.opset = 13
        for imp in self.model.opset_import:
            if imp.domain in ("", "ai.onnx"):
                self.opset = imp.version
        self.initializers = {t.name: numpy_helper.to_array(t).astype(dtype) for t in g.initializer}
        self.inputs = [i.name for i in g.input if i.name not in self.initializers]
        self.outputs = [o.name for o in g.output]
        if len(self.inputs) != 1:
            raise ValueError(f"{path}: expected one graph input, got {self.inputs}")
        for n in g.node:
            if n.domain not in ("", "ai.onnx") or n.op_type not in SUPPORTED_OPS:
                raise ValueError(f"{path}: node '{n.name}' uses unsupported operator {n.op_type}")
        self.nodes = list(g.node)
        shape = g.input[[i.name for i in g.input].index(self.inputs[0])].type.tensor_type.shape
        dims = [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]
        self.input_width = dims[1] if len(dims) == 2 else None

    def op_types(self):
        return [n.op_type for n in self.nodes]

    def run(self, x):
        """x: [rows, features]; returns the first graph output as a 2-D array."""
        x = np.asarray(x, dtype=self.dtype)
        if self.input_width is not None and x.shape[1] != self.input_width:
            raise ValueError(f"{self.path}: model takes {self.input_width} features, data has {x.shape[1]}")
        env = dict(self.initializers)
        env[self.inputs[0]] = x
        for n in self.nodes:
            a = _attrs(n)
            ins = [env[i] if i else None for i in n.input]
            op = n.op_type
            if op == "Gemm":
                A, B = ins[0], ins[1]
                C = ins[2] if len(ins) > 2 else None
                if a.get("transA", 0):
                    A = A.T
                if a.get("transB", 0):
                    B = B.T
                y = a.get("alpha", 1.0) * (A @ B)
                if C is not None:
                    y = y + a.get("beta", 1.0) * C
            elif op == "MatMul":
                y = ins[0] @ ins[1]
            elif op == "Add":
                y = ins[0] + ins[1]
            elif op == "Relu":
                y = np.maximum(ins[0], 0)
            elif op == "Sigmoid":
                y = 1.0 / (1.0 + np.exp(-ins[0]))
            elif op == "Tanh":
                y = np.tanh(ins[0])
            elif op == "Softmax":
                if self.opset >= 13:
                    y = _softmax(ins[0], a.get("axis", -1))
                else:  # opset < 13: coerce to 2-D at axis (default 1), softmax over the tail
                    t = ins[0]
                    axis = a.get("axis", 1) % t.ndim
                    lead = int(np.prod(t.shape[:axis]))
                    y = _softmax(t.reshape(lead, -1), 1).reshape(t.shape)
            elif op == "Flatten":
                t = ins[0]
                axis = a.get("axis", 1) % (t.ndim + 1) if t.ndim else 0
                y = t.reshape(int(np.prod(t.shape[:axis])), -1)
            elif op == "Identity":
                y = ins[0]
            else:  # pragma: no cover - rejected in __init__
                raise ValueError(f"unsupported operator {op}")
            env[n.output[0]] = np.asarray(y, dtype=self.dtype)
        out = env[self.outputs[0]]
        if out.ndim == 1:
            out = out[:, None]
        return out.reshape(out.shape[0], -1)


# --------------------------------------------------------------------- summaries

def _floats(a):
    return [float(v) for v in a]


def class_counts(y, task=None):
    """Class counts, or None when the output is not a classifier's."""
    width = y.shape[1]
    if width > 1:
        cls = np.argmax(y, axis=1)  # numpy argmax: ties go to the lowest index
        return [int(c) for c in np.bincount(cls, minlength=width)]
    if task == "classification":
        ones = int(np.count_nonzero(y[:, 0] >= 0.5))
        return [int(y.shape[0] - ones), ones]
    return None


def summarise(y, task=None):
    y = np.asarray(y, dtype=np.float64)
    rows = int(y.shape[0])
    out = {"rows": rows}
    if rows == 0:
        width = y.shape[1]
        out.update(mean=[0.0] * width, variance=[0.0] * width, std=[0.0] * width, min=[None] * width,
                   max=[None] * width)
    else:
        mean = y.mean(axis=0)
        var = y.var(axis=0, ddof=0)
        out.update(mean=_floats(mean), variance=_floats(var), std=_floats(np.sqrt(var)),
                   min=_floats(y.min(axis=0)), max=_floats(y.max(axis=0)))
    cc = class_counts(y, task)
    if cc is not None:
        out["class_counts"] = cc
    return out


def node_name(csv_path):
    return os.path.splitext(os.path.basename(csv_path))[0]


def collaborative(model_path, csv_paths, columns=None, task=None):
    model = OnnxModel(model_path)
    outputs = []
    nodes = []
    for p in csv_paths:
        _, x = read_csv(p, columns)
        y = model.run(x)
        outputs.append(y)
        nodes.append({"node": node_name(p), "csv": p, **summarise(y, task)})
    pooled = np.concatenate(outputs, axis=0)  # the naive way: all rows together
    return {
        "model": model_path,
        "task": task,
        "output_width": int(pooled.shape[1]),
        "nodes": nodes,
        "pooled": summarise(pooled, task),
    }


# ---------------------------------------------------------------------- comparative

def model_classes(y):
    """Per row: argmax (ties to the lowest index); one output: 1 when >= 0.5, else 0."""
    if y.shape[1] == 1:
        return (y[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(y, axis=1)


def comparative(model_paths, csv_path, method="majority_vote", weights=None,
                min_agreement=1.0, columns=None):
    """The comparative vote over all rows at once (numpy, float64), as SPEC.md section 2 and
    dim's result describe it. Returns a dict with the result's keys, plus "margin": the
    smallest gap between a row's two largest outputs over the models (and their mean for
    average), so a caller can tell that float32 rounding cannot change a class."""
    _, x = read_csv(csv_path, columns)
    outputs = [OnnxModel(p).run(x) for p in model_paths]
    n = len(outputs)
    width = outputs[0].shape[1]
    classes = 2 if width == 1 else width
    chosen = np.stack([model_classes(y) for y in outputs], axis=1)  # rows x models
    votes = np.stack([(chosen == k).sum(axis=1) for k in range(classes)], axis=1)
    majority = np.argmax(votes, axis=1)
    has_consensus = np.ones(len(x), dtype=bool)
    if method in ("majority_vote", "expert_review"):
        voted = majority
    elif method == "weighted_vote":
        w = np.asarray(weights, dtype=np.float64)
        sums = np.stack([((chosen == k) * w).sum(axis=1) for k in range(classes)], axis=1)
        voted = np.argmax(sums, axis=1)
    elif method == "average":
        voted = model_classes(sum(outputs) / n)
    elif method == "unanimous":
        voted = majority
        has_consensus = votes[np.arange(len(x)), majority] == n
    else:
        raise ValueError(f"unknown method {method}")
    agree = chosen == voted[:, None]
    pairwise = [[float((chosen[:, i] == chosen[:, j]).mean()) if len(x) else 0.0
                 for j in range(n)] for i in range(n)]
    out = {
        "rows": int(len(x)),
        "classes": int(classes),
        "class_counts": [int(c) for c in np.bincount(voted[has_consensus], minlength=classes)],
        "no_consensus": int((~has_consensus).sum()),
        "agreement_level": float(agree.mean()) if len(x) else 0.0,
        "model_agreement": [float(a) for a in agree.mean(axis=0)],
        "model_class_counts": [[int(c) for c in np.bincount(chosen[:, m], minlength=classes)]
                               for m in range(n)],
        "pairwise_agreement": pairwise,
        "review_count": int((~has_consensus).sum()),
    }
    if method == "expert_review":
        flagged = np.nonzero(agree.sum(axis=1) / n < min_agreement)[0]
        out["review_count"] = int(len(flagged))
        out["review_rows"] = [int(r) for r in flagged[:1000]]
        out["review_rows_truncated"] = bool(len(flagged) > 1000)

    def gap(y):
        if y.shape[1] == 1:
            return float(np.min(np.abs(y[:, 0] - 0.5)))
        top = np.sort(y, axis=1)
        return float(np.min(top[:, -1] - top[:, -2]))
    margins = [gap(y) for y in outputs]
    if method == "average":
        margins.append(gap(sum(outputs) / n))
    out["margin"] = min(margins)
    return out


# ----------------------------------------------------------------------------- CLI

def _columns(arg):
    return [c.strip() for c in arg.split(",") if c.strip()] if arg else None


def _json_default(o):
    raise TypeError(f"not JSON serialisable: {o!r}")


def _dump(doc):
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v
    json.dump(clean(doc), sys.stdout, indent=2, default=_json_default)
    sys.stdout.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Independent numpy reference for dim's e2e tests.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("collaborative", help="per-node and pooled output summaries (JSON)")
    c.add_argument("--model", required=True)
    c.add_argument("--csv", action="append", required=True, help="one per node, repeatable")
    c.add_argument("--columns", help="comma-separated feature columns (default: all)")
    c.add_argument("--task", choices=["classification", "regression"])

    o = sub.add_parser("outputs", help="the model's output rows for one CSV (JSON list of lists)")
    o.add_argument("--model", required=True)
    o.add_argument("--csv", required=True)
    o.add_argument("--columns")

    s = sub.add_parser("self-check", help="float64 evaluation vs a float32 evaluation of the same graph")
    s.add_argument("--model", required=True)
    s.add_argument("--csv", action="append", required=True)
    s.add_argument("--columns")

    args = ap.parse_args(argv)
    try:
        if args.cmd == "collaborative":
            _dump(collaborative(args.model, args.csv, _columns(args.columns), args.task))
        elif args.cmd == "outputs":
            _, x = read_csv(args.csv, _columns(args.columns))
            _dump([_floats(r) for r in OnnxModel(args.model).run(x)])
        else:
            m64, m32 = OnnxModel(args.model), OnnxModel(args.model, np.float32)
            worst = 0.0
            for p in args.csv:
                _, x = read_csv(p, _columns(args.columns))
                y64 = m64.run(x)
                y32 = m32.run(x.astype(np.float32)).astype(np.float64)
                worst = max(worst, float(np.max(np.abs(y64 - y32) / np.maximum(np.abs(y64), 1e-6))))
            print(json.dumps({"ops": m64.op_types(), "max_rel_diff_f32_vs_f64": worst}))
            return 0 if worst < 1e-4 else 1
    except (OSError, ValueError) as e:
        print(f"reference.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
