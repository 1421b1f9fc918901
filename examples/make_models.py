#!/usr/bin/python3
"""Builds the example ONNX models in examples/models/.

    /usr/bin/python3 examples/make_models.py [--out DIR]

Needs python3-torch and python3-onnx (Debian packages). Deterministic: fixed seeds,
single-threaded training on synthetic data (see heart_features.py).

Models (input `features` [batch, 8] float32 with the raw CSV columns in the order of
heart_features.COLUMNS, output `output`):

  heart_risk  Linear(8, 1) + Sigmoid: probability of high cardiovascular risk, [batch, 1].
  heart_mlp   8 -> 16 (Relu) -> 8 (Tanh) -> 3 + Softmax: low/medium/high risk, [batch, 3].

The networks are trained on standardised features; afterwards the per-feature
standardisation (mean/std of the training sample) is folded into the weights and bias of
the first Linear layer, so raw CSV values go straight into the exported models.
"""

import argparse
import hashlib
import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heart_features  # noqa: E402

ALLOWED_OPS = {"Gemm", "MatMul", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Identity"}
OPSET = 13
TRAIN_ROWS = 4000
SEED = 20240611


def training_data():
    rng = np.random.default_rng(SEED)
    x = heart_features.sample(rng, TRAIN_ROWS, "general")
    logit = heart_features.risk_logit(x)
    # Binary label: Bernoulli(sigmoid(true risk)).
    y_bin = (rng.random(TRAIN_ROWS) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
    # Three classes: noisy risk score cut at its 50% and 85% quantiles.
    score = logit + rng.logistic(0.0, 0.4, TRAIN_ROWS)
    t1, t2 = np.quantile(score, [0.50, 0.85])
    y_cls = np.where(score < t1, 0, np.where(score < t2, 1, 2)).astype(np.int64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return x, y_bin, y_cls, mean, std


def train(head, z, y, loss_fn, steps, lr):
    """Full-batch Adam on standardised features. `head` is the part trained (logits)."""
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(head(z), y)
        loss.backward()
        opt.step()
    return float(loss.detach())


def fold_standardisation(linear: nn.Linear, mean: np.ndarray, std: np.ndarray):
    """W z + b with z = (x - mean) / std  ==  (W / std) x + (b - (W / std) mean)."""
    with torch.no_grad():
        w = linear.weight.double()
        b = linear.bias.double()
        m = torch.from_numpy(mean)
        s = torch.from_numpy(std)
        w_raw = w / s[None, :]
        b_raw = b - w_raw @ m
        linear.weight.copy_(w_raw.float())
        linear.bias.copy_(b_raw.float())


def build_heart_risk(x, y_bin, mean, std):
    torch.manual_seed(SEED + 1)
    linear = nn.Linear(8, 1)
    z = torch.from_numpy(((x - mean) / std).astype(np.float32))
    loss = train(linear, z, torch.from_numpy(y_bin)[:, None], nn.BCEWithLogitsLoss(), steps=400, lr=0.05)
    with torch.no_grad():
        acc = float(((linear(z) > 0).float().squeeze(1) == torch.from_numpy(y_bin)).float().mean())
    model = nn.Sequential(linear, nn.Sigmoid())
    reference = model(z).detach()
    fold_standardisation(linear, mean, std)
    model.eval()
    check_fold(model, x, reference)
    return model, f"loss {loss:.4f}, train accuracy {acc:.3f}"


def build_heart_mlp(x, y_cls, mean, std):
    torch.manual_seed(SEED + 2)
    logits = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))
    z = torch.from_numpy(((x - mean) / std).astype(np.float32))
    loss = train(logits, z, torch.from_numpy(y_cls), nn.CrossEntropyLoss(), steps=600, lr=0.01)
    with torch.no_grad():
        acc = float((logits(z).argmax(dim=1) == torch.from_numpy(y_cls)).float().mean())
    model = nn.Sequential(*logits, nn.Softmax(dim=1))
    reference = model(z).detach()
    fold_standardisation(model[0], mean, std)
    model.eval()
    check_fold(model, x, reference)
    return model, f"loss {loss:.4f}, train accuracy {acc:.3f}"


def check_fold(model, x, reference):
    with torch.no_grad():
        raw = model(torch.from_numpy(x.astype(np.float32)))
    err = float((raw - reference).abs().max())
    if err > 1e-3:
        raise SystemExit(f"folding the standardisation changed the outputs (max abs diff {err})")


def export(model, path, description):
    model.eval()
    dummy = torch.zeros(2, 8, dtype=torch.float32)
    torch.onnx.export(
        model,
        dummy,
        path,
        export_params=True,
        opset_version=OPSET,
        do_constant_folding=True,
        input_names=["features"],
        output_names=["output"],
        dynamic_axes={"features": {0: "batch"}, "output": {0: "batch"}},
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        raise SystemExit(f"{path}: exported graph uses operators outside {sorted(ALLOWED_OPS)}: {bad}")
    inputs = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    outputs = [o.name for o in m.graph.output]
    if inputs != ["features"] or outputs != ["output"]:
        raise SystemExit(f"{path}: unexpected graph inputs {inputs} / outputs {outputs}")
    m.doc_string = description
    del m.metadata_props[:]
    for key, value in (("columns", ",".join(heart_features.COLUMNS)),):
        prop = m.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(m, path)
    return ops


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "models"), help="output folder (default examples/models)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x, y_bin, y_cls, mean, std = training_data()

    builds = [
        ("heart_risk", build_heart_risk(x, y_bin, mean, std),
         "Binary cardiovascular risk (logistic regression): P(high risk) from 8 raw clinical features"),
        ("heart_mlp", build_heart_mlp(x, y_cls, mean, std),
         "Cardiovascular risk class (low/medium/high) from 8 raw clinical features; softmax output"),
    ]
    for name, (model, info), description in builds:
        path = os.path.join(args.out, name + ".onnx")
        ops = export(model, path, description)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{name}: {info}; ops {ops}; sha256 {digest}")


if __name__ == "__main__":
    main()
