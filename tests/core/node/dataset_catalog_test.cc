#include "core/node/dataset_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A fresh directory per test (dir_), removed afterwards.
using DatasetCatalogTest = dim::testing::ScratchDirTest;

TEST_F(DatasetCatalogTest, AddLearnsTheShape) {
  DatasetCatalog catalog;
  const fs::path path = Write("a.csv", "x,y\n1,2\n3,4\n5,6\n");
  ASSERT_TRUE(catalog.Add("a", path).ok());
  ASSERT_EQ(catalog.entries().size(), 1u);
  const DatasetEntry& e = catalog.entries()[0];
  EXPECT_EQ(e.name, "a");
  EXPECT_EQ(e.path, path);
  EXPECT_EQ(e.shape.rows, 3);
  EXPECT_THAT(e.shape.columns, ElementsAre("x", "y"));
}

TEST_F(DatasetCatalogTest, FindReturnsTheNamedDataset) {
  DatasetCatalog catalog;
  ASSERT_TRUE(catalog.Add("a", Write("a.csv", "x\n1\n")).ok());
  ASSERT_TRUE(catalog.Add("b", Write("b.csv", "x\n1\n2\n")).ok());
  auto b = catalog.Find("b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->name, "b");
  EXPECT_EQ(b->shape.rows, 2);
  EXPECT_TRUE(catalog.Has("a"));
  EXPECT_TRUE(catalog.Has("b"));
  EXPECT_FALSE(catalog.Has("c"));
}

TEST_F(DatasetCatalogTest, DefaultFallsBackToTheFirstDataset) {
  DatasetCatalog catalog;
  ASSERT_TRUE(catalog.Add("first", Write("a.csv", "x\n1\n")).ok());
  ASSERT_TRUE(catalog.Add("second", Write("b.csv", "x\n1\n2\n")).ok());
  auto d = catalog.Find("default");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "first");
  EXPECT_TRUE(catalog.Has("default"));
}

TEST_F(DatasetCatalogTest, DatasetCalledDefaultWinsOverTheFirst) {
  DatasetCatalog catalog;
  ASSERT_TRUE(catalog.Add("first", Write("a.csv", "x\n1\n")).ok());
  ASSERT_TRUE(catalog.Add("default", Write("b.csv", "x\n1\n2\n")).ok());
  auto d = catalog.Find("default");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "default");
  EXPECT_EQ(d->shape.rows, 2);
}

TEST_F(DatasetCatalogTest, UnknownNameIsNotFoundListingTheNames) {
  DatasetCatalog catalog;
  ASSERT_TRUE(catalog.Add("north", Write("a.csv", "x\n1\n")).ok());
  ASSERT_TRUE(catalog.Add("south", Write("b.csv", "x\n1\n")).ok());
  auto d = catalog.Find("east");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(d.status().message(), "dataset 'east' not found (this node has: north, south)");
}

TEST_F(DatasetCatalogTest, EmptyCatalogHasNoDefault) {
  DatasetCatalog catalog;
  EXPECT_FALSE(catalog.Has("default"));
  auto d = catalog.Find("default");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(d.status().message(), "dataset 'default' not found (this node has no datasets)");
}

TEST_F(DatasetCatalogTest, DuplicateNameIsInvalidArgument) {
  DatasetCatalog catalog;
  ASSERT_TRUE(catalog.Add("a", Write("a.csv", "x\n1\n")).ok());
  Status s = catalog.Add("a", Write("b.csv", "x\n1\n2\n"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'a'"));
  ASSERT_EQ(catalog.entries().size(), 1u);
  EXPECT_EQ(catalog.entries()[0].shape.rows, 1);
}

TEST_F(DatasetCatalogTest, EmptyNameIsInvalidArgument) {
  DatasetCatalog catalog;
  Status s = catalog.Add("", Write("a.csv", "x\n1\n"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(catalog.entries().empty());
}

TEST_F(DatasetCatalogTest, BadFileIsRejectedNamingTheDataset) {
  DatasetCatalog catalog;
  Status missing = catalog.Add("gone", dir_ / "missing.csv");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("dataset 'gone'"));

  Status bad = catalog.Add("bad", Write("bad.csv", "x,y\n1,2\n3,abc\n"));
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("dataset 'bad'"));
  EXPECT_THAT(bad.message(), HasSubstr("abc"));
  EXPECT_TRUE(catalog.entries().empty());
}

TEST(ParseNameValue, SplitsAtTheFirstEqualsSign) {
  auto simple = ParseNameValue("hospital=/data/a.csv", "--dataset");
  ASSERT_TRUE(simple.ok()) << simple.status().ToString();
  EXPECT_THAT(*simple, Pair("hospital", "/data/a.csv"));

  auto more = ParseNameValue("a=b=c", "--dataset");
  ASSERT_TRUE(more.ok());
  EXPECT_THAT(*more, Pair("a", "b=c"));
}

TEST(ParseNameValue, MalformedTextIsInvalidArgument) {
  for (const std::string text : {"", "name", "=path", "name=", "="}) {
    auto parsed = ParseNameValue(text, "--dataset");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(parsed.status().message(), "--dataset '" + text + "': expected NAME=VALUE");
  }
}

}  // namespace
}  // namespace dim::core
