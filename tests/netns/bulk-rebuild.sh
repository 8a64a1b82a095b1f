#!/bin/bash
# The bulk rebuild against the real kernel: once another tool committed, an
# event rebuilds both tables from the records, the skeleton and tenants as
# libnftables text and the guests' sets as one netlink batch of what
# differs (nft-bulk.c). The rebuild repairs elements edited in place (a
# stray tap, an owner removed, a mark changed, a tenant's set flushed); an
# event refused after it (its address is another guest's) leaves both
# tables as they were, with no chain of the tenant it would have brought.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
BACKEND=nftables
require_root_tier nft python3
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
TRACE="$WORK/trace"
new_ns "$H"
mkdir -p "$STATE_DIR"
write_config
export BLIXARD_NETISO_NFT_TRACE="$TRACE"

# tables: both tables as text, elements and lines in a stable order,
# counters left out
tables() {
	table_text
	nft_h list table bridge blixard 2>/dev/null | sed -E 's/ packets [0-9]+ bytes [0-9]+//' | sort
}

started=0
for i in $(seq 1 40); do
	domain_xml "g$i" "t$((i % 4))" "vnet$i" "10.0.1.$i" "fd00:10::1:$i" >"$WORK/g$i.xml"
	hook "g$i" start begin "$WORK/g$i.xml" && started=$((started + 1))
done
ok "40 guests in 4 tenants start" test "$started" = 40
tables >"$WORK/installed"

# ---- edits in place, repaired by the next event's rebuild ----
nft_h add element inet blixard guest_ifs '{ "vnet99" }'
nft_h delete element inet blixard addr_owner_v4 '{ 10.0.1.5 }'
nft_h delete element inet blixard mark_by_tap '{ "vnet3" }'
nft_h add element inet blixard mark_by_tap '{ "vnet3" : 999 }'
nft_h flush set inet blixard tenant-t1-ifs
tables >"$WORK/edited"
fails "the edits changed the table" cmp -s "$WORK/installed" "$WORK/edited"
: >"$TRACE"
ok "a guest's re-install after the edits succeeds" hook g7 start begin "$WORK/g7.xml"
ok "it rebuilt the table (the generation had moved on)" grep -q '^install slow g7' "$TRACE"
ok "the rebuild put both tables back as the records say" diff -u "$WORK/installed" <(tables)

# ---- a refused event after a rebuild changes nothing ----
in_ns "$H" nft add table inet other
domain_xml gx tnew vnetx 10.0.1.9 fd00:10::9:9 >"$WORK/gx.xml"
tables >"$WORK/before"
: >"$TRACE"
hook gx start begin "$WORK/gx.xml" 2>"$WORK/gx.err"
status=$?
ok "a guest whose address is another's is refused (exit $status)" test "$status" -ne 0
ok "the event took the rebuild" grep -q '^install slow gx' "$TRACE"
ok "the refusal names the address conflict" grep -q 'already installed for another guest' "$WORK/gx.err"
ok "both tables are as they were" diff -u "$WORK/before" <(tables)
fails "the refused guest's tenant has no chain" nft_h list chain inet blixard tenant-tnew
ok "the refused guest has no record" test ! -e "$STATE_DIR/domains/gx.state"
ok "the owner keeps its address" \
	sh -c "ip netns exec '$H' nft get element inet blixard addr_owner_v4 '{ 10.0.1.9 }' | grep -q vnet9"

done_testing
