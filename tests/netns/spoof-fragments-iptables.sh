#!/bin/bash
# spoof-fragments.sh, the same test definition, run against the iptables backend.
NETISO_BACKEND=iptables exec bash "$top_srcdir/tests/netns/spoof-fragments.sh"
