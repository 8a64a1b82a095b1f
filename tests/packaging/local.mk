## tests/packaging: deb and rpm builds from make dist's tarball; they need root
## and the tools tests/packaging/install-deps.sh installs, and skip under make
## distcheck.
TESTS += tests/packaging/deb.sh tests/packaging/rpm.sh
dist_noinst_SCRIPTS += \
	tests/packaging/deb.sh \
	tests/packaging/rpm.sh \
	tests/packaging/common.sh \
	tests/packaging/install-deps.sh \
	tests/packaging/aa-allows-exec.py \
	$(NULL)
CLEANFILES += .packaging-dist.lock
