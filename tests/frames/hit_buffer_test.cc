// HitBuffer: lock-free appends, drained once each, in each thread's order.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/frames/hit_buffer.h"

namespace memserver {
namespace {

TEST(HitBufferTest, DrainHandsHitsOverInAppendOrder) {
  HitBuffer buffer;
  for (FrameId f : {5u, 3u, 5u, 9u}) ASSERT_TRUE(buffer.TryAppend(f));
  std::vector<FrameId> seen;
  buffer.Drain([&](FrameId f) { seen.push_back(f); });
  EXPECT_EQ((std::vector<FrameId>{5, 3, 5, 9}), seen);
  buffer.Drain([&](FrameId) { ADD_FAILURE() << "drained twice"; });
}

TEST(HitBufferTest, FullStripeRejectsAppendsUntilDrained) {
  HitBuffer buffer;
  for (uint32_t i = 0; i < HitBuffer::kSlotsPerStripe; ++i) ASSERT_TRUE(buffer.TryAppend(i));
  EXPECT_FALSE(buffer.TryAppend(1000));
  uint32_t drained = 0;
  buffer.Drain([&](FrameId) { ++drained; });
  EXPECT_EQ(HitBuffer::kSlotsPerStripe, drained);
  EXPECT_TRUE(buffer.TryAppend(1000));
}

// Producers append (retrying when full) while a consumer drains under a
// mutex: every hit arrives exactly once and each producer's hits in order.
TEST(HitBufferTest, ConcurrentAppendsAreDrainedExactlyOnceInThreadOrder) {
  constexpr uint32_t kThreads = 4, kPerThread = 50000;
  HitBuffer buffer;
  std::mutex mu;
  std::vector<uint32_t> next(kThreads, 0);
  uint64_t total = 0;
  bool in_order = true;
  auto drain = [&] {
    std::lock_guard<std::mutex> lock(mu);
    buffer.Drain([&](FrameId v) {
      const uint32_t t = v / kPerThread, seq = v % kPerThread;
      if (t >= kThreads || next[t] != seq) in_order = false;
      if (t < kThreads) next[t] = seq + 1;
      ++total;
    });
  };
  std::atomic<uint32_t> done{0};
  std::vector<std::thread> producers;
  for (uint32_t t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (uint32_t i = 0; i < kPerThread; ++i) {
        while (!buffer.TryAppend(t * kPerThread + i)) drain();
      }
      done.fetch_add(1);
    });
  }
  while (done.load() < kThreads) drain();
  for (std::thread& p : producers) p.join();
  drain();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(uint64_t{kThreads} * kPerThread, total);
}

}  // namespace
}  // namespace memserver
