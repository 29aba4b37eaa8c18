#include "agent/alarms/alarm_evaluator.h"

#include <algorithm>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace agent {

namespace {

using common::Error;
using common::ErrorCode;
using common::WallTime;
using Json = nlohmann::ordered_json;

constexpr int kStateVersion = 1;

bool holds(Comparison comparison, double value, double threshold) {
  switch (comparison) {
    case Comparison::kGreaterThanOrEqualToThreshold: return value >= threshold;
    case Comparison::kGreaterThanThreshold: return value > threshold;
    case Comparison::kLessThanThreshold: return value < threshold;
    case Comparison::kLessThanOrEqualToThreshold: return value <= threshold;
  }
  return false;
}

std::string_view comparison_words(Comparison comparison) {
  switch (comparison) {
    case Comparison::kGreaterThanOrEqualToThreshold: return "greater than or equal to";
    case Comparison::kGreaterThanThreshold: return "greater than";
    case Comparison::kLessThanThreshold: return "less than";
    case Comparison::kLessThanOrEqualToThreshold: return "less than or equal to";
  }
  return "";
}

int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime from_ms(int64_t ms) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms)));
}

std::string count_noun(int n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

std::string_view was_were(int n) { return n == 1 ? "was" : "were"; }

const std::vector<std::string>& actions_for(const AlarmConfig& config, AlarmState state) {
  switch (state) {
    case AlarmState::kAlarm: return config.alarm_actions;
    case AlarmState::kOk: return config.ok_actions;
    case AlarmState::kInsufficientData: return config.insufficient_data_actions;
  }
  return config.insufficient_data_actions;
}

// One evaluation's outcome before it is compared with the alarm's current state.
struct Decision {
  std::optional<AlarmState> state;  // empty: keep the current state (ignore)
  std::vector<EvaluatedDatapoint> evaluated;  // newest first
  std::string reason;
};

std::string datapoint_list(const std::vector<EvaluatedDatapoint>& evaluated, bool breaching) {
  std::string out;
  for (const EvaluatedDatapoint& d : evaluated) {
    if (!d.value || d.breaching != breaching) continue;
    if (!out.empty()) out += ", ";
    out += format_cloudwatch_number(*d.value) + " (" + format_reason_time(d.timestamp) + ")";
  }
  return out;
}

// "Threshold Crossed: 1 out of the last 1 datapoints [94.1 (26/08/22 03:45:00)] was greater than or
// equal to the threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition)."
std::string threshold_reason(const AlarmConfig& config, const std::vector<EvaluatedDatapoint>& evaluated,
                             AlarmState state, int filled, bool filled_breaching) {
  const int n = config.evaluation_periods;
  const int m = config.datapoints_to_alarm;
  int breaching = 0;
  int not_breaching = 0;
  for (const EvaluatedDatapoint& d : evaluated) (d.breaching ? breaching : not_breaching) += 1;
  const bool describe_breaching = state == AlarmState::kAlarm || not_breaching == 0;
  const int k = describe_breaching ? breaching : not_breaching;
  const int minimum = describe_breaching ? m : n - m + 1;
  std::string out = "Threshold Crossed: " + std::to_string(k) + " out of the last " + std::to_string(n) +
                    " datapoints [" + datapoint_list(evaluated, describe_breaching) + "] " +
                    std::string(was_were(k)) + " " + (describe_breaching ? "" : "not ") +
                    std::string(comparison_words(config.comparison)) + " the threshold (" +
                    format_cloudwatch_number(config.threshold) + ") (minimum " +
                    count_noun(minimum, "datapoint", "datapoints") + " for " +
                    (describe_breaching ? "OK -> ALARM" : "ALARM -> OK") + " transition).";
  if (filled > 0) {
    out += " " + count_noun(filled, "missing datapoint", "missing datapoints") + " " + std::string(was_were(filled)) +
           " treated as [" + (filled_breaching ? "Breaching" : "NonBreaching") + "].";
  }
  return out;
}

}  // namespace

std::string_view to_string(AlarmState state) {
  switch (state) {
    case AlarmState::kOk: return "OK";
    case AlarmState::kAlarm: return "ALARM";
    case AlarmState::kInsufficientData: return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

std::optional<AlarmState> parse_alarm_state(std::string_view text) {
  for (AlarmState s : {AlarmState::kOk, AlarmState::kAlarm, AlarmState::kInsufficientData}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

struct AlarmEvaluator::Alarm {
  Statistic statistic;
  AlarmTrigger trigger;
  bool audit = false;
  std::map<int64_t, PeriodAccumulator> buckets;
  int64_t last_evaluated = 0;  // newest period already evaluated
  int64_t first_observed = 0;  // audit alarms: from this period on, no events = a datapoint of 0
  AlarmState state = AlarmState::kInsufficientData;
  std::string reason = "Unchecked: Initial alarm creation";
  WallTime state_change_time{};
  WallTime last_alarm_notification{};
  uint64_t last_id = 0;
  uint64_t notified_id = 0;
  std::optional<AlarmTransition> last_transition;
};

AlarmEvaluator::AlarmEvaluator() = default;
AlarmEvaluator::AlarmEvaluator(AlarmEvaluator&&) noexcept = default;
AlarmEvaluator& AlarmEvaluator::operator=(AlarmEvaluator&&) noexcept = default;
AlarmEvaluator::~AlarmEvaluator() = default;

common::Result<AlarmEvaluator> AlarmEvaluator::create(std::vector<AlarmConfig> alarms, AlarmEvaluatorOptions options,
                                                      WallTime start) {
  AlarmEvaluator e;
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; i < alarms.size(); ++i) {
    const AlarmConfig& c = alarms[i];
    const std::string where = "alarm \"" + c.name + "\"";
    if (c.name.empty()) return Error(ErrorCode::kConfig, "alarm " + std::to_string(i) + ": empty name");
    if (!names.insert(c.name).second) return Error(ErrorCode::kConfig, where + ": duplicate name");
    if (c.metric.empty() == !c.audit_filter.has_value()) {
      return Error(ErrorCode::kConfig, where + ": set exactly one of metric and audit_filter");
    }
    if (c.period.count() <= 0) return Error(ErrorCode::kConfig, where + ": period must be positive");
    if (c.evaluation_periods < 1 || c.evaluation_periods > kMaxEvaluationPeriods) {
      return Error(ErrorCode::kConfig, where + ": evaluation_periods must be 1.." + std::to_string(kMaxEvaluationPeriods));
    }
    if (c.datapoints_to_alarm < 1 || c.datapoints_to_alarm > c.evaluation_periods) {
      return Error(ErrorCode::kConfig, where + ": datapoints_to_alarm must be 1..evaluation_periods");
    }
    if (c.repeat_interval.count() < 0) return Error(ErrorCode::kConfig, where + ": negative repeat_interval");
    auto statistic = parse_statistic(c.statistic);
    if (!statistic) return statistic.error().wrap(ErrorCode::kConfig, where);

    Alarm a;
    a.statistic = *statistic;
    a.audit = c.audit_filter.has_value();
    a.trigger = AlarmTrigger{a.audit ? std::string(kAuditMetricName) : c.metric,
                             a.audit,
                             c.statistic,
                             c.dimensions,
                             c.period,
                             c.evaluation_periods,
                             c.datapoints_to_alarm,
                             c.comparison,
                             c.threshold,
                             c.treat_missing_data};
    a.last_evaluated = period_index(start, c.period) - 1;
    a.first_observed = period_index(start, c.period);
    a.state_change_time = start;
    if (!a.audit) e.by_metric_[c.metric].push_back(i);
    e.alarms_.push_back(std::move(a));
  }
  e.configs_ = std::move(alarms);
  e.options_ = std::move(options);
  e.start_ = start;
  return e;
}

AlarmEvaluator::Alarm* AlarmEvaluator::find(std::string_view name) {
  for (size_t i = 0; i < configs_.size(); ++i) {
    if (configs_[i].name == name) return &alarms_[i];
  }
  return nullptr;
}

const AlarmEvaluator::Alarm* AlarmEvaluator::find(std::string_view name) const {
  return const_cast<AlarmEvaluator*>(this)->find(name);  // NOLINT: same lookup, const result
}

void AlarmEvaluator::add_value(Alarm& alarm, WallTime t, double value) {
  const int64_t index = period_index(t, alarm.trigger.period);
  const int64_t range = alarm.trigger.evaluation_periods + kEvaluationRangeExtraPeriods;
  // Evaluations still to come look back no further than last_evaluated - range + 2.
  if (index < alarm.last_evaluated - range + 2) {
    ++dropped_samples_;
    return;
  }
  auto it = alarm.buckets.find(index);
  if (it == alarm.buckets.end()) {
    // Far-future timestamps (a skewed clock) must not grow memory without bound.
    const size_t max_buckets = static_cast<size_t>(4 * range + 16);
    if (alarm.buckets.size() >= max_buckets) {
      ++dropped_samples_;
      return;
    }
    it = alarm.buckets.emplace(index, PeriodAccumulator(alarm.statistic.kind == Statistic::Kind::kPercentile)).first;
  }
  it->second.add(value);
}

void AlarmEvaluator::add_sample(const MetricSample& sample) {
  auto it = by_metric_.find(sample.name);
  if (it == by_metric_.end()) return;
  for (size_t index : it->second) {
    const AlarmConfig& config = configs_[index];
    bool match = true;
    for (const auto& [name, value] : config.dimensions) {
      bool found = false;
      for (uint8_t d = 0; d < sample.dim_count && d < MetricSample::kMaxDimensions; ++d) {
        if (sample.dims[d].name == name) {
          found = true;
          match = sample.dims[d].value == value;
          break;
        }
      }
      if (!found) {
        auto common_it = options_.common_dimensions.find(name);
        match = common_it != options_.common_dimensions.end() && common_it->second == value;
      }
      if (!match) break;
    }
    if (match) add_value(alarms_[index], sample.time, sample.value);
  }
}

void AlarmEvaluator::add_samples(std::span<const MetricSample> samples) {
  for (const MetricSample& s : samples) add_sample(s);
}

common::Status AlarmEvaluator::add_count(std::string_view alarm_name, WallTime t, double n) {
  Alarm* alarm = find(alarm_name);
  if (alarm == nullptr) return Error(ErrorCode::kNotFound, "no alarm named \"" + std::string(alarm_name) + "\"");
  if (!alarm->audit) {
    return Error(ErrorCode::kInvalidArgument, "alarm \"" + std::string(alarm_name) + "\" is not an audit alarm");
  }
  add_value(*alarm, t, n);
  return {};
}

std::vector<AlarmTransition> AlarmEvaluator::on_period_end(WallTime now) {
  std::vector<AlarmTransition> out;
  for (size_t i = 0; i < alarms_.size(); ++i) {
    Alarm& alarm = alarms_[i];
    const auto period = alarm.trigger.period;
    const int64_t last_closed = period_index(now, period) - 1;
    if (last_closed <= alarm.last_evaluated) continue;
    const int64_t range = alarm.trigger.evaluation_periods + kEvaluationRangeExtraPeriods;
    const int64_t first = std::max(alarm.last_evaluated + 1, last_closed - range + 1);
    for (int64_t p = first; p <= last_closed; ++p) {
      const WallTime eval_time = p == last_closed ? now : period_start(p + 1, period);
      evaluate(alarm, p, eval_time, out);
    }
    alarm.last_evaluated = last_closed;
    alarm.buckets.erase(alarm.buckets.begin(), alarm.buckets.lower_bound(last_closed - range + 2));
  }
  return out;
}

void AlarmEvaluator::evaluate(Alarm& alarm, int64_t newest, WallTime eval_time, std::vector<AlarmTransition>& out) {
  const AlarmConfig& config = configs_[static_cast<size_t>(&alarm - alarms_.data())];
  const int n = config.evaluation_periods;
  const int m = config.datapoints_to_alarm;
  const int range = n + kEvaluationRangeExtraPeriods;
  const auto period = config.period;

  // The evaluation range, newest first: real datapoints (with their age, 1 = newest period) and
  // the missing periods.
  std::vector<EvaluatedDatapoint> real;
  std::vector<int> real_age;
  std::vector<WallTime> missing;
  for (int age = 1; age <= range; ++age) {
    const int64_t index = newest - age + 1;
    auto it = alarm.buckets.find(index);
    if (it != alarm.buckets.end() && !it->second.empty()) {
      const double v = it->second.value(alarm.statistic);
      real.push_back({period_start(index, period), v, it->second.sample_count(), holds(config.comparison, v, config.threshold)});
      real_age.push_back(age);
    } else if (alarm.audit && index >= alarm.first_observed) {
      real.push_back({period_start(index, period), 0.0, 0, holds(config.comparison, 0.0, config.threshold)});
      real_age.push_back(age);
    } else {
      missing.push_back(period_start(index, period));
    }
  }

  auto count_breaching = [](const std::vector<EvaluatedDatapoint>& v) {
    return static_cast<int>(std::count_if(v.begin(), v.end(), [](const EvaluatedDatapoint& d) { return d.breaching; }));
  };
  auto with_fill = [&](std::vector<EvaluatedDatapoint> evaluated, int fill, bool breaching) {
    for (int f = 0; f < fill && f < static_cast<int>(missing.size()); ++f) {
      evaluated.push_back({missing[static_cast<size_t>(f)], std::nullopt, 0, breaching});
    }
    std::sort(evaluated.begin(), evaluated.end(),
              [](const EvaluatedDatapoint& a, const EvaluatedDatapoint& b) { return a.timestamp > b.timestamp; });
    return evaluated;
  };

  Decision d;
  const TreatMissingData tmd = config.treat_missing_data;
  const int real_count = static_cast<int>(real.size());
  if (real_count == 0) {
    const std::string periods = count_noun(n, "period", "periods");
    const std::string treated = count_noun(n, "missing datapoint", "missing datapoints") + " " + std::string(was_were(n));
    switch (tmd) {
      case TreatMissingData::kMissing:
        d.state = AlarmState::kInsufficientData;
        d.evaluated = with_fill({}, n, false);
        d.reason = "Insufficient Data: " + count_noun(n, "datapoint", "datapoints") + " " + std::string(was_were(n)) +
                   " unknown.";
        break;
      case TreatMissingData::kIgnore:
        break;
      case TreatMissingData::kBreaching:
        d.state = AlarmState::kAlarm;
        d.evaluated = with_fill({}, n, true);
        d.reason = "Threshold Crossed: no datapoints were received for " + periods + " and " + treated +
                   " treated as [Breaching].";
        break;
      case TreatMissingData::kNotBreaching:
        d.state = AlarmState::kOk;
        d.evaluated = with_fill({}, n, false);
        d.reason = "Threshold Crossed: no datapoints were received for " + periods + " and " + treated +
                   " treated as [NonBreaching].";
        break;
    }
  } else if (real_count >= n) {
    // Enough real datapoints: the newest N decide, treat_missing_data is not used.
    d.evaluated.assign(real.begin(), real.begin() + n);
    d.state = count_breaching(d.evaluated) >= m ? AlarmState::kAlarm : AlarmState::kOk;
    d.reason = threshold_reason(config, d.evaluated, *d.state, 0, false);
  } else if (tmd == TreatMissingData::kBreaching || tmd == TreatMissingData::kNotBreaching) {
    // All real datapoints of the range, and as few filled-in ones as it takes to make N.
    const bool fill_breaching = tmd == TreatMissingData::kBreaching;
    const int fill = n - real_count;
    d.evaluated = with_fill(real, fill, fill_breaching);
    d.state = count_breaching(d.evaluated) >= m ? AlarmState::kAlarm : AlarmState::kOk;
    d.reason = threshold_reason(config, d.evaluated, *d.state, fill, fill_breaching);
  } else {
    // missing / ignore with fewer than N real datapoints: only the real ones are evaluated.
    //  * M or more breaching -> ALARM; any non-breaching one (and fewer than M breaching) -> OK;
    //  * all of them breaching but fewer than M: the "premature transition" rule -- ALARM when the
    //    oldest one is at least M periods old, else INSUFFICIENT_DATA; ignore keeps the state
    //    instead of either.
    d.evaluated = real;
    const int breaching = count_breaching(real);
    const int unknown = n - real_count;
    if (breaching >= m) {
      d.state = AlarmState::kAlarm;
      d.reason = threshold_reason(config, d.evaluated, AlarmState::kAlarm, 0, false);
    } else if (breaching < real_count) {
      d.state = AlarmState::kOk;
      d.reason = threshold_reason(config, d.evaluated, AlarmState::kOk, 0, false);
    } else if (real_age.back() >= m) {
      if (tmd == TreatMissingData::kMissing) d.state = AlarmState::kAlarm;
      d.reason = threshold_reason(config, d.evaluated, AlarmState::kAlarm, 0, false);
    } else {
      if (tmd == TreatMissingData::kMissing) d.state = AlarmState::kInsufficientData;
      d.reason = "Insufficient Data: " + count_noun(unknown, "datapoint", "datapoints") + " " +
                 std::string(was_were(unknown)) + " unknown.";
    }
  }

  // StateReasonData, shaped like CloudWatch's.
  Json data;
  data["version"] = "1.0";
  data["queryDate"] = format_alarm_time(eval_time);
  const WallTime oldest_slot = period_start(newest - range + 1, period);
  data["startDate"] = format_alarm_time(d.evaluated.empty() ? oldest_slot : d.evaluated.back().timestamp);
  if (alarm.statistic.kind == Statistic::Kind::kPercentile) {
    data["extendedStatistic"] = config.statistic;
  } else {
    data["statistic"] = config.statistic;
  }
  data["period"] = std::chrono::duration_cast<std::chrono::seconds>(period).count();
  Json recent = Json::array();
  for (auto it = real.rbegin(); it != real.rend(); ++it) recent.push_back(*it->value);
  data["recentDatapoints"] = std::move(recent);
  data["threshold"] = config.threshold;
  Json evaluated = Json::array();
  for (const EvaluatedDatapoint& p : d.evaluated) {
    Json item;
    item["timestamp"] = format_alarm_time(p.timestamp);
    if (p.value) {
      item["sampleCount"] = p.sample_count;
      item["value"] = *p.value;
    }
    evaluated.push_back(std::move(item));
  }
  data["evaluatedDatapoints"] = std::move(evaluated);

  auto make = [&](AlarmState old_state, AlarmState new_state, bool repeat, std::string reason) {
    AlarmTransition t;
    t.id = ++alarm.last_id;
    t.alarm_name = config.name;
    t.alarm_description = config.description;
    t.old_state = old_state;
    t.new_state = new_state;
    t.repeat = repeat;
    t.reason = std::move(reason);
    t.reason_data = data.dump();
    t.state_change_time = repeat ? alarm.state_change_time : eval_time;
    t.evaluation_time = eval_time;
    t.config_updated_time = options_.config_updated_time.value_or(start_);
    t.datapoints = d.evaluated;
    t.trigger = alarm.trigger;
    t.actions = actions_for(config, new_state);
    t.ok_actions = config.ok_actions;
    t.alarm_actions = config.alarm_actions;
    t.insufficient_data_actions = config.insufficient_data_actions;
    alarm.last_transition = t;
    out.push_back(std::move(t));
  };

  if (d.state && *d.state != alarm.state) {
    const AlarmState old_state = alarm.state;
    alarm.state = *d.state;
    alarm.reason = d.reason;
    alarm.state_change_time = eval_time;
    if (alarm.state == AlarmState::kAlarm) alarm.last_alarm_notification = eval_time;
    make(old_state, alarm.state, false, d.reason);
  } else if (alarm.state == AlarmState::kAlarm && config.repeat_interval.count() > 0 &&
             eval_time - alarm.last_alarm_notification >= config.repeat_interval) {
    alarm.last_alarm_notification = eval_time;
    make(AlarmState::kAlarm, AlarmState::kAlarm, true, d.state ? d.reason : alarm.reason);
  }
}

WallTime AlarmEvaluator::next_evaluation_time() const {
  WallTime next = WallTime::max();
  for (size_t i = 0; i < alarms_.size(); ++i) {
    next = std::min(next, period_start(alarms_[i].last_evaluated + 2, configs_[i].period));
  }
  return next;
}

common::Status AlarmEvaluator::mark_notified(std::string_view alarm_name, uint64_t transition_id) {
  Alarm* alarm = find(alarm_name);
  if (alarm == nullptr) return Error(ErrorCode::kNotFound, "no alarm named \"" + std::string(alarm_name) + "\"");
  if (transition_id > alarm->last_id) {
    return Error(ErrorCode::kInvalidArgument, "alarm \"" + std::string(alarm_name) + "\" has no transition " +
                                                  std::to_string(transition_id));
  }
  alarm->notified_id = std::max(alarm->notified_id, transition_id);
  return {};
}

std::vector<AlarmTransition> AlarmEvaluator::unnotified() const {
  std::vector<AlarmTransition> out;
  for (const Alarm& a : alarms_) {
    if (a.last_transition && a.last_transition->id > a.notified_id) out.push_back(*a.last_transition);
  }
  return out;
}

std::optional<AlarmState> AlarmEvaluator::state(std::string_view alarm_name) const {
  const Alarm* alarm = find(alarm_name);
  if (alarm == nullptr) return std::nullopt;
  return alarm->state;
}

std::vector<AlarmStatus> AlarmEvaluator::status() const {
  std::vector<AlarmStatus> out;
  for (size_t i = 0; i < alarms_.size(); ++i) {
    const Alarm& a = alarms_[i];
    out.push_back({configs_[i].name, a.state, a.reason, a.state_change_time, a.last_id, a.notified_id});
  }
  return out;
}

// ---- persistence --------------------------------------------------------------------------------

std::string AlarmEvaluator::serialize_state() const {
  Json alarms = Json::array();
  for (size_t i = 0; i < alarms_.size(); ++i) {
    const Alarm& a = alarms_[i];
    Json j;
    j["name"] = configs_[i].name;
    j["state"] = std::string(to_string(a.state));
    j["reason"] = a.reason;
    j["state_change_time_ms"] = to_ms(a.state_change_time);
    j["last_alarm_notification_ms"] = to_ms(a.last_alarm_notification);
    j["last_transition_id"] = a.last_id;
    j["last_notified_id"] = a.notified_id;
    if (a.last_transition) {
      const AlarmTransition& t = *a.last_transition;
      Json tj;
      tj["id"] = t.id;
      tj["old_state"] = std::string(to_string(t.old_state));
      tj["new_state"] = std::string(to_string(t.new_state));
      tj["repeat"] = t.repeat;
      tj["reason"] = t.reason;
      tj["reason_data"] = t.reason_data;
      tj["state_change_time_ms"] = to_ms(t.state_change_time);
      tj["evaluation_time_ms"] = to_ms(t.evaluation_time);
      Json points = Json::array();
      for (const EvaluatedDatapoint& p : t.datapoints) {
        Json pj;
        pj["t"] = to_ms(p.timestamp);
        pj["v"] = p.value ? Json(*p.value) : Json(nullptr);
        pj["n"] = p.sample_count;
        pj["b"] = p.breaching;
        points.push_back(std::move(pj));
      }
      tj["datapoints"] = std::move(points);
      j["last_transition"] = std::move(tj);
    }
    alarms.push_back(std::move(j));
  }
  Json root;
  root["version"] = kStateVersion;
  root["alarms"] = std::move(alarms);
  return root.dump();
}

common::Status AlarmEvaluator::restore_state(std::string_view text) {
  // Parse everything first; apply only when the whole document is good.
  std::vector<std::pair<size_t, Alarm>> updates;
  try {
    const Json root = Json::parse(text);
    if (!root.is_object() || root.value("version", 0) != kStateVersion) {
      return Error(ErrorCode::kParse, "alarm state: expected an object with \"version\": " + std::to_string(kStateVersion));
    }
    for (const Json& j : root.at("alarms")) {
      const std::string name = j.at("name").get<std::string>();
      size_t index = configs_.size();
      for (size_t i = 0; i < configs_.size(); ++i) {
        if (configs_[i].name == name) index = i;
      }
      if (index == configs_.size()) continue;  // the alarm was removed from the config
      const AlarmConfig& config = configs_[index];
      Alarm a = alarms_[index];
      auto state = parse_alarm_state(j.at("state").get<std::string>());
      if (!state) return Error(ErrorCode::kParse, "alarm state: \"" + name + "\": unknown state");
      a.state = *state;
      a.reason = j.at("reason").get<std::string>();
      a.state_change_time = from_ms(j.at("state_change_time_ms").get<int64_t>());
      a.last_alarm_notification = from_ms(j.at("last_alarm_notification_ms").get<int64_t>());
      a.last_id = j.at("last_transition_id").get<uint64_t>();
      a.notified_id = j.at("last_notified_id").get<uint64_t>();
      if (a.notified_id > a.last_id) return Error(ErrorCode::kParse, "alarm state: \"" + name + "\": notified id > last id");
      a.last_transition.reset();
      if (j.contains("last_transition")) {
        const Json& tj = j.at("last_transition");
        AlarmTransition t;
        t.id = tj.at("id").get<uint64_t>();
        auto old_state = parse_alarm_state(tj.at("old_state").get<std::string>());
        auto new_state = parse_alarm_state(tj.at("new_state").get<std::string>());
        if (!old_state || !new_state) return Error(ErrorCode::kParse, "alarm state: \"" + name + "\": unknown state");
        t.alarm_name = config.name;
        t.alarm_description = config.description;
        t.old_state = *old_state;
        t.new_state = *new_state;
        t.repeat = tj.at("repeat").get<bool>();
        t.reason = tj.at("reason").get<std::string>();
        t.reason_data = tj.at("reason_data").get<std::string>();
        t.state_change_time = from_ms(tj.at("state_change_time_ms").get<int64_t>());
        t.evaluation_time = from_ms(tj.at("evaluation_time_ms").get<int64_t>());
        t.config_updated_time = options_.config_updated_time.value_or(start_);
        for (const Json& pj : tj.at("datapoints")) {
          EvaluatedDatapoint p;
          p.timestamp = from_ms(pj.at("t").get<int64_t>());
          if (!pj.at("v").is_null()) p.value = pj.at("v").get<double>();
          p.sample_count = pj.at("n").get<double>();
          p.breaching = pj.at("b").get<bool>();
          t.datapoints.push_back(p);
        }
        t.trigger = a.trigger;  // the current definition
        t.actions = actions_for(config, t.new_state);
        t.ok_actions = config.ok_actions;
        t.alarm_actions = config.alarm_actions;
        t.insufficient_data_actions = config.insufficient_data_actions;
        if (t.id > a.last_id) return Error(ErrorCode::kParse, "alarm state: \"" + name + "\": transition id > last id");
        a.last_transition = std::move(t);
      }
      updates.emplace_back(index, std::move(a));
    }
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::kParse, std::string("alarm state: ") + e.what());
  }
  for (auto& [index, alarm] : updates) alarms_[index] = std::move(alarm);
  return {};
}

}  // namespace agent
