#!/usr/bin/python3
"""Builds the example ONNX models in examples/models/.

    /usr/bin/python3 examples/make_models.py [--out DIR] [--models NAME,...]

Needs python3-onnx and python3-numpy, and python3-torch for heart_risk and heart_mlp
(Debian packages). Deterministic: fixed seeds, single-threaded training on synthetic data
(see heart_features.py).

Models (input `features` [batch, 8] float32 with the raw CSV columns in the order of
heart_features.COLUMNS, output `output`):

  heart_risk    Linear(8, 1) + Sigmoid: probability of high cardiovascular risk, [batch, 1]
                (PyTorch).
  heart_mlp     8 -> 16 (Relu) -> 8 (Tanh) -> 3 + Softmax: low/medium/high risk, [batch, 3]
                (PyTorch).
  heart_mlp_v2  8 -> 3 + Softmax, a multinomial logistic regression of the same three
                classes, [batch, 3] (numpy).
  heart_mlp_v3  8 -> 6 (Tanh) -> 3 + Softmax, a smaller MLP of the same three classes,
                [batch, 3] (numpy).

and one model of the three class probabilities (input `probabilities` [batch, 3], the
output of the three above):

  heart_score   Gemm 3 -> 1 with fixed weights [0, 0.5, 1]: a risk score in [0, 1],
                0.5 P(medium) + P(high), [batch, 1]; the second step of the README's
                pipeline (no training).

The networks are trained on standardised features; afterwards the per-feature
standardisation (mean/std of the training sample) is folded into the weights and bias of
the first layer, so raw CSV values go straight into the exported models. The numpy models
are trained with full-batch Adam and written with onnx.helper, so they need no PyTorch.
"""

import argparse
import hashlib
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the numpy training, single-threaded too
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

try:  # only heart_risk and heart_mlp need PyTorch
    import torch
    from torch import nn
except ImportError:
    torch = nn = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heart_features  # noqa: E402

ALLOWED_OPS = {"Gemm", "MatMul", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Identity"}
OPSET = 13
TORCH_MODELS = ("heart_risk", "heart_mlp")
NUMPY_MODELS = ("heart_mlp_v2", "heart_mlp_v3", "heart_score")
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


def fold_standardisation(linear, mean: np.ndarray, std: np.ndarray):
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
    return finish(onnx.load(path), path, description, "features", heart_features.COLUMNS)


def finish(m, path, description, input_name, columns):
    """Checks the graph (operators, input and output names), records its description and
    input columns, and saves it to path; the graph's operators."""
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        raise SystemExit(f"{path}: exported graph uses operators outside {sorted(ALLOWED_OPS)}: {bad}")
    inputs = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    outputs = [o.name for o in m.graph.output]
    if inputs != [input_name] or outputs != ["output"]:
        raise SystemExit(f"{path}: unexpected graph inputs {inputs} / outputs {outputs}")
    m.doc_string = description
    del m.metadata_props[:]
    for key, value in (("columns", ",".join(columns)),):
        prop = m.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(m, path)
    return ops


# The numpy models: full-batch Adam on standardised features, float64, then float32 weights.

def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def adam(params, grads_of, steps, lr):
    """Minimises with Adam; grads_of(params) returns (loss, grads) in the order of params."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    loss = float("nan")
    for t in range(1, steps + 1):
        loss, grads = grads_of(params)
        for i, g in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            params[i] -= lr * (m[i] / (1 - b1 ** t)) / (np.sqrt(v[i] / (1 - b2 ** t)) + eps)
    return loss


def cross_entropy(probabilities, y):
    return float(-np.log(probabilities[np.arange(len(y)), y] + 1e-12).mean())


def fold_standardisation_np(w, b, mean, std):
    """The numpy fold: w is [in, out] (x @ w + b)."""
    w_raw = w / std[:, None]
    return w_raw, b - mean @ w_raw


def gemm(x, w, b, name):
    """A Gemm node x @ w + b with its two initializers."""
    inits = [numpy_helper.from_array(w.astype(np.float32), name + ".weight"),
             numpy_helper.from_array(b.astype(np.float32), name + ".bias")]
    return helper.make_node("Gemm", [x, name + ".weight", name + ".bias"], [name]), inits


def onnx_model(nodes, inits, name, input_name, width_in, width_out):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", width_in])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", width_out])],
        inits)
    model = helper.make_model(graph, producer_name="dim examples/make_models.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def accuracy(probabilities, y):
    return float((probabilities.argmax(axis=1) == y).mean())


def build_heart_mlp_v2(x, y_cls, mean, std):
    """Multinomial logistic regression 8 -> 3 + Softmax."""
    z = (x - mean) / std
    onehot = np.eye(3)[y_cls]
    rng = np.random.default_rng(SEED + 3)
    params = [rng.normal(0.0, 0.1, (8, 3)), np.zeros(3)]

    def grads_of(p):
        prob = softmax(z @ p[0] + p[1])
        d = (prob - onehot) / len(z)
        return cross_entropy(prob, y_cls), [z.T @ d, d.sum(axis=0)]

    loss = adam(params, grads_of, steps=500, lr=0.05)
    w, b = params
    acc = accuracy(softmax(z @ w + b), y_cls)
    w_raw, b_raw = fold_standardisation_np(w, b, mean, std)
    check_fold_np(softmax(z @ w + b), softmax(x @ w_raw + b_raw))
    node, inits = gemm("features", w_raw, b_raw, "linear")
    nodes = [node, helper.make_node("Softmax", ["linear"], ["output"], axis=1)]
    return onnx_model(nodes, inits, "heart_mlp_v2", "features", 8, 3), \
        f"loss {loss:.4f}, train accuracy {acc:.3f}"


def build_heart_mlp_v3(x, y_cls, mean, std):
    """MLP 8 -> 6 (Tanh) -> 3 + Softmax."""
    z = (x - mean) / std
    onehot = np.eye(3)[y_cls]
    rng = np.random.default_rng(SEED + 4)
    params = [rng.normal(0.0, 1.0 / np.sqrt(8), (8, 6)), np.zeros(6),
              rng.normal(0.0, 1.0 / np.sqrt(6), (6, 3)), np.zeros(3)]

    def grads_of(p):
        h = np.tanh(z @ p[0] + p[1])
        prob = softmax(h @ p[2] + p[3])
        d2 = (prob - onehot) / len(z)
        d1 = (d2 @ p[2].T) * (1.0 - h * h)
        return cross_entropy(prob, y_cls), [z.T @ d1, d1.sum(axis=0), h.T @ d2, d2.sum(axis=0)]

    loss = adam(params, grads_of, steps=400, lr=0.02)
    w1, b1, w2, b2 = params
    trained = softmax(np.tanh(z @ w1 + b1) @ w2 + b2)
    acc = accuracy(trained, y_cls)
    w1_raw, b1_raw = fold_standardisation_np(w1, b1, mean, std)
    check_fold_np(trained, softmax(np.tanh(x @ w1_raw + b1_raw) @ w2 + b2))
    first, inits1 = gemm("features", w1_raw, b1_raw, "hidden")
    second, inits2 = gemm("hidden_tanh", w2, b2, "logits")
    nodes = [first, helper.make_node("Tanh", ["hidden"], ["hidden_tanh"]), second,
             helper.make_node("Softmax", ["logits"], ["output"], axis=1)]
    return onnx_model(nodes, inits1 + inits2, "heart_mlp_v3", "features", 8, 3), \
        f"loss {loss:.4f}, train accuracy {acc:.3f}"


def build_heart_score():
    """Gemm 3 -> 1 with fixed weights: 0 P(low) + 0.5 P(medium) + 1 P(high)."""
    node, inits = gemm("probabilities", np.array([[0.0], [0.5], [1.0]]), np.zeros(1), "score")
    node.output[0] = "output"
    return onnx_model([node], inits, "heart_score", "probabilities", 3, 1), \
        "fixed weights [0, 0.5, 1]"


def check_fold_np(reference, raw):
    err = float(np.abs(raw - reference).max())
    if err > 1e-6:
        raise SystemExit(f"folding the standardisation changed the outputs (max abs diff {err})")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "models"), help="output folder (default examples/models)")
    ap.add_argument("--models", default=",".join(TORCH_MODELS + NUMPY_MODELS),
                    help="the models to make, comma-separated (default: all; "
                         f"{','.join(NUMPY_MODELS)} need no PyTorch)")
    args = ap.parse_args()
    wanted = [m for m in args.models.split(",") if m]
    unknown = sorted(set(wanted) - set(TORCH_MODELS + NUMPY_MODELS))
    if unknown:
        raise SystemExit(f"--models: unknown model {unknown[0]!r} "
                         f"(expected some of {', '.join(TORCH_MODELS + NUMPY_MODELS)})")
    if torch is None and set(wanted) & set(TORCH_MODELS):
        raise SystemExit(f"{', '.join(m for m in wanted if m in TORCH_MODELS)} need PyTorch "
                         "(apt-get install python3-torch); without it, "
                         f"--models {','.join(NUMPY_MODELS)} makes the others")
    os.makedirs(args.out, exist_ok=True)

    if torch is not None:
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
    x, y_bin, y_cls, mean, std = training_data()

    for name in wanted:
        path = os.path.join(args.out, name + ".onnx")
        if name == "heart_risk":
            model, info = build_heart_risk(x, y_bin, mean, std)
            ops = export(model, path, "Binary cardiovascular risk (logistic regression): "
                                      "P(high risk) from 8 raw clinical features")
        elif name == "heart_mlp":
            model, info = build_heart_mlp(x, y_cls, mean, std)
            ops = export(model, path, "Cardiovascular risk class (low/medium/high) from 8 raw "
                                      "clinical features; softmax output")
        elif name == "heart_mlp_v2":
            model, info = build_heart_mlp_v2(x, y_cls, mean, std)
            ops = finish(model, path, "Cardiovascular risk class (low/medium/high) from 8 raw "
                                      "clinical features, multinomial logistic regression; "
                                      "softmax output", "features", heart_features.COLUMNS)
        elif name == "heart_mlp_v3":
            model, info = build_heart_mlp_v3(x, y_cls, mean, std)
            ops = finish(model, path, "Cardiovascular risk class (low/medium/high) from 8 raw "
                                      "clinical features, small MLP; softmax output",
                         "features", heart_features.COLUMNS)
        else:
            model, info = build_heart_score()
            ops = finish(model, path, "Risk score in [0, 1] from the low/medium/high class "
                                      "probabilities: 0.5 P(medium) + P(high)", "probabilities",
                         ["p_" + c for c in heart_features.RISK_CLASSES])
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{name}: {info}; ops {ops}; sha256 {digest}")


if __name__ == "__main__":
    main()
