#!/bin/busybox sh
# /init of the end-to-end test guest (busybox, no disk). It configures eth0 from the
# kernel command line (netiso.*=): a routed guest's /32 and /128 behind its host end, or
# (netiso.l2=1) a bridged guest's on-link prefixes, IPv4 by DHCP (netiso.ip4=dhcp,
# busybox udhcpc) or static. It serves TCP/UDP with netprobe, watches the frames that
# reach a bridged guest, prints READY on the console (ttyS0) and then runs probe rounds
# and other commands that the harness writes to ttyS1.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
export PATH=/bin
exec </dev/console >/dev/console 2>&1

say() { echo "NETISO $*"; }

# Parameters: only netiso.KEY=VALUE words with a safe alphabet are taken.
for w in $(cat /proc/cmdline); do
	case $w in
	netiso.*=*)
		k=${w%%=*}; k=${k#netiso.}; v=${w#*=}
		case $k$v in *[!A-Za-z0-9.:,_-]*) say "bad-parameter $w"; continue ;; esac
		eval "p_$k=\$v"
		;;
	esac
done
name=${p_name:-guest}

for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m" || say "insmod-failed $m"
done

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || say "FATAL no eth0"

# Addresses are used at once: no duplicate address detection, no autoconfiguration.
for c in all default lo eth0; do
	echo 0 >/proc/sys/net/ipv6/conf/$c/accept_dad 2>/dev/null
	echo 0 >/proc/sys/net/ipv6/conf/$c/accept_ra 2>/dev/null
done
ip link set lo up
ip link set eth0 up
if [ "${p_l2:-0}" = 1 ]; then
	# Bridged: the frames that reach eth0 (attacks and their controls) on the console.
	netprobe sniff eth0 &
	if [ "$p_ip4" = dhcp ]; then
		cat >/bin/udhcpc-script <<'EOF'
#!/bin/sh
# busybox udhcpc's hook: the lease's address and router on the interface.
case $1 in
deconfig) ip -4 addr flush dev "$interface" ;;
bound | renew)
	if ! ip -4 addr show dev "$interface" | grep -q " $ip/$mask "; then
		ip -4 addr flush dev "$interface"
		ip addr add "$ip/$mask" dev "$interface"
	fi
	for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
	echo "NETISO DHCP-BOUND ip=$ip" >/dev/console
	;;
esac
exit 0
EOF
		chmod +x /bin/udhcpc-script
		udhcpc -i eth0 -s /bin/udhcpc-script -f -t 1000 -T 2 -A 1 >/dev/null 2>&1 &
	elif [ -n "$p_ip4" ]; then
		ip addr add "$p_ip4/${p_p4:-24}" dev eth0
		ip route add default via "$p_gw4" dev eth0
	fi
	if [ -n "$p_ip6" ]; then
		ip -6 addr add "$p_ip6/${p_p6:-64}" dev eth0
		ip -6 route add default via "$p_gw6" dev eth0
	fi
	# A LAN beyond a host bridge's uplink, on-link (NET-LEN).
	[ -z "${p_lan4:-}" ] || ip route add "${p_lan4%-*}/${p_lan4##*-}" dev eth0
	[ -z "${p_lan6:-}" ] || ip -6 route add "${p_lan6%-*}/${p_lan6##*-}" dev eth0
else
	if [ -n "$p_ip4" ]; then
		ip addr add "$p_ip4/32" dev eth0
		ip route add "$p_gw4" dev eth0
		ip route add default via "$p_gw4" dev eth0
	fi
	if [ -n "$p_ip6" ]; then
		ip -6 addr add "$p_ip6/128" dev eth0
		ip -6 route add "$p_gw6/128" dev eth0
		ip -6 route add default via "$p_gw6" dev eth0
	fi
fi

# Servers: every port answers with the guest's name and logs RECV lines here.
netprobe serve "$name" tcp 2222 udp 2222 tcp 8080 tcp 9000 &
sleep 0.2
say "READY name=$name ip4=$p_ip4 ip6=$p_ip6"

# One probe: "NAME KIND ADDR PORT SRC" (KIND tcp, udp or ping; PORT and SRC may be -).
probe_one() {
	pname=$1 kind=$2 addr=$3 port=$4 src=$5
	case $kind in
	tcp | udp)
		out=$(netprobe send "$kind" "$addr" "$port" "$round.$pname" "$src" 2000 3)
		;;
	dns | dnstcp)
		# PORT is the name to resolve
		proto=udp
		[ "$kind" = dnstcp ] && proto=tcp
		out=$(netprobe dns "$proto" "$addr" "$port" 2000 3)
		;;
	ping)
		fam=-4
		case $addr in *:*) fam=-6 ;; esac
		srcopt=
		[ "$src" = - ] || srcopt="-I $src"
		out="fail timeout"
		for _ in 1 2 3; do
			if ping $fam -c 1 -W 2 $srcopt "$addr" >/dev/null 2>&1; then
				out="ok icmp"
				break
			fi
		done
		;;
	*) out="fail badkind" ;;
	esac
	set -- $out
	echo "PROBE round=$round name=$pname result=$1 detail=${2:-none}"
}

run_round() {
	added=
	while read -r pname kind addr port src; do
		src=${src%@*}
		[ "$src" = - ] && continue
		# A source that is not ours (the spoofing probes) is added for the round only;
		# the address of a hot-plugged interface is ours.
		if ! ip addr show | grep -q " $src/"; then
			case $src in
			*:*) ip -6 addr add "$src/128" dev eth0 ;;
			*) ip addr add "$src/32" dev eth0 ;;
			esac
			added="$added $src"
		fi
	done </tmp/probes
	n=0 pids=
	while read -r pname kind addr port src; do
		n=$((n + 1))
		probe_one "$pname" "$kind" "$addr" "$port" "$src" >/tmp/result.$n &
		pids="$pids $!"
	done </tmp/probes
	# Only the probes: a bare wait would also wait for the servers.
	wait $pids
	for a in $added; do
		case $a in
		*:*) ip -6 addr del "$a/128" dev eth0 ;;
		*) ip addr del "$a/32" dev eth0 ;;
		esac
	done
	cat /tmp/result.* 2>/dev/null
	rm -f /tmp/result.*
	echo "ROUND-DONE round=$round"
}

# A hot-plugged interface (the watch tests): its addresses, and source routing so that
# traffic from them (probes with that SRC, replies to what reaches them) leaves through
# it, while everything else keeps using eth0. "ifup DEV IP4 GW4 IP6 GW6".
if_up() {
	dev=$1 table=$((100 + ${1#eth}))
	i=0
	while [ ! -e "/sys/class/net/$dev" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if [ ! -e "/sys/class/net/$dev" ]; then
		say "IFUP dev=$dev result=fail"
		return
	fi
	echo 0 >"/proc/sys/net/ipv6/conf/$dev/accept_dad"
	echo 0 >"/proc/sys/net/ipv6/conf/$dev/accept_ra"
	ip link set "$dev" up
	ip addr add "$2/32" dev "$dev"
	ip route add "$3" dev "$dev" table $table
	ip route add default via "$3" dev "$dev" table $table
	ip rule add from "$2" table $table
	ip -6 addr add "$4/128" dev "$dev"
	ip -6 route add "$5/128" dev "$dev" table $table
	ip -6 route add default via "$5" dev "$dev" table $table
	ip -6 rule add from "$4" table $table
	say "IFUP dev=$dev result=ok"
}

# A continuous stream of probes in the background (the migration tests), one STREAM
# line per probe on the console until "stop TAG". TAG is [a-z0-9]: the harness's own.
stream_start() {
	case $1 in *[!a-z0-9]*) say "bad-stream-tag"; return ;; esac
	netprobe stream "$2" "$3" "$4" "$1" "$5" 1000 &
	eval "stream_$1=$!"
	say "STREAMING tag=$1"
}
stream_stop() {
	case $1 in *[!a-z0-9]*) return ;; esac
	eval "kill \${stream_$1:-} 2>/dev/null"
	say "STOPPED tag=$1"
}

# Bridged guests' attacks: "frame ID KIND ARGS..." sends a crafted frame (netprobe frame),
# "neigh ID ADDR" shows the neighbour table's entry, "flow ID ADDR PORT SPORT" opens a UDP
# flow with a known tuple. ID is [a-z0-9] (the harness's own); one DONE line each.
l2_command() {
	cmd=$1 id=$2
	shift 2
	case $id in *[!a-z0-9]* | '') say "bad-id"; return ;; esac
	case $cmd in
	frame) out=$(netprobe frame eth0 "$@" 2>&1) ;;
	neigh) out=$(ip neigh show "$1" dev eth0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p' | head -n 1) ;;
	flow) out=$(netprobe send udp "$1" "$2" "flow$id" "-@$3" 2000 3) ;;
	esac
	say "DONE id=$id cmd=$cmd result=$(echo ${out:-none} | tr ' ' _)"
}

# Commands on ttyS1, one a line: "round R", "probe NAME KIND ADDR PORT SRC", "run",
# "ifup DEV IP4 GW4 IP6 GW6", "stream TAG KIND ADDR PORT INTERVAL_MS", "stop TAG",
# "frame ID KIND ARGS...", "neigh ID ADDR", "flow ID ADDR PORT SPORT".
stty -F /dev/ttyS1 raw -echo
exec 3</dev/ttyS1
round=0
while :; do
	read -r cmd a b c d e rest <&3 || { sleep 1; continue; }
	case $cmd in
	round) round=$a; : >/tmp/probes ;;
	probe) echo "$a $b $c $d $e" >>/tmp/probes ;;
	run) run_round ;;
	ifup) if_up "$a" "$b" "$c" "$d" "$e" ;;
	stream) stream_start "$a" "$b" "$c" "$d" "$e" ;;
	stop) stream_stop "$a" ;;
	frame | neigh | flow)
		# shellcheck disable=SC2086 # the rest are the command's words
		l2_command "$cmd" "$a" $b $c $d $e $rest ;;
	esac
done
