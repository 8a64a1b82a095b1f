#!/bin/sh
# reconcile under a real libvirtd: after `nft flush table inet blixard`, --check exits 1 and
# names what is missing, reconcile restores it in one transaction and traffic is isolated
# again; a guest started while the hook was absent (the table deleted meanwhile) gets
# installed and the record of a guest destroyed meanwhile goes; --dry-run changes nothing.
# TAP output.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib-e2e.sh"

[ -z "${NETISO_E2E_HOOK:-}" ] || e2e_skip "NETISO_E2E_HOOK is set: reconcile needs blixard-netiso's own hook and tool"
e2e_setup
[ -n "$E2E_CLI" ] || e2e_bail "make install put no sbin/blixard-netiso in $E2E_T/inst"
e2e_log "hook: $E2E_HOOK_DESC; tool: $E2E_CLI"
E2E_PLAN_KINDS=tcp
nft_host() { ip netns exec "$E2E_NS_HOST" nft "$@"; }

# reconcile [ARGS] with its output in $E2E_T/out.N (echoed as TAP comments); sets $rc, $out.
n=0
run_cli() {
	n=$((n + 1))
	out=$E2E_T/out.$n
	e2e_cli "$@" >"$out" 2>&1
	rc=$?
	e2e_log "blixard-netiso $* (exit $rc):"
	sed 's/^/#   /' "$out" >&2
}
says() { if grep -qF -- "$2" "$1"; then echo says; else echo "does not say"; fi; }

round=0
check_traffic() { # GUESTS...
	round=$((round + 1))
	e2e_new_plan "$round"
	e2e_plan_standard "$@"
	e2e_run_round "$E2E_PLAN" "$round"
	e2e_evaluate "$E2E_PLAN" "$round"
}

e2e_guest_add rc-a production 41
e2e_guest_add rc-b production 42
e2e_guest_add rc-c development 43
for g in rc-a rc-b rc-c; do
	e2e_guest_start "$g" || e2e_bail "guest $g did not start: $(cat "$E2E_T/$g.start")"
done
e2e_wait_ready rc-a rc-b rc-c || e2e_bail "guests did not boot"

run_cli reconcile --check
e2e_tap "reconcile --check with every guest installed by its hook" "exit 0" "exit $rc"

# Someone flushes our table: every rule is gone, isolation with it.
nft_host flush table inet blixard
e2e_new_plan flushed
e2e_plan_add rc-a tcp4-rc-c tcp "$(e2e_guest4 rc-c)" 2222 - reply ok - - \
	"precondition: with the table flushed rc-a(production) reaches rc-c(development)"
e2e_run_round "$E2E_PLAN" flushed
e2e_evaluate "$E2E_PLAN" flushed

run_cli reconcile --check
e2e_tap "after nft flush table: reconcile --check" "exit 1" "exit $rc"
e2e_tap "after nft flush table: --check names the emptied chain forward" says \
	"$(says "$out" "chain forward has 0 rules")"
e2e_tap "after nft flush table: --check names tenant production's chain" says \
	"$(says "$out" "chain tenant-production is missing")"
e2e_tap "after nft flush table: --check names tenant development's chain" says \
	"$(says "$out" "chain tenant-development is missing")"

run_cli reconcile --dry-run
e2e_tap "reconcile --dry-run" "exit 0" "exit $rc"
e2e_tap "reconcile --dry-run prints the one transaction that replaces the table" says \
	"$(says "$out" "delete table inet blixard")"
run_cli reconcile --check
e2e_tap "reconcile --dry-run changed nothing: --check still finds drift" "exit 1" "exit $rc"

run_cli reconcile
e2e_tap "reconcile after the flush" "exit 0" "exit $rc"
e2e_tap "reconcile says it repaired in one transaction" says "$(says "$out" "differences in one transaction")"
run_cli reconcile --check
e2e_tap "after reconcile: reconcile --check" "exit 0" "exit $rc"
check_traffic rc-a rc-b rc-c

# The hook absent and the table gone (a host where the package was installed after the
# guests started, or a reboot that lost the ruleset): libvirtd restarts without a hook,
# a new guest starts unprotected, and a guest is destroyed with no hook to clean up.
mkdir -p "$E2E_T/hook-aside"
mv "$E2E_T/etc-libvirt/hooks/qemu.d/"* "$E2E_T/hook-aside/"
e2e_libvirt_restart
nft_host delete table inet blixard
e2e_guest_add rc-d development 44
e2e_guest_start rc-d || e2e_bail "guest rc-d did not start: $(cat "$E2E_T/rc-d.start")"
e2e_wait_ready rc-d || e2e_bail "guest rc-d did not boot"
tap_b=$(e2e_guest_tap rc-b)
e2e_guest_destroy rc-b
# Installing the hook again does not install anything by itself (libvirtd reads hooks at
# its start); reconcile is what repairs the host.
mv "$E2E_T/hook-aside/"* "$E2E_T/etc-libvirt/hooks/qemu.d/"
e2e_tap "precondition: rc-b's record outlived it (no hook ran)" present "$(e2e_state_mentions rc-b)"

run_cli reconcile --check
e2e_tap "hook absent, table deleted: reconcile --check" "exit 1" "exit $rc"
e2e_tap "--check names the missing table" says "$(says "$out" "table inet blixard is missing")"
e2e_tap "--check names rc-d as running but not installed" says \
	"$(says "$out" "domain 'rc-d' is running but not installed")"
e2e_tap "--check names rc-b as installed but not running" says \
	"$(says "$out" "domain 'rc-b' is installed but not running")"

run_cli reconcile
e2e_tap "reconcile without the hook's help" "exit 0" "exit $rc"
run_cli reconcile --check
e2e_tap "after reconcile: reconcile --check" "exit 0" "exit $rc"
e2e_tap "after reconcile: table inet blixard holds rc-d's tap" present \
	"$(e2e_table_mentions "$(e2e_guest_tap rc-d)")"
e2e_tap "after reconcile: the stale record of rc-b is gone" absent "$(e2e_state_mentions rc-b)"
e2e_tap "after reconcile: rc-b's old tap $tap_b is not in the table" absent \
	"$(e2e_table_mentions "$tap_b")"
check_traffic rc-a rc-c rc-d

# The hook back in libvirtd: its reconnect events agree with what reconcile wrote.
e2e_libvirt_restart
run_cli reconcile --check
e2e_tap "after libvirtd restarts with the hook: reconcile --check" "exit 0" "exit $rc"

run_cli reconcile --connect 'qemu+unix:///system?socket=/nonexistent/libvirt-sock'
e2e_tap "reconcile with an unreachable libvirtd" "exit 1" "exit $rc"
e2e_tap "reconcile with an unreachable libvirtd says so in one line" "1 line" "$(wc -l <"$out") line"

e2e_finish
