#include "core/custody/site_policy.h"

#include <gtest/gtest.h>

namespace dim::core {
namespace {

TEST(SitePolicy, ADatasetsEntryOverridesTheDefaultKeyByKey) {
  auto p = SitePolicy::Parse(R"({
      "*": {"min_samples": 20, "users": ["alice"],
            "differential_privacy": {"required": true, "budget": 2}},
      "patients": {"min_samples": 50, "patterns": ["collaborative"],
                   "models": ["heart_risk", "sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"],
                   "differential_privacy": {"max_epsilon_per_job": 0.5, "clip": [0, 1]},
                   "max_rows_returned": 100}})",
                             "policy.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const DatasetRules r = p->For("patients");
  EXPECT_EQ(r.min_samples, 50);
  EXPECT_EQ(r.users, std::vector<std::string>{"alice"});
  EXPECT_EQ(r.dp_required, true);
  EXPECT_EQ(r.budget, 2.0);
  EXPECT_EQ(r.max_epsilon_per_job, 0.5);
  EXPECT_EQ(r.clip, std::make_pair(0.0, 1.0));
  EXPECT_EQ(r.max_rows_returned, 100);
  ASSERT_TRUE(r.models.has_value());
  EXPECT_EQ((*r.models)[1],
            "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  const DatasetRules other = p->For("other");
  EXPECT_EQ(other.min_samples, 20);
  EXPECT_FALSE(other.patterns.has_value());
  EXPECT_EQ(p->Datasets(), std::vector<std::string>{"patients"});
  EXPECT_FALSE(SitePolicy().For("x").min_samples.has_value());
}

TEST(SitePolicy, EveryErrorNamesItsJsonPath) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"[]", "policy.json: $: must be an object of datasets"},
           Case{"{\"*\": 3}", "$.*: must be an object of rules, got 3"},
           Case{"{\"d\": {\"min_samples\": -1}}", "$.d.min_samples: must be a whole number"},
           Case{"{\"d\": {\"min_samples\": 1.5}}", "$.d.min_samples: must be a whole number"},
           Case{"{\"d\": {\"patterns\": \"collaborative\"}}", "$.d.patterns: must be an array"},
           Case{"{\"d\": {\"patterns\": [\"Collaborative\"]}}", "$.d.patterns[0]: must be"},
           Case{"{\"d\": {\"models\": [\"\"]}}", "$.d.models[0]: must be a non-empty string"},
           Case{"{\"d\": {\"models\": [\"sha256:12\"]}}", "$.d.models[0]: sha256: must be"},
           Case{"{\"d\": {\"users\": [1]}}", "$.d.users[0]: must be a non-empty string, got 1"},
           Case{"{\"d\": {\"differential_privacy\": 1}}",
                "$.d.differential_privacy: must be an object"},
           Case{"{\"d\": {\"differential_privacy\": {\"required\": 1}}}",
                "$.d.differential_privacy.required: must be true or false"},
           Case{"{\"d\": {\"differential_privacy\": {\"budget\": 0}}}",
                "$.d.differential_privacy.budget: must be a number greater than 0, got 0"},
           Case{"{\"d\": {\"differential_privacy\": {\"max_epsilon_per_job\": \"1\"}}}",
                "$.d.differential_privacy.max_epsilon_per_job: must be a number greater than 0"},
           Case{"{\"d\": {\"differential_privacy\": {\"clip\": [0]}}}",
                "$.d.differential_privacy.clip: must be [LO, HI]"},
           Case{"{\"d\": {\"differential_privacy\": {\"noise\": 1}}}",
                "$.d.differential_privacy.noise: unknown key"},
           Case{"{\"d\": {\"differential_privacy\": {\"budget\": 1, \"max_epsilon_per_job\": 2}}}",
                "max_epsilon_per_job: is more than the budget"},
           Case{"{\"d\": {\"max_rows_returned\": true}}", "$.d.max_rows_returned: must be"},
           Case{"{\"d\": {\"k\": 5}}", "$.d.k: unknown key"},
           Case{"{\"d\": {}, \"d\": {}}", "policy.json"},
           Case{"{", "policy.json"},
       }) {
    auto p = SitePolicy::Parse(c.text, "policy.json");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.error), std::string::npos)
        << c.text << " -> " << p.status().message();
  }
}

TEST(SitePolicy, ReadRefusesWhatIsNotAFile) {
  EXPECT_EQ(SitePolicy::Read("/nonexistent.json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SitePolicy::Read("/tmp").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dim::core
