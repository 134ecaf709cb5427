// memsim trace reading: formats, decompression, hostile input.
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "server/tools/memsim/trace_reader.h"

namespace memserver::memsim {
namespace {

class TraceReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/memsim_trace_test.XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string WriteZstd(const std::string& name, const std::string& text) {
    std::string out(ZSTD_compressBound(text.size()), '\0');
    const size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return Write(name, out);
  }
  std::string WriteGzip(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    gzFile f = gzopen(path.c_str(), "wb");
    EXPECT_NE(nullptr, f);
    EXPECT_EQ(static_cast<int>(text.size()), gzwrite(f, text.data(), text.size()));
    gzclose(f);
    return path;
  }

  std::string dir_;
};

TEST_F(TraceReaderTest, ArcLineExpandsToConsecutiveBlocks) {
  Trace t;
  ASSERT_TRUE(ReadTrace(Write("a.lis", "100 3 0 1\n7 1 0 2\n101 2 0 3\n"), TraceFormat::kArc, &t)
                  .ok());
  // 100 101 102 7 101 102 renamed in order of first appearance.
  EXPECT_EQ((std::vector<uint32_t>{0, 1, 2, 3, 1, 2}), t.keys);
  EXPECT_EQ(4u, t.distinct);
}

TEST_F(TraceReaderTest, LirsSkipsStarAndBlankLines) {
  Trace t;
  ASSERT_TRUE(ReadTrace(Write("x.trace", "5\n*\n6\n\n5\r\n"), TraceFormat::kLirs, &t).ok());
  EXPECT_EQ((std::vector<uint32_t>{0, 1, 0}), t.keys);
}

TEST_F(TraceReaderTest, LastLineWithoutNewlineCounts) {
  Trace t;
  ASSERT_TRUE(ReadTrace(Write("x.trace", "1\n2"), TraceFormat::kLirs, &t).ok());
  EXPECT_EQ(2u, t.keys.size());
}

TEST_F(TraceReaderTest, ZstdAndGzipReadLikePlainText) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += std::to_string(i % 777) + "\n";
  Trace plain, zst, gz;
  ASSERT_TRUE(ReadTrace(Write("p.trace", text), TraceFormat::kLirs, &plain).ok());
  ASSERT_TRUE(ReadTrace(WriteZstd("p.trace.zst", text), TraceFormat::kLirs, &zst).ok());
  ASSERT_TRUE(ReadTrace(WriteGzip("p.trace.gz", text), TraceFormat::kLirs, &gz).ok());
  EXPECT_EQ(100000u, plain.keys.size());
  EXPECT_EQ(plain.keys, zst.keys);
  EXPECT_EQ(plain.keys, gz.keys);
}

TEST_F(TraceReaderTest, MalformedLineIsInvalidArgumentNamingTheLine) {
  Trace t;
  Status s = ReadTrace(Write("bad.trace", "1\n2\nfoo\n"), TraceFormat::kLirs, &t);
  EXPECT_EQ(StatusCode::kInvalidArgument, s.code());
  EXPECT_NE(std::string::npos, s.message().find("line 3")) << s.ToString();
  s = ReadTrace(Write("bad.lis", "10\n"), TraceFormat::kArc, &t);
  EXPECT_EQ(StatusCode::kInvalidArgument, s.code());
  s = ReadTrace(Write("neg.lis", "-1 2 0 0\n"), TraceFormat::kArc, &t);
  EXPECT_EQ(StatusCode::kInvalidArgument, s.code());
}

TEST_F(TraceReaderTest, OverflowingBlockRangeIsRejected) {
  Trace t;
  Status s = ReadTrace(Write("o.lis", "18446744073709551615 2 0 0\n"), TraceFormat::kArc, &t);
  EXPECT_EQ(StatusCode::kInvalidArgument, s.code());
}

TEST_F(TraceReaderTest, TraceAboveTheAccessLimitIsResourceExhausted) {
  Trace t;
  Status s = ReadTrace(Write("huge.lis", "0 4294967296 0 0\n"), TraceFormat::kArc, &t);
  EXPECT_EQ(StatusCode::kResourceExhausted, s.code()) << s.ToString();
}

TEST_F(TraceReaderTest, MissingFileIsNotFound) {
  Trace t;
  EXPECT_EQ(StatusCode::kNotFound,
            ReadTrace(dir_ + "/absent.trace", TraceFormat::kLirs, &t).code());
}

TEST_F(TraceReaderTest, CorruptOrTruncatedZstdIsDataLoss) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += std::to_string(i) + "\n";
  const std::string good = WriteZstd("g.trace.zst", text);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Trace t;
  EXPECT_EQ(StatusCode::kDataLoss,
            ReadTrace(Write("t.trace.zst", bytes.substr(0, bytes.size() / 2)),
                      TraceFormat::kLirs, &t)
                .code());
  EXPECT_EQ(StatusCode::kDataLoss,
            ReadTrace(Write("c.trace.zst", "not zstd at all\n"), TraceFormat::kLirs, &t).code());
}

TEST(TraceFormatTest, GuessedFromTheNameIgnoringCompressionSuffix) {
  EXPECT_EQ(TraceFormat::kArc, GuessTraceFormat("/x/OLTP.lis.zst"));
  EXPECT_EQ(TraceFormat::kArc, GuessTraceFormat("P2.lis"));
  EXPECT_EQ(TraceFormat::kArc, GuessTraceFormat("a.lis.gz"));
  EXPECT_EQ(TraceFormat::kLirs, GuessTraceFormat("multi2.trace.gz"));
  EXPECT_EQ(TraceFormat::kLirs, GuessTraceFormat("lis"));
  TraceFormat f;
  EXPECT_TRUE(ParseTraceFormat("lirs", &f).ok());
  EXPECT_EQ(TraceFormat::kLirs, f);
  EXPECT_EQ(StatusCode::kInvalidArgument, ParseTraceFormat("csv", &f).code());
}

}  // namespace
}  // namespace memserver::memsim
