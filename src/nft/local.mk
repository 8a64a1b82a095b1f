## src/nft: the nftables backend (table inet blixard, table bridge blixard). The full path runs
## libnftables (loaded with dlopen on first use); the event fast path speaks
## nf_tables netlink through libnftnl and libmnl (which libnftables links
## too, so a hook run maps no library it would not map anyway).
noinst_LTLIBRARIES += libnetiso-nft.la
libnetiso_nft_la_SOURCES = \
	src/nft/nft-skeleton.c src/nft/nft-skeleton.h \
	src/nft/nft-skeleton-bridge.c \
	src/nft/nft-bridged.c src/nft/nft-bridged.h \
	src/nft/nft-elements.c src/nft/nft-elements.h \
	src/nft/nft-lib.c src/nft/nft-lib.h \
	src/nft/nft-netlink.c src/nft/nft-netlink.h src/nft/nft-netlink-internal.h \
	src/nft/nft-batch.c src/nft/nft-batch.h src/nft/nft-batch-internal.h \
	src/nft/nft-batch-bulk.c \
	src/nft/nft-generation.c src/nft/nft-generation.h \
	src/nft/nft-fast.c src/nft/nft-fast.h \
	src/nft/nft-fast-tenant.c src/nft/nft-fast-tenant.h \
	src/nft/nft-bulk.c src/nft/nft-bulk.h \
	src/nft/nft-backend.c src/nft/nft-backend.h \
	src/nft/nft-remote.c src/nft/nft-remote.h \
	$(NULL)
libnetiso_nft_la_CFLAGS = $(AM_CFLAGS) $(LIBNFTABLES_CFLAGS) $(LIBNFTNL_CFLAGS) $(LIBMNL_CFLAGS)
libnetiso_nft_la_LIBADD = $(LIBNFTNL_LIBS) $(LIBMNL_LIBS)

# Reading the table back (status, reconcile --check, watch): libnftables' JSON
# listing read with json-glib. Only libnetiso-inspect.la takes it in.
noinst_LTLIBRARIES += libnetiso-nft-inspect.la
libnetiso_nft_inspect_la_SOURCES = \
	src/nft/nft-listing.c src/nft/nft-listing.h \
	src/nft/nft-check.c src/nft/nft-check.h \
	$(NULL)
libnetiso_nft_inspect_la_CFLAGS = $(AM_CFLAGS) $(LIBNFTABLES_CFLAGS) $(JSON_GLIB_CFLAGS)
