#include "core/job/config_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace dim::core {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::StartsWith;

// The message of an INVALID_ARGUMENT error (and a failure for anything else).
template <typename T>
std::string ErrorOf(const Result<T>& result) {
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  return result.status().message();
}

TEST(SnakeCaseKey, ConvertsCamelCaseAndKeepsSnakeCase) {
  EXPECT_EQ(SnakeCaseKey("modelId"), "model_id");
  EXPECT_EQ(SnakeCaseKey("minNodes"), "min_nodes");
  EXPECT_EQ(SnakeCaseKey("differentialPrivacy"), "differential_privacy");
  EXPECT_EQ(SnakeCaseKey("reputationMin"), "reputation_min");
  EXPECT_EQ(SnakeCaseKey("model_id"), "model_id");
  EXPECT_EQ(SnakeCaseKey("timeout"), "timeout");
  EXPECT_EQ(SnakeCaseKey("Dataset"), "dataset");
  EXPECT_EQ(SnakeCaseKey("step2Output"), "step2_output");
  EXPECT_EQ(SnakeCaseKey(""), "");
}

TEST(JsonPath, NamesMembersAndElements) {
  EXPECT_EQ(ChildPath("$", "nodes"), "$.nodes");
  EXPECT_EQ(ChildPath("$.aggregation", "method"), "$.aggregation.method");
  EXPECT_EQ(IndexPath("$.nodes", 1), "$.nodes[1]");
  EXPECT_EQ(ChildPath(IndexPath("$.pipeline", 0), "model_id"), "$.pipeline[0].model_id");
  EXPECT_EQ(ChildPath("$", "a b"), "$['a b']");
  EXPECT_EQ(ChildPath("$", "a.b"), "$['a.b']");
  EXPECT_EQ(ChildPath("$.fallback_nodes", "2"), "$.fallback_nodes['2']");
  EXPECT_EQ(ChildPath("$", "it's"), "$['it\\'s']");
  EXPECT_EQ(ChildPath("$", ""), "$['']");
}

TEST(TypeError, NamesExpectedAndActualTypes) {
  EXPECT_EQ(TypeError("$.x", "a string", json(3)).message(), "$.x: expected a string, got number");
  EXPECT_EQ(TypeError("$", "an object", json::array()).message(),
            "$: expected an object, got array");
  EXPECT_EQ(TypeError("$.y", "a number", json(nullptr)).message(),
            "$.y: expected a number, got null");
  EXPECT_EQ(TypeError("$.y", "a number", json(true)).message(),
            "$.y: expected a number, got boolean");
}

TEST(ParseJsonText, ParsesValidJson) {
  Result<json> j = ParseJsonText(R"({"a": [1, {"b": "c"}], "d": null})");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["a"][1]["b"], "c");
  EXPECT_TRUE((*j)["d"].is_null());
  Result<json> scalar = ParseJsonText("42");
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(*scalar, 42);
}

TEST(ParseJsonText, NamesTheByteOfMalformedJson) {
  EXPECT_EQ(ErrorOf(ParseJsonText(R"({"a": tru})")),
            "invalid JSON at byte 10: syntax error while parsing value - invalid literal; "
            "last read: '\"a\": tru}'");
  EXPECT_THAT(ErrorOf(ParseJsonText("")), StartsWith("invalid JSON at byte 1: "));
  EXPECT_THAT(ErrorOf(ParseJsonText("{} x")), StartsWith("invalid JSON at byte 4: "));
  EXPECT_THAT(ErrorOf(ParseJsonText(R"({"a": 1,})")), StartsWith("invalid JSON at byte 9: "));
  EXPECT_THAT(ErrorOf(ParseJsonText("{\"a\": \"\xff\"}")), StartsWith("invalid JSON at byte "));
  EXPECT_EQ(ErrorOf(ParseJsonText(R"({"a": 1e400})")),
            "invalid JSON: number overflow parsing '1e400'");
}

TEST(ParseJsonText, RejectsDuplicateKeysWithTheirPath) {
  EXPECT_EQ(ErrorOf(ParseJsonText(R"({"a": 1, "b": 2, "a": 3})")), "$.a: duplicate key");
  EXPECT_EQ(ErrorOf(ParseJsonText(R"({"x": {"m": 1, "m": 1}})")), "$.x.m: duplicate key");
  EXPECT_EQ(ErrorOf(ParseJsonText(R"({"p": [1, {"s": 1}, [2, 3], {"t": 1, "t": 2}]})")),
            "$.p[3].t: duplicate key");
  EXPECT_EQ(ErrorOf(ParseJsonText(R"([{"k": 1}, {"k": 1, "k": 2}])")), "$[1].k: duplicate key");
  EXPECT_EQ(ErrorOf(ParseJsonText(R"({"a b": {}, "a b": {}})")), "$['a b']: duplicate key");
  // The same key in different objects is fine.
  EXPECT_TRUE(ParseJsonText(R"({"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]})").ok());
}

const KeyRules kRules{{"model_id", "min_nodes", "nodes"}, {"labels"}};

TEST(ConfigObject, ReadsBothKeyStyles) {
  json j = json::parse(R"({"modelId": "m", "min_nodes": 2})");
  Result<ConfigObject> object = ConfigObject::Read(j, "$", kRules);
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  ASSERT_NE(object->Find("model_id"), nullptr);
  EXPECT_EQ(*object->Find("model_id"), "m");
  EXPECT_EQ(*object->Find("min_nodes"), 2);
  EXPECT_EQ(object->Find("nodes"), nullptr);
  EXPECT_EQ(object->Find("modelId"), nullptr);  // look-ups use snake_case
  EXPECT_EQ(object->PathOf("model_id"), "$.modelId");
  EXPECT_EQ(object->PathOf("min_nodes"), "$.min_nodes");
  EXPECT_EQ(object->PathOf("nodes"), "$.nodes");
  EXPECT_EQ(object->path(), "$");
  Result<const json*> required = object->Require("model_id");
  ASSERT_TRUE(required.ok());
  EXPECT_EQ(**required, "m");
  EXPECT_EQ(ErrorOf(object->Require("nodes")), "$.nodes: missing required key");
}

TEST(ConfigObject, RejectsWhatIsNotAnObject) {
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::array(), "$", kRules)),
            "$: expected an object, got array");
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json("x"), "$.agg", kRules)),
            "$.agg: expected an object, got string");
}

TEST(ConfigObject, RejectsUnknownKeysSuggestingNearMisses) {
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"modelid": "m"})"), "$", kRules)),
            "$.modelid: unknown key (did you mean 'model_id'?)");
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"node": []})"), "$.x", kRules)),
            "$.x.node: unknown key (did you mean 'nodes'?)");
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"priority": 1})"), "$", kRules)),
            "$.priority: unknown key");
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"a": 1})"), "$", kRules)),
            "$.a: unknown key");
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"my key": 1})"), "$", kRules)),
            "$['my key']: unknown key");
}

TEST(ConfigObject, RejectsUnavailableKeysInEitherStyle) {
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"labels": {}})"), "$", kRules)),
            "$.labels: not available in this version");
  KeyRules rules{{"method"}, {"differential_privacy"}};
  EXPECT_EQ(ErrorOf(ConfigObject::Read(json::parse(R"({"differentialPrivacy": {}})"),
                                       "$.aggregation", rules)),
            "$.aggregation.differentialPrivacy: not available in this version");
}

TEST(ConfigObject, RejectsBothSpellingsOfOneKey) {
  EXPECT_EQ(
      ErrorOf(ConfigObject::Read(json::parse(R"({"model_id": "a", "modelId": "b"})"), "$", kRules)),
      "$.model_id: given twice, also as 'modelId'");
  EXPECT_EQ(
      ErrorOf(ConfigObject::Read(json::parse(R"({"minNodes": 1, "min_nodes": 1})"), "$", kRules)),
      "$.min_nodes: given twice, also as 'minNodes'");
}

TEST(ReadString, ChecksTypeAndEmptiness) {
  EXPECT_EQ(*ReadString(json(""), "$.s"), "");
  EXPECT_EQ(*ReadString(json("x"), "$.s"), "x");
  EXPECT_EQ(ErrorOf(ReadString(json(1), "$.s")), "$.s: expected a string, got number");
  EXPECT_EQ(*ReadNonEmptyString(json("x"), "$.s"), "x");
  EXPECT_EQ(ErrorOf(ReadNonEmptyString(json(""), "$.s")), "$.s: must not be empty");
  EXPECT_EQ(ErrorOf(ReadNonEmptyString(json::object(), "$.s")),
            "$.s: expected a string, got object");
}

TEST(ReadNonEmptyString, RefusesAnEmptyOrHugeName) {
  EXPECT_EQ(ErrorOf(ReadNonEmptyString(json(""), "$.m")), "$.m: must not be empty");
  EXPECT_EQ(ErrorOf(ReadNonEmptyString(json(std::string(5000, 'x')), "$.m")),
            "$.m: longer than 1024 bytes ('" + std::string(40, 'x') + "... (5000 bytes)')");
  EXPECT_EQ(*ReadNonEmptyString(json(std::string(1024, 'x')), "$.m"), std::string(1024, 'x'));
}

TEST(ReadUniqueStrings, ChecksEachElement) {
  Result<std::vector<std::string>> ok = ReadUniqueStrings(json::parse(R"(["a", "b"])"), "$.n", 10);
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT(*ok, ElementsAre("a", "b"));
  EXPECT_TRUE(ReadUniqueStrings(json::array(), "$.n", 10)->empty());
  EXPECT_EQ(ErrorOf(ReadUniqueStrings(json("a"), "$.n", 10)), "$.n: expected an array, got string");
  EXPECT_EQ(ErrorOf(ReadUniqueStrings(json::parse(R"(["a", 2])"), "$.n", 10)),
            "$.n[1]: expected a string, got number");
  EXPECT_EQ(ErrorOf(ReadUniqueStrings(json::parse(R"(["a", ""])"), "$.n", 10)),
            "$.n[1]: must not be empty");
  EXPECT_EQ(ErrorOf(ReadUniqueStrings(json::parse(R"(["a", "b", "a"])"), "$.n", 10)),
            "$.n[2]: duplicate 'a' (also at [0])");
}

TEST(ReadInteger, AcceptsWholeNumbersInRange) {
  EXPECT_EQ(*ReadInteger(json(3), "$.i", 1, 10), 3);
  EXPECT_EQ(*ReadInteger(json(-3), "$.i", -5, 10), -3);
  EXPECT_EQ(*ReadInteger(json(3.0), "$.i", 1, 10), 3);
  EXPECT_EQ(*ReadInteger(json(10), "$.i", 1, 10), 10);
  EXPECT_EQ(ErrorOf(ReadInteger(json(2.5), "$.i", 1, 10)), "$.i: expected an integer, got 2.5");
  EXPECT_EQ(ErrorOf(ReadInteger(json("3"), "$.i", 1, 10)), "$.i: expected an integer, got string");
  EXPECT_EQ(ErrorOf(ReadInteger(json(true), "$.i", 1, 10)),
            "$.i: expected an integer, got boolean");
  EXPECT_EQ(ErrorOf(ReadInteger(json(0), "$.i", 1, 10)), "$.i: must be >= 1, got 0");
  EXPECT_EQ(ErrorOf(ReadInteger(json(-7), "$.i", 1, 10)), "$.i: must be >= 1, got -7");
  EXPECT_EQ(ErrorOf(ReadInteger(json(11), "$.i", 1, 10)), "$.i: must be <= 10, got 11");
  EXPECT_EQ(ErrorOf(ReadInteger(json(1e300), "$.i", 1, 10)), "$.i: must be <= 10, got 1e+300");
  EXPECT_EQ(ErrorOf(ReadInteger(json(-1e300), "$.i", 1, 10)), "$.i: must be >= 1, got -1e+300");
  EXPECT_EQ(ErrorOf(ReadInteger(json(std::numeric_limits<uint64_t>::max()), "$.i", 1, 10)),
            "$.i: must be <= 10, got 18446744073709551615");
}

TEST(ReadPositiveNumber, RejectsZeroAndBelow) {
  EXPECT_EQ(*ReadPositiveNumber(json(2.5), "$.t"), 2.5);
  EXPECT_EQ(*ReadPositiveNumber(json(30), "$.t"), 30.0);
  EXPECT_EQ(ErrorOf(ReadPositiveNumber(json(0), "$.t")), "$.t: must be > 0, got 0");
  EXPECT_EQ(ErrorOf(ReadPositiveNumber(json(-1.5), "$.t")), "$.t: must be > 0, got -1.5");
  EXPECT_EQ(ErrorOf(ReadPositiveNumber(json("5"), "$.t")), "$.t: expected a number, got string");
}

TEST(ReadChoice, ListsTheChoices) {
  std::vector<std::string_view> two = {"classification", "regression"};
  EXPECT_EQ(*ReadChoice(json("regression"), "$.task", "task", two), "regression");
  EXPECT_EQ(ErrorOf(ReadChoice(json("clustering"), "$.task", "task", two)),
            "$.task: unknown task 'clustering' (expected classification or regression)");
  EXPECT_EQ(ErrorOf(ReadChoice(json("d"), "$.m", "mode", {"a", "b", "c"})),
            "$.m: unknown mode 'd' (expected a, b or c)");
  EXPECT_EQ(ErrorOf(ReadChoice(json(1), "$.task", "task", two)),
            "$.task: expected a string, got number");
}

}  // namespace
}  // namespace dim::core
