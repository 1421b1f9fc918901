#!/usr/bin/python3
"""Exports small PyTorch models to ONNX with reference inputs and outputs for dim's parity test.

Run with Debian's Python (apt-get install python3-torch python3-onnx):

    /usr/bin/python3 tests/parity/make_parity_models.py

Writes tests/parity/models/NAME.onnx and NAME.json ({"input": [[...]], "output": [[...]]},
the output being torch's float32 result for the input). Everything is seeded, so a rerun with
the same torch version reproduces the same files.
"""

import json
import pathlib

import onnx
import torch
from torch import nn

MODELS_DIR = pathlib.Path(__file__).resolve().parent / "models"
REFERENCE_ROWS = 33
DEFAULT_OPSET = 13


class LogisticRegression(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.linear = nn.Linear(features, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def mlp(features, hidden, outputs, activation):
    return nn.Sequential(
        nn.Linear(features, hidden),
        activation,
        nn.Linear(hidden, hidden),
        activation,
        nn.Linear(hidden, outputs),
    )


class BatchNormNet(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.norm = nn.BatchNorm1d(features)
        self.hidden = nn.Linear(features, 12)
        self.hidden_norm = nn.BatchNorm1d(12)
        self.out = nn.Linear(12, 3)
        # Non-trivial scale and shift, so every term of BatchNormalization is exercised.
        with torch.no_grad():
            for norm in (self.norm, self.hidden_norm):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.normal_(0.0, 0.3)

    def forward(self, x):
        x = self.norm(x)
        x = torch.relu(self.hidden_norm(self.hidden(x)))
        return self.out(x)


class TwoBranchNet(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.left = nn.Sequential(nn.Linear(features, 6), nn.Tanh())
        self.right = nn.Sequential(nn.Linear(features, 5), nn.ReLU())
        self.head = nn.Linear(11, 2)

    def forward(self, x):
        return self.head(torch.cat([self.left(x), self.right(x)], dim=1))


class ClipNet(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.hidden = nn.Linear(features, 10)
        self.out = nn.Linear(10, 4)

    def forward(self, x):
        x = torch.clamp(self.hidden(x), min=-0.5, max=0.75)
        return torch.clamp(self.out(x), min=-0.2, max=0.3)


class LogSoftmaxClassifier(nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.body = mlp(features, 16, classes, nn.ReLU())

    def forward(self, x):
        return torch.log_softmax(self.body(x), dim=1)


class SoftmaxClassifier(nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.body = mlp(features, 12, classes, nn.Tanh())

    def forward(self, x):
        return torch.softmax(self.body(x), dim=1)


def warm_up_batch_norm(model, features, seed):
    """A few training-mode passes so the running statistics are far from 0 and 1."""
    generator = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(20):
            batch = torch.randn(64, features, generator=generator) * 2.5 + 1.5
            model(batch)


# (name, features, builder, opset); builder(features) returns the module.
SPECS = [
    ("logistic_regression", 8, lambda f: LogisticRegression(f), DEFAULT_OPSET),
    ("mlp_relu", 10, lambda f: mlp(f, 16, 3, nn.ReLU()), DEFAULT_OPSET),
    ("mlp_leaky_relu", 6, lambda f: mlp(f, 12, 2, nn.LeakyReLU(0.07)), DEFAULT_OPSET),
    ("mlp_tanh", 12, lambda f: mlp(f, 16, 4, nn.Tanh()), DEFAULT_OPSET),
    ("mlp_sigmoid", 4, lambda f: mlp(f, 8, 2, nn.Sigmoid()), DEFAULT_OPSET),
    ("batch_norm", 7, lambda f: BatchNormNet(f), DEFAULT_OPSET),
    ("two_branch_concat", 9, lambda f: TwoBranchNet(f), DEFAULT_OPSET),
    ("clip", 5, lambda f: ClipNet(f), DEFAULT_OPSET),
    ("log_softmax_classifier", 16, lambda f: LogSoftmaxClassifier(f, 5), DEFAULT_OPSET),
    ("softmax_classifier_opset11", 8, lambda f: SoftmaxClassifier(f, 3), 11),
]


def export(index, name, features, builder, opset):
    seed = 1000 + index
    torch.manual_seed(seed)
    model = builder(features)
    if name == "batch_norm":
        warm_up_batch_norm(model, features, seed)
    model.eval()

    generator = torch.Generator().manual_seed(seed + 1)
    reference_input = torch.randn(REFERENCE_ROWS, features, generator=generator)
    with torch.no_grad():
        reference_output = model(reference_input)

    onnx_path = MODELS_DIR / f"{name}.onnx"
    torch.onnx.export(
        model,
        reference_input,
        str(onnx_path),
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=["features"],
        output_names=["output"],
        dynamic_axes={"features": {0: "batch"}, "output": {0: "batch"}},
    )
    onnx.checker.check_model(onnx.load(str(onnx_path)))

    reference = {
        "input": reference_input.double().tolist(),
        "output": reference_output.double().tolist(),
    }
    # float32 values widened to double are exact; repr keeps every digit.
    (MODELS_DIR / f"{name}.json").write_text(json.dumps(reference) + "\n")

    op_types = [node.op_type for node in onnx.load(str(onnx_path)).graph.node]
    print(f"{name} (opset {opset}, {features} -> {reference_output.shape[1]}): {op_types}")


def main():
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    for index, (name, features, builder, opset) in enumerate(SPECS):
        export(index, name, features, builder, opset)


if __name__ == "__main__":
    main()
