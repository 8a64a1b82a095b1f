#!/bin/sh
# A stand-in for the real hook, for the harness's own checks (NETISO_E2E_HOOK=this file):
# it logs every call, isolates nothing, and refuses a guest whose tenant metadata is not a
# valid tenant name by exiting 1 at "prepare begin", as the real hook must. With it the
# traffic expectations fail unless NETISO_E2E_EXPECT=open: that is the point.
log=/run/blixard-netiso-placeholder.log
xml=$(cat)
echo "$(date +%s) $*" >>"$log"
[ "$2 $3" = "prepare begin" ] || exit 0
line=$(printf '%s\n' "$xml" | grep 'urn:blixard:network-isolation:1' | head -n 1)
[ -n "$line" ] || exit 0 # no metadata: tenant "default"
tenant=$(printf '%s\n' "$line" | sed -n 's/.*[[:space:]]tenant="\([^"]*\)".*/\1/p')
if ! printf '%s\n' "$tenant" | grep -Eqx '[A-Za-z0-9][A-Za-z0-9._-]{0,62}'; then
	echo "placeholder hook: $1: invalid tenant '$tenant'" >&2
	echo "$(date +%s) refused $1 tenant '$tenant'" >>"$log"
	exit 1
fi
exit 0
