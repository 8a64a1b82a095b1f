#!/bin/sh
# The blixard-netiso demo: builds the hook, installs it into a private libvirtd (in
# network and mount namespaces of its own), boots real QEMU guests of two tenants and
# prints who can reach whom, then cleans up; then the same for bridged guests on
# libvirt's NAT network `default` (demo/run-demo-bridged.sh), and for tenants that span
# two hosts through etcd (demo/run-demo-cluster.sh). Run as root on Debian 12:
#     sudo demo/run-demo.sh
# NETISO_BUILDDIR (default _build) is the build tree; NETISO_E2E_HOOK=FILE shows another hook.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it creates network namespaces and runs its own libvirtd)" >&2
	exit 1
fi
start=$(date +%s)

echo "==> packages"
"$top/tests/libvirt/install-deps.sh" --build || exit 1

builddir=${NETISO_BUILDDIR:-$top/_build}
echo "==> building in $builddir"
if [ ! -f "$builddir/Makefile" ]; then
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null) || exit 1
	mkdir -p "$builddir"
	(cd "$builddir" && "$top/configure" -q) || exit 1
fi
(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$builddir" -j2 >/dev/null) || exit 1

export top_srcdir=$top top_builddir=$builddir
E2E_DEMO=1
. "$top/tests/libvirt/lib-e2e.sh"

echo "==> installing the hook into a private libvirtd, starting namespaces"
e2e_setup
echo "    hook: $E2E_HOOK_DESC"
echo "    config: $E2E_CONFDIR/blixard.toml (tenant_isolation, allow_internet = true, tcp 8080 inbound, 53 outbound)"

echo "==> booting guests (QEMU TCG): web-a and db-a of tenant prod, web-b of tenant dev"
e2e_guest_add web-a prod 11
e2e_guest_add db-a prod 12
e2e_guest_add web-b dev 13
for g in web-a db-a web-b; do
	e2e_guest_start "$g" || e2e_bail "guest $g did not start: $(cat "$E2E_T/$g.start")"
done
e2e_wait_ready web-a db-a web-b || e2e_bail "guests did not boot"

echo "==> probing from inside the guests (TCP, UDP, ping; IPv4 and IPv6) and from the internet"
e2e_new_plan 1
e2e_plan_standard web-a db-a web-b
e2e_run_round "$E2E_PLAN" 1
e2e_evaluate "$E2E_PLAN" 1 >"$E2E_T/tap.1"
e2e_new_plan 2
e2e_plan_spoof web-b web-a db-a
e2e_run_round "$E2E_PLAN" 2
e2e_evaluate "$E2E_PLAN" 2 >"$E2E_T/tap.2"

echo
echo "Who can reach whom (every cell: TCP+UDP+ping over IPv4 and IPv6):"
echo
e2e_print_matrix "$E2E_T/plan.1.outcome" "$(e2e_label web-a)" "$(e2e_label db-a)" "$(e2e_label web-b)" | sed 's/^/  /'
echo
echo "  cluster  = $E2E_CLUSTER4 / $E2E_CLUSTER6 (in cluster_networks 172.16.0.0/12)"
echo "  host     = the host's own services: each guest's gateway, $E2E_HOSTIN4, $E2E_HOSTCL4 (+ IPv6)"
echo "  internet = $E2E_INET4 / $E2E_INET6; 'internet (in)' = connections from the internet to the guests"
echo
echo "Spoofing (one-way UDP, seen or not by the receiver):"
while read -r src name kind addr port spoof check expect row col desc; do
	got=$(awk -v n="$name" '$8 == n {print $3}' "$E2E_T/plan.2.outcome")
	[ "$got" = blocked ] && got=BLOCKED
	printf '  %-78s %s\n' "$desc" "$got"
done <"$E2E_T/plan.2"
echo
rules=$(e2e_nft_table | grep -c . || true)
echo "table inet blixard in the host namespace: $rules lines while the guests ran"
fails=$(cat "$E2E_T/tap.1" "$E2E_T/tap.2" | grep -c '^not ok' || true)
total=$(cat "$E2E_T/tap.1" "$E2E_T/tap.2" | grep -c '^ok\|^not ok' || true)
if [ "$fails" = 0 ]; then
	echo "RESULT: all $total probed paths behave as the isolation policy says."
else
	echo "RESULT: $fails of $total probed paths differ from the isolation policy (marked !):"
	cat "$E2E_T/tap.1" "$E2E_T/tap.2" | grep '^not ok' | sed 's/^not ok [0-9]* - /  /' | head -n 20
	[ "$fails" -le 20 ] || echo "  ..."
fi
echo "==> cleaning up (guests destroyed, namespaces and private libvirtd removed); $(($(date +%s) - start)) s"
e2e_cleanup
exec 8>&- # the end-to-end runs' lock (lib-e2e.sh), taken again by the bridged part
routed_fails=$fails

# Part two: bridged guests on libvirt's default network (demo/run-demo-bridged.sh).
echo
NETISO_BUILDDIR=$builddir "$top/demo/run-demo-bridged.sh"
bridged_rc=$?

# Part three: tenants that span two hosts, through etcd (demo/run-demo-cluster.sh).
cluster_rc=0
if [ "${NETISO_DEMO_CLUSTER:-1}" != 0 ]; then
	echo
	NETISO_BUILDDIR=$builddir "$top/demo/run-demo-cluster.sh"
	cluster_rc=$?
fi
[ "$routed_fails" = 0 ] && [ "$bridged_rc" = 0 ] && [ "$cluster_rc" = 0 ]
