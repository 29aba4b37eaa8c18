# encoders_bench: one full PutMetricData request (1000 datums) through the query encoder, with and
# without gzip, next to the nlohmann::json rendering the local sink uses (agent/sinks/metric_json.h).
agent_bench(encoders_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/encoders_bench.cc
  DEPS agent_sinks common_http)
