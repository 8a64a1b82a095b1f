#!/bin/bash
# flow-binding.sh, the same test definition, run against the iptables backend.
NETISO_BACKEND=iptables exec bash "$top_srcdir/tests/netns/flow-binding.sh"
