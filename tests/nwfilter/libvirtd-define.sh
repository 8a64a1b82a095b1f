#!/bin/sh
# A private libvirtd, in its own network and mount namespaces, accepts the
# generated filters, instantiates them for bridged guests, and the rules it
# writes let through only what the policy allows. TAP output; needs root.
#
# Nothing outside the namespaces is touched: libvirtd sees a private copy of
# /etc/libvirt and empty /run/libvirt, /var/{lib,cache,log}/libvirt; the host's
# firewall is compared before and after; only processes started here are
# killed, by PID. The chains libvirt writes for guest a are compared with
# tests/data/nwfilter/libvirtd-guest-a.* (NETISO_REGENERATE=1 rewrites them);
# NETISO_TEST_PAUSE=SECONDS keeps everything up that long before the
# teardown, for a look from outside. The guests use the "ipv6" test configuration (dual stack,
# inbound 22/tcp). Topology inside the test namespace:
#   br0 10.0.0.1/16 fd00:10::1/64    guests a, b (production), c (staging)
#   lo 172.16.0.1 fd00:c1::1         cluster addresses of the host
#   ext0 -> namespace ext            routed "internet": 198.51.100.2 2001:db8:100::2
#   lan0 in br0 -> namespace lan     bridged, outside the guest networks:
#                                    192.0.2.50 2001:db8:200::50
set -u

here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
dump=$top_builddir/tests/nwfilter/nwfilter-dump
export LIBVIRT_DEFAULT_URI=qemu:///system

# A skip is the TAP plan "1..0 # SKIP reason"; by hand the script exits 77,
# under make check NETISO_SKIP_STATUS=0 (automake's TAP driver would count 77
# as an error).
skip_all() {
        echo "1..0 # SKIP $*"
        exit "${NETISO_SKIP_STATUS:-77}"
}

# ---- TAP helpers (the count continues from the inner to the outer part) -----

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { sed 's/^/# /'; }
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
        desc=$1
        shift
        if out=$("$@" 2>&1); then
                ok "$desc"
                return 0
        fi
        not_ok "$desc"
        printf '%s\n' "$out" | diag
        return 1
}
same() { # same DESCRIPTION EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then
                ok "$1"
                return 0
        fi
        not_ok "$1"
        printf 'expected:\n%s\nactual:\n%s\n' "$2" "$3" | diag
        return 1
}
wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds
        t=$1
        shift
        while ! "$@" >/dev/null 2>&1; do
                t=$((t - 1))
                [ "$t" -gt 0 ] || return 1
                sleep 1
        done
}

# ---- the guest image: a kernel from /boot and a busybox initramfs ----------

guest_prepare() {
        command -v qemu-system-x86_64 >/dev/null ||
                { echo "qemu-system-x86_64 not found" >"$T/guest.skip"; return; }
        # shellcheck disable=SC2012 # Debian's kernel file names are plain
        kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
        [ -r "$kernel" ] ||
                { echo "no /boot/vmlinuz-*-amd64 (Debian: linux-image-amd64)" >"$T/guest.skip"; return; }
        kver=${kernel#/boot/vmlinuz-}
        bb=$(command -v busybox)
        if ldd "$bb" >/dev/null 2>&1; then
                echo "busybox is not static (Debian: busybox-static)" >"$T/guest.skip"
                return
        fi
        root=$T/initramfs
        mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev"
        cp "$bb" "$root/bin/busybox"
        : >"$root/modules.order"
        deps=$(modprobe -a -S "$kver" --show-depends virtio_pci virtio_net 2>/dev/null) ||
                { echo "no virtio modules for $kver" >"$T/guest.skip"; return; }
        for ko in $(printf '%s\n' "$deps" | awk '$1 == "insmod" { print $2 }'); do
                name=$(basename "$ko")
                name=${name%%.ko*}
                grep -qx "$name" "$root/modules.order" && continue
                case $ko in
                *.ko.xz) xz -dc "$ko" ;;
                *.ko.zst) zstd -dcq "$ko" ;;
                *.ko.gz) gzip -dc "$ko" ;;
                *) cat "$ko" ;;
                esac >"$root/lib/modules/$name.ko" || { echo "cannot read $ko" >"$T/guest.skip"; return; }
                echo "$name" >>"$root/modules.order"
        done
        # what guest a tries, one "name address port" a line
        awk '{ print $1, $2, $3 }' "$T/probes" >"$root/probes"
        cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /modules.order); do insmod "/lib/modules/$m.ko"; done
for arg in $(cat /proc/cmdline); do
        case $arg in
        netiso.name=*) name=${arg#*=} ;;
        netiso.ip=*) ip=${arg#*=} ;;
        netiso.ip6=*) ip6=${arg#*=} ;;
        netiso.probe=*) probe=${arg#*=} ;;
        esac
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
addresses() { # addresses add|del IPV4 IPV6
        ip addr "$1" "$2/16" dev eth0
        ip -6 addr "$1" "$3/64" dev eth0
        [ "$1" = add ] || return 0
        ip route add default via 10.0.0.1
        ip route add 192.0.2.0/24 dev eth0
        ip -6 route add default via fd00:10::1
        ip -6 route add 2001:db8:200::/64 dev eth0
}
ip link set lo up
ip link set eth0 up
addresses add "$ip" "$ip6"
printf '#!/bin/sh\necho hello-%s\n' "$name" >/bin/hello
chmod +x /bin/hello
for port in 22 53 7000; do nc -ll -p $port -e /bin/hello & done
sleep 2
echo "GUEST-READY $name"
if [ "${probe:-0}" = 1 ]; then
        # the host answers "go" on port 53 once every peer listens
        i=0
        while [ "$(nc -w 2 10.0.0.1 53 </dev/null 2>/dev/null)" != go ] && [ $i -lt 150 ]; do
                sleep 1
                i=$((i + 1))
        done
        while read -r what host port; do
                out=$(nc -w 2 "$host" "$port" </dev/null 2>/dev/null)
                echo "PROBE $what ${out:-none}"
        done </probes
        addresses del "$ip" "$ip6"
        addresses add 10.0.0.99 fd00:10::99
        sleep 3
        out=$(nc -w 2 10.0.0.1 53 </dev/null 2>/dev/null)
        echo "PROBE spoofed-source ${out:-none}"
        out=$(nc -w 2 fd00:10::1 53 </dev/null 2>/dev/null)
        echo "PROBE spoofed-source6 ${out:-none}"
        addresses del 10.0.0.99 fd00:10::99
        addresses add "$ip" "$ip6"
        echo PROBES-DONE
fi
while :; do sleep 3600; done
INIT
        chmod +x "$root/init"
        (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$T/initrd.gz" ||
                { echo "cannot build the initramfs" >"$T/guest.skip"; return; }
        echo "$kernel" >"$T/guest.kernel"
}

domain_xml() { # domain_xml NAME IP IP6 TENANT TENANT_IPS TENANT_IPV6S (lists: space-separated)
        probe=0
        [ "$1" = a ] && probe=1
        cat <<EOF
<domain type='qemu'>
  <name>netiso-nwf-$1</name>
  <memory unit='MiB'>160</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$(cat "$T/guest.kernel")</kernel>
    <initrd>$T/initrd.gz</initrd>
    <cmdline>console=ttyS0 rdinit=/init panic=-1 netiso.name=$1 netiso.ip=$2 netiso.ip6=$3 netiso.probe=$probe</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='bridge'>
      <source bridge='br0'/>
      <model type='virtio'/>
      <filterref filter='blixard-netiso-tenant-$4'>
        <parameter name='CTRL_IP_LEARNING' value='none'/>
        <parameter name='IP' value='$2'/>
        <parameter name='IPV6' value='$3'/>
$(for a in $5; do echo "        <parameter name='TENANT_IPS' value='$a'/>"; done)
$(for a in $6; do echo "        <parameter name='TENANT_IPV6S' value='$a'/>"; done)
      </filterref>
    </interface>
    <serial type='file'>
      <source path='$T/$1.console'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# ---- inside the namespaces ---------------------------------------------------

private_libvirt() {
        if [ -d /run/netns ]; then
                mkdir -p "$T/netns-keep"
                mount --rbind /run/netns "$T/netns-keep" || return 1
        fi
        mount -t tmpfs -o mode=0755 netiso-run /run || return 1
        mkdir -p /run/netns /run/libvirt "$T/run" "$T/lib" "$T/cache" "$T/log"
        if [ -d "$T/netns-keep" ]; then
                mount --rbind "$T/netns-keep" /run/netns || return 1
        fi
        mount --bind "$T/run" /run/libvirt || return 1
        cp -a /etc/libvirt "$T/etc" || return 1
        # no hooks, and none of the host's guests, networks or pools
        rm -rf "$T/etc/hooks" "$T/etc/qemu" "$T/etc/storage" "$T/etc/secrets"
        mkdir -p "$T/etc/qemu"
        cat >"$T/etc/libvirtd.conf" <<EOF
log_filters="2:nwfilter"
log_outputs="2:file:$T/libvirtd.log"
EOF
        cat >"$T/etc/qemu.conf" <<EOF
user = "root"
group = "root"
security_driver = "none"
remember_owner = 0
stdio_handler = "file"
cgroup_controllers = [ ]
namespaces = [ ]
EOF
        mount --bind "$T/etc" /etc/libvirt || return 1
        for d in lib cache log; do
                [ -d "/var/$d/libvirt" ] || { echo "/var/$d/libvirt is missing"; return 1; }
                mount --bind "$T/$d" "/var/$d/libvirt" || return 1
        done
        libvirtd --pid-file "$T/libvirtd.pid" >"$T/libvirtd.out" 2>&1 &
        echo $! >"$T/libvirtd.bgpid"
        wait_for 30 virsh -q version
}

inner_teardown() {
        if [ -n "${NETISO_TEST_PAUSE:-}" ]; then
                echo "# pausing ${NETISO_TEST_PAUSE}s: ip netns exec $(ip netns identify) ..., files in $T"
                sleep "$NETISO_TEST_PAUSE"
        fi
        for d in a b c; do virsh -q destroy "netiso-nwf-$d" >/dev/null 2>&1; done
        if [ -f "$T/pids" ]; then
                while read -r pid; do kill "$pid" 2>/dev/null; done <"$T/pids"
        fi
        if [ -f "$T/libvirtd.bgpid" ]; then
                pid=$(cat "$T/libvirtd.bgpid")
                kill "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        fi
        echo "$n" >"$T/count"
}

define_filters() { # define_filters DIR ORDER-FILE WHAT
        while read -r f; do
                check "libvirtd accepts $f ($3)" virsh -q nwfilter-define "$1/$f.xml"
        done <"$2"
}

uuid_of() { sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$1"; }

filters_listed() { # filters_listed DIR ORDER-FILE
        while read -r f; do
                virsh -q nwfilter-list | awk -v u="$(uuid_of "$1/$f.xml")" -v f="$f" \
                        '$1 == u && $2 == f { found = 1 } END { exit !found }' ||
                        { echo "$f is not listed with its UUID"; return 1; }
        done <"$2"
}

filters_round_trip() { # rules and references survive libvirt's parser
        while read -r f; do
                virsh nwfilter-dumpxml "$f" >"$T/dump.xml" || return 1
                for tag in '<rule ' '<filterref ' '<uuid>'; do
                        [ "$(grep -c "$tag" "$1/$f.xml")" = "$(grep -c "$tag" "$T/dump.xml")" ] ||
                                { echo "$f: $tag count differs"; return 1; }
                done
        done <"$2"
}

binding_xml() { # binding_xml FILTER PARAM=VALUE...
        filter=$1
        shift
        echo "<filterbinding><owner><name>netiso-nwf-binding</name>"
        echo "<uuid>4e657469-736f-4e77-8600-000000000001</uuid></owner>"
        echo "<portdev name='nwtest0'/><linkdev name='br0'/><mac address='52:54:00:4e:00:99'/>"
        echo "<filterref filter='$filter'>"
        for p in "$@"; do echo "<parameter name='${p%%=*}' value='${p#*=}'/>"; done
        echo "</filterref></filterbinding>"
}

refuses() { ! "$@"; }

chain() { # chain SAVE-COMMAND NAME: one chain's rules, its name replaced by CHAIN
        "$1" -t filter | grep -- "^-A $2 " | sed "s/^-A $2 /-A CHAIN /"
}

console_has() { grep -q "$2" "$T/$1.console" 2>/dev/null; }

from() { # from NAMESPACE|host ADDRESS PORT: what a TCP connection reads
        if [ "$1" = host ]; then
                busybox nc -w 2 "$2" "$3" </dev/null 2>/dev/null
        else
                ip netns exec "$1" busybox nc -w 2 "$2" "$3" </dev/null 2>/dev/null
        fi
        true
}

answers() { [ "$(from "$1" "$2" "$3")" = "$4" ]; }

listen() { # listen PORT REPLY: a listener in the test namespace
        printf '#!/bin/sh\necho %s\n' "$2" >"$T/reply-$1"
        chmod +x "$T/reply-$1"
        busybox nc -ll -p "$1" -e "$T/reply-$1" &
        echo $! >>"$T/pids"
}

examples_tests() {
        ex=$top_srcdir/xml/nwfilter
        define_filters "$ex" "$T/f-seed.order" "xml/nwfilter example"
        check "nwfilter-list shows every example with its UUID" filters_listed "$ex" "$T/f-seed.order"
        check "nwfilter-dumpxml keeps every rule and reference" \
                filters_round_trip "$ex" "$T/f-seed.order"
        check "redefining the same XML is accepted" \
                virsh -q nwfilter-define "$ex/blixard-netiso-base.xml"
        check "blixard-netiso nwfilter --define loads the same filters through the libvirt API" \
                "$top_builddir/blixard-netiso" nwfilter --config "$top_srcdir/tests/data/golden/seed.toml" \
                --tenant production --tenant staging --define
        sed 's:<uuid>........:<uuid>00000000:' "$ex/blixard-netiso-base.xml" >"$T/other-uuid.xml"
        check "the same name with another UUID is refused" \
                refuses virsh -q nwfilter-define "$T/other-uuid.xml"

        ip tuntap add dev nwtest0 mode tap
        binding_xml blixard-netiso-tenant-production IP=10.0.0.9 CTRL_IP_LEARNING=none >"$T/binding.xml"
        if out=$(virsh -q nwfilter-binding-create "$T/binding.xml" 2>&1); then
                not_ok "an interface without TENANT_IPS is refused (fails closed)"
                virsh -q nwfilter-binding-delete nwtest0 >/dev/null 2>&1
        else
                case $out in
                *TENANT_IPS*) ok "an interface without TENANT_IPS is refused (fails closed)" ;;
                *) not_ok "an interface without TENANT_IPS is refused (fails closed)" ;;
                esac
                printf '%s\n' "$out" | diag
        fi
        ip link del nwtest0
}

golden() { # golden DESCRIPTION FILE ACTUAL: compare, or rewrite with NETISO_REGENERATE=1
        if [ "${NETISO_REGENERATE:-}" = 1 ]; then
                printf '%s\n' "$3" >"$2" && ok "$1 (regenerated)"
                return
        fi
        same "$1" "$(cat "$2")" "$3"
}

chain_tests() { # the rules libvirt instantiated for guest a's tap
        ta=$1
        data=$top_srcdir/tests/data/nwfilter/libvirtd-guest-a
        for t in iptables ip6tables; do
                for c in FI FO; do
                        golden "$t $c-$ta (guest a) holds what the filters say" \
                                "$data.$c.$t" "$(chain $t-save "$c-$ta")"
                done
                same "$t HI-$ta (guest a to the host) holds what FI-$ta holds" \
                        "$(chain $t-save "FI-$ta")" "$(chain $t-save "HI-$ta")"
        done
        check "ebtables: guest a sends IPv4 from 10.0.0.5 only" sh -c \
                "ebtables -t nat -L I-$ta-ipv4-ip | grep -q -- '--ip-src 10.0.0.5 -j RETURN'"
        check "ebtables: guest a sends IPv6 from fd00:10::5 (and link-local, DAD) only" sh -c \
                "ebtables -t nat -L I-$ta-ipv6-netiso | grep -q -- '--ip6-src fd00:10::5 -j ACCEPT'"
        ebtables -t nat -L "I-$ta-ipv6-netiso" | diag
}

probe_tests() {
        if ! wait_for 240 console_has a PROBES-DONE; then
                not_ok "guest a ran its probes"
                tail -n 30 "$T/a.console" | diag
                return
        fi
        while read -r what addr port expect; do
                got=$(sed -n "s/^PROBE $what //p" "$T/a.console" | tr -d '\r')
                same "guest a -> $what [$addr]:$port: $expect" "$expect" "$got"
        done <"$T/probes"
        for v in '' 6; do
                got=$(sed -n "s/^PROBE spoofed-source$v //p" "$T/a.console" | tr -d '\r')
                same "guest a with a spoofed IPv${v:-4} source address is cut off" none "$got"
        done
}

outside_tests() { # connections opened towards guest a from outside
        for a in 10.0.0.5 fd00:10::5; do
                same "bridged LAN host -> guest a [$a]:22 (inbound port)" hello-a "$(from "$LAN" $a 22)"
                same "bridged LAN host -> guest a [$a]:7000: none" "" "$(from "$LAN" $a 7000)"
                same "routed outside host -> guest a [$a]:22 (inbound port)" hello-a "$(from "$EXT" $a 22)"
                echo "# note: routed outside host -> guest a [$a]:7000 reads" \
                        "'$(from "$EXT" $a 7000)': traffic routed into the bridge meets no" \
                        "nwfilter rule (doc/nwfilter.md)"
        done
}

guest_tests() {
        if [ -f "$T/guest.skip" ]; then
                skip "guests start with the tenant filters" "$(cat "$T/guest.skip")"
                return
        fi
        define_filters "$T/f-ipv6" "$T/f-ipv6.order" "dual-stack"
        listen 8080 hello-host
        domain_xml a 10.0.0.5 fd00:10::5 production "10.0.0.5 10.0.0.6" "fd00:10::5 fd00:10::6" >"$T/a.xml"
        domain_xml b 10.0.0.6 fd00:10::6 production "10.0.0.5 10.0.0.6" "fd00:10::5 fd00:10::6" >"$T/b.xml"
        domain_xml c 10.0.1.7 fd00:10::7 staging 10.0.1.7 fd00:10::7 >"$T/c.xml"
        for d in a b c; do
                check "guest $d starts with its tenant filter" virsh -q create "$T/$d.xml" || return
        done
        check "libvirt bound the tenant filters to the guests' taps" sh -c \
                "virsh -q nwfilter-binding-list | grep -c ' blixard-netiso-tenant-' | grep -qx 3"
        virsh -q nwfilter-binding-list | diag
        chain_tests "$(virsh -q domiflist netiso-nwf-a | awk '{ print $1; exit }')"

        # controls: the peers listen (asked from the host: its own packets
        # meet no rule, the answers are established)
        ready=ok
        for l in "b 10.0.0.6" "c 10.0.1.7" "b fd00:10::6" "c fd00:10::7"; do
                # shellcheck disable=SC2086 # split into guest and address
                set -- $l
                wait_for 180 console_has "$1" GUEST-READY &&
                        wait_for 30 answers host "$2" 22 "hello-$1" || ready="$1 [$2] silent"
        done
        listen 53 go
        for a in 172.16.0.1 fd00:c1::1; do
                wait_for 10 answers host $a 53 go || ready="cluster $a silent"
        done
        for a in 198.51.100.2 2001:db8:100::2; do
                wait_for 10 answers "$EXT" $a 8080 hello-internet || ready="internet $a silent"
        done
        same "the listeners the probes aim at are up" ok "$ready"
        probe_tests
        outside_tests
}

inner() {
        T=$1
        EXT=$(cat "$T/ext.name")
        LAN=$(cat "$T/lan.name")
        trap inner_teardown EXIT
        trap 'exit 1' INT TERM HUP
        # not in a subshell: libvirtd must stay this shell's child
        if ! private_libvirt >"$T/private.log" 2>&1; then
                not_ok "a private libvirtd starts in its own namespaces"
                cat "$T/private.log" "$T/libvirtd.out" | tail -n 20 | diag
                return
        fi
        ok "a private libvirtd starts in its own namespaces"
        check "libvirt's standard filter clean-traffic is defined" sh -c \
                "virsh -q nwfilter-list | grep -q ' clean-traffic\$'"
        examples_tests
        guest_tests
}

# ---- outside: preconditions, namespaces, cleanup -----------------------------

snapshot() { # the host's firewall and bridge settings, without counters
        command -v nft >/dev/null && nft -s list ruleset 2>&1
        for t in iptables-save ip6tables-save; do
                "$t" 2>&1 | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
        done
        ebtables -t filter -L 2>&1
        ebtables -t nat -L 2>&1
        cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null
        cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
}

outer_cleanup() {
        if [ -f "$T/pids" ]; then
                while read -r pid; do kill "$pid" 2>/dev/null; done <"$T/pids"
        fi
        for f in "$T"/run/qemu/*.pid "$T/libvirtd.bgpid"; do
                [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
        done
        wait 2>/dev/null
        for ns in "$NS" "$EXT" "$LAN"; do ip netns del "$ns" 2>/dev/null; done
        rm -rf "$T"
}

network_setup() {
        ip netns add "$NS" && ip netns add "$EXT" && ip netns add "$LAN" || return 1
        ip netns exec "$NS" sh -e -c '
                echo 1 >/proc/sys/net/ipv4/ip_forward
                echo 1 >/proc/sys/net/ipv6/conf/all/forwarding
                # nwfilter iptables rules see bridged traffic through br_netfilter only
                echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
                echo 1 >/proc/sys/net/bridge/bridge-nf-call-ip6tables' || return 1
        ip -n "$NS" link set lo up
        ip -n "$NS" addr add 172.16.0.1/32 dev lo
        ip -n "$NS" addr add fd00:c1::1/128 dev lo
        ip -n "$NS" link add br0 type bridge
        ip -n "$NS" addr add 10.0.0.1/16 dev br0
        ip -n "$NS" addr add fd00:10::1/64 dev br0 nodad
        ip -n "$NS" link set br0 up
        ip -n "$NS" link add ext0 type veth peer name eth0 netns "$EXT"
        ip -n "$NS" addr add 198.51.100.1/24 dev ext0
        ip -n "$NS" addr add 2001:db8:100::1/64 dev ext0 nodad
        ip -n "$NS" link set ext0 up
        ip -n "$EXT" link set lo up
        ip -n "$EXT" addr add 198.51.100.2/24 dev eth0
        ip -n "$EXT" addr add 2001:db8:100::2/64 dev eth0 nodad
        ip -n "$EXT" link set eth0 up
        ip -n "$EXT" route add default via 198.51.100.1
        ip -n "$EXT" -6 route add default via 2001:db8:100::1
        ip -n "$NS" link add lan0 type veth peer name eth0 netns "$LAN"
        ip -n "$NS" link set lan0 master br0 up
        ip -n "$LAN" link set lo up
        ip -n "$LAN" addr add 192.0.2.50/24 dev eth0
        ip -n "$LAN" addr add 2001:db8:200::50/64 dev eth0 nodad
        ip -n "$LAN" link set eth0 up
        ip -n "$LAN" route add 10.0.0.0/16 dev eth0
        ip -n "$LAN" -6 route add fd00:10::/64 dev eth0
}

outer() {
        [ "${NETISO_DISTCHECK:-}" = 1 ] && skip_all "NETISO_DISTCHECK=1"
        [ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, libvirtd)"
        for p in libvirtd virsh ip unshare iptables-save ip6tables-save ebtables busybox; do
                command -v "$p" >/dev/null || skip_all "$p not found"
        done
        [ -f /etc/libvirt/nwfilter/clean-traffic.xml ] ||
                skip_all "libvirt's standard filters are missing (Debian: libvirt-daemon-config-nwfilter)"
        [ -x "$dump" ] || { echo "Bail out! $dump is not built"; exit 1; }

        T=$(mktemp -d /tmp/netiso-nwfilter-libvirtd.XXXXXX) || exit 1
        NS=netiso-nwf-$$ EXT=netiso-nwfx-$$ LAN=netiso-nwfl-$$
        trap outer_cleanup EXIT
        trap 'exit 1' INT TERM HUP
        echo "$EXT" >"$T/ext.name"
        echo "$LAN" >"$T/lan.name"
        snapshot >"$T/host-before"
        network_setup >"$T/network.log" 2>&1 ||
                skip_all "cannot build the test namespaces: $(tail -n 1 "$T/network.log")"
        for c in seed ipv6; do
                "$dump" "$c" "$T/f-$c" >"$T/f-$c.order" || { echo "Bail out! nwfilter-dump $c"; exit 1; }
        done
        cat >"$T/probes" <<EOF
host-allowed-port 10.0.0.1 53 go
host-other-port 10.0.0.1 8080 none
cluster-allowed-port 172.16.0.1 53 none
internet 198.51.100.2 8080 hello-internet
same-tenant 10.0.0.6 7000 hello-b
other-tenant 10.0.1.7 7000 none
other-tenant-allowed-port 10.0.1.7 53 none
host-allowed-port6 fd00:10::1 53 go
host-other-port6 fd00:10::1 8080 none
cluster-allowed-port6 fd00:c1::1 53 none
internet6 2001:db8:100::2 8080 hello-internet
same-tenant6 fd00:10::6 7000 hello-b
other-tenant6 fd00:10::7 7000 none
other-tenant-allowed-port6 fd00:10::7 53 none
EOF
        guest_prepare
        printf '#!/bin/sh\necho hello-internet\n' >"$T/reply-internet"
        chmod +x "$T/reply-internet"
        ip netns exec "$EXT" busybox nc -ll -p 8080 -e "$T/reply-internet" &
        echo $! >>"$T/pids"

        ip netns exec "$NS" unshare --mount --propagation private sh "$self" --inner "$T"
        n=$(cat "$T/count" 2>/dev/null || echo 0)
        [ "$n" -gt 0 ] || { echo "Bail out! the namespace part did not run"; exit 1; }
        snapshot >"$T/host-after"
        if cmp -s "$T/host-before" "$T/host-after"; then
                ok "the host's firewall and bridge settings are unchanged"
        else
                not_ok "the host's firewall and bridge settings are unchanged"
                diff "$T/host-before" "$T/host-after" | diag
        fi
        echo "1..$n"
}

if [ "${1:-}" = --inner ]; then
        inner "$2"
else
        outer
fi
