#!/bin/bash
# traffic.sh with the iptables backend on iptables-legacy (x_tables rather than
# nf_tables): the backend runs whichever iptables-restore PATH finds, and Debian's
# alternatives can point it at either.
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
PATH="$bin:$PATH" NETISO_BACKEND=iptables bash "$top_srcdir/tests/netns/traffic.sh"
