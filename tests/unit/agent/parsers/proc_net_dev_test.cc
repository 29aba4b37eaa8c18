#include "agent/parsers/proc_net_dev.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using agent::NetDevCounters;
using agent::parse_proc_net_dev;
using agent::ProcNetDev;

constexpr std::string_view kHeader =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
    "compressed\n";

std::string with_header(std::string_view body) { return std::string(kHeader) + std::string(body); }

TEST(ProcNetDev, ParsesKernelFormat) {
  ProcNetDev dev;
  const std::string text = with_header(
      "    lo: 1214400   13480    0    0    0     0          0         0  1214400   13480    0    0    0     0       0          0\n"
      "  eth0: 912345678 812345 3 12 4 5 6 7 123456789 412345 8 9 10 11 12 13\n");
  ASSERT_TRUE(parse_proc_net_dev(text, dev).ok());
  ASSERT_EQ(dev.interfaces.size(), 2u);
  EXPECT_EQ(dev.interfaces[0].name, "lo");
  EXPECT_EQ(dev.interfaces[0].counters, (NetDevCounters{1214400, 13480, 0, 0, 1214400, 13480, 0, 0}));
  EXPECT_EQ(dev.interfaces[1].name, "eth0");
  EXPECT_EQ(dev.interfaces[1].counters, (NetDevCounters{912345678, 812345, 3, 12, 123456789, 412345, 8, 9}));
}

TEST(ProcNetDev, NameDirectlyFollowedByDigits) {
  ProcNetDev dev;
  const std::string text = with_header("eth0:123 4 5 6 0 0 0 0 789 10 11 12 0 0 0 0\n");
  ASSERT_TRUE(parse_proc_net_dev(text, dev).ok());
  ASSERT_EQ(dev.interfaces.size(), 1u);
  EXPECT_EQ(dev.interfaces[0].name, "eth0");
  EXPECT_EQ(dev.interfaces[0].counters, (NetDevCounters{123, 4, 5, 6, 789, 10, 11, 12}));
}

TEST(ProcNetDev, NamesWithColonsAndFifteenCharacters) {
  ProcNetDev dev;
  // Names are views into the text, so it must outlive them.
  const std::string text = with_header("eth9:1: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"
                                       "veth1a2b3c4d5e6: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"
                                       "eth9:2:42 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n");
  ASSERT_TRUE(parse_proc_net_dev(text, dev).ok());
  ASSERT_EQ(dev.interfaces.size(), 3u);
  EXPECT_EQ(dev.interfaces[0].name, "eth9:1");
  EXPECT_EQ(dev.interfaces[1].name, "veth1a2b3c4d5e6");
  EXPECT_EQ(dev.interfaces[2].name, "eth9:2");
  EXPECT_EQ(dev.interfaces[2].counters.rx_bytes, 42u);
}

TEST(ProcNetDev, HeaderOnlyIsEmpty) {
  ProcNetDev dev;
  ASSERT_TRUE(parse_proc_net_dev(kHeader, dev).ok());
  EXPECT_TRUE(dev.interfaces.empty());
}

TEST(ProcNetDev, Errors) {
  ProcNetDev dev;
  for (const std::string& bad : {
           std::string(""),
           std::string("Inter-|   Receive\n"),                                        // one header line
           std::string("eth0: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"),                    // no header
           with_header("eth0 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"),                      // no colon
           with_header(": 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"),                         // empty name
           with_header("veth1a2b3c4d5e6f: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"),         // 16 chars
           with_header("et h0: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"),                    // blank in name
           with_header("eth0: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0\n"),                       // 15 counters
           with_header("eth0: 1 2 3 4 0 0 0 0 5 6 x 8 0 0 0 0\n"),                     // not a number
       }) {
    const common::Status st = parse_proc_net_dev(bad, dev);
    ASSERT_FALSE(st.ok()) << "accepted: " << bad;
    EXPECT_EQ(st.error().code(), common::ErrorCode::kParse);
  }
}

TEST(ProcNetDev, ReusesCapacityAcrossParses) {
  ProcNetDev dev;
  const std::string text = with_header("a: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\nb: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n");
  ASSERT_TRUE(parse_proc_net_dev(text, dev).ok());
  const auto* data = dev.interfaces.data();
  ASSERT_TRUE(parse_proc_net_dev(text, dev).ok());
  EXPECT_EQ(dev.interfaces.data(), data);
  EXPECT_EQ(dev.interfaces.size(), 2u);
}

}  // namespace
