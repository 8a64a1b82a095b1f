## src/ipt: the iptables backend (BLIXARD_VM_* chains, dispatch tries, batches
## for iptables-restore).
noinst_LTLIBRARIES += libnetiso-ipt.la
libnetiso_ipt_la_SOURCES = \
	src/ipt/ipt-trie.c src/ipt/ipt-trie.h \
	src/ipt/ipt-ruleset.c src/ipt/ipt-ruleset.h \
	src/ipt/ipt-render.c src/ipt/ipt-render.h \
	src/ipt/ipt-delta.c \
	src/ipt/ipt-restore.c src/ipt/ipt-restore.h \
	src/ipt/ipt-backend.c src/ipt/ipt-backend.h \
	$(NULL)

# Reading the chains back (status, reconcile --check): libnetiso-inspect.la.
noinst_LTLIBRARIES += libnetiso-ipt-inspect.la
libnetiso_ipt_inspect_la_SOURCES = \
	src/ipt/ipt-check.c src/ipt/ipt-check.h \
	$(NULL)
