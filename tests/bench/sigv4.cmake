# SigV4 signing of a realistic PutMetricData request vs the bare OpenSSL work it needs.
agent_bench(sigv4_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sigv4_bench.cc
  DEPS common_aws OpenSSL::Crypto)
