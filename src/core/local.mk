## src/core: the model every backend shares: policies, the records of what was
## installed (and the lock), drift between records, the backend interfaces
## (events in backend.h, inspection in inspect.h) and the executor
## transactions go through.
noinst_LTLIBRARIES += libnetiso-core.la
libnetiso_core_la_SOURCES = \
	src/core/policy.c src/core/policy.h \
	src/core/policy-describe.c \
	src/core/state.c src/core/state.h \
	src/core/state-lock.c \
	src/core/flow-ids.c src/core/flow-ids.h \
	src/core/drift.c src/core/drift.h \
	src/core/firewall.c src/core/firewall.h \
	src/core/backend.h \
	src/core/inspect.c src/core/inspect.h \
	src/core/verdict.c src/core/verdict.h \
	src/core/locator.c src/core/locator.h \
	src/core/stamps.c src/core/stamps.h \
	src/core/remote.c src/core/remote.h \
	src/core/metrics.c src/core/metrics.h \
	$(NULL)
