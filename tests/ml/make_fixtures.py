#!/usr/bin/python3
"""Writes the ONNX-ML parity fixtures: tests/ml/fixtures/NAME.onnx and NAME.json.

Run with Debian's Python (python3-sklearn, python3-xgboost, python3-onnx, python3-scipy):

    /usr/bin/python3 tests/ml/make_fixtures.py

Everything is seeded and single-threaded, so a rerun with the same library versions writes
byte-identical files. Each NAME.json is

    {"model": "NAME.onnx", "source": "...", "input": [[...], ...],
     "outputs": {"label": [...], "probabilities": [[...], ...]} or {"variable": [[...], ...]},
     "tolerance": 1e-5}

with float32 inputs written as the shortest decimal that reads back as the same float32 (NaN
as null). Library fixtures expect the library's own predictions (predict, predict_proba,
decision_function); operator fixtures expect the numpy reference below, which follows ONNX
Runtime's CPU kernels (checked with onnxruntime-node 1.31.1 by tests/ml/ort/run_parity.sh).

ONNX Runtime behaviour the reference reproduces (and dim must too):
  * Tree nodes: BRANCH_LEQ x <= v, BRANCH_LT x < v, BRANCH_GTE x >= v, BRANCH_GT x > v,
    BRANCH_EQ x == v, BRANCH_NEQ x != v, all in float32. A NaN feature takes the true branch
    where nodes_missing_value_tracks_true is 1; otherwise the comparison decides, so NaN goes
    to the false branch for every mode but BRANCH_NEQ (NaN != v is true).
  * Scores are float32 sums over trees in order. A class/target that no reached leaf names
    "has no score": the regressor then writes base_value (+0); MIN/MAX look only at the
    leaves that name the target; AVERAGE divides by the number of trees.
  * Classifier with more than two classes: base_values are added to every class; the label is
    the first class with the largest score among the classes that have a score (or all, when
    base_values are given), taken before the post_transform.
  * Binary classifier with ONE weight column (every class_ids entry is 0, two classlabels,
    at most one base value): s = sum + base_values[0]; if every class weight is >= 0 the label
    is classlabels[1] when s > 0.5, otherwise when s > 0 (ties go to classlabels[0]); the
    probabilities are [1-s, s] (all weights >= 0) or [-s, s] (mixed signs) for NONE, SOFTMAX
    and SOFTMAX_ZERO alike, and [σ(-s), σ(s)] for LOGISTIC. (Two weight columns for two
    classes make ORT's label "score of class 1 > 0", which is not argmax, so the converters use
    one column for binary models.)
  * Regressor with one target: only PROBIT is applied; LOGISTIC/SOFTMAX/SOFTMAX_ZERO leave the
    single score as it is (no fixture relies on that).
  * LOGISTIC: v = 1/(1+exp(-|x|)), 1-v for x < 0. SOFTMAX subtracts the max. SOFTMAX_ZERO
    leaves scores with |x| <= 1e-7 at 0 and normalises the others. PROBIT is
    1.41421356f * ErfInv(2p-1) with ORT's Winitzki approximation of erfinv (a = 0.147, pi as
    float(M_PI)), all in float32, not the exact inverse: up to ~2e-3 off
    sqrt(2)*scipy.special.erfinv(2p-1); see erfinv_ort() below.
  * LinearClassifier with one coefficient row and two labels: label classlabels[1] iff the
    raw score s > 0; probabilities [1-σ(s), σ(s)] for LOGISTIC and [1-s, s] otherwise.
  * Normalizer MAX divides by the row's maximum (not its largest magnitude), L1 by Σ|x|, L2 by
    sqrt(Σx²); a row whose norm is 0 is copied as it is. Binarizer: x > threshold → 1, else 0
    (ORT rejects NaN inputs, so the fixture has none).
"""

from __future__ import annotations

import json
import math
import pathlib
import sys

import numpy as np
import onnx
import scipy.special
import sklearn
import xgboost
from onnx import TensorProto, helper, numpy_helper
from sklearn import datasets
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import onnx_ml_convert as convert  # noqa: E402
from onnx_ml_convert import ML_DOMAIN, TreeNode  # noqa: E402

FIXTURES_DIR = pathlib.Path(__file__).resolve().parent / "fixtures"
MAX_TEST_ROWS = 200
TOLERANCE = 1e-5
# A label is only checked where the two best scores are further apart than this: closer than
# that, float32 sums in another order may pick the other class. Such rows are left out.
TIE_MARGIN = 1e-5
SKLEARN = f"sklearn {sklearn.__version__}"
XGBOOST = f"xgboost {xgboost.__version__}"

F32 = np.float32


# ---------------------------------------------------------------------------------------------
# JSON output: written by hand so that float32 values keep their shortest exact spelling.


def _number(value) -> str:
    v = F32(value)
    if np.isnan(v):
        return "null"
    if np.isinf(v):
        raise ValueError("infinite values cannot be written to JSON")
    text = str(v)  # numpy prints the shortest string that reads back as the same float32
    if F32(float(text)) != v:  # parsing as a double first must not change the float32
        text = repr(float(v))
    return text


def _encode(obj, indent=0) -> str:
    pad = "  " * indent
    if isinstance(obj, dict):
        items = [f'{pad}  "{k}": {_encode(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, str):
        return pad + '"' + obj.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(obj, list) and obj and isinstance(obj[0], list):
        rows = [pad + "  [" + ", ".join(_scalar(x) for x in row) + "]" for row in obj]
        return pad + "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    if isinstance(obj, list):
        return pad + "[" + ", ".join(_scalar(x) for x in obj) + "]"
    return pad + _scalar(obj, exact=True)


def _scalar(x, exact=False) -> str:
    """Integers as they are; floats as float32 (exact=True: as the double they are)."""
    if isinstance(x, (bool, np.bool_)):
        raise TypeError("booleans are not expected in fixtures")
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return repr(float(x)) if exact else _number(x)


def write_fixture(name, model, X, outputs, source, tolerance=TOLERANCE, note=None):
    X = np.asarray(X, dtype=F32)
    doc = {"model": f"{name}.onnx", "source": source, "input": X.tolist()}
    expected = {}
    for key, value in outputs.items():
        value = np.asarray(value)
        if key == "label":
            expected[key] = [int(v) for v in value]
        else:
            value = value.reshape(len(X), -1).astype(np.float64)
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name}: non-finite expected {key}")
            expected[key] = value.tolist()
    doc["outputs"] = expected
    doc["tolerance"] = tolerance
    if note:
        doc["note"] = note
    onnx.checker.check_model(model)
    (FIXTURES_DIR / f"{name}.onnx").write_bytes(model.SerializeToString())
    (FIXTURES_DIR / f"{name}.json").write_text(_encode(doc) + "\n")
    print(f"{name}: {len(X)} rows, {(FIXTURES_DIR / f'{name}.onnx').stat().st_size} bytes of ONNX")


# ---------------------------------------------------------------------------------------------
# Data.


def split(loader, seed=0, nan_fraction=0.0):
    """float32 features, a fixed train/test split, at most MAX_TEST_ROWS test rows; with
    nan_fraction > 0, that share of the values (train and test) becomes NaN."""
    X, y = loader(return_X_y=True)
    X = X.astype(F32)
    if nan_fraction:
        rng = np.random.default_rng(seed + 1)
        X = X.copy()
        X[rng.random(X.shape) < nan_fraction] = np.nan
    test_size = min(MAX_TEST_ROWS, int(round(0.35 * len(X))))
    return train_test_split(X, y, test_size=test_size, random_state=seed,
                            stratify=y if loader is not datasets.load_diabetes else None)


def clear_margin(scores, binary_threshold=None):
    """Rows whose label is not a near tie (see TIE_MARGIN)."""
    scores = np.asarray(scores, dtype=np.float64)
    if binary_threshold is not None:
        return np.abs(scores - binary_threshold) > TIE_MARGIN
    top = np.sort(scores, axis=1)
    return (top[:, -1] - top[:, -2]) > TIE_MARGIN


def classifier_fixture(name, est, X_train, y_train, X_test, source, margin_scores=None,
                       binary_threshold=None, zipmap=False, use_decision=False):
    est.fit(X_train, y_train)
    model = convert.convert(est, X_test.shape[1], **({"zipmap": True} if zipmap else {}))
    scores = est.decision_function(X_test) if use_decision else est.predict_proba(X_test)
    margin = margin_scores(est, X_test) if margin_scores else scores
    keep = clear_margin(margin, binary_threshold)
    note = None
    if not keep.all():
        note = (f"{int((~keep).sum())} near-tie test rows left out (two best scores within "
                f"{TIE_MARGIN}: the float32 label could go either way)")
    X_test = X_test[keep]
    outputs = {"label": est.predict(X_test),
               "probabilities": (est.decision_function(X_test) if use_decision
                                 else est.predict_proba(X_test))}
    write_fixture(name, model, X_test, outputs, source, note=note)


def regressor_fixture(name, est, X_train, y_train, X_test, source):
    est.fit(X_train, y_train)
    model = convert.convert(est, X_test.shape[1])
    write_fixture(name, model, X_test, {"variable": est.predict(X_test)}, source)


def library_fixtures():
    bc = split(datasets.load_breast_cancer)
    bc_nan = split(datasets.load_breast_cancer, nan_fraction=0.05)
    iris = split(datasets.load_iris)
    iris_nan = split(datasets.load_iris, nan_fraction=0.05)
    wine = split(datasets.load_wine)
    db = split(datasets.load_diabetes)
    db_nan = split(datasets.load_diabetes, nan_fraction=0.05)

    def p1(est, X):  # the single score column of a binary model with weights >= 0
        return est.predict_proba(X)[:, 1]

    def decision(est, X):  # the raw score s of a binary model with mixed-sign weights
        return est.decision_function(X) if hasattr(est, "decision_function") else \
            est.predict(X, output_margin=True)

    def fit_on(data):
        X_train, X_test, y_train, _ = data
        return X_train, y_train, X_test

    classifier_fixture(
        "decision_tree_classifier", DecisionTreeClassifier(max_depth=6, random_state=0),
        *fit_on(wine), f"{SKLEARN} DecisionTreeClassifier(max_depth=6) on wine")
    classifier_fixture(
        "random_forest_classifier",
        RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0, n_jobs=1),
        *fit_on(bc), f"{SKLEARN} RandomForestClassifier(n_estimators=20, max_depth=6) on "
        "breast_cancer; one weight column (p of class 1, 1/20 per tree), ZipMap",
        margin_scores=p1, binary_threshold=0.5, zipmap=True)
    classifier_fixture(
        "gradient_boosting_classifier",
        GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0),
        *fit_on(bc), f"{SKLEARN} GradientBoostingClassifier(n_estimators=50, max_depth=3) on "
        "breast_cancer; one column, base_values = prior log-odds, LOGISTIC",
        margin_scores=decision, binary_threshold=0.0)
    classifier_fixture(
        "gradient_boosting_multiclass",
        GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0),
        *fit_on(iris), f"{SKLEARN} GradientBoostingClassifier(n_estimators=30, max_depth=3) on "
        "iris; base_values = log priors, SOFTMAX")
    classifier_fixture(
        "hist_gradient_boosting_classifier",
        HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0),
        *fit_on(bc_nan), f"{SKLEARN} HistGradientBoostingClassifier(max_iter=40, "
        "max_leaf_nodes=15) on breast_cancer with 5% NaN; missing_go_to_left → "
        "nodes_missing_value_tracks_true, LOGISTIC", margin_scores=decision,
        binary_threshold=0.0)
    classifier_fixture(
        "logistic_regression_scaled",
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        *fit_on(bc), f"{SKLEARN} StandardScaler + LogisticRegression on breast_cancer; Scaler "
        "then LinearClassifier (one coefficient row, LOGISTIC)",
        margin_scores=decision, binary_threshold=0.0)
    classifier_fixture(
        "logistic_regression_multiclass", LogisticRegression(max_iter=1000),
        *fit_on(iris), f"{SKLEARN} LogisticRegression (multinomial) on iris; LinearClassifier "
        "SOFTMAX, ZipMap", zipmap=True)
    classifier_fixture(
        "linear_svc",
        make_pipeline(StandardScaler(), LinearSVC(C=0.1, max_iter=20000, random_state=0)),
        *fit_on(wine), f"{SKLEARN} StandardScaler + LinearSVC(C=0.1) on wine; "
        "LinearClassifier NONE, probabilities = decision_function", use_decision=True)
    classifier_fixture(
        "xgb_classifier",
        xgboost.XGBClassifier(n_estimators=30, max_depth=4, n_jobs=1, random_state=0),
        *fit_on(bc_nan), f"{XGBOOST} XGBClassifier(n_estimators=30, max_depth=4) on "
        "breast_cancer with 5% NaN; BRANCH_LT, base_values = logit(base_score), LOGISTIC",
        margin_scores=decision, binary_threshold=0.0)
    classifier_fixture(
        "xgb_multiclass",
        xgboost.XGBClassifier(n_estimators=15, max_depth=3, n_jobs=1, random_state=0),
        *fit_on(iris_nan), f"{XGBOOST} XGBClassifier(n_estimators=15, max_depth=3) on iris "
        "with 5% NaN; BRANCH_LT, base_values = base_score per class, SOFTMAX")

    regressor_fixture(
        "decision_tree_regressor", DecisionTreeRegressor(max_depth=6, random_state=0),
        *fit_on(db), f"{SKLEARN} DecisionTreeRegressor(max_depth=6) on diabetes")
    regressor_fixture(
        "random_forest_regressor",
        RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0, n_jobs=1),
        *fit_on(db), f"{SKLEARN} RandomForestRegressor(n_estimators=20, max_depth=6) on "
        "diabetes; AVERAGE")
    regressor_fixture(
        "gradient_boosting_regressor",
        GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=0),
        *fit_on(db), f"{SKLEARN} GradientBoostingRegressor(n_estimators=50, max_depth=3) on "
        "diabetes; base_values = mean")
    regressor_fixture(
        "hist_gradient_boosting_regressor",
        HistGradientBoostingRegressor(max_iter=40, max_leaf_nodes=15, random_state=0),
        *fit_on(db_nan), f"{SKLEARN} HistGradientBoostingRegressor(max_iter=40, "
        "max_leaf_nodes=15) on diabetes with 5% NaN")
    regressor_fixture(
        "linear_regression", LinearRegression(), *fit_on(db),
        f"{SKLEARN} LinearRegression on diabetes; LinearRegressor")
    regressor_fixture(
        "xgb_regressor",
        xgboost.XGBRegressor(n_estimators=30, max_depth=4, n_jobs=1, random_state=0),
        *fit_on(db_nan), f"{XGBOOST} XGBRegressor(n_estimators=30, max_depth=4) on diabetes "
        "with 5% NaN; BRANCH_LT, base_values = base_score")


# ---------------------------------------------------------------------------------------------
# The numpy reference for the operator fixtures (ONNX Runtime's semantics, see the top).


def logistic(x):
    x = F32(x)
    v = F32(1) / (F32(1) + np.exp(-np.abs(x), dtype=F32))
    return F32(1) - v if x < 0 else v


def erfinv_ort(x):
    """ORT's ErfInv (ml_common.h): Winitzki's approximation with a = 0.147, in float32, with
    2 / (float(M_PI) * 0.147f) (older ORT releases used 3.14159f, which differs by ~3e-5 near
    p = 0.5, where v3 = -v + sqrt(v*v - v2) cancels)."""
    x = F32(x)
    sgn = F32(-1) if x < 0 else F32(1)
    x = (F32(1) - x) * (F32(1) + x)
    log = np.log(x, dtype=F32)
    v = F32(2) / (F32(math.pi) * F32(0.147)) + F32(0.5) * log
    v2 = F32(1) / F32(0.147) * log
    v3 = -v + np.sqrt(v * v - v2, dtype=F32)
    return sgn * np.sqrt(v3, dtype=F32)


def probit(p):
    return F32(1.41421356) * erfinv_ort(F32(2) * F32(p) - F32(1))


def post_transform(scores, post):
    s = np.asarray(scores, dtype=F32)
    if post == "NONE":
        return s
    if post == "LOGISTIC":
        return np.array([logistic(v) for v in s], dtype=F32)
    if post == "PROBIT":
        return np.array([probit(v) for v in s], dtype=F32)
    if post == "SOFTMAX":
        e = np.exp(s - s.max(), dtype=F32)
        return e / F32(e.sum(dtype=F32))
    if post == "SOFTMAX_ZERO":
        keep = np.abs(s) > F32(1e-7)
        e = np.where(keep, np.exp(s - s.max(), dtype=F32), F32(0)).astype(F32)
        return e / F32(e.sum(dtype=F32))
    raise ValueError(post)


_COMPARE = {
    "BRANCH_LEQ": lambda x, v: x <= v, "BRANCH_LT": lambda x, v: x < v,
    "BRANCH_GTE": lambda x, v: x >= v, "BRANCH_GT": lambda x, v: x > v,
    "BRANCH_EQ": lambda x, v: x == v, "BRANCH_NEQ": lambda x, v: x != v,
}


def reached_leaf(tree, x):
    node = tree[0]
    while node.mode != "LEAF":
        value = x[node.feature]
        go_true = ((node.missing_tracks_true and np.isnan(value))
                   or bool(_COMPARE[node.mode](value, F32(node.value))))
        node = tree[node.true_id if go_true else node.false_id]
    return node


def tree_scores(trees, x, n_columns, aggregate="SUM"):
    """float32 per-column scores and which columns some reached leaf named."""
    score = np.zeros(n_columns, dtype=F32)
    has = np.zeros(n_columns, dtype=bool)
    for tree in trees:
        for column, weight in reached_leaf(tree, x).weights:
            w = F32(weight)
            if aggregate in ("SUM", "AVERAGE"):
                score[column] = score[column] + w
            elif aggregate == "MIN":
                score[column] = w if not has[column] else min(score[column], w)
            elif aggregate == "MAX":
                score[column] = w if not has[column] else max(score[column], w)
            has[column] = True
    return score, has


def reference_regressor(trees, X, n_targets, aggregate, post, base_values=None):
    base = np.zeros(n_targets, F32) if base_values is None else np.asarray(base_values, F32)
    out = []
    for x in np.asarray(X, F32):
        score, has = tree_scores(trees, x, n_targets, aggregate)
        value = np.where(has, score, F32(0)).astype(F32)
        if aggregate == "AVERAGE":
            value = value / F32(len(trees))
        value = base + value
        out.append(post_transform(value, post) if n_targets > 1 or post == "PROBIT" else value)
    return np.array(out, dtype=F32)


def reference_classifier(trees, X, classlabels, post, base_values=None):
    n_classes = len(classlabels)
    columns = {c for t in trees for n in t for c, _ in n.weights}
    positive = all(w >= 0 for t in trees for n in t for _, w in n.weights)
    binary = n_classes == 2
    if binary and (columns != {0} or (base_values is not None and len(base_values) != 1)):
        raise ValueError("the reference only knows ORT's one-column binary case")
    labels, probs = [], []
    for x in np.asarray(X, F32):
        score, has = tree_scores(trees, x, n_classes)
        if binary:
            s = score[0] + (F32(base_values[0]) if base_values is not None else F32(0))
            wins = s > F32(0.5) if positive else s > F32(0)
            labels.append(classlabels[1] if wins else classlabels[0])
            if post == "LOGISTIC":
                probs.append([logistic(-s), logistic(s)])
            elif post in ("NONE", "SOFTMAX", "SOFTMAX_ZERO"):
                probs.append([F32(1) - s if positive else -s, s])
            else:
                raise ValueError(f"{post} on one binary column writes one value only")
            continue
        if base_values is not None:
            score = score + np.asarray(base_values, F32)
            has[:] = True
        best = -1
        for k in range(n_classes):  # the first largest score among those that have one
            if has[k] and (best < 0 or score[k] > score[best]):
                best = k
        labels.append(classlabels[best])
        probs.append(post_transform(score, post))
    return np.array(labels, dtype=np.int64), np.array(probs, dtype=F32)


def random_tree(rng, depth, n_features, thresholds, modes, leaf, tracks_true=0.3):
    """A full binary tree of the given depth, nodes numbered depth-first (true child next)."""
    nodes = []

    def grow(level):
        index = len(nodes)
        nodes.append(None)
        if level == depth:
            nodes[index] = TreeNode(weights=leaf(rng))
            return index
        mode = modes[rng.integers(len(modes))]
        node = TreeNode(mode, int(rng.integers(n_features)),
                        float(thresholds[rng.integers(len(thresholds))]),
                        missing_tracks_true=bool(rng.random() < tracks_true))
        nodes[index] = node
        node.true_id = grow(level + 1)
        node.false_id = grow(level + 1)
        return index

    grow(0)
    return nodes


def discrete_input(rng, rows, features, nan_fraction=0.1):
    """Values from a small grid that the random thresholds also use, so that equality tests
    and boundary cases of every comparison happen, plus NaNs."""
    grid = np.array([-2, -1, -0.5, 0, 0.25, 0.5, 1, 1.5, 3], dtype=F32)
    X = grid[rng.integers(len(grid), size=(rows, features))]
    X[rng.random(X.shape) < nan_fraction] = np.nan
    return X


THRESHOLDS = [-1, -0.5, 0, 0.25, 0.5, 1, 1.5]
ALL_MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
REFERENCE = "numpy reference (ORT semantics) in tests/ml/make_fixtures.py"


def tree_fixtures():
    rng = np.random.default_rng(1234)
    features, rows = 5, 120
    X = discrete_input(rng, rows, features)

    def weights_for(n_columns, low=-1.0, high=1.0, skip=0.0):
        def leaf(r):
            out = []
            for c in range(n_columns):
                if r.random() >= skip:
                    out.append((c, round(float(r.uniform(low, high)), 3)))
            return out or [(0, 0.125)]
        return leaf

    # Every node mode, NaN tracks both ways, two targets, SUM with base values.
    trees = [random_tree(rng, 4, features, THRESHOLDS, ALL_MODES, weights_for(2))
             for _ in range(6)]
    used = {n.mode for t in trees for n in t}
    assert used == set(ALL_MODES) | {"LEAF"}, used
    base = [0.5, -0.25]
    model = convert.tree_ensemble_regressor(trees, features, 2, "SUM", "NONE", base,
                                            name="tree_node_modes")
    write_fixture("tree_node_modes", model, X,
                  {"variable": reference_regressor(trees, X, 2, "SUM", "NONE", base)},
                  f"{REFERENCE}: 6 depth-4 trees using all six branch modes and LEAF, "
                  "missing tracks true on ~30% of nodes, NaN inputs, 2 targets, SUM, base_values")

    # Aggregates: three targets, some leaves naming only some targets.
    trees = [random_tree(rng, 3, features, THRESHOLDS, ALL_MODES, weights_for(3, skip=0.3))
             for _ in range(5)]
    base = [0.1, 0.0, -0.2]
    for aggregate in ("SUM", "AVERAGE", "MIN", "MAX"):
        name = f"tree_aggregate_{aggregate.lower()}"
        model = convert.tree_ensemble_regressor(trees, features, 3, aggregate, "NONE", base,
                                                name=name)
        write_fixture(name, model, X,
                      {"variable": reference_regressor(trees, X, 3, aggregate, "NONE", base)},
                      f"{REFERENCE}: TreeEnsembleRegressor aggregate_function={aggregate}, 3 "
                      "targets, leaves that name only some targets, base_values")

    # Regressor post transforms with several targets, and PROBIT with one.
    for post in ("LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"):
        name = f"tree_regressor_{post.lower()}"
        model = convert.tree_ensemble_regressor(trees, features, 3, "SUM", post, None,
                                                name=name)
        write_fixture(name, model, X,
                      {"variable": reference_regressor(trees, X, 3, "SUM", post)},
                      f"{REFERENCE}: TreeEnsembleRegressor SUM, 3 targets (some without a "
                      f"score, which stay 0 before the transform), post_transform={post}")
    probit_trees = [random_tree(rng, 3, features, THRESHOLDS, ALL_MODES,
                                weights_for(1, 0.05, 0.95)) for _ in range(4)]
    model = convert.tree_ensemble_regressor(probit_trees, features, 1, "AVERAGE", "PROBIT",
                                            name="tree_regressor_probit")
    write_fixture("tree_regressor_probit", model, X,
                  {"variable": reference_regressor(probit_trees, X, 1, "AVERAGE", "PROBIT")},
                  f"{REFERENCE}: TreeEnsembleRegressor AVERAGE of values in (0.05, 0.95), one "
                  "target, post_transform=PROBIT (ORT's approximate erfinv)")

    # Classifiers with four classes: class_ids/class_weights, every post transform.
    labels = [10, 20, 30, 40]
    cls_trees = [random_tree(rng, 3, features, THRESHOLDS, ALL_MODES,
                             weights_for(4, -1.0, 1.0, skip=0.4)) for _ in range(5)]
    for post, base in (("NONE", None), ("SOFTMAX", [0.25, -0.5, 0.0, 0.125]),
                       ("LOGISTIC", [0.25, -0.5, 0.0, 0.125]), ("SOFTMAX_ZERO", None),
                       ("PROBIT", None)):
        name = f"tree_classifier_{post.lower()}"
        trees = cls_trees
        if post == "PROBIT":  # every class needs a score in (0, 1): small positive weights everywhere
            trees = [random_tree(rng, 3, features, THRESHOLDS, ALL_MODES,
                                 weights_for(4, 0.01, 0.19)) for _ in range(5)]
        model = convert.tree_ensemble_classifier(trees, features, labels, post, base, name=name)
        lab, prob = reference_classifier(trees, X, labels, post, base)
        write_fixture(name, model, X, {"label": lab, "probabilities": prob},
                      f"{REFERENCE}: TreeEnsembleClassifier, 4 classes (labels 10..40), "
                      + ("small positive weights for every class (scores in (0, 1))"
                         if post == "PROBIT" else "leaves weighting some classes only")
                      + f", post_transform={post}"
                      + (", base_values" if base else ", no base_values (label among the "
                         "classes that have a score)"))

    # Ties: the first class (by class index, not by the order the leaf names them) wins.
    tie_tree = [TreeNode("BRANCH_LEQ", 0, 0.0, 1, 2),
                TreeNode(weights=[(2, 0.75), (1, 0.25), (0, 0.75)]),        # 0 and 2 tie
                TreeNode("BRANCH_LEQ", 1, 0.0, 3, 4),
                TreeNode(weights=[(2, 0.5), (1, 0.5)]),                     # 1 and 2 tie
                TreeNode(weights=[(0, -0.25), (1, -0.25), (2, -0.25)])]     # all tie
    model = convert.tree_ensemble_classifier([tie_tree], features, labels[:3], "NONE",
                                             name="tree_classifier_ties")
    lab, prob = reference_classifier([tie_tree], X, labels[:3], "NONE")
    write_fixture("tree_classifier_ties", model, X, {"label": lab, "probabilities": prob},
                  f"{REFERENCE}: TreeEnsembleClassifier, 3 classes, leaves whose best scores "
                  "tie (named in reverse order): the label is the lowest class index among them")

    # Binary, one weight column: weights >= 0 (NONE) and mixed signs (LOGISTIC).
    pos_trees = [random_tree(rng, 3, features, THRESHOLDS, ALL_MODES,
                             weights_for(1, 0.0, 0.25)) for _ in range(4)]
    model = convert.tree_ensemble_classifier(pos_trees, features, [0, 1], "NONE", [0.0625],
                                             name="tree_binary_single_column")
    lab, prob = reference_classifier(pos_trees, X, [0, 1], "NONE", [0.0625])
    write_fixture("tree_binary_single_column", model, X, {"label": lab, "probabilities": prob},
                  f"{REFERENCE}: TreeEnsembleClassifier, classlabels [0, 1], one weight column "
                  "(class id 0), weights >= 0, base_values [0.0625], NONE: probabilities "
                  "[1-s, s], label 1 iff s > 0.5")
    mixed_trees = [random_tree(rng, 3, features, THRESHOLDS, ALL_MODES, weights_for(1))
                   for _ in range(4)]
    model = convert.tree_ensemble_classifier(mixed_trees, features, [3, 7], "LOGISTIC", [-0.25],
                                             name="tree_binary_logistic")
    lab, prob = reference_classifier(mixed_trees, X, [3, 7], "LOGISTIC", [-0.25])
    write_fixture("tree_binary_logistic", model, X, {"label": lab, "probabilities": prob},
                  f"{REFERENCE}: TreeEnsembleClassifier, classlabels [3, 7], one weight column, "
                  "mixed-sign weights, base_values [-0.25], LOGISTIC: probabilities "
                  "[σ(-s), σ(s)], label 7 iff s > 0")


# ---------------------------------------------------------------------------------------------
# Other ai.onnx.ml operators and the default-domain operators around them.


def output(name, width, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, ["N", width])


def single_node_model(op, n_in, n_out, inputs=("input",), initializers=(), name=None, **attrs):
    node = helper.make_node(op, list(inputs), ["variable"], domain=ML_DOMAIN, **attrs)
    return convert.make_model([node], [convert.float_input(n_in)], [output("variable", n_out)],
                              initializers, name or op)


def reference_normalize(X, norm):
    out = []
    for row in np.asarray(X, F32):
        if norm == "MAX":
            d = row.max()
        elif norm == "L1":
            d = np.abs(row).sum(dtype=F32)
        else:
            d = np.sqrt((row * row).sum(dtype=F32), dtype=F32)
        out.append(row / d if d != 0 else row)
    return np.array(out, dtype=F32)


def ml_operator_fixtures():
    rng = np.random.default_rng(99)
    X = rng.normal(0, 2, size=(40, 6)).astype(F32)
    X[0] = 0                                       # zero norm: copied
    X[1] = [-1, 0, -2, -0.5, -3, 0]                # MAX is 0: copied
    X[2] = [-1, -2, -0.5, -3, -4, -1.5]            # MAX is negative: signs flip
    X[3] = [1, 2, 3, 4, 5, 6]
    for norm in ("MAX", "L1", "L2"):
        name = f"normalizer_{norm.lower()}"
        write_fixture(name, single_node_model("Normalizer", 6, 6, norm=norm, name=name), X,
                      {"variable": reference_normalize(X, norm)},
                      f"{REFERENCE}: Normalizer norm={norm}, with a zero row (copied), a row "
                      "whose maximum is 0 and one whose maximum is negative")

    Xn = X.copy()
    Xn[rng.random(Xn.shape) < 0.2] = np.nan
    Xn[4] = np.nan
    fill = [0.5, -1.0, 2.0, 0.0, 3.25, -0.125]
    write_fixture("imputer", single_node_model("Imputer", 6, 6, imputed_value_floats=fill,
                                               replaced_value_float=float("nan")),
                  Xn, {"variable": np.where(np.isnan(Xn), np.asarray(fill, F32), Xn)},
                  f"{REFERENCE}: Imputer imputed_value_floats (one per feature), "
                  "replaced_value_float=NaN")

    Xb = np.round(X * 2) / 2  # halves, so that some values equal the threshold
    write_fixture("binarizer", single_node_model("Binarizer", 6, 6, threshold=0.5),
                  Xb, {"variable": (Xb > F32(0.5)).astype(F32)},
                  f"{REFERENCE}: Binarizer threshold=0.5 (x > threshold → 1), values equal "
                  "to the threshold included")

    indices = np.array([3, 0, 5, 3], dtype=np.int64)
    write_fixture("array_feature_extractor",
                  single_node_model("ArrayFeatureExtractor", 6, 4, ("input", "indices"),
                                    [numpy_helper.from_array(indices, "indices")]),
                  X, {"variable": X[:, indices]},
                  f"{REFERENCE}: ArrayFeatureExtractor with a constant int64 indices "
                  "initializer [3, 0, 5, 3] (repeats, out of order)")

    coef = np.round(rng.normal(0, 1, size=(3, 6)), 3).astype(F32)
    intercept = np.array([0.5, -1.0, 0.25], dtype=F32)
    model = convert.linear_regressor(coef, intercept, 6, name="linear_regressor_multi_target")
    write_fixture("linear_regressor_multi_target", model, X,
                  {"variable": X @ coef.T + intercept},
                  f"{REFERENCE}: LinearRegressor targets=3 (coefficients row-major [3, 6])")


def default_ops_fixture():
    """Elementwise maths, reductions, shape ops, Gather and Where, concatenated to [N, 52]."""
    rng = np.random.default_rng(7)
    X = np.round(rng.uniform(-2, 2, size=(50, 6)), 2).astype(F32)
    X[rng.random(X.shape) < 0.1] = 1.0  # exact hits for Equal(x, 1)
    X[rng.random(X.shape) < 0.05] = 0.0

    def const(name, value, dtype=F32):
        return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)

    inits = [const("one", 1.0), const("two", 2.0), const("half", 0.5), const("minus_half", -0.5),
             const("zero", 0.0), const("axes1", [1], np.int64),
             const("gather_idx", [5, 0, 2], np.int64), const("gather_rows", [0, 2], np.int64)]
    n = helper.make_node
    nodes = [
        n("Abs", ["input"], ["abs"]),
        n("Neg", ["input"], ["neg"]),
        n("Exp", ["neg"], ["exp"]),
        n("Add", ["abs", "one"], ["abs1"]),
        n("Log", ["abs1"], ["log"]),
        n("Sqrt", ["abs"], ["sqrt"]),
        n("Pow", ["input", "two"], ["pow"]),
        n("Erf", ["input"], ["erf"]),
        n("ReduceSum", ["input", "axes1"], ["rsum"], keepdims=1),
        n("ReduceMean", ["input"], ["rmean"], axes=[1], keepdims=1),
        n("ReduceMax", ["exp"], ["rmax"], axes=[1], keepdims=1),
        n("ReduceMin", ["log"], ["rmin"], axes=[1], keepdims=1),
        n("Squeeze", ["rsum", "axes1"], ["squeezed"]),
        n("Unsqueeze", ["squeezed", "axes1"], ["unsqueezed"]),
        n("Gather", ["input", "gather_idx"], ["gathered"], axis=1),
        n("Transpose", ["input"], ["transposed"], perm=[1, 0]),
        n("Gather", ["transposed", "gather_rows"], ["rows"], axis=0),
        n("Transpose", ["rows"], ["cols"], perm=[1, 0]),
        n("Greater", ["input", "half"], ["gt"]),
        n("Where", ["gt", "input", "neg"], ["where_gt"]),
        n("Less", ["input", "minus_half"], ["lt"]),
        n("Where", ["lt", "exp", "sqrt"], ["where_lt"]),
        n("Equal", ["input", "one"], ["eq"]),
        n("Where", ["eq", "zero", "input"], ["where_eq"]),
        n("Concat", ["exp", "log", "pow", "erf", "rsum", "rmean", "rmax", "rmin", "unsqueezed",
                     "gathered", "cols", "where_gt", "where_lt", "where_eq"], ["variable"],
          axis=1),
    ]
    width = 6 * 4 + 5 + 3 + 2 + 6 * 3
    model = convert.make_model(nodes, [convert.float_input(6)], [output("variable", width)],
                               inits, "default_ops")

    x = X
    ab, ng = np.abs(x), -x
    ex = np.exp(ng, dtype=F32)
    lg = np.log(ab + F32(1), dtype=F32)
    sq = np.sqrt(ab, dtype=F32)
    rsum = x.sum(axis=1, keepdims=True, dtype=F32)
    expected = np.concatenate([
        ex, lg, x * x, scipy.special.erf(x.astype(np.float64)).astype(F32),
        rsum, x.mean(axis=1, keepdims=True, dtype=F32), ex.max(axis=1, keepdims=True),
        lg.min(axis=1, keepdims=True), rsum, x[:, [5, 0, 2]], x[:, [0, 2]],
        np.where(x > F32(0.5), x, ng), np.where(x < F32(-0.5), ex, sq),
        np.where(x == F32(1), F32(0), x)], axis=1).astype(F32)
    assert expected.shape[1] == width
    write_fixture("default_ops", model, X, {"variable": expected},
                  f"{REFERENCE}: Abs Neg Exp Add Log Sqrt Pow Erf, ReduceSum (axes input) "
                  "ReduceMean/ReduceMax/ReduceMin (axes attribute) with keepdims=1, "
                  "Squeeze/Unsqueeze (axes input), Gather on axis 1 and on axis 0, Transpose, "
                  "Where on Greater/Less/Equal (one with a scalar branch), Concat → [N, 52]")


def dataset_csv():
    """breast_cancer.csv: the random forest fixture's rows as a dataset (a header of the
    features' names, then one row each), for the README's local-mode example."""
    from sklearn.datasets import load_breast_cancer
    names = [n.replace(" ", "_") for n in load_breast_cancer().feature_names]
    rows = json.loads((FIXTURES_DIR / "random_forest_classifier.json").read_text())["input"]
    with open(FIXTURES_DIR / "breast_cancer.csv", "w") as f:
        f.write(",".join(names) + "\n")
        for row in rows:
            f.write(",".join(_number(v) for v in row) + "\n")


def main():
    FIXTURES_DIR.mkdir(exist_ok=True)
    for old in (list(FIXTURES_DIR.glob("*.onnx")) + list(FIXTURES_DIR.glob("*.json")) +
                list(FIXTURES_DIR.glob("*.csv"))):
        old.unlink()
    library_fixtures()
    dataset_csv()
    tree_fixtures()
    ml_operator_fixtures()
    default_ops_fixture()


if __name__ == "__main__":
    main()
