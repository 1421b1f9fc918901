// TreeEnsembleClassifier and TreeEnsembleRegressor (ai.onnx.ml opsets 1-3): every node
// mode, missing-value tracks, base values, per-class leaf weights, every post_transform and
// the regressor's SUM, AVERAGE, MIN and MAX. Scores and their transforms follow ONNX
// Runtime's reading of the specification wherever the specification is vague (two classes
// with one score column, base values, labels), since it is the reference for parity.
//
// The attributes are read and checked into a Forest, which is then laid out for walking
// (Layout: 16-byte nodes, siblings side by side, branch-free steps). A batch is walked tree
// by tree, every row through one tree before the next, so that a tree's nodes stay in
// cache, eight rows at a time so that their loads overlap.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/ml_common.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

enum class Mode : uint8_t { kLeq, kLt, kGte, kGt, kEq, kNeq, kLeaf };
enum class Aggregate : uint8_t { kSum, kAverage, kMin, kMax };

Result<Mode> ParseMode(const std::string& s) {
  if (s == "BRANCH_LEQ") return Mode::kLeq;
  if (s == "BRANCH_LT") return Mode::kLt;
  if (s == "BRANCH_GTE") return Mode::kGte;
  if (s == "BRANCH_GT") return Mode::kGt;
  if (s == "BRANCH_EQ") return Mode::kEq;
  if (s == "BRANCH_NEQ") return Mode::kNeq;
  if (s == "LEAF") return Mode::kLeaf;
  return Status::InvalidArgument("attribute 'nodes_modes' holds '" + s +
                                 "'; BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, "
                                 "BRANCH_NEQ and LEAF are supported");
}

template <Mode M>
bool Goes(float x, float threshold) {
  if constexpr (M == Mode::kLeq) return x <= threshold;
  if constexpr (M == Mode::kLt) return x < threshold;
  if constexpr (M == Mode::kGte) return x >= threshold;
  if constexpr (M == Mode::kGt) return x > threshold;
  if constexpr (M == Mode::kEq) return x == threshold;
  if constexpr (M == Mode::kNeq) return x != threshold;
  return false;
}

bool GoesAny(Mode mode, float x, float threshold) {
  switch (mode) {
    case Mode::kLeq:
      return x <= threshold;
    case Mode::kLt:
      return x < threshold;
    case Mode::kGte:
      return x >= threshold;
    case Mode::kGt:
      return x > threshold;
    case Mode::kEq:
      return x == threshold;
    case Mode::kNeq:
      return x != threshold;
    case Mode::kLeaf:
      break;
  }
  return false;
}

struct Weight {
  int32_t target;
  float value;
};

struct BranchNode {
  float threshold;
  int32_t feature;
  int32_t true_child;  // >= 0: a branch node; < 0: ~leaf.
  int32_t false_child;
};

// The ensemble as the attributes describe it, validated; LayOut turns it into the Layout the
// operators keep.
struct Forest {
  std::vector<BranchNode> nodes;
  std::vector<Mode> modes;            // Per branch node, when the modes differ.
  std::vector<uint8_t> missing_true;  // Per branch node, when any tracks missing values.
  std::vector<int32_t> roots;         // Per tree: a branch node, or ~leaf.
  std::vector<uint32_t> leaf_begin;   // Per leaf, and one past the last: into weights.
  std::vector<Weight> weights;
  Mode mode = Mode::kLeq;  // When every branch node has it (same_mode).
  bool same_mode = true;
  bool has_missing = false;
  int64_t max_feature = -1;
  int64_t targets = 0;  // Scores per row: regression targets or classes.
};

// The attributes naming the nodes and their weights: "class_*" for the classifier,
// "target_*" for the regressor.
Result<Forest> ReadForest(const onnx::NodeProto& node, const std::string& weight_prefix,
                          int64_t targets) {
  const NodeAttributes attrs(node);
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> tree_ids, attrs.Ints("nodes_treeids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> node_ids, attrs.Ints("nodes_nodeids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> feature_ids, attrs.Ints("nodes_featureids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<std::string> mode_names, attrs.Strings("nodes_modes"));
  DIM_ASSIGN_OR_RETURN(const std::vector<float> values, attrs.Floats("nodes_values"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> true_ids, attrs.Ints("nodes_truenodeids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> false_ids, attrs.Ints("nodes_falsenodeids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> missing,
                       attrs.Ints("nodes_missing_value_tracks_true"));
  const size_t n = tree_ids.size();
  if (n == 0) return Status::InvalidArgument("attribute 'nodes_treeids' is empty");
  const std::pair<const char*, size_t> sizes[] = {
      {"nodes_nodeids", node_ids.size()},     {"nodes_featureids", feature_ids.size()},
      {"nodes_modes", mode_names.size()},     {"nodes_values", values.size()},
      {"nodes_truenodeids", true_ids.size()}, {"nodes_falsenodeids", false_ids.size()},
  };
  for (const auto& [name, size] : sizes) {
    if (size != n) {
      return Status::InvalidArgument("attribute '" + std::string(name) + "' has " +
                                     std::to_string(size) + " values, 'nodes_treeids' " +
                                     std::to_string(n));
    }
  }
  if (!missing.empty() && missing.size() != n) {
    return Status::InvalidArgument("attribute 'nodes_missing_value_tracks_true' has " +
                                   std::to_string(missing.size()) + " values, 'nodes_treeids' " +
                                   std::to_string(n));
  }
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
    return Status::InvalidArgument("the ensemble has too many nodes");
  }

  // (tree, node) -> position; every node a branch or a leaf.
  std::map<std::pair<int64_t, int64_t>, size_t> position;
  std::vector<Mode> modes(n);
  std::vector<int32_t> compact(n);  // Branch index, or ~leaf index.
  int32_t branches = 0;
  int32_t leaves = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!position.emplace(std::make_pair(tree_ids[i], node_ids[i]), i).second) {
      return Status::InvalidArgument("node " + std::to_string(node_ids[i]) + " of tree " +
                                     std::to_string(tree_ids[i]) + " is defined twice");
    }
    DIM_ASSIGN_OR_RETURN(modes[i], ParseMode(mode_names[i]));
    compact[i] = modes[i] == Mode::kLeaf ? ~leaves++ : branches++;
  }

  Forest forest;
  forest.targets = targets;
  forest.nodes.resize(static_cast<size_t>(branches));
  forest.modes.resize(static_cast<size_t>(branches));
  forest.missing_true.resize(static_cast<size_t>(branches));
  std::vector<uint8_t> has_parent(n, 0);
  bool first_branch = true;
  for (size_t i = 0; i < n; ++i) {
    if (modes[i] == Mode::kLeaf) continue;
    const std::string where =
        "node " + std::to_string(node_ids[i]) + " of tree " + std::to_string(tree_ids[i]);
    int32_t children[2];
    const int64_t ids[2] = {true_ids[i], false_ids[i]};
    for (int c = 0; c < 2; ++c) {
      const auto it = position.find({tree_ids[i], ids[c]});
      if (it == position.end()) {
        return Status::InvalidArgument(where + ": its " + (c == 0 ? "true" : "false") + " child " +
                                       std::to_string(ids[c]) + " does not exist");
      }
      if (it->second == i || has_parent[it->second]++ > 0) {
        return Status::InvalidArgument(where + ": its " + (c == 0 ? "true" : "false") + " child " +
                                       std::to_string(ids[c]) +
                                       " is itself or another node's child (not a tree)");
      }
      children[c] = compact[it->second];
    }
    if (feature_ids[i] < 0 || feature_ids[i] > std::numeric_limits<int32_t>::max()) {
      return Status::InvalidArgument(where + ": feature " + std::to_string(feature_ids[i]) +
                                     " is out of range");
    }
    forest.max_feature = std::max(forest.max_feature, feature_ids[i]);
    const size_t b = static_cast<size_t>(compact[i]);
    forest.nodes[b] = {values[i], static_cast<int32_t>(feature_ids[i]), children[0], children[1]};
    forest.modes[b] = modes[i];
    forest.missing_true[b] = !missing.empty() && missing[i] == 1 ? 1 : 0;
    forest.has_missing = forest.has_missing || forest.missing_true[b] != 0;
    if (first_branch) {
      forest.mode = modes[i];
      first_branch = false;
    }
    forest.same_mode = forest.same_mode && modes[i] == forest.mode;
  }
  // One root per tree, in the order trees first appear.
  std::map<int64_t, int32_t> root_of;
  std::vector<int64_t> tree_order;
  for (size_t i = 0; i < n; ++i) {
    if (has_parent[i] != 0) continue;
    if (!root_of.emplace(tree_ids[i], compact[i]).second) {
      return Status::InvalidArgument("tree " + std::to_string(tree_ids[i]) +
                                     " has more than one root (nodes no other node points to)");
    }
    tree_order.push_back(tree_ids[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (root_of.count(tree_ids[i]) == 0) {
      return Status::InvalidArgument("tree " + std::to_string(tree_ids[i]) +
                                     " has no root: its nodes form a cycle");
    }
  }
  for (int64_t tree : tree_order) forest.roots.push_back(root_of.at(tree));

  // Leaf weights.
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> w_trees, attrs.Ints(weight_prefix + "_treeids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> w_nodes, attrs.Ints(weight_prefix + "_nodeids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> w_ids, attrs.Ints(weight_prefix + "_ids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<float> w_values, attrs.Floats(weight_prefix + "_weights"));
  if (w_nodes.size() != w_trees.size() || w_ids.size() != w_trees.size() ||
      w_values.size() != w_trees.size()) {
    return Status::InvalidArgument("attributes '" + weight_prefix + "_treeids', '" + weight_prefix +
                                   "_nodeids', '" + weight_prefix + "_ids' and '" + weight_prefix +
                                   "_weights' differ in length");
  }
  std::vector<std::vector<Weight>> per_leaf(static_cast<size_t>(leaves));
  for (size_t k = 0; k < w_trees.size(); ++k) {
    const auto it = position.find({w_trees[k], w_nodes[k]});
    if (it == position.end()) {
      return Status::InvalidArgument("a weight names node " + std::to_string(w_nodes[k]) +
                                     " of tree " + std::to_string(w_trees[k]) +
                                     ", which does not exist");
    }
    if (w_ids[k] < 0 || w_ids[k] >= targets) {
      return Status::InvalidArgument("a weight names " + weight_prefix + " " +
                                     std::to_string(w_ids[k]) + "; there are " +
                                     std::to_string(targets));
    }
    // Weights on a branch node are never reached.
    if (compact[it->second] >= 0) continue;
    per_leaf[static_cast<size_t>(~compact[it->second])].push_back(
        {static_cast<int32_t>(w_ids[k]), w_values[k]});
  }
  forest.leaf_begin.reserve(per_leaf.size() + 1);
  for (const std::vector<Weight>& ws : per_leaf) {
    forest.leaf_begin.push_back(static_cast<uint32_t>(forest.weights.size()));
    forest.weights.insert(forest.weights.end(), ws.begin(), ws.end());
  }
  forest.leaf_begin.push_back(static_cast<uint32_t>(forest.weights.size()));
  return forest;
}

// The ensemble laid out for walking: each tree breadth first, the two children of a
// branch node side by side (true child at `child`, false child at `child + 1`), so that a
// step is branch-free: child + (branch & !go). A leaf is its own child, so rows that reach
// a leaf early stay there while the others go on; every row takes the tree's depth in
// steps, and several rows walk at once, their loads overlapping.
struct FlatNode {
  float value;      // A branch's threshold; a leaf's weight (single_) or its id (bit_cast).
  int32_t feature;  // A branch's feature; 0 for a leaf.
  int32_t child;    // A branch's true child; a leaf itself.
  uint8_t branch;   // 1 for a branch node.
  uint8_t missing;  // 1 when a missing value (NaN) goes to the true child.
  Mode mode;
  uint8_t unused = 0;
};
static_assert(sizeof(FlatNode) == 16);

struct Layout {
  std::vector<FlatNode> nodes;
  std::vector<int32_t> roots;
  std::vector<int32_t> depth;  // Per tree: steps from the root to its deepest leaf.
  // Every leaf holds exactly one weight, all for target `single_target`: the weight is in
  // the leaf's value and each row has a score for that target once a tree is walked.
  bool single = false;
  int32_t single_target = 0;
  bool empty_leaf_is_zero = false;  // A single-target regressor's leaves without weights.
  // From the Forest, which is dropped once laid out: what the walk and the scores need.
  std::vector<uint32_t> leaf_begin;
  std::vector<Weight> weights;
  int64_t targets = 0;
  int64_t max_feature = -1;
  Mode mode = Mode::kLeq;
  bool same_mode = true;
  bool has_missing = false;
};

Layout LayOut(Forest f, bool regressor) {
  Layout out;
  out.empty_leaf_is_zero = regressor && f.targets == 1;
  const size_t leaves = f.leaf_begin.size() - 1;
  out.single = leaves > 0;
  for (size_t l = 0; l < leaves && out.single; ++l) {
    out.single = f.leaf_begin[l + 1] - f.leaf_begin[l] == 1 &&
                 f.weights[f.leaf_begin[l]].target == f.weights[0].target;
  }
  if (out.single) out.single_target = f.weights[0].target;
  auto leaf_node = [&](int32_t leaf, int32_t self) {
    FlatNode n{};
    n.value = out.single ? f.weights[f.leaf_begin[static_cast<size_t>(leaf)]].value
                         : std::bit_cast<float>(leaf);
    n.child = self;
    n.mode = Mode::kLeaf;
    return n;
  };
  // `place(c, slot)` writes node c (a branch index, or ~leaf) at `slot`; a branch's
  // children are queued to be placed side by side.
  std::vector<std::pair<int32_t, int32_t>> queue;  // (node, slot)
  for (const int32_t root : f.roots) {
    const int32_t base = static_cast<int32_t>(out.nodes.size());
    out.roots.push_back(base);
    out.nodes.emplace_back();
    queue.assign(1, {root, base});
    std::vector<int32_t> level(1, 0);
    int32_t depth = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      const auto [c, slot] = queue[q];
      const int32_t d = level[q];
      depth = std::max(depth, d);
      if (c < 0) {
        out.nodes[static_cast<size_t>(slot)] = leaf_node(~c, slot);
        continue;
      }
      const BranchNode& b = f.nodes[static_cast<size_t>(c)];
      const int32_t children = static_cast<int32_t>(out.nodes.size());
      out.nodes.emplace_back();
      out.nodes.emplace_back();
      FlatNode n{};
      n.value = b.threshold;
      n.feature = b.feature;
      n.child = children;
      n.branch = 1;
      n.missing = f.missing_true[static_cast<size_t>(c)];
      n.mode = f.modes[static_cast<size_t>(c)];
      out.nodes[static_cast<size_t>(slot)] = n;
      queue.emplace_back(b.true_child, children);
      queue.emplace_back(b.false_child, children + 1);
      level.push_back(d + 1);
      level.push_back(d + 1);
    }
    out.depth.push_back(depth);
  }
  out.leaf_begin = std::move(f.leaf_begin);
  out.weights = std::move(f.weights);
  out.targets = f.targets;
  out.max_feature = f.max_feature;
  out.mode = f.mode;
  out.same_mode = f.same_mode;
  out.has_missing = f.has_missing;
  return out;
}

template <Mode M, bool Missing>
inline int32_t Step(const FlatNode* nodes, int32_t i, const float* x) {
  const FlatNode& n = nodes[i];
  const float v = x[n.feature];
  bool go;
  if constexpr (M == Mode::kLeaf) {
    go = GoesAny(n.mode, v, n.value);
  } else {
    go = Goes<M>(v, n.value);
  }
  if constexpr (Missing) go = go || (n.missing != 0 && std::isnan(v));
  return n.child + static_cast<int32_t>(n.branch & static_cast<uint8_t>(!go));
}

// Adds leaf `n`'s weights to one row's scores (s) and marks them present (h).
inline void AddLeaf(const Layout& layout, Aggregate agg, const FlatNode& n, float* s, uint8_t* h) {
  auto add = [agg](float& score, uint8_t& has, float w) {
    switch (agg) {
      case Aggregate::kSum:
      case Aggregate::kAverage:
        score += w;
        break;
      case Aggregate::kMin:
        score = has == 0 || w < score ? w : score;
        break;
      case Aggregate::kMax:
        score = has == 0 || w > score ? w : score;
        break;
    }
    has = 1;
  };
  if (layout.single) {
    add(s[layout.single_target], h[layout.single_target], n.value);
    return;
  }
  const auto leaf = static_cast<size_t>(std::bit_cast<int32_t>(n.value));
  // With one regression target, a leaf without weights weighs 0 (ONNX Runtime 1.31).
  if (layout.empty_leaf_is_zero && layout.leaf_begin[leaf] == layout.leaf_begin[leaf + 1]) {
    add(s[0], h[0], 0.0f);
    return;
  }
  for (uint32_t k = layout.leaf_begin[leaf]; k < layout.leaf_begin[leaf + 1]; ++k) {
    const Weight w = layout.weights[k];
    add(s[w.target], h[w.target], w.value);
  }
}

// Scores per row and target: scores[r * targets + t], has[...] set once a weight reached it.
// Tree by tree, so that a tree's nodes stay in cache, kGroup rows walking it together.
template <Mode M, bool Missing>
void Accumulate(const Layout& layout, Aggregate agg, const float* x, int64_t rows, int64_t stride,
                float* scores, uint8_t* has) {
  constexpr int kGroup = 8;
  constexpr int32_t kMaxLockstepDepth = 48;
  const FlatNode* nodes = layout.nodes.data();
  const int64_t targets = layout.targets;
  for (size_t t = 0; t < layout.roots.size(); ++t) {
    const int32_t root = layout.roots[t];
    const int32_t depth = layout.depth[t];
    int64_t r = 0;
    // Deep trees (a long chain, say) are walked row by row, each stopping at its leaf:
    // walking every row the whole depth would cost far more than the paths themselves.
    const bool lockstep = depth <= kMaxLockstepDepth;
    for (; lockstep && r + kGroup <= rows; r += kGroup) {
      int32_t at[kGroup];
      const float* row[kGroup];
      for (int g = 0; g < kGroup; ++g) {
        at[g] = root;
        row[g] = x + (r + g) * stride;
      }
      for (int32_t d = 0; d < depth; ++d) {
#pragma GCC unroll 8
        for (int g = 0; g < kGroup; ++g) at[g] = Step<M, Missing>(nodes, at[g], row[g]);
      }
      for (int g = 0; g < kGroup; ++g) {
        AddLeaf(layout, agg, nodes[at[g]], scores + (r + g) * targets, has + (r + g) * targets);
      }
    }
    for (; r < rows; ++r) {
      int32_t at = root;
      const float* row = x + r * stride;
      while (nodes[at].branch != 0) at = Step<M, Missing>(nodes, at, row);
      AddLeaf(layout, agg, nodes[at], scores + r * targets, has + r * targets);
    }
  }
}

using AccumulateFn = void (*)(const Layout&, Aggregate, const float*, int64_t, int64_t, float*,
                              uint8_t*);

template <bool Missing>
AccumulateFn PickAccumulate(const Layout& f) {
  if (!f.same_mode) return &Accumulate<Mode::kLeaf, Missing>;  // kLeaf: per-node modes.
  switch (f.mode) {
    case Mode::kLeq:
      return &Accumulate<Mode::kLeq, Missing>;
    case Mode::kLt:
      return &Accumulate<Mode::kLt, Missing>;
    case Mode::kGte:
      return &Accumulate<Mode::kGte, Missing>;
    case Mode::kGt:
      return &Accumulate<Mode::kGt, Missing>;
    case Mode::kEq:
      return &Accumulate<Mode::kEq, Missing>;
    case Mode::kNeq:
      return &Accumulate<Mode::kNeq, Missing>;
    case Mode::kLeaf:
      break;
  }
  return &Accumulate<Mode::kLeaf, Missing>;
}

AccumulateFn PickAccumulate(const Layout& f) {
  return f.has_missing ? PickAccumulate<true>(f) : PickAccumulate<false>(f);
}

constexpr const char* kTensorAttributes[] = {"base_values_as_tensor", "nodes_values_as_tensor",
                                             "class_weights_as_tensor", "target_weights_as_tensor",
                                             "nodes_hitrates_as_tensor"};

// Common to both: the input [N, F] with F covering every feature the nodes read.
Status CheckFeatures(const std::vector<ValueInfo>& inputs, const Layout& forest) {
  DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
  const Shape& x = inputs[0].shape;
  if (x.size() != 2 || !x[1].known()) {
    return Status::InvalidArgument("input '" + inputs[0].name + "' has shape " + ShapeToString(x) +
                                   "; it must be [N, features]");
  }
  if (forest.max_feature >= x[1].factor) {
    return Status::InvalidArgument("a node reads feature " + std::to_string(forest.max_feature) +
                                   " of input '" + inputs[0].name + "', which has " +
                                   std::to_string(x[1].factor));
  }
  return Status::Ok();
}

class TreeEnsembleRegressor final : public Op {
 public:
  TreeEnsembleRegressor(Forest forest, Aggregate agg, PostTransform transform,
                        std::vector<float> base_values)
      : agg_(agg),
        transform_(transform),
        base_values_(std::move(base_values)),
        layout_(LayOut(std::move(forest), true)),
        accumulate_(PickAccumulate(layout_)) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(CheckFeatures(inputs, layout_));
    return std::vector<ValueInfo>{FloatValue({inputs[0].shape[0], Dim::Known(layout_.targets)})};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const int64_t rows = x.dim(0);
    const int64_t targets = layout_.targets;
    Tensor y = Tensor::Uninitialized({rows, targets});
    std::fill(y.data(), y.data() + y.size(), 0.0f);
    std::vector<uint8_t> has(static_cast<size_t>(rows * targets), 0);
    accumulate_(layout_, agg_, x.data(), rows, x.dim(1), y.data(), has.data());
    const float trees = static_cast<float>(layout_.roots.size());
    const bool per_target = base_values_.size() == static_cast<size_t>(targets);
    // With one target, a single base value is its origin (ONNX Runtime's reading).
    const float origin = base_values_.size() == 1 ? base_values_[0] : 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      float* s = y.data() + r * targets;
      const uint8_t* h = has.data() + r * targets;
      for (int64_t t = 0; t < targets; ++t) {
        if (agg_ == Aggregate::kAverage) s[t] /= trees;
        if (targets == 1) {
          if (h[t] == 0) s[t] = 0;
          s[t] += origin;
        } else {
          // A target no reached leaf weighs stays 0, without its base value (ONNX Runtime
          // 1.31).
          s[t] = h[t] == 0 ? 0.0f : s[t] + (per_target ? base_values_[t] : 0.0f);
        }
      }
      // ONNX Runtime applies only PROBIT to a single target; the others need a row.
      if (targets == 1) {
        if (transform_ == PostTransform::kProbit) s[0] = Probit(s[0]);
      } else {
        ApplyPostTransform(transform_, {s, static_cast<size_t>(targets)});
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  Aggregate agg_;
  PostTransform transform_;
  std::vector<float> base_values_;
  Layout layout_;
  AccumulateFn accumulate_;
};

class TreeEnsembleClassifier final : public Op {
 public:
  TreeEnsembleClassifier(Forest forest, PostTransform transform, std::vector<float> base_values,
                         ClassLabels labels, bool binary_case, bool weights_positive)
      : transform_(transform),
        base_values_(std::move(base_values)),
        labels_(std::move(labels)),
        binary_case_(binary_case),
        weights_positive_(weights_positive),
        layout_(LayOut(std::move(forest), false)),
        accumulate_(PickAccumulate(layout_)) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(CheckFeatures(inputs, layout_));
    const Dim n = inputs[0].shape[0];
    ValueInfo label = FloatValue({n});
    label.type = labels_.strings ? DType::kString : DType::kInt64;
    return std::vector<ValueInfo>{std::move(label), FloatValue({n, Dim::Known(layout_.targets)})};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const int64_t rows = x.dim(0);
    const int64_t classes = layout_.targets;
    Tensor z = Tensor::Uninitialized({rows, classes});
    std::fill(z.data(), z.data() + z.size(), 0.0f);
    std::vector<uint8_t> has(static_cast<size_t>(rows * classes), 0);
    accumulate_(layout_, Aggregate::kSum, x.data(), rows, x.dim(1), z.data(), has.data());
    Tensor label = Tensor::Uninitialized({rows});
    for (int64_t r = 0; r < rows; ++r) {
      float* s = z.data() + r * classes;
      uint8_t* h = has.data() + r * classes;
      label.data()[r] = static_cast<float>(classes > 2 ? Finalize(s, h) : FinalizeBinary(s, h));
    }
    if (outputs.size() > 1) outputs[1] = std::move(z);
    outputs[0] = std::move(label);
    return Status::Ok();
  }

 private:
  // More than two classes: base values added, the label is the highest score's class
  // (the first of equal ones), the transform applies over the row.
  int64_t Finalize(float* s, uint8_t* h) const {
    const int64_t classes = layout_.targets;
    for (size_t k = 0; k < base_values_.size() && k < static_cast<size_t>(classes); ++k) {
      s[k] += base_values_[k];
      h[k] = 1;
    }
    int64_t best = -1;
    for (int64_t k = 0; k < classes; ++k) {
      if (h[k] != 0 && (best < 0 || s[k] > s[best])) best = k;
    }
    ApplyPostTransform(transform_, {s, static_cast<size_t>(classes)});
    return labels_.ids[static_cast<size_t>(std::max<int64_t>(best, 0))];
  }

  // Two classes, as ONNX Runtime reads them: with one score column (binary_case_, every
  // weight on one class) the label comes from a threshold on it (0.5 when every weight is
  // positive, 0 otherwise) and the second probability is made from the first.
  int64_t FinalizeBinary(float* s, uint8_t* h) const {
    bool two = true;  // Both scores are kept (else only s[0]).
    int complement = -1;
    // ONNX Runtime 1.31's reading: a score no reached leaf weighs is 0 (its base value
    // left out); with two base values, class 1's score starts from class 0's.
    if (base_values_.size() == 2) {
      if (h[1] != 0) {
        s[1] = base_values_[1] + s[0];
        s[0] = h[0] != 0 ? -s[1] : 0.0f;
      } else {
        s[0] = h[0] != 0 ? s[0] + base_values_[0] : 0.0f;
        s[1] = 0;
      }
    } else {
      if (base_values_.size() == 1) {
        if (h[0] != 0) s[0] += base_values_[0];
      } else {
        complement = 3;
      }
      two = h[1] != 0;
      if (h[0] == 0) s[0] = 0;
    }
    const float positive = two && h[1] != 0 ? s[1] : (h[0] != 0 ? s[0] : 0.0f);
    int64_t label;
    if (binary_case_) {
      if (weights_positive_) {
        complement = positive > 0.5f ? 0 : 1;
      } else {
        complement = positive > 0.0f ? 2 : 3;
      }
      label = labels_.ids[positive > (weights_positive_ ? 0.5f : 0.0f) ? 1 : 0];
    } else {
      label = positive > 0.0f ? 1 : 0;
    }
    if (two) {
      ApplyPostTransform(transform_, {s, 2});
      return label;
    }
    const float v = s[0];
    if (transform_ == PostTransform::kProbit) {
      s[0] = Probit(v);
      s[1] = 0;
    } else if (complement == 0 || complement == 1) {
      s[0] = 1.0f - v;
      s[1] = v;
    } else if (complement == 2 || complement == 3) {
      if (transform_ == PostTransform::kLogistic) {
        s[0] = Logistic(-v);
        s[1] = Logistic(v);
      } else {
        s[0] = -v;
        s[1] = v;
      }
    } else {
      s[1] = 0;
    }
    return label;
  }

  PostTransform transform_;
  std::vector<float> base_values_;
  ClassLabels labels_;
  bool binary_case_;
  bool weights_positive_;
  Layout layout_;
  AccumulateFn accumulate_;
};

Result<std::pair<PostTransform, std::vector<float>>> ReadTransformAndBase(
    const onnx::NodeProto& node, int64_t targets) {
  const NodeAttributes attrs(node);
  DIM_RETURN_IF_ERROR(RefuseAttributes(node, kTensorAttributes));
  DIM_ASSIGN_OR_RETURN(const std::string transform_name, attrs.String("post_transform", "NONE"));
  DIM_ASSIGN_OR_RETURN(const PostTransform transform, ParsePostTransform(transform_name));
  DIM_ASSIGN_OR_RETURN(std::vector<float> base, attrs.Floats("base_values"));
  if (!base.empty() && base.size() != 1 && base.size() != static_cast<size_t>(targets)) {
    return Status::InvalidArgument("attribute 'base_values' has " + std::to_string(base.size()) +
                                   " values; there are " + std::to_string(targets) + " scores");
  }
  return std::make_pair(transform, std::move(base));
}

}  // namespace

Result<std::unique_ptr<Op>> MakeTreeEnsembleRegressor(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  DIM_ASSIGN_OR_RETURN(const int64_t targets, attrs.Int("n_targets", 1));
  if (targets < 1 || targets > static_cast<int64_t>(kMaxScores)) {
    return Status::InvalidArgument("attribute 'n_targets' is " + std::to_string(targets));
  }
  DIM_ASSIGN_OR_RETURN(const std::string agg_name, attrs.String("aggregate_function", "SUM"));
  Aggregate agg;
  if (agg_name == "SUM") {
    agg = Aggregate::kSum;
  } else if (agg_name == "AVERAGE") {
    agg = Aggregate::kAverage;
  } else if (agg_name == "MIN") {
    agg = Aggregate::kMin;
  } else if (agg_name == "MAX") {
    agg = Aggregate::kMax;
  } else {
    return Status::InvalidArgument("attribute 'aggregate_function' is '" + agg_name +
                                   "'; SUM, AVERAGE, MIN and MAX are supported");
  }
  DIM_ASSIGN_OR_RETURN(auto transform_base, ReadTransformAndBase(node, targets));
  DIM_ASSIGN_OR_RETURN(Forest forest, ReadForest(node, "target", targets));
  return std::unique_ptr<Op>(std::make_unique<TreeEnsembleRegressor>(
      std::move(forest), agg, transform_base.first, std::move(transform_base.second)));
}

Result<std::unique_ptr<Op>> MakeTreeEnsembleClassifier(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(ClassLabels labels, ReadClassLabels(node));
  const int64_t classes = static_cast<int64_t>(labels.ids.size());
  if (classes < 2) return Status::InvalidArgument("a classifier needs at least two class labels");
  DIM_ASSIGN_OR_RETURN(auto transform_base, ReadTransformAndBase(node, classes));
  DIM_ASSIGN_OR_RETURN(Forest forest, ReadForest(node, "class", classes));
  DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> class_ids,
                       NodeAttributes(node).Ints("class_ids"));
  DIM_ASSIGN_OR_RETURN(const std::vector<float> weights,
                       NodeAttributes(node).Floats("class_weights"));
  std::vector<int64_t> distinct = class_ids;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const bool binary_case = classes == 2 && distinct.size() == 1;
  const bool positive = std::all_of(weights.begin(), weights.end(), [](float w) { return w >= 0; });
  return std::unique_ptr<Op>(std::make_unique<TreeEnsembleClassifier>(
      std::move(forest), transform_base.first, std::move(transform_base.second), std::move(labels),
      binary_case, positive));
}

}  // namespace dim::core
