# outbox_bench: the Outbox's cost per record (submit, batch, settle; no I/O) next to the Lake encoder's
# cost for the same event.
agent_bench(outbox_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/outbox_bench.cc
  DEPS agent_delivery agent_sinks)
