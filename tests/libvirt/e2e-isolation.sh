#!/bin/sh
# End-to-end isolation under a real libvirtd with real QEMU guests (TCG): guests of two
# tenants probe each other, the cluster, the host's services and the internet over IPv4
# and IPv6; a guest spoofs another's address; then allow_internet = false. TAP output.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib-e2e.sh"

e2e_setup
e2e_log "hook: $E2E_HOOK_DESC; expectations: $E2E_EXPECT"

# Phase 1: allow_internet = true, two tenants.
e2e_guest_add web-a production 11
e2e_guest_add db-a production 12
e2e_guest_add web-b development 13
for g in web-a db-a web-b; do
	e2e_guest_start "$g" || e2e_bail "guest $g did not start: $(cat "$E2E_T/$g.start")"
done
e2e_wait_ready web-a db-a web-b || e2e_bail "guests did not boot"
e2e_log "guests up after $(($(date +%s) - E2E_T0)) s"

e2e_new_plan 1
e2e_plan_standard web-a db-a web-b
e2e_run_round "$E2E_PLAN" 1
e2e_evaluate "$E2E_PLAN" 1

e2e_new_plan 2
e2e_plan_spoof web-b web-a db-a
e2e_run_round "$E2E_PLAN" 2
e2e_evaluate "$E2E_PLAN" 2

# Phase 2: allow_internet = false; only the allowed outbound ports reach the internet.
for g in web-a db-a web-b; do e2e_guest_destroy "$g"; done
e2e_write_config false
e2e_guest_add web-c production 14
e2e_guest_start web-c || e2e_bail "guest web-c did not start: $(cat "$E2E_T/web-c.start")"
e2e_wait_ready web-c || e2e_bail "guest web-c did not boot"
e2e_new_plan 3
e2e_plan_standard web-c
e2e_run_round "$E2E_PLAN" 3
e2e_evaluate "$E2E_PLAN" 3

e2e_finish
