## src/cluster: cluster membership through etcd (issue 17): an etcd v3 client
## over its JSON gateway (libsoup 3, json-glib), the key schema and membership
## table, address claims. Not in libnetiso.la: the hook does not map libsoup
## and its thirty libraries (doc/cluster-design.md); what uses it links it.
noinst_LTLIBRARIES += libnetiso-cluster.la
libnetiso_cluster_la_SOURCES = \
	src/cluster/etcd.h src/cluster/etcd-private.h \
	src/cluster/etcd-client.c \
	src/cluster/etcd-json.c \
	src/cluster/etcd-kv.c \
	src/cluster/etcd-watch.c \
	src/cluster/etcd-lease.c \
	src/cluster/membership.c src/cluster/membership.h \
	src/cluster/membership-table.c \
	src/cluster/claim.c src/cluster/claim.h \
	$(NULL)
libnetiso_cluster_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(JSON_GLIB_CFLAGS)
libnetiso_cluster_la_LIBADD = libnetiso-util.la $(SOUP_LIBS) $(JSON_GLIB_LIBS) $(GLIB_LIBS)
EXTRA_DIST += doc/cluster-design.md
