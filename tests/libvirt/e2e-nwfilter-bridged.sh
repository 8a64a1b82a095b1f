#!/bin/sh
# The bridged guests of e2e-bridged.sh isolated by the generated nwfilter filters instead of
# the hook (blixard-netiso nwfilter --define and a <filterref> per interface).
NETISO_E2E_BRIDGED=nwfilter exec bash "$(dirname "$0")/e2e-bridged.sh" "$@"
