#!/bin/bash
# Hostile metadata at the real hook, in a namespace whose table already holds
# a guest: each bad input is refused at prepare and at start with one line on
# stderr that names the problem, and neither the ruleset nor the state
# directory changes. The few inputs that are legitimate are shown accepted.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip nft python3
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
new_ns "$H"
mkdir -p "$STATE_DIR"
write_config
domain_xml a1 A vnet1 10.0.0.11 fd00:10::11 >"$WORK/a1.xml"
hook a1 start begin "$WORK/a1.xml" || { echo "Bail out! the reference guest does not start"; exit 1; }

# What must not change: the table (drop counters aside), and the records and
# tap links with their contents (the time of the last event and the last
# flow id handed out aside: an accepted guest's install and removal are
# events, and its install hands out a flow id).
snapshot() {
	nft_h list table inet blixard | sed -E 's/packets [0-9]+ bytes [0-9]+/packets N bytes N/'
	(cd "$STATE_DIR" && find . -printf '%y %p %l\n' | sort &&
		find . -type f ! -name last-event ! -name flow-id -exec sha256sum {} + | sort)
}
BASELINE="$WORK/baseline"
snapshot >"$BASELINE"
ok "the baseline holds the reference guest's elements and record" \
	sh -c "grep -q 'jump tenant-A' '$BASELINE' && grep -q 'domains/a1.state' '$BASELINE'"

# doc NAME METADATA INTERFACES: a domain document around raw XML fragments.
doc() {
	printf "<domain type='kvm'>\n  <name>%s</name>\n" "$1"
	printf "  <uuid>8d2f1a3c-5b6e-4f70-9a81-b2c3d4e5f607</uuid>\n"
	[ -n "$2" ] && printf "  <metadata>\n    %s\n  </metadata>\n" "$2"
	printf "  <devices>\n    %s\n  </devices>\n</domain>\n" "$3"
}
meta() { # meta TENANT-ATTRIBUTE-VALUE (raw XML)
	printf "<n:isolation xmlns:n='urn:blixard:network-isolation:1' tenant='%s'/>" "$1"
}
iface() { # iface TAP PEER4 [EXTRA]: a routed interface with a MAC address
	printf "<interface type='ethernet'><mac address='52:54:00:00:00:09'/>"
	[ "$1" = - ] || printf "<target dev='%s'/>" "$1"
	printf "<source><ip address='10.0.255.254' prefix='32' peer='%s'/></source>%s</interface>" \
		"$2" "${3:-}"
}
IF=$(iface vnet9 10.0.0.19)

# refused NAME FILE MESSAGE: at prepare and at start, exit non-zero with one
# line on stderr containing MESSAGE, and nothing changed.
refused_once() {
	local phase=$1 file=$2 message=$3 err="$WORK/stderr"
	if in_ns "$H" "$HOOK" hostile "$phase" begin - <"$file" 2>"$err"; then
		echo "accepted at $phase"
		return 1
	fi
	if [ "$(wc -l <"$err")" != 1 ] || ! grep -qF -- "$message" "$err"; then
		echo "stderr at $phase, expected one line with: $message"
		cat "$err"
		return 1
	fi
	snapshot | diff -u "$BASELINE" - || { echo "the table or the state changed at $phase"; return 1; }
}
refused() {
	local name=$1 file=$2 message=$3
	ok "$name: refused at prepare, one line naming it, nothing changed" \
		refused_once prepare "$file" "$message"
	ok "$name: refused at start, one line naming it, nothing changed" \
		refused_once start "$file" "$message"
}
case_file() { # case_file NAME: a file for the document on stdin
	cat >"$WORK/$1.xml"
	echo "$WORK/$1.xml"
}

# Tenant names that try to break out of nft syntax or a shell.
# shellcheck disable=SC2016
for t in 'a;b' 'x&quot; ; flush ruleset ; &quot;' '$(reboot)' '`reboot`' 'a&#10;flush ruleset' \
	'a b' 'a}' 'tenant-a-ifs;' '-leading-dash'; do
	f=$(doc hostile "$(meta "$t")" "$IF" | case_file "tenant-$RANDOM")
	refused "tenant '$t'" "$f" "domain 'hostile': metadata urn:blixard:network-isolation:1: tenant '"
done
f=$(doc hostile "$(meta 'prodаction')" "$IF" | case_file lookalike)
refused "Cyrillic look-alike in the tenant" "$f" "non-ASCII character U+0430 (Unicode look-alikes are refused)"
f=$(doc hostile "$(meta "$(printf 't%.0s' $(seq 64))")" "$IF" | case_file long-tenant)
refused "64-character tenant" "$f" "is invalid: longer than 63 characters"
f=$(doc hostile "$(meta '')" "$IF" | case_file empty-tenant)
refused "empty tenant" "$f" "tenant '' is invalid: must not be empty"
f=$(doc hostile "<n:isolation xmlns:n='urn:blixard:network-isolation:1' n:tenant='a'/>" "$IF" |
	case_file ns-attribute)
refused "tenant attribute in our namespace" "$f" "unknown attribute 'n:tenant' on isolation"

# Duplicates: libvirt would use one of them, and we must not guess which.
f=$(doc hostile "$(meta a)$(meta b)" "$IF" | case_file dup-isolation)
refused "two isolation elements" "$f" "more than one isolation element"
f=$(doc hostile "$(meta a)" "$IF" | sed 's|<name>hostile</name>|&<name>other</name>|' | case_file dup-name)
refused "two names" "$f" "more than one <name>"
f=$(doc hostile "<n:isolation xmlns:n='urn:blixard:network-isolation:1' tenant='a' tenant='b'/>" "$IF" |
	case_file dup-attribute)
refused "tenant attribute twice" "$f" "attribute tenant redefined"

# Interfaces and addresses.
f=$(doc hostile "$(meta a)" "$(iface 'vnet0;x' 10.0.0.19)" | case_file tap-injection)
refused "tap name with ';'" "$f" "target dev 'vnet0;x' is invalid: only A-Za-z0-9_.- allowed"
f=$(doc hostile "$(meta a)" "$(iface 'vnet0123456789ab' 10.0.0.19)" | case_file long-tap)
refused "16-character tap name" "$f" "is invalid: longer than 15 characters"
f=$(doc hostile "$(meta a)" "$(iface vnet9 0.0.0.0/0)" | case_file everything)
refused "guest address 0.0.0.0/0" "$f" "source ip peer '0.0.0.0/0' is a network, not a single address"
f=$(doc hostile "$(meta a)" "$(iface vnet9 224.0.0.1)" | case_file multicast)
refused "multicast guest address" "$f" "source ip peer '224.0.0.1' is a multicast address"
f=$(doc hostile "$(meta a)" "$(iface vnet9 10.0.0.19)$(iface vnet8 10.0.0.19)" | case_file twice)
refused "one address on two interfaces" "$f" "interfaces 0 and 1 both claim address 10.0.0.19"
f=$(doc hostile "$(meta a)" "$(iface vnet9 172.16.0.5)" | case_file cluster)
refused "guest address inside a cluster network" "$f" "is inside a cluster network"

# Hostile XML.
python3 - "$WORK" <<'EOP'
import sys
w = sys.argv[1]
def put(name, text):
    with open(f"{w}/{name}.xml", "w") as f:
        f.write(text)
put("big", "<domain><name>b</name><description>" + "x" * (10 << 20) + "</description></domain>")
put("deep", "<domain><name>d</name>" + "<a>" * 100000 + "</a>" * 100000 + "</domain>")
put("laughs", "<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY a 'lol'>"
    + "".join(f"<!ENTITY {chr(98 + i)} '{('&' + chr(97 + i) + ';') * 10}'>" for i in range(9))
    + "]>\n<domain><name>&j;</name></domain>")
put("xxe", "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/shadow'>]>\n"
    "<domain><name>&x;</name></domain>")
EOP
printf "<domain type='kvm'><name>a\0b</name></domain>" >"$WORK/nul.xml"
refused "10 MB of XML" "$WORK/big.xml" "input is larger than 4194304 bytes"
refused "100000 nested elements" "$WORK/deep.xml" "elements nested deeper than 256 levels"
refused "billion laughs" "$WORK/laughs.xml" "DOCTYPE is not allowed (no DTDs, no entities)"
refused "XXE" "$WORK/xxe.xml" "DOCTYPE is not allowed (no DTDs, no entities)"
refused "NUL byte" "$WORK/nul.xml" "NUL byte in input"

# Refused only at start: the tap does not exist at prepare, and another
# guest's address is known only to the kernel's table.
no_target=$(doc hostile "$(meta a)" "$(iface - 10.0.0.19)" | case_file no-target)
ok "interface without <target>: accepted at prepare (libvirt has no tap yet)" \
	in_ns "$H" "$HOOK" hostile prepare begin - <"$no_target"
ok "interface without <target>: refused at start, one line naming it, nothing changed" \
	refused_once start "$no_target" "interface 0 has no <target dev>: the tap is not known yet"
thief=$(doc hostile "$(meta a)" "$(iface vnet9 10.0.0.11)" | case_file thief)
ok "address of a running guest: accepted at prepare" \
	in_ns "$H" "$HOOK" hostile prepare begin - <"$thief"
ok "address of a running guest: refused at start, one line naming it, nothing changed" \
	refused_once start "$thief" "address 10.0.0.11 of interface 0 is already installed for another guest's tap"

# Legitimate: no MAC address, and isolation elements that are not ours.
# accepted FILE TENANT [NAME]: prepare and start succeed, the guest lands in
# TENANT, and its teardown gives the table and the state directory back exactly.
accepted() {
	local file=$1 tenant=$2 name=${3:-hostile}
	in_ns "$H" "$HOOK" "$name" prepare begin - <"$file" &&
		in_ns "$H" "$HOOK" "$name" start begin - <"$file" &&
		nft_h list map inet blixard guest_tenant | grep -qF "\"vnet9\" : jump tenant-$tenant" &&
		in_ns "$H" "$HOOK" "$name" stopped end - <"$file" &&
		in_ns "$H" "$HOOK" "$name" release end - <"$file" &&
		snapshot | diff -u "$BASELINE" -
}
no_mac=$(doc hostile "$(meta B)" "<interface type='ethernet'><target dev='vnet9'/><source><ip address='10.0.255.254' peer='10.0.0.19'/></source></interface>" |
	case_file no-mac)
ok "interface without a MAC address: accepted in its tenant, removed without a trace" \
	accepted "$no_mac" B
for ns in "" "xmlns='urn:example:other'" "xmlns='urn:blixard:network-isolation:2'"; do
	f=$(doc hostile "<isolation $ns tenant='B'/>" "$IF" | case_file "wrong-ns-$RANDOM")
	ok "isolation in namespace '${ns:-none}' is not ours: not refused, tenant default" \
		accepted "$f" default
done

# Long names are libvirt's to limit (NAME.xml must fit a file name); ours
# must not fail where libvirt's succeed, even once escaped.
for name in "$(printf 'n%.0s' $(seq 251))" "$(printf 'é%.0s' $(seq 120))"; do
	f=$(doc "$name" "$(meta B)" "$IF" | case_file "long-name-$RANDOM")
	ok "a ${#name}-character domain name: accepted, removed without a trace" \
		accepted "$f" B "$name"
done

unchanged() { snapshot | diff -u "$BASELINE" -; }
ok "after all of it, the table and the records are exactly as they were" unchanged
ok "and the reference guest is still installed" \
	sh -c "ip netns exec '$H' nft list set inet blixard guest_ifs | grep -q '\"vnet1\"'"
done_testing
