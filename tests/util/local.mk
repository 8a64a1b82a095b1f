## tests/util: unit tests of src/util.
check_PROGRAMS += tests/util/test-addr
tests_util_test_addr_SOURCES = tests/util/test-addr.c
tests_util_test_addr_LDADD = $(unit_ldadd)
TESTS += tests/util/test-addr

check_PROGRAMS += tests/util/test-log
tests_util_test_log_SOURCES = tests/util/test-log.c
tests_util_test_log_LDADD = $(unit_ldadd)
TESTS += tests/util/test-log

check_PROGRAMS += tests/util/test-input
tests_util_test_input_SOURCES = tests/util/test-input.c
tests_util_test_input_LDADD = $(unit_ldadd)
TESTS += tests/util/test-input
