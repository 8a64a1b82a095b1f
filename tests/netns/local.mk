## tests/netns: the namespace tier (needs root and nf_tables; skips otherwise).
## A simulated hypervisor in network namespaces runs the real hook against the
## kernel. The *-iptables.sh files run the same definitions on the iptables
## backend (one definition, two backends).
netns_tests = \
	tests/netns/traffic.sh \
	tests/netns/config-variants.sh \
	tests/netns/events.sh \
	tests/netns/hostile.sh \
	tests/netns/faults.sh \
	tests/netns/guest-attacks.sh \
	tests/netns/fast-path.sh \
	tests/netns/watch-flush.sh \
	tests/netns/tap-names.sh \
	tests/netns/fast-path-batch.sh \
	tests/netns/fast-path-generation.sh \
	tests/netns/bulk-rebuild.sh \
	tests/netns/flow-binding.sh \
	tests/netns/spoof-fragments.sh \
	tests/netns/why.sh \
	tests/netns/prometheus.sh \
	tests/netns/attack-conntrack.sh \
	tests/netns/attack-ttl.sh \
	tests/netns/attack-related.sh \
	tests/netns/attack-netlink.sh \
	tests/netns/attack-names.sh \
	tests/netns/attack-flush.sh \
	tests/netns/attack-inplace.sh \
	tests/netns/bridged.sh \
	tests/netns/flowtable.sh \
	$(NULL)
netns_iptables_tests = \
	tests/netns/traffic-iptables.sh \
	tests/netns/traffic-iptables-legacy.sh \
	tests/netns/config-variants-iptables.sh \
	tests/netns/events-iptables.sh \
	tests/netns/backend-switch.sh \
	tests/netns/iptables-repair.sh \
	tests/netns/watch-flush-iptables.sh \
	tests/netns/watch-flush-iptables-legacy.sh \
	tests/netns/tap-names-iptables.sh \
	tests/netns/flow-binding-iptables.sh \
	tests/netns/spoof-fragments-iptables.sh \
	tests/netns/why-iptables.sh \
	tests/netns/prometheus-iptables.sh \
	tests/netns/attack-conntrack-iptables.sh \
	tests/netns/attack-ttl-iptables.sh \
	tests/netns/attack-related-iptables.sh \
	tests/netns/attack-netlink-iptables.sh \
	tests/netns/attack-names-iptables.sh \
	tests/netns/attack-flush-iptables.sh \
	$(NULL)
TESTS += $(netns_tests) $(netns_iptables_tests)
dist_noinst_SCRIPTS += $(netns_tests) $(netns_iptables_tests) tests/netns/lib-netns.sh \
	tests/netns/attack-probe.py tests/netns/lib-bridge.sh tests/netns/lib-bridged.sh \
	tests/netns/bridge-proto-l2.py
