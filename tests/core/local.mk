## tests/core: policies, records and drift.
unit_core_tests = \
	tests/core/test-policy \
	tests/core/test-state \
	tests/core/test-drift \
	tests/core/test-flow-ids \
	tests/core/test-verdict \
	tests/core/test-metrics \
	tests/core/test-remote \
	$(NULL)
check_PROGRAMS += $(unit_core_tests)
TESTS += $(unit_core_tests)
tests_core_test_policy_SOURCES = tests/core/test-policy.c
tests_core_test_policy_LDADD = $(unit_ldadd)
tests_core_test_state_SOURCES = tests/core/test-state.c
tests_core_test_state_LDADD = $(unit_ldadd)
tests_core_test_drift_SOURCES = tests/core/test-drift.c
tests_core_test_drift_LDADD = $(unit_ldadd)
tests_core_test_flow_ids_SOURCES = tests/core/test-flow-ids.c
tests_core_test_flow_ids_LDADD = $(unit_ldadd)
tests_core_test_verdict_SOURCES = tests/core/test-verdict.c
tests_core_test_verdict_LDADD = $(unit_ldadd)
tests_core_test_metrics_SOURCES = tests/core/test-metrics.c
tests_core_test_metrics_LDADD = $(unit_ldadd)
tests_core_test_remote_SOURCES = tests/core/test-remote.c
tests_core_test_remote_LDADD = $(unit_ldadd)
