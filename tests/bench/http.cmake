# http_bench: CurlMultiClient on Asio vs. blocking curl_easy_perform, both over one keep-alive
# connection to the loopback server. Included from tests/bench/CMakeLists.txt.
agent_bench(http_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_bench.cc
  DEPS common_http tw_loopback_http_server CURL::libcurl Boost::headers)
