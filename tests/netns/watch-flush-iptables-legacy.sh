#!/bin/bash
# watch-flush.sh on iptables-legacy (x_tables): no notifications exist there,
# so watch checks the chains on a timer (one second here).
. "$top_srcdir/tests/lib.sh"
for tool in iptables-legacy-restore ip6tables-legacy-restore iptables-legacy-save \
	ip6tables-legacy-save iptables-legacy ip6tables-legacy; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "needs $tool"
done
bin=$(mktemp -d /tmp/blixard-netiso-legacy.XXXXXX)
trap 'rm -rf "$bin"' EXIT
for t in iptables ip6tables; do
	for s in "" -restore -save; do
		ln -s "$(command -v "$t-legacy$s")" "$bin/$t$s"
	done
done
PATH="$bin:$PATH" NETISO_BACKEND=iptables NETISO_WATCH_LEGACY=1 \
	bash "$top_srcdir/tests/netns/watch-flush.sh"
