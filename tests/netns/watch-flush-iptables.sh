#!/bin/bash
# watch-flush.sh, the same test definition, on the iptables backend (iptables-nft).
NETISO_BACKEND=iptables exec bash "$top_srcdir/tests/netns/watch-flush.sh"
