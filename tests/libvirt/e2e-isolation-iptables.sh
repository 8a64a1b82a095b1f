#!/bin/sh
# e2e-isolation.sh, the same test definition, with the hook on the iptables backend.
NETISO_BACKEND=iptables exec bash "$(dirname "$0")/e2e-isolation.sh" "$@"
