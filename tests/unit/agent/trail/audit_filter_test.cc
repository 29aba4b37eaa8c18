// AuditEventFilter: include/exclude by record type, key, user and result; exclude wins.
#include "agent/pipeline/audit_filter.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

using agent::AuditEventFilter;
using agent::AuditFilter;
using agent::AuditFilters;
using agent::TrailRecord;

// Real events: an execve by auid 1000 "user" (uid 0 root), a failed USER_LOGIN (uid 0, auid unset),
// a keyed cat by auid 1000, a connect by uid 48.
struct Events {
  TrailRecord execve = tests::map_corpus("laurel/record-execve.log", 15558);
  TrailRecord login = tests::map_corpus("audit-userspace/auparse-test-enriched-rhel10.log", 891);
  TrailRecord keyed = tests::map_corpus("laurel/record-syscall-key.log", 2365);
  TrailRecord connect = tests::map_corpus("laurel/record-connect.log", 2482682);
};

std::vector<std::string> accepted(const AuditFilters& filters, const Events& e) {
  const AuditEventFilter f(filters);
  std::vector<std::string> out;
  for (const auto* r : {&e.execve, &e.login, &e.keyed, &e.connect})
    if (f.accepts(*r)) out.push_back(r->request_id);
  return out;
}

class AuditFilterTest : public ::testing::Test {
 protected:
  Events e;
  std::string execve = e.execve.request_id;
  std::string login = e.login.request_id;
  std::string keyed = e.keyed.request_id;
  std::string connect = e.connect.request_id;
};

TEST_F(AuditFilterTest, EmptyFiltersAcceptEverything) {
  EXPECT_EQ(accepted({}, e), (std::vector<std::string>{execve, login, keyed, connect}));
}

TEST_F(AuditFilterTest, IncludeByRecordTypeAnyRecordCaseInsensitive) {
  AuditFilters f;
  f.include.record_types = {"user_login", "PATH"};  // PATH is a record of the execve event
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve, login}));
}

TEST_F(AuditFilterTest, IncludeByKey) {
  AuditFilters f;
  f.include.keys = {"filter-this"};
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{keyed}));
}

TEST_F(AuditFilterTest, UsersByNameOrNumberOnAuidOrUid) {
  AuditFilters f;
  f.include.users = {"user"};  // enriched AUID name of the execve
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve}));
  f.include.users = {"1000"};  // auid number
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve, keyed}));
  f.include.users = {"48"};  // uid number, auid unset
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{connect}));
  f.include.users = {"root"};  // uid name of the execve and the login
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve, login}));
  f.include.users = {"4294967295"};  // "unset" is not a user
  EXPECT_TRUE(accepted(f, e).empty());
}

TEST_F(AuditFilterTest, ByResult) {
  AuditFilters f;
  f.include.results = {"failure"};
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{login, connect}));
  f.include.results = {"success"};
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve, keyed}));
}

TEST_F(AuditFilterTest, ListsAreAndedFieldsOredWithin) {
  AuditFilters f;
  f.include.results = {"failure"};
  f.include.record_types = {"SYSCALL"};
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{connect}));
}

TEST_F(AuditFilterTest, ExcludeWins) {
  AuditFilters f;
  f.include.users = {"1000", "48"};
  f.exclude.keys = {"filter-this"};
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve, connect}));
  f.exclude = {};
  f.exclude.results = {"failure"};  // exclude alone: everything but failures
  f.include = {};
  EXPECT_EQ(accepted(f, e), (std::vector<std::string>{execve, keyed}));
  f.include.record_types = {"USER_LOGIN"};  // included and excluded: excluded
  EXPECT_TRUE(accepted(f, e).empty());
}

TEST_F(AuditFilterTest, UnknownResultMatchesNeitherResult) {
  TrailRecord r = e.execve;
  r.result = agent::TrailResult::kUnknown;
  AuditFilter only_success;
  only_success.results = {"success"};
  AuditFilter only_failure;
  only_failure.results = {"failure"};
  EXPECT_FALSE(agent::audit_filter_matches(only_success, r));
  EXPECT_FALSE(agent::audit_filter_matches(only_failure, r));
  EXPECT_TRUE(agent::audit_filter_matches(AuditFilter{}, r));
}

}  // namespace
