#!/bin/sh
# Installs the Debian 12 packages the benchmarks need beyond the build's own
# (scripts/install-deps). Idempotent: does nothing when all are present.
set -eu

PACKAGES="iperf3 python3 strace iproute2 nftables iptables"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
[ "$(id -u)" = 0 ] || { echo "bench/install-deps.sh: run as root to install:$missing" >&2; exit 1; }
echo "bench/install-deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# iperf3's package offers to run a daemon; the benchmarks start their own
# servers inside namespaces, so keep the system one off.
echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
