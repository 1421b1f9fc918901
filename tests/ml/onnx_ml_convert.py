#!/usr/bin/python3
"""Converts fitted scikit-learn and XGBoost models to ONNX graphs in the ai.onnx.ml domain.

Debian ships no skl2onnx, so this module builds the graphs itself with onnx.helper. It uses
only the float attributes (nodes_values, class_weights, target_weights, base_values), never
the *_as_tensor variants, and imports the default domain at opset 15 and ai.onnx.ml at
version 3.

Graph conventions (dim's C++ engine and tests/ml/ort/parity.js rely on them):
  * one float input "input" of shape [N, F], N being the dim_param "N";
  * classifiers output "label" (INT64 [N]) then "probabilities" (FLOAT [N, C]); with
    zipmap=True a ZipMap node turns the probabilities into "output_probability"
    (seq(map(int64, float))), which becomes the second graph output, and "probabilities"
    stays reachable as a third graph output so that tools that cannot read sequences of maps
    (onnxruntime-node among them) can still fetch the scores by name;
  * regressors output "variable" (FLOAT [N, T]).

Thresholds: scikit-learn compares float32 features with float64 thresholds; ONNX Runtime
compares float32 with float32. Rounding a float64 threshold t *down* to the largest float32
that is <= t keeps `x <= t` exactly equivalent for every float32 x (rounding to nearest is
not enough: a midpoint between two float32 training values can round up onto one of them).
XGBoost already stores float32 split conditions and tests `x < split`, so its thresholds
are copied as they are with BRANCH_LT.

Usage: convert(fitted_estimator, n_features) -> onnx.ModelProto; see the convert_* functions
for what each library's arrays become.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import onnx
from onnx import TensorProto, helper

ML_DOMAIN = "ai.onnx.ml"
DEFAULT_OPSET = 15
ML_OPSET = 3
PRODUCER = "dim tests/ml/onnx_ml_convert.py"


# ---------------------------------------------------------------------------------------------
# A tree ensemble, independent of the library it came from.


@dataclasses.dataclass
class TreeNode:
    """One node of a tree. Leaves have mode "LEAF" and (target or class id, weight) pairs."""

    mode: str = "LEAF"
    feature: int = 0
    value: float = 0.0
    true_id: int = 0
    false_id: int = 0
    missing_tracks_true: bool = False
    weights: list = dataclasses.field(default_factory=list)


def float32_floor(value: float) -> float:
    """The largest float32 that is <= value (so `x <= value` ⇔ `x <= result` for float32 x)."""
    f = np.float32(value)
    if float(f) > value:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def f32(value: float) -> float:
    return float(np.float32(value))


def _tree_attributes(trees: list[list[TreeNode]], weight_prefix: str) -> dict:
    """The nodes_* and class_*/target_* attributes of TreeEnsembleClassifier/Regressor."""
    attrs = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
                             "nodes_values", "nodes_truenodeids", "nodes_falsenodeids",
                             "nodes_missing_value_tracks_true")}
    w_tree, w_node, w_id, w_weight = [], [], [], []
    for tree_id, tree in enumerate(trees):
        for node_id, node in enumerate(tree):
            leaf = node.mode == "LEAF"
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node_id)
            attrs["nodes_featureids"].append(0 if leaf else node.feature)
            attrs["nodes_modes"].append(node.mode)
            attrs["nodes_values"].append(0.0 if leaf else f32(node.value))
            attrs["nodes_truenodeids"].append(0 if leaf else node.true_id)
            attrs["nodes_falsenodeids"].append(0 if leaf else node.false_id)
            attrs["nodes_missing_value_tracks_true"].append(int(node.missing_tracks_true))
            for target, weight in node.weights:
                w_tree.append(tree_id)
                w_node.append(node_id)
                w_id.append(int(target))
                w_weight.append(f32(weight))
    attrs[f"{weight_prefix}_treeids"] = w_tree
    attrs[f"{weight_prefix}_nodeids"] = w_node
    attrs[f"{weight_prefix}_ids"] = w_id
    attrs[f"{weight_prefix}_weights"] = w_weight
    if not any(attrs["nodes_missing_value_tracks_true"]):
        del attrs["nodes_missing_value_tracks_true"]
    return attrs


# ---------------------------------------------------------------------------------------------
# Graph assembly.


def float_input(n_features: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", n_features])


def make_model(nodes, inputs, outputs, initializers=(), name="model", ml_opset=ML_OPSET,
               doc="") -> onnx.ModelProto:
    graph = helper.make_graph(list(nodes), name, list(inputs), list(outputs),
                              initializer=list(initializers))
    opsets = [helper.make_opsetid("", DEFAULT_OPSET)]
    if any(n.domain == ML_DOMAIN for n in nodes):
        opsets.append(helper.make_opsetid(ML_DOMAIN, ml_opset))
    model = helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER,
                              doc_string=doc)
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def classifier_outputs(n_classes: int, classlabels, zipmap: bool):
    """Output value infos for a classifier, plus the ZipMap node when asked for."""
    label = helper.make_tensor_value_info("label", TensorProto.INT64, ["N"])
    probs = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_classes])
    if not zipmap:
        return [], [label, probs]
    map_type = onnx.TypeProto()
    map_type.map_type.key_type = TensorProto.INT64
    map_type.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    zip_type = helper.make_sequence_type_proto(map_type)
    zip_out = helper.make_value_info("output_probability", zip_type)
    node = helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain=ML_DOMAIN,
                            classlabels_int64s=[int(c) for c in classlabels])
    return [node], [label, zip_out, probs]


def tree_ensemble_classifier(trees, n_features, classlabels, post_transform="NONE",
                             base_values=None, zipmap=False, name="tree_ensemble_classifier",
                             pre_nodes=(), initializers=()) -> onnx.ModelProto:
    attrs = _tree_attributes(trees, "class")
    attrs["classlabels_int64s"] = [int(c) for c in classlabels]
    attrs["post_transform"] = post_transform
    if base_values is not None:
        attrs["base_values"] = [f32(v) for v in base_values]
    source = pre_nodes[-1].output[0] if pre_nodes else "input"
    node = helper.make_node("TreeEnsembleClassifier", [source], ["label", "probabilities"],
                            domain=ML_DOMAIN, **attrs)
    zip_nodes, outputs = classifier_outputs(len(classlabels), classlabels, zipmap)
    return make_model([*pre_nodes, node, *zip_nodes], [float_input(n_features)], outputs,
                      initializers, name)


def tree_ensemble_regressor(trees, n_features, n_targets=1, aggregate_function="SUM",
                            post_transform="NONE", base_values=None,
                            name="tree_ensemble_regressor") -> onnx.ModelProto:
    attrs = _tree_attributes(trees, "target")
    attrs["n_targets"] = n_targets
    attrs["aggregate_function"] = aggregate_function
    attrs["post_transform"] = post_transform
    if base_values is not None:
        attrs["base_values"] = [f32(v) for v in base_values]
    node = helper.make_node("TreeEnsembleRegressor", ["input"], ["variable"], domain=ML_DOMAIN,
                            **attrs)
    out = helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", n_targets])
    return make_model([node], [float_input(n_features)], [out], name=name)


def scaler_node(mean, scale, source="input", output="scaled"):
    """Scaler computes (x - offset) * scale; StandardScaler divides by scale_, so invert it."""
    return helper.make_node("Scaler", [source], [output], domain=ML_DOMAIN,
                            offset=[f32(m) for m in mean],
                            scale=[f32(1.0 / s) for s in scale])


def linear_classifier(coef, intercept, classlabels, post_transform, n_features, zipmap=False,
                      pre_nodes=(), name="linear_classifier") -> onnx.ModelProto:
    """coef is [K, F] with K = 1 (binary: ORT adds the second column) or K = C."""
    coef = np.asarray(coef, dtype=np.float64)
    source = pre_nodes[-1].output[0] if pre_nodes else "input"
    node = helper.make_node("LinearClassifier", [source], ["label", "probabilities"],
                            domain=ML_DOMAIN,
                            coefficients=[f32(v) for v in coef.ravel()],
                            intercepts=[f32(v) for v in np.ravel(intercept)],
                            classlabels_ints=[int(c) for c in classlabels],
                            post_transform=post_transform)
    zip_nodes, outputs = classifier_outputs(len(classlabels), classlabels, zipmap)
    return make_model([*pre_nodes, node, *zip_nodes], [float_input(n_features)], outputs,
                      name=name)


def linear_regressor(coef, intercept, n_features, post_transform="NONE",
                     name="linear_regressor") -> onnx.ModelProto:
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    targets = coef.shape[0]
    node = helper.make_node("LinearRegressor", ["input"], ["variable"], domain=ML_DOMAIN,
                            coefficients=[f32(v) for v in coef.ravel()],
                            intercepts=[f32(v) for v in np.ravel(intercept)],
                            targets=targets, post_transform=post_transform)
    out = helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", targets])
    return make_model([node], [float_input(n_features)], [out], name=name)


# ---------------------------------------------------------------------------------------------
# scikit-learn trees.


def sklearn_tree(tree_, leaf_weights) -> list[TreeNode]:
    """tree_ is a fitted sklearn Tree; leaf_weights(node_index) gives a leaf's (id, weight)s."""
    nodes = []
    for i in range(tree_.node_count):
        left, right = int(tree_.children_left[i]), int(tree_.children_right[i])
        if left == -1:
            nodes.append(TreeNode(weights=leaf_weights(i)))
        else:
            nodes.append(TreeNode("BRANCH_LEQ", int(tree_.feature[i]),
                                  float32_floor(tree_.threshold[i]), left, right))
    return nodes


def _class_probabilities(tree_, scale):
    """A leaf's class probabilities. With two classes only p(class 1) is written, as the one
    weight column of class id 0: given two columns, ONNX Runtime's label would be "score of
    class 1 > 0" instead of the argmax, while one column makes it "s > 0.5" with
    probabilities [1-s, s]."""
    def weights(i):
        counts = tree_.value[i, 0]
        if len(counts) == 2:
            return [(0, scale * counts[1] / counts.sum())]
        return [(k, scale * c / counts.sum()) for k, c in enumerate(counts)]
    return weights


def _regression_value(tree_, scale, target=None):
    def weights(i):
        if target is None:
            return [(t, scale * v) for t, v in enumerate(tree_.value[i, :, 0])]
        return [(target, scale * tree_.value[i, 0, 0])]
    return weights


def convert_decision_tree_classifier(est, n_features, zipmap=False):
    tree = sklearn_tree(est.tree_, _class_probabilities(est.tree_, 1.0))
    return tree_ensemble_classifier([tree], n_features, est.classes_, zipmap=zipmap,
                                    name="decision_tree_classifier")


def convert_random_forest_classifier(est, n_features, zipmap=False):
    # TreeEnsembleClassifier always sums, so each tree's probabilities carry weight 1/n.
    n = len(est.estimators_)
    trees = [sklearn_tree(t.tree_, _class_probabilities(t.tree_, 1.0 / n))
             for t in est.estimators_]
    return tree_ensemble_classifier(trees, n_features, est.classes_, zipmap=zipmap,
                                    name="random_forest_classifier")


def convert_decision_tree_regressor(est, n_features):
    tree = sklearn_tree(est.tree_, _regression_value(est.tree_, 1.0))
    return tree_ensemble_regressor([tree], n_features, est.n_outputs_,
                                   name="decision_tree_regressor")


def convert_random_forest_regressor(est, n_features):
    trees = [sklearn_tree(t.tree_, _regression_value(t.tree_, 1.0)) for t in est.estimators_]
    return tree_ensemble_regressor(trees, n_features, est.n_outputs_, "AVERAGE",
                                   name="random_forest_regressor")


def _gb_init_raw(est, n_features):
    """The init estimator's raw prediction (log-odds, log-priors or the mean), one per column."""
    return est._raw_predict_init(np.zeros((1, n_features), dtype=np.float32))[0]


def convert_gradient_boosting_classifier(est, n_features, zipmap=False):
    """Binary: one score column (class id 0), LOGISTIC; ORT outputs [σ(-s), σ(s)].
    Multiclass: one tree per class and stage, SOFTMAX."""
    lr = est.learning_rate
    n_stages, n_columns = est.estimators_.shape
    trees = [sklearn_tree(est.estimators_[s, k].tree_,
                          _regression_value(est.estimators_[s, k].tree_, lr, target=k))
             for s in range(n_stages) for k in range(n_columns)]
    base = _gb_init_raw(est, n_features)
    post = "LOGISTIC" if n_columns == 1 else "SOFTMAX"
    return tree_ensemble_classifier(trees, n_features, est.classes_, post, base, zipmap,
                                    name="gradient_boosting_classifier")


def convert_gradient_boosting_regressor(est, n_features):
    lr = est.learning_rate
    trees = [sklearn_tree(e.tree_, _regression_value(e.tree_, lr, target=0))
             for e in est.estimators_[:, 0]]
    return tree_ensemble_regressor(trees, n_features, 1, "SUM", base_values=_gb_init_raw(
        est, n_features), name="gradient_boosting_regressor")


def hist_gradient_boosting_tree(nodes, target) -> list[TreeNode]:
    """A HistGradientBoosting predictor's node records: `x <= num_threshold` goes left, NaN goes
    left when missing_go_to_left. Leaf values already include the learning rate."""
    tree = []
    for rec in nodes:
        if rec["is_leaf"]:
            tree.append(TreeNode(weights=[(target, float(rec["value"]))]))
        else:
            if rec["is_categorical"]:
                raise ValueError("categorical HistGradientBoosting splits are not supported")
            tree.append(TreeNode("BRANCH_LEQ", int(rec["feature_idx"]),
                                 float32_floor(rec["num_threshold"]), int(rec["left"]),
                                 int(rec["right"]), bool(rec["missing_go_to_left"])))
    return tree


def _hist_trees(est):
    return [hist_gradient_boosting_tree(pred.nodes, k)
            for iteration in est._predictors for k, pred in enumerate(iteration)]


def convert_hist_gradient_boosting_classifier(est, n_features, zipmap=False):
    base = np.ravel(est._baseline_prediction)
    post = "LOGISTIC" if len(base) == 1 else "SOFTMAX"
    return tree_ensemble_classifier(_hist_trees(est), n_features, est.classes_, post, base,
                                    zipmap, name="hist_gradient_boosting_classifier")


def convert_hist_gradient_boosting_regressor(est, n_features):
    if est._loss.link.__class__.__name__ != "IdentityLink":
        raise ValueError("only losses with an identity link are supported")
    return tree_ensemble_regressor(_hist_trees(est), n_features, 1, "SUM",
                                   base_values=np.ravel(est._baseline_prediction),
                                   name="hist_gradient_boosting_regressor")


# ---------------------------------------------------------------------------------------------
# scikit-learn linear models.


def convert_logistic_regression(est, n_features, scaler=None, zipmap=False):
    """Binary: one coefficient row, LOGISTIC (ORT writes [1-σ(s), σ(s)], label s > 0).
    Multiclass: multinomial SOFTMAX (one-vs-rest would need a normalisation ORT lacks)."""
    binary = len(est.classes_) == 2
    if not binary and est.multi_class == "ovr":
        raise ValueError("one-vs-rest multiclass LogisticRegression is not supported")
    pre = [scaler_node(scaler.mean_, scaler.scale_)] if scaler is not None else []
    return linear_classifier(est.coef_, est.intercept_, est.classes_,
                             "LOGISTIC" if binary else "SOFTMAX", n_features, zipmap, pre,
                             name="logistic_regression")


def convert_linear_svc(est, n_features, scaler=None):
    """The scores are the decision function (post_transform NONE); label is their argmax."""
    pre = [scaler_node(scaler.mean_, scaler.scale_)] if scaler is not None else []
    return linear_classifier(est.coef_, est.intercept_, est.classes_, "NONE", n_features,
                             pre_nodes=pre, name="linear_svc")


def convert_linear_regression(est, n_features):
    return linear_regressor(est.coef_, est.intercept_, n_features, name="linear_regression")


# ---------------------------------------------------------------------------------------------
# XGBoost.


def xgboost_trees(booster):
    """Parses the booster's JSON model (float32 values printed exactly, unlike text dumps).
    Returns (trees, tree_info: the output column of each tree, base_score, objective)."""
    model = json.loads(booster.save_raw(raw_format="json"))
    learner = model["learner"]
    gbm = learner["gradient_booster"]
    if gbm.get("name", "gbtree") != "gbtree":
        raise ValueError("only gbtree boosters are supported")
    trees = []
    for t in gbm["model"]["trees"]:
        left, right = t["left_children"], t["right_children"]
        nodes = []
        for i in range(len(left)):
            if left[i] == -1:
                nodes.append(TreeNode(weights=[(0, t["split_conditions"][i])]))
            else:
                if t["split_type"] and t["split_type"][i] != 0:
                    raise ValueError("categorical XGBoost splits are not supported")
                nodes.append(TreeNode("BRANCH_LT", t["split_indices"][i],
                                      t["split_conditions"][i], left[i], right[i],
                                      bool(t["default_left"][i])))
        trees.append(nodes)
    base_score = float(learner["learner_model_param"]["base_score"])
    return trees, gbm["model"]["tree_info"], base_score, learner["objective"]["name"]


def _retarget(tree, column):
    for node in tree:
        node.weights = [(column, w) for _, w in node.weights]
    return tree


def convert_xgb_classifier(est, n_features, zipmap=False):
    """binary:logistic: one score column, base_values = logit(base_score) (XGBoost 1.7 keeps
    base_score as a probability), LOGISTIC. multi:softprob: base_score is added to every
    class's margin as it is, SOFTMAX."""
    trees, columns, base_score, objective = xgboost_trees(est.get_booster())
    trees = [_retarget(t, c) for t, c in zip(trees, columns)]
    n_classes = len(est.classes_)
    if objective == "binary:logistic":
        base, post = [math.log(base_score / (1.0 - base_score))], "LOGISTIC"
    elif objective in ("multi:softprob", "multi:softmax"):
        base, post = [base_score] * n_classes, "SOFTMAX"
    else:
        raise ValueError(f"unsupported XGBoost classifier objective {objective}")
    return tree_ensemble_classifier(trees, n_features, est.classes_, post, base, zipmap,
                                    name="xgb_classifier")


def convert_xgb_regressor(est, n_features):
    trees, columns, base_score, objective = xgboost_trees(est.get_booster())
    if objective not in ("reg:squarederror", "reg:linear"):
        raise ValueError(f"unsupported XGBoost regressor objective {objective}")
    return tree_ensemble_regressor(trees, n_features, 1, "SUM", base_values=[base_score],
                                   name="xgb_regressor")


# ---------------------------------------------------------------------------------------------


def convert(est, n_features, **kwargs) -> onnx.ModelProto:
    """Dispatches on the estimator's class name (a Pipeline of StandardScaler + linear model
    is accepted for LogisticRegression and LinearSVC)."""
    scaler = None
    if type(est).__name__ == "Pipeline":
        (_, scaler), (_, est) = est.steps
        if type(scaler).__name__ != "StandardScaler":
            raise ValueError("only StandardScaler may precede the model")
        kwargs["scaler"] = scaler
    converters = {
        "DecisionTreeClassifier": convert_decision_tree_classifier,
        "RandomForestClassifier": convert_random_forest_classifier,
        "GradientBoostingClassifier": convert_gradient_boosting_classifier,
        "HistGradientBoostingClassifier": convert_hist_gradient_boosting_classifier,
        "DecisionTreeRegressor": convert_decision_tree_regressor,
        "RandomForestRegressor": convert_random_forest_regressor,
        "GradientBoostingRegressor": convert_gradient_boosting_regressor,
        "HistGradientBoostingRegressor": convert_hist_gradient_boosting_regressor,
        "LogisticRegression": convert_logistic_regression,
        "LinearSVC": convert_linear_svc,
        "LinearRegression": convert_linear_regression,
        "XGBClassifier": convert_xgb_classifier,
        "XGBRegressor": convert_xgb_regressor,
    }
    name = type(est).__name__
    if name not in converters:
        raise ValueError(f"no converter for {name}")
    return converters[name](est, n_features, **kwargs)


def gradient_boosted_classifier(n_trees=300, depth=8, seed=0) -> onnx.ModelProto:
    """A benchmark-sized model: XGBoost binary:logistic with n_trees trees of the given depth,
    trained on make_classification (20 000 rows, 30 features) in a few seconds."""
    import xgboost
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=20000, n_features=30, n_informative=15,
                               n_redundant=5, random_state=seed)
    est = xgboost.XGBClassifier(n_estimators=n_trees, max_depth=depth, learning_rate=0.1,
                                tree_method="hist", n_jobs=1, random_state=seed)
    est.fit(X.astype(np.float32), y)
    return convert_xgb_classifier(est, X.shape[1])
