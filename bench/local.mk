## bench: make bench prints event latency, the data path, the alternatives and
## memory as tables (BENCHMARKS.md). Needs root; everything runs in namespaces
## the scripts create. The helpers are built with everything else so that the
## benchmarks measure exactly the tree they sit in.
noinst_PROGRAMS += bench/netiso-bench-populate bench/netiso-bench-events bench/netiso-bench-blast \
	bench/netiso-bench-cluster
bench_netiso_bench_populate_SOURCES = bench/populate.c
bench_netiso_bench_populate_LDADD = $(unit_ldadd)
bench_netiso_bench_events_SOURCES = bench/events.c
bench_netiso_bench_events_LDADD = $(GLIB_LIBS)
bench_netiso_bench_blast_SOURCES = bench/blast.c
bench_netiso_bench_blast_LDADD = $(GLIB_LIBS)
# bench/cluster.sh: simulated hosts publishing into one real etcd.
bench_netiso_bench_cluster_SOURCES = bench/cluster-publish.c
bench_netiso_bench_cluster_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(JSON_GLIB_CFLAGS)
bench_netiso_bench_cluster_LDADD = libnetiso-cluster.la libnetiso-util.la $(SOUP_LIBS) \
	$(JSON_GLIB_LIBS) $(GLIB_LIBS)
# bench/ipt-dispatch.sh: rules per packet and ping floods at 1 to 10000 taps
# (prints numbers, no assertions). It builds bench/ipt-walk on demand.
EXTRA_PROGRAMS = bench/ipt-walk
bench_ipt_walk_SOURCES = bench/ipt-walk.c tests/ipt/ipt-sim.c tests/ipt/ipt-sim.h \
	tests/ipt/ipt-sim-walk.c tests/ipt/ipt-sim-private.h
bench_ipt_walk_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/ipt
bench_ipt_walk_LDADD = $(unit_ldadd)
CLEANFILES += bench/ipt-walk
dist_noinst_SCRIPTS += \
	bench/run-all.sh \
	bench/lib-bench.sh \
	bench/event-latency.sh \
	bench/event-perf.sh \
	bench/data-path.sh \
	bench/data-path-parts.sh \
	bench/bridged-path.sh \
	bench/flush-leak.sh \
	bench/flush-leak.py \
	bench/ipt-dispatch.sh \
	bench/cluster.sh \
	bench/boot.sh \
	bench/install-deps.sh \
	bench/alternatives/per-pair-hook \
	bench/alternatives/per-pair-populate \
	$(NULL)

# The scripts are bash; $(SHELL) may be a plain sh elsewhere.
bench: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		bash $(abs_top_srcdir)/bench/run-all.sh
.PHONY: bench
