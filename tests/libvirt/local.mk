## tests/libvirt: real guests (QEMU) under a private libvirtd in namespaces of
## its own (needs root, libvirtd and qemu; skips otherwise); see
## tests/libvirt/README.md. The guest image is cached in tests/libvirt/cache/.
libvirt_tier_tests = \
	tests/libvirt/e2e-isolation.sh \
	tests/libvirt/e2e-lifecycle.sh \
	tests/libvirt/e2e-isolation-iptables.sh \
	tests/libvirt/e2e-lifecycle-iptables.sh \
	tests/libvirt/e2e-reconcile.sh \
	tests/libvirt/e2e-watch.sh \
	tests/libvirt/e2e-migrate.sh \
	tests/libvirt/e2e-nwfilter-bridged.sh \
	tests/libvirt/e2e-bridged.sh \
	$(NULL)
TESTS += $(libvirt_tier_tests)
dist_noinst_SCRIPTS += \
	$(libvirt_tier_tests) \
	tests/libvirt/lib-e2e.sh \
	tests/libvirt/lib-e2e-hosts.sh \
	tests/libvirt/lib-e2e-bridged.sh \
	tests/libvirt/e2e-bridged-l2.sh \
	tests/libvirt/bridge-oracle-hook.sh \
	tests/libvirt/build-guest.sh \
	tests/libvirt/guest-init.sh \
	tests/libvirt/install-deps.sh \
	tests/libvirt/placeholder-hook.sh \
	tests/libvirt/reference-hook.sh \
	tests/libvirt/trace-hook.sh \
	$(NULL)
EXTRA_DIST += tests/libvirt/netprobe.c tests/libvirt/netprobe-l2.c tests/libvirt/netprobe.h \
	tests/libvirt/README.md
