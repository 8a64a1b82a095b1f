## src/engine: what the hook and the command-line tool do with the backends:
## lifecycle events and ending tracked connections (the hook's library), and
## reconcile over the inspection operations (the command-line tool's).
noinst_LTLIBRARIES += libnetiso-engine.la
libnetiso_engine_la_SOURCES = \
	src/engine/backends.c src/engine/backends.h \
	src/engine/lifecycle.c src/engine/lifecycle.h \
	src/engine/conntrack.c src/engine/conntrack.h \
	src/engine/cluster-ask.c src/engine/cluster-ask.h \
	$(NULL)
# libnetfilter-conntrack's headers only: conntrack.c loads it with dlopen().
libnetiso_engine_la_CFLAGS = $(AM_CFLAGS) $(LIBNETFILTER_CONNTRACK_CFLAGS)

# Everything the hook runs, as one library: the hook, the command-line tool and
# every test link it. GLib, libc, libnftnl and libmnl (libnftables and
# libnetfilter-conntrack come with dlopen).
noinst_LTLIBRARIES += libnetiso.la
libnetiso_la_SOURCES =
libnetiso_la_LIBADD = \
	libnetiso-engine.la \
	libnetiso-nft.la \
	libnetiso-ipt.la \
	libnetiso-core.la \
	libnetiso-conf.la \
	libnetiso-util.la \
	$(GLIB_LIBS) \
	$(NULL)
# The library's sources, for the fuzz harnesses (compiled again with clang).
netiso_lib_sources = \
	$(libnetiso_util_la_SOURCES) \
	$(libnetiso_conf_la_SOURCES) \
	$(libnetiso_core_la_SOURCES) \
	$(libnetiso_nft_la_SOURCES) \
	$(libnetiso_ipt_la_SOURCES) \
	$(libnetiso_engine_la_SOURCES) \
	$(NULL)

# Reading the firewall back and reconcile, which builds on it: the
# command-line tool and the tests link it, the hook never does. json-glib
# comes in here and nowhere in libnetiso.la, so a hook that reached for
# inspection code would fail to link instead of mapping json-glib.
noinst_LTLIBRARIES += libnetiso-inspect.la
libnetiso_inspect_la_SOURCES = \
	src/engine/inspectors.c src/engine/inspectors.h \
	src/engine/reconcile.c src/engine/reconcile.h \
	$(NULL)
libnetiso_inspect_la_LIBADD = \
	libnetiso-nft-inspect.la \
	libnetiso-ipt-inspect.la \
	$(JSON_GLIB_LIBS) \
	$(NULL)
