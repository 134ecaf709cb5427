#include "client/memload/trace.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/memload/temp_dir.h"

namespace memserver::memload {
namespace {

using Blocks = std::vector<uint64_t>;

class TraceTest : public ::testing::Test {
 protected:
  void WriteFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good());
  }
  void WriteGzip(const std::string& path, const std::string& text) {
    gzFile gz = gzopen(path.c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    ASSERT_EQ(gzclose(gz), Z_OK);
  }
  std::string Zstd(const std::string& text) {
    std::string out(ZSTD_compressBound(text.size()), '\0');
    const size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
  }
  // A LIRS trace long enough to span several read chunks once decompressed.
  std::string LongLirsText(Blocks* expected) {
    std::string text;
    for (uint64_t i = 0; i < 300000; ++i) {
      const uint64_t block = (i * 7919) % 100003;
      text += std::to_string(block) + "\n";
      if (i % 1000 == 0) text += "*\n";
      expected->push_back(block);
    }
    return text;
  }

  TempDir dir_;
};

TEST_F(TraceTest, ArcLineExpandsToConsecutiveBlocks) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("10 3 0 1\n20 1 0 2\n", TraceFormat::kArc, &trace).ok());
  EXPECT_EQ(trace.blocks, (Blocks{10, 11, 12, 20}));
  EXPECT_EQ(trace.max_block, 20u);
}

TEST_F(TraceTest, ArcIgnoresFieldsAfterTheCount) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("5 2\n7 1 x y z\n", TraceFormat::kArc, &trace).ok());
  EXPECT_EQ(trace.blocks, (Blocks{5, 6, 7}));
}

TEST_F(TraceTest, LirsSkipsMarkersAndBlankLines) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("5\n*\n\n  7 \r\n5", TraceFormat::kLirs, &trace).ok());
  EXPECT_EQ(trace.blocks, (Blocks{5, 7, 5}));
  EXPECT_EQ(trace.max_block, 7u);
}

TEST_F(TraceTest, EmptyTextIsAnEmptyTrace) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("", TraceFormat::kLirs, &trace).ok());
  EXPECT_TRUE(trace.blocks.empty());
  EXPECT_EQ(trace.max_block, 0u);
}

TEST_F(TraceTest, MalformedLinesAreRejectedWithTheirLineNumber) {
  BlockTrace trace;
  Status s = ParseTraceText("1\n2\nabc\n", TraceFormat::kLirs, &trace);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(":3:"), std::string::npos) << s.message();

  EXPECT_EQ(ParseTraceText("1 2\n", TraceFormat::kLirs, &trace).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTraceText("-1\n", TraceFormat::kLirs, &trace).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTraceText("99999999999999999999\n", TraceFormat::kLirs, &trace).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTraceText("5\n", TraceFormat::kArc, &trace).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTraceText("5 0 0 0\n", TraceFormat::kArc, &trace).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTraceText("18446744073709551615 2 0 0\n", TraceFormat::kArc, &trace).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTraceText("*\n", TraceFormat::kArc, &trace).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TraceTest, LinesSplitAcrossFeedsParseTheSame) {
  const std::string text = "100 2 0 1\n300 1 0 2\n7 3 0 3";
  TraceParser parser(TraceFormat::kArc, "bytes");
  for (char c : text) ASSERT_TRUE(parser.Feed(std::string_view(&c, 1)).ok());
  BlockTrace trace;
  ASSERT_TRUE(parser.Finish(&trace).ok());
  EXPECT_EQ(trace.blocks, (Blocks{100, 101, 300, 7, 8, 9}));
  EXPECT_EQ(trace.max_block, 300u);
}

TEST_F(TraceTest, OverlongLineIsRejected) {
  TraceParser parser(TraceFormat::kLirs, "long");
  EXPECT_EQ(parser.Feed(std::string(5000, '1')).code(), StatusCode::kInvalidArgument);
}

TEST_F(TraceTest, MoreAccessesThanTheLimitIsResourceExhausted) {
  TraceParser parser(TraceFormat::kArc, "big", /*max_accesses=*/5);
  EXPECT_TRUE(parser.Feed("0 5 0 0\n").ok());
  EXPECT_EQ(parser.Feed("9 1 0 0\n").code(), StatusCode::kResourceExhausted);
  TraceParser huge(TraceFormat::kArc, "huge", /*max_accesses=*/1000);
  EXPECT_EQ(huge.Feed("0 1000000000000 0 0\n").code(), StatusCode::kResourceExhausted);
}

TEST_F(TraceTest, ReadsPlainGzipAndZstdFilesAlike) {
  Blocks expected;
  const std::string text = LongLirsText(&expected);
  WriteFile(dir_.File("t.trace"), text);
  WriteGzip(dir_.File("t.trace.gz"), text);
  WriteFile(dir_.File("t.trace.zst"), Zstd(text));
  for (const char* name : {"t.trace", "t.trace.gz", "t.trace.zst"}) {
    BlockTrace trace;
    Status s = ReadTraceFile(dir_.File(name), TraceFormat::kLirs, &trace);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
    EXPECT_EQ(trace.blocks, expected) << name;
    EXPECT_EQ(trace.max_block, 100002u) << name;
  }
}

TEST_F(TraceTest, ReadsArcFromZstd) {
  WriteFile(dir_.File("x.lis.zst"), Zstd("1 1 0 0\n2 1 0 0\n40 4 0 1\n"));
  BlockTrace trace;
  const std::string path = dir_.File("x.lis.zst");
  ASSERT_TRUE(ReadTraceFile(path, GuessTraceFormat(path), &trace).ok());
  EXPECT_EQ(trace.blocks, (Blocks{1, 2, 40, 41, 42, 43}));
}

TEST_F(TraceTest, TruncatedCompressedFilesAreDataLoss) {
  Blocks expected;
  const std::string text = LongLirsText(&expected);
  const std::string zst = Zstd(text);
  WriteFile(dir_.File("cut.trace.zst"), zst.substr(0, zst.size() / 2));
  BlockTrace trace;
  EXPECT_EQ(ReadTraceFile(dir_.File("cut.trace.zst"), TraceFormat::kLirs, &trace).code(),
            StatusCode::kDataLoss);

  WriteGzip(dir_.File("whole.trace.gz"), text);
  std::ifstream in(dir_.File("whole.trace.gz"), std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  WriteFile(dir_.File("cut.trace.gz"), gz.substr(0, gz.size() / 2));
  EXPECT_EQ(ReadTraceFile(dir_.File("cut.trace.gz"), TraceFormat::kLirs, &trace).code(),
            StatusCode::kDataLoss);
}

TEST_F(TraceTest, CorruptZstdIsDataLoss) {
  WriteFile(dir_.File("bad.trace.zst"), "this is not zstd at all");
  BlockTrace trace;
  EXPECT_EQ(ReadTraceFile(dir_.File("bad.trace.zst"), TraceFormat::kLirs, &trace).code(),
            StatusCode::kDataLoss);
}

TEST_F(TraceTest, MissingFileIsNotFound) {
  BlockTrace trace;
  EXPECT_EQ(ReadTraceFile(dir_.File("nope.trace"), TraceFormat::kLirs, &trace).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ReadTraceFile(dir_.File("nope.lis.zst"), TraceFormat::kArc, &trace).code(),
            StatusCode::kNotFound);
}

TEST_F(TraceTest, FormatIsGuessedFromTheName) {
  EXPECT_EQ(GuessTraceFormat("/x/OLTP.lis.zst"), TraceFormat::kArc);
  EXPECT_EQ(GuessTraceFormat("P2.lis"), TraceFormat::kArc);
  EXPECT_EQ(GuessTraceFormat("multi2.trace.gz"), TraceFormat::kLirs);
  EXPECT_EQ(GuessTraceFormat("loop.trace"), TraceFormat::kLirs);
  TraceFormat f;
  EXPECT_TRUE(ParseTraceFormat("arc", &f).ok());
  EXPECT_EQ(f, TraceFormat::kArc);
  EXPECT_EQ(ParseTraceFormat("csv", &f).code(), StatusCode::kInvalidArgument);
}

TEST_F(TraceTest, DistinctBlocksAreSortedAndUnique) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("9\n3\n9\n1\n3\n", TraceFormat::kLirs, &trace).ok());
  EXPECT_EQ(DistinctBlocks(trace), (Blocks{1, 3, 9}));
}

}  // namespace
}  // namespace memserver::memload
