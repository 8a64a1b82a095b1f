# A simulated hypervisor in network namespaces: the "host" namespace routes
# for guests whose taps are veth pairs named like libvirt's (vnetN), plus a
# "cluster" and an "internet" namespace. Everything is created under a
# unique prefix and removed on exit; nothing touches the caller's namespace.
# shellcheck shell=bash

. "$top_srcdir/tests/lib.sh"

NS_PREFIX="bxn$$"
H="${NS_PREFIX}h"          # the hypervisor: runs the hook, holds table inet blixard
C="${NS_PREFIX}c"          # the cluster (172.16.0.0/12, fd00:172::/64)
I="${NS_PREFIX}i"          # the internet (198.51.100.0/24, 2001:db8:100::/64)
HOST4=10.0.255.254         # host side of every guest tap (libvirt <source><ip address>)
HOST6=fd00:10::fffe
WORK=$(mktemp -d /tmp/blixard-netiso-netns.XXXXXX)
PIDS=()
HOOK="$top_builddir/qemu-hook"
CLI="$top_builddir/blixard-netiso"
export BLIXARD_NETISO_CONFIG="$WORK/blixard.toml"
STATE_DIR="$WORK/state"

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

netns_cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^${NS_PREFIX}"); do
		ip netns del "$ns"
	done
	rm -rf "$WORK"
}
trap netns_cleanup EXIT
trap "exit 143" TERM INT HUP

new_ns() {
	ip netns add "$1"
	in_ns "$1" ip link set lo up
	in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# Run a background service inside a namespace; it dies with the test.
serve() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" >/dev/null 2>&1 &
	PIDS+=($!)
}

# tcp_listen NS PORT: answers "ok" to every connection (IPv4 and IPv6)
tcp_listen() {
	serve "$1" socat TCP6-LISTEN:"$2",ipv6only=0,reuseaddr,fork SYSTEM:'echo ok'
}

# udp_sink NS PORT: appends every datagram to $WORK/sink-NS-PORT
udp_sink() {
	: >"$WORK/sink-$1-$2"
	serve "$1" socat -u UDP6-RECV:"$2",ipv6only=0,reuseaddr OPEN:"$WORK/sink-$1-$2",append
}

wait_ports() {
	sleep 0.5
}

topology_up() {
	new_ns "$H"
	in_ns "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	new_ns "$C"
	new_ns "$I"
	link_peer "$C" clu0 172.16.0 fd00:172:
	link_peer "$I" wan0 198.51.100 2001:db8:100:
	tcp_listen "$H" 8080       # a host service
	udp_sink "$H" 53           # the host's DNS port (allowed outbound by default)
	udp_sink "$H" 5353         # a host port that is not allowed
	tcp_listen "$C" 7000       # a cluster service
	udp_sink "$C" 53
	tcp_listen "$I" 80         # the internet
	udp_sink "$I" 53
	udp_sink "$I" 5555
	mkdir -p "$STATE_DIR"
}

# link_peer NS IFNAME V4PREFIX V6PREFIX: a routed neighbour of the host
link_peer() {
	local ns=$1 ifname=$2 v4=$3 v6=$4
	ip link add "$ifname" netns "$H" type veth peer name eth0 netns "$ns"
	in_ns "$H" ip link set "$ifname" up
	in_ns "$H" ip addr add "$v4.1/24" dev "$ifname"
	in_ns "$H" ip addr add "$v6:1/64" dev "$ifname" nodad
	in_ns "$ns" ip link set eth0 up
	in_ns "$ns" ip addr add "$v4.2/24" dev eth0
	in_ns "$ns" ip addr add "$v6:2/64" dev eth0 nodad
	in_ns "$ns" ip route add default via "$v4.1"
	in_ns "$ns" ip -6 route add default via "$v6:1"
}

# guest_up NAME TAP V4 V6: a guest namespace behind a routed "tap", wired the
# way libvirt wires type='ethernet' with <source><ip address=HOST peer=GUEST>.
guest_up() {
	local name=$1 tap=$2 v4=$3 v6=$4 ns="${NS_PREFIX}${1}"
	new_ns "$ns"
	ip link add "$tap" netns "$H" type veth peer name eth0 netns "$ns"
	in_ns "$H" ip link set "$tap" up
	in_ns "$H" ip addr add "$HOST4/32" peer "$v4/32" dev "$tap"
	in_ns "$H" ip -6 addr add "$HOST6/128" peer "$v6/128" dev "$tap" nodad
	in_ns "$ns" ip link set eth0 up
	in_ns "$ns" ip addr add "$v4/32" dev eth0
	in_ns "$ns" ip -6 addr add "$v6/128" dev eth0 nodad
	in_ns "$ns" ip route add "$HOST4" dev eth0
	in_ns "$ns" ip route add default via "$HOST4" dev eth0
	in_ns "$ns" ip -6 route add "$HOST6" dev eth0
	in_ns "$ns" ip -6 route add default via "$HOST6" dev eth0
	tcp_listen "$ns" 9000      # a guest service
	tcp_listen "$ns" 2222      # a guest service on the allowed inbound port
	udp_sink "$ns" 5555
}

guest_ns() {
	echo "${NS_PREFIX}$1"
}

# domain_xml NAME TENANT TAP V4 V6 [UUID]: what libvirt hands the hook from "start" on.
# TENANT "-" leaves the metadata out; TAP "-" leaves <target> out (prepare, release).
domain_xml() {
	local name=$1 tenant=$2 tap=$3 v4=$4 v6=$5 uuid=${6:-}
	[ -n "$uuid" ] || uuid=$(printf '%08x-0000-4000-8000-%012x' "$(cksum <<<"$name" | cut -d' ' -f1)" 1)
	echo "<domain type='qemu'>"
	echo "  <name>$name</name>"
	echo "  <uuid>$uuid</uuid>"
	if [ "$tenant" != - ]; then
		echo "  <metadata>"
		echo "    <netiso:isolation xmlns:netiso='urn:blixard:network-isolation:1' tenant='$tenant'/>"
		echo "  </metadata>"
	fi
	echo "  <devices>"
	echo "    <interface type='ethernet'>"
	echo "      <mac address='52:54:00:00:00:01'/>"
	[ "$tap" = - ] || echo "      <target dev='$tap'/>"
	echo "      <source>"
	echo "        <ip address='$HOST4' prefix='32' peer='$v4'/>"
	echo "        <ip family='ipv6' address='$HOST6' prefix='128' peer='$v6'/>"
	echo "      </source>"
	echo "    </interface>"
	echo "  </devices>"
	echo "</domain>"
}

# hook NAME OPERATION SUB XMLFILE: run the real hook as libvirtd would, in the host namespace.
hook() {
	in_ns "$H" "$HOOK" "$1" "$2" "$3" - <"$4"
}

# start_guest NAME TENANT TAP V4 V6: the hook events of a guest start.
start_guest() {
	local xml="$WORK/$1.xml"
	domain_xml "$1" "$2" - "$4" "$5" >"$WORK/$1-prepare.xml"
	domain_xml "$1" "$2" "$3" "$4" "$5" >"$xml"
	why_register "$1" "$4" "$5"
	hook "$1" prepare begin "$WORK/$1-prepare.xml" &&
		hook "$1" start begin "$xml" &&
		hook "$1" started begin "$xml"
}

stop_guest() {
	hook "$1" stopped end "$WORK/$1.xml" && hook "$1" release end "$WORK/$1-prepare.xml"
}

write_config() {
	cat >"$BLIXARD_NETISO_CONFIG" <<EOC
[vm.network_isolation]
enabled = true
backend = "${NETISO_BACKEND:-nftables}"
cluster_networks = ["127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "fd00:172::/64"]
vm_network = ["10.0.0.0/16", "fd00:10::/64"]
inter_vm_isolation = ${INTER_VM:-false}
tenant_isolation = ${TENANT_ISO:-true}
allow_internet = ${INTERNET:-true}
state_dir = "$STATE_DIR"

[[vm.network_isolation.allowed_ports]]
protocol = "udp"
port = 53
direction = "outbound"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 53
direction = "outbound"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 2222
direction = "inbound"
EOC
}

# ---- probes: exit 0 when the traffic got through ----

# tcp NS ADDR PORT: a TCP connection completes and the service answers
tcp() {
	local addr=$2
	case $addr in *:*) addr="[$addr]" ;; esac
	[ "$(in_ns "$1" timeout 4 socat -T2 - "TCP:$addr:$3,connect-timeout=2" </dev/null 2>/dev/null)" = ok ]
}

# udp NS ADDR PORT TARGETNS [SOURCE]: a datagram arrives at the sink of TARGETNS
udp() {
	local ns=$1 addr=$2 port=$3 target=$4 src=${5:-} token bind=""
	token="t$RANDOM$RANDOM"
	case $addr in *:*) addr="[$addr]" ;; esac
	[ -n "$src" ] && bind=",bind=$src"
	case $src in *:*) bind=",bind=[$src]" ;; esac
	echo "$token" | in_ns "$ns" socat -u - "UDP:$addr:$port$bind" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q "$token" "$WORK/sink-$target-$port" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ping_() {
	in_ns "$1" ping -c1 -W1 "$2" >/dev/null 2>&1
}

# spoof NS ADDR: temporarily give a guest an address that is not its own
spoof_add() {
	case $2 in
	*:*) in_ns "$1" ip -6 addr add "$2/128" dev eth0 nodad ;;
	*) in_ns "$1" ip addr add "$2/32" dev eth0 ;;
	esac
}
spoof_del() {
	case $2 in
	*:*) in_ns "$1" ip -6 addr del "$2/128" dev eth0 ;;
	*) in_ns "$1" ip addr del "$2/32" dev eth0 ;;
	esac
}

# ---- why: `blixard-netiso why` must say what the packets did ----

declare -A WHY_DOMAIN_OF=() # guest address -> domain name (start_guest fills it)

why_register() { # why_register NAME V4 V6
	WHY_DOMAIN_OF[$2]=$1
	WHY_DOMAIN_OF[$3]=$1
}

# why_installed NAME: the domain has a record (its installed state)
why_installed() {
	[ -n "$1" ] && [ -e "$STATE_DIR/domains/$1.state" ]
}

# why_verdict ARGS...: `why ARGS` in the host; prints "allowed N" or
# "dropped N" (N the deciding rule), else what went wrong
why_verdict() {
	local out rc
	out=$(in_ns "$H" "$CLI" why --strict "$@" 2>&1)
	rc=$?
	case $rc in
	0 | 1) echo "$(if [ $rc = 0 ]; then echo allowed; else echo dropped; fi) $(sed -n '1s/^[a-z]* by rule \([0-9]*\) .*/\1/p' <<<"$out")" ;;
	*) echo "exit $rc: $(tr '\n' ' ' <<<"$out" | cut -c1-600)" ;;
	esac
}

# why_matches GOT VERDICT [RULE]: why_verdict said VERDICT (by RULE)
why_matches() {
	[ "${1%% *}" = "$2" ] && { [ -z "$3" ] || [ "${1#* }" = "$3" ]; }
}

# tap_result STATUS DESCRIPTION: one TAP line, passed when STATUS is 0
tap_result() {
	TAP_COUNT=$((TAP_COUNT + 1))
	if [ "$1" = 0 ]; then
		echo "ok $TAP_COUNT - $2"
	else
		echo "not ok $TAP_COUNT - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# expect allowed|dropped[:RULE] DESCRIPTION PROBE NS ADDR [PORT [TARGET [SRC]]]
# Runs the probe (tcp, udp or ping_ above) as ok/fails do: one TAP line,
# passed when the packets did what is expected. Then asks `why` about the
# same packet, by addresses (the source is the one the kernel picks in NS)
# and by domain names where an end is an installed guest: one TAP line,
# passed when every answer is what the packets really did (and RULE, when
# given) and the firewall agrees with the records (not exit 3). A spoofed
# SRC is asked by name only (--from DOMAIN --source SRC): an address alone
# cannot say which tap it came in on.
expect() {
	local want=$1 desc=$2 probe=$3 ns=$4 dst=$5 port=${6:-} src=${8:-}
	local rule="" proto observed to from name dname fam got bad="" asked=""
	shift 2
	case $want in *:*) rule=${want#*:} want=${want%%:*} ;; esac
	case $probe in
	tcp) proto=tcp ;;
	udp) proto=udp ;;
	ping_) proto=icmp port="" src="" ;;
	*) echo "expect: '$probe' is not a probe of lib-netns.sh" >&2 && exit 1 ;;
	esac
	if "$@" >"${TAP_LOG:-/dev/null}" 2>&1; then observed=allowed; else observed=dropped; fi
	if [ "$observed" = "$want" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc (the packets were $observed)"
	fi
	case $dst in *:*) fam=6 to=$dst && [ -n "$port" ] && to="[$dst]:$port" ;; *) fam=4 to=$dst${port:+:$port} ;; esac
	# By addresses.
	if [ -z "$src" ]; then
		from=$(in_ns "$ns" ip -o route get "$dst" 2>/dev/null | sed -n 's/.* src \([^ ]*\).*/\1/p')
		got=$(why_verdict --from "$from" --to "$to" --proto "$proto")
		asked="by address"
		why_matches "$got" "$observed" "$rule" || bad="$bad; why --from $from --to $to --proto $proto: $got"
	fi
	# By names.
	name=${ns#"$NS_PREFIX"}
	dname=${WHY_DOMAIN_OF[$dst]:-}
	why_installed "$name" || name=""
	why_installed "$dname" || dname=""
	if [ -n "$name" ] || [ -n "$dname" ]; then
		if [ -n "$name" ]; then from=$name; else from=$(in_ns "$ns" ip -o route get "$dst" | sed -n 's/.* src \([^ ]*\).*/\1/p'); fi
		[ -n "$dname" ] && to=$dname${port:+:$port}
		set -- --from "$from" --to "$to" --proto "$proto"
		[ -n "$src" ] && set -- "$@" --source "$src"
		[ -n "$name" ] && [ -n "$dname" ] && set -- "$@" "-$fam"
		got=$(why_verdict "$@")
		asked="${asked:+$asked and }by name"
		why_matches "$got" "$observed" "$rule" || bad="$bad; why $*: $got"
	fi
	if [ -z "$asked" ]; then
		tap_result 1 "why: $desc: nothing to ask (a spoofed source from a guest nothing is installed for)"
	elif [ -z "$bad" ]; then
		tap_result 0 "why agrees: $desc ($observed by rule ${got##* }, asked $asked)"
	else
		tap_result 1 "why disagrees with the packets ($observed${rule:+ by rule $rule}): $desc"
		echo "#${bad#;}"
	fi
}

nft_h() {
	in_ns "$H" nft "$@"
}

# ---- the backend's view, so that one test definition checks both ----
# NETISO_BACKEND (write_config) picks the backend; these helpers read what
# that backend holds in the host namespace.
BACKEND=${NETISO_BACKEND:-nftables}

require_backend_tools() {
	case $BACKEND in
	iptables) require_root_tier iptables-restore ip6tables-restore iptables-save ip6tables-save ;;
	*) require_root_tier nft ;;
	esac
}

# ipt_h_save: the filter and raw tables of both families as iptables-save
# prints them, without counters
ipt_h_save() {
	local t table
	for t in iptables-save ip6tables-save; do
		for table in filter raw; do
			in_ns "$H" "$t" -t $table
		done
	done | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
}

# fw_state: everything the configured backend holds, counters left out
fw_state() {
	case $BACKEND in
	iptables) ipt_h_save ;;
	*) nft_h list table inet blixard 2>/dev/null | grep -v 'packets [0-9]* bytes' ;;
	esac
}

# mentions TAP: how many rules or elements name this tap (exactly; nodes of
# the iptables dispatch trie named for a shared prefix do not count)
mentions() {
	case $BACKEND in
	iptables) ipt_h_save | grep -Ec -- "-[io] $1( |\$)" ;;
	*) nft_h list table inet blixard 2>/dev/null | grep -o "\"$1\"" | wc -l ;;
	esac
}

# full_mentions: how often one installed guest with one IPv4 and one IPv6
# address is named: nftables, once in each of its 12 set and map elements;
# iptables, in its leaves of the 7 tries that hold a vnetN tap (26 rules for
# IPv4, 30 for IPv6, raw's included)
full_mentions_expected() {
	case $BACKEND in
	iptables) echo 56 ;;
	*) echo 12 ;;
	esac
}

# installed_taps: the taps the backend dispatches, one a line
installed_taps() {
	case $BACKEND in
	iptables) ipt_h_save | sed -n 's/^-A BLXFI-[^ ]* -i \([^ ]*\) -j BLX-SPOOF$/\1/p' | sort -u ;;
	*) nft_h list set inet blixard guest_ifs 2>/dev/null | grep -o '"[^"]*"' | tr -d '"' | sort -u ;;
	esac
}

# tenant_chains: the tenants that have chains, one a line
tenant_chains() {
	case $BACKEND in
	iptables) ipt_h_save | sed -n 's/.*--comment "tenant \([^"]*\)".*/\1/p' | sort -u ;;
	*) nft_h list table inet blixard 2>/dev/null | sed -n 's/^\tchain tenant-\(.*\) {$/\1/p' ;;
	esac
}

# fw_flush: someone else empties every chain of ours, as 'nft flush table'
# does for table inet blixard (chains and sets stay, rules go)
fw_flush() {
	local c
	case $BACKEND in
	iptables)
		for t in iptables ip6tables; do
			for c in $(in_ns "$H" "$t-save" -t filter | sed -n 's/^:\(BL[^ ]*\) .*/\1/p'); do
				in_ns "$H" "$t" -w -F "$c"
			done
		done
		;;
	*) nft_h flush table inet blixard ;;
	esac
}

# fw_has REGEX: the backend's state matches REGEX (grep -E)
fw_has() {
	fw_state | grep -Eq -- "$1"
}

# has_tenant_chain NAME: the backend still has objects for this tenant
has_tenant_chain() {
	tenant_chains | grep -qx -- "$1"
}

# is_installed TAP: the backend dispatches this tap
is_installed() {
	installed_taps | grep -qx -- "$1"
}

# ---- helpers of the attack tests (tests/netns/attack-*.sh) ----

PROBE="$top_srcdir/tests/netns/attack-probe.py"
# How long a repair or a condition may take before the test gives up; an
# ASan build on a loaded 2-core machine needs seconds, not milliseconds.
DEADLINE=${NETISO_ATTACK_DEADLINE:-10}

# probe NS COMMAND ARG...: tests/netns/attack-probe.py in a namespace
probe() {
	local ns=$1
	shift
	in_ns "$ns" python3 "$PROBE" "$@"
}

# probe_bg NS COMMAND ARG...: the same in the background, its PID in PROBE_PID
probe_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$PROBE" "$@" >>"$WORK/probe.err" 2>&1 &
	PROBE_PID=$!
	PIDS+=("$PROBE_PID")
}

# now_ms: a clock in milliseconds
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# within SECONDS COMMAND...: polls the command every 0.1 s until it
# succeeds, for at most SECONDS (a decimal number)
within() {
	local end
	end=$(($(now_ms) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -le "$end" ] || return 1
		sleep 0.1
	done
}

# never_within SECONDS COMMAND...: the command does not succeed in that time
# (a bounded window for something that must not happen)
never_within() {
	! within "$@"
}

# wait_file FILE: a background probe is ready (it creates FILE)
wait_file() {
	within "$DEADLINE" test -e "$1"
}

# has_line FILE REGEX: FILE exists and a line matches
has_line() {
	grep -Eq -- "$2" "$1" 2>/dev/null
}

# guest_down NAME TAP: the guest's QEMU is gone: its processes end and its
# tap disappears (with it the host's routes to the guest's addresses)
guest_down() {
	local ns="${NS_PREFIX}$1" pid
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill "$pid" 2>/dev/null
	done
	in_ns "$H" ip link del "$2" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	return 0
}

# guest_addr NAME TAP ADDR: one more address of a guest (a host route to it
# by the tap; the tap's host address already has its first address as peer)
guest_addr() {
	local ns="${NS_PREFIX}$1"
	case $3 in
	*:*)
		in_ns "$H" ip -6 route add "$3/128" dev "$2"
		in_ns "$ns" ip -6 addr add "$3/128" dev eth0 nodad
		;;
	*)
		in_ns "$H" ip route add "$3/32" dev "$2" src "$HOST4"
		in_ns "$ns" ip addr add "$3/32" dev eth0
		;;
	esac
}

# domain_xml_addrs NAME TENANT TAP ADDR...: like domain_xml with any number
# of guest addresses (IPv4 and IPv6 mixed) on one interface
domain_xml_addrs() {
	local name=$1 tenant=$2 tap=$3 uuid a
	shift 3
	uuid=$(printf '%08x-0000-4000-8000-%012x' "$(cksum <<<"$name" | cut -d' ' -f1)" 1)
	echo "<domain type='qemu'>"
	echo "  <name>$name</name>"
	echo "  <uuid>$uuid</uuid>"
	echo "  <metadata>"
	echo "    <netiso:isolation xmlns:netiso='urn:blixard:network-isolation:1' tenant='$tenant'/>"
	echo "  </metadata>"
	echo "  <devices>"
	echo "    <interface type='ethernet'>"
	echo "      <mac address='52:54:00:00:00:01'/>"
	[ "$tap" = - ] || echo "      <target dev='$tap'/>"
	echo "      <source>"
	for a in "$@"; do
		case $a in
		*:*) echo "        <ip family='ipv6' address='$HOST6' prefix='128' peer='$a'/>" ;;
		*) echo "        <ip address='$HOST4' prefix='32' peer='$a'/>" ;;
		esac
	done
	echo "      </source>"
	echo "    </interface>"
	echo "  </devices>"
	echo "</domain>"
}

# tracked ADDR: how many conntrack entries of the host namespace name ADDR
tracked() {
	in_ns "$H" conntrack -L 2>/dev/null | grep -c -- "=$1 " || true
}

# table_text: table inet blixard without counters, with set elements sorted (a
# hash set lists them in bucket order) and its chains, sets, maps and counters
# in name order (a listing shows them in the order they were created, so a
# chain deleted and added again comes last), to compare two states. Named
# counters' values go too: a guest's late MLD report, counted as spoofed,
# is no state a restore must bring back.
table_text() {
	nft_h list table inet blixard 2>/dev/null |
		sed -E 's/ packets [0-9]+ bytes [0-9]+//; /^\s*packets [0-9]+ bytes [0-9]+$/d' | python3 -c '
import re, sys
text = sys.stdin.read()
def ordered(m):
    items = sorted(i.strip() for i in m.group(2).split(","))
    return m.group(1) + ", ".join(items) + " }"
text = re.sub(r"(elements = \{ )(.*?)\s*\}", ordered, text, flags=re.S)
lines = text.splitlines(keepends=True)
if len(lines) > 2 and lines[-1].startswith("}"):
    body = "".join(lines[1:-1]).strip("\n").split("\n\n")
    text = lines[0] + "\n\n".join(sorted(body)) + "\n" + lines[-1]
sys.stdout.write(text)
'
}
