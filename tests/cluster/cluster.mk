# Builds src/cluster/ and its test programs outside automake until the src/
# reorganisation lands (then this moves into Makefile.am). Needs a configured
# build tree for autoconfig.h:
#   make -f tests/cluster/cluster.mk top_srcdir=. top_builddir=_build [SANITIZE=1]
# Output goes to $(top_builddir)/cluster/, or B=DIR (an ASan build beside it).

top_srcdir ?= .
top_builddir ?= _build
B ?= $(top_builddir)/cluster

CC ?= cc
PKGS := glib-2.0 gio-2.0 libsoup-3.0 json-glib-1.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))

# The same warnings as configure.ac's, errors included.
WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wpointer-arith -Wcast-align -Wwrite-strings -Wundef -Wno-unused-parameter \
	-Wmissing-declarations -Wvla -Wnull-dereference -Werror
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

# Includes name their folder ("util/addr.h", "cluster/etcd.h"), as everywhere.
vpath %.c $(top_srcdir)/src/cluster $(top_srcdir)/src/util $(top_srcdir)/tests/cluster
CPPFLAGS_ALL := -I$(top_builddir) -I$(top_srcdir)/src $(PKG_CFLAGS)
CFLAGS_ALL := -g -O2 $(WARN) $(SAN) $(CFLAGS)

CLUSTER_OBJS := $(addprefix $(B)/,etcd-client.o etcd-json.o etcd-kv.o etcd-watch.o etcd-lease.o \
	membership.o membership-table.o claim.o)
UTIL_OBJS := $(addprefix $(B)/,addr.o names.o quote.o error.o)
OBJS := $(CLUSTER_OBJS) $(UTIL_OBJS)
PROGRAMS := $(B)/test-membership $(B)/test-membership-table $(B)/etcd-probe

all: $(PROGRAMS)

$(B)/%.o: %.c $(wildcard $(top_srcdir)/src/cluster/*.h)
	@mkdir -p $(B)
	@echo "  CC       $@"
	@$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(B)/test-membership: $(B)/test-membership.o $(OBJS)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(B)/test-membership-table: $(B)/test-membership-table.o $(OBJS)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(B)/etcd-probe: $(B)/etcd-probe.o $(OBJS)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

clean:
	rm -rf $(B)

.PHONY: all clean
