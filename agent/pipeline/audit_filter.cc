#include "agent/pipeline/audit_filter.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace agent {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <typename Pred>
bool any_of(const std::vector<std::string>& wanted, Pred pred) {
  return std::any_of(wanted.begin(), wanted.end(), pred);
}

bool user_matches(const std::string& wanted, const TrailIdentity& id) {
  auto is = [&](const std::optional<uint32_t>& n, const std::string& name) {
    if (!name.empty() && name == wanted) return true;
    return n && std::to_string(*n) == wanted;
  };
  return is(id.auid, id.auid_name) || is(id.uid, id.uid_name);
}

}  // namespace

bool audit_filter_matches(const AuditFilter& f, const TrailRecord& r) {
  if (!f.record_types.empty() && !any_of(f.record_types, [&](const std::string& t) {
        return std::any_of(r.record_types.begin(), r.record_types.end(),
                           [&](const std::string& have) { return iequals(have, t); });
      }))
    return false;
  if (!f.keys.empty() && !any_of(f.keys, [&](const std::string& k) {
        return std::find(r.keys.begin(), r.keys.end(), k) != r.keys.end();
      }))
    return false;
  if (!f.users.empty() && !any_of(f.users, [&](const std::string& u) { return user_matches(u, r.identity); }))
    return false;
  if (!f.results.empty() && !any_of(f.results, [&](const std::string& want) {
        return r.result != TrailResult::kUnknown && iequals(want, to_string(r.result));
      }))
    return false;
  return true;
}

bool AuditEventFilter::accepts(const TrailRecord& record) const {
  if (!filters_.include.empty() && !audit_filter_matches(filters_.include, record)) return false;
  if (!filters_.exclude.empty() && audit_filter_matches(filters_.exclude, record)) return false;
  return true;
}

}  // namespace agent
