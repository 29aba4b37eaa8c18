# audit_bench: parse + assemble throughput over the shared audit corpus concatenated to ~16 MB,
# against libauparse (dlopen'ed from the system's libauparse.so.0 when present) on the same bytes.
agent_bench(audit_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/audit_bench.cc
  DEPS agent_parsers agent_pipeline ${CMAKE_DL_LIBS})
