#include "server/latency/redundancy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgenas {
namespace {

TEST(RedundancyTest, ParsesPoliciesAndNamesBadEntries) {
  auto p = ParseRedundancy("rpi4=2:0.15,pixel7=3");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)["rpi4"].replicas, 2);
  EXPECT_DOUBLE_EQ((*p)["rpi4"].tolerance, 0.15);
  EXPECT_EQ((*p)["pixel7"].replicas, 3);
  EXPECT_DOUBLE_EQ((*p)["pixel7"].tolerance, 0.15);
  EXPECT_THAT(ParseRedundancy("rpi4=0").status().message(), ::testing::HasSubstr("'rpi4=0'"));
  EXPECT_FALSE(ParseRedundancy("rpi4=2:1.5").ok());
  EXPECT_FALSE(ParseRedundancy("=2").ok());
  EXPECT_FALSE(ParseRedundancy("rpi4").ok());
}

TEST(RedundancyTest, AgreeingWorkersSettleAndAnOutlierIsNamed) {
  RedundancyPolicy policy{2, 0.10, 3};
  Consensus c = Decide({{"a", 10.0}, {"b", 10.6}, {"liar", 3.0}}, policy);
  EXPECT_TRUE(c.settled);
  EXPECT_DOUBLE_EQ(c.latency_ms, 10.3);
  EXPECT_THAT(c.agree, ::testing::ElementsAre("a", "b"));
  EXPECT_THAT(c.disagree, ::testing::ElementsAre("liar"));
}

TEST(RedundancyTest, TwoWorkersFarApartDoNotSettle) {
  Consensus c = Decide({{"a", 10.0}, {"b", 20.0}}, RedundancyPolicy{2, 0.15, 3});
  EXPECT_FALSE(c.settled);
  EXPECT_TRUE(c.agree.empty());
  EXPECT_EQ(c.disagree.size(), 2u);
}

TEST(RedundancyTest, OneOpinionSettlesWhenOneIsEnough) {
  Consensus c = Decide({{"a", 4.0}}, RedundancyPolicy{1, 0.15, 3});
  EXPECT_TRUE(c.settled);
  EXPECT_DOUBLE_EQ(c.latency_ms, 4.0);
}

}  // namespace
}  // namespace edgenas
