## tests/ipt: the iptables backend against strict in-memory filter and raw tables
## (ipt-sim.c) that stands in for the kernel: batches, deltas and packet
## verdicts are checked without root.
ipt_test_sources = \
	tests/ipt/ipt-sim.c tests/ipt/ipt-sim.h tests/ipt/ipt-sim-walk.c \
	tests/ipt/ipt-sim-private.h \
	tests/ipt/ipt-fixtures.c tests/ipt/ipt-fixtures.h \
	$(NULL)
check_PROGRAMS += tests/ipt/test-ipt tests/ipt/test-ipt-packets
TESTS += tests/ipt/test-ipt tests/ipt/test-ipt-packets
tests_ipt_test_ipt_SOURCES = tests/ipt/test-ipt.c $(ipt_test_sources)
tests_ipt_test_ipt_LDADD = $(unit_ldadd)
tests_ipt_test_ipt_packets_SOURCES = tests/ipt/test-ipt-packets.c $(ipt_test_sources)
tests_ipt_test_ipt_packets_LDADD = $(unit_ldadd)
