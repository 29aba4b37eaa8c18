// PutMetricData query encoding, validation and packing (agent/sinks/cloudwatch_encoder.h).
#include "agent/sinks/cloudwatch_encoder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "common/aws/sigv4.h"
#include "common/http/gzip.h"

namespace {

using agent::cloudwatch::Datum;
using agent::cloudwatch::DatumProblem;
using agent::cloudwatch::PackLimits;
using agent::cloudwatch::PackStats;
using agent::cloudwatch::StatisticSet;
using agent::cloudwatch::ValuesCounts;

common::WallTime at(int64_t secs, int64_t millis = 0) {
  return common::WallTime(std::chrono::seconds(secs) + std::chrono::milliseconds(millis));
}

// 2015-08-30T12:36:00Z, the spec's worked example.
const common::WallTime kExampleTime = at(1440938160);

Datum value_datum(std::string name, double value, common::WallTime t = kExampleTime) {
  Datum d;
  d.metric_name = std::move(name);
  d.timestamp = t;
  d.unit = "Percent";
  d.data = value;
  return d;
}

std::string encode(std::string_view ns, const std::vector<Datum>& datums) {
  std::string out;
  agent::cloudwatch::encode_put_metric_data(ns, datums, out);
  return out;
}

TEST(CloudWatchEncoder, SpecWorkedExampleBodyIsReproducedExactly) {
  Datum d = value_datum("CPUUtilization", 12.5);
  d.dimensions = {{"InstanceId", "i-0123456789abcdef0"}};
  EXPECT_EQ(encode("EC2Agent", {d}),
            "Action=PutMetricData&Version=2010-08-01&Namespace=EC2Agent"
            "&MetricData.member.1.MetricName=CPUUtilization"
            "&MetricData.member.1.Dimensions.member.1.Name=InstanceId"
            "&MetricData.member.1.Dimensions.member.1.Value=i-0123456789abcdef0"
            "&MetricData.member.1.Timestamp=2015-08-30T12%3A36%3A00Z"
            "&MetricData.member.1.Value=12.5&MetricData.member.1.Unit=Percent");
  // And its SHA-256 is the one the spec signed.
  EXPECT_EQ(common::aws::sha256_hex(encode("EC2Agent", {d})),
            "a44bde83893a3e7c39bfd04ca8d83968335403b734248d71fb257eefc8bfd632");
}

TEST(CloudWatchEncoder, MembersAreNumberedAndEveryShapeIsEncoded) {
  Datum a = value_datum("disk used/free", 1e21, at(1440938160, 250));
  a.dimensions = {{"path", "/var/log"}, {"host name", "a:b~c"}};
  a.unit = "Bytes/Second";
  a.storage_resolution = 1;
  Datum b = value_datum("lat", 0);
  b.data = ValuesCounts{{0.1, 2.5}, {3, 1}};
  b.unit = "Milliseconds";
  Datum c = value_datum("ones", 0);
  c.data = ValuesCounts{{-7, 8}, {1, 1}};  // all counts 1: Counts omitted
  Datum s = value_datum("stat", 0);
  s.data = StatisticSet{60, 1234.5, -0.25, 99};
  s.unit = "None";
  EXPECT_EQ(encode("My App/ns", {a, b, c, s}),
            "Action=PutMetricData&Version=2010-08-01&Namespace=My%20App%2Fns"
            "&MetricData.member.1.MetricName=disk%20used%2Ffree"
            "&MetricData.member.1.Dimensions.member.1.Name=path"
            "&MetricData.member.1.Dimensions.member.1.Value=%2Fvar%2Flog"
            "&MetricData.member.1.Dimensions.member.2.Name=host%20name"
            "&MetricData.member.1.Dimensions.member.2.Value=a%3Ab~c"
            "&MetricData.member.1.Timestamp=2015-08-30T12%3A36%3A00.250Z"
            "&MetricData.member.1.Value=1e%2B21"
            "&MetricData.member.1.Unit=Bytes%2FSecond"
            "&MetricData.member.1.StorageResolution=1"
            "&MetricData.member.2.MetricName=lat"
            "&MetricData.member.2.Timestamp=2015-08-30T12%3A36%3A00Z"
            "&MetricData.member.2.Values.member.1=0.1&MetricData.member.2.Values.member.2=2.5"
            "&MetricData.member.2.Counts.member.1=3&MetricData.member.2.Counts.member.2=1"
            "&MetricData.member.2.Unit=Milliseconds"
            "&MetricData.member.3.MetricName=ones"
            "&MetricData.member.3.Timestamp=2015-08-30T12%3A36%3A00Z"
            "&MetricData.member.3.Values.member.1=-7&MetricData.member.3.Values.member.2=8"
            "&MetricData.member.3.Unit=Percent"
            "&MetricData.member.4.MetricName=stat"
            "&MetricData.member.4.Timestamp=2015-08-30T12%3A36%3A00Z"
            "&MetricData.member.4.StatisticValues.SampleCount=60"
            "&MetricData.member.4.StatisticValues.Sum=1234.5"
            "&MetricData.member.4.StatisticValues.Minimum=-0.25"
            "&MetricData.member.4.StatisticValues.Maximum=99"
            "&MetricData.member.4.Unit=None");
}

TEST(CloudWatchEncoder, UriEncodingMatchesSigV4ForEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string out;
  agent::cloudwatch::append_uri_encoded(all, out);
  EXPECT_EQ(out, common::aws::uri_encode(all, true));
  out.clear();
  agent::cloudwatch::append_uri_encoded("a b+c", out);
  EXPECT_EQ(out, "a%20b%2Bc");
}

TEST(CloudWatchEncoder, DoublesAreShortAndReadBackExactly) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-300, 300);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::ldexp(mantissa(rng), exponent(rng));
    std::string text;
    agent::cloudwatch::append_double(v, text);
    std::string decoded;
    for (std::size_t k = 0; k < text.size(); ++k) {  // undo %2B
      if (text[k] == '%') {
        decoded.push_back(static_cast<char>(std::strtol(text.substr(k + 1, 2).c_str(), nullptr, 16)));
        k += 2;
      } else {
        decoded.push_back(text[k]);
      }
    }
    ASSERT_EQ(std::strtod(decoded.c_str(), nullptr), v) << decoded;
    ASSERT_LE(decoded.size(), 24u) << decoded;
  }
  std::string s;
  agent::cloudwatch::append_double(0.1, s);
  agent::cloudwatch::append_double(100, s);
  EXPECT_EQ(s, "0.1100");
}

TEST(CloudWatchEncoder, EncodedDatumSizeMatchesAppend) {
  Datum d = value_datum("m", 3);
  d.data = ValuesCounts{{1, 2, 3}, {4, 5, 6}};
  std::string body;
  agent::cloudwatch::append_datum(d, 417, body);
  EXPECT_EQ(agent::cloudwatch::encoded_datum_size(d, 417), body.size());
  // MetricName, Timestamp, 3 Values, 3 Counts, Unit: 9 keys, each one digit longer.
  EXPECT_EQ(agent::cloudwatch::encoded_datum_size(d, 4170), body.size() + 9);
}

// ---- validation ------------------------------------------------------------------------------

struct BadCase {
  const char* what;
  DatumProblem problem;
  void (*mutate)(Datum&);
};

TEST(CloudWatchValidation, EachRuleRejectsItsCaseWithItsReason) {
  const common::WallTime now = kExampleTime;
  const BadCase cases[] = {
      {"empty name", DatumProblem::kMetricName, [](Datum& d) { d.metric_name.clear(); }},
      {"long name", DatumProblem::kMetricName, [](Datum& d) { d.metric_name.assign(256, 'a'); }},
      {"non-ascii name", DatumProblem::kMetricName, [](Datum& d) { d.metric_name = "caf\xc3\xa9"; }},
      {"control char", DatumProblem::kMetricName, [](Datum& d) { d.metric_name = "a\tb"; }},
      {"spaces only", DatumProblem::kMetricName, [](Datum& d) { d.metric_name = "   "; }},
      {"dim colon", DatumProblem::kDimension, [](Datum& d) { d.dimensions = {{":x", "v"}}; }},
      {"dim empty value", DatumProblem::kDimension, [](Datum& d) { d.dimensions = {{"x", ""}}; }},
      {"dim long value", DatumProblem::kDimension, [](Datum& d) { d.dimensions = {{"x", std::string(1025, 'v')}}; }},
      {"dim long name", DatumProblem::kDimension, [](Datum& d) { d.dimensions = {{std::string(256, 'n'), "v"}}; }},
      {"dim duplicate", DatumProblem::kDimension, [](Datum& d) { d.dimensions = {{"x", "1"}, {"x", "2"}}; }},
      {"31 dims", DatumProblem::kTooManyDimensions,
       [](Datum& d) {
         for (int i = 0; i < 31; ++i) d.dimensions.push_back({"d" + std::to_string(i), "v"});
       }},
      {"nan", DatumProblem::kValue, [](Datum& d) { d.data = std::nan(""); }},
      {"inf", DatumProblem::kValue, [](Datum& d) { d.data = HUGE_VAL; }},
      {"2^361", DatumProblem::kValue, [](Datum& d) { d.data = std::ldexp(1.0, 361); }},
      {"2^-361", DatumProblem::kValue, [](Datum& d) { d.data = std::ldexp(1.0, -361); }},
      {"nan in values", DatumProblem::kValue, [](Datum& d) { d.data = ValuesCounts{{1, std::nan("")}, {}}; }},
      {"inf statistic", DatumProblem::kValue, [](Datum& d) { d.data = StatisticSet{1, HUGE_VAL, 0, 1}; }},
      {"15 days old", DatumProblem::kTimestamp, [](Datum& d) { d.timestamp -= std::chrono::hours(15 * 24); }},
      {"3 h ahead", DatumProblem::kTimestamp, [](Datum& d) { d.timestamp += std::chrono::hours(3); }},
      {"unit case", DatumProblem::kUnit, [](Datum& d) { d.unit = "percent"; }},
      {"unit unknown", DatumProblem::kUnit, [](Datum& d) { d.unit = "Bytes/Minute"; }},
      {"counts length", DatumProblem::kShape, [](Datum& d) { d.data = ValuesCounts{{1, 2}, {1}}; }},
      {"empty values", DatumProblem::kShape, [](Datum& d) { d.data = ValuesCounts{}; }},
      {"min > max", DatumProblem::kShape, [](Datum& d) { d.data = StatisticSet{2, 3, 5, 1}; }},
      {"resolution 10", DatumProblem::kShape, [](Datum& d) { d.storage_resolution = 10; }},
  };
  for (const BadCase& c : cases) {
    Datum d = value_datum("ok", 1);
    c.mutate(d);
    DatumProblem p{};
    EXPECT_TRUE(agent::cloudwatch::datum_problem(d, now, p)) << c.what;
    EXPECT_EQ(p, c.problem) << c.what;
    EXPECT_FALSE(agent::cloudwatch::validate_datum(d, now).ok()) << c.what;
  }
}

TEST(CloudWatchValidation, BoundaryValuesPass) {
  const common::WallTime now = kExampleTime;
  Datum d = value_datum(std::string(255, 'n'), std::ldexp(1.0, 360));
  for (int i = 0; i < 30; ++i) d.dimensions.push_back({"d" + std::to_string(i), std::string(1024, 'v')});
  d.timestamp = now - std::chrono::hours(14 * 24) + std::chrono::seconds(1);
  EXPECT_TRUE(agent::cloudwatch::validate_datum(d, now).ok());
  d.timestamp = now + std::chrono::hours(2);
  d.data = 0.0;
  d.unit = "Terabits/Second";
  EXPECT_TRUE(agent::cloudwatch::validate_datum(d, now).ok());
  EXPECT_TRUE(agent::cloudwatch::is_standard_unit("Count/Second"));
  EXPECT_FALSE(agent::cloudwatch::is_standard_unit("Counts"));
}

// ---- packing ---------------------------------------------------------------------------------

TEST(CloudWatchPack, BadDatumIsDroppedAloneAndNumberingStaysContiguous) {
  std::vector<Datum> datums = {value_datum("a", 1), value_datum("b", std::nan("")), value_datum("c", 3)};
  datums.push_back(value_datum("d", 4));
  datums[3].unit = "Furlongs";
  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("ns", datums, kExampleTime, &st);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].datum_count, 2u);
  EXPECT_EQ(reqs[0].body, encode("ns", {datums[0], datums[2]}));
  EXPECT_EQ(st.datums_dropped, 2u);
  EXPECT_EQ(st.dropped(DatumProblem::kValue), 1u);
  EXPECT_EQ(st.dropped(DatumProblem::kUnit), 1u);
  EXPECT_EQ(st.datums_sent, 2u);
  std::vector<std::size_t> dropped;
  agent::cloudwatch::pack_requests("ns", datums, kExampleTime, nullptr, {}, &dropped);
  EXPECT_EQ(dropped, (std::vector<std::size_t>{1, 3}));
}

TEST(CloudWatchPack, SplitsOnTheDatumCountLimit) {
  std::vector<Datum> datums;
  for (int i = 0; i < 2500; ++i) datums.push_back(value_datum("m" + std::to_string(i), i));
  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("ns", datums, kExampleTime, &st);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].datum_count, 1000u);
  EXPECT_EQ(reqs[1].datum_count, 1000u);
  EXPECT_EQ(reqs[2].datum_count, 500u);
  // Each request is exactly the encoding of its slice (numbering restarts at 1).
  std::vector<Datum> slice(datums.begin() + 1000, datums.begin() + 2000);
  EXPECT_EQ(reqs[1].body, encode("ns", slice));
  EXPECT_EQ(st.requests, 3u);
}

TEST(CloudWatchPack, SplitsOnTheBodySizeLimitAndFillsEachRequest) {
  // 150 distinct full-precision values with counts: several KB per datum, so 1 MB binds first.
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> dist(0, 100);
  std::vector<Datum> datums;
  for (int i = 0; i < 400; ++i) {
    Datum d = value_datum("latency_" + std::to_string(i), 0);
    d.dimensions = {{"InstanceId", "i-0123456789abcdef0"}, {"service", "api"}};
    ValuesCounts vc;
    for (int k = 0; k < 150; ++k) {
      vc.values.push_back(dist(rng));
      vc.counts.push_back(k % 3 + 1);
    }
    d.data = std::move(vc);
    datums.push_back(std::move(d));
  }
  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("ns", datums, kExampleTime, &st);
  ASSERT_GT(reqs.size(), 1u);
  std::size_t next = 0;
  for (std::size_t r = 0; r < reqs.size(); ++r) {
    EXPECT_LE(reqs[r].body.size(), agent::cloudwatch::kMaxRequestBytes);
    EXPECT_LT(reqs[r].datum_count, agent::cloudwatch::kMaxDatumsPerRequest);
    next += reqs[r].datum_count;
    if (r + 1 < reqs.size()) {  // the next datum really did not fit
      EXPECT_GT(reqs[r].body.size() + agent::cloudwatch::encoded_datum_size(datums[next], reqs[r].datum_count + 1),
                agent::cloudwatch::kMaxRequestBytes);
    }
  }
  EXPECT_EQ(next, datums.size());
  EXPECT_EQ(st.datums_dropped, 0u);
}

TEST(CloudWatchPack, SplitsADatumWithMoreThan150Values) {
  Datum d = value_datum("many", 0);
  ValuesCounts vc;
  for (int k = 0; k < 400; ++k) {
    vc.values.push_back(k);
    vc.counts.push_back(2);
  }
  d.data = vc;
  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("ns", std::vector<Datum>{d}, kExampleTime, &st);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].datum_count, 3u);
  EXPECT_EQ(st.datums_split, 1u);
  EXPECT_EQ(st.datums_sent, 3u);
  std::vector<Datum> expected(3, d);
  for (int part = 0; part < 3; ++part) {
    ValuesCounts chunk;
    for (int k = part * 150; k < std::min(400, part * 150 + 150); ++k) {
      chunk.values.push_back(k);
      chunk.counts.push_back(2);
    }
    expected[static_cast<std::size_t>(part)].data = chunk;
  }
  EXPECT_EQ(reqs[0].body, encode("ns", expected));
  EXPECT_NE(reqs[0].body.find("MetricData.member.3.Values.member.100=399&"), std::string::npos);
  EXPECT_EQ(reqs[0].body.find("Values.member.151="), std::string::npos);
}

TEST(CloudWatchPack, TooManyDimensionsIsDroppedNotSplit) {
  Datum d = value_datum("wide", 1);
  for (int i = 0; i < 31; ++i) d.dimensions.push_back({"d" + std::to_string(i), "v"});
  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("ns", std::vector<Datum>{d, value_datum("ok", 1)}, kExampleTime, &st);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].datum_count, 1u);
  EXPECT_EQ(st.dropped(DatumProblem::kTooManyDimensions), 1u);
}

TEST(CloudWatchPack, GzipFromTenKilobytesAndBothSizesReported) {
  std::vector<Datum> small = {value_datum("a", 1)};
  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("ns", small, kExampleTime, &st);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].compressed());
  EXPECT_EQ(reqs[0].wire_body(), reqs[0].body);
  EXPECT_EQ(st.raw_bytes, st.wire_bytes);

  std::vector<Datum> big;
  for (int i = 0; i < 200; ++i) big.push_back(value_datum("metric_" + std::to_string(i), i * 0.5));
  PackStats st2;
  reqs = agent::cloudwatch::pack_requests("ns", big, kExampleTime, &st2);
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_GE(reqs[0].body.size(), agent::cloudwatch::kGzipMinBytes);
  ASSERT_TRUE(reqs[0].compressed());
  auto round = common::http::gzip_decompress(reqs[0].gzipped, 2 * reqs[0].body.size());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(*round, reqs[0].body);
  EXPECT_EQ(st2.raw_bytes, reqs[0].body.size());
  EXPECT_EQ(st2.wire_bytes, reqs[0].gzipped.size());
  EXPECT_LT(st2.wire_bytes, st2.raw_bytes / 3);
  EXPECT_EQ(st2.compressed_requests, 1u);

  // Exactly at the threshold: compressed; one byte below: not.
  PackLimits limits;
  limits.gzip_min_bytes = reqs[0].body.size();
  EXPECT_TRUE(agent::cloudwatch::pack_requests("ns", big, kExampleTime, nullptr, limits)[0].compressed());
  limits.gzip_min_bytes = reqs[0].body.size() + 1;
  EXPECT_FALSE(agent::cloudwatch::pack_requests("ns", big, kExampleTime, nullptr, limits)[0].compressed());
}

TEST(CloudWatchPack, EmptyInputMakesNoRequest) {
  PackStats st;
  EXPECT_TRUE(agent::cloudwatch::pack_requests("ns", std::vector<Datum>{}, kExampleTime, &st).empty());
  EXPECT_EQ(st.requests, 0u);
}

}  // namespace
