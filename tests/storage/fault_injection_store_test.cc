// Behaviours of the fault-injection wrapper the engine tests rely on.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/backing_store.h"
#include "tests/storage/temp_dir.h"
#include "tests/support/fault_injection_store.h"

namespace memserver::test_support {
namespace {

using storage::Space;

class FaultInjectionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::RocksDbOptions options;
    options.path = dir_.path() + "/db";
    std::unique_ptr<storage::BackingStore> real;
    ASSERT_TRUE(storage::OpenRocksDbStore(options, &real).ok());
    store_ = std::make_unique<FaultInjectionStore>(std::move(real));
  }

  static bool IsInjected(const Status& s) {
    return s.code() == StatusCode::kUnavailable && s.errno_name() == "EIO" &&
           s.message().find("injected") != std::string::npos;
  }

  storage::TempDir dir_;
  std::unique_ptr<FaultInjectionStore> store_;
};

TEST_F(FaultInjectionStoreTest, PassesCallsThroughWhenNotFailing) {
  ASSERT_TRUE(store_->Put(Space::kSwap, "k", "v").ok());
  std::string v;
  ASSERT_TRUE(store_->Get(Space::kSwap, "k", &v).ok());
  EXPECT_EQ(v, "v");
  EXPECT_EQ(store_->writes(), 1u);
  EXPECT_EQ(store_->gets(), 1u);
  EXPECT_EQ(store_->failed_writes(), 0u);
  EXPECT_EQ(store_->target()->GetStats().puts, 1u);
}

TEST_F(FaultInjectionStoreTest, FailedWritesReturnIOErrorAndChangeNothing) {
  store_->FailWrites(true);
  EXPECT_TRUE(IsInjected(store_->Put(Space::kSwap, "k", "v")));
  storage::WriteBatch batch;
  batch.Put(Space::kFiles, "f", "v");
  EXPECT_TRUE(IsInjected(store_->Write(batch, true)));
  EXPECT_TRUE(IsInjected(store_->Delete(Space::kSwap, "k")));
  EXPECT_TRUE(IsInjected(store_->Clear(Space::kSwap)));
  EXPECT_TRUE(IsInjected(store_->Flush()));
  EXPECT_EQ(store_->writes(), 5u);
  EXPECT_EQ(store_->failed_writes(), 5u);
  uint64_t n = 1;
  ASSERT_TRUE(store_->CountKeys(Space::kSwap, &n).ok());  // reads still work
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(store_->CountKeys(Space::kFiles, &n).ok());
  EXPECT_EQ(n, 0u);

  store_->FailWrites(false);
  EXPECT_TRUE(store_->Put(Space::kSwap, "k", "v").ok());
}

TEST_F(FaultInjectionStoreTest, FailedReadsReturnIOErrorForEveryKey) {
  ASSERT_TRUE(store_->Put(Space::kSwap, "k", "v").ok());
  store_->FailReads(true);
  std::string v;
  char buf[1];
  EXPECT_TRUE(IsInjected(store_->Get(Space::kSwap, "k", &v)));
  EXPECT_TRUE(IsInjected(store_->GetInto(Space::kSwap, "k", buf, 1)));
  std::vector<std::string> values;
  std::vector<Status> statuses;
  store_->MultiGet(Space::kSwap, {"k", "missing"}, &values, &statuses);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_TRUE(IsInjected(statuses[0]));
  EXPECT_TRUE(IsInjected(statuses[1]));
  uint64_t n;
  EXPECT_TRUE(IsInjected(store_->CountKeys(Space::kSwap, &n)));
  EXPECT_TRUE(IsInjected(store_->Scan(Space::kSwap, "", [](auto, auto) { return true; })));
  EXPECT_EQ(store_->gets(), 4u);  // Get, GetInto, 2 keys of MultiGet
  EXPECT_EQ(store_->failed_reads(), 5u);
  EXPECT_TRUE(store_->Put(Space::kSwap, "k2", "v").ok());  // writes still work

  store_->FailReads(false);
  ASSERT_TRUE(store_->Get(Space::kSwap, "k", &v).ok());
  EXPECT_EQ(v, "v");
}

TEST_F(FaultInjectionStoreTest, FailWritesAfterLetsExactlyNWritesThrough) {
  store_->FailWritesAfter(2);
  EXPECT_TRUE(store_->Put(Space::kSwap, "a", "1").ok());
  EXPECT_TRUE(store_->Put(Space::kSwap, "b", "2").ok());
  EXPECT_TRUE(IsInjected(store_->Put(Space::kSwap, "c", "3")));
  EXPECT_TRUE(IsInjected(store_->Put(Space::kSwap, "d", "4")));
  uint64_t n = 0;
  ASSERT_TRUE(store_->CountKeys(Space::kSwap, &n).ok());
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(store_->failed_writes(), 2u);
}

}  // namespace
}  // namespace memserver::test_support
