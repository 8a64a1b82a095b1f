#!/bin/bash
# attack-flush.sh, the same test definition, run against the iptables backend
# (iptables-nft: its tables are nf_tables tables, with the same notifications).
NETISO_BACKEND=iptables exec bash "$top_srcdir/tests/netns/attack-flush.sh"
