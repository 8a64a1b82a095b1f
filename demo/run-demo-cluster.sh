#!/bin/bash
# The demo's third part: tenants that span hosts. Two simulated hypervisors (network
# namespaces routed to each other over a fabric), each running the real hook and
# `blixard-netiso watch` with the [vm.network_isolation.cluster] table, and one real etcd;
# guests of tenants prod and dev behind both hosts. Prints who reaches whom across the
# hosts and what `why` says on each host, then cleans up. Run as root after a build:
#     sudo NETISO_BUILDDIR=_build demo/run-demo-cluster.sh
# demo/run-demo.sh runs it last (NETISO_DEMO_CLUSTER=0 leaves it out).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${NETISO_BUILDDIR:-$top/_build}
export top_srcdir=$top top_builddir=$builddir
. "$top/tests/cluster/lib-hosts.sh"
require_cluster_tier
trap 'netns_cleanup' EXIT
start=$(date +%s)

echo "==> two hosts on a fabric, one etcd, the hook and watch on each (node h1, node h2)"
hosts_up 2
etcd_up 1
for k in 1 2; do
	write_host_config "$k"
	watch_start "$k"
done

GUESTS="web-a web-b db-a db-b"
guest 1 web-a prod 1
guest 1 web-b dev 2
guest 2 db-a prod 1
guest 2 db-b dev 2
echo "==> starting web-a (prod) and web-b (dev) on h1, db-a (prod) and db-b (dev) on h2"
for g in $GUESTS; do
	guest_start "$g" || {
		echo "demo: guest $g did not start: $(tail -n 1 "$(host_dir "${GUEST_HOST[$g]}")/hook.log")" >&2
		exit 1
	}
done
published() {
	local g k
	for g in $GUESTS; do
		for k in 1 2; do
			[ "${GUEST_HOST[$g]}" = "$k" ] && continue
			remote_has "$k" "${GUEST_V4[$g]}" "${GUEST_TENANT[$g]}" || return 1
			remote_has "$k" "${GUEST_V6[$g]}" "${GUEST_TENANT[$g]}" || return 1
		done
	done
}
t0=$(date +%s%3N)
wait_until 30 published || { echo "demo: the hosts did not learn each other's guests" >&2; exit 1; }
echo "    each host installed the other's guests through etcd after $(($(date +%s%3N) - t0)) ms"

label() { echo "$1 (${GUEST_TENANT[$1]}, h${GUEST_HOST[$1]})"; }
echo
echo "Who reaches whom (TCP to port 9000, IPv4 and IPv6):"
echo
printf '  %-20s' "from \\ to"
for to in $GUESTS; do printf ' %-18s' "$(label "$to")"; done
echo
wrong=0 total=0
for from in $GUESTS; do
	printf '  %-20s' "$(label "$from")"
	for to in $GUESTS; do
		if [ "$from" = "$to" ]; then
			printf ' %-18s' "-"
			continue
		fi
		want=blocked
		[ "${GUEST_TENANT[$from]}" = "${GUEST_TENANT[$to]}" ] && want=reaches
		cell=""
		for fam in 4 6; do
			if tcp "$(guest_ns "$from")" "$(addr_of "$to" "$fam")" 9000; then got=reaches; else got=blocked; fi
			total=$((total + 1))
			[ "$got" = "$want" ] || wrong=$((wrong + 1))
			[ "$got" = "$want" ] || got="$got!"
			cell="$cell${cell:+/}$got"
		done
		[ "$cell" = "reaches/reaches" ] && cell=reaches
		[ "$cell" = "blocked/blocked" ] && cell=blocked
		printf ' %-18s' "$cell"
	done
	echo
done
echo
echo "  Guests of one tenant reach each other across the hosts; other tenants do not, on the"
echo "  same host or another. Each host holds the other's guests as one map element per"
echo "  address (address : jump remote-TENANT), not as rules."
echo
echo "why, asked on h1 about web-a -> db-a and web-a -> db-b (rules of blixard-netiso(8)):"
on_host 1 in_ns "$(host_ns 1)" "$CLI" why --from web-a --to "${GUEST_V4[db-a]}:9000" 2>&1 | sed 's/^/  /' | head -n 12
on_host 1 in_ns "$(host_ns 1)" "$CLI" why --from web-a --to "${GUEST_V4[db-b]}:9000" 2>&1 | sed 's/^/  /' | head -n 12
echo
echo "status on h1 (cluster part):"
on_host 1 in_ns "$(host_ns 1)" "$CLI" status 2>/dev/null | grep -E '^ *cluster:' | sed 's/^ */  /'
echo
if [ "$wrong" = 0 ]; then
	echo "RESULT: all $total cross-host paths behave as the isolation policy says."
else
	echo "RESULT: $wrong of $total cross-host paths differ from the isolation policy (marked !)."
fi
for k in 1 2; do watch_stop "$k"; done
echo "==> cleaning up (namespaces, etcd and the watch daemons removed); $(($(date +%s) - start)) s"
[ "$wrong" = 0 ]
