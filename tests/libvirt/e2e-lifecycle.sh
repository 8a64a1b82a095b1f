#!/bin/sh
# End-to-end lifecycle under a real libvirtd: a guest with invalid tenant metadata is
# refused and leaves nothing behind; isolation survives libvirtd restarts (the hook's
# "reconnect" event), even when the table was deleted while libvirtd was down; virsh
# destroy leaves no trace of a guest in `table inet blixard` (or the iptables chains, with
# NETISO_BACKEND=iptables). TAP output.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib-e2e.sh"

e2e_setup
e2e_log "hook: $E2E_HOOK_DESC; expectations: $E2E_EXPECT"
E2E_PLAN_KINDS=tcp

# Invalid metadata: libvirt must refuse the guest (the hook fails "prepare").
bad_meta() { echo "<netiso:isolation xmlns:netiso=\"urn:blixard:network-isolation:1\" tenant=\"$1\"/>"; }
e2e_guest_add bad-space x 31 "$(bad_meta 'bad tenant!')"
e2e_guest_add bad-dash x 32 "$(bad_meta '-leading-dash')"
e2e_guest_add bad-long x 33 "$(bad_meta "t$(printf '%063d' 0)")"
e2e_guest_add bad-semicolon x 34 "$(bad_meta 'a;delete table inet blixard')"
for g in bad-space bad-dash bad-long bad-semicolon; do
	if e2e_guest_start "$g"; then
		got=started
		e2e_guest_destroy "$g"
	else
		got=refused
		e2e_log "$g: $(tr '\n' ' ' <"$E2E_T/$g.start")"
	fi
	e2e_tap "guest $g with invalid tenant metadata is refused by libvirt" refused "$got"
	e2e_tap "refused guest $g leaves no trace in $E2E_FW_NAME" absent \
		"$(e2e_table_mentions "$g" "$(e2e_guest4 "$g")" "$(e2e_guest6 "$g")")"
done

# Two running guests of two tenants.
e2e_guest_add lc-a production 21
e2e_guest_add lc-b development 22
for g in lc-a lc-b; do
	e2e_guest_start "$g" || e2e_bail "guest $g did not start: $(cat "$E2E_T/$g.start")"
done
e2e_wait_ready lc-a lc-b || e2e_bail "guests did not boot"
tap_a=$(e2e_guest_tap lc-a)
tap_b=$(e2e_guest_tap lc-b)
e2e_log "taps: lc-a $tap_a, lc-b $tap_b"
[ -n "$tap_a" ] && [ -n "$tap_b" ] && [ "$tap_a" != "$tap_b" ] || e2e_bail "no distinct taps for lc-a and lc-b"

check_state() { # WHEN
	local g tap
	for g in lc-a lc-b; do
		[ $g = lc-a ] && tap=$tap_a || tap=$tap_b
		e2e_tap "$1: $g's tap $tap is in $E2E_FW_NAME" "$(e2e_want_state present)" \
			"$(e2e_table_mentions "$tap")"
		e2e_tap "$1: $g's addresses are in $E2E_FW_NAME" "$(e2e_want_state present)" \
			"$(e2e_table_mentions "$(e2e_guest4 $g)")"
	done
}
check_running() { # WHEN
	local g
	for g in lc-a lc-b; do
		e2e_tap "$1: $g is still running" running "$(e2e_virsh domstate "$g" 2>/dev/null || echo gone)"
	done
}
round=0
check_traffic() { # GUESTS...
	round=$((round + 1))
	e2e_new_plan "$round"
	e2e_plan_standard "$@"
	e2e_run_round "$E2E_PLAN" "$round"
	e2e_evaluate "$E2E_PLAN" "$round"
}

check_state "running"
check_traffic lc-a lc-b

# libvirtd restart: reconnect runs the hook for each running guest.
e2e_libvirt_restart
check_running "after libvirtd restart"
check_state "after libvirtd restart"
check_traffic lc-a lc-b

# The table (or chains) deleted while libvirtd was down: reconnect must restore it.
e2e_libvirt_stop
e2e_fw_delete
e2e_libvirt_start
check_running "after table deletion and libvirtd restart"
check_state "after table deletion and libvirtd restart"
check_traffic lc-a lc-b

if [ -f "$E2E_T/run/blixard-netiso-placeholder.log" ]; then
	e2e_log "placeholder hook calls:"
	sed 's/^/#   /' "$E2E_T/run/blixard-netiso-placeholder.log" >&2
fi

# Teardown: nothing of lc-a remains once destroyed; lc-b keeps its isolation.
e2e_guest_destroy lc-a
e2e_tap "after virsh destroy lc-a: no trace of its tap $tap_a" absent "$(e2e_table_mentions "$tap_a")"
e2e_tap "after virsh destroy lc-a: no trace of its addresses" absent \
	"$(e2e_table_mentions "$(e2e_guest4 lc-a)" "$(e2e_guest6 lc-a)")"
e2e_tap "after virsh destroy lc-a: no state record names it" absent \
	"$(e2e_state_mentions lc-a)"
check_traffic lc-b

e2e_guest_destroy lc-b
e2e_tap "after virsh destroy of every guest: no tap left in $E2E_FW_NAME" absent \
	"$(e2e_table_mentions "$tap_a" "$tap_b")"
e2e_tap "after virsh destroy of every guest: no guest address left in $E2E_FW_NAME" absent \
	"$(e2e_table_mentions "$(e2e_guest4 lc-a)" "$(e2e_guest6 lc-a)" "$(e2e_guest4 lc-b)" "$(e2e_guest6 lc-b)")"
e2e_tap "after virsh destroy of every guest: no state record left" absent \
	"$(e2e_state_mentions lc-a lc-b)"
e2e_log "$E2E_FW_NAME at the end:"
e2e_fw_table | sed 's/^/#   /' >&2

e2e_finish
