## tests/cluster: unit tests of the schema, records and membership table; then
## the client, claims and watches against real etcd members in namespaces of
## their own (needs root and etcd; skips otherwise), TLS and a three-member
## cluster included. etcd-probe makes the calls the hook and watch make. The
## hosts-*.sh tests run simulated hypervisors with the hook and watch.
cluster_ldadd = libnetiso-cluster.la libnetiso-util.la $(SOUP_LIBS) $(JSON_GLIB_LIBS) $(GLIB_LIBS)
cluster_cflags = $(AM_CFLAGS) $(SOUP_CFLAGS) $(JSON_GLIB_CFLAGS)
check_PROGRAMS += tests/cluster/test-membership tests/cluster/test-membership-table \
	tests/cluster/etcd-probe
tests_cluster_test_membership_SOURCES = tests/cluster/test-membership.c
tests_cluster_test_membership_CFLAGS = $(cluster_cflags)
tests_cluster_test_membership_LDADD = $(cluster_ldadd)
tests_cluster_test_membership_table_SOURCES = tests/cluster/test-membership-table.c
tests_cluster_test_membership_table_CFLAGS = $(cluster_cflags)
tests_cluster_test_membership_table_LDADD = $(cluster_ldadd)
tests_cluster_etcd_probe_SOURCES = tests/cluster/etcd-probe.c
tests_cluster_etcd_probe_CFLAGS = $(cluster_cflags)
tests_cluster_etcd_probe_LDADD = $(cluster_ldadd)
cluster_tests = \
	tests/cluster/etcd-kv.sh \
	tests/cluster/etcd-watch.sh \
	tests/cluster/etcd-tls.sh \
	tests/cluster/etcd-cluster.sh \
	tests/cluster/hosts-traffic.sh \
	tests/cluster/hosts-etcd-cluster.sh \
	tests/cluster/hosts-bridged.sh \
	$(NULL)
TESTS += tests/cluster/test-membership tests/cluster/test-membership-table $(cluster_tests)
dist_noinst_SCRIPTS += $(cluster_tests) tests/cluster/lib-etcd.sh tests/cluster/lib-hosts.sh
