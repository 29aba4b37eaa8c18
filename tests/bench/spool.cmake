# spool_bench: the spool (DurableQueue) append with fdatasync and replay at open, in MB/s, next to a
# raw sequential write + fdatasync of the same bytes to the same directory in the same run.
agent_bench(spool_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/spool_bench.cc
  DEPS agent_pipeline)
