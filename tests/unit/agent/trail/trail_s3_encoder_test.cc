// S3 trail files: CloudTrail's key layout, SSE headers, rolling by time and size, and an Athena
// check: the object read back (gunzip + parse) against the standard CloudTrail table.
#include "agent/sinks/trail_s3_encoder.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>
#include <regex>
#include <set>

#include "common/http/gzip.h"
#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

using agent::S3TrailFileBuilder;
using agent::S3TrailObject;
using Json = nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

const common::WallTime kDelivery = common::WallTime(seconds(1780315512));  // 2026-06-01T12:05:12Z

std::vector<std::string> read_records_ids(const S3TrailObject& o) {
  const auto text = common::http::gzip_decompress(o.body, 1u << 30);
  EXPECT_TRUE(text.ok());
  std::vector<std::string> ids;
  const Json file = Json::parse(*text);
  for (const auto& r : file["Records"]) ids.push_back(r["eventID"]);
  return ids;
}

TEST(S3TrailEncoder, KeyIsCloudTrailsLayout) {
  // aws-wire-trail-sinks.md 2.5
  EXPECT_EQ(agent::cloudtrail_object_key("", "111122223333", "us-east-1", kDelivery, "k3J9xQ2mV7pL0aZt"),
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/06/01/"
            "111122223333_CloudTrail_us-east-1_20260601T1205Z_k3J9xQ2mV7pL0aZt.json.gz");
  EXPECT_EQ(agent::cloudtrail_object_key("/audit/trail/", "111122223333", "eu-west-1",
                                         common::WallTime(seconds(1767225599)), "AAAAAAAAAAAAAAAA"),
            "audit/trail/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/12/31/"
            "111122223333_CloudTrail_eu-west-1_20251231T2359Z_AAAAAAAAAAAAAAAA.json.gz");
}

TEST(S3TrailEncoder, UniqueStringIsSixteenAlphanumericsAndDeterministic) {
  const std::string a = agent::cloudtrail_unique_string("seed-1");
  EXPECT_TRUE(std::regex_match(a, std::regex("[A-Za-z0-9]{16}"))) << a;
  EXPECT_EQ(a, agent::cloudtrail_unique_string("seed-1"));
  EXPECT_NE(a, agent::cloudtrail_unique_string("seed-2"));
}

TEST(S3TrailEncoder, SseHeaders) {
  using H = agent::HttpHeaders;
  const H base{{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
  EXPECT_EQ(agent::s3_trail_headers(agent::S3Encryption::kNone, "ignored"), base);
  H aes = base;
  aes.emplace_back("x-amz-server-side-encryption", "AES256");
  EXPECT_EQ(agent::s3_trail_headers(agent::S3Encryption::kAes256, ""), aes);
  H kms = base;
  kms.emplace_back("x-amz-server-side-encryption", "aws:kms");
  EXPECT_EQ(agent::s3_trail_headers(agent::S3Encryption::kAwsKms, ""), kms);  // the aws/s3 key
  kms.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:111122223333:key/1234");
  EXPECT_EQ(agent::s3_trail_headers(agent::S3Encryption::kAwsKms, "arn:aws:kms:us-east-1:111122223333:key/1234"), kms);
}

TEST(S3TrailEncoder, OptionsFromTheSinkConfig) {
  agent::TrailSink sink;
  sink.type = agent::SinkType::kS3;
  sink.prefix = "p";
  sink.interval = minutes(2);
  sink.max_object_size = 1234;
  sink.sse = agent::S3Encryption::kAwsKms;
  sink.kms_key_id = "alias/k";
  const auto o = agent::s3_trail_options(sink, tests::test_host());
  EXPECT_EQ(o.account_id, "111122223333");  // from the host when the sink leaves it empty
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.interval, minutes(2));
  EXPECT_EQ(o.max_object_size, 1234u);
  sink.account_id = "999988887777";
  EXPECT_EQ(agent::s3_trail_options(sink, tests::test_host()).account_id, "999988887777");
}

std::vector<agent::TrailRecord> corpus_records() {
  std::vector<agent::TrailRecord> out;
  for (const char* file : {"laurel/record-execve.log", "laurel/record-connect.log",
                           "audit-userspace/auparse-test-enriched-rhel10.log"})
    for (const auto& e : tests::corpus_events(file)) out.push_back(agent::map_event(e, tests::test_host()));
  return out;
}

agent::S3TrailOptions options() {
  agent::S3TrailOptions o;
  o.prefix = "trail";
  o.account_id = "111122223333";
  o.region = "us-east-1";
  o.unique_seed = "boot";
  return o;
}

// sinks spec 2.3: Content-MD5 = base64(MD5(body)); required (or a checksum) with Object Lock.
TEST(S3TrailEncoder, ContentMd5IsBase64OfTheBodysMd5) {
  EXPECT_EQ(agent::s3_content_md5(""), "1B2M2Y8AsgTpgAmY7PhCfg==");  // d41d8cd98f00b204e9800998ecf8427e
  EXPECT_EQ(agent::s3_content_md5("The quick brown fox jumps over the lazy dog"),
            "nhB9nTcrtoJr2B01QqQZ1g==");  // 9e107d9d372bb6826bd81d3542a419d6
  S3TrailFileBuilder b(options());
  const auto records = corpus_records();
  EXPECT_FALSE(b.add(records[0], kDelivery));
  const auto o = b.flush(kDelivery);
  ASSERT_TRUE(o);
  std::map<std::string, std::string> headers(o->headers.begin(), o->headers.end());
  ASSERT_EQ(headers.count("Content-MD5"), 1u);
  EXPECT_EQ(headers["Content-MD5"], agent::s3_content_md5(o->body));
}

// Off EC2 the records carry no account; the file's recipientAccountId is then the sink's account
// (the one in its key), not an empty string. On EC2 the instance's account stays.
TEST(S3TrailEncoder, RecordsWithoutAnAccountGetTheSinksAccountAsRecipient) {
  S3TrailFileBuilder b(options());  // account 111122223333
  auto records = corpus_records();
  agent::TrailRecord off_ec2 = records[0];
  off_ec2.account_id.clear();
  agent::TrailRecord on_ec2 = records[1];
  on_ec2.account_id = "444455556666";
  EXPECT_FALSE(b.add(off_ec2, kDelivery));
  EXPECT_FALSE(b.add(on_ec2, kDelivery));
  const auto o = b.flush(kDelivery);
  ASSERT_TRUE(o);
  const auto text = common::http::gzip_decompress(o->body, 1u << 30);
  ASSERT_TRUE(text.ok());
  const Json file = Json::parse(*text);
  EXPECT_EQ(file["Records"][0]["recipientAccountId"], "111122223333");
  EXPECT_EQ(file["Records"][1]["recipientAccountId"], "444455556666");
}

TEST(S3TrailEncoder, RollsAfterTheInterval) {
  S3TrailFileBuilder b(options());
  const auto records = corpus_records();
  EXPECT_FALSE(b.deadline());
  EXPECT_FALSE(b.add(records[0], kDelivery));
  EXPECT_FALSE(b.add(records[1], kDelivery + minutes(3)));
  EXPECT_EQ(b.deadline(), kDelivery + minutes(5));
  EXPECT_FALSE(b.roll_due(kDelivery + minutes(5) - seconds(1)));
  const auto o = b.roll_due(kDelivery + minutes(5));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->record_count, 2u);
  EXPECT_EQ(o->event_ids, (std::vector<std::string>{records[0].event_id, records[1].event_id}));
  EXPECT_EQ(read_records_ids(*o), o->event_ids);
  EXPECT_TRUE(o->key.starts_with("trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/06/01/"
                                 "111122223333_CloudTrail_us-east-1_20260601T1210Z_"))
      << o->key;  // named by delivery time: 12:05:12 + 5 min
  EXPECT_EQ(b.pending_records(), 0u);
  EXPECT_FALSE(b.roll_due(kDelivery + minutes(20)));
  EXPECT_FALSE(b.flush(kDelivery + minutes(20)));
}

TEST(S3TrailEncoder, RollsBySizeAndNeverDrops) {
  const auto records = corpus_records();
  ASSERT_GT(records.size(), 20u);
  std::size_t biggest = 0;
  for (const auto& r : records) biggest = std::max(biggest, agent::render_cloudtrail_event(r).size());
  agent::S3TrailOptions o = options();
  o.max_object_size = 3 * biggest;
  S3TrailFileBuilder b(o);
  std::vector<S3TrailObject> objects;
  common::WallTime t = kDelivery;
  for (const auto& r : records) {
    if (auto done = b.add(r, t)) objects.push_back(std::move(*done));
    t += seconds(1);
  }
  if (auto last = b.flush(t)) objects.push_back(std::move(*last));
  ASSERT_GT(objects.size(), 3u);
  std::vector<std::string> all;
  std::set<std::string> keys;
  for (const auto& obj : objects) {
    EXPECT_LE(obj.uncompressed_bytes, o.max_object_size);
    const auto text = common::http::gzip_decompress(obj.body, 1u << 30);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->size(), obj.uncompressed_bytes);
    EXPECT_TRUE(keys.insert(obj.key).second) << "key reused: " << obj.key;
    for (const auto& id : read_records_ids(obj)) all.push_back(id);
  }
  std::vector<std::string> expected;
  for (const auto& r : records) expected.push_back(r.event_id);
  EXPECT_EQ(all, expected);

  // one record larger than the cap: a file of its own
  agent::S3TrailOptions tiny = options();
  tiny.max_object_size = 10;
  S3TrailFileBuilder small(tiny);
  EXPECT_FALSE(small.add(records[0], kDelivery));
  const auto first = small.add(records[1], kDelivery);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->record_count, 1u);
  EXPECT_EQ(small.pending_records(), 1u);
}

// ---- Athena: the standard CloudTrail table (aws-wire-trail-sinks.md 3.4) -----------------------

// The table's columns as in AWS's DDL.
constexpr const char* kAthenaColumns[][2] = {
    {"eventversion", "STRING"},
    {"useridentity",
     "STRUCT<type:STRING,principalid:STRING,arn:STRING,accountid:STRING,invokedby:STRING,accesskeyid:STRING,"
     "username:STRING,onbehalfof:STRUCT<userid:STRING,identitystorearn:STRING>,"
     "sessioncontext:STRUCT<attributes:STRUCT<mfaauthenticated:STRING,creationdate:STRING>,"
     "sessionissuer:STRUCT<type:STRING,principalid:STRING,arn:STRING,accountid:STRING,username:STRING>,"
     "ec2roledelivery:STRING,webidfederationdata:STRUCT<federatedprovider:STRING,attributes:MAP<STRING,STRING>>>>"},
    {"eventtime", "STRING"},
    {"eventsource", "STRING"},
    {"eventname", "STRING"},
    {"awsregion", "STRING"},
    {"sourceipaddress", "STRING"},
    {"useragent", "STRING"},
    {"errorcode", "STRING"},
    {"errormessage", "STRING"},
    {"requestparameters", "STRING"},
    {"responseelements", "STRING"},
    {"additionaleventdata", "STRING"},
    {"requestid", "STRING"},
    {"eventid", "STRING"},
    {"readonly", "STRING"},
    {"resources", "ARRAY<STRUCT<arn:STRING,accountid:STRING,type:STRING>>"},
    {"eventtype", "STRING"},
    {"apiversion", "STRING"},
    {"recipientaccountid", "STRING"},
    {"serviceeventdetails", "STRING"},
    {"sharedeventid", "STRING"},
    {"vpcendpointid", "STRING"},
    {"vpcendpointaccountid", "STRING"},
    {"eventcategory", "STRING"},
    {"addendum", "STRUCT<reason:STRING,updatedfields:STRING,originalrequestid:STRING,originaleventid:STRING>"},
    {"sessioncredentialfromconsole", "STRING"},
    {"edgedevicedetails", "STRING"},
    {"tlsdetails", "STRUCT<tlsversion:STRING,ciphersuite:STRING,clientprovidedhostheader:STRING>"},
};

// A Hive type: STRING, STRUCT<name:type,...>, ARRAY<type>, MAP<k,v>.
struct HiveType {
  std::string kind;
  std::vector<std::pair<std::string, std::shared_ptr<HiveType>>> fields;  // STRUCT
  std::shared_ptr<HiveType> element;                                      // ARRAY / MAP value
};

std::shared_ptr<HiveType> parse_hive(std::string_view& s) {
  auto t = std::make_shared<HiveType>();
  std::size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  t->kind = std::string(s.substr(0, n));
  s.remove_prefix(n);
  if (t->kind == "STRING") return t;
  EXPECT_EQ(s.front(), '<');
  s.remove_prefix(1);
  if (t->kind == "STRUCT") {
    while (true) {
      const std::size_t colon = s.find(':');
      const std::string name(s.substr(0, colon));
      s.remove_prefix(colon + 1);
      t->fields.emplace_back(name, parse_hive(s));
      const char c = s.front();
      s.remove_prefix(1);
      if (c == '>') break;
    }
  } else if (t->kind == "ARRAY") {
    t->element = parse_hive(s);
    s.remove_prefix(1);
  } else if (t->kind == "MAP") {
    (void)parse_hive(s);
    s.remove_prefix(1);  // ','
    t->element = parse_hive(s);
    s.remove_prefix(1);
  } else {
    ADD_FAILURE() << "unknown hive type " << t->kind;
  }
  return t;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Keys of every object must differ in more than case (the SerDe lower-cases them).
void expect_no_case_collisions(const Json& j, const std::string& where) {
  if (j.is_object()) {
    std::set<std::string> seen;
    for (const auto& [k, v] : j.items()) {
      EXPECT_TRUE(seen.insert(lower(k)).second) << where << ": keys differ only in case: " << k;
      expect_no_case_collisions(v, where + "." + k);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) expect_no_case_collisions(v, where + "[]");
  }
}

// A STRUCT/ARRAY/MAP column must hold the JSON shape the SerDe maps onto it; struct members we
// write must be members of the struct (others would be silently dropped) with string leaves.
void expect_fits(const Json& v, const HiveType& t, const std::string& where) {
  if (v.is_null()) return;
  if (t.kind == "STRING") {
    EXPECT_TRUE(v.is_string()) << where << " should be a JSON string, is " << v.type_name();
  } else if (t.kind == "STRUCT") {
    ASSERT_TRUE(v.is_object()) << where;
    for (const auto& [k, sub] : v.items()) {
      const auto it = std::find_if(t.fields.begin(), t.fields.end(), [&](const auto& f) { return f.first == lower(k); });
      ASSERT_NE(it, t.fields.end()) << where << "." << k << " is not a column of the struct";
      expect_fits(sub, *it->second, where + "." + k);
    }
  } else if (t.kind == "ARRAY") {
    ASSERT_TRUE(v.is_array()) << where;
    for (const auto& e : v) expect_fits(e, *t.element, where + "[]");
  } else if (t.kind == "MAP") {
    ASSERT_TRUE(v.is_object()) << where;
    for (const auto& [k, sub] : v.items()) expect_fits(sub, *t.element, where + "." + k);
  }
}

TEST(S3TrailEncoder, AthenaCloudTrailTableReadsTheObject) {
  std::map<std::string, std::shared_ptr<HiveType>> columns;
  for (const auto& [name, type] : kAthenaColumns) {
    std::string_view text = type;
    columns[name] = parse_hive(text);
    EXPECT_TRUE(text.empty()) << name;
  }
  ASSERT_EQ(columns.size(), 29u);
  // STRING columns CloudTrail fills with JSON objects / booleans (the SerDe keeps their JSON text).
  const std::map<std::string, Json::value_t> kJsonInString = {
      {"requestparameters", Json::value_t::object},
      {"responseelements", Json::value_t::object},
      {"additionaleventdata", Json::value_t::object},
      {"readonly", Json::value_t::boolean},
  };
  // Written in every record of ours; errorcode/errormessage exactly on failure.
  const std::set<std::string> kAlways = {
      "eventversion", "useridentity", "eventtime", "eventsource", "eventname", "awsregion",
      "sourceipaddress", "useragent", "requestparameters", "responseelements", "additionaleventdata",
      "requestid", "eventid", "readonly", "resources", "eventtype", "recipientaccountid", "eventcategory"};
  // CloudTrail writes these too; the table has no column for them (ignored by the SerDe).
  const std::set<std::string> kNotInTable = {"managementevent"};

  S3TrailFileBuilder b(options());
  const auto records = corpus_records();
  for (const auto& r : records) ASSERT_FALSE(b.add(r, kDelivery));
  const auto object = b.flush(kDelivery);
  ASSERT_TRUE(object);

  // LOCATION s3://<bucket>/<prefix>/AWSLogs/<account>/CloudTrail/<region> + projection yyyy/MM/dd, .json.gz
  EXPECT_TRUE(std::regex_match(object->key,
                               std::regex("trail/AWSLogs/111122223333/CloudTrail/us-east-1/\\d{4}/\\d{2}/\\d{2}/"
                                          "111122223333_CloudTrail_us-east-1_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz")))
      << object->key;
  // one gzip member: its ISIZE trailer is the whole uncompressed length
  const auto text = common::http::gzip_decompress(object->body, 1u << 30);
  ASSERT_TRUE(text.ok());
  const auto* tail = reinterpret_cast<const unsigned char*>(object->body.data() + object->body.size() - 4);
  EXPECT_EQ(static_cast<std::size_t>(tail[0] | tail[1] << 8 | tail[2] << 16 | static_cast<uint32_t>(tail[3]) << 24),
            text->size());

  const Json file = Json::parse(*text);
  ASSERT_TRUE(file.is_object());
  EXPECT_EQ(file.size(), 1u);
  const Json& rows = file["Records"];
  ASSERT_EQ(rows.size(), records.size());
  std::size_t failures = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Json& row = rows[i];
    const std::string where = "Records[" + std::to_string(i) + "]";
    expect_no_case_collisions(row, where);
    std::set<std::string> present;
    for (const auto& [key, value] : row.items()) {
      const std::string col = lower(key);
      present.insert(col);
      if (kNotInTable.count(col) != 0) continue;
      const auto it = columns.find(col);
      ASSERT_NE(it, columns.end()) << where << ": " << key << " is not a column";
      const auto json_kind = kJsonInString.find(col);
      if (json_kind != kJsonInString.end()) {
        EXPECT_EQ(value.type(), json_kind->second) << where << "." << key;
      } else {
        expect_fits(value, *it->second, where + "." + key);
      }
    }
    for (const auto& col : kAlways) EXPECT_TRUE(present.count(col)) << where << " lacks " << col;
    const bool failed = records[i].result == agent::TrailResult::kFailure;
    failures += failed ? 1 : 0;
    EXPECT_EQ(present.count("errorcode") == 1, failed) << where;
    EXPECT_EQ(present.count("errormessage") == 1, failed) << where;
    EXPECT_TRUE(std::regex_match(row["eventTime"].get<std::string>(), std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ")));
    EXPECT_EQ(row["eventID"], records[i].event_id);
    EXPECT_EQ(row["eventVersion"].get<std::string>().substr(0, 2), "1.");  // readers compare the major
  }
  EXPECT_GT(failures, 0u);  // the sample has failed calls and logins
}

}  // namespace
