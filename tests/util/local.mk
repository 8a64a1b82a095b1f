## tests/util: unit tests of src/util.
check_PROGRAMS += tests/util/test-addr
tests_util_test_addr_SOURCES = tests/util/test-addr.c
tests_util_test_addr_LDADD = $(unit_ldadd)
TESTS += tests/util/test-addr
