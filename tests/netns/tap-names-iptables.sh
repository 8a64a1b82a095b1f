#!/bin/bash
# tap-names.sh, the same test definition, on the iptables backend.
NETISO_BACKEND=iptables exec bash "$top_srcdir/tests/netns/tap-names.sh"
