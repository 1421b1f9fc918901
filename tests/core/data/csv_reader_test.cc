#include "core/data/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Rows = std::vector<std::vector<float>>;

// A fresh directory per test (dir_), removed afterwards.
using CsvReaderTest = dim::testing::ScratchDirTest;

// Reads every remaining row in batches of batch_rows, checking each batch's shape.
Rows ReadAll(CsvReader& reader, int64_t batch_rows) {
  Rows rows;
  Matrix batch;
  for (;;) {
    Result<int64_t> n = reader.ReadBatch(batch_rows, &batch);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) break;
    EXPECT_EQ(batch.rows(), *n);
    EXPECT_EQ(batch.cols(), reader.width());
    for (int64_t i = 0; i < batch.rows(); ++i) {
      rows.emplace_back(batch.row(i).data(), batch.row(i).data() + batch.cols());
    }
  }
  return rows;
}

// The error of the first batch that fails, reading batches of batch_rows.
Status FirstError(CsvReader& reader, int64_t batch_rows = 1000) {
  Matrix batch;
  for (;;) {
    Result<int64_t> n = reader.ReadBatch(batch_rows, &batch);
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::Ok();
  }
}

Status OpenAndReadError(const fs::path& path) {
  Result<std::unique_ptr<CsvReader>> reader = CsvReader::Open(path);
  if (!reader.ok()) return reader.status();
  return FirstError(**reader);
}

TEST_F(CsvReaderTest, ReadsHeaderAndRows) {
  fs::path path = Write("data.csv", "a,b,c\n1,2,3\n4.5,-5,6e2\n0.1,-0,1e-3\n");
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_THAT((*reader)->header(), ElementsAre("a", "b", "c"));
  EXPECT_EQ((*reader)->width(), 3);
  Rows rows = ReadAll(**reader, 100);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[0], ElementsAre(1.0f, 2.0f, 3.0f));
  EXPECT_THAT(rows[1], ElementsAre(4.5f, -5.0f, 600.0f));
  // Correctly rounded to the nearest float.
  EXPECT_THAT(rows[2], ElementsAre(0.1f, 0.0f, 0.001f));
}

TEST_F(CsvReaderTest, AcceptsSpacesCrlfAndMissingFinalNewline) {
  fs::path path = Write("data.csv", " a , b\t\r\n 1 ,\t2 \r\n+3,.5\r\n-4,5.");
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_THAT((*reader)->header(), ElementsAre("a", "b"));
  Rows rows = ReadAll(**reader, 2);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[0], ElementsAre(1.0f, 2.0f));
  EXPECT_THAT(rows[1], ElementsAre(3.0f, 0.5f));
  EXPECT_THAT(rows[2], ElementsAre(-4.0f, 5.0f));
}

TEST_F(CsvReaderTest, SkipsEmptyLinesAtTheEnd) {
  fs::path path = Write("data.csv", "a,b\r\n1,2\r\n\r\n\n  \n\n");
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  Rows rows = ReadAll(**reader, 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0], ElementsAre(1.0f, 2.0f));
}

TEST_F(CsvReaderTest, SkipsByteOrderMark) {
  fs::path path = Write("data.csv", "\xEF\xBB\xBFx,y\n1,2\n");
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("x", "y"));
}

TEST_F(CsvReaderTest, HeaderOnlyHasNoRows) {
  fs::path path = Write("data.csv", "a,b\n");
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  Matrix batch(5, 5);
  Result<int64_t> n = (*reader)->ReadBatch(10, &batch);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(batch.rows(), 0);
  EXPECT_EQ(batch.cols(), 2);
}

TEST_F(CsvReaderTest, ReadsInBatchesUntilTheEnd) {
  std::string text = "v,w\n";
  for (int i = 0; i < 10; ++i) text += std::to_string(i) + "," + std::to_string(-i) + "\n";
  auto reader = CsvReader::Open(Write("data.csv", text));
  ASSERT_TRUE(reader.ok());
  Matrix batch;
  std::vector<int64_t> sizes;
  std::vector<float> firsts;
  for (int k = 0; k < 6; ++k) {
    Result<int64_t> n = (*reader)->ReadBatch(3, &batch);
    ASSERT_TRUE(n.ok());
    sizes.push_back(*n);
    if (*n > 0) firsts.push_back(batch(0, 0));
  }
  EXPECT_THAT(sizes, ElementsAre(3, 3, 3, 1, 0, 0));
  EXPECT_THAT(firsts, ElementsAre(0.0f, 3.0f, 6.0f, 9.0f));
  EXPECT_EQ(batch.rows(), 0);
}

TEST_F(CsvReaderTest, SelectsColumnsInTheGivenOrder) {
  auto reader = CsvReader::Open(Write("data.csv", "a,b,c\n1,2,3\n4,5,6\n"));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->SelectColumns({"c", "a"}).ok());
  EXPECT_EQ((*reader)->width(), 2);
  EXPECT_THAT((*reader)->header(), ElementsAre("a", "b", "c"));
  Rows rows = ReadAll(**reader, 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], ElementsAre(3.0f, 1.0f));
  EXPECT_THAT(rows[1], ElementsAre(6.0f, 4.0f));
}

TEST_F(CsvReaderTest, SelectionCanChangeBetweenBatchesAndEmptyMeansAll) {
  auto reader = CsvReader::Open(Write("data.csv", "a,b,c\n1,2,3\n4,5,6\n"));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->SelectColumns({"b"}).ok());
  Matrix batch;
  ASSERT_EQ(*(*reader)->ReadBatch(1, &batch), 1);
  EXPECT_EQ(batch.cols(), 1);
  EXPECT_EQ(batch(0, 0), 2.0f);
  ASSERT_TRUE((*reader)->SelectColumns({}).ok());
  EXPECT_EQ((*reader)->width(), 3);
  ASSERT_EQ(*(*reader)->ReadBatch(1, &batch), 1);
  EXPECT_EQ(batch.cols(), 3);
  EXPECT_EQ(batch(0, 0), 4.0f);
  EXPECT_EQ(batch(0, 2), 6.0f);
}

TEST_F(CsvReaderTest, RejectsUnknownColumnAndKeepsSelection) {
  auto reader = CsvReader::Open(Write("data.csv", "a,b,c\n1,2,3\n"));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->SelectColumns({"b"}).ok());
  Status status = (*reader)->SelectColumns({"a", "bmi", "zz"});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "data.csv: no column named 'bmi'");
  EXPECT_EQ((*reader)->width(), 1);
}

TEST_F(CsvReaderTest, ReportsNotANumberWithLineAndColumn) {
  std::string text = "age,sex,bmi,bp,s1\n";
  for (int i = 0; i < 5; ++i) text += "1,2,3,4,5\n";
  text += "1,2,abc,4,5\n";  // line 7
  Status status = OpenAndReadError(Write("data.csv", text));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "data.csv line 7, column 'bmi': not a number: 'abc'");
}

TEST_F(CsvReaderTest, ReportsRaggedRows) {
  std::string text = "a,b,c,d,e\n";
  for (int i = 0; i < 7; ++i) text += "1,2,3,4,5\n";
  Status fewer = OpenAndReadError(Write("fewer.csv", text + "1,2,3,4\n"));  // line 9
  EXPECT_EQ(fewer.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fewer.message(), "fewer.csv line 9: expected 5 cells, got 4");
  Status more = OpenAndReadError(Write("more.csv", text + "1,2,3,4,5,6\n"));
  EXPECT_EQ(more.message(), "more.csv line 9: expected 5 cells, got 6");
  // A trailing comma is one more (empty) cell.
  Status trailing = OpenAndReadError(Write("trailing.csv", "a,b\n1,2,\n"));
  EXPECT_EQ(trailing.message(), "trailing.csv line 2: expected 2 cells, got 3");
}

TEST_F(CsvReaderTest, ReportsEmptyCells) {
  EXPECT_EQ(OpenAndReadError(Write("d1.csv", "a,b\n1,2\n3,\n")).message(),
            "d1.csv line 3, column 'b': empty cell");
  EXPECT_EQ(OpenAndReadError(Write("d2.csv", "a,b\n  ,2\n")).message(),
            "d2.csv line 2, column 'a': empty cell");
  EXPECT_EQ(OpenAndReadError(Write("d3.csv", "a,b\r\n1,\r\n")).message(),
            "d3.csv line 2, column 'b': empty cell");
}

TEST_F(CsvReaderTest, RejectsNanAndInfinity) {
  for (std::string cell : {"nan", "NaN", "-nan", "inf", "-inf", "Infinity", "+inf"}) {
    Status status = OpenAndReadError(Write("data.csv", "x,y\n1,2\n3," + cell + "\n"));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << cell;
    EXPECT_EQ(status.message(), "data.csv line 3, column 'y': NaN or infinity is not allowed")
        << cell;
  }
}

TEST_F(CsvReaderTest, RejectsMalformedNumbers) {
  for (std::string cell : {"1.5x", "0x10", "1e", "--1", "+-1", "1 2", "1;2", "\"1\"", "e5", "."}) {
    Status status = OpenAndReadError(Write("data.csv", "x\n" + cell + "\n"));
    EXPECT_EQ(status.message(), "data.csv line 2, column 'x': not a number: '" + cell + "'")
        << cell;
  }
}

TEST_F(CsvReaderTest, QuotesLongCellsShortened) {
  std::string cell(100, 'z');
  Status status = OpenAndReadError(Write("data.csv", "x\n" + cell + "\n"));
  EXPECT_EQ(status.message(), "data.csv line 2, column 'x': not a number: '" +
                                  std::string(40, 'z') + "... (100 bytes)'");
}

TEST_F(CsvReaderTest, RejectsNumbersBeyondFloatButReadsTinyOnesAsZero) {
  Status status = OpenAndReadError(Write("big.csv", "x\n1e40\n"));
  EXPECT_EQ(status.message(), "big.csv line 2, column 'x': number out of float range: '1e40'");
  status = OpenAndReadError(Write("neg.csv", "x\n-1e39\n"));
  EXPECT_EQ(status.message(), "neg.csv line 2, column 'x': number out of float range: '-1e39'");

  auto reader = CsvReader::Open(Write("tiny.csv", "x,y\n1e-50,-1e-60\n1e-40,3.4e38\n"));
  ASSERT_TRUE(reader.ok());
  Rows rows = ReadAll(**reader, 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], 0.0f);
  EXPECT_EQ(rows[0][1], 0.0f);
  EXPECT_EQ(rows[1][0], 1e-40f);
  EXPECT_EQ(rows[1][1], 3.4e38f);
}

TEST_F(CsvReaderTest, RejectsEmptyLineFollowedByRows) {
  Status status = OpenAndReadError(Write("data.csv", "a,b\n1,2\n\n  \n3,4\n"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "data.csv line 3: empty line (empty lines are allowed only at the end of the file)");
}

TEST_F(CsvReaderTest, CountsLinesWithCrlf) {
  Status status = OpenAndReadError(Write("data.csv", "a\r\n1\r\n2\r\n3\r\nx\r\n"));
  EXPECT_EQ(status.message(), "data.csv line 5, column 'a': not a number: 'x'");
}

TEST_F(CsvReaderTest, KeepsRowsBeforeAnErrorAndTheErrorIsFinal) {
  auto reader = CsvReader::Open(Write("data.csv", "a\n1\n2\n3\nbad\n5\n"));
  ASSERT_TRUE(reader.ok());
  Matrix batch;
  Result<int64_t> first = (*reader)->ReadBatch(2, &batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 2);
  EXPECT_EQ(batch(1, 0), 2.0f);
  Result<int64_t> second = (*reader)->ReadBatch(2, &batch);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "data.csv line 5, column 'a': not a number: 'bad'");
  Result<int64_t> third = (*reader)->ReadBatch(2, &batch);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().message(), second.status().message());
}

TEST_F(CsvReaderTest, RejectsNonPositiveMaxRows) {
  auto reader = CsvReader::Open(Write("data.csv", "a\n1\n"));
  ASSERT_TRUE(reader.ok());
  Matrix batch;
  Result<int64_t> n = (*reader)->ReadBatch(0, &batch);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  // Not final: a valid call still reads.
  n = (*reader)->ReadBatch(1, &batch);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
}

TEST_F(CsvReaderTest, HugeMaxRowsAllocatesOnlyForRowsRead) {
  auto reader = CsvReader::Open(Write("data.csv", "a,b\n1,2\n3,4\n"));
  ASSERT_TRUE(reader.ok());
  Matrix batch;
  Result<int64_t> n = (*reader)->ReadBatch(int64_t{1} << 60, &batch);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(batch.rows(), 2);
  EXPECT_EQ(batch(1, 1), 4.0f);
}

TEST_F(CsvReaderTest, RejectsBadHeaders) {
  Status empty = CsvReader::Open(Write("empty.csv", "")).status();
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "empty.csv: the file is empty");

  Status blank = CsvReader::Open(Write("blank.csv", " \r\n1\n")).status();
  EXPECT_EQ(blank.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blank.message(), "blank.csv line 1: the header row is empty");

  Status unnamed = CsvReader::Open(Write("unnamed.csv", "a, ,c\n1,2,3\n")).status();
  EXPECT_EQ(unnamed.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unnamed.message(), "unnamed.csv line 1: empty column name (column 2)");

  Status trailing = CsvReader::Open(Write("trailing.csv", "a,b,\n")).status();
  EXPECT_EQ(trailing.message(), "trailing.csv line 1: empty column name (column 3)");

  Status duplicate = CsvReader::Open(Write("dup.csv", "a,b, a\n1,2,3\n")).status();
  EXPECT_EQ(duplicate.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(duplicate.message(), "dup.csv line 1: duplicate column name 'a'");
}

TEST_F(CsvReaderTest, MissingFileIsNotFound) {
  Status status = CsvReader::Open(dir_ / "missing.csv").status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("missing.csv"));
  // Only the file name: directories stay on the node.
  EXPECT_THAT(status.message(), ::testing::Not(HasSubstr(dir_.path().string())));

  Status inspect = InspectCsv(dir_ / "missing.csv").status();
  EXPECT_EQ(inspect.code(), StatusCode::kNotFound);
}

TEST_F(CsvReaderTest, DirectoryIsInvalidArgument) {
  fs::create_directories(dir_ / "sub.csv");
  Status status = CsvReader::Open(dir_ / "sub.csv").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "sub.csv: not a regular file (a directory)");
}

TEST_F(CsvReaderTest, FifoIsRefusedAtOnce) {
  const fs::path fifo = dir_ / "pipe.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Status status = CsvReader::Open(fifo).status();  // nobody writes: a blocking open would hang
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "pipe.csv: not a regular file (a FIFO)");
}

TEST_F(CsvReaderTest, Latin1ColumnNamesAreReadAsLatin1) {
  auto reader = CsvReader::Open(Write("data.csv", "\xe2ge,bp\n1,2\n"));
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ((*reader)->header()[0], "\xc3\xa2ge");
}

TEST_F(CsvReaderTest, AWideHeaderIsCheckedInLinearTime) {
  std::string header;
  for (int i = 0; i < 100000; ++i) header += (i ? ",c" : "c") + std::to_string(i);
  auto reader = CsvReader::Open(Write("wide.csv", header + "\n"));
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ((*reader)->header().size(), 100000u);
  Status too_wide = CsvReader::Open(Write("wider.csv", header + ",x\n")).status();
  EXPECT_EQ(too_wide.message(), "wider.csv line 1: 100001 columns, more than the 100000 allowed");
}

TEST_F(CsvReaderTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  fs::path path = Write("secret.csv", "a\n1\n");
  fs::permissions(path, fs::perms::none);
  Status status = CsvReader::Open(path).status();
  fs::permissions(path, fs::perms::owner_all);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("secret.csv"));
}

// Every chunk size from 1 byte up puts chunk boundaries inside numbers, between "\r" and
// "\n", inside the header and inside lines longer than the chunk.
TEST_F(CsvReaderTest, ChunkBoundariesAnywhereGiveTheSameRows) {
  std::string text = "alpha, beta ,gamma\r\n";
  Rows expected;
  for (int i = 0; i < 40; ++i) {
    float a = static_cast<float>(i) * 0.25f;
    float b = -static_cast<float>(i * i);
    float c = 1000.0f + static_cast<float>(i);
    std::string sep = (i % 3 == 0) ? "\r\n" : "\n";
    std::string pad = (i % 4 == 0) ? "   " : "";
    text += std::to_string(a) + "," + pad + std::to_string(b) + pad + "," + std::to_string(c) + sep;
    expected.push_back({a, b, c});
  }
  text += "1.5,2.5,3.5";  // no final newline
  expected.push_back({1.5f, 2.5f, 3.5f});
  fs::path path = Write("data.csv", text);
  for (size_t chunk = 1; chunk <= 80; ++chunk) {
    auto reader = OpenCsvWithBufferSize(path, chunk);
    ASSERT_TRUE(reader.ok()) << chunk << ": " << reader.status().ToString();
    EXPECT_THAT((*reader)->header(), ElementsAre("alpha", "beta", "gamma")) << chunk;
    Rows rows = ReadAll(**reader, 7);
    EXPECT_EQ(rows, expected) << "chunk " << chunk;
  }
}

TEST_F(CsvReaderTest, ChunkBoundariesDoNotMoveErrorLines) {
  std::string text = "a,b\n";
  for (int i = 0; i < 20; ++i) text += std::to_string(i) + ",1\r\n";
  text += "7,oops\r\n";  // line 22
  fs::path path = Write("data.csv", text);
  for (size_t chunk = 1; chunk <= 40; ++chunk) {
    auto reader = OpenCsvWithBufferSize(path, chunk);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(FirstError(**reader, 3).message(),
              "data.csv line 22, column 'b': not a number: 'oops'")
        << chunk;
  }
}

// A file several times the default 1 MiB chunk, read with batches of bounded size.
TEST_F(CsvReaderTest, LargeFileStreamsInBoundedBatches) {
  constexpr int64_t kRows = 200000;
  constexpr int64_t kBatch = 1000;
  fs::path path = dir_ / "large.csv";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("id,half,neg,const\n", f);
    for (int64_t i = 0; i < kRows; ++i) {
      std::fprintf(f, "%lld,%lld.5,-%lld,7\n", static_cast<long long>(i),
                   static_cast<long long>(i / 2), static_cast<long long>(i));
    }
    std::fclose(f);
  }
  ASSERT_GT(fs::file_size(path), 4 * CsvReader::kDefaultBufferBytes);

  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->SelectColumns({"neg", "id", "half"}).ok());
  Matrix batch;
  int64_t total = 0;
  int64_t batches = 0;
  bool values_ok = true;
  for (;;) {
    Result<int64_t> n = (*reader)->ReadBatch(kBatch, &batch);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    ASSERT_LE(*n, kBatch);
    ASSERT_EQ(batch.rows(), *n);
    ASSERT_EQ(batch.cols(), 3);
    for (int64_t r = 0; r < *n; ++r) {
      int64_t id = total + r;
      values_ok &= batch(r, 0) == -static_cast<float>(id);
      values_ok &= batch(r, 1) == static_cast<float>(id);
      values_ok &= batch(r, 2) == static_cast<float>(id / 2) + 0.5f;
    }
    total += *n;
    ++batches;
  }
  EXPECT_TRUE(values_ok);
  EXPECT_EQ(total, kRows);
  EXPECT_EQ(batches, kRows / kBatch);

  Result<DatasetShape> shape = InspectCsv(path);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->rows, kRows);
  EXPECT_THAT(shape->columns, ElementsAre("id", "half", "neg", "const"));
}

TEST_F(CsvReaderTest, InspectReturnsShapeAndValidatesEveryRow) {
  Result<DatasetShape> shape = InspectCsv(Write("ok.csv", "x,y\n1,2\n3,4\n5,6\n\n"));
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->rows, 3);
  EXPECT_THAT(shape->columns, ElementsAre("x", "y"));

  Result<DatasetShape> header_only = InspectCsv(Write("h.csv", "x"));
  ASSERT_TRUE(header_only.ok());
  EXPECT_EQ(header_only->rows, 0);

  std::string text = "x,y\n";
  for (int i = 0; i < 9000; ++i) text += "1,2\n";
  text += "1,inf\n";  // line 9002, beyond the first internal batch
  Result<DatasetShape> bad = InspectCsv(Write("bad.csv", text));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "bad.csv line 9002, column 'y': NaN or infinity is not allowed");
}

}  // namespace
}  // namespace dim::core
