## tests/engine: both backends' batches against golden files (each case runs
## the production renderers with execution captured), and reconcile.
check_PROGRAMS += tests/engine/test-golden tests/engine/test-reconcile
TESTS += tests/engine/test-golden tests/engine/test-reconcile
tests_engine_test_golden_SOURCES = tests/engine/test-golden.c
tests_engine_test_golden_LDADD = $(unit_ldadd)
tests_engine_test_reconcile_SOURCES = tests/engine/test-reconcile.c
tests_engine_test_reconcile_LDADD = $(unit_ldadd)
