## src/util: errors, addresses, quoting, identifier rules, logging (GLib only).
noinst_LTLIBRARIES += libnetiso-util.la
libnetiso_util_la_SOURCES = \
	src/util/error.c src/util/error.h \
	src/util/addr.c src/util/addr.h \
	src/util/quote.c src/util/quote.h \
	src/util/names.c src/util/names.h \
	src/util/log.c src/util/log.h \
	src/util/input.c src/util/input.h \
	src/util/endpoint.c src/util/endpoint.h \
	src/util/release.c src/util/release.h \
	$(NULL)
