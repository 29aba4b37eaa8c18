# proc_bench: one full ProcSampler sample (cpu + per-cpu + memory + network) against a naive
# ifstream/getline/istringstream baseline; Arg 0 = fixture tree, Arg 1 = this host's /proc.
agent_bench(proc_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/proc_bench.cc
  DEPS agent_sources)
