## src/cli: the command-line tool, the only part that uses the libvirt API
## (reconcile, tag, watch, nwfilter --define). watch also follows nf_tables'
## notifications (libmnl, libnftnl) and tells systemd when it is ready.
sbin_PROGRAMS += blixard-netiso
blixard_netiso_SOURCES = \
	src/cli/cli-main.c src/cli/cli.h \
	src/cli/cli-config.c \
	src/cli/cli-apply.c \
	src/cli/cli-status.c \
	src/cli/cli-virt.c \
	src/cli/cli-nwfilter.c \
	src/cli/virt.c src/cli/virt.h \
	src/cli/leases.c src/cli/leases.h \
	src/cli/watch.c src/cli/watch.h \
	src/cli/watch-leases.c src/cli/watch-leases.h \
	src/cli/watch-firewall.c src/cli/watch-firewall.h \
	src/cli/nft-monitor.c src/cli/nft-monitor.h \
	$(NULL)
# watch's cluster side (issue 17): etcd through libnetiso-cluster.la (libsoup).
blixard_netiso_SOURCES += \
	src/cli/cluster-daemon.c src/cli/cluster-daemon.h src/cli/cluster-private.h \
	src/cli/cluster-follow.c \
	src/cli/cluster-publish.c \
	src/cli/cluster-server.c \
	$(NULL)
# why (issue 16): the command, its output (json-glib) and its route lookups (libmnl).
blixard_netiso_SOURCES += \
	src/cli/cli-why.c \
	src/cli/why-output.c src/cli/why-output.h \
	src/cli/why-kernel.c src/cli/why-kernel.h \
	$(NULL)
blixard_netiso_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(JSON_GLIB_CFLAGS) $(LIBMNL_CFLAGS) \
	$(LIBNFTNL_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(SOUP_CFLAGS)
blixard_netiso_LDADD = libnetiso-nwfilter.la libnetiso-inspect.la libnetiso-cluster.la \
	libnetiso.la $(LIBVIRT_LIBS) $(JSON_GLIB_LIBS) $(LIBMNL_LIBS) $(LIBNFTNL_LIBS) \
	$(LIBSYSTEMD_LIBS) $(SOUP_LIBS)
