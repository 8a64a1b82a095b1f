## src/conf: the configuration file (TOML) and libvirt's domain XML, read into
## plain structs. The XML reader is our own, on GLib's GMarkup: no libxml2.
noinst_LTLIBRARIES += libnetiso-conf.la
libnetiso_conf_la_SOURCES = \
	src/conf/toml.c src/conf/toml.h \
	src/conf/toml-tree.c src/conf/toml-tree.h \
	src/conf/config.c src/conf/config.h \
	src/conf/config-read.c src/conf/config-read.h \
	src/conf/config-cluster.c src/conf/config-cluster.h \
	src/conf/xml-tree.c src/conf/xml-tree.h \
	src/conf/xml-markup.c src/conf/xml-markup.h \
	src/conf/xml-reader.c src/conf/xml-reader.h \
	src/conf/domain.c src/conf/domain.h \
	src/conf/network.c src/conf/network.h \
	$(NULL)
